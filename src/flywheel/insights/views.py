"""The flywheel dashboard's pages: ``/insights`` (the wheel, force against friction, a card per
stage) and the list behind each figure (``/insights/drill/{code}``, with its CSV and XLSX
exports).

Every role may read them, inside his scope (a sales rep: his own accounts, and no owner
filter). The dashboard reads only the monthly cube the daily cycle builds (one grouped query
for every figure, its period before and its twelve months); the top accounts behind force and
friction arrive afterwards (HTMX), since each is a query on the domain tables. A parameter that
cannot be read is named on the page and ignored; an export refuses it instead, so a file never
holds a wider list than the one asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_skeleton
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import OWNER_SCOPED_ROLES
from flywheel.config import get_settings
from flywheel.customers import figures as customer_figures
from flywheel.customers import labels as customer_labels
from flywheel.errors import NotFound, ValidationFailed
from flywheel.insights import board as shape
from flywheel.insights import drills, figures, forecast, labels
from flywheel.insights.cube import UNSCORED, month_end, month_start
from flywheel.insights.periods import (
    DEFAULT_PERIOD,
    PERIOD_MONTHS,
    InsightFilter,
    Period,
    owner_id_of,
    parse_month,
)
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.loyalty.segments import SEGMENT_LABELS
from flywheel.models.enums import Segment, Tier
from flywheel.models.insights import InsightMonth, insight_markets
from flywheel.web import exports
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat
from flywheel.web.pages import render

router = APIRouter(include_in_schema=False)

DRILL_PAGE_SIZE = 50
TOP_ACCOUNTS = 3
MAX_PAGE = 100_000
# A period reaches eleven months back and its previous one as far again: the month chosen stays
# two years inside the dates a ledger holds (kit.shapes).
FIRST_MONTH = date(1902, 1, 1)
LAST_MONTH = date(2999, 12, 1)
PERIOD_LABELS: dict[str, str] = {
    "1m": N_("1 month"),
    "3m": N_("3 months"),
    "6m": N_("6 months"),
    "12m": N_("12 months"),
}
SEGMENT_CHOICES: dict[str, str] = {
    **{s.value: SEGMENT_LABELS[s] for s in Segment},
    UNSCORED: N_("Not scored"),
}

Short = Annotated[str, Query(max_length=40)]
OwnerText = Annotated[str, Query(max_length=64)]
RegionText = Annotated[str, Query(max_length=80)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]


# ---------------------------------------------------------------- parameters


@dataclass(frozen=True)
class BoardParams:
    """The period and filter a page shows, read from its query; what could not be read is in
    ``problems`` (field → message) and was replaced by its default."""

    period: Period
    flt: InsightFilter  # checked; the actor's scope is applied where the figures are read
    owner: str  # the owner's username ("" for anyone)
    default_month: date
    problems: dict[str, str]

    def query(self, **extra: Any) -> dict[str, str]:
        values = {
            "period": self.period.code,
            "month": self.period.last.isoformat()[:7],
            "owner": self.owner,
            "region": self.flt.region or "",
            "tier": self.flt.tier or "",
            "segment": self.flt.segment or "",
            "currency": ""
            if self.flt.money_currency == get_settings().base_currency
            else self.flt.money_currency,
            **{k: "" if v is None else str(v) for k, v in extra.items()},
        }
        return {k: v for k, v in values.items() if v}

    def link(self, path: str, **extra: Any) -> str:
        return f"{path}?{urlencode(self.query(**extra))}"

    def drill_url(self, code: str) -> str:
        return self.link(f"/insights/drill/{code}")


def _problem(field: str, value: str) -> str:
    messages = {
        "period": N_("Period “%(value)s” is not one of 1m, 3m, 6m and 12m; it was ignored."),
        "month": N_("Month “%(value)s” is not a month written like 2026-11; it was ignored."),
        "owner": N_("Owner “%(value)s” is not a user; it was ignored."),
        "tier": N_("Tier “%(value)s” is not a choice here; it was ignored."),
        "segment": N_("Segment “%(value)s” is not a choice here; it was ignored."),
        "currency": N_(
            "Currency “%(value)s” is not three letters like CNY or USD; it was ignored."
        ),
    }
    return _(messages[field], value=value)


@dataclass(frozen=True)
class AskedParams:
    """The period and filter parameters as the query wrote them."""

    period: str
    month: str
    owner: str
    region: str
    tier: str
    segment: str
    currency: str


def asked_params(
    period: Short = "",
    month: Short = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
    segment: Short = "",
    currency: Short = "",
) -> AskedParams:
    return AskedParams(period, month, owner, region, tier, segment, currency)


Asked = Annotated[AskedParams, Depends(asked_params)]


def read_params(session: Session, actor: Actor, asked: AskedParams) -> BoardParams:
    problems: dict[str, str] = {}
    period, month, owner, region = asked.period, asked.month, asked.owner, asked.region
    tier, segment, currency = asked.tier, asked.segment, asked.currency
    default = figures.default_month(session, today=today())
    code = period.strip() or DEFAULT_PERIOD
    if code not in PERIOD_MONTHS:
        problems["period"] = _problem("period", code)
        code = DEFAULT_PERIOD
    last = default
    if month.strip():
        try:
            last = parse_month(month, default=default)
        except ValidationFailed:
            last = default
            problems["month"] = _problem("month", month.strip())
        if not FIRST_MONTH <= last <= LAST_MONTH:
            last = default
            problems["month"] = _problem("month", month.strip())
    owner_name = owner.strip()
    owner_id: int | None = None
    if actor.role in OWNER_SCOPED_ROLES:
        owner_name = ""  # his own accounts, whatever the query says
    elif owner_name:
        try:
            owner_id = owner_id_of(session, owner_name)
        except ValidationFailed:
            problems["owner"] = _problem("owner", owner_name)
            owner_name = ""
    tier = tier.strip()
    if tier and tier not in {t.value for t in Tier}:
        problems["tier"] = _problem("tier", tier)
        tier = ""
    segment = segment.strip()
    if segment and segment not in SEGMENT_CHOICES:
        problems["segment"] = _problem("segment", segment)
        segment = ""
    money = currency.strip().upper()
    if money and (len(money) != 3 or not money.isalpha()):
        problems["currency"] = _problem("currency", currency.strip())
        money = ""
    flt = InsightFilter(
        owner_id=owner_id,
        region=region or None,
        tier=tier or None,
        segment=segment or None,
        currency=money or None,
    ).checked()
    return BoardParams(
        period=Period.ending(last, code),
        flt=flt,
        owner=owner_name,
        default_month=default,
        problems=problems,
    )


def month_label(month: date) -> str:
    """``Nov 2026`` / ``2026年11月``."""
    return str(format_skeleton("yMMM", month, locale=i18n.locale()))


def period_label(period: Period) -> str:
    if period.months == 1:
        return month_label(period.last)
    return f"{month_label(period.first)} – {month_label(period.last)}"


def _built_through(session: Session, month: date) -> date | None:
    found: date | None = session.scalar(
        select(InsightMonth.as_of).where(InsightMonth.month == month)
    )
    return found


def _currencies(session: Session, period: Period, chosen: str) -> list[str]:
    table = insight_markets
    found = session.scalars(
        select(table.c.currency)
        .where(table.c.month >= period.previous.first, table.c.month <= period.last)
        .distinct()
    )
    return sorted({str(c) for c in found} | {chosen, get_settings().base_currency})


def _choices(session: Session, actor: Actor, params: BoardParams) -> dict[str, Any]:
    scoped = actor.role in OWNER_SCOPED_ROLES
    return {
        "periods": [(code, PERIOD_LABELS[code]) for code in PERIOD_MONTHS],
        "owners": [] if scoped else customer_figures.owner_choices(session, actor=actor),
        "regions": customer_figures.region_choices(session, actor=actor),
        "tiers": [(t.value, customer_labels.TIER_LABELS[t]) for t in Tier],
        "segments": list(SEGMENT_CHOICES.items()),
        "currencies": _currencies(session, params.period, params.flt.money_currency),
    }


# ---------------------------------------------------------------- the dashboard


@router.get("/insights", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    asked: Asked,
) -> Response:
    """Every figure of the period against the period before and its target: the wheel with
    each stage's key figures, force against friction, and a card per stage."""
    params = read_params(session, actor, asked)
    board = figures.dashboard(session, actor=actor, flt=params.flt, period=params.period)
    money = board.filter.money_currency
    shown = {code: shape.show(f, money, params.drill_url) for code, f in board.figures.items()}
    running = month_start(today())
    cash_forecast = forecast.forecast_vs_actual(
        session,
        actor=actor,
        period_first=params.period.first,
        period_last=params.period.end,
        currency=money,
        as_of=board.built_through,
    )
    return render(
        request,
        "insights/dashboard.html",
        {
            "params": params,
            "board": board,
            "flt": board.filter,
            "shown": shown,
            "wheel": shape.wheel(shown),
            "balance": shape.balance(board),
            "stages": [
                (stage, labels.STAGE_LABELS[stage], labels.STAGE_DEFINITIONS[stage])
                for stage in (*figures.STAGES, "force", "friction")
            ],
            "colours": shape.STAGE_COLOURS,
            "stage_labels": labels.STAGE_LABELS,
            "stage_definitions": labels.STAGE_DEFINITIONS,
            "by_stage": {
                stage: [s for s in shown.values() if s.stage == stage]
                for stage in (*figures.STAGES, "force", "friction")
            },
            "period_text": period_label(params.period),
            "previous_text": period_label(params.period.previous),
            "default_text": month_label(params.default_month),
            "running": running,
            "cash_forecast": cash_forecast,
            "running_text": month_label(running),
            "month_label": month_label,
            # The month is not over (or was built before its end): its figures run to then.
            "partial_month": board.built_through is not None
            and board.built_through < month_end(params.period.last),
            "missing": [month_label(m) for m in board.missing_months],
            "problems": params.problems,
            "scoped": actor.role in OWNER_SCOPED_ROLES,
            **_choices(session, actor, params),
        },
        actor=actor,
    )


