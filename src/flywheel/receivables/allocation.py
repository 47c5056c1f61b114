"""Applying money to installments: the invariants of the ledger live here and nowhere else.

An allocation never exceeds the source's unallocated amount nor the installment's open amount,
and after every change the running totals and statuses of the installment, its invoice and the
payment are recomputed from the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from flywheel.config import AllocationOrder
from flywheel.errors import CurrencyMismatch, InvalidAmount, InvoiceNotOpen, OverAllocation
from flywheel.models.enums import InvoiceStatus, PaymentStatus
from flywheel.models.receivables import (
    ZERO,
    Allocation,
    CreditNote,
    Installment,
    Invoice,
    Payment,
)

SETTLEABLE = frozenset({InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value})


def settled_status(amount: Decimal, paid: Decimal, credited: Decimal, written_off: Decimal) -> str:
    """The stored status a document with these totals must have."""
    open_amount = amount - paid - credited - written_off
    if open_amount == ZERO:
        return InvoiceStatus.WRITTEN_OFF.value if written_off > ZERO else InvoiceStatus.PAID.value
    if paid + credited + written_off > ZERO:
        return InvoiceStatus.PARTIALLY_PAID.value
    return InvoiceStatus.OPEN.value


def refresh_installment(installment: Installment, *, settled_on: date | None) -> None:
    if installment.status == InvoiceStatus.CANCELLED.value:
        return
    installment.status = settled_status(
        installment.amount,
        installment.paid_amount,
        installment.credited_amount,
        installment.written_off_amount,
    )
    if installment.open_amount == ZERO:
        if installment.settled_on is None or (
            settled_on is not None and settled_on > installment.settled_on
        ):
            installment.settled_on = settled_on
    else:
        installment.settled_on = None


def refresh_invoice(invoice: Invoice) -> None:
    """Totals and status of an invoice from its installments."""
    installments = invoice.installments
    invoice.paid_amount = sum((i.paid_amount for i in installments), ZERO)
    invoice.credited_amount = sum((i.credited_amount for i in installments), ZERO)
    invoice.written_off_amount = sum((i.written_off_amount for i in installments), ZERO)
    if invoice.status == InvoiceStatus.CANCELLED.value:
        return
    invoice.status = settled_status(
        invoice.amount, invoice.paid_amount, invoice.credited_amount, invoice.written_off_amount
    )


def refresh_payment(payment: Payment) -> None:
    if payment.allocated_amount == ZERO:
        payment.status = PaymentStatus.UNALLOCATED.value
    elif payment.allocated_amount == payment.amount:
        payment.status = PaymentStatus.ALLOCATED.value
    else:
        payment.status = PaymentStatus.PARTIALLY_ALLOCATED.value


def _check_target(
    installment: Installment, amount: Decimal, currency: str, customer_id: int
) -> None:
    if amount <= ZERO:
        raise InvalidAmount(f"an allocation must be greater than zero, got {amount}", amount=amount)
    invoice = installment.invoice
    if installment.status not in SETTLEABLE or invoice.status not in SETTLEABLE:
        raise InvoiceNotOpen(
            f"invoice {invoice.number} is {invoice.status}; nothing can be applied to it",
            invoice=invoice.number,
        )
    if installment.customer_id != customer_id:
        raise OverAllocation(
            f"invoice {invoice.number} belongs to another customer", invoice=invoice.number
        )
    if invoice.currency != currency:
        raise CurrencyMismatch(
            f"invoice {invoice.number} is in {invoice.currency}, the money is in {currency}",
            invoice=invoice.number,
        )
    if amount > installment.open_amount:
        raise OverAllocation(
            f"{amount} exceeds the open amount {installment.open_amount} of invoice "
            f"{invoice.number} installment {installment.sequence}",
            invoice=invoice.number,
            open_amount=installment.open_amount,
        )


def apply_payment(payment: Payment, installment: Installment, amount: Decimal) -> Allocation:
    """Allocate ``amount`` of ``payment`` to ``installment``; the caller adds the row."""
    _check_target(installment, amount, payment.currency, payment.customer_id)
    if amount > payment.unallocated_amount:
        raise OverAllocation(
            f"{amount} exceeds the unallocated {payment.unallocated_amount} of payment "
            f"{payment.reference}",
            payment=payment.reference,
        )
    installment.paid_amount += amount
    payment.allocated_amount += amount
    refresh_installment(installment, settled_on=payment.received_on)
    refresh_invoice(installment.invoice)
    refresh_payment(payment)
    return Allocation(
        customer_id=payment.customer_id,
        payment_id=payment.id,
        installment_id=installment.id,
        invoice_id=installment.invoice_id,
        amount=amount,
        applied_on=payment.received_on,
    )


def apply_credit(note: CreditNote, installment: Installment, amount: Decimal) -> Allocation:
    _check_target(installment, amount, note.currency, note.customer_id)
    installment.credited_amount += amount
    refresh_installment(installment, settled_on=note.issue_date)
    refresh_invoice(installment.invoice)
    return Allocation(
        customer_id=note.customer_id,
        credit_note_id=note.id,
        installment_id=installment.id,
        invoice_id=installment.invoice_id,
        amount=amount,
        applied_on=note.issue_date,
    )


def reverse(allocation: Allocation, installment: Installment, payment: Payment | None) -> None:
    """Undo one allocation's effect on the totals; the caller deletes the row."""
    if allocation.payment_id is not None:
        if payment is None or payment.id != allocation.payment_id:
            raise ValueError("reverse() needs the allocation's own payment")
        installment.paid_amount -= allocation.amount
        payment.allocated_amount -= allocation.amount
        refresh_payment(payment)
    else:
        installment.credited_amount -= allocation.amount
    refresh_installment(installment, settled_on=None)
    refresh_invoice(installment.invoice)


def allocation_order_key(order: AllocationOrder) -> tuple[str, ...]:
    if order is AllocationOrder.OLDEST_ISSUED:
        return ("issue_date", "due_date")
    return ("due_date", "issue_date")


def order_for_allocation(
    installments: Iterable[Installment],
    *,
    order: AllocationOrder,
    preferred_invoice_id: int | None = None,
) -> list[Installment]:
    """The order in which money is applied: the referenced invoice first, then by the policy."""

    def key(inst: Installment) -> tuple[object, ...]:
        first = (
            0 if preferred_invoice_id is not None and inst.invoice_id == preferred_invoice_id else 1
        )
        if order is AllocationOrder.OLDEST_ISSUED:
            return (first, inst.invoice.issue_date, inst.invoice_id, inst.sequence)
        return (first, inst.due_date, inst.invoice.issue_date, inst.invoice_id, inst.sequence)

    return sorted(installments, key=key)


def plan(amount: Decimal, installments: Sequence[Installment]) -> list[tuple[Installment, Decimal]]:
    """Greedy split of ``amount`` over installments in the given order."""
    remaining = amount
    steps: list[tuple[Installment, Decimal]] = []
    for installment in installments:
        if remaining <= ZERO:
            break
        take = min(remaining, installment.open_amount)
        if take > ZERO:
            steps.append((installment, take))
            remaining -= take
    return steps
