"""Queries of the receivables ledger. Row locks are taken here (a no-op on SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from flywheel.models.receivables import Allocation, CreditNote, Installment, Invoice, Payment

SETTLEABLE = ("open", "partially_paid")


def get_invoice(session: Session, invoice_id: int, *, for_update: bool = False) -> Invoice | None:
    stmt = (
        select(Invoice).where(Invoice.id == invoice_id).options(selectinload(Invoice.installments))
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def get_invoice_by_number(
    session: Session, number: str, *, for_update: bool = False
) -> Invoice | None:
    stmt = (
        select(Invoice).where(Invoice.number == number).options(selectinload(Invoice.installments))
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def get_payment(session: Session, payment_id: int, *, for_update: bool = False) -> Payment | None:
    stmt = select(Payment).where(Payment.id == payment_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def get_payment_by_reference(
    session: Session, reference: str, *, for_update: bool = False
) -> Payment | None:
    stmt = select(Payment).where(Payment.reference == reference)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def get_credit_note_by_number(session: Session, number: str) -> CreditNote | None:
    return session.scalars(select(CreditNote).where(CreditNote.number == number)).one_or_none()


def open_installments(
    session: Session, customer_id: int, currency: str, *, for_update: bool = True
) -> Sequence[Installment]:
    """Every installment of the customer that can still take money, with its invoice."""
    stmt = (
        select(Installment)
        .join(Invoice, Installment.invoice_id == Invoice.id)
        .where(
            Installment.customer_id == customer_id,
            Installment.status.in_(SETTLEABLE),
            Invoice.status.in_(SETTLEABLE),
            Invoice.currency == currency,
        )
        .order_by(Installment.due_date, Installment.id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=Installment)
    installments = session.scalars(stmt).all()
    invoice_ids = {i.invoice_id for i in installments}
    if invoice_ids:
        # Load each invoice with all its installments: refresh_invoice() sums over them.
        session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(invoice_ids))
            .options(selectinload(Invoice.installments))
        ).all()
    return installments


def allocations_of_payment(session: Session, payment_id: int) -> Sequence[Allocation]:
    return session.scalars(
        select(Allocation).where(Allocation.payment_id == payment_id).order_by(Allocation.id.desc())
    ).all()


def allocations_of_invoice(session: Session, invoice_id: int) -> Sequence[Allocation]:
    return session.scalars(
        select(Allocation).where(Allocation.invoice_id == invoice_id).order_by(Allocation.id)
    ).all()


def get_installment(session: Session, installment_id: int) -> Installment | None:
    return session.get(Installment, installment_id)


def unallocated_payments(session: Session, customer_id: int) -> Sequence[Payment]:
    """Payments of the customer with money left to apply, in every currency."""
    return session.scalars(
        select(Payment)
        .where(Payment.customer_id == customer_id, Payment.status != "allocated")
        .order_by(Payment.received_on, Payment.id)
    ).all()


def open_installments_due_before(
    session: Session, customer_id: int, as_of: date
) -> Sequence[Installment]:
    return session.scalars(
        select(Installment)
        .where(
            Installment.customer_id == customer_id,
            Installment.status.in_(SETTLEABLE),
            Installment.due_date < as_of,
        )
        .order_by(Installment.due_date)
    ).all()
