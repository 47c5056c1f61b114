"""Business rules of the receivables ledger: the only code that changes invoices and payments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.config import AllocationOrder, get_settings
from flywheel.customers import service as customers
from flywheel.errors import (
    Conflict,
    CurrencyMismatch,
    InvalidAmount,
    InvoiceLocked,
    InvoiceNotOpen,
    NotFound,
    ValidationFailed,
)
from flywheel.kit.terms import parse_terms
from flywheel.models.customers import Customer
from flywheel.models.enums import InvoiceStatus
from flywheel.models.receivables import (
    ZERO,
    Allocation,
    CreditNote,
    Installment,
    Invoice,
    Payment,
)
from flywheel.receivables import allocation, browse, repository
from flywheel.receivables.schemas import (
    AllocationNew,
    CreditNoteCreate,
    CreditNoteNew,
    InstallmentIn,
    InvoiceCreate,
    InvoiceNew,
    PaymentCreate,
    PaymentNew,
)
from flywheel.sales import service as sales

# The reads live in ``browse``, a use case of their own; callers find them here with the writes.
CreditNoteFilter = browse.CreditNoteFilter
InvoiceDetail = browse.InvoiceDetail
InvoiceFilter = browse.InvoiceFilter
InvoiceRow = browse.InvoiceRow
InvoiceSort = browse.InvoiceSort
PaymentDetail = browse.PaymentDetail
PaymentFilter = browse.PaymentFilter
credit_note_refs = browse.credit_note_refs
days_overdue = browse.days_overdue
get_credit_note_for = browse.get_credit_note_for
get_invoice_for = browse.get_invoice_for
get_payment_for = browse.get_payment_for
invoice_detail = browse.invoice_detail
list_credit_notes = browse.list_credit_notes
list_invoices = browse.list_invoices
list_payments = browse.list_payments
payment_detail = browse.payment_detail
payment_detail_of = browse.payment_detail_of
state_as_of = browse.state_as_of

INVOICE_FIELDS = (
    "number",
    "customer_id",
    "order_id",
    "issue_date",
    "payment_terms",
    "amount",
    "currency",
    "status",
)
PAYMENT_FIELDS = (
    "reference",
    "customer_id",
    "received_on",
    "amount",
    "currency",
    "method",
    "invoice_reference",
    "allocated_amount",
    "status",
)


def invoice_snapshot(invoice: Invoice) -> dict[str, object]:
    data = audit.snapshot(invoice, INVOICE_FIELDS)
    data["installments"] = [
        {"due_date": i.due_date.isoformat(), "amount": f"{i.amount:.2f}"}
        for i in invoice.installments
    ]
    return data


# ---------------------------------------------------------------- invoices


def schedule(data: InvoiceCreate, terms_code: str) -> list[InstallmentIn]:
    """The installments of a new invoice: given, or one due by the terms (or given due date)."""
    if data.installments:
        total = sum((i.amount for i in data.installments), ZERO)
        if total != data.amount:
            raise InvalidAmount(
                f"installments add up to {total}, the invoice amount is {data.amount}",
                field="installments",
            )
        for item in data.installments:
            if item.due_date < data.issue_date:
                raise ValidationFailed(
                    f"installment due {item.due_date} is before the issue date {data.issue_date}",
                    field="due_date",
                )
        return sorted(data.installments, key=lambda i: i.due_date)
    due = data.due_date or parse_terms(terms_code).due_date(data.issue_date)
    if due < data.issue_date:
        raise ValidationFailed(
            f"due date {due} is before the issue date {data.issue_date}", field="due_date"
        )
    return [InstallmentIn(due_date=due, amount=data.amount)]


def _terms_code(raw: str | None, default: str) -> str:
    try:
        return parse_terms(raw or default).code
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="payment_terms") from exc


def create_invoice(session: Session, *, actor: Actor, data: InvoiceCreate) -> Invoice:
    customer = customers.get_customer_for(session, data.customer_id, actor=actor)
    if repository.get_invoice_by_number(session, data.number) is not None:
        raise Conflict(f"invoice {data.number} already exists", number=data.number)
    terms = _terms_code(data.payment_terms, customer.payment_terms)
    plan = schedule(data, terms)
    invoice = Invoice(
        number=data.number,
        customer_id=customer.id,
        order_id=data.order_id,
        issue_date=data.issue_date,
        payment_terms=terms,
        amount=data.amount,
        currency=data.currency or customer.currency,
        paid_amount=ZERO,
        credited_amount=ZERO,
        written_off_amount=ZERO,
        status=InvoiceStatus.OPEN.value,
    )
    invoice.installments = [
        Installment(
            customer_id=customer.id,
            sequence=n,
            due_date=item.due_date,
            amount=item.amount,
            paid_amount=ZERO,
            credited_amount=ZERO,
            written_off_amount=ZERO,
            status=InvoiceStatus.OPEN.value,
        )
        for n, item in enumerate(plan, start=1)
    ]
    session.add(invoice)
    session.flush()
    audit.record(
        session,
        actor,
        "invoice.created",
        subject_type="invoice",
        subject_id=invoice.id,
        customer_id=customer.id,
        after=invoice_snapshot(invoice),
    )
    return invoice


def update_invoice(
    session: Session, *, actor: Actor, invoice_id: int, data: InvoiceCreate
) -> tuple[Invoice, bool]:
    """Bring an invoice to ``data``; returns (invoice, changed). Money and dates are locked
    once anything was applied to it: a credit note is the way to reduce a settled invoice."""
    invoice = _invoice_or_404(session, invoice_id, actor=actor, for_update=True)
    before = invoice_snapshot(invoice)
    customer = customers.get_customer_for(session, data.customer_id, actor=actor)
    terms = _terms_code(data.payment_terms, customer.payment_terms)
    plan = schedule(data, terms)
    wanted = {
        "customer_id": customer.id,
        "order_id": data.order_id,
        "issue_date": data.issue_date,
        "payment_terms": terms,
        "amount": data.amount,
        "currency": data.currency or customer.currency,
    }
    new_schedule = [(i.due_date, i.amount) for i in plan]
    old_schedule = [(i.due_date, i.amount) for i in invoice.installments]
    money_changed = (
        any(getattr(invoice, k) != v for k, v in wanted.items() if k != "order_id")
        or new_schedule != old_schedule
    )
    if not money_changed and invoice.order_id == data.order_id:
        return invoice, False
    if money_changed:
        if invoice.status == InvoiceStatus.CANCELLED.value:
            raise InvoiceLocked(f"invoice {invoice.number} is cancelled", number=invoice.number)
        applied = invoice.paid_amount + invoice.credited_amount + invoice.written_off_amount
        if applied > ZERO:
            raise InvoiceLocked(
                f"invoice {invoice.number} already has {applied} paid, credited or written off; "
                "its amount, dates and customer can no longer change (issue a credit note)",
                number=invoice.number,
            )
        for key, value in wanted.items():
            setattr(invoice, key, value)
        if new_schedule != old_schedule:
            invoice.installments.clear()
            session.flush()
            invoice.installments.extend(
                Installment(
                    customer_id=customer.id,
                    sequence=n,
                    due_date=due,
                    amount=amount,
                    paid_amount=ZERO,
                    credited_amount=ZERO,
                    written_off_amount=ZERO,
                    status=InvoiceStatus.OPEN.value,
                )
                for n, (due, amount) in enumerate(new_schedule, start=1)
            )
        else:
            for inst in invoice.installments:
                inst.customer_id = customer.id
    invoice.order_id = data.order_id
    session.flush()
    audit.record(
        session,
        actor,
        "invoice.updated",
        subject_type="invoice",
        subject_id=invoice.id,
        customer_id=invoice.customer_id,
        before=before,
        after=invoice_snapshot(invoice),
    )
    return invoice, True


def _invoice_or_404(
    session: Session, invoice_id: int, *, actor: Actor, for_update: bool = False
) -> Invoice:
    invoice = repository.get_invoice(
        session, invoice_id, for_update=for_update, scope=visible_customers(actor)
    )
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} not found", invoice_id=invoice_id)
    return invoice


def get_invoice_by_number(session: Session, number: str) -> Invoice:
    """The invoice ``number``, unrestricted: for system work. Actors use ``get_invoice_for``."""
    invoice = repository.get_invoice_by_number(session, number)
    if invoice is None:
        raise NotFound(f"invoice {number} not found", number=number)
    return invoice


def cancel_invoice(session: Session, *, actor: Actor, invoice_id: int, reason: str) -> Invoice:
    invoice = _invoice_or_404(session, invoice_id, actor=actor, for_update=True)
    if invoice.paid_amount + invoice.credited_amount + invoice.written_off_amount > ZERO:
        raise InvoiceLocked(
            f"invoice {invoice.number} has money applied; reverse it or issue a credit note",
            number=invoice.number,
        )
    before = invoice_snapshot(invoice)
    invoice.status = InvoiceStatus.CANCELLED.value
    for inst in invoice.installments:
        inst.status = InvoiceStatus.CANCELLED.value
    session.flush()
    audit.record(
        session,
        actor,
        "invoice.cancelled",
        subject_type="invoice",
        subject_id=invoice.id,
        customer_id=invoice.customer_id,
        before=before,
        after={**invoice_snapshot(invoice), "reason": reason},
    )
    return invoice


def write_off_invoice(
    session: Session, *, actor: Actor, invoice_id: int, on: date, reason: str
) -> Invoice:
    """Write off what is still open on every installment (坏账核销)."""
    invoice = _invoice_or_404(session, invoice_id, actor=actor, for_update=True)
    if invoice.status not in allocation.SETTLEABLE:
        raise InvoiceNotOpen(
            f"invoice {invoice.number} is {invoice.status}; nothing to write off",
            number=invoice.number,
        )
    before = invoice_snapshot(invoice)
    written = ZERO
    for inst in invoice.installments:
        amount = inst.open_amount
        if amount > ZERO:
            inst.written_off_amount += amount
            written += amount
            allocation.refresh_installment(inst, settled_on=on)
    allocation.refresh_invoice(invoice)
    session.flush()
    audit.record(
        session,
        actor,
        "invoice.written_off",
        subject_type="invoice",
        subject_id=invoice.id,
        customer_id=invoice.customer_id,
        before=before,
        after={**invoice_snapshot(invoice), "written_off": f"{written:.2f}", "reason": reason},
    )
    return invoice


# ---------------------------------------------------------------- payments


def record_payment(session: Session, *, actor: Actor, data: PaymentCreate) -> Payment:
    """Record a receipt and apply it: the referenced invoice first, then by the policy."""
    customer = customers.get_customer_for(session, data.customer_id, actor=actor)
    if repository.get_payment_by_reference(session, data.reference) is not None:
        raise Conflict(f"payment {data.reference} already exists", reference=data.reference)
    payment = new_payment(data, currency=data.currency or customer.currency)
    session.add(payment)
    session.flush()
    applied = auto_allocate(session, payment=payment)
    audit.record(
        session,
        actor,
        "payment.recorded",
        subject_type="payment",
        subject_id=payment.id,
        customer_id=customer.id,
        after={**audit.snapshot(payment, PAYMENT_FIELDS), "allocations": applied},
    )
    _keep_promises(session, customer_id=customer.id, as_of=payment.received_on)
    return payment


def _keep_promises(session: Session, *, customer_id: int, as_of: date) -> None:
    """A payment may keep a promise to pay at once (breaking one is the daily cycle's call)."""
    from flywheel.collections import promises

    promises.evaluate(session, as_of=as_of, customer_ids=[customer_id], only_kept=True)


def new_payment(data: PaymentCreate, *, currency: str) -> Payment:
    """A payment row before any allocation (the caller adds it to the session)."""
    return Payment(
        reference=data.reference,
        customer_id=data.customer_id,
        received_on=data.received_on,
        amount=data.amount,
        currency=currency,
        method=data.method.value,
        invoice_reference=data.invoice_number,
        allocated_amount=ZERO,
        status="unallocated",
    )


def auto_allocate(session: Session, *, payment: Payment) -> list[dict[str, str]]:
    """Apply the payment's unallocated money to the customer's open installments."""
    if payment.unallocated_amount <= ZERO:
        return []
    ordered = _allocation_targets(
        session,
        customer_id=payment.customer_id,
        currency=payment.currency,
        invoice_reference=payment.invoice_reference,
        for_update=True,
    )
    applied: list[dict[str, str]] = []
    for inst, amount in allocation.plan(payment.unallocated_amount, ordered):
        row = allocation.apply_payment(payment, inst, amount)
        session.add(row)
        applied.append(
            {
                "invoice": inst.invoice.number,
                "installment": str(inst.sequence),
                "amount": f"{amount:.2f}",
            }
        )
    session.flush()
    return applied


def _allocation_targets(
    session: Session,
    *,
    customer_id: int,
    currency: str,
    invoice_reference: str | None,
    for_update: bool,
) -> list[Installment]:
    """The customer's open installments in ``currency`` in the order money is applied to them:
    the invoice the payer named first, then by the allocation policy."""
    candidates = repository.open_installments(session, customer_id, currency, for_update=for_update)
    preferred: int | None = None
    if invoice_reference:
        for inst in candidates:
            if inst.invoice.number == invoice_reference:
                preferred = inst.invoice_id
                break
    return allocation.order_for_allocation(
        candidates,
        order=AllocationOrder(get_settings().allocation_order),
        preferred_invoice_id=preferred,
    )


@dataclass(frozen=True, slots=True)
class PlannedAllocation:
    invoice_number: str
    installment: int  # the installment's sequence, 1-based
    due_date: date
    open_before: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AllocationPreview:
    """What ``record_payment`` would apply, in order, and what it would leave unallocated."""

    customer_id: int
    currency: str
    amount: Decimal
    allocations: list[PlannedAllocation]
    unallocated: Decimal


def preview_allocation(session: Session, *, actor: Actor, data: PaymentCreate) -> AllocationPreview:
    """Exactly what ``record_payment(data)`` would allocate, computed without writing or
    locking anything: the same checks (account in scope, reference new), the same candidates
    and order (``allocation.order_for_allocation``) and the same split (``allocation.plan``)."""
    customer = customers.get_customer_for(session, data.customer_id, actor=actor)
    if repository.get_payment_by_reference(session, data.reference) is not None:
        raise Conflict(f"payment {data.reference} already exists", reference=data.reference)
    currency = data.currency or customer.currency
    ordered = _allocation_targets(
        session,
        customer_id=customer.id,
        currency=currency,
        invoice_reference=data.invoice_number,
        for_update=False,
    )
    planned = [
        PlannedAllocation(
            invoice_number=inst.invoice.number,
            installment=inst.sequence,
            due_date=inst.due_date,
            open_before=inst.open_amount,
            amount=amount,
        )
        for inst, amount in allocation.plan(data.amount, ordered)
    ]
    return AllocationPreview(
        customer_id=customer.id,
        currency=currency,
        amount=data.amount,
        allocations=planned,
        unallocated=data.amount - sum((p.amount for p in planned), ZERO),
    )


def allocate(
    session: Session, *, actor: Actor, payment_id: int, installment_id: int, amount: Decimal
) -> Allocation:
    """A collector's manual allocation of part of a payment to one installment."""
    payment = repository.get_payment(
        session, payment_id, for_update=True, scope=visible_customers(actor)
    )
    if payment is None:
        raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
    installment = repository.get_installment(session, installment_id)
    if installment is None:
        raise NotFound(f"installment {installment_id} not found", installment_id=installment_id)
    _invoice_or_404(session, installment.invoice_id, actor=actor, for_update=True)
    row = allocation.apply_payment(payment, installment, amount)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "allocation.created",
        subject_type="allocation",
        subject_id=row.id,
        customer_id=payment.customer_id,
        after={
            "payment": payment.reference,
            "invoice": installment.invoice.number,
            "installment": installment.sequence,
            "amount": f"{amount:.2f}",
        },
    )
    _keep_promises(session, customer_id=payment.customer_id, as_of=row.applied_on)
    return row


