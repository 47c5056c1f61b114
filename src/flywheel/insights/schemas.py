"""Shapes of the insights API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from flywheel.insights.figures import Dashboard, Figure, Kpi
from flywheel.insights.periods import InsightFilter, Period


class KpiOut(BaseModel):
    code: str
    stage: str = Field(description="attract, engage, delight, loyalty, cash, force or friction.")
    unit: str = Field(description="count, percent, score, money, days or hours.")
    better: str = Field(description='"up" when a higher value is better, else "down".')
    drill: str = Field(description="The list behind the figure: /api/v1/insights/drills/{drill}.")

    @classmethod
    def of(cls, kpi: Kpi) -> KpiOut:
        return cls(
            code=kpi.code, stage=kpi.stage, unit=kpi.unit, better=kpi.better, drill=kpi.drill
        )


class PointOut(BaseModel):
    month: str = Field(description="YYYY-MM.")
    value: float | None


class FigureOut(KpiOut):
    value: float | None = Field(description="The period's value; null when it has no data.")
    previous: float | None = Field(description="The period before, of the same length.")
    change: float | None
    target: float | None
    on_target: bool | None
    improved: bool | None
    series: list[PointOut] = Field(description="The value of each month of the trend.")

    @classmethod
    def of_figure(cls, figure: Figure) -> FigureOut:
        return cls(
            **KpiOut.of(figure.kpi).model_dump(),
            value=figure.value,
            previous=figure.previous,
            change=figure.change,
            target=figure.target,
            on_target=figure.on_target,
            improved=figure.improved,
            series=[PointOut(month=m.isoformat()[:7], value=v) for m, v in figure.series],
        )


class PeriodOut(BaseModel):
    code: str = Field(description="1m, 3m, 6m or 12m.")
    first_month: str
    last_month: str
    previous_first_month: str
    previous_last_month: str

    @classmethod
    def of(cls, period: Period) -> PeriodOut:
        return cls(
            code=period.code,
            first_month=period.first.isoformat()[:7],
            last_month=period.last.isoformat()[:7],
            previous_first_month=period.previous.first.isoformat()[:7],
            previous_last_month=period.previous.last.isoformat()[:7],
        )


class InsightFilterOut(BaseModel):
    owner_id: int | None
    region: str | None
    tier: str | None
    segment: str | None
    currency: str

    @classmethod
    def of(cls, flt: InsightFilter) -> InsightFilterOut:
        return cls(
            owner_id=flt.owner_id,
            region=flt.region,
            tier=flt.tier,
            segment=flt.segment,
            currency=flt.money_currency,
        )


class DashboardOut(BaseModel):
    period: PeriodOut
    filters: InsightFilterOut
    built_through: date | None = Field(
        description="The day the period's last month was computed up to."
    )
    missing_months: list[str] = Field(description="Months of the period the snapshot lacks.")
    force: float
    friction: float
    figures: list[FigureOut]

    @classmethod
    def of(cls, board: Dashboard) -> DashboardOut:
        return cls(
            period=PeriodOut.of(board.period),
            filters=InsightFilterOut.of(board.filter),
            built_through=board.built_through,
            missing_months=[m.isoformat()[:7] for m in board.missing_months],
            force=board.force,
            friction=board.friction,
            figures=[FigureOut.of_figure(f) for f in board.figures.values()],
        )


class DrillColumnOut(BaseModel):
    key: str
    label: str
    kind: str


class DrillPageOut(BaseModel):
    code: str
    title: str
    stage: str
    first: date
    last: date
    columns: list[DrillColumnOut]
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int


class MonthOut(BaseModel):
    month: str
    as_of: date
    accounts: int
    cells: int
    seconds: float


class LeagueRowOut(BaseModel):
    key: str = Field(description="The owner's username or the region ('' for none).")
    name: str
    owner_id: int | None
    accounts: float
    rank: int | None
    values: dict[str, float | None]
    previous: dict[str, float | None]


class LeagueOut(BaseModel):
    by: str
    period: PeriodOut
    filters: InsightFilterOut
    sort: str
    worst_first: bool
    kpis: list[str]
    rows: list[LeagueRowOut]
    total: LeagueRowOut
    missing_months: list[str]


class TransitionCellOut(BaseModel):
    to_code: str
    accounts: int
    share: float | None = Field(description="Of the row's accounts, 0–1.")


class TransitionRowOut(BaseModel):
    from_code: str
    accounts: int
    cells: list[TransitionCellOut]


class TransitionsOut(BaseModel):
    month: str
    since: str = Field(description="The month whose end the rows describe.")
    kind: str
    built: bool
    codes: list[str]
    accounts: int
    moved: int
    rows: list[TransitionRowOut]


class TargetOut(BaseModel):
    kpi: str
    value: float
    updated_at: Any


class TargetIn(BaseModel):
    value: float = Field(
        description="The target: a level for rates and stocks, per month for flows."
    )


class ReportSummaryOut(BaseModel):
    id: int
    kind: str
    period_start: date
    period_end: date
    as_of: date
    recipients: int


class ReportOut(ReportSummaryOut):
    content: dict[str, Any]


class ForecastWeekOut(BaseModel):
    week_start: date
    expected: Decimal
    low: Decimal
    high: Decimal
    actual: Decimal | None


class ForecastOut(BaseModel):
    currency: str
    made_on: date | None = Field(description="The forecast's day; null when none was made by then.")
    first: date
    last: date
    through: date = Field(description="Payments are counted up to this day.")
    expected: Decimal | None
    actual: Decimal
    weeks: list[ForecastWeekOut]
