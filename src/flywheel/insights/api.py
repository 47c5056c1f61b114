"""The insights API (``/api/v1/insights/…``): every figure of the flywheel dashboard, its
monthly series and the lists behind the figures, for BI tools. Reads only, for every role,
inside the caller's scope (a sales rep: his own accounts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import NotFound
from flywheel.insights import drills, figures
from flywheel.insights.periods import PERIOD_MONTHS, InsightFilter, Period, owner_id_of, parse_month
from flywheel.insights.schemas import (
    DashboardOut,
    DrillColumnOut,
    DrillPageOut,
    FigureOut,
    KpiOut,
    MonthOut,
)
from flywheel.kit.i18n import gettext as _
from flywheel.models.enums import Tier
from flywheel.models.insights import InsightMonth
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/insights", tags=["insights"], responses=ERROR_RESPONSES)

PeriodParam = Annotated[
    str,
    Query(
        pattern="^(" + "|".join(PERIOD_MONTHS) + ")$",
        description="How many whole months, ending with `month`: 1m, 3m, 6m or 12m.",
    ),
]
MonthParam = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-\d{2}$",
        description="The period's last month, YYYY-MM (default: the latest complete month).",
    ),
]
Owner = Annotated[str | None, Query(max_length=64, description="The account owner's username.")]
Region = Annotated[str | None, Query(max_length=80, description="The account's region.")]
TierParam = Annotated[Tier | None, Query(description="The account's tier.")]
Segment = Annotated[
    str | None, Query(max_length=20, description="The account's RFM segment at the period's end.")
]
Currency = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Money figures in this currency (default: the base currency).",
    ),
]


def _board_inputs(
    session: Session,
    period: str,
    month: str | None,
    owner: str | None,
    region: str | None,
    tier: Tier | None,
    segment: str | None,
    currency: str | None,
) -> tuple[Period, InsightFilter]:
    last = parse_month(month, default=figures.default_month(session, today=today()))
    flt = InsightFilter(
        owner_id=owner_id_of(session, owner),
        region=region,
        tier=tier.value if tier else None,
        segment=segment,
        currency=currency,
    ).checked()
    return Period.ending(last, period), flt


@router.get("/kpis", response_model=list[KpiOut], summary="The dashboard's figures")
def list_kpis() -> list[KpiOut]:
    """Every figure of the dashboard: its stage, unit, which direction is better and the list
    behind it."""
    return [KpiOut.of(k) for k in figures.KPIS]


@router.get("/dashboard", response_model=DashboardOut, summary="Every figure of a period")
def get_dashboard(
    session: SessionDep,
    actor: CurrentActor,
    period: PeriodParam = "1m",
    month: MonthParam = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    segment: Segment = None,
    currency: Currency = None,
) -> DashboardOut:
    """Every figure for the period against the period before and the target, with its monthly
    series (twelve months ending with the period's last), read from the monthly snapshot the
    daily cycle builds."""
    chosen, flt = _board_inputs(session, period, month, owner, region, tier, segment, currency)
    return DashboardOut.of(figures.dashboard(session, actor=actor, flt=flt, period=chosen))


@router.get("/kpis/{code}", response_model=FigureOut, summary="One figure and its series")
def get_kpi(
    session: SessionDep,
    actor: CurrentActor,
    code: str,
    period: PeriodParam = "1m",
    month: MonthParam = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    segment: Segment = None,
    currency: Currency = None,
    months: Annotated[int, Query(ge=1, le=60, description="Months of the series.")] = 12,
) -> FigureOut:
    if code not in figures.KPI_BY_CODE:
        raise NotFound(f"there is no figure {code!r}", code=code)
    chosen, flt = _board_inputs(session, period, month, owner, region, tier, segment, currency)
    board = figures.dashboard(
        session, actor=actor, flt=flt, period=chosen, series_months=months, codes=[code]
    )
    return FigureOut.of_figure(board.figures[code])


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@router.get("/drills/{code}", response_model=DrillPageOut, summary="The list behind a figure")
def get_drill(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    code: str,
    period: PeriodParam = "1m",
    month: MonthParam = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    segment: Segment = None,
    currency: Currency = None,
) -> DrillPageOut:
    """The accounts or items a figure counts, most important first, in the caller's scope."""
    drill = drills.get(code)
    chosen, flt = _board_inputs(session, period, month, owner, region, tier, segment, currency)
    query = drill_query(session, actor, flt, chosen)
    found = drills.page(session, drill, query, page=paging.page, size=paging.page_size)
    return DrillPageOut(
        code=drill.code,
        title=_(drill.title),
        stage=drill.stage,
        first=query.first,
        last=query.last,
        columns=[DrillColumnOut(key=c.key, label=_(c.label), kind=c.kind) for c in drill.columns],
        rows=[{k: _cell(v) for k, v in row.items()} for row in found.rows],
        total=found.total,
        page=found.page,
        page_size=found.size,
    )


def drill_query(
    session: Session, actor: Actor, flt: InsightFilter, period: Period
) -> drills.DrillQuery:
    built = session.scalar(select(InsightMonth.as_of).where(InsightMonth.month == period.last))
    return drills.DrillQuery.of(actor, flt, period, built)


@router.get("/months", response_model=list[MonthOut], summary="The months of the snapshot")
def list_months(session: SessionDep, actor: CurrentActor) -> list[MonthOut]:
    """Which months the daily cycle has built, up to which day, and how long each took."""
    del actor
    return [
        MonthOut(
            month=m.month.isoformat()[:7],
            as_of=m.as_of,
            accounts=m.accounts,
            cells=m.cells,
            seconds=m.seconds,
        )
        for m in session.scalars(select(InsightMonth).order_by(InsightMonth.month))
    ]
