"""Scoping inside the services: a sales rep's change to an account he does not own is "not
found", exactly like a missing one, whatever entry point calls; system actors see all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, CustomerIn, TouchpointIn
from flywheel.errors import NotFound
from flywheel.models import Base
from flywheel.models.enums import Role, TouchpointKind
from flywheel.models.receivables import Allocation
from flywheel.receivables import service as receivables
from flywheel.receivables.schemas import CreditNoteCreate, InvoiceCreate, PaymentCreate
from flywheel.sales import service as sales
from flywheel.sales.schemas import OrderIn
from tests.factories import (
    TESTER,
    make_contact,
    make_customer,
    make_invoice,
    make_payment,
    make_user,
)


@pytest.fixture
def book(session: Session) -> dict[str, Any]:
    rep = make_user(session, username="rep", role=Role.SALES)
    rival = make_user(session, username="rival", role=Role.SALES)
    own = make_customer(session, code="OWN", owner=rep)
    other = make_customer(session, code="OTHER", owner=rival)
    invoice = make_invoice(session, customer=other, amount="100.00", due=date(2026, 2, 1))
    payment = make_payment(session, customer=other, amount="150.00")
    [allocation] = session.scalars(select(Allocation)).all()
    order = sales.create_order(
        session,
        actor=TESTER,
        data=OrderIn(
            number="ORD-1", customer_id=other.id, order_date=date(2026, 1, 1), amount=Decimal("5")
        ),
    )
    touchpoint = customers.log_touchpoint(
        session,
        actor=TESTER,
        data=TouchpointIn(
            customer_id=other.id,
            kind=TouchpointKind.CALL,
            occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
        ),
    )
    return {
        "rep": Actor.for_user(rep),
        "own": own,
        "other": other,
        "contact": make_contact(session, customer=other),
        "invoice": invoice,
        "payment": payment,
        "allocation": allocation,
        "order": order,
        "touchpoint": touchpoint,
    }


def _rows(session: Session) -> dict[str, int]:
    session.flush()
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0
        for t in Base.metadata.sorted_tables
    }


CALLS: dict[str, Callable[[Session, dict[str, Any]], object]] = {
    "update_customer": lambda s, b: customers.update_customer(
        s,
        actor=b["rep"],
        customer_id=b["other"].id,
        data=CustomerIn(code="OTHER", name="x", created_on=date(2025, 1, 1)),
    ),
    "add_contact": lambda s, b: customers.add_contact(
        s, actor=b["rep"], data=ContactIn(customer_id=b["other"].id, name="x")
    ),
    "update_contact": lambda s, b: customers.update_contact(
        s,
        actor=b["rep"],
        contact_id=b["contact"].id,
        data=ContactIn(customer_id=b["other"].id, name="x"),
    ),
    "move_contact": lambda s, b: customers.update_contact(
        s,
        actor=b["rep"],
        contact_id=b["contact"].id,
        data=ContactIn(customer_id=b["own"].id, name="x"),
    ),
    "log_touchpoint": lambda s, b: customers.log_touchpoint(
        s,
        actor=b["rep"],
        data=TouchpointIn(
            customer_id=b["other"].id,
            kind=TouchpointKind.VISIT,
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        ),
    ),
    "update_touchpoint": lambda s, b: customers.update_touchpoint(
        s,
        actor=b["rep"],
        touchpoint_id=b["touchpoint"].id,
        data=TouchpointIn(
            customer_id=b["own"].id,
            kind=TouchpointKind.VISIT,
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        ),
    ),
    "create_order": lambda s, b: sales.create_order(
        s,
        actor=b["rep"],
        data=OrderIn(
            number="ORD-2",
            customer_id=b["other"].id,
            order_date=date(2026, 1, 1),
            amount=Decimal("1"),
        ),
    ),
    "update_order": lambda s, b: sales.update_order(
        s,
        actor=b["rep"],
        order_id=b["order"].id,
        data=OrderIn(
            number="ORD-1",
            customer_id=b["own"].id,
            order_date=date(2026, 1, 1),
            amount=Decimal("1"),
        ),
    ),
    "create_invoice": lambda s, b: receivables.create_invoice(
        s,
        actor=b["rep"],
        data=InvoiceCreate(
            number="INV-X",
            customer_id=b["other"].id,
            issue_date=date(2026, 1, 1),
            amount=Decimal("1"),
        ),
    ),
    "cancel_invoice": lambda s, b: receivables.cancel_invoice(
        s, actor=b["rep"], invoice_id=b["invoice"].id, reason="x"
    ),
    "write_off_invoice": lambda s, b: receivables.write_off_invoice(
        s, actor=b["rep"], invoice_id=b["invoice"].id, on=date(2026, 3, 1), reason="x"
    ),
    "record_payment": lambda s, b: receivables.record_payment(
        s,
        actor=b["rep"],
        data=PaymentCreate(
            reference="P-X",
            customer_id=b["other"].id,
            received_on=date(2026, 3, 1),
            amount=Decimal("1"),
        ),
    ),
    "preview_allocation": lambda s, b: receivables.preview_allocation(
        s,
        actor=b["rep"],
        data=PaymentCreate(
            reference="P-X",
            customer_id=b["other"].id,
            received_on=date(2026, 3, 1),
            amount=Decimal("1"),
        ),
    ),
    "update_payment": lambda s, b: receivables.update_payment(
        s,
        actor=b["rep"],
        payment_id=b["payment"].id,
        data=PaymentCreate(
            reference=b["payment"].reference,
            customer_id=b["own"].id,
            received_on=date(2026, 3, 1),
            amount=Decimal("1"),
        ),
    ),
    "allocate": lambda s, b: receivables.allocate(
        s,
        actor=b["rep"],
        payment_id=b["payment"].id,
        installment_id=b["invoice"].installments[0].id,
        amount=Decimal("1"),
    ),
    "unallocate": lambda s, b: receivables.unallocate(
        s, actor=b["rep"], allocation_id=b["allocation"].id
    ),
    "apply_unallocated_credit": lambda s, b: receivables.apply_unallocated_credit(
        s, actor=b["rep"], customer_id=b["other"].id
    ),
    "issue_credit_note": lambda s, b: receivables.issue_credit_note(
        s,
        actor=b["rep"],
        data=CreditNoteCreate(
            number="CN-X",
            invoice_id=b["invoice"].id,
            issue_date=date(2026, 3, 1),
            amount=Decimal("1"),
        ),
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_sales_reps_change_outside_his_book_is_not_found_and_writes_nothing(
    session: Session, book: dict[str, Any], call: str
) -> None:
    before = _rows(session)

    with pytest.raises(NotFound):
        CALLS[call](session, book)

    assert _rows(session) == before


def test_the_same_change_by_a_system_actor_goes_through(
    session: Session, book: dict[str, Any]
) -> None:
    system = {**book, "rep": Actor.system("import:test")}

    CALLS["record_payment"](session, system)
    CALLS["update_contact"](session, system)

    assert receivables.get_payment_for(session, "P-X", actor=system["rep"]).amount == Decimal(
        "1.00"
    )


def test_preview_allocation_writes_nothing_and_matches_record_payment(
    session: Session, book: dict[str, Any]
) -> None:
    other = book["other"]
    make_invoice(session, customer=other, amount="80.00", due=date(2026, 1, 15))
    data = PaymentCreate(
        reference="P-NEW",
        customer_id=other.id,
        received_on=date(2026, 3, 1),
        amount=Decimal("70.00"),
    )
    before = _rows(session)

    preview = receivables.preview_allocation(session, actor=TESTER, data=data)

    assert _rows(session) == before
    payment = receivables.record_payment(session, actor=TESTER, data=data)
    made = receivables.payment_detail_of(session, payment).allocations
    assert [(p.invoice_number, p.installment, p.amount) for p in preview.allocations] == [
        (line.invoice_number, line.installment, line.allocation.amount) for line in made
    ]
    assert preview.unallocated == payment.unallocated_amount == Decimal("0.00")