@dataclass(frozen=True)
class TopList:
    figure: shape.Shown
    drill: drills.Drill
    found: drills.DrillPage
    name_key: str | None  # a column naming the account, shown next to its code


@router.get("/insights/top-accounts", response_class=HTMLResponse)
def top_accounts_part(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    asked: Asked,
) -> Response:
    """The first accounts behind each figure of force and friction (a part of the dashboard
    loaded after it; a page of its own when opened directly)."""
    params = read_params(session, actor, asked)
    query = drills.DrillQuery.of(
        actor, params.flt, params.period, _built_through(session, params.period.last)
    )
    money = query.flt.money_currency
    lists: dict[str, list[TopList]] = {"force": [], "friction": []}
    for kpi in figures.KPIS:
        if kpi.stage not in lists:
            continue
        try:
            drill = drills.get(kpi.drill)
        except NotFound:
            continue  # a figure whose list is not there yet
        empty = figures.Figure(kpi=kpi, value=None, previous=None, target=None)
        lists[kpi.stage].append(
            TopList(
                figure=shape.show(empty, money, params.drill_url),
                drill=drill,
                found=drills.page(session, drill, query, page=1, size=TOP_ACCOUNTS),
                name_key=next((c.key for c in drill.columns if c.key == "name"), None),
            )
        )
    return render(
        request,
        "insights/_top_accounts.html",
        {"params": params, "lists": lists, "colours": shape.STAGE_COLOURS},
        actor=actor,
    )


