"""Recording many payments at once (imports): the same allocation rules as one payment,
with the customers' open installments loaded in one query per batch instead of per payment."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.config import AllocationOrder, get_settings
from flywheel.kit.batches import chunks
from flywheel.models.receivables import ZERO, Installment, Invoice, Payment
from flywheel.receivables import allocation, service
from flywheel.receivables.repository import SETTLEABLE
from flywheel.receivables.schemas import PaymentCreate


def record_payments(
    session: Session,
    *,
    actor: Actor,
    data: Sequence[PaymentCreate],
    currencies: dict[int, str],
    audit_each: bool = True,
) -> list[Payment]:
    """Insert the payments (references known to be new) and allocate each in the given order.

    ``currencies`` gives each customer's currency, used when a payment names none.
    """
    payments = [
        service.new_payment(item, currency=item.currency or currencies[item.customer_id])
        for item in data
    ]
    session.add_all(payments)
    session.flush()
    open_by_customer = _open_installments(session, {p.customer_id for p in payments})
    order = AllocationOrder(get_settings().allocation_order)
    for payment in payments:
        candidates = [
            inst
            for inst in open_by_customer.get(payment.customer_id, [])
            if inst.open_amount > ZERO and inst.invoice.currency == payment.currency
        ]
        preferred = next(
            (i.invoice_id for i in candidates if i.invoice.number == payment.invoice_reference),
            None,
        )
        ordered = allocation.order_for_allocation(
            candidates, order=order, preferred_invoice_id=preferred
        )
        applied = []
        for inst, amount in allocation.plan(payment.amount, ordered):
            session.add(allocation.apply_payment(payment, inst, amount))
            applied.append({"invoice": inst.invoice.number, "amount": f"{amount:.2f}"})
        if audit_each:
            audit.record(
                session,
                actor,
                "payment.recorded",
                subject_type="payment",
                subject_id=payment.id,
                customer_id=payment.customer_id,
                after={
                    "reference": payment.reference,
                    "amount": f"{payment.amount:.2f}",
                    "allocations": applied,
                },
            )
    session.flush()
    return payments


def _open_installments(session: Session, customer_ids: set[int]) -> dict[int, list[Installment]]:
    found: dict[int, list[Installment]] = defaultdict(list)
    for part in chunks(sorted(customer_ids)):
        invoices = session.scalars(
            select(Invoice)
            .where(Invoice.customer_id.in_(part), Invoice.status.in_(SETTLEABLE))
            .options(selectinload(Invoice.installments))
            .with_for_update(of=Invoice)
        ).all()
        for invoice in invoices:
            for inst in invoice.installments:
                if inst.status in SETTLEABLE:
                    found[inst.customer_id].append(inst)
    return found
