"""The insights API (``/api/v1/insights/…``): every figure of the flywheel dashboard, its
monthly series and the lists behind the figures, for BI tools. Reads only, for every role,
inside the caller's scope (a sales rep: his own accounts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import NotFound
from flywheel.insights import drills, figures, forecast, league, targets, transitions
from flywheel.insights.periods import PERIOD_MONTHS, InsightFilter, Period, owner_id_of, parse_month
from flywheel.insights.schemas import (
    DashboardOut,
    DrillColumnOut,
    DrillPageOut,
    FigureOut,
    ForecastOut,
    ForecastWeekOut,
    InsightFilterOut,
    KpiOut,
    LeagueOut,
    LeagueRowOut,
    MonthOut,
    PeriodOut,
    ReportOut,
    ReportSummaryOut,
    TargetIn,
    TargetOut,
    TransitionCellOut,
    TransitionRowOut,
    TransitionsOut,
)
from flywheel.kit.i18n import gettext as _
from flywheel.models.enums import Tier
from flywheel.models.insights import InsightMonth, InsightReport
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
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


@dataclass(frozen=True)
class Asked:
    """The dashboard's parameters as a request gives them (period, month and the filters)."""

    period: str
    month: str | None
    owner: str | None
    region: str | None
    tier: Tier | None
    segment: str | None
    currency: str | None

    def read(self, session: Session) -> tuple[Period, InsightFilter]:
        last = parse_month(self.month, default=figures.default_month(session, today=today()))
        flt = InsightFilter(
            owner_id=owner_id_of(session, self.owner),
            region=self.region,
            tier=self.tier.value if self.tier else None,
            segment=self.segment,
            currency=self.currency,
        ).checked()
        return Period.ending(last, self.period), flt


def _asked(
    period: PeriodParam = "1m",
    month: MonthParam = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    segment: Segment = None,
    currency: Currency = None,
) -> Asked:
    return Asked(period, month, owner, region, tier, segment, currency)


AskedDep = Annotated[Asked, Depends(_asked)]


@router.get("/kpis", response_model=list[KpiOut], summary="The dashboard's figures")
def list_kpis(actor: CurrentActor) -> list[KpiOut]:
    """Every figure of the dashboard: its stage, unit, which direction is better and the list
    behind it."""
    del actor  # any signed-in caller
    return [KpiOut.of(k) for k in figures.KPIS]


@router.get("/dashboard", response_model=DashboardOut, summary="Every figure of a period")
def get_dashboard(
    session: SessionDep,
    actor: CurrentActor,
    asked: AskedDep,
) -> DashboardOut:
    """Every figure for the period against the period before and the target, with its monthly
    series (twelve months ending with the period's last), read from the monthly snapshot the
    daily cycle builds."""
    chosen, flt = asked.read(session)
    return DashboardOut.of(figures.dashboard(session, actor=actor, flt=flt, period=chosen))


@router.get("/kpis/{code}", response_model=FigureOut, summary="One figure and its series")
def get_kpi(
    session: SessionDep,
    actor: CurrentActor,
    code: str,
    asked: AskedDep,
    months: Annotated[int, Query(ge=1, le=60, description="Months of the series.")] = 12,
) -> FigureOut:
    if code not in figures.KPI_BY_CODE:
        raise NotFound(f"there is no figure {code!r}", code=code)
    chosen, flt = asked.read(session)
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
    asked: AskedDep,
) -> DrillPageOut:
    """The accounts or items a figure counts, most important first, in the caller's scope."""
    drill = drills.get(code)
    chosen, flt = asked.read(session)
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


@router.get("/league", response_model=LeagueOut, summary="Owners or regions ranked")
def get_league(
    session: SessionDep,
    actor: CurrentActor,
    asked: AskedDep,
    by: Annotated[str, Query(pattern="^(owner|region)$", description="owner or region")] = "owner",
    sort: Annotated[
        str, Query(max_length=40, description="The figure to rank by.")
    ] = league.DEFAULT_SORT,
    worst_first: bool = False,
) -> LeagueOut:
    """Every main figure per owner (or region) for the period, ranked best first by ``sort``,
    with the period before; a sales rep gets his own row."""
    chosen, flt = asked.read(session)
    found = league.league(
        session,
        actor=actor,
        by=by,
        flt=flt,
        period=chosen,
        sort=sort,
        kpis=[k.code for k in figures.KPIS],
        worst_first=worst_first,
    )

    def row(r: league.LeagueRow) -> LeagueRowOut:
        return LeagueRowOut(
            key=r.key,
            name=r.name,
            owner_id=r.owner_id,
            accounts=r.accounts,
            rank=r.rank,
            values=r.values,
            previous=r.previous,
        )

    return LeagueOut(
        by=found.by,
        period=PeriodOut.of(found.period),
        filters=InsightFilterOut.of(found.filter),
        sort=found.sort.code,
        worst_first=found.worst_first,
        kpis=[k.code for k in found.kpis],
        rows=[row(r) for r in found.rows],
        total=row(found.total),
        missing_months=[m.isoformat()[:7] for m in found.missing_months],
    )


