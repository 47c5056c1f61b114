"""The loyalty dashboard: segment map, cohort heatmap, NRR trend, CLV distribution, at-risk list.

Every role may read it, inside his scope (a sales rep: his own accounts). The segment map, the
CLV distribution and the at-risk list read the scores of the last ``flywheel run`` on or
before the day; repeat purchase, cohorts and NRR/GRR are computed from the orders. A parameter
that cannot be read is named on the page and ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import OWNER_SCOPED_ROLES, visible_customers
from flywheel.config import get_settings
from flywheel.customers import figures as customer_figures
from flywheel.customers import labels as customer_labels
from flywheel.errors import ValidationFailed
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.loyalty import dashboard, health_labels, retention
from flywheel.loyalty.segments import GRID, SEGMENT_DESCRIPTIONS, SEGMENT_LABELS
from flywheel.models.customers import Customer
from flywheel.models.enums import Tier
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, paged, word
from flywheel.web.pages import render

router = APIRouter(include_in_schema=False)

AT_RISK_PAGE_SIZE = 20
MAX_PAGE = 100_000
PERIOD_LABELS: dict[str, str] = {
    "month": N_("Month"),
    "quarter": N_("Quarter"),
    "year": N_("Year"),
}
HEALTH_BAND_LABELS = health_labels.BAND_LABELS
TREND_LABELS = health_labels.TREND_LABELS
# Treemap colours per segment, best (green) to worst (red); no purchase is grey.
SEGMENT_COLOURS: dict[str, str] = {
    "champions": "#1a7f37",
    "loyal": "#2da44e",
    "promising": "#54aeff",
    "needs_attention": "#d4a72c",
    "at_risk": "#e16f24",
    "hibernating": "#a475f9",
    "lost": "#cf222e",
    "no_purchase": "#8c959f",
}

Short = Annotated[str, Query(max_length=40)]
AsOfText = Annotated[str, Query(max_length=20)]
OwnerText = Annotated[str, Query(max_length=64)]
RegionText = Annotated[str, Query(max_length=80)]
CurrencyText = Annotated[str, Query(max_length=20)]


@dataclass(frozen=True, slots=True)
class DashboardParams:
    as_of: date
    as_of_text: str  # what links carry ("" for today)
    flt: retention.LoyaltyFilter
    period: str
    problems: list[str]

    def query(self, **extra: Any) -> dict[str, Any]:
        values = {
            "as_of": self.as_of_text,
            "owner": self.flt.owner,
            "region": self.flt.region,
            "tier": self.flt.tier,
            "currency": ""
            if self.flt.currency == get_settings().base_currency
            else self.flt.currency,
            "period": "" if self.period == "month" else self.period,
            **extra,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}

    def link(self, **extra: Any) -> str:
        return "/loyalty?" + urlencode(self.query(**extra))


def read_params(
    as_of: str, owner: str, region: str, tier: str, currency: str, period: str
) -> DashboardParams:
    problems: list[str] = []
    day: date | None = None
    if as_of.strip():
        try:
            day = retention.check_as_of(date.fromisoformat(as_of.strip()))
        except (ValueError, ValidationFailed):
            day = None
        if day is None:
            problems.append(_("%(field)s is not a date; it was ignored.") % {"field": _("As of")})
    tier = tier.strip()
    if tier and tier not in {t.value for t in Tier}:
        problems.append(_("%(value)s is not a choice here; it was ignored.") % {"value": tier})
        tier = ""
    code = currency.strip().upper()
    if code and (len(code) != 3 or not code.isalpha()):
        problems.append(_("A currency is three letters, like CNY or USD."))
        code = ""
    period = period.strip() or "month"
    if period not in retention.PERIODS:
        problems.append(_("%(value)s is not a choice here; it was ignored.") % {"value": period})
        period = "month"
    flt = retention.LoyaltyFilter(
        owner=owner or None, region=region or None, tier=tier or None, currency=code or None
    ).checked()
    return DashboardParams(
        as_of=day or today(),
        as_of_text=day.isoformat() if day and day != today() else "",
        flt=flt,
        period=period,
        problems=problems,
    )


def _currencies(session: Session, actor: Actor, chosen: str) -> list[str]:
    found = set(
        session.scalars(select(Customer.currency).where(visible_customers(actor)).distinct())
    )
    return sorted(found | {chosen, get_settings().base_currency})


def _pct(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value * 100, digits)


def _cohort_chart(rows: list[retention.CohortRow]) -> dict[str, Any]:
    """Heatmap cells [k, cohort row, percent] for customers and for revenue."""
    customers: list[list[Any]] = []
    revenue: list[list[Any]] = []
    for y, row in enumerate(rows):
        for k, share in enumerate(row.customer_retention):
            if share is not None:
                customers.append([k, y, round(share * 100, 1)])
        for k, ratio in enumerate(row.revenue_retention):
            if ratio is not None:
                revenue.append([k, y, round(ratio * 100, 1)])
    revenue_top = max((cell[2] for cell in revenue), default=100.0)
    return {
        "cohorts": [f"{row.month} (n={row.size})" for row in rows],
        "ages": list(range(len(rows))),
        "customers": customers,
        "revenue": revenue,
        "revenue_max": max(100.0, min(revenue_top, 300.0)),
    }


@router.get("/loyalty", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOfText = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
    currency: CurrencyText = "",
    period: Short = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Segments, CLV and the accounts at risk of the last cycle run, in the actor's scope;
    repeat purchase, cohorts and NRR/GRR arrive next to them (/loyalty/retention), since they
    are computed from the orders."""
    params = read_params(as_of, owner, region, tier, currency, period)
    flt = params.flt
    scores_day = dashboard.latest_day(session, as_of=params.as_of)
    segments: list[dashboard.SegmentFigures] = []
    distribution = None
    risk = dashboard.AtRiskPage(0, retention.cents_to_money(0), [])
    if scores_day is not None:
        segments = dashboard.segment_summary(session, actor=actor, flt=flt, day=scores_day)
        distribution = dashboard.clv_distribution(session, actor=actor, flt=flt, day=scores_day)
        risk = dashboard.at_risk(
            session,
            actor=actor,
            flt=flt,
            day=scores_day,
            limit=AT_RISK_PAGE_SIZE,
            offset=(page - 1) * AT_RISK_PAGE_SIZE,
        )
    chart = {
        "segments": [
            {
                "name": _(SEGMENT_LABELS.get(s.segment, s.segment)),
                "value": s.accounts,
                "revenue": float(s.revenue_12m),
                "clv": float(s.clv),
                "itemStyle": {"color": SEGMENT_COLOURS.get(s.segment, "#8c959f")},
            }
            for s in segments
            if s.accounts
        ],
        "clv_bins": (
            [
                f"{e:,.0f}+" if i == len(distribution.edges) - 1 else f"{e:,.0f}"
                for i, e in enumerate(distribution.edges)
            ]
            if distribution
            else []
        ),
        "clv_counts": distribution.counts if distribution else [],
        "labels": {
            "accounts": _("Accounts"),
            "revenue_12m": _("Revenue, last 12 months"),
            "clv": _("CLV"),
        },
        "currency": flt.money_currency,
    }
    owners = (
        customer_figures.owner_choices(session, actor=actor)
        if actor.role not in OWNER_SCOPED_ROLES
        else []
    )
    return render(
        request,
        "loyalty/dashboard.html",
        {
            "params": params,
            "flt": flt,
            "scores_day": scores_day,
            "segments": segments,
            "counted": sum(s.accounts for s in segments),
            "grid": GRID,
            "segment_labels": SEGMENT_LABELS,
            "segment_descriptions": SEGMENT_DESCRIPTIONS,
            "segment_colours": SEGMENT_COLOURS,
            "distribution": distribution,
            "risk": risk,
            "page": page,
            "pages": max(1, math.ceil(risk.total / AT_RISK_PAGE_SIZE)),
            "chart": chart,
            "band_labels": HEALTH_BAND_LABELS,
            "trend_labels": TREND_LABELS,
            "owners": owners,
            "regions": customer_figures.region_choices(session, actor=actor),
            "tiers": [(t.value, customer_labels.TIER_LABELS[t]) for t in Tier],
            "currencies": _currencies(session, actor, flt.money_currency),
            "problems": params.problems,
        },
        actor=actor,
    )