def unallocate(session: Session, *, actor: Actor, allocation_id: int) -> None:
    """Undo one allocation of a payment (in the actor's scope): the money is unallocated again."""
    row = repository.get_allocation(session, allocation_id, scope=visible_customers(actor))
    if row is None:
        raise NotFound(f"allocation {allocation_id} not found", allocation_id=allocation_id)
    if row.payment_id is None:
        raise Conflict("a credit note's allocation cannot be undone; issue a new invoice instead")
    _remove_allocations(session, [row])
    audit.record(
        session,
        actor,
        "allocation.reversed",
        subject_type="allocation",
        subject_id=allocation_id,
        customer_id=row.customer_id,
        before={
            "payment_id": row.payment_id,
            "invoice_id": row.invoice_id,
            "amount": f"{row.amount:.2f}",
        },
    )


def _remove_allocations(session: Session, rows: Sequence[Allocation]) -> None:
    for row in rows:
        installment = repository.get_installment(session, row.installment_id)
        payment = repository.get_payment(session, row.payment_id) if row.payment_id else None
        if installment is None:
            raise NotFound(f"installment {row.installment_id} not found")
        # Locks the invoice; the caller has already checked the actor may touch it.
        repository.get_invoice(session, installment.invoice_id, for_update=True)
        allocation.reverse(row, installment, payment)
        session.delete(row)
    session.flush()


