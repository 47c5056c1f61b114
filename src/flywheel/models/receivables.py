"""Invoices and their installments, payments, credit notes and the allocations between them.

Each installment keeps running totals (paid, credited, written off) that the receivables
service updates in the same flush as the allocation rows; ``receivables.consistency`` checks
that the totals always equal the sums of the rows.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flywheel.models.base import Base, BigId, IdPk, utcnow
from flywheel.models.enums import InvoiceStatus, PaymentStatus

ZERO = Decimal("0.00")
# The stored statuses of an installment with money still to collect. A query that means to use
# the partial index below filters with exactly this IN list (same values, same order).
OPEN_INSTALLMENT_STATUSES = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value)
OPEN_INSTALLMENT_SQL = "status IN ('open', 'partially_paid')"


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_invoices_customer_issue", "customer_id", "issue_date"),
    )

    id: Mapped[IdPk]
    number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    payment_terms: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    paid_amount: Mapped[Decimal] = mapped_column(default=ZERO)
    credited_amount: Mapped[Decimal] = mapped_column(default=ZERO)
    written_off_amount: Mapped[Decimal] = mapped_column(default=ZERO)
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    installments: Mapped[list[Installment]] = relationship(
        back_populates="invoice", order_by="Installment.sequence", cascade="all, delete-orphan"
    )

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid_amount - self.credited_amount - self.written_off_amount


class Installment(Base):
    __tablename__ = "installments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "paid_amount + credited_amount + written_off_amount <= amount", name="not_over_settled"
        ),
        Index("ix_installments_customer_due", "customer_id", "due_date"),
        Index("ix_installments_invoice_sequence", "invoice_id", "sequence", unique=True),
        # A past day's aging and the KPIs read what was settled or applied after that day.
        Index("ix_installments_settled_on", "settled_on"),
        # Nine installments in ten are settled; what is still open (balances, the 360's open
        # items, aging as of today) is read through this much smaller index.
        Index(
            "ix_installments_open_customer_due",
            "customer_id",
            "due_date",
            sqlite_where=text(OPEN_INSTALLMENT_SQL),
            postgresql_where=text(OPEN_INSTALLMENT_SQL),
        ),
    )

    id: Mapped[IdPk]
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoices.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    paid_amount: Mapped[Decimal] = mapped_column(default=ZERO)
    credited_amount: Mapped[Decimal] = mapped_column(default=ZERO)
    written_off_amount: Mapped[Decimal] = mapped_column(default=ZERO)
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.OPEN.value)
    settled_on: Mapped[date | None] = mapped_column(Date)

    invoice: Mapped[Invoice] = relationship(back_populates="installments")

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid_amount - self.credited_amount - self.written_off_amount


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("allocated_amount <= amount", name="not_over_allocated"),
        Index("ix_payments_customer_received", "customer_id", "received_on"),
        # Payments received in a period (the dashboard's cash collected, its forecast check).
        Index("ix_payments_received_on", "received_on"),
    )

    id: Mapped[IdPk]
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    invoice_reference: Mapped[str | None] = mapped_column(String(64))
    allocated_amount: Mapped[Decimal] = mapped_column(default=ZERO)
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.UNALLOCATED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def unallocated_amount(self) -> Decimal:
        return self.amount - self.allocated_amount


class CreditNote(Base):
    __tablename__ = "credit_notes"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[IdPk]
    number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoices.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Allocation(Base):
    """Money from a payment or a credit note applied to one installment."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_source"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payments.id"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("credit_notes.id"), index=True
    )
    installment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("installments.id", ondelete="CASCADE"), index=True
    )
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal]
    applied_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def still_open() -> ColumnElement[bool]:
    """``installments.status IN ('open', 'partially_paid')`` with the values written out, not
    bound: PostgreSQL uses a partial index only when it can prove the query's condition implies
    the index's, which it cannot do for a prepared statement's parameters."""
    return Installment.status.in_(
        [literal_column(f"'{status}'") for status in OPEN_INSTALLMENT_STATUSES]
    )