@router.get(
    "/transitions", response_model=TransitionsOut, summary="Moves between segments or grades"
)
def get_transitions(
    session: SessionDep,
    actor: CurrentActor,
    kind: Annotated[str, Query(pattern="^(segment|grade)$")] = "segment",
    month: MonthParam = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
) -> TransitionsOut:
    """How many accounts moved from each segment (or credit grade) at the end of the month
    before ``month`` to each one at the end of ``month``."""
    last = parse_month(month, default=figures.default_month(session, today=today()))
    flt = InsightFilter(
        owner_id=owner_id_of(session, owner), region=region, tier=tier.value if tier else None
    ).checked()
    found = transitions.matrix(session, actor=actor, month=last, kind=kind, flt=flt)
    return TransitionsOut(
        month=found.month.isoformat()[:7],
        since=found.since.isoformat()[:7],
        kind=found.kind,
        built=found.built,
        codes=list(found.codes),
        accounts=found.accounts,
        moved=found.moved,
        rows=[
            TransitionRowOut(
                from_code=r.code,
                accounts=r.accounts,
                cells=[
                    TransitionCellOut(to_code=c.to_code, accounts=c.accounts, share=c.share)
                    for c in r.cells
                ],
            )
            for r in found.rows
        ],
    )


@router.get("/targets", response_model=list[TargetOut], summary="The figures' targets")
def list_targets(session: SessionDep, actor: CurrentActor) -> list[TargetOut]:
    del actor
    return [
        TargetOut(kpi=t.kpi, value=t.value, updated_at=t.updated_at)
        for t in sorted(targets.current(session).values(), key=lambda t: t.kpi)
    ]


@router.put("/targets/{kpi}", response_model=TargetOut, summary="Set a figure's target")
def put_target(session: SessionDep, actor: CurrentActor, kpi: str, body: TargetIn) -> TargetOut:
    """Admin and manager; audited. The value must be a finite number in the figure's range."""
    target, _ = targets.set_target(session, actor=actor, kpi=kpi, value=body.value)
    return TargetOut(kpi=target.kpi, value=target.value, updated_at=target.updated_at)


@router.delete("/targets/{kpi}", status_code=204, summary="Remove a figure's target")
def delete_target(session: SessionDep, actor: CurrentActor, kpi: str) -> Response:
    targets.clear_target(session, actor=actor, kpi=kpi)
    return Response(status_code=204)


@router.get("/reports", response_model=list[ReportSummaryOut], summary="The management reports")
def list_reports(session: SessionDep, actor: CurrentActor) -> list[ReportSummaryOut]:
    """Admin, manager and finance: the reports made, newest first."""
    permissions.check(actor, Permission.MANAGE_REPORTS)
    found = session.scalars(
        select(InsightReport).order_by(InsightReport.period_start.desc(), InsightReport.id.desc())
    )
    return [_report_summary(r) for r in found]


@router.get("/reports/{report_id}", response_model=ReportOut, summary="One management report")
def get_report(session: SessionDep, actor: CurrentActor, report_id: Id) -> ReportOut:
    permissions.check(actor, Permission.MANAGE_REPORTS)
    report = session.get(InsightReport, report_id)
    if report is None:
        raise NotFound(f"there is no report {report_id}", report_id=report_id)
    return ReportOut(**_report_summary(report).model_dump(), content=report.content)


def _report_summary(report: InsightReport) -> ReportSummaryOut:
    return ReportSummaryOut(
        id=report.id,
        kind=report.kind,
        period_start=report.period_start,
        period_end=report.period_end,
        as_of=report.as_of,
        recipients=report.recipients,
    )


@router.get(
    "/forecast", response_model=ForecastOut, summary="The cash forecast against what came in"
)
def get_forecast(
    session: SessionDep,
    actor: CurrentActor,
    period: PeriodParam = "1m",
    month: MonthParam = None,
    currency: Currency = None,
) -> ForecastOut:
    """The cash the latest 13-week forecast made on or before the period's first day expected
    in the weeks starting in the period, against the payments received (company-wide: the roles
    that may see the cash forecast)."""
    permissions.check(actor, Permission.VIEW_CASH_FORECAST)
    chosen, flt = Asked(period, month, None, None, None, None, currency).read(session)
    built = session.scalar(select(InsightMonth.as_of).where(InsightMonth.month == chosen.last))
    found = forecast.forecast_vs_actual(
        session,
        actor=actor,
        period_first=chosen.first,
        period_last=chosen.end,
        currency=flt.money_currency,
        as_of=built,
    )
    assert found is not None  # the permission is checked above
    return ForecastOut(
        currency=found.currency,
        made_on=found.made_on,
        first=found.first,
        last=found.last,
        through=found.through,
        expected=found.expected,
        actual=found.actual,
        weeks=[
            ForecastWeekOut(
                week_start=w.week_start,
                expected=w.expected,
                low=w.low,
                high=w.high,
                actual=w.actual,
            )
            for w in found.weeks
        ],
    )