def update_payment(
    session: Session, *, actor: Actor, payment_id: int, data: PaymentCreate
) -> tuple[Payment, bool]:
    """Correct a recorded payment: its allocations are undone and made again."""
    payment = repository.get_payment(
        session, payment_id, for_update=True, scope=visible_customers(actor)
    )
    if payment is None:
        raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
    customer = customers.get_customer_for(session, data.customer_id, actor=actor)
    wanted = {
        "customer_id": customer.id,
        "received_on": data.received_on,
        "amount": data.amount,
        "currency": data.currency or customer.currency,
        "method": data.method.value,
        "invoice_reference": data.invoice_number,
    }
    if all(getattr(payment, k) == v for k, v in wanted.items()):
        return payment, False
    before = audit.snapshot(payment, PAYMENT_FIELDS)
    _remove_allocations(session, repository.allocations_of_payment(session, payment.id))
    for key, value in wanted.items():
        setattr(payment, key, value)
    session.flush()
    applied = auto_allocate(session, payment=payment)
    audit.record(
        session,
        actor,
        "payment.updated",
        subject_type="payment",
        subject_id=payment.id,
        customer_id=payment.customer_id,
        before=before,
        after={**audit.snapshot(payment, PAYMENT_FIELDS), "allocations": applied},
    )
    return payment, True


