"""Payments, allocations, credit notes and write-offs keep the ledger consistent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.errors import Conflict, CurrencyMismatch, InvalidAmount, InvoiceLocked, OverAllocation
from flywheel.models.audit import AuditEvent
from flywheel.models.receivables import Allocation
from flywheel.receivables import service
from flywheel.receivables.consistency import check_ledger
from flywheel.receivables.schemas import InvoiceCreate
from tests.factories import (
    TESTER,
    make_credit_note,
    make_customer,
    make_invoice,
    make_payment,
)

D = Decimal


def test_invoice_gets_one_installment_due_by_terms(session: Session) -> None:
    customer = make_customer(session, payment_terms="EOM60")

    invoice = make_invoice(session, customer=customer, amount="1200.00", issued=date(2026, 1, 15))

    assert [(i.due_date, i.amount) for i in invoice.installments] == [
        (date(2026, 4, 1), D("1200.00"))
    ]
    assert invoice.payment_terms == "EOM60"
    assert invoice.currency == "CNY"
    assert invoice.status == "open"


def test_installments_must_add_up_to_the_invoice(session: Session) -> None:
    customer = make_customer(session)

    with pytest.raises(InvalidAmount, match="add up to 900.00"):
        make_invoice(
            session,
            customer=customer,
            amount="1000.00",
            installments=[(date(2026, 2, 1), "400.00"), (date(2026, 3, 1), "500.00")],
        )


def test_payment_without_reference_pays_oldest_due_first(session: Session) -> None:
    customer = make_customer(session)
    late = make_invoice(
        session, customer=customer, amount="300.00", issued=date(2026, 1, 1), due=date(2026, 3, 1)
    )
    early = make_invoice(
        session, customer=customer, amount="500.00", issued=date(2026, 1, 5), due=date(2026, 2, 1)
    )

    payment = make_payment(session, customer=customer, amount="600.00")

    assert early.status == "paid"
    assert late.status == "partially_paid"
    assert late.open_amount == D("200.00")
    assert payment.allocated_amount == D("600.00")
    assert payment.status == "allocated"
    assert early.installments[0].settled_on == date(2026, 2, 1)
    assert check_ledger(session) == []


def test_referenced_invoice_is_paid_first_and_the_rest_oldest_first(session: Session) -> None:
    customer = make_customer(session)
    oldest = make_invoice(session, customer=customer, amount="100.00", due=date(2026, 1, 20))
    middle = make_invoice(session, customer=customer, amount="100.00", due=date(2026, 1, 25))
    named = make_invoice(session, customer=customer, amount="100.00", due=date(2026, 3, 1))

    make_payment(session, customer=customer, amount="150.00", invoice=named)

    assert named.status == "paid"
    assert oldest.open_amount == D("50.00")
    assert middle.open_amount == D("100.00")


def test_overpayment_is_kept_as_unallocated_credit_and_used_by_the_next_invoice(
    session: Session,
) -> None:
    customer = make_customer(session)
    invoice = make_invoice(session, customer=customer, amount="100.00")

    payment = make_payment(session, customer=customer, amount="250.00")

    assert invoice.status == "paid"
    assert payment.unallocated_amount == D("150.00")
    assert payment.status == "partially_allocated"

    later = make_invoice(session, customer=customer, amount="120.00", issued=date(2026, 3, 1))
    touched = service.apply_unallocated_credit(session, actor=TESTER, customer_id=customer.id)

    assert touched == 1
    assert later.status == "paid"
    assert payment.unallocated_amount == D("30.00")
    assert check_ledger(session) == []


def test_installment_invoice_is_paid_in_due_order(session: Session) -> None:
    customer = make_customer(session)
    invoice = make_invoice(
        session,
        customer=customer,
        amount="900.00",
        installments=[
            (date(2026, 3, 1), "300.00"),
            (date(2026, 2, 1), "300.00"),
            (date(2026, 4, 1), "300.00"),
        ],
    )

    make_payment(session, customer=customer, amount="450.00")

    by_due = sorted(invoice.installments, key=lambda i: i.due_date)
    assert [i.sequence for i in invoice.installments] == [1, 2, 3]
    assert [i.open_amount for i in by_due] == [D("0.00"), D("150.00"), D("300.00")]
    assert [i.status for i in by_due] == ["paid", "partially_paid", "open"]
    assert invoice.status == "partially_paid"


def test_overdue_is_a_state_as_of_a_date(session: Session) -> None:
    customer = make_customer(session)
    invoice = make_invoice(session, customer=customer, amount="100.00", due=date(2026, 2, 1))

    assert service.state_as_of(invoice, date(2026, 2, 1)) == "open"
    assert service.state_as_of(invoice, date(2026, 2, 2)) == "overdue"
    assert service.days_overdue(invoice.installments[0], date(2026, 2, 11)) == 10

    make_payment(session, customer=customer, amount="100.00", received=date(2026, 2, 5))

    assert service.state_as_of(invoice, date(2026, 3, 1)) == "paid"


def test_manual_allocation_cannot_exceed_payment_or_installment(session: Session) -> None:
    customer = make_customer(session)
    payment = make_payment(session, customer=customer, amount="100.00")  # nothing to pay yet
    invoice = make_invoice(session, customer=customer, amount="80.00")
    installment = invoice.installments[0]
    before = session.scalar(select(func.count()).select_from(Allocation))

    with pytest.raises(OverAllocation, match="exceeds the open amount 80.00"):
        service.allocate(
            session,
            actor=TESTER,
            payment_id=payment.id,
            installment_id=installment.id,
            amount=D("90.00"),
        )
    assert session.scalar(select(func.count()).select_from(Allocation)) == before

    service.allocate(
        session,
        actor=TESTER,
        payment_id=payment.id,
        installment_id=installment.id,
        amount=D("80.00"),
    )
    other = make_invoice(session, customer=customer, amount="500.00")
    with pytest.raises(OverAllocation, match="unallocated 20.00"):
        service.allocate(
            session,
            actor=TESTER,
            payment_id=payment.id,
            installment_id=other.installments[0].id,
            amount=D("30.00"),
        )
    assert payment.allocated_amount == D("80.00")
    assert check_ledger(session) == []


def test_money_of_another_customer_or_currency_is_refused(session: Session) -> None:
    ours = make_customer(session)
    theirs = make_customer(session)
    usd = make_customer(session, currency="USD")
    invoice = make_invoice(session, customer=ours, amount="100.00")
    foreign = make_payment(session, customer=theirs, amount="100.00")
    dollars = make_payment(session, customer=usd, amount="100.00")

    with pytest.raises(OverAllocation, match="another customer"):
        service.allocate(
            session,
            actor=TESTER,
            payment_id=foreign.id,
            installment_id=invoice.installments[0].id,
            amount=D("10.00"),
        )
    eur_invoice = make_invoice(session, customer=usd, amount="100.00", currency="EUR")
    with pytest.raises(CurrencyMismatch):
        service.allocate(
            session,
            actor=TESTER,
            payment_id=dollars.id,
            installment_id=eur_invoice.installments[0].id,
            amount=D("1.00"),
        )
    assert invoice.status == "open"


def test_credit_note_reduces_the_last_installment_first(session: Session) -> None:
    customer = make_customer(session)
    invoice = make_invoice(
        session,
        customer=customer,
        amount="1000.00",
        installments=[(date(2026, 2, 1), "500.00"), (date(2026, 3, 1), "500.00")],
    )

    make_credit_note(session, invoice=invoice, amount="700.00")

    assert [i.credited_amount for i in invoice.installments] == [D("200.00"), D("500.00")]
    assert invoice.installments[1].status == "paid"
    assert invoice.open_amount == D("300.00")
    with pytest.raises(InvalidAmount, match="exceeds the open amount 300.00"):
        make_credit_note(session, invoice=invoice, amount="300.01")
    assert check_ledger(session) == []


def test_write_off_closes_the_open_rest(session: Session) -> None:
    customer = make_customer(session)
    invoice = make_invoice(session, customer=customer, amount="1000.00")
    make_payment(session, customer=customer, amount="400.00")

    service.write_off_invoice(
        session, actor=TESTER, invoice_id=invoice.id, on=date(2026, 9, 30), reason="bankrupt"
    )

    assert invoice.status == "written_off"
    assert invoice.written_off_amount == D("600.00")
    assert invoice.installments[0].settled_on == date(2026, 9, 30)
    assert check_ledger(session) == []


def test_paid_invoice_cannot_change_amount_or_be_cancelled(session: Session) -> None:
    customer = make_customer(session)
    invoice = make_invoice(session, customer=customer, amount="100.00")
    make_payment(session, customer=customer, amount="10.00")
    data = InvoiceCreate(
        number=invoice.number,
        customer_id=customer.id,
        issue_date=invoice.issue_date,
        amount=D("90.00"),
    )

    with pytest.raises(InvoiceLocked):
        service.update_invoice(session, actor=TESTER, invoice_id=invoice.id, data=data)
    with pytest.raises(InvoiceLocked):
        service.cancel_invoice(session, actor=TESTER, invoice_id=invoice.id, reason="typo")
    assert invoice.amount == D("100.00")
    assert invoice.status == "partially_paid"


def test_payment_correction_reallocates(session: Session) -> None:
    customer = make_customer(session)
    first = make_invoice(session, customer=customer, amount="100.00", due=date(2026, 2, 1))
    second = make_invoice(session, customer=customer, amount="100.00", due=date(2026, 3, 1))
    payment = make_payment(session, customer=customer, amount="150.00")
    data = service.PaymentCreate(
        reference=payment.reference,
        customer_id=customer.id,
        received_on=payment.received_on,
        amount=D("80.00"),
    )

    _, changed = service.update_payment(session, actor=TESTER, payment_id=payment.id, data=data)

    assert changed is True
    assert first.open_amount == D("20.00")
    assert second.open_amount == D("100.00")
    assert payment.allocated_amount == D("80.00")
    assert check_ledger(session) == []


def test_unallocate_reopens_the_installment(session: Session) -> None:
    customer = make_customer(session)
    invoice = make_invoice(session, customer=customer, amount="100.00")
    payment = make_payment(session, customer=customer, amount="100.00")
    row = session.scalars(select(Allocation).where(Allocation.payment_id == payment.id)).one()

    service.unallocate(session, actor=TESTER, allocation_id=row.id)

    assert invoice.status == "open"
    assert invoice.installments[0].settled_on is None
    assert payment.status == "unallocated"
    assert check_ledger(session) == []


def test_duplicate_numbers_are_refused(session: Session) -> None:
    customer = make_customer(session)
    make_invoice(session, customer=customer, number="INV-1")
    make_payment(session, customer=customer, amount="1.00", reference="PAY-1")

    with pytest.raises(Conflict):
        make_invoice(session, customer=customer, number="INV-1")
    with pytest.raises(Conflict):
        make_payment(session, customer=customer, amount="1.00", reference="PAY-1")


def test_every_change_is_audited_with_before_and_after(session: Session) -> None:
    customer = make_customer(session)
    invoice = make_invoice(session, customer=customer, amount="100.00")
    make_payment(session, customer=customer, amount="100.00")

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.customer_id == customer.id).order_by(AuditEvent.id)
    ).all()

    assert [e.action for e in events] == ["customer.created", "invoice.created", "payment.recorded"]
    assert events[1].after is not None
    assert events[1].after["amount"] == "100.00"
    assert events[2].after is not None
    assert events[2].after["allocations"] == [
        {"invoice": invoice.number, "installment": "1", "amount": "100.00"}
    ]
    assert all(e.actor_name == "tests" for e in events)
