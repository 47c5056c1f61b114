"""Loyalty: dated per-customer loyalty scores, fitted models, referrals with their rewards, and
next-best-action rules with the actions they opened."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, BigId, IdPk, utcnow


class LoyaltyScore(Base):
    """One customer's loyalty figures on one day. ``flywheel run`` writes a row per customer per
    ``as_of`` (running it again for the same day replaces that day's rows); a customer's rows
    are its health history and trend. Money is in the customer's currency."""

    __tablename__ = "loyalty_scores"
    __table_args__ = (
        UniqueConstraint("customer_id", "as_of", name="uq_loyalty_scores_customer_day"),
        Index("ix_loyalty_scores_as_of_segment", "as_of", "segment"),
        Index("ix_loyalty_scores_as_of_health", "as_of", "health"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    orders: Mapped[int] = mapped_column(Integer)  # orders up to as_of (cancelled ones left out)
    first_order_on: Mapped[date | None] = mapped_column(Date)
    last_order_on: Mapped[date | None] = mapped_column(Date)
    revenue_12m: Mapped[Decimal] = mapped_column()
    # RFM quintile scores 1–5 (0: no purchase yet) and the named segment (enums.Segment).
    recency_score: Mapped[int] = mapped_column(SmallInteger)
    frequency_score: Mapped[int] = mapped_column(SmallInteger)
    monetary_score: Mapped[int] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(20))
    # The CLV model's view (None where the customer has no purchase to fit on).
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases_90: Mapped[float | None] = mapped_column(Float)
    expected_purchases_365: Mapped[float | None] = mapped_column(Float)
    expected_order_value: Mapped[Decimal | None] = mapped_column()
    clv: Mapped[Decimal | None] = mapped_column()
    # Health 0–100, its band (enums.HealthBand), the trend against a month earlier
    # (enums.Trend) and its explanation: [[factor, value or null, points], …].
    health: Mapped[int] = mapped_column(SmallInteger)
    health_band: Mapped[str] = mapped_column(String(8))
    health_trend: Mapped[str] = mapped_column(String(5))
    health_factors: Mapped[list[Any]] = mapped_column(JSON)
    churn_risk: Mapped[float] = mapped_column(Float)
    churn_basis: Mapped[str] = mapped_column(String(12))  # enums.ChurnBasis
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoyaltyModelFit(Base):
    """A model the loyalty cycle fitted: the purchase (BG/NBD or Pareto/NBD) and spend
    (Gamma-Gamma) models of a day, or a churn classifier with its out-of-time check."""

    __tablename__ = "loyalty_model_fits"
    __table_args__ = (Index("ix_loyalty_model_fits_kind_as_of", "kind", "as_of"),)

    id: Mapped[IdPk]
    kind: Mapped[str] = mapped_column(String(16))  # "purchase", "spend" or "churn"
    model: Mapped[str] = mapped_column(String(16))  # "bgnbd", "pareto", "gamma_gamma", "logistic"
    as_of: Mapped[date] = mapped_column(Date)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    log_likelihood: Mapped[float | None] = mapped_column(Float)
    n_customers: Mapped[int] = mapped_column(Integer)
    # Calibration/holdout chart, AUCs of model and rule, and anything else worth showing.
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    adopted: Mapped[bool] = mapped_column(Boolean, default=True)
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralRewardRule(Base):
    """What a referrer earns when a referral is won: a credit note of a fixed amount, or a
    percentage off its next order."""

    __tablename__ = "referral_reward_rules"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # enums.RewardKind
    amount: Mapped[Decimal | None] = mapped_column()  # credit note
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # discount
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # The referred customer's first orders must reach this much before the reward is earned.
    min_first_order: Mapped[Decimal | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Referral(Base):
    """Who referred whom: a customer (through one of its contacts, if known) brought a lead,
    which goes from lead to won or lost; a won referral earns its referrer a reward."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_status_referred_on", "status", "referred_on"),)

    id: Mapped[IdPk]
    # The referrer: every business table carries the customer it belongs to.
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    referrer_contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    # The account the lead became (or already is); one referrer per referred account.
    referred_customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), unique=True
    )
    lead_company: Mapped[str | None] = mapped_column(String(200))
    lead_contact: Mapped[str | None] = mapped_column(String(120))
    lead_email: Mapped[str | None] = mapped_column(String(254))
    lead_phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))  # enums.ReferralStatus
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual/survey/import/demo
    referred_on: Mapped[date] = mapped_column(Date)
    won_on: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    reward_rule_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("referral_reward_rules.id", ondelete="SET NULL")
    )
    reward_status: Mapped[str] = mapped_column(String(12), default="none")  # enums.RewardStatus
    reward_amount: Mapped[Decimal | None] = mapped_column()
    reward_currency: Mapped[str | None] = mapped_column(String(3))
    reward_credit_note_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("credit_notes.id", ondelete="SET NULL")
    )
    reward_granted_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NextActionRule(Base):
    """A next-best-action rule, kept as data so a manager edits it: when every condition holds
    for an account, open an action of ``action`` kind for its owner, at most once per cooldown.

    ``conditions`` is a list of ``{"field": ..., "op": ..., "value": ...}`` over the fields of
    the account's loyalty scores (see ``loyalty.next_actions.FIELDS``)."""

    __tablename__ = "next_action_rules"

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # enums.NextActionKind
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The ranking: priority × the account's value at stake (see the service).
    priority: Mapped[int] = mapped_column(Integer, default=50)
    cooldown_days: Mapped[int] = mapped_column(Integer, default=90)
    due_days: Mapped[int] = mapped_column(Integer, default=7)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class NextAction(Base):
    """One next best action opened for an account owner by a rule, with the reason; a task
    until it is done, dismissed or expired."""

    __tablename__ = "next_actions"
    __table_args__ = (
        Index("ix_next_actions_owner_status", "owner_id", "status"),
        Index("ix_next_actions_customer_rule", "customer_id", "rule_id", "created_on"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("next_action_rules.id", ondelete="CASCADE")
    )
    # "nba:<rule id>:<customer id>:<created on>": the cycle never opens the same one twice.
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    action: Mapped[str] = mapped_column(String(20))  # enums.NextActionKind
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    score: Mapped[float] = mapped_column(Float)  # the rank: higher first
    # [[field, value], …]: the conditions that held, with the account's values.
    reason: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # enums.NextActionStatus
    created_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    outcome_note: Mapped[str | None] = mapped_column(Text)
