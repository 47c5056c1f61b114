"""Credit: dated score snapshots with their factor points, credit limits and limit reviews."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, BigId, IdPk, utcnow


class CreditScore(Base):
    """One customer's credit score on one day. ``flywheel run`` writes a row per customer per
    ``as_of`` (running it again for the same day replaces that day's rows); the history of a
    customer's rows is its score trend."""

    __tablename__ = "credit_scores"
    __table_args__ = (
        UniqueConstraint("customer_id", "as_of", name="uq_credit_scores_customer_day"),
        Index("ix_credit_scores_as_of_grade", "as_of", "grade"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(2))
    model: Mapped[str] = mapped_column(String(16))  # "expert" or "trained"
    # [[factor, value or null, points], …], largest effect first.
    factors: Mapped[list[Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CreditLimit(Base):
    """The approved credit limit of a customer, in its currency. Changed only by approving a
    review (``credit.limit_changed`` on the audit trail)."""

    __tablename__ = "credit_limits"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    amount: Mapped[Decimal] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    approved_on: Mapped[date] = mapped_column(Date)
    approved_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CreditLimitReview(Base):
    """A recommended limit waiting for finance: the daily cycle proposes, a person decides."""

    __tablename__ = "credit_limit_reviews"
    __table_args__ = (Index("ix_credit_limit_reviews_status_customer", "status", "customer_id"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    proposed_on: Mapped[date] = mapped_column(Date)
    grade: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    current_limit: Mapped[Decimal | None] = mapped_column()
    recommended_limit: Mapped[Decimal] = mapped_column()
    monthly_invoiced: Mapped[Decimal] = mapped_column()
    terms_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    approved_limit: Mapped[Decimal | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentPrediction(Base):
    """When each open installment is expected to be paid, as predicted by the latest daily
    cycle (replaced on every run; the cash forecast keeps the history that matters)."""

    __tablename__ = "payment_predictions"

    installment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("installments.id", ondelete="CASCADE"), primary_key=True
    )
    # The installment's customer, kept here for the per-customer reads. No foreign key of its
    # own: the installment's covers it (a customer's installments go with it), and a second
    # check per row cost the daily cycle's rewrite of every prediction a third of its time.
    customer_id: Mapped[int] = mapped_column(BigId, index=True)
    as_of: Mapped[date] = mapped_column(Date)
    predicted_on: Mapped[date] = mapped_column(Date)
    days_late: Mapped[int] = mapped_column(Integer)
    p_late: Mapped[float] = mapped_column(Float)  # paid after the due date
    p_very_late: Mapped[float] = mapped_column(Float)  # paid more than 30 days after it


class CashForecast(Base):
    """Expected receipts in one currency of one week as forecast on ``as_of``, with a band; the actual
    receipts are read from the payments once the week has passed."""

    __tablename__ = "cash_forecasts"
    __table_args__ = (
        UniqueConstraint("as_of", "currency", "week_start", name="uq_cash_forecasts_day_week"),
    )

    id: Mapped[IdPk]
    as_of: Mapped[date] = mapped_column(Date, index=True)
    # One forecast per currency: amounts in different currencies are never added up.
    currency: Mapped[str] = mapped_column(String(3), server_default="CNY")
    week_start: Mapped[date] = mapped_column(Date)
    expected: Mapped[Decimal] = mapped_column()
    low: Mapped[Decimal] = mapped_column()
    high: Mapped[Decimal] = mapped_column()
