"""Keyword-only factories for the loyalty tests: orders and stored loyalty scores."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from flywheel.models.customers import Customer
from flywheel.models.enums import ChurnBasis, HealthBand, OrderStatus, Segment, Trend
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.sales import Order

_seq = itertools.count(1)


def make_order(
    session: Session,
    *,
    customer: Customer,
    on: date,
    amount: str | Decimal = "1000.00",
    status: OrderStatus = OrderStatus.DELIVERED,
) -> Order:
    """An order straight into the table (the loyalty maths reads orders, nothing else)."""
    order = Order(
        number=f"LO{next(_seq):07d}",
        customer_id=customer.id,
        order_date=on,
        amount=Decimal(amount),
        currency=customer.currency,
        status=status.value,
        delivered_on=on if status == OrderStatus.DELIVERED else None,
    )
    session.add(order)
    session.flush()
    return order


def make_loyalty_score(
    session: Session,
    *,
    customer: Customer,
    as_of: date,
    health: int = 70,
    segment: Segment = Segment.LOYAL,
    clv: str | None = "50000.00",
    p_alive: float | None = 0.9,
    churn_risk: float = 0.1,
    **fields: Any,
) -> LoyaltyScore:
    """One stored loyalty row, as the daily cycle would write it; ``fields`` override the rest."""
    band = (
        HealthBand.GREEN if health >= 70 else HealthBand.YELLOW if health >= 40 else HealthBand.RED
    )
    values: dict[str, Any] = {
        "customer_id": customer.id,
        "as_of": as_of,
        "currency": customer.currency,
        "orders": 12,
        "first_order_on": date(as_of.year - 2, 1, 15),
        "last_order_on": as_of,
        "revenue_12m": Decimal("120000.00"),
        "recency_score": 4,
        "frequency_score": 4,
        "monetary_score": 4,
        "segment": segment.value,
        "p_alive": p_alive,
        "expected_purchases_90": 2.5,
        "expected_purchases_365": 10.0,
        "expected_order_value": Decimal("10000.00"),
        "clv": Decimal(clv) if clv is not None else None,
        "health": health,
        "health_band": band.value,
        "health_trend": Trend.FLAT.value,
        "health_factors": [["nps", 9, 10.0], ["purchase_recency", 0.5, 8.0]],
        "churn_risk": churn_risk,
        "churn_basis": ChurnBasis.P_ALIVE.value,
    }
    values.update(fields)
    score = LoyaltyScore(**values)
    session.add(score)
    session.flush()
    return score
