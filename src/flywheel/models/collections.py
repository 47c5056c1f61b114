"""Collections: strategies and their steps, the actions the daily cycle creates, the outbox,
promises to pay, disputes, payment arrangements (plans and extensions), statements and the
editable message templates."""

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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flywheel.models.base import Base, BigId, IdPk, utcnow


class CollectionStrategy(Base):
    """The dunning steps for one credit grade (and optionally one tier; a tier-specific strategy
    wins over the grade's general one)."""

    __tablename__ = "collection_strategies"
    __table_args__ = (
        UniqueConstraint("grade", "tier", name="uq_collection_strategies_grade_tier"),
    )

    id: Mapped[IdPk]
    grade: Mapped[str] = mapped_column(String(2))
    tier: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    steps: Mapped[list[CollectionStep]] = relationship(
        back_populates="strategy",
        order_by="CollectionStep.day_offset",
        cascade="all, delete-orphan",
    )


class CollectionStep(Base):
    """One step of a strategy: on ``day_offset`` days from the due date (negative = before),
    act through ``channel`` with the message ``template``."""

    __tablename__ = "collection_steps"
    __table_args__ = (
        UniqueConstraint("strategy_id", "day_offset", "channel", name="uq_collection_steps_day"),
    )

    id: Mapped[IdPk]
    strategy_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("collection_strategies.id", ondelete="CASCADE"), index=True
    )
    day_offset: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # enums.CollectionChannel
    template: Mapped[str | None] = mapped_column(String(64))  # a template key
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    # escalation: "owner" or "manager"; webhook: the robot URL (else the configured default)
    target: Mapped[str | None] = mapped_column(String(500))

    strategy: Mapped[CollectionStrategy] = relationship(back_populates="steps")


class CollectionAction(Base):
    """Something the collections side did or has to do for one customer on one day: a message
    (email, webhook, letter), a task (call, escalation, legal) or a credit hold. One action per
    customer, channel and day lists all the items it is about (``collection_action_items``)."""

    __tablename__ = "collection_actions"
    __table_args__ = (
        Index("ix_collection_actions_status_due", "status", "due_on"),
        Index("ix_collection_actions_customer_created", "customer_id", "created_at"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)  # the business day it is for
    kind: Mapped[str] = mapped_column(String(24))  # enums.ActionKind
    channel: Mapped[str] = mapped_column(String(16))  # enums.CollectionChannel
    status: Mapped[str] = mapped_column(String(16))  # enums.ActionStatus
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    # "reminder:<customer>:<channel>:<day>" and the like; the same key never makes two actions.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    grade: Mapped[str | None] = mapped_column(String(2))
    step_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("collection_steps.id", ondelete="SET NULL")
    )
    template: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(5))
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount: Mapped[Decimal | None] = mapped_column()  # the items' open total
    overdue_amount: Mapped[Decimal | None] = mapped_column()
    currency: Mapped[str | None] = mapped_column(String(3))
    max_days_overdue: Mapped[int | None] = mapped_column(Integer)
    # amount × probability of paying late × urgency, on the day it was created: the worklist's
    # order (see collections.worklist).
    expected_value: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(16))  # enums.CallOutcome for tasks
    note: Mapped[str | None] = mapped_column(Text)
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the outbox's last result
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    items: Mapped[list[CollectionActionItem]] = relationship(
        back_populates="action", cascade="all, delete-orphan"
    )


class CollectionActionItem(Base):
    """An installment an action is about, and which strategy step it fired for it. Each step
    fires at most once per installment and due date: an extension or a plan that moves the due
    date starts the steps afresh."""

    __tablename__ = "collection_action_items"
    __table_args__ = (
        Index(
            "ix_collection_action_items_step_fired",
            "installment_id",
            "step_id",
            "due_on",
            unique=True,
            sqlite_where=text("step_id IS NOT NULL"),
            postgresql_where=text("step_id IS NOT NULL"),
        ),
    )

    id: Mapped[IdPk]
    action_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("collection_actions.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    installment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("installments.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("collection_steps.id", ondelete="SET NULL")
    )
    due_on: Mapped[date] = mapped_column(Date)  # the installment's due date at the time
    day_offset: Mapped[int] = mapped_column(Integer)  # days past due on the action's day
    open_amount: Mapped[Decimal] = mapped_column()

    action: Mapped[CollectionAction] = relationship(back_populates="items")


class OutboxMessage(Base):
    """A message to send after commit: written in the same transaction as its action, sent by
    ``flywheel worker``, never twice for one ``dedupe_key``."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[IdPk]
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    action_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("collection_actions.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))  # "email" or "webhook"
    recipient: Mapped[str] = mapped_column(String(500))  # an address or a URL
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # plain text; for a webhook, the JSON to POST
    body_html: Mapped[str | None] = mapped_column(Text)
    # A document the worker renders and attaches when it sends, e.g.
    # {"kind": "insight_report", "id": 3, "language": "zh"}.
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(12))  # enums.OutboxStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerLease(Base):
    """Who holds a named job lock until when (the single SQLite sender, the daily cycle)."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column()
    last_cycle_on: Mapped[date | None] = mapped_column(Date)