def apply_unallocated_credit(session: Session, *, actor: Actor, customer_id: int) -> int:
    """Apply every unallocated payment balance of a customer to its open installments
    (after new invoices arrive). Returns how many payments took part."""
    touched = 0
    customer = customers.get_customer_for(session, customer_id, actor=actor)
    for payment in repository.unallocated_payments(session, customer.id):
        applied = auto_allocate(session, payment=payment)
        if applied:
            touched += 1
            audit.record(
                session,
                actor,
                "payment.allocated",
                subject_type="payment",
                subject_id=payment.id,
                customer_id=customer.id,
                after={"reference": payment.reference, "allocations": applied},
            )
    return touched


# ---------------------------------------------------------------- credit notes


def issue_credit_note(session: Session, *, actor: Actor, data: CreditNoteCreate) -> CreditNote:
    """A credit note reduces one invoice, from its last installment backwards."""
    invoice = _invoice_or_404(session, data.invoice_id, actor=actor, for_update=True)
    if repository.get_credit_note_by_number(session, data.number) is not None:
        raise Conflict(f"credit note {data.number} already exists", number=data.number)
    if invoice.status not in allocation.SETTLEABLE:
        raise InvoiceNotOpen(
            f"invoice {invoice.number} is {invoice.status}; a credit note needs an open invoice",
            number=invoice.number,
        )
    if data.amount > invoice.open_amount:
        raise InvalidAmount(
            f"credit note {data.amount} exceeds the open amount {invoice.open_amount} of invoice "
            f"{invoice.number}",
            field="amount",
        )
    note = CreditNote(
        number=data.number,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        issue_date=data.issue_date,
        amount=data.amount,
        currency=invoice.currency,
        reason=data.reason,
    )
    session.add(note)
    session.flush()
    remaining = data.amount
    for inst in sorted(invoice.installments, key=lambda i: i.sequence, reverse=True):
        take = min(remaining, inst.open_amount)
        if take > ZERO:
            session.add(allocation.apply_credit(note, inst, take))
            remaining -= take
    session.flush()
    audit.record(
        session,
        actor,
        "credit_note.issued",
        subject_type="credit_note",
        subject_id=note.id,
        customer_id=invoice.customer_id,
        after={
            "number": note.number,
            "invoice": invoice.number,
            "amount": f"{note.amount:.2f}",
            "reason": note.reason,
        },
    )
    return note


