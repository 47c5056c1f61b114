"""Reading the ledger for the API and the pages: scoped lists and one-document views.

Every function takes the actor and starts from ``auth.scope.visible_customers``: a sales rep
sees only his own accounts' documents, and one outside his scope is "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.customers import service as customers
from flywheel.errors import NotFound
from flywheel.models.enums import OVERDUE
from flywheel.models.receivables import ZERO, Allocation, CreditNote, Installment, Invoice, Payment
from flywheel.receivables import allocation, repository
from flywheel.receivables.repository import (
    CreditNoteFilter,
    InvoiceFilter,
    InvoiceSort,
    PaymentFilter,
)

__all__ = [
    "CreditNoteFilter",
    "InvoiceFilter",
    "InvoiceSort",
    "PaymentFilter",
]


def get_invoice_for(
    session: Session, number: str, *, actor: Actor, for_update: bool = False
) -> Invoice:
    """The invoice ``number`` (with its installments) if ``actor`` may see its account; else
    "not found", exactly like a missing one."""
    invoice = repository.get_invoice_by_number(
        session, number, for_update=for_update, scope=visible_customers(actor)
    )
    if invoice is None:
        raise NotFound(f"invoice {number} not found", number=number)
    return invoice


def state_as_of(invoice: Invoice, as_of: date) -> str:
    """The status a user sees on ``as_of``: the stored one, or "overdue" if money is late."""
    if invoice.status in allocation.SETTLEABLE and any(
        i.open_amount > ZERO and i.due_date < as_of for i in invoice.installments
    ):
        return OVERDUE
    return invoice.status


def days_overdue(installment: Installment, as_of: date) -> int:
    if installment.open_amount <= ZERO or installment.due_date >= as_of:
        return 0
    return (as_of - installment.due_date).days


def get_payment_for(
    session: Session, reference: str, *, actor: Actor, for_update: bool = False
) -> Payment:
    """The payment ``reference`` if ``actor`` may see its account; else "not found"."""
    payment = repository.get_payment_by_reference(
        session, reference, for_update=for_update, scope=visible_customers(actor)
    )
    if payment is None:
        raise NotFound(f"payment {reference} not found", reference=reference)
    return payment


def get_credit_note_for(session: Session, number: str, *, actor: Actor) -> CreditNote:
    """The credit note ``number`` if ``actor`` may see its account; else "not found"."""
    note = repository.get_credit_note_by_number(session, number, scope=visible_customers(actor))
    if note is None:
        raise NotFound(f"credit note {number} not found", number=number)
    return note


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """An invoice as a list shows it on ``as_of``."""

    invoice: Invoice
    customer_code: str
    customer_name: str
    next_due_date: date | None  # earliest due date still open
    due_date: date | None  # when the last installment is due
    state: str  # the stored status, or "overdue"
    days_overdue: int  # of the oldest open installment


def _row(
    invoice: Invoice,
    code: str,
    name: str,
    next_due: date | None,
    last_due: date | None,
    as_of: date,
) -> InvoiceRow:
    late = invoice.status in allocation.SETTLEABLE and next_due is not None and next_due < as_of
    return InvoiceRow(
        invoice=invoice,
        customer_code=code,
        customer_name=name,
        next_due_date=next_due,
        due_date=last_due,
        state=OVERDUE if late else invoice.status,
        days_overdue=(as_of - next_due).days if late and next_due is not None else 0,
    )


def list_invoices(
    session: Session,
    flt: InvoiceFilter,
    *,
    actor: Actor,
    as_of: date,
    limit: int = 50,
    offset: int = 0,
    sort: InvoiceSort = InvoiceSort.ISSUE_DATE,
    descending: bool = True,
) -> tuple[list[InvoiceRow], int]:
    """A page of the invoices ``actor`` may see, as they stand on ``as_of`` (which also
    judges ``flt.overdue``), and the number matching."""
    rows, total = repository.list_invoices(
        session,
        replace(flt, as_of=as_of),
        scope=visible_customers(actor),
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
    )
    return [_row(*row, as_of) for row in rows], total


@dataclass(frozen=True, slots=True)
class InvoiceAllocationLine:
    allocation: Allocation
    installment: int  # sequence
    source: str  # "payment" or "credit_note"
    reference: str | None  # payment reference or credit-note number


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    """One invoice on ``as_of``: its installments with days overdue, every allocation made
    to it and its credit notes."""

    row: InvoiceRow
    order_number: str | None
    as_of: date
    installments: list[tuple[Installment, int]]  # with days overdue
    allocations: list[InvoiceAllocationLine]
    credit_notes: Sequence[CreditNote]


def invoice_detail(session: Session, number: str, *, actor: Actor, as_of: date) -> InvoiceDetail:
    invoice = get_invoice_for(session, number, actor=actor)
    customer = customers.get_customer(session, invoice.customer_id)
    open_dues = [i.due_date for i in invoice.installments if i.status in allocation.SETTLEABLE]
    last_due = max((i.due_date for i in invoice.installments), default=None)
    return InvoiceDetail(
        row=_row(
            invoice, customer.code, customer.name, min(open_dues, default=None), last_due, as_of
        ),
        order_number=repository.order_number(session, invoice.order_id),
        as_of=as_of,
        installments=[(i, days_overdue(i, as_of)) for i in invoice.installments],
        allocations=[
            InvoiceAllocationLine(
                allocation=row,
                installment=sequence,
                source="payment" if row.payment_id is not None else "credit_note",
                reference=payment if row.payment_id is not None else note,
            )
            for row, sequence, payment, note in repository.allocations_of_invoice_with_sources(
                session, invoice.id
            )
        ],
        credit_notes=repository.credit_notes_of_invoice(session, invoice.id),
    )


def list_payments(
    session: Session, flt: PaymentFilter, *, actor: Actor, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[Payment, str]], int]:
    """A page of the payments ``actor`` may see, newest first, each with its account's code;
    and the number matching."""
    return repository.list_payments(
        session, flt, scope=visible_customers(actor), limit=limit, offset=offset
    )


@dataclass(frozen=True, slots=True)
class PaymentAllocationLine:
    allocation: Allocation
    invoice_number: str
    installment: int  # sequence
    due_date: date


@dataclass(frozen=True, slots=True)
class PaymentDetail:
    payment: Payment
    customer_code: str
    allocations: list[PaymentAllocationLine]


def payment_detail(session: Session, reference: str, *, actor: Actor) -> PaymentDetail:
    """A payment (in the actor's scope) with every allocation made from it."""
    payment = get_payment_for(session, reference, actor=actor)
    return payment_detail_of(session, payment)


def payment_detail_of(session: Session, payment: Payment) -> PaymentDetail:
    """A payment already loaded, with every allocation made from it."""
    return PaymentDetail(
        payment=payment,
        customer_code=repository.customer_code(session, payment.customer_id),
        allocations=[
            PaymentAllocationLine(row, number, sequence, due)
            for row, number, sequence, due in repository.allocations_of_payment_with_targets(
                session, payment.id
            )
        ],
    )


def list_credit_notes(
    session: Session, flt: CreditNoteFilter, *, actor: Actor, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[CreditNote, str, str]], int]:
    """A page of the credit notes ``actor`` may see, newest first, each with its account's
    code and its invoice's number; and the number matching."""
    return repository.list_credit_notes(
        session, flt, scope=visible_customers(actor), limit=limit, offset=offset
    )


def credit_note_refs(session: Session, note: CreditNote) -> tuple[str, str]:
    """The account code and invoice number a credit note shows."""
    invoice = repository.get_invoice(session, note.invoice_id)
    return repository.customer_code(session, note.customer_id), invoice.number if invoice else ""