class PromiseToPay(Base):
    __tablename__ = "promises_to_pay"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_promises_to_pay_status_promised", "status", "promised_on"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    promised_on: Mapped[date] = mapped_column(Date)  # the day the customer will pay by
    made_on: Mapped[date] = mapped_column(Date)  # the day the promise was given
    grace_days: Mapped[int] = mapped_column(Integer, default=3)
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"))
    channel: Mapped[str | None] = mapped_column(String(16))  # call, email, visit, chat …
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # enums.PromiseStatus
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    resolved_on: Mapped[date | None] = mapped_column(Date)
    action_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("collection_actions.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[PromiseItem]] = relationship(cascade="all, delete-orphan")


class PromiseItem(Base):
    """An installment a promise covers (its dunning pauses while the promise is pending)."""

    __tablename__ = "promise_items"
    __table_args__ = (UniqueConstraint("promise_id", "installment_id"),)

    id: Mapped[IdPk]
    promise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("promises_to_pay.id", ondelete="CASCADE")
    )
    installment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("installments.id", ondelete="CASCADE"), index=True
    )


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_disputes_status_sla", "status", "sla_due_on"),
        # One account's open disputes by SLA (the 360's collections panel).
        Index("ix_disputes_customer_status_sla", "customer_id", "status", "sla_due_on"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoices.id"), index=True)
    installment_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("installments.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(24))  # enums.DisputeReason
    amount: Mapped[Decimal] = mapped_column()  # the disputed part; the rest stays in dunning
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # enums.DisputeStatus
    opened_on: Mapped[date] = mapped_column(Date)
    sla_due_on: Mapped[date] = mapped_column(Date)
    escalated_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="collector")  # or "statement", "api"
    resolution: Mapped[str | None] = mapped_column(String(16))  # enums.DisputeResolution
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    credit_note_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("credit_notes.id"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentArrangement(Base):
    """An installment plan (open items restructured into N installments) or an extension (one
    installment's due date moved). Approved, it changes the schedule; ``items`` keep the
    original one."""

    __tablename__ = "payment_arrangements"
    __table_args__ = (Index("ix_payment_arrangements_status_customer", "status", "customer_id"),)

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # enums.ArrangementKind
    status: Mapped[str] = mapped_column(String(12))  # enums.ArrangementStatus
    reason: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column()  # the open amount it covers
    currency: Mapped[str] = mapped_column(String(3))
    installments: Mapped[int] = mapped_column(Integer, default=1)
    first_due_on: Mapped[date] = mapped_column(Date)
    frequency_days: Mapped[int | None] = mapped_column(Integer)  # plans: 7, 14, 30 …
    annual_interest_rate: Mapped[float | None] = mapped_column(Float)  # 0.06 = 6 % a year
    interest_amount: Mapped[Decimal | None] = mapped_column()
    interest_invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("invoices.id"))
    # [{"due_on": "2026-01-31", "amount": "1000.00"}, …] as proposed
    schedule: Mapped[list[Any]] = mapped_column(JSON)
    requested_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str | None] = mapped_column(Text)
    customer_confirmed_on: Mapped[date | None] = mapped_column(Date)
    customer_confirmation: Mapped[str | None] = mapped_column(Text)  # who, how
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[ArrangementItem]] = relationship(
        back_populates="arrangement", cascade="all, delete-orphan"
    )


class ArrangementItem(Base):
    """An installment under an arrangement with its schedule before it: the history of the
    original due date and amount."""

    __tablename__ = "arrangement_items"

    id: Mapped[IdPk]
    arrangement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payment_arrangements.id", ondelete="CASCADE"), index=True
    )
    installment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("installments.id", ondelete="CASCADE"), index=True
    )
    original_due_on: Mapped[date] = mapped_column(Date)
    original_amount: Mapped[Decimal] = mapped_column()
    open_amount: Mapped[Decimal] = mapped_column()  # open when the arrangement was made
    new_due_on: Mapped[date | None] = mapped_column(Date)  # filled on approval
    created: Mapped[bool] = mapped_column(Boolean, default=False)  # a new installment

    arrangement: Mapped[PaymentArrangement] = relationship(back_populates="items")


class Statement(Base):
    """A customer statement (对账单) as sent: its open items are kept as they were, so the
    customer's answer refers to what he saw."""

    __tablename__ = "statements"

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    as_of: Mapped[date] = mapped_column(Date)
    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id"))
    language: Mapped[str] = mapped_column(String(5))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column()
    overdue: Mapped[Decimal] = mapped_column()
    # [{"installment_id", "invoice", "sequence", "issue_date", "due_date", "amount", "open",
    #   "days_overdue"}, …]
    lines: Mapped[list[Any]] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # enums.StatementStatus
    answered_at: Mapped[datetime | None] = mapped_column()
    answer_note: Mapped[str | None] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("collection_actions.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageTemplate(Base):
    """A user's edit of a message or letter template; without a row the shipped default is
    used."""

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("key", "language", name="uq_message_templates_key_language"),
    )

    id: Mapped[IdPk]
    key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CreditHoldPlacement(Base):
    """A customer put on credit hold by collections (a strategy step or a person): new orders
    and invoices fail the credit check until it is released."""

    __tablename__ = "credit_holds"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    placed_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("collection_actions.id", ondelete="SET NULL")
    )
    placed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
