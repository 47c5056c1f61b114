"""Installment plans and extensions: the schedule they write into the ledger, exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.collections import arrangements
from flywheel.errors import Conflict, Forbidden, ValidationFailed
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import PaymentArrangement
from flywheel.models.enums import ArrangementStatus, Role
from flywheel.models.receivables import Installment, Invoice
from flywheel.receivables import consistency
from tests.collections.support import AS_OF, debtor
from tests.factories import TESTER, make_invoice, make_payment

COLLECTOR = Actor(name="collector", role=Role.COLLECTOR, user_id=None)
SALES = Actor(name="sales", role=Role.SALES, user_id=None)


def schedule_of(session: Session, customer_id: int) -> list[tuple[str, int, date, Decimal]]:
    rows = session.execute(
        select(Invoice.number, Installment.sequence, Installment.due_date, Installment.amount)
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(Installment.customer_id == customer_id)
        .order_by(Invoice.number, Installment.sequence)
    ).all()
    return [(n, s, d, a) for n, s, d, a in rows]


def test_plan_dates_monthly_keep_the_day_or_the_month_end() -> None:
    assert arrangements.plan_dates(date(2026, 1, 31), 3, 30) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert arrangements.plan_dates(date(2026, 1, 5), 3, 14) == [
        date(2026, 1, 5),
        date(2026, 1, 19),
        date(2026, 2, 2),
    ]


def test_split_even_puts_the_rounding_on_the_last_part() -> None:
    assert arrangements.split_even(Decimal("1000.00"), 3) == [
        Decimal("333.33"),
        Decimal("333.33"),
        Decimal("333.34"),
    ]


def test_plan_cuts_the_items_along_the_schedule(session: Session) -> None:
    customer = debtor(session, letter="D")
    first = make_invoice(
        session, customer=customer, amount="600.00", due=AS_OF - timedelta(days=40), number="P-1"
    )
    make_invoice(
        session, customer=customer, amount="900.00", due=AS_OF - timedelta(days=10), number="P-2"
    )
    make_payment(session, customer=customer, amount="100.00", received=AS_OF, invoice=first)
    plan = arrangements.propose_plan(
        session,
        actor=TESTER,
        customer=customer,
        count=3,
        first_due_on=date(2026, 7, 1),
        frequency_days=30,
        reason="现金流紧张，分三期付款",
        as_of=AS_OF,
    )
    assert plan.amount == Decimal("1400.00")
    assert [s["amount"] for s in plan.schedule] == ["466.67", "466.67", "466.66"]
    arrangements.approve(session, actor=TESTER, arrangement_id=plan.id, as_of=AS_OF)
    # P-1: 100 paid + 466.67 in July keeps its row, 33.33 goes to August.
    # P-2: 433.34 in August, 466.66 in September.
    assert schedule_of(session, customer.id) == [
        ("P-1", 1, date(2026, 7, 1), Decimal("566.67")),
        ("P-1", 2, date(2026, 8, 1), Decimal("33.33")),
        ("P-2", 1, date(2026, 8, 1), Decimal("433.34")),
        ("P-2", 2, date(2026, 9, 1), Decimal("466.66")),
    ]
    assert consistency.check_ledger(session) == []
    assert plan.status == ArrangementStatus.APPROVED.value
    originals = {i.installment_id: i.original_due_on for i in plan.items if not i.created}
    assert sorted(originals.values()) == [AS_OF - timedelta(days=40), AS_OF - timedelta(days=10)]
    assert sum(1 for i in plan.items if i.created) == 2


def test_plan_with_interest_bills_it_separately(session: Session) -> None:
    customer = debtor(session, letter="C")
    make_invoice(session, customer=customer, amount="3650.00", due=AS_OF - timedelta(days=5))
    plan = arrangements.propose_plan(
        session,
        actor=TESTER,
        customer=customer,
        count=2,
        first_due_on=AS_OF + timedelta(days=10),
        frequency_days=10,
        annual_interest_rate=0.10,
        reason="分期并计息",
        as_of=AS_OF,
    )
    # 1825 × 10 % × 10/365 = 5.00 and 1825 × 10 % × 20/365 = 10.00
    assert [s["interest"] for s in plan.schedule] == ["5.00", "10.00"]
    assert plan.interest_amount == Decimal("15.00")
    arrangements.approve(session, actor=TESTER, arrangement_id=plan.id, as_of=AS_OF)
    interest = session.get(Invoice, plan.interest_invoice_id)
    assert interest is not None
    assert interest.number == f"INT-PLAN-{plan.id}"
    assert [(i.due_date, i.amount) for i in interest.installments] == [
        (AS_OF + timedelta(days=10), Decimal("5.00")),
        (AS_OF + timedelta(days=20), Decimal("10.00")),
    ]


def test_a_payment_after_the_proposal_asks_for_a_new_one(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(session, customer=customer, amount="800.00", due=AS_OF)
    plan = arrangements.propose_plan(
        session,
        actor=TESTER,
        customer=customer,
        count=2,
        first_due_on=AS_OF + timedelta(days=7),
        frequency_days=7,
        reason="分两期",
        as_of=AS_OF,
    )
    make_payment(session, customer=customer, amount="50.00", received=AS_OF, invoice=invoice)
    before = schedule_of(session, customer.id)
    with pytest.raises(Conflict, match="changed since the arrangement was proposed"):
        arrangements.approve(session, actor=TESTER, arrangement_id=plan.id, as_of=AS_OF)
    assert schedule_of(session, customer.id) == before


def test_a_collector_approves_only_within_his_limit(session: Session) -> None:
    customer = debtor(session, letter="C")
    make_invoice(session, customer=customer, amount="60000.00", due=AS_OF)
    plan = arrangements.propose_plan(
        session,
        actor=COLLECTOR,
        customer=customer,
        count=6,
        first_due_on=AS_OF + timedelta(days=30),
        frequency_days=30,
        reason="大额分期",
        as_of=AS_OF,
    )
    before = schedule_of(session, customer.id)
    with pytest.raises(Forbidden, match="approves up to 50000.00"):
        arrangements.approve(session, actor=COLLECTOR, arrangement_id=plan.id, as_of=AS_OF)
    with pytest.raises(Forbidden, match="may not approve"):
        arrangements.approve(session, actor=SALES, arrangement_id=plan.id, as_of=AS_OF)
    assert schedule_of(session, customer.id) == before
    assert plan.status == ArrangementStatus.PROPOSED.value
    finance = Actor(name="finance", role=Role.FINANCE, user_id=None)
    arrangements.approve(session, actor=finance, arrangement_id=plan.id, as_of=AS_OF)
    assert plan.status == ArrangementStatus.APPROVED.value


def test_a_second_proposal_for_the_same_items_waits(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(session, customer=customer, amount="500.00", due=AS_OF)
    arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=invoice.installments[0].id,
        new_due_on=AS_OF + timedelta(days=20),
        reason="等客户回款",
        as_of=AS_OF,
    )
    with pytest.raises(Conflict, match="decide it first"):
        arrangements.propose_plan(
            session,
            actor=TESTER,
            customer=customer,
            count=2,
            first_due_on=AS_OF + timedelta(days=7),
            frequency_days=7,
            reason="分期",
            as_of=AS_OF,
        )
    assert session.scalar(select(func.count(PaymentArrangement.id))) == 1


def test_bad_proposals_name_the_field_and_write_nothing(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(session, customer=customer, amount="500.00", due=AS_OF)
    audits = session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(ValidationFailed, match="installments"):
        arrangements.propose_plan(
            session,
            actor=TESTER,
            customer=customer,
            count=1,
            first_due_on=AS_OF,
            frequency_days=30,
            reason="x",
            as_of=AS_OF,
        )
    with pytest.raises(ValidationFailed, match="reason"):
        arrangements.propose_extension(
            session,
            actor=TESTER,
            customer=customer,
            installment_id=invoice.installments[0].id,
            new_due_on=AS_OF + timedelta(days=5),
            reason="  ",
            as_of=AS_OF,
        )
    with pytest.raises(ValidationFailed, match="new_due_on"):
        arrangements.propose_extension(
            session,
            actor=TESTER,
            customer=customer,
            installment_id=invoice.installments[0].id,
            new_due_on=AS_OF - timedelta(days=1),
            reason="延期",
            as_of=AS_OF,
        )
    assert session.scalar(select(func.count(PaymentArrangement.id))) == 0
    assert session.scalar(select(func.count(AuditEvent.id))) == audits


def test_customer_confirmation_is_recorded_and_audited(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(session, customer=customer, amount="500.00", due=AS_OF)
    ext = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=invoice.installments[0].id,
        new_due_on=AS_OF + timedelta(days=15),
        reason="等客户回款",
        as_of=AS_OF,
    )
    arrangements.confirm_by_customer(
        session,
        actor=TESTER,
        arrangement_id=ext.id,
        confirmed_on=AS_OF,
        confirmation="王会计邮件确认",
    )
    assert ext.customer_confirmed_on == AS_OF
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_type == "arrangement")
    ).all()
    assert list(actions) == ["arrangement.proposed", "arrangement.confirmed_by_customer"]