def check_currency(expected: str, given: str, *, what: str) -> None:
    if expected != given:
        raise CurrencyMismatch(f"{what} is in {given}, expected {expected}")


# ---------------------------------------------------------------- writes by business keys
# The API and the pages name accounts by code, invoices and credit notes by number and
# payments by reference; each function finds them in the actor's scope, then does the
# id-based work above. Documents about to change are locked by that first look-up, so that
# it reads them as committed (a later locking read would return the copy already loaded).


def _credit_check(session: Session, actor: Actor, customer: Customer, data: InvoiceNew) -> None:
    from flywheel.credit import limits

    # An invoice in another currency than the account's still meets a grade hold, but adds
    # nothing to an exposure kept in the account's currency.
    same = data.currency is None or data.currency == customer.currency
    limits.enforce(
        session,
        actor=actor,
        customer=customer,
        amount=data.amount if same else Decimal("0.00"),
        as_of=data.issue_date,
        document=f"invoice {data.number}",
        override_reason=data.credit_override_reason,
    )


def issue_invoice(session: Session, *, actor: Actor, data: InvoiceNew) -> Invoice:
    """A new invoice of the account ``data.customer``; ``data.order`` must be that account's."""
    customer = customers.get_customer_by_code(session, data.customer, actor=actor)
    _credit_check(session, actor, customer, data)
    order_id = None
    if data.order is not None:
        order = sales.get_order_for(session, data.order, actor=actor)
        if order.customer_id != customer.id:
            raise ValidationFailed(f"order {data.order} belongs to another account", field="order")
        order_id = order.id
    return create_invoice(
        session,
        actor=actor,
        data=InvoiceCreate(
            number=data.number,
            customer_id=customer.id,
            issue_date=data.issue_date,
            amount=data.amount,
            order_id=order_id,
            payment_terms=data.payment_terms,
            currency=data.currency,
            due_date=data.due_date,
            installments=[
                InstallmentIn(due_date=i.due_date, amount=i.amount) for i in data.installments
            ]
            if data.installments
            else None,
        ),
    )


