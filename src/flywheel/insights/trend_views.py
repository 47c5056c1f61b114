"""Trends and comparisons (``/insights/trends``, ``/insights/league``, ``/insights/transitions``):
every KPI as a monthly series against its target, owner and region league tables, and the
movement of accounts between segments and credit grades from one month to the next.

Every role may read them, inside his scope (a sales rep: his own accounts). A filter value that
cannot be read is named on the page and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import OWNER_SCOPED_ROLES, visible_customers
from flywheel.config import get_settings
from flywheel.credit.labels import GRADE_MEANINGS
from flywheel.customers import figures as customer_figures
from flywheel.customers.labels import TIER_LABELS
from flywheel.errors import ValidationFailed
from flywheel.insights import figures, labels
from flywheel.insights import league as leagues
from flywheel.insights import transitions as moves
from flywheel.insights.cube import UNSCORED, add_months
from flywheel.insights.periods import PERIOD_MONTHS, InsightFilter, Period, owner_id_of, parse_month
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.loyalty.segments import SEGMENT_LABELS
from flywheel.models.customers import Customer
from flywheel.models.enums import Segment, Tier
from flywheel.models.insights import InsightMonth
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import render

router = APIRouter(include_in_schema=False)

TREND_MONTHS = (12, 24)
ACCOUNTS_PAGE = 50
MAX_PAGE = 100_000
STAGES = ("attract", "engage", "delight", "loyalty", "cash", "force", "friction")
# The league's column sets: the main figures, or every figure of one stage.
COLUMN_SETS = ("main", *STAGES)
UNSCORED_LABEL = N_("Not scored")
GROUPING_LABELS = {"owner": N_("By owner"), "region": N_("By region")}
KIND_LABELS = {"segment": N_("Segments"), "grade": N_("Credit grades")}
PERIOD_LABELS = {
    "1m": N_("1 month"),
    "3m": N_("3 months"),
    "6m": N_("6 months"),
    "12m": N_("12 months"),
}

MonthText = Annotated[str, Query(max_length=20)]
OwnerText = Annotated[str, Query(max_length=64)]
RegionText = Annotated[str, Query(max_length=80)]
Short = Annotated[str, Query(max_length=40)]


def kpi_text(unit: str, value: float | None, currency: str) -> str:
    """A figure as the pages write it: a per cent with one decimal, money in its currency,
    days and hours with one decimal, counts and NPS whole."""
    if value is None:
        return "–"
    if unit == "percent":
        return i18n.number(value, decimals=1) + "%"
    if unit == "money":
        return i18n.money(Decimal(str(round(value, 2))), currency)
    if unit in ("days", "hours"):
        return i18n.number(value, decimals=1)
    return i18n.number(value, decimals=0)


def code_label(kind: str, code: str) -> str:
    """A segment's or grade's name in the page language."""
    if code == UNSCORED:
        return _(UNSCORED_LABEL)
    if kind == "segment":
        return _(SEGMENT_LABELS[code]) if code in SEGMENT_LABELS else code
    return code


@dataclass
class Inputs:
    """The filters of a page, read leniently: what could not be read is in ``problems``."""

    month: date
    period: str
    flt: InsightFilter
    owner: str  # the owner's username as given (kept in links)
    months: list[date]  # the months the cube holds, newest first
    problems: list[str] = field(default_factory=list)

    def query(self, **extra: Any) -> dict[str, str]:
        values: dict[str, Any] = {
            "period": "" if self.period == "1m" else self.period,
            "month": self.month.isoformat()[:7],
            "owner": self.owner,
            "region": self.flt.region,
            "tier": self.flt.tier,
            "segment": self.flt.segment,
            "currency": ""
            if self.flt.money_currency == get_settings().base_currency
            else self.flt.money_currency,
            **extra,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def link(self, path: str, **extra: Any) -> str:
        query = self.query(**extra)
        return path + ("?" + urlencode(query) if query else "")


def read_inputs(
    session: Session,
    actor: Actor,
    *,
    month: str,
    owner: str,
    region: str,
    tier: str,
    segment: str,
    currency: str,
    period: str = "1m",
) -> Inputs:
    problems: list[str] = []
    built = list(
        session.scalars(select(InsightMonth.month).order_by(InsightMonth.month.desc()).limit(120))
    )
    default = figures.default_month(session, today=today())
    try:
        chosen = parse_month(month, default=default)
    except ValidationFailed:
        problems.append(_("%(value)s is not a month (YYYY-MM); it was ignored.", value=month))
        chosen = default
    if period not in PERIOD_MONTHS:
        problems.append(_("%(value)s is not a choice here; it was ignored.", value=period))
        period = "1m"
    owner_id: int | None = None
    if actor.role in OWNER_SCOPED_ROLES:
        owner = ""
    else:
        try:
            owner_id = owner_id_of(session, owner)
        except ValidationFailed:
            problems.append(_("There is no user %(name)s; the owner was ignored.", name=owner))
            owner = ""
    tier = tier.strip()
    if tier and tier not in {t.value for t in Tier}:
        problems.append(_("%(value)s is not a choice here; it was ignored.", value=tier))
        tier = ""
    code = currency.strip().upper()
    if code and (len(code) != 3 or not code.isalpha()):
        problems.append(_("A currency is three letters, like CNY or USD."))
        code = ""
    flt = InsightFilter(
        owner_id=owner_id,
        region=region,
        tier=tier or None,
        segment=segment,
        currency=code or None,
    ).checked()
    return Inputs(
        month=chosen, period=period, flt=flt, owner=owner.strip(), months=built, problems=problems
    )


def _choices(session: Session, actor: Actor, inputs: Inputs) -> dict[str, Any]:
    """What the filter form offers."""
    currencies = set(
        session.scalars(select(Customer.currency).where(visible_customers(actor)).distinct())
    )
    return {
        "owners": customer_figures.owner_choices(session, actor=actor)
        if actor.role not in OWNER_SCOPED_ROLES
        else [],
        "regions": customer_figures.region_choices(session, actor=actor),
        "tiers": [(t.value, TIER_LABELS[t]) for t in Tier],
        "segments": [(s.value, SEGMENT_LABELS[s]) for s in Segment] + [(UNSCORED, UNSCORED_LABEL)],
        "currencies": sorted(currencies | {inputs.flt.money_currency}),
        "month_choices": sorted(set(inputs.months) | {inputs.month}, reverse=True),
    }


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    template: str,
    inputs: Inputs,
    context: dict[str, Any],
) -> HTMLResponse:
    return render(
        request,
        template,
        {
            "inputs": inputs,
            "flt": inputs.flt,
            "problems": inputs.problems,
            "kpi_text": kpi_text,
            "kpi_labels": labels.KPI_LABELS,
            "kpi_definitions": labels.KPI_DEFINITIONS,
            "stage_labels": labels.STAGE_LABELS,
            "scoped": actor.role in OWNER_SCOPED_ROLES,
            **_choices(session, actor, inputs),
            **context,
        },
        actor=actor,
    )


# ---------------------------------------------------------------- trends


@router.get("/insights/trends", response_class=HTMLResponse)
def trends(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    month: MonthText = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
    segment: Short = "",
    currency: Short = "",
    months: Short = "",
) -> Response:
    inputs = read_inputs(
        session,
        actor,
        month=month,
        owner=owner,
        region=region,
        tier=tier,
        segment=segment,
        currency=currency,
    )
    span = TREND_MONTHS[0]
    if months.strip():
        if months.strip() in {str(n) for n in TREND_MONTHS}:
            span = int(months)
        else:
            inputs.problems.append(
                _("%(value)s is not a choice here; it was ignored.", value=months)
            )
    board = figures.dashboard(
        session,
        actor=actor,
        flt=inputs.flt,
        period=Period.ending(inputs.month, "1m"),
        series_months=span,
    )
    currency_code = board.filter.money_currency
    series = {
        code: [None if v is None else round(v, 4) for _m, v in f.series]
        for code, f in board.figures.items()
    }
    first = next(iter(board.figures.values()))
    month_labels = [m.isoformat()[:7] for m, _v in first.series]
    data = {
        "months": month_labels,
        "currency": currency_code,
        "kpis": [
            {
                "code": f.kpi.code,
                "label": _(labels.kpi_label(f.kpi.code)),
                "unit": f.kpi.unit,
                "better": f.kpi.better,
                "target": f.target,
                "values": series[f.kpi.code],
            }
            for f in board.figures.values()
        ],
        "labels": {"target": _("Target value"), "value": _("Value")},
    }
    has_data = any(v is not None for values in series.values() for v in values)
    return _page(
        request,
        session,
        actor,
        "insights/trends.html",
        inputs,
        {
            "board": board,
            "span": span,
            "spans": TREND_MONTHS,
            "stages": STAGES,
            "month_labels": month_labels,
            "data": data,
            "has_data": has_data,
            "currency": currency_code,
        },
    )


# ---------------------------------------------------------------- league


@router.get("/insights/league", response_class=HTMLResponse)
def league(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    by: Short = "owner",
    period: Short = "1m",
    month: MonthText = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
    segment: Short = "",
    currency: Short = "",
    sort: Short = "",
    order: Short = "",
    columns: Short = "main",
) -> Response:
    inputs = read_inputs(
        session,
        actor,
        month=month,
        owner=owner,
        region=region,
        tier=tier,
        segment=segment,
        currency=currency,
        period=period.strip() or "1m",
    )
    if by not in leagues.GROUPINGS:
        inputs.problems.append(_("%(value)s is not a choice here; it was ignored.", value=by))
        by = "owner"
    if columns not in COLUMN_SETS:
        inputs.problems.append(_("%(value)s is not a choice here; it was ignored.", value=columns))
        columns = "main"
    codes = (
        leagues.MAIN_KPIS
        if columns == "main"
        else tuple(k.code for k in figures.KPIS if k.stage == columns)
    )
    sort_code = sort.strip() or (leagues.DEFAULT_SORT if columns == "main" else codes[0])
    if sort_code not in figures.KPI_BY_CODE:
        inputs.problems.append(_("%(value)s is not a choice here; it was ignored.", value=sort))
        sort_code = leagues.DEFAULT_SORT if columns == "main" else codes[0]
    table = leagues.league(
        session,
        actor=actor,
        by=by,
        flt=inputs.flt,
        period=Period.ending(inputs.month, inputs.period),
        sort=sort_code,
        kpis=codes,
        worst_first=order == "worst",
        no_owner=_("No owner"),
        no_region=_("No region"),
    )
    extra = {"by": by, "columns": columns, "sort": sort_code, "order": order or None}
    return _page(
        request,
        session,
        actor,
        "insights/league.html",
        inputs,
        {
            "table": table,
            "by": by,
            "columns": columns,
            "column_sets": COLUMN_SETS,
            "grouping_labels": GROUPING_LABELS,
            "periods": list(PERIOD_MONTHS),
            "period_labels": PERIOD_LABELS,
            "extra": extra,
            "currency": table.filter.money_currency,
            "dashboard_link": lambda row: dashboard_link(inputs, by, row),
            "missing": [m.isoformat()[:7] for m in table.missing_months],
        },
    )


def dashboard_link(inputs: Inputs, by: str, row: leagues.LeagueRow) -> str | None:
    """The dashboard filtered on the row's owner or region (None for the rows without one)."""
    if not row.key:
        return None
    if by == "owner":
        return inputs.link("/insights", owner=row.key)
    return inputs.link("/insights", region=row.key)


