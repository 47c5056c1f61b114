"""Accounts, their contacts and the touchpoints we have with them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, BigId, IdPk, utcnow
from flywheel.models.enums import CustomerStatus, Language, Tier


class Customer(Base):
    __tablename__ = "customers"
    # The account list filters by tier (and a sales rep's scope by owner) and pages in code
    # order: these count from the index alone and read a page without sorting the tier. Its
    # region filter and the list of regions read ix_customers_region, not the whole table.
    __table_args__ = (
        Index("ix_customers_tier_code", "tier", "code"),
        Index("ix_customers_owner_tier_code", "owner_id", "tier", "code"),
        Index("ix_customers_region", "region"),
    )

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    tier: Mapped[str] = mapped_column(String(16), default=Tier.STANDARD.value)
    industry: Mapped[str | None] = mapped_column(String(80))
    region: Mapped[str | None] = mapped_column(String(80))
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payment_terms: Mapped[str] = mapped_column(String(20), default="NET30")
    status: Mapped[str] = mapped_column(String(16), default=CustomerStatus.ACTIVE.value)
    referred_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    created_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_customer_email", "customer_id", "email"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(120))
    buying_role: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default=Language.ZH.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Touchpoint(Base):
    __tablename__ = "touchpoints"
    __table_args__ = (
        CheckConstraint(
            "satisfaction IS NULL OR (satisfaction BETWEEN 1 AND 5)", name="satisfaction_1_5"
        ),
        Index("ix_touchpoints_customer_occurred", "customer_id", "occurred_at"),
    )

    id: Mapped[IdPk]
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    summary: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