@router.get("/loyalty/at-risk/export.{format}")
def at_risk_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    as_of: AsOfText = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
    currency: CurrencyText = "",
    period: Short = "",
) -> Response:
    """The dashboard's accounts at risk, every page, by value at risk; amounts in the
    dashboard's currency."""
    params = read_params(as_of, owner, region, tier, currency, period)
    scores_day = dashboard.latest_day(session, as_of=params.as_of)

    def fetch(size: int, offset: int) -> list[dashboard.AtRiskAccount]:
        if scores_day is None:
            return []
        return dashboard.at_risk(
            session, actor=actor, flt=params.flt, day=scores_day, limit=size, offset=offset
        ).items

    money = params.flt.money_currency
    return download(
        (
            N_("Account code"),
            N_("Account"),
            N_("Owner"),
            N_("Segment"),
            N_("Health"),
            N_("Health band"),
            N_("Health trend"),
            N_("Churn risk"),
            N_("Currency"),
            N_("CLV"),
            N_("Value at risk"),
            N_("Last order"),
            N_("Scores of"),
        ),
        (
            [
                a.code,
                a.name,
                a.owner_name or a.owner,
                word(SEGMENT_LABELS, a.segment),
                a.health,
                word(HEALTH_BAND_LABELS, a.health_band),
                word(TREND_LABELS, a.health_trend),
                round(a.churn_risk, 4),
                money,
                a.clv,
                a.value_at_risk,
                a.last_order_on,
                scores_day,
            ]
            for a in paged(fetch)
        ),
        stem="accounts-at-risk",
        format=format,
        title=N_("Accounts at risk"),
        day=params.as_of,
    )