# ---------------------------------------------------------------- transitions


@router.get("/insights/transitions", response_class=HTMLResponse)
def transitions(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    kind: Short = "segment",
    month: MonthText = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
) -> Response:
    inputs = read_inputs(
        session,
        actor,
        month=month,
        owner=owner,
        region=region,
        tier=tier,
        segment="",
        currency="",
    )
    if kind not in moves.KINDS:
        inputs.problems.append(_("%(value)s is not a choice here; it was ignored.", value=kind))
        kind = "segment"
    found = moves.matrix(session, actor=actor, month=inputs.month, kind=kind, flt=inputs.flt)
    return _page(
        request,
        session,
        actor,
        "insights/transitions.html",
        inputs,
        {
            "matrix": found,
            "kind": kind,
            "kind_labels": KIND_LABELS,
            "code_label": lambda code: code_label(kind, code),
            "cell_link": lambda f, t: cell_link(inputs, kind, f, t),
            "grade_meanings": GRADE_MEANINGS,
        },
    )


@router.get("/insights/transitions/accounts", response_class=HTMLResponse)
def transition_accounts(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    kind: Short = "segment",
    month: MonthText = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
    from_code: Annotated[str, Query(alias="from", max_length=20)] = "",
    to_code: Annotated[str, Query(alias="to", max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """The accounts behind one cell of the matrix."""
    inputs = read_inputs(
        session,
        actor,
        month=month,
        owner=owner,
        region=region,
        tier=tier,
        segment="",
        currency="",
    )
    kind = moves.check_kind(kind)
    found = moves.cell_accounts(
        session,
        actor=actor,
        month=inputs.month,
        kind=kind,
        flt=inputs.flt,
        from_code=from_code,
        to_code=to_code,
        page=page,
        size=ACCOUNTS_PAGE,
    )
    return _page(
        request,
        session,
        actor,
        "insights/transitions_accounts.html",
        inputs,
        {
            "kind": kind,
            "from_code": from_code,
            "to_code": to_code,
            "previous_month": add_months(inputs.month, -1).isoformat()[:7],
            "code_label": lambda code: code_label(kind, code),
            "rows": found.rows,
            "total": found.total,
            "page": page,
            "pages": max(1, -(-found.total // ACCOUNTS_PAGE)),
            "tier_labels": TIER_LABELS,
            "back": inputs.link(
                "/insights/transitions", kind=kind, segment=None, currency=None, period=None
            ),
            "page_link": lambda n: inputs.link(
                "/insights/transitions/accounts",
                kind=kind,
                segment=None,
                currency=None,
                period=None,
                page=n,
                **{"from": from_code, "to": to_code},
            ),
        },
    )


def cell_link(inputs: Inputs, kind: str, from_code: str, to_code: str) -> str:
    return inputs.link(
        "/insights/transitions/accounts",
        kind=kind,
        segment=None,
        currency=None,
        period=None,
        **{"from": from_code, "to": to_code},
    )
