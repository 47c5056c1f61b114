"""Ground truth of the demo company: the latent traits that drove its synthetic history."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, BigId


class DemoCustomerTraits(Base):
    __tablename__ = "demo_customer_traits"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    seed: Mapped[int] = mapped_column(Integer)
    payment_discipline: Mapped[float] = mapped_column(Float)
    satisfaction_propensity: Mapped[float] = mapped_column(Float)
    churn_hazard: Mapped[float] = mapped_column(Float)
    growth: Mapped[float] = mapped_column(Float)
    referral_propensity: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(5))
    churned_on_month: Mapped[int | None] = mapped_column(Integer)
