"""What one account's loyalty scores and the health list look like under /api/v1/loyalty and in
``flywheel loyalty health --json``. Money is a string with two decimals in the account's
currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field

from flywheel.kit.shapes import MoneyText, OutputModel
from flywheel.loyalty import health_labels
from flywheel.loyalty.health_queries import HealthRow, HistoryPoint
from flywheel.models.loyalty import LoyaltyScore


class FactorOut(OutputModel):
    factor: str = Field(description="Stable key, e.g. nps, purchase_recency, credit_grade.")
    label: str = Field(description="English; the pages show it in the reader's language.")
    value: float | None = Field(description="The factor's measurement; null: no data (neutral).")
    points: float = Field(description="Its share of the 0–100 health score.")

    @classmethod
    def of(cls, entry: list[Any]) -> FactorOut:
        factor, value, points = entry
        return cls(
            factor=factor,
            label=health_labels.FACTOR_LABELS.get(factor, factor),
            value=None if value is None else float(value),
            points=float(points),
        )


class HistoryOut(OutputModel):
    as_of: date
    health: int
    health_band: str
    churn_risk: float

    @classmethod
    def of(cls, point: HistoryPoint) -> HistoryOut:
        return cls(
            as_of=point.as_of,
            health=point.health,
            health_band=point.band,
            churn_risk=round(point.churn_risk, 4),
        )


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


class ScoresOut(OutputModel):
    """An account's loyalty figures of one stored day."""

    as_of: date = Field(description="The day the loyalty cycle computed these.")
    currency: str
    orders: int
    first_order_on: date | None
    last_order_on: date | None
    revenue_12m: MoneyText
    segment: str
    recency_score: int
    frequency_score: int
    monetary_score: int
    p_alive: float | None
    expected_purchases_90: float | None
    expected_purchases_365: float | None
    expected_order_value: MoneyText | None
    clv: MoneyText | None
    health: int = Field(description="0–100: green from 70, yellow 40–69, red below 40.")
    health_band: str
    health_trend: str = Field(description="up, down or flat against a month earlier.")
    churn_risk: float = Field(description="0–1.")
    churn_basis: str = Field(description="p_alive, renewal, classifier or no_history.")
    value_at_risk: MoneyText | None = Field(description="CLV × churn risk.")

    @classmethod
    def of(cls, s: LoyaltyScore) -> ScoresOut:
        return cls(
            as_of=s.as_of,
            currency=s.currency,
            orders=s.orders,
            first_order_on=s.first_order_on,
            last_order_on=s.last_order_on,
            revenue_12m=s.revenue_12m,
            segment=s.segment,
            recency_score=s.recency_score,
            frequency_score=s.frequency_score,
            monetary_score=s.monetary_score,
            p_alive=_rounded(s.p_alive),
            expected_purchases_90=_rounded(s.expected_purchases_90),
            expected_purchases_365=_rounded(s.expected_purchases_365),
            expected_order_value=s.expected_order_value,
            clv=s.clv,
            health=s.health,
            health_band=s.health_band,
            health_trend=s.health_trend,
            churn_risk=round(s.churn_risk, 4),
            churn_basis=s.churn_basis,
            value_at_risk=None
            if s.clv is None
            else (s.clv * Decimal(repr(float(s.churn_risk)))).quantize(Decimal("0.01")),
        )


class CustomerLoyaltyOut(OutputModel):
    customer_id: int
    code: str
    name: str
    scores: ScoresOut
    factors: list[FactorOut]
    history: list[HistoryOut] = Field(description="The stored days of the last 90, oldest first.")


class HealthItemOut(OutputModel):
    customer_id: int
    code: str
    name: str
    owner: str | None
    tier: str
    currency: str
    segment: str
    health: int
    health_band: str
    health_trend: str
    churn_risk: float
    churn_basis: str
    p_alive: float | None
    clv: MoneyText | None
    value_at_risk: MoneyText | None

    @classmethod
    def of(cls, row: HealthRow) -> HealthItemOut:
        s = row.score
        return cls(
            customer_id=row.customer_id,
            code=row.code,
            name=row.name,
            owner=row.owner,
            tier=row.tier,
            currency=s.currency,
            segment=s.segment,
            health=s.health,
            health_band=s.health_band,
            health_trend=s.health_trend,
            churn_risk=round(s.churn_risk, 4),
            churn_basis=s.churn_basis,
            p_alive=_rounded(s.p_alive),
            clv=s.clv,
            value_at_risk=row.value_at_risk,
        )


class HealthPageOut(OutputModel):
    as_of: date | None = Field(description="The stored day listed; null: never scored.")
    items: list[HealthItemOut]
    total: int
    page: int
    page_size: int
