"""Credit: the dated score snapshots of every customer, each with its factor contributions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
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
