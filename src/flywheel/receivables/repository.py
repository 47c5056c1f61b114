"""Queries of the receivables ledger. Row locks are taken here (a no-op on SQLite); an actor's
scope (``auth.scope.visible_customers``) is applied inside each query that takes one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, UnaryExpression, and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from flywheel.customers.repository import in_scope, sees_everything
from flywheel.models.customers import Customer
from flywheel.models.receivables import (
    OPEN_INSTALLMENT_STATUSES,
    Allocation,
    CreditNote,
    Installment,
    Invoice,
    Payment,
    still_open,
)
from flywheel.models.sales import Order

SETTLEABLE = OPEN_INSTALLMENT_STATUSES

Scope = ColumnElement[bool] | None


def _scoped(stmt: Select[Any], customer_id: Any, scope: Scope) -> Select[Any]:
    return stmt if scope is None else in_scope(stmt, customer_id, scope)


def get_invoice(
    session: Session, invoice_id: int, *, for_update: bool = False, scope: Scope = None
) -> Invoice | None:
    """The invoice with its installments; ``scope`` hides the ones an actor may not see."""
    stmt = (
        select(Invoice).where(Invoice.id == invoice_id).options(selectinload(Invoice.installments))
    )
    stmt = _scoped(stmt, Invoice.customer_id, scope)
    if for_update:
        stmt = stmt.with_for_update(of=Invoice)
    return session.scalars(stmt).one_or_none()


def get_invoice_by_number(
    session: Session, number: str, *, for_update: bool = False, scope: Scope = None
) -> Invoice | None:
    stmt = (
        select(Invoice).where(Invoice.number == number).options(selectinload(Invoice.installments))
    )
    stmt = _scoped(stmt, Invoice.customer_id, scope)
    if for_update:
        stmt = stmt.with_for_update(of=Invoice)
    return session.scalars(stmt).one_or_none()


def get_payment(
    session: Session, payment_id: int, *, for_update: bool = False, scope: Scope = None
) -> Payment | None:
    if not for_update and (scope is None or sees_everything(scope)):
        return session.get(Payment, payment_id)
    stmt = _scoped(select(Payment).where(Payment.id == payment_id), Payment.customer_id, scope)
    if for_update:
        stmt = stmt.with_for_update(of=Payment)
    return session.scalars(stmt).one_or_none()


def get_payment_by_reference(
    session: Session, reference: str, *, for_update: bool = False, scope: Scope = None
) -> Payment | None:
    stmt = _scoped(
        select(Payment).where(Payment.reference == reference), Payment.customer_id, scope
    )
    if for_update:
        stmt = stmt.with_for_update(of=Payment)
    return session.scalars(stmt).one_or_none()


def get_credit_note_by_number(
    session: Session, number: str, *, scope: Scope = None
) -> CreditNote | None:
    stmt = _scoped(
        select(CreditNote).where(CreditNote.number == number), CreditNote.customer_id, scope
    )
    return session.scalars(stmt).one_or_none()


def get_allocation(
    session: Session, allocation_id: int, *, scope: Scope = None
) -> Allocation | None:
    if scope is None or sees_everything(scope):
        return session.get(Allocation, allocation_id)
    stmt = in_scope(
        select(Allocation).where(Allocation.id == allocation_id), Allocation.customer_id, scope
    )
    return session.scalars(stmt).one_or_none()


def open_installments(
    session: Session, customer_id: int, currency: str, *, for_update: bool = True
) -> Sequence[Installment]:
    """Every installment of the customer that can still take money, with its invoice."""
    stmt = (
        select(Installment)
        .join(Invoice, Installment.invoice_id == Invoice.id)
        .where(
            Installment.customer_id == customer_id,
            still_open(),
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
            still_open(),
            Installment.due_date < as_of,
        )
        .order_by(Installment.due_date)
    ).all()


def installment_by_sequence(session: Session, invoice_id: int, sequence: int) -> Installment | None:
    return session.scalars(
        select(Installment).where(
            Installment.invoice_id == invoice_id, Installment.sequence == sequence
        )
    ).one_or_none()


# ---------------------------------------------------------------- lists


class InvoiceSort(StrEnum):
    ISSUE_DATE = "issue_date"
    NUMBER = "number"
    AMOUNT = "amount"
    DUE_DATE = "due_date"
    DAYS_OVERDUE = "days_overdue"  # of the oldest open installment, on ``InvoiceFilter.as_of``


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    customer: str | None = None  # the account's code
    status: str | None = None  # a stored status
    overdue: bool | None = None  # True: only late ones on ``as_of``; False: only the others
    as_of: date | None = None  # the day "overdue" is judged on
    due_from: date | None = None  # an installment due on or after
    due_to: date | None = None  # ... and on or before
    search: str | None = None  # part of the number
    order: str | None = None  # the order's number


def _next_due() -> Any:
    """The earliest due date still open on the invoice (a correlated sub-select)."""
    return (
        select(func.min(Installment.due_date))
        .where(Installment.invoice_id == Invoice.id, still_open())
        .correlate(Invoice)
        .scalar_subquery()
    )


def _last_due() -> Any:
    """The due date of the invoice's last installment: when it is due in full."""
    return (
        select(func.max(Installment.due_date))
        .where(Installment.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )


def _late(as_of: date) -> ColumnElement[bool]:
    """An open installment of the invoice was due before ``as_of``."""
    return and_(
        Invoice.status.in_(SETTLEABLE),
        exists().where(
            Installment.invoice_id == Invoice.id,
            still_open(),
            Installment.due_date < as_of,
        ),
    )


def _days_overdue_order(
    as_of: date | None, next_due: Any, *, descending: bool
) -> list[UnaryExpression[Any]]:
    """Most days overdue first when ``descending``: the late invoices by their oldest open due
    date, then those not late (0 days). The other way round when ascending."""
    late_since = case(
        (and_(Invoice.status.in_(SETTLEABLE), next_due < (as_of or date.max)), next_due),
        else_=None,
    )
    is_late = case((late_since.is_not(None), 1), else_=0)
    if descending:
        return [is_late.desc(), late_since.asc()]
    return [is_late.asc(), late_since.desc()]


def list_invoices(
    session: Session,
    flt: InvoiceFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
    sort: InvoiceSort = InvoiceSort.ISSUE_DATE,
    descending: bool = True,
) -> tuple[list[tuple[Invoice, str, str, date | None, date | None]], int]:
    """One page of the invoices in ``scope`` matching ``flt``, each with its account's code and
    name, its next open due date and its last due date; and how many match in all. Three
    statements however long the page (the page, its count, nothing per row)."""
    base = select(Invoice).join(Customer, Invoice.customer_id == Customer.id).where(scope)
    if flt.customer:
        base = base.where(Customer.code == flt.customer)
    if flt.status:
        base = base.where(Invoice.status == flt.status)
    if flt.overdue is not None and flt.as_of is not None:
        late = _late(flt.as_of)
        base = base.where(late if flt.overdue else ~late)
    if flt.due_from is not None or flt.due_to is not None:
        due = exists().where(Installment.invoice_id == Invoice.id)
        if flt.due_from is not None:
            due = due.where(Installment.due_date >= flt.due_from)
        if flt.due_to is not None:
            due = due.where(Installment.due_date <= flt.due_to)
        base = base.where(due)
    search = flt.search.strip() if flt.search else ""
    if search:
        base = base.where(Invoice.number.icontains(search, autoescape=True))
    if flt.order:
        base = base.where(Invoice.order_id.in_(select(Order.id).where(Order.number == flt.order)))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    next_due, last_due = _next_due(), _last_due()
    column: Any = {
        InvoiceSort.ISSUE_DATE: Invoice.issue_date,
        InvoiceSort.NUMBER: Invoice.number,
        InvoiceSort.AMOUNT: Invoice.amount,
        InvoiceSort.DUE_DATE: last_due,
        InvoiceSort.DAYS_OVERDUE: next_due,
    }[sort]
    order: list[UnaryExpression[Any]] = [column.desc() if descending else column.asc()]
    if sort is InvoiceSort.DAYS_OVERDUE:
        order = _days_overdue_order(flt.as_of, next_due, descending=descending)
    if sort is not InvoiceSort.NUMBER:
        # Numbers are unique: the order is total and the pages stable.
        order.append(Invoice.number.desc() if descending else Invoice.number.asc())
    page = (
        base.add_columns(Customer.code, Customer.name, next_due, last_due)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = [tuple(row) for row in session.execute(page)]
    return rows, total


def order_number(session: Session, order_id: int | None) -> str | None:
    if order_id is None:
        return None
    return session.scalar(select(Order.number).where(Order.id == order_id))


def allocations_of_invoice_with_sources(
    session: Session, invoice_id: int
) -> Sequence[tuple[Allocation, int, str | None, str | None]]:
    """The invoice's allocations in the order made, each with its installment's sequence and
    the payment reference or credit-note number it came from."""
    return session.execute(
        select(Allocation, Installment.sequence, Payment.reference, CreditNote.number)
        .join(Installment, Allocation.installment_id == Installment.id)
        .outerjoin(Payment, Allocation.payment_id == Payment.id)
        .outerjoin(CreditNote, Allocation.credit_note_id == CreditNote.id)
        .where(Allocation.invoice_id == invoice_id)
        .order_by(Allocation.applied_on, Allocation.id)
    ).all()


def credit_notes_of_invoice(session: Session, invoice_id: int) -> Sequence[CreditNote]:
    return session.scalars(
        select(CreditNote)
        .where(CreditNote.invoice_id == invoice_id)
        .order_by(CreditNote.issue_date, CreditNote.id)
    ).all()


def allocations_of_payment_with_targets(
    session: Session, payment_id: int
) -> Sequence[tuple[Allocation, str, int, date]]:
    """The payment's allocations in the order made, each with the invoice number, the
    installment's sequence and its due date."""
    return session.execute(
        select(Allocation, Invoice.number, Installment.sequence, Installment.due_date)
        .join(Installment, Allocation.installment_id == Installment.id)
        .join(Invoice, Allocation.invoice_id == Invoice.id)
        .where(Allocation.payment_id == payment_id)
        .order_by(Allocation.id)
    ).all()


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    customer: str | None = None  # the account's code
    status: str | None = None
    method: str | None = None
    received_from: date | None = None  # inclusive
    received_to: date | None = None  # inclusive
    search: str | None = None  # part of the reference


def list_payments(
    session: Session,
    flt: PaymentFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
) -> tuple[list[tuple[Payment, str]], int]:
    """One page of the payments in ``scope``, newest first, each with its account's code."""
    base = select(Payment).join(Customer, Payment.customer_id == Customer.id).where(scope)
    if flt.customer:
        base = base.where(Customer.code == flt.customer)
    if flt.status:
        base = base.where(Payment.status == flt.status)
    if flt.method:
        base = base.where(Payment.method == flt.method)
    if flt.received_from is not None:
        base = base.where(Payment.received_on >= flt.received_from)
    if flt.received_to is not None:
        base = base.where(Payment.received_on <= flt.received_to)
    search = flt.search.strip() if flt.search else ""
    if search:
        base = base.where(Payment.reference.icontains(search, autoescape=True))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = (
        base.add_columns(Customer.code)
        .order_by(Payment.received_on.desc(), Payment.reference.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(payment, code) for payment, code in session.execute(page)], total


@dataclass(frozen=True, slots=True)
class CreditNoteFilter:
    customer: str | None = None  # the account's code
    invoice: str | None = None  # the invoice's number
    issued_from: date | None = None  # inclusive
    issued_to: date | None = None  # inclusive
    search: str | None = None  # part of the number


def list_credit_notes(
    session: Session,
    flt: CreditNoteFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
) -> tuple[list[tuple[CreditNote, str, str]], int]:
    """One page of the credit notes in ``scope``, newest first, each with its account's code
    and its invoice's number."""
    credited = aliased(Invoice)
    base = (
        select(CreditNote)
        .join(Customer, CreditNote.customer_id == Customer.id)
        .join(credited, CreditNote.invoice_id == credited.id)
        .where(scope)
    )
    if flt.customer:
        base = base.where(Customer.code == flt.customer)
    if flt.invoice:
        base = base.where(credited.number == flt.invoice)
    if flt.issued_from is not None:
        base = base.where(CreditNote.issue_date >= flt.issued_from)
    if flt.issued_to is not None:
        base = base.where(CreditNote.issue_date <= flt.issued_to)
    search = flt.search.strip() if flt.search else ""
    if search:
        base = base.where(CreditNote.number.icontains(search, autoescape=True))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = (
        base.add_columns(Customer.code, credited.number)
        .order_by(CreditNote.issue_date.desc(), CreditNote.number.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [(note, code, number) for note, code, number in session.execute(page)]
    return rows, total


def customer_code(session: Session, customer_id: int) -> str:
    code = session.scalar(select(Customer.code).where(Customer.id == customer_id))
    return code or ""