def cancel_invoice_by_number(
    session: Session, *, actor: Actor, number: str, reason: str
) -> Invoice:
    """Cancel the invoice ``number`` (nothing may be applied to it yet)."""
    invoice = get_invoice_for(session, number, actor=actor, for_update=True)
    return cancel_invoice(session, actor=actor, invoice_id=invoice.id, reason=reason)


def write_off_invoice_by_number(
    session: Session, *, actor: Actor, number: str, on: date, reason: str
) -> Invoice:
    """Write off what is still open on the invoice ``number``."""
    invoice = get_invoice_for(session, number, actor=actor, for_update=True)
    return write_off_invoice(session, actor=actor, invoice_id=invoice.id, on=on, reason=reason)


def _payment_create(session: Session, data: PaymentNew, *, actor: Actor) -> PaymentCreate:
    customer = customers.get_customer_by_code(session, data.customer, actor=actor)
    return PaymentCreate(
        reference=data.reference,
        customer_id=customer.id,
        received_on=data.received_on,
        amount=data.amount,
        currency=data.currency,
        method=data.method,
        invoice_number=data.invoice,
    )


def receive_payment(session: Session, *, actor: Actor, data: PaymentNew) -> Payment:
    """Record a payment of the account ``data.customer`` and allocate it automatically
    (``payment_detail_of`` shows the allocations made). An invoice named by the payer must be
    one of that account's, in the payment's currency (``check_named_invoice``)."""
    check_named_invoice(session, actor=actor, data=data)
    return record_payment(session, actor=actor, data=_payment_create(session, data, actor=actor))


