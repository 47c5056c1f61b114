"""Property: whatever sequence of invoices, payments, credit notes, corrections and write-offs
happens, every ledger invariant holds and no money appears or disappears."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.errors import FlywheelError
from flywheel.models.receivables import Allocation, Installment, Invoice, Payment
from flywheel.receivables import service
from flywheel.receivables.consistency import check_ledger
from flywheel.receivables.schemas import PaymentCreate
from tests.factories import TESTER, make_credit_note, make_customer, make_invoice, make_payment

cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c) / 100)
day = st.integers(min_value=0, max_value=200).map(lambda d: date(2026, 1, 1) + timedelta(days=d))

operation = st.one_of(
    st.tuples(st.just("invoice"), cents, day, st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("payment"), cents, day, st.booleans()),
    st.tuples(st.just("credit"), cents, st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("write_off"), st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("unallocate"), st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("correct"), cents, st.integers(min_value=0, max_value=50)),
    st.tuples(
        st.just("apply_credit"),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_ledger_invariants_hold_for_any_sequence(
    session: Session, ops: list[tuple[object, ...]]
) -> None:
    savepoint = session.begin_nested()
    try:
        _run(session, ops)
    finally:
        savepoint.rollback()


def _run(session: Session, ops: list[tuple[object, ...]]) -> None:
    customer = make_customer(session)
    invoices: list[Invoice] = []
    payments: list[Payment] = []
    received = Decimal("0.00")
    for op in ops:
        kind = op[0]
        try:
            with session.begin_nested():
                if kind == "invoice":
                    _, amount, issued, parts = op
                    assert isinstance(amount, Decimal)
                    assert isinstance(issued, date)
                    assert isinstance(parts, int)
                    split = _split(amount, parts)
                    schedule = [
                        (issued + timedelta(days=30 * (n + 1)), f"{a}") for n, a in enumerate(split)
                    ]
                    invoices.append(
                        make_invoice(
                            session,
                            customer=customer,
                            amount=amount,
                            issued=issued,
                            installments=schedule,
                        )
                    )
                elif kind == "payment":
                    _, amount, received_on, referenced = op
                    assert isinstance(amount, Decimal)
                    assert isinstance(received_on, date)
                    target = invoices[-1] if referenced and invoices else None
                    payments.append(
                        make_payment(
                            session,
                            customer=customer,
                            amount=amount,
                            received=received_on,
                            invoice=target,
                        )
                    )
                    received += amount
                elif kind == "credit" and invoices:
                    _, amount, pick = op
                    assert isinstance(amount, Decimal)
                    assert isinstance(pick, int)
                    make_credit_note(session, invoice=invoices[pick % len(invoices)], amount=amount)
                elif kind == "write_off" and invoices:
                    pick = op[1]
                    assert isinstance(pick, int)
                    inv = invoices[pick % len(invoices)]
                    service.write_off_invoice(
                        session, actor=TESTER, invoice_id=inv.id, on=date(2026, 12, 31), reason="x"
                    )
                elif kind == "unallocate":
                    rows = session.scalars(
                        select(Allocation).where(Allocation.payment_id.is_not(None))
                    ).all()
                    if rows:
                        pick = op[1]
                        assert isinstance(pick, int)
                        service.unallocate(
                            session, actor=TESTER, allocation_id=rows[pick % len(rows)].id
                        )
                elif kind == "correct" and payments:
                    _, amount, pick = op
                    assert isinstance(amount, Decimal)
                    assert isinstance(pick, int)
                    p = payments[pick % len(payments)]
                    old = p.amount
                    data = PaymentCreate(
                        reference=p.reference,
                        customer_id=customer.id,
                        received_on=p.received_on,
                        amount=amount,
                    )
                    service.update_payment(session, actor=TESTER, payment_id=p.id, data=data)
                    received += amount - old
                elif kind == "apply_credit":
                    service.apply_unallocated_credit(session, actor=TESTER, customer_id=customer.id)
        except FlywheelError:
            pass  # a refused operation must leave everything as it was: checked below
        assert check_ledger(session) == []

    # Conservation: money received equals what is allocated plus what is still unallocated.
    allocated = session.scalar(
        select(func.coalesce(func.sum(Allocation.amount), 0)).where(
            Allocation.payment_id.is_not(None), Allocation.customer_id == customer.id
        )
    )
    unallocated = sum((p.amount - p.allocated_amount for p in payments), Decimal("0.00"))
    assert Decimal(allocated) + unallocated == received
    for inst in session.scalars(select(Installment).where(Installment.customer_id == customer.id)):
        assert Decimal("0.00") <= inst.open_amount <= inst.amount


def _split(amount: Decimal, parts: int) -> list[Decimal]:
    cents_total = int(amount * 100)
    if cents_total < parts:
        return [amount]
    base = cents_total // parts
    out = [Decimal(base) / 100] * (parts - 1)
    out.append(Decimal(cents_total - base * (parts - 1)) / 100)
    return out
