"""What the loyalty dashboard's answers look like under /api/v1/loyalty and in ``flywheel
loyalty segments|retention --json``: segments, cohorts, NRR/GRR, the CLV distribution and the
accounts at risk. Money is a string with two decimals, in ``currency``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from flywheel.kit.shapes import MoneyText, OutputModel
from flywheel.loyalty import dashboard, retention
from flywheel.loyalty.segments import SEGMENT_DESCRIPTIONS, SEGMENT_LABELS


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class SegmentBy(StrEnum):
    OWNER = "owner"
    REGION = "region"
    TIER = "tier"


class FilterOut(OutputModel):
    """The filters the figures are of (the actor's scope applies on top)."""

    owner: str | None
    region: str | None
    tier: str | None
    currency: str

    @classmethod
    def of(cls, flt: retention.LoyaltyFilter) -> FilterOut:
        return cls(owner=flt.owner, region=flt.region, tier=flt.tier, currency=flt.money_currency)


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


class SegmentOut(OutputModel):
    segment: str
    label: str = Field(description="English; the pages show it in the reader's language.")
    description: str
    accounts: int
    share: float | None = Field(description="Of the accounts counted, 0–1.")
    revenue_12m: MoneyText
    clv: MoneyText
    mean_churn_risk: float | None

    @classmethod
    def of(cls, f: dashboard.SegmentFigures) -> SegmentOut:
        return cls(
            segment=f.segment,
            label=SEGMENT_LABELS.get(f.segment, f.segment),
            description=SEGMENT_DESCRIPTIONS.get(f.segment, ""),
            accounts=f.accounts,
            share=_r(f.share),
            revenue_12m=f.revenue_12m,
            clv=f.clv,
            mean_churn_risk=_r(f.churn_risk),
        )


class SegmentGroupOut(OutputModel):
    """One owner's, region's or tier's segments."""

    key: str = Field(description='The username, region or tier ("" for none).')
    label: str
    accounts: int
    segments: list[SegmentOut]


class SegmentsOut(OutputModel):
    as_of: date
    scores_day: date | None = Field(
        description="The day of the scores shown: the last cycle run on or before as_of "
        "(null: the cycle has not run yet, run `flywheel run`)."
    )
    filters: FilterOut
    accounts: int
    segments: list[SegmentOut]
    by: SegmentBy | None = None
    groups: list[SegmentGroupOut] = []
    definitions: dict[str, str]


class RepeatOut(OutputModel):
    accounts: int
    buyers: int
    repeat_buyers: int
    rate: float | None = Field(description="repeat_buyers ÷ buyers")

    @classmethod
    def of(cls, f: retention.RepeatFigures) -> RepeatOut:
        return cls(
            accounts=f.accounts, buyers=f.buyers, repeat_buyers=f.repeat_buyers, rate=_r(f.rate)
        )


class CohortOut(OutputModel):
    month: str = Field(description="The first-purchase month, YYYY-MM.")
    size: int
    customers: list[int | None] = Field(description="Per month k from 0; null: not yet observed.")
    revenue: list[MoneyText | None]
    customer_retention: list[float | None]
    revenue_retention: list[float | None] = Field(description="Revenue of month k ÷ month 0.")

    @classmethod
    def of(cls, row: retention.CohortRow) -> CohortOut:
        return cls(
            month=row.month,
            size=row.size,
            customers=row.customers,
            revenue=row.revenue,
            customer_retention=[_r(v) for v in row.customer_retention],
            revenue_retention=[_r(v) for v in row.revenue_retention],
        )


class CohortsOut(OutputModel):
    as_of: date
    filters: FilterOut
    repeat_purchase: RepeatOut
    cohorts: list[CohortOut]
    definitions: dict[str, str]


class PeriodOut(OutputModel):
    period: str = Field(description="YYYY-MM, YYYY-Qn or YYYY.")
    start: date
    end: date
    start_customers: int = Field(description="Accounts that bought in the period before.")
    retained_customers: int
    start_revenue: MoneyText
    expansion: MoneyText
    contraction: MoneyText
    churn: MoneyText
    end_revenue: MoneyText
    new_revenue: MoneyText = Field(description="Accounts outside the cohort; in neither ratio.")
    nrr: float | None
    grr: float | None

    @classmethod
    def of(cls, p: retention.PeriodFigures) -> PeriodOut:
        return cls(
            period=p.period,
            start=p.start,
            end=p.end,
            start_customers=p.start_customers,
            retained_customers=p.retained_customers,
            start_revenue=p.start_revenue,
            expansion=p.expansion,
            contraction=p.contraction,
            churn=p.churn,
            end_revenue=p.end_revenue,
            new_revenue=p.new_revenue,
            nrr=_r(p.nrr),
            grr=_r(p.grr),
        )


class RetentionOut(OutputModel):
    as_of: date
    period: PeriodKind
    filters: FilterOut
    periods: list[PeriodOut]
    definitions: dict[str, str]


class ClvDistributionOut(OutputModel):
    as_of: date
    scores_day: date | None
    filters: FilterOut
    edges: list[MoneyText] = Field(
        description="Bin i: edges[i] ≤ CLV < edges[i + 1]; the last bin is open-ended."
    )
    counts: list[int]
    accounts: int
    without_clv: int
    total: MoneyText
    mean: MoneyText | None
    median: MoneyText | None
    p90: MoneyText | None

    @classmethod
    def of(
        cls,
        as_of: date,
        day: date | None,
        flt: retention.LoyaltyFilter,
        d: dashboard.ClvDistribution | None,
    ) -> ClvDistributionOut:
        if d is None:
            d = dashboard.ClvDistribution([], [], 0, 0, Decimal("0.00"), None, None, None)
        return cls(
            as_of=as_of,
            scores_day=day,
            filters=FilterOut.of(flt),
            edges=d.edges,
            counts=d.counts,
            accounts=d.accounts,
            without_clv=d.without_clv,
            total=d.total,
            mean=d.mean,
            median=d.median,
            p90=d.p90,
        )


class AtRiskOut(OutputModel):
    customer_id: int
    code: str
    name: str
    owner: str | None
    owner_name: str | None
    segment: str
    health: int
    health_band: str
    health_trend: str
    p_alive: float | None
    churn_risk: float
    clv: MoneyText
    value_at_risk: MoneyText = Field(description="clv × churn_risk")
    last_order_on: date | None

    @classmethod
    def of(cls, a: dashboard.AtRiskAccount) -> AtRiskOut:
        return cls(
            customer_id=a.customer_id,
            code=a.code,
            name=a.name,
            owner=a.owner,
            owner_name=a.owner_name,
            segment=a.segment,
            health=a.health,
            health_band=a.health_band,
            health_trend=a.health_trend,
            p_alive=_r(a.p_alive),
            churn_risk=round(a.churn_risk, 4),
            clv=a.clv,
            value_at_risk=a.value_at_risk,
            last_order_on=a.last_order_on,
        )


class AtRiskPageOut(OutputModel):
    as_of: date
    scores_day: date | None
    filters: FilterOut
    min_churn_risk: float
    total: int
    value_at_risk: MoneyText = Field(description="Of every account in the list.")
    page: int
    page_size: int
    items: list[AtRiskOut]


SEGMENT_DEFINITIONS: dict[str, str] = {
    "recency": "days from the last purchase day to as_of",
    "frequency": "purchase days in the last 24 months",
    "monetary": "revenue of the last 12 months, ranked within the currency",
    "scores": "quintiles 1-5 among accounts that bought, by mid-rank: ceil(5 x (below + tied/2) / n); 0: never bought",
    "segment": "R against FM = ceil((F + M) / 2); see analytics.rfm",
}
COHORT_DEFINITIONS: dict[str, str] = {
    "repeat_purchase_rate": "buyers with at least two purchase days / buyers",
    "cohort": "accounts by the month of their first purchase (month 0)",
    "customer_retention": "share of the cohort buying in month k",
    "revenue_retention": "the cohort's revenue in month k / its revenue in month 0",
}
RETENTION_DEFINITIONS: dict[str, str] = {
    "cohort": "accounts with revenue in the period before",
    "start": "their revenue in the period before",
    "expansion": "sum of increases of those buying more",
    "contraction": "sum of decreases of those buying less, but something",
    "churn": "revenue in the period before of those buying nothing",
    "nrr": retention.NRR_FORMULA,
    "grr": retention.GRR_FORMULA,
    "periods": "whole calendar periods that ended on or before as_of",
}