def preview_payment(session: Session, *, actor: Actor, data: PaymentNew) -> AllocationPreview:
    """``preview_allocation`` for a payment given by account code, with the same check of
    the invoice it names as ``receive_payment``: writes nothing."""
    check_named_invoice(session, actor=actor, data=data)
    return preview_allocation(
        session, actor=actor, data=_payment_create(session, data, actor=actor)
    )


def allocate_payment(
    session: Session, *, actor: Actor, reference: str, data: AllocationNew
) -> Allocation:
    """Allocate ``data.amount`` of the payment ``reference`` to one installment of the invoice
    ``data.invoice`` by hand; both must be of the same account, in the actor's scope."""
    payment = get_payment_for(session, reference, actor=actor, for_update=True)
    invoice = get_invoice_for(session, data.invoice, actor=actor, for_update=True)
    installment = repository.installment_by_sequence(session, invoice.id, data.installment)
    if installment is None:
        raise NotFound(
            f"invoice {invoice.number} has no installment {data.installment}",
            field="installment",
        )
    return allocate(
        session,
        actor=actor,
        payment_id=payment.id,
        installment_id=installment.id,
        amount=data.amount,
    )


def credit_invoice(session: Session, *, actor: Actor, data: CreditNoteNew) -> CreditNote:
    """Issue a credit note against the invoice ``data.invoice`` (in the actor's scope)."""
    invoice = get_invoice_for(session, data.invoice, actor=actor, for_update=True)
    return issue_credit_note(
        session,
        actor=actor,
        data=CreditNoteCreate(
            number=data.number,
            invoice_id=invoice.id,
            issue_date=data.issue_date,
            amount=data.amount,
            reason=data.reason,
        ),
    )


# ---------------------------------------------------------------- the invoice a payer names
# Added for the payment page (receivables/payment_views.py): a typo in the invoice number, or an
# invoice of another account or currency, would otherwise pass silently and the money would go
# to the oldest open items instead.


def check_named_invoice(session: Session, *, actor: Actor, data: PaymentNew) -> None:
    """Refuse a payment naming an invoice the actor cannot see, another account's invoice, or
    one in another currency than the payment (``data.currency``, else the account's)."""
    if not data.invoice:
        return
    customer = customers.get_customer_by_code(session, data.customer, actor=actor)
    try:
        invoice = get_invoice_for(session, data.invoice, actor=actor)
    except NotFound:
        raise NotFound(f"invoice {data.invoice} not found", field="invoice") from None
    if invoice.customer_id != customer.id:
        raise ValidationFailed(
            f"invoice {invoice.number} is not an invoice of {customer.code}", field="invoice"
        )
    currency = data.currency or customer.currency
    if invoice.currency != currency:
        raise CurrencyMismatch(
            f"invoice {invoice.number} is in {invoice.currency}, the payment in {currency}",
            field="currency",
            invoice_currency=invoice.currency,
            payment_currency=currency,
        )
