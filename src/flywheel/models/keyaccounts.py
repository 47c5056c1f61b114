"""Key accounts: the deals pipeline, account plans with objectives, stakeholder maps, needs and
pain points, negotiations (issues, concessions, meetings), contracts with milestones, and the
tasks these open for account owners."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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


class DealStage(Base):
    """A stage of the pipeline, configurable: its order, its win probability, and whether a
    deal there is closed (won or lost)."""

    __tablename__ = "deal_stages"

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_zh: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    probability: Mapped[int] = mapped_column(SmallInteger)  # per cent, 0–100
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    is_lost: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Deal(Base):
    """A sales opportunity with an account: its stage, value, expected close, lines,
    competitors; a won deal may create the contract and the order."""

    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_stage_owner", "stage_id", "owner_id"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    stage_id: Mapped[int] = mapped_column(BigId, ForeignKey("deal_stages.id"))
    value: Mapped[Decimal] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(Text)
    # [{"product": ..., "quantity": ..., "unit_price": "..."}, …] and ["competitor", …]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    competitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    contract_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contracts.id", ondelete="SET NULL")
    )
    order_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="SET NULL")
    )
    opened_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountPlan(Base):
    """The plan of one key account: revenue target, share of wallet, whitespace, risks and the
    review cadence; its objectives are rows of their own."""

    __tablename__ = "account_plans"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    year: Mapped[int] = mapped_column(Integer)
    revenue_target: Mapped[Decimal | None] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    # The account's estimated total spend in our categories: share of wallet = ours / this.
    estimated_wallet: Mapped[Decimal | None] = mapped_column()
    # [{"item": "product or site", "note": ..., "potential": "amount"}, …]
    whitespace: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"risk": ..., "likelihood": 1–5, "impact": 1–5, "mitigation": ...}, …]
    risks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    review_every_days: Mapped[int] = mapped_column(Integer, default=90)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlanObjective(Base):
    """A measurable objective of an account plan, with its owner, due date and status."""

    __tablename__ = "plan_objectives"

    id: Mapped[IdPk]
    plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("account_plans.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str | None] = mapped_column(String(200))  # how it is measured
    target_value: Mapped[float | None] = mapped_column(Float)
    current_value: Mapped[float | None] = mapped_column(Float)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(
        String(16), default="on_track"
    )  # on_track/at_risk/done/dropped
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Stakeholder(Base):
    """A contact as a stakeholder of the account: influence, attitude, trust and the line he
    reports to; his buying role stays on the contact."""

    __tablename__ = "stakeholders"
    __table_args__ = (
        CheckConstraint("influence BETWEEN 1 AND 5", name="influence_1_5"),
        CheckConstraint("trust BETWEEN 1 AND 5", name="trust_1_5"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    influence: Mapped[int] = mapped_column(SmallInteger, default=3)
    attitude: Mapped[str] = mapped_column(String(12), default="neutral")  # enums.Attitude
    trust: Mapped[int] = mapped_column(SmallInteger, default=3)
    reports_to_contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Need(Base):
    """A need or pain point of the account, where it was heard, how much it matters and the
    offer that addresses it."""

    __tablename__ = "needs"
    __table_args__ = (Index("ix_needs_customer_status", "customer_id", "status"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12), default="need")  # need / pain_point
    # interview, market_research, survey_comment, support_ticket, negotiation
    source: Mapped[str] = mapped_column(String(20))
    # "response:<id>", "touchpoint:<id>", "negotiation:<id>": where it came from, one need each.
    source_ref: Mapped[str | None] = mapped_column(String(40), unique=True)
    priority: Mapped[int] = mapped_column(SmallInteger, default=3)  # 1 (highest) … 5
    status: Mapped[str] = mapped_column(String(16), default="open")  # open/addressed/declined
    offer: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Contract(Base):
    """A signed contract: value, term, renewal date and payment terms; its obligations and
    milestones are rows of their own."""

    __tablename__ = "contracts"
    __table_args__ = (Index("ix_contracts_status_renewal", "status", "renewal_on"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    value: Mapped[Decimal] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    renewal_on: Mapped[date | None] = mapped_column(Date)
    payment_terms: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="active")  # enums.ContractStatus
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ContractMilestone(Base):
    """An obligation or milestone of a contract (deliverable, acceptance, payment linked to an
    invoice, review); done, it may trigger a feedback checkpoint (a survey or a task)."""

    __tablename__ = "contract_milestones"
    __table_args__ = (
        Index("ix_contract_milestones_due", "done_on", "due_on"),
        # The account's next milestones (the 360's key-account panel).
        Index("ix_contract_milestones_customer_due", "customer_id", "due_on"),
    )

    id: Mapped[IdPk]
    contract_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # enums.MilestoneKind
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column()  # a payment milestone
    invoice_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("invoices.id", ondelete="SET NULL")
    )
    # The feedback checkpoint when it is done: "survey" (campaign below), "task" or none.
    checkpoint: Mapped[str | None] = mapped_column(String(8))
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("survey_campaigns.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Negotiation(Base):
    """The workspace of one negotiation (a deal or a renewal): objectives and interests, BATNAs,
    status and outcome with a short post-mortem; issues, concessions and meetings hang off it."""

    __tablename__ = "negotiations"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    deal_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("deals.id", ondelete="SET NULL"))
    contract_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contracts.id", ondelete="SET NULL")
    )  # a renewal
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), default="preparing")  # enums.NegotiationStatus
    our_objectives: Mapped[str | None] = mapped_column(Text)
    their_interests: Mapped[str | None] = mapped_column(Text)
    our_batna: Mapped[str | None] = mapped_column(Text)
    their_batna: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(12))  # enums.NegotiationOutcome
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    post_mortem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class NegotiationIssue(Base):
    """One issue on the table (price, volume, payment terms, …) with our opening, target and
    walk-away positions and our estimate of theirs; the overlap of the walk-aways is the ZOPA."""

    __tablename__ = "negotiation_issues"
    __table_args__ = (
        UniqueConstraint("negotiation_id", "name", name="uq_negotiation_issues_name"),
    )

    id: Mapped[IdPk]
    negotiation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("negotiations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))  # price, volume, payment_terms, … or free
    unit: Mapped[str | None] = mapped_column(String(20))  # "CNY", "days", "units", "%"
    # Whether more is better for us (price) or worse (payment days): orients the ZOPA.
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    our_opening: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    our_target: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    our_walkaway: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    their_opening: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    their_target: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    their_walkaway: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    agreed: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    position: Mapped[int] = mapped_column(Integer, default=0)


class NegotiationMeeting(Base):
    """A meeting of a negotiation: when, who, and the notes."""

    __tablename__ = "negotiation_meetings"

    id: Mapped[IdPk]
    negotiation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("negotiations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Concession(Base):
    """A give-get: what we give for what we get, planned before or logged at a meeting; beyond
    the configured discount or payment-term thresholds it waits for a manager's approval."""

    __tablename__ = "concessions"
    __table_args__ = (Index("ix_concessions_approval", "approval_status"),)

    id: Mapped[IdPk]
    negotiation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("negotiations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("negotiation_meetings.id", ondelete="SET NULL")
    )
    issue_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("negotiation_issues.id", ondelete="SET NULL")
    )
    planned: Mapped[bool] = mapped_column(Boolean, default=False)  # the plan, not yet given
    give: Mapped[str] = mapped_column(Text)
    get: Mapped[str | None] = mapped_column(Text)
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    payment_days: Mapped[int | None] = mapped_column(Integer)  # the terms conceded, in days
    approval_status: Mapped[str] = mapped_column(String(12), default="not_needed")
    approved_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str | None] = mapped_column(Text)
    logged_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountTask(Base):
    """A task for an account owner that key-account work opens: a renewal reminder, a plan
    review, a milestone checkpoint. ``dedupe_key`` keeps a rerun from opening it twice."""

    __tablename__ = "account_tasks"
    __table_args__ = (Index("ix_account_tasks_owner_status", "owner_id", "status"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # renewal, plan_review, milestone_checkpoint
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="open")  # enums.AccountTaskStatus
    created_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column()
    done_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