@router.get("/loyalty/retention", response_class=HTMLResponse)
def retention_part(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOfText = "",
    owner: OwnerText = "",
    region: RegionText = "",
    tier: Short = "",
    currency: CurrencyText = "",
    period: Short = "",
) -> Response:
    """Repeat purchase, the cohort heatmap and NRR/GRR per period, from the orders up to the
    day (a part of the dashboard; a page of its own when opened directly)."""
    params = read_params(as_of, owner, region, tier, currency, period)
    frame = retention.scoped_frame(session, actor=actor, flt=params.flt, as_of=params.as_of)
    cohorts = retention.cohort_rows(frame)
    series = retention.net_retention(frame, period=params.period)
    chart = {
        "cohort": _cohort_chart(cohorts),
        "periods": [p.period for p in series],
        "nrr": [_pct(p.nrr) for p in series],
        "grr": [_pct(p.grr) for p in series],
        "labels": {
            "nrr": _("NRR"),
            "grr": _("GRR"),
            "customers": _("Customers buying"),
            "revenue": _("Revenue vs month 0"),
            "month_k": _("Months since first purchase"),
        },
    }
    return render(
        request,
        "loyalty/retention.html",
        {
            "params": params,
            "flt": params.flt,
            "repeat": retention.repeat_figures(frame),
            "cohorts": cohorts,
            "series": series,
            "latest": next((p for p in reversed(series) if p.nrr is not None), None),
            "chart": chart,
            "period_labels": PERIOD_LABELS,
            "problems": params.problems,
            "nrr_formula": _(retention.NRR_FORMULA),
            "grr_formula": _(retention.GRR_FORMULA),
        },
        actor=actor,
    )