# ---------------------------------------------------------------- the lists behind the figures


def cell_text(value: Any, column: drills.DrillColumn, currency: str) -> str:
    """A drill cell as the page writes it; money in ``currency`` (the row's own when it has a
    currency column, else the filter's)."""
    if value is None or value == "":
        return shape.NONE
    kind = column.kind
    if column.key == "tier":
        label = customer_labels.TIER_LABELS.get(str(value))
        return _(label) if label else str(value)
    if column.key == "segment":
        label = SEGMENT_CHOICES.get(str(value))
        return _(label) if label else str(value)
    if kind == "money":
        return i18n.money(value if isinstance(value, Decimal) else Decimal(str(value)), currency)
    if kind == "count":
        return i18n.number(value, decimals=0 if float(value).is_integer() else 1)
    if kind == "percent":  # a share (0.8 is 80 %), as the scores store it
        return i18n.percent(float(value), decimals=1)
    if kind == "score":
        return i18n.number(round(float(value), 1), decimals=None)
    if kind in ("days", "hours"):
        return shape.value_text(float(value), kind, currency)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return f"{moment:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return i18n.day(value, style="iso")
    return str(value)


def _export_cell(value: Any, column: drills.DrillColumn) -> object:
    if column.key == "tier" and isinstance(value, str):
        return exports.word(customer_labels.TIER_LABELS, value)
    if column.key == "segment" and isinstance(value, str):
        return exports.word(SEGMENT_CHOICES, value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _drill_params(
    session: Session, actor: Actor, asked: AskedParams
) -> tuple[BoardParams, drills.DrillQuery]:
    params = read_params(session, actor, asked)
    query = drills.DrillQuery.of(
        actor, params.flt, params.period, _built_through(session, params.period.last)
    )
    return params, query


@router.get("/insights/drill/{code}", response_class=HTMLResponse)
def drill_page(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    code: str,
    asked: Asked,
    page: PageNumber = 1,
) -> Response:
    """The accounts or items a figure counts, most important first, a page at a time, in the
    dashboard's period and filter and the actor's scope."""
    drill = drills.get(code)
    params, query = _drill_params(session, actor, asked)
    found = drills.page(session, drill, query, page=page, size=DRILL_PAGE_SIZE)
    money = query.flt.money_currency
    pages = max(1, math.ceil(found.total / DRILL_PAGE_SIZE))
    behind = [k for k in figures.KPIS if k.drill == drill.code]
    return render(
        request,
        "insights/drill.html",
        {
            "params": params,
            "drill": drill,
            "query": query,
            "found": found,
            "rows": [
                [
                    (c, row.get(c.key), cell_text(row.get(c.key), c, row.get("currency") or money))
                    for c in drill.columns
                ]
                for row in found.rows
            ],
            "page": page,
            "pages": pages,
            "behind": [(k.code, labels.kpi_label(k.code)) for k in behind],
            "stage_label": labels.STAGE_LABELS.get(drill.stage, drill.stage),
            "colour": shape.STAGE_COLOURS.get(drill.stage, "#8c959f"),
            "period_text": period_label(params.period),
            "problems": params.problems,
            "scoped": actor.role in OWNER_SCOPED_ROLES,
            "money": money,
            "running": month_start(today()),
            **_choices(session, actor, params),
        },
        actor=actor,
    )


def _strict(params: BoardParams) -> None:
    """An export never widens the list: a parameter that could not be read is an error."""
    if params.problems:
        field, message = next(iter(params.problems.items()))
        raise ValidationFailed(message, field=field)


def _export(
    session: Session, actor: Actor, asked: AskedParams, code: str, format: ExportFormat
) -> Response:
    """Every row of a drill (``drills.all_rows``) in the dashboard's period and filter and the
    actor's scope, under the drill's column names."""
    drill = drills.get(code)
    params, query = _drill_params(session, actor, asked)
    _strict(params)
    rows = (
        [_export_cell(row.get(c.key), c) for c in drill.columns]
        for row in drills.all_rows(session, drill, query)
    )
    first, last = params.period.first.isoformat()[:7], params.period.last.isoformat()[:7]
    span = last if first == last else f"{first}_{last}"
    return exports.download(
        [c.label for c in drill.columns],
        rows,
        stem=f"{drill.code}-{span}",
        format=format,
        title=drill.title,
    )


@router.get("/insights/drill/{code}/export.csv")
def drill_export_csv(session: SessionDep, actor: CurrentActor, asked: Asked, code: str) -> Response:
    """Every row of the list as CSV (UTF-8 with a byte order mark, for Excel)."""
    return _export(session, actor, asked, code, "csv")


@router.get("/insights/drill/{code}/export.xlsx")
def drill_export_xlsx(
    session: SessionDep, actor: CurrentActor, asked: Asked, code: str
) -> Response:
    """Every row of the list as an Excel workbook; amounts and dates as real Excel values."""
    return _export(session, actor, asked, code, "xlsx")
