"""The collections services one by one: promises, disputes, arrangements, strategies, actions
and the worklist. Exact amounts as Decimal; a refused change writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.collections import (
    actions,
    arrangements,
    disputes,
    holds,
    promises,
    strategies,
    worklist,
)
from flywheel.errors import Conflict, Forbidden, InvalidAmount, NotFound, ValidationFailed
from flywheel.models import Base
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import (
    CollectionAction,
    CollectionStrategy,
    CreditHoldPlacement,
    Dispute,
    PromiseToPay,
)
from flywheel.models.customers import Customer, Touchpoint
from flywheel.models.enums import (
    ActionKind,
    ActionStatus,
    ArrangementStatus,
    CallOutcome,
    CollectionChannel,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    InvoiceStatus,
    PromiseStatus,
    Role,
)
from flywheel.models.receivables import Installment, Invoice
from tests.collections.support import AS_OF, debtor
from tests.factories import TESTER, make_invoice, make_payment, make_user

D = Decimal


def actor_of(session: Session, role: Role) -> Actor:
    return Actor.for_user(make_user(session, role=role))


def installments_of(session: Session, invoice: Invoice) -> list[Installment]:
    return list(
        session.scalars(
            select(Installment)
            .where(Installment.invoice_id == invoice.id)
            .order_by(Installment.sequence)
        )
    )


def state(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: equal before and after exactly when nothing was written."""
    session.flush()
    return {
        table.name: [
            tuple(row)
            for row in session.execute(
                select(table).order_by(*(list(table.primary_key.columns) or list(table.columns)))
            )
        ]
        for table in Base.metadata.sorted_tables
    }


def audits(session: Session, action: str) -> int:
    return session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def open_book(session: Session) -> tuple[Customer, Invoice, Invoice]:
    """A customer owing 1,000.00 due 2026-05-01 and 500.00 due 2026-06-01."""
    customer = debtor(session, letter="C")
    old = make_invoice(
        session, customer=customer, amount="1000.00", issued=date(2026, 4, 1), due=date(2026, 5, 1)
    )
    new = make_invoice(
        session, customer=customer, amount="500.00", issued=date(2026, 5, 1), due=date(2026, 6, 1)
    )
    return customer, old, new


# ---------------------------------------------------------------- promises


def test_a_promise_covers_the_oldest_items_up_to_its_amount(session: Session) -> None:
    customer, old, new = open_book(session)
    collector = actor_of(session, Role.COLLECTOR)

    promise = promises.record_promise(
        session,
        actor=collector,
        customer=customer,
        amount=D("1000.01"),
        promised_on=AS_OF + timedelta(days=7),
        as_of=AS_OF,
        note="  下周一付  ",
    )

    assert promise.amount == D("1000.01")
    assert promise.currency == "CNY"
    assert promise.status == PromiseStatus.PENDING.value
    assert promise.paid_amount == D("0.00")
    assert promise.grace_days == 3
    assert promise.note == "下周一付"
    assert promise.made_on == AS_OF
    assert promise.created_by_id == collector.user_id
    covered = sorted(item.installment_id for item in promise.items)
    assert covered == [installments_of(session, old)[0].id, installments_of(session, new)[0].id]
    assert audits(session, "promise.recorded") == 1


def test_a_promise_of_exactly_one_item_covers_only_it(session: Session) -> None:
    customer, old, _ = open_book(session)

    promise = promises.record_promise(
        session, actor=TESTER, customer=customer, amount=D("1000"), promised_on=AS_OF, as_of=AS_OF
    )

    assert [i.installment_id for i in promise.items] == [installments_of(session, old)[0].id]


@pytest.mark.parametrize(
    ("amount", "days", "field", "message"),
    [
        (D("0"), 3, "amount", "amount: a promise to pay is for more than 0"),
        (D("1500.01"), 3, "amount", "amount: 1500.01 is more than"),
        (D("10"), -1, "promised_on", "promised_on: 2026-06-14 is before today (2026-06-15)"),
        (D("10"), 181, "promised_on", "promised_on: more than 180 days ahead"),
    ],
)
def test_a_bad_promise_names_the_field_and_writes_nothing(
    session: Session, amount: Decimal, days: int, field: str, message: str
) -> None:
    customer, _, _ = open_book(session)
    before = state(session)

    with pytest.raises(ValidationFailed) as caught:
        promises.record_promise(
            session,
            actor=TESTER,
            customer=customer,
            amount=amount,
            promised_on=AS_OF + timedelta(days=days),
            as_of=AS_OF,
        )

    assert caught.value.details["field"] == field
    assert caught.value.message.startswith(message)
    assert state(session) == before


def test_a_promise_on_items_not_open_names_them(session: Session) -> None:
    customer, old, _ = open_book(session)
    other = debtor(session)
    theirs = make_invoice(session, customer=other, amount="10.00", due=date(2026, 5, 1))
    stranger = installments_of(session, theirs)[0].id

    with pytest.raises(ValidationFailed) as caught:
        promises.record_promise(
            session,
            actor=TESTER,
            customer=customer,
            amount=D("10"),
            promised_on=AS_OF,
            as_of=AS_OF,
            installment_ids=[installments_of(session, old)[0].id, stranger],
        )

    assert caught.value.details["field"] == "installment_ids"
    assert caught.value.message == (
        f"installment_ids: {stranger} are not open items of {customer.code} in CNY"
    )


def test_a_viewer_may_not_record_a_promise(session: Session) -> None:
    customer, _, _ = open_book(session)
    viewer = actor_of(session, Role.VIEWER)
    before = state(session)

    with pytest.raises(Forbidden):
        promises.record_promise(
            session, actor=viewer, customer=customer, amount=D("10"), promised_on=AS_OF, as_of=AS_OF
        )

    assert state(session) == before


def test_payments_keep_a_promise_and_its_absence_breaks_it_after_the_grace(
    session: Session,
) -> None:
    customer, _, _ = open_book(session)
    kept = promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=D("600.00"),
        promised_on=AS_OF + timedelta(days=5),
        as_of=AS_OF,
    )
    # Half before the day, the rest on the last day of grace.
    make_payment(session, customer=customer, amount="300.00", received=AS_OF + timedelta(days=2))

    early = promises.evaluate(session, as_of=AS_OF + timedelta(days=8))
    assert early.kept == []
    assert early.broken == []
    assert kept.paid_amount == D("300.00")
    assert kept.status == PromiseStatus.PENDING.value

    # Recording the payment keeps the promise at once.
    make_payment(session, customer=customer, amount="300.00", received=AS_OF + timedelta(days=8))
    assert kept.status == PromiseStatus.KEPT.value
    assert promises.evaluate(session, as_of=AS_OF + timedelta(days=8)).kept == []
    assert kept.paid_amount == D("600.00")
    assert kept.resolved_on == AS_OF + timedelta(days=8)

    second = promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=D("100.00"),
        promised_on=AS_OF + timedelta(days=10),
        as_of=AS_OF + timedelta(days=9),
    )
    # The last day of grace is day 13: not broken yet; day 14 is.
    assert promises.evaluate(session, as_of=AS_OF + timedelta(days=13)).broken == []
    assert promises.evaluate(session, as_of=AS_OF + timedelta(days=14)).broken == [second]
    assert second.status == PromiseStatus.BROKEN.value
    assert second.paid_amount == D("0.00")
    assert promises.broken_counts(session, as_of=AS_OF + timedelta(days=14), since=AS_OF) == {
        customer.id: 1
    }
    rate = promises.keeping_rate(session, since=AS_OF, until=AS_OF + timedelta(days=30))
    assert (rate.kept, rate.broken, rate.rate) == (1, 1, 0.5)


def test_one_payment_does_not_keep_two_promises(session: Session) -> None:
    customer, _, _ = open_book(session)
    first = promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=D("100.00"),
        promised_on=AS_OF + timedelta(days=3),
        as_of=AS_OF,
    )
    second = promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=D("100.00"),
        promised_on=AS_OF + timedelta(days=20),
        as_of=AS_OF,
    )
    make_payment(session, customer=customer, amount="100.00", received=AS_OF + timedelta(days=1))

    # The payment keeps the promise due first, at once; the second one is still waiting.
    assert first.status == PromiseStatus.KEPT.value
    assert first.paid_amount == D("100.00")
    check = promises.evaluate(session, as_of=AS_OF + timedelta(days=2))

    assert check.kept == []
    assert second.status == PromiseStatus.PENDING.value
    assert second.paid_amount == D("0.00")


def test_paused_installments_end_with_the_grace_period(session: Session) -> None:
    customer, old, _ = open_book(session)
    promises.record_promise(
        session, actor=TESTER, customer=customer, amount=D("10"), promised_on=AS_OF, as_of=AS_OF
    )
    item = installments_of(session, old)[0].id

    assert promises.paused_installments(session, as_of=AS_OF + timedelta(days=3)) >= {item}
    assert item not in promises.paused_installments(session, as_of=AS_OF + timedelta(days=4))


def test_cancelling_a_promise_needs_a_reason_and_only_once(session: Session) -> None:
    customer, _, _ = open_book(session)
    promise = promises.record_promise(
        session, actor=TESTER, customer=customer, amount=D("10"), promised_on=AS_OF, as_of=AS_OF
    )
    before = state(session)
    with pytest.raises(ValidationFailed) as caught:
        promises.cancel_promise(
            session, actor=TESTER, promise_id=promise.id, reason=" ", as_of=AS_OF
        )
    assert caught.value.details["field"] == "reason"
    assert state(session) == before

    promises.cancel_promise(
        session, actor=TESTER, promise_id=promise.id, reason="改为分期", as_of=AS_OF
    )
    assert promise.status == PromiseStatus.CANCELLED.value
    assert promise.resolved_on == AS_OF
    assert promise.note == "改为分期"
    with pytest.raises(Conflict, match="already cancelled"):
        promises.cancel_promise(
            session, actor=TESTER, promise_id=promise.id, reason="again", as_of=AS_OF
        )


def test_a_sales_rep_cannot_see_another_reps_promise(session: Session) -> None:
    owner = make_user(session, role=Role.SALES)
    customer = debtor(session, owner=owner)
    make_invoice(session, customer=customer, amount="100.00", due=date(2026, 5, 1))
    promise = promises.record_promise(
        session, actor=TESTER, customer=customer, amount=D("10"), promised_on=AS_OF, as_of=AS_OF
    )
    rival = actor_of(session, Role.SALES)
    before = state(session)

    with pytest.raises(NotFound):
        promises.cancel_promise(
            session, actor=rival, promise_id=promise.id, reason="x", as_of=AS_OF
        )

    assert state(session) == before
    assert promises.get_promise_for(session, promise.id, actor=Actor.for_user(owner)) is promise


# ---------------------------------------------------------------- disputes


def test_a_dispute_takes_part_of_an_item_out_of_dunning(session: Session) -> None:
    customer, old, _ = open_book(session)
    item = installments_of(session, old)[0]
    collector = actor_of(session, Role.COLLECTOR)

    first = disputes.open_dispute(
        session,
        actor=collector,
        customer=customer,
        installment_id=item.id,
        reason="price",
        as_of=AS_OF,
        amount=D("250.004"),
        description="  单价不符 ",
    )
    rest = disputes.open_dispute(
        session,
        actor=collector,
        customer=customer,
        installment_id=item.id,
        reason=DisputeReason.QUALITY,
        as_of=AS_OF,
    )

    assert first.amount == D("250.00")
    assert first.description == "单价不符"
    assert first.owner_id == collector.user_id
    assert first.sla_due_on == AS_OF + timedelta(days=10)
    assert first.invoice_id == old.id
    assert first.currency == "CNY"
    assert rest.amount == D("750.00")
    assert disputes.disputed_open(session, [item.id]) == {item.id: D("1000.00")}
    with pytest.raises(Conflict, match="nothing left to dispute"):
        disputes.open_dispute(
            session,
            actor=collector,
            customer=customer,
            installment_id=item.id,
            reason="other",
            as_of=AS_OF,
        )


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"reason": "weather"}, ValidationFailed, "reason"),
        ({"amount": D("1000.01")}, InvalidAmount, "amount"),
        ({"amount": D("0")}, InvalidAmount, "amount"),
    ],
)
def test_a_bad_dispute_names_the_field_and_writes_nothing(
    session: Session, changes: dict[str, Any], error: type[Exception], field: str
) -> None:
    customer, old, _ = open_book(session)
    before = state(session)
    arguments: dict[str, Any] = {"reason": "price", **changes}

    with pytest.raises(error) as caught:
        disputes.open_dispute(
            session,
            actor=TESTER,
            customer=customer,
            installment_id=installments_of(session, old)[0].id,
            as_of=AS_OF,
            **arguments,
        )

    assert caught.value.details["field"] == field  # type: ignore[attr-defined]
    assert state(session) == before


def test_a_dispute_on_another_customers_item_is_not_found(session: Session) -> None:
    customer, _, _ = open_book(session)
    other = debtor(session)
    theirs = make_invoice(session, customer=other, amount="10.00", due=date(2026, 5, 1))
    before = state(session)

    with pytest.raises(NotFound):
        disputes.open_dispute(
            session,
            actor=TESTER,
            customer=customer,
            installment_id=installments_of(session, theirs)[0].id,
            reason="price",
            as_of=AS_OF,
        )

    assert state(session) == before


def test_a_viewer_may_not_open_a_dispute(session: Session) -> None:
    customer, old, _ = open_book(session)
    viewer = actor_of(session, Role.VIEWER)

    with pytest.raises(Forbidden):
        disputes.open_dispute(
            session,
            actor=viewer,
            customer=customer,
            installment_id=installments_of(session, old)[0].id,
            reason="price",
            as_of=AS_OF,
        )


def test_resolving_by_credit_note_reduces_the_invoice(session: Session) -> None:
    customer, old, _ = open_book(session)
    item = installments_of(session, old)[0]
    dispute = disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=item.id,
        reason="quantity",
        as_of=AS_OF,
        amount=D("120.00"),
    )
    finance = actor_of(session, Role.FINANCE)

    disputes.resolve_dispute(
        session,
        actor=finance,
        dispute_id=dispute.id,
        resolution="credit_note",
        as_of=AS_OF + timedelta(days=2),
    )

    assert dispute.status == DisputeStatus.RESOLVED.value
    assert dispute.resolution == DisputeResolution.CREDIT_NOTE.value
    assert dispute.resolved_on == AS_OF + timedelta(days=2)
    assert dispute.credit_note_id is not None
    session.refresh(item)
    assert item.credited_amount == D("120.00")
    assert item.open_amount == D("880.00")
    assert disputes.disputed_open(session, [item.id]) == {}


def test_a_rejection_needs_a_note_and_a_sales_rep_may_not_resolve(session: Session) -> None:
    customer, old, _ = open_book(session)
    dispute = disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=installments_of(session, old)[0].id,
        reason="delivery",
        as_of=AS_OF,
    )
    rep = actor_of(session, Role.SALES)
    before = state(session)

    with pytest.raises(ValidationFailed) as caught:
        disputes.resolve_dispute(
            session, actor=TESTER, dispute_id=dispute.id, resolution="rejected", as_of=AS_OF
        )
    assert caught.value.details["field"] == "note"
    with pytest.raises(Forbidden):
        disputes.resolve_dispute(
            session,
            actor=rep,
            dispute_id=dispute.id,
            resolution="rejected",
            as_of=AS_OF,
            note="x",
        )
    with pytest.raises(ValidationFailed) as bad:
        disputes.resolve_dispute(
            session, actor=TESTER, dispute_id=dispute.id, resolution="maybe", as_of=AS_OF
        )
    assert bad.value.details["field"] == "resolution"
    assert state(session) == before

    disputes.resolve_dispute(
        session,
        actor=TESTER,
        dispute_id=dispute.id,
        resolution="rejected",
        as_of=AS_OF,
        note="已交付，签收单在案",
    )
    assert dispute.resolution_note == "已交付，签收单在案"
    with pytest.raises(Conflict, match="already resolved"):
        disputes.resolve_dispute(
            session,
            actor=TESTER,
            dispute_id=dispute.id,
            resolution="rejected",
            as_of=AS_OF,
            note="again",
        )


def test_a_dispute_past_its_sla_is_escalated_once(session: Session) -> None:
    customer, old, _ = open_book(session)
    dispute = disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=installments_of(session, old)[0].id,
        reason="price",
        as_of=AS_OF,
        amount=D("40.00"),
    )

    assert disputes.escalate_past_sla(session, actor=TESTER, as_of=AS_OF + timedelta(days=10)) == 0
    assert disputes.escalate_past_sla(session, actor=TESTER, as_of=AS_OF + timedelta(days=11)) == 1
    assert disputes.escalate_past_sla(session, actor=TESTER, as_of=AS_OF + timedelta(days=12)) == 0

    [task] = session.scalars(
        select(CollectionAction).where(CollectionAction.customer_id == customer.id)
    ).all()
    assert task.kind == ActionKind.DISPUTE_SLA.value
    assert task.channel == CollectionChannel.ESCALATION.value
    assert task.amount == D("40.00")
    assert dispute.escalated_on == AS_OF + timedelta(days=11)


# ---------------------------------------------------------------- arrangements


def test_plan_arithmetic() -> None:
    assert arrangements.split_even(D("100.00"), 3) == [D("33.33"), D("33.33"), D("33.34")]
    assert arrangements.split_even(D("0.05"), 2) == [D("0.03"), D("0.02")]
    assert arrangements.plan_dates(date(2026, 1, 31), 4, 30) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert arrangements.plan_dates(date(2026, 12, 15), 2, 30) == [
        date(2026, 12, 15),
        date(2027, 1, 15),
    ]
    assert arrangements.plan_dates(date(2026, 1, 1), 3, 14) == [
        date(2026, 1, 1),
        date(2026, 1, 15),
        date(2026, 1, 29),
    ]
    # 1000.00 × 6 % × 73 / 365 = 12.00
    assert arrangements.plan_interest(
        [D("1000.00"), D("1000.00")],
        [date(2026, 3, 15), date(2026, 1, 1)],
        as_of=date(2026, 1, 1),
        annual_rate=0.06,
    ) == [D("12.00"), D("0.00")]


def test_an_approved_plan_cuts_the_items_along_its_schedule(session: Session) -> None:
    customer, old, new = open_book(session)
    make_payment(session, customer=customer, amount="250.00", received=date(2026, 6, 1))
    # Open now: 750.00 of the old invoice, 500.00 of the new one.
    collector = actor_of(session, Role.COLLECTOR)
    plan = arrangements.propose_plan(
        session,
        actor=collector,
        customer=customer,
        count=3,
        first_due_on=date(2026, 7, 1),
        frequency_days=30,
        reason="资金紧张",
        as_of=AS_OF,
    )
    assert plan.amount == D("1250.00")
    assert plan.status == ArrangementStatus.PROPOSED.value
    assert plan.schedule == [
        {"due_on": "2026-07-01", "amount": "416.67", "interest": "0.00"},
        {"due_on": "2026-08-01", "amount": "416.67", "interest": "0.00"},
        {"due_on": "2026-09-01", "amount": "416.66", "interest": "0.00"},
    ]

    arrangements.approve(session, actor=collector, arrangement_id=plan.id, as_of=AS_OF)

    old_parts = [(i.due_date, i.amount, i.open_amount) for i in installments_of(session, old)]
    new_parts = [(i.due_date, i.amount, i.open_amount) for i in installments_of(session, new)]
    assert old_parts == [
        (date(2026, 7, 1), D("666.67"), D("416.67")),  # 250.00 paid + the first part
        (date(2026, 8, 1), D("333.33"), D("333.33")),
    ]
    assert new_parts == [
        (date(2026, 8, 1), D("83.34"), D("83.34")),
        (date(2026, 9, 1), D("416.66"), D("416.66")),
    ]
    assert plan.status == ArrangementStatus.APPROVED.value
    assert plan.decided_by_id == collector.user_id
    history = sorted(
        (it.original_due_on, it.original_amount, it.open_amount, it.new_due_on, it.created)
        for it in plan.items
    )
    assert history == [
        (date(2026, 5, 1), D("0.00"), D("0.00"), date(2026, 8, 1), True),
        (date(2026, 5, 1), D("1000.00"), D("750.00"), date(2026, 7, 1), False),
        (date(2026, 6, 1), D("0.00"), D("0.00"), date(2026, 9, 1), True),
        (date(2026, 6, 1), D("500.00"), D("500.00"), date(2026, 8, 1), False),
    ]
    session.refresh(old)
    assert old.amount == D("1000.00")
    assert old.open_amount == D("750.00")


def test_a_plan_with_interest_invoices_the_interest(session: Session) -> None:
    customer, _, _ = open_book(session)
    plan = arrangements.propose_plan(
        session,
        actor=TESTER,
        customer=customer,
        count=2,
        first_due_on=AS_OF + timedelta(days=73),
        frequency_days=73,
        reason="两期",
        as_of=AS_OF,
        annual_interest_rate=0.06,
    )
    # 750.00 × 6 % × 73/365 = 9.00; × 146/365 = 18.00
    assert plan.interest_amount == D("27.00")

    arrangements.approve(session, actor=TESTER, arrangement_id=plan.id, as_of=AS_OF)

    interest = session.get(Invoice, plan.interest_invoice_id)
    assert interest is not None
    assert interest.number == f"INT-PLAN-{plan.id}"
    assert interest.amount == D("27.00")
    assert [(i.due_date, i.amount) for i in installments_of(session, interest)] == [
        (AS_OF + timedelta(days=73), D("9.00")),
        (AS_OF + timedelta(days=146), D("18.00")),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"count": 1}, "installments"),
        ({"count": 37}, "installments"),
        ({"frequency_days": 6}, "frequency_days"),
        ({"first_due_on": AS_OF - timedelta(days=1)}, "first_due_on"),
        ({"annual_interest_rate": 0.51}, "annual_interest_rate"),
        ({"reason": "  "}, "reason"),
        ({"installment_ids": [999_999_999]}, "installment_ids"),
    ],
)
def test_a_bad_plan_names_the_field_and_writes_nothing(
    session: Session, changes: dict[str, Any], field: str
) -> None:
    customer, _, _ = open_book(session)
    before = state(session)
    arguments: dict[str, Any] = {
        "count": 3,
        "first_due_on": AS_OF,
        "frequency_days": 30,
        "reason": "x",
        **changes,
    }

    with pytest.raises(ValidationFailed) as caught:
        arrangements.propose_plan(
            session, actor=TESTER, customer=customer, as_of=AS_OF, **arguments
        )

    assert caught.value.details["field"] == field
    assert state(session) == before


def test_an_extension_moves_one_due_date_and_keeps_the_original(session: Session) -> None:
    customer, old, _ = open_book(session)
    item = installments_of(session, old)[0]
    extension = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=item.id,
        new_due_on=date(2026, 7, 31),
        reason="等待验收",
        as_of=AS_OF,
    )
    with pytest.raises(Conflict, match=f"arrangement {extension.id} already proposes"):
        arrangements.propose_plan(
            session,
            actor=TESTER,
            customer=customer,
            count=2,
            first_due_on=AS_OF,
            frequency_days=30,
            reason="x",
            as_of=AS_OF,
        )

    arrangements.confirm_by_customer(
        session,
        actor=TESTER,
        arrangement_id=extension.id,
        confirmed_on=AS_OF,
        confirmation="王会计 邮件确认",
    )
    arrangements.approve(session, actor=TESTER, arrangement_id=extension.id, as_of=AS_OF)

    assert item.due_date == date(2026, 7, 31)
    assert extension.amount == D("1000.00")
    assert extension.customer_confirmed_on == AS_OF
    [history] = extension.items
    assert (history.original_due_on, history.new_due_on) == (date(2026, 5, 1), date(2026, 7, 31))
    assert arrangements.extended_installments(session, as_of=date(2026, 7, 30)) >= {item.id}
    assert item.id not in arrangements.extended_installments(session, as_of=date(2026, 7, 31))


@pytest.mark.parametrize(
    ("new_due_on", "field"),
    [(date(2026, 5, 1), "new_due_on"), (AS_OF + timedelta(days=366), "new_due_on")],
)
def test_a_bad_extension_names_the_field(session: Session, new_due_on: date, field: str) -> None:
    customer, old, _ = open_book(session)
    before = state(session)

    with pytest.raises(ValidationFailed) as caught:
        arrangements.propose_extension(
            session,
            actor=TESTER,
            customer=customer,
            installment_id=installments_of(session, old)[0].id,
            new_due_on=new_due_on,
            reason="x",
            as_of=AS_OF,
        )

    assert caught.value.details["field"] == field
    assert state(session) == before


def test_approval_is_limited_by_role_and_a_refusal_changes_nothing(session: Session) -> None:
    customer = debtor(session)
    invoice = make_invoice(session, customer=customer, amount="60000.00", due=date(2026, 5, 1))
    item = installments_of(session, invoice)[0]
    extension = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=item.id,
        new_due_on=date(2026, 7, 31),
        reason="x",
        as_of=AS_OF,
    )
    collector = actor_of(session, Role.COLLECTOR)
    manager = actor_of(session, Role.MANAGER)
    before = state(session)

    with pytest.raises(Forbidden) as over:
        arrangements.approve(session, actor=collector, arrangement_id=extension.id, as_of=AS_OF)
    assert over.value.message == (
        f"arrangement {extension.id} is for 60000.00 CNY; the role collector approves up to "
        "50000.00"
    )
    with pytest.raises(Forbidden):
        arrangements.approve(session, actor=manager, arrangement_id=extension.id, as_of=AS_OF)
    with pytest.raises(Forbidden):
        arrangements.reject(session, actor=manager, arrangement_id=extension.id, note="no")
    assert state(session) == before

    arrangements.approve(
        session, actor=actor_of(session, Role.FINANCE), arrangement_id=extension.id, as_of=AS_OF
    )
    assert item.due_date == date(2026, 7, 31)


def test_approval_refuses_an_item_that_changed_since_the_proposal(session: Session) -> None:
    customer, old, _ = open_book(session)
    item = installments_of(session, old)[0]
    extension = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=item.id,
        new_due_on=date(2026, 7, 31),
        reason="x",
        as_of=AS_OF,
    )
    make_payment(session, customer=customer, amount="100.00", received=AS_OF)
    before = state(session)

    with pytest.raises(Conflict, match="changed since the arrangement was proposed"):
        arrangements.approve(session, actor=TESTER, arrangement_id=extension.id, as_of=AS_OF)

    assert state(session) == before
    assert item.due_date == date(2026, 5, 1)


def test_a_decided_arrangement_is_neither_cancelled_nor_rejected(session: Session) -> None:
    customer, old, _ = open_book(session)
    extension = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=installments_of(session, old)[0].id,
        new_due_on=date(2026, 7, 31),
        reason="x",
        as_of=AS_OF,
    )
    with pytest.raises(ValidationFailed) as caught:
        arrangements.reject(session, actor=TESTER, arrangement_id=extension.id, note="")
    assert caught.value.details["field"] == "note"

    arrangements.reject(session, actor=TESTER, arrangement_id=extension.id, note="先付一半")

    assert extension.status == ArrangementStatus.REJECTED.value
    assert extension.decision_note == "先付一半"
    with pytest.raises(Conflict):
        arrangements.cancel(session, actor=TESTER, arrangement_id=extension.id, note="")
    with pytest.raises(Conflict):
        arrangements.confirm_by_customer(
            session, actor=TESTER, arrangement_id=extension.id, confirmed_on=AS_OF, confirmation="x"
        )


# ---------------------------------------------------------------- strategies


def test_saving_a_strategy_keeps_the_identity_of_unchanged_steps(session: Session) -> None:
    strategies.ensure_defaults(session)
    [general_a] = session.scalars(
        select(CollectionStrategy).where(
            CollectionStrategy.grade == "A", CollectionStrategy.tier.is_(None)
        )
    ).all()
    call = next(s for s in general_a.steps if s.channel == "call")
    admin = actor_of(session, Role.ADMIN)

    saved = strategies.save_strategy(
        session,
        actor=admin,
        grade=" a ",
        tier=None,
        name=" A — short ",
        steps=[
            strategies.StepIn(day_offset=15, channel="call", automatic=False),
            strategies.StepIn(day_offset=-2, channel="email", template="friendly_reminder"),
            strategies.StepIn(day_offset=40, channel="escalation"),
        ],
    )

    assert saved is general_a
    assert saved.name == "A — short"
    assert [(s.day_offset, s.channel, s.template, s.automatic, s.target) for s in saved.steps] == [
        (-2, "email", "friendly_reminder", True, None),
        (15, "call", None, False, None),
        (40, "escalation", None, True, "owner"),
    ]
    assert next(s for s in saved.steps if s.channel == "call").id == call.id
    assert audits(session, "collections.strategy_saved") == 1


@pytest.mark.parametrize(
    ("grade", "tier", "name", "field"),
    [("F", None, "x", "grade"), ("A", "gold", "x", "tier"), ("A", None, "  ", "name")],
)
def test_a_bad_strategy_names_the_field(
    session: Session, grade: str, tier: str | None, name: str, field: str
) -> None:
    before = state(session)

    with pytest.raises(ValidationFailed) as caught:
        strategies.save_strategy(session, actor=TESTER, grade=grade, tier=tier, name=name, steps=[])

    assert caught.value.details["field"] == field
    assert state(session) == before


def test_two_steps_on_one_day_and_channel_are_refused(session: Session) -> None:
    step = strategies.StepIn(day_offset=3, channel="call")
    with pytest.raises(ValidationFailed) as caught:
        strategies.save_strategy(
            session, actor=TESTER, grade="B", tier="key", name="x", steps=[step, step]
        )
    assert caught.value.details["field"] == "steps[1]"


def test_step_rules() -> None:
    with pytest.raises(ValueError, match="needs a template"):
        strategies.StepIn(day_offset=1, channel="email")
    with pytest.raises(ValueError, match="unknown template"):
        strategies.StepIn(day_offset=1, channel="email", template="nope")
    with pytest.raises(ValueError, match="http"):
        strategies.StepIn(day_offset=1, channel="webhook", template="team_alert", target="ftp://x")
    with pytest.raises(ValueError, match="owner"):
        strategies.StepIn(day_offset=1, channel="escalation", target="ceo")
    call = strategies.StepIn(day_offset=1, channel="call", template="due_reminder", target="x")
    assert (call.template, call.target) == (None, None)


def test_only_a_tier_strategy_can_be_removed_and_only_by_its_managers(session: Session) -> None:
    strategies.ensure_defaults(session)
    tiered = strategies.save_strategy(
        session,
        actor=TESTER,
        grade="D",
        tier="key",
        name="D key",
        steps=[strategies.StepIn(day_offset=5, channel="call")],
    )
    general = strategies.load_book(session).by_grade["D"]
    manager = actor_of(session, Role.MANAGER)
    before = state(session)

    with pytest.raises(ValidationFailed, match="cannot be removed"):
        strategies.delete_strategy(session, actor=TESTER, strategy_id=general.id)
    with pytest.raises(Forbidden):
        strategies.delete_strategy(session, actor=manager, strategy_id=tiered.id)
    assert state(session) == before

    strategies.delete_strategy(session, actor=TESTER, strategy_id=tiered.id)
    book = strategies.load_book(session)
    assert book.for_customer("D", "key") is book.by_grade["D"]
    assert book.for_customer(None, None) is book.by_grade["C"]


# ---------------------------------------------------------------- actions


def call_task(session: Session, customer: Customer, **changes: Any) -> CollectionAction:
    values: dict[str, Any] = {
        "customer_id": customer.id,
        "due_on": AS_OF,
        "kind": ActionKind.REMINDER.value,
        "channel": CollectionChannel.CALL.value,
        "status": ActionStatus.OPEN.value,
        "automatic": True,
        "dedupe_key": f"test:{customer.id}:{changes.get('channel', 'call')}",
        "amount": D("1500.00"),
        "currency": "CNY",
        "max_days_overdue": 45,
        **changes,
    }
    action = CollectionAction(**values)
    session.add(action)
    session.flush()
    return action


def test_a_call_with_a_promise_finishes_the_task(session: Session) -> None:
    customer, old, _ = open_book(session)
    task = call_task(session, customer)
    collector = actor_of(session, Role.COLLECTOR)

    logged = actions.log_call(
        session,
        actor=collector,
        customer=customer,
        outcome="promised",
        as_of=AS_OF,
        note=" 月底前付 ",
        action_id=task.id,
        promise=actions.PromiseIn(amount=D("800.00"), promised_on=date(2026, 6, 30)),
    )

    assert logged.action is task
    assert task.status == ActionStatus.DONE.value
    assert task.outcome == CallOutcome.PROMISED.value
    assert task.note == "月底前付"
    assert task.completed_by_id == collector.user_id
    assert logged.promise is not None
    assert logged.promise.amount == D("800.00")
    assert logged.promise.action_id == task.id
    assert logged.promise.channel == "call"
    assert [i.installment_id for i in logged.promise.items] == [installments_of(session, old)[0].id]
    [touchpoint] = session.scalars(
        select(Touchpoint).where(Touchpoint.customer_id == customer.id)
    ).all()
    assert touchpoint.reference == f"COLL-CALL-{task.id}"
    assert touchpoint.summary == "[promised] 月底前付"
    with pytest.raises(Conflict, match="already done"):
        actions.complete(session, actor=collector, action_id=task.id)


def test_a_call_without_a_task_is_logged_as_one(session: Session) -> None:
    customer, old, _ = open_book(session)

    logged = actions.log_call(
        session,
        actor=TESTER,
        customer=customer,
        outcome=CallOutcome.DISPUTED,
        as_of=AS_OF,
        dispute=actions.DisputeIn(
            installment_id=installments_of(session, old)[0].id,
            reason=DisputeReason.MISSING_DOCUMENTS,
            amount=D("300.00"),
        ),
        note="缺发票原件",
    )

    assert logged.action.kind == ActionKind.CALL_LOG.value
    assert logged.action.status == ActionStatus.DONE.value
    assert logged.dispute is not None
    assert logged.dispute.amount == D("300.00")
    assert logged.dispute.description == "缺发票原件"


@pytest.mark.parametrize(
    ("outcome", "field"), [("hung_up", "outcome"), ("promised", "promise"), ("disputed", "dispute")]
)
def test_a_call_missing_its_outcome_details_writes_nothing(
    session: Session, outcome: str, field: str
) -> None:
    customer, _, _ = open_book(session)
    before = state(session)

    with pytest.raises(ValidationFailed) as caught:
        actions.log_call(session, actor=TESTER, customer=customer, outcome=outcome, as_of=AS_OF)

    assert caught.value.details["field"] == field
    assert state(session) == before


def test_a_call_with_a_bad_promise_writes_nothing(session: Session) -> None:
    customer, _, _ = open_book(session)
    before = state(session)

    with pytest.raises(ValidationFailed):
        actions.log_call(
            session,
            actor=TESTER,
            customer=customer,
            outcome="promised",
            as_of=AS_OF,
            promise=actions.PromiseIn(amount=D("99999.00"), promised_on=AS_OF),
        )

    assert state(session) == before


def test_a_call_about_another_customers_task_is_refused(session: Session) -> None:
    customer, _, _ = open_book(session)
    other = debtor(session)
    task = call_task(session, other)
    before = state(session)

    with pytest.raises(ValidationFailed) as caught:
        actions.log_call(
            session,
            actor=TESTER,
            customer=customer,
            outcome="reached",
            as_of=AS_OF,
            action_id=task.id,
        )

    assert caught.value.details["field"] == "action_id"
    assert state(session) == before


def test_a_credit_hold_task_places_the_hold_for_those_who_may(session: Session) -> None:
    customer, _, _ = open_book(session)
    task = call_task(session, customer, channel=CollectionChannel.CREDIT_HOLD.value)
    manager = actor_of(session, Role.MANAGER)
    before = state(session)

    with pytest.raises(Forbidden):
        actions.complete(session, actor=manager, action_id=task.id)
    assert state(session) == before

    collector = actor_of(session, Role.COLLECTOR)
    actions.complete(session, actor=collector, action_id=task.id, note="逾期 45 天")

    hold = session.get(CreditHoldPlacement, customer.id)
    assert hold is not None
    assert (hold.placed_on, hold.reason, hold.action_id) == (AS_OF, "逾期 45 天", task.id)
    assert task.status == ActionStatus.DONE.value
    assert holds.release(session, actor=collector, customer_id=customer.id, reason="已付") is True
    assert holds.release(session, actor=collector, customer_id=customer.id, reason="已付") is False
    assert session.get(CreditHoldPlacement, customer.id) is None


def test_a_message_is_sent_or_cancelled_not_done(session: Session) -> None:
    customer, _, _ = open_book(session)
    message = call_task(
        session, customer, channel=CollectionChannel.EMAIL.value, template="overdue_notice"
    )
    before = state(session)

    with pytest.raises(ValidationFailed, match="not marked done"):
        actions.complete(session, actor=TESTER, action_id=message.id)
    with pytest.raises(ValidationFailed) as no_reason:
        actions.cancel(session, actor=TESTER, action_id=message.id, reason=" ")
    assert no_reason.value.details["field"] == "reason"
    assert state(session) == before

    actions.send(session, actor=TESTER, action_id=message.id)

    assert message.status == ActionStatus.QUEUED.value
    task = call_task(session, debtor(session))
    with pytest.raises(ValidationFailed, match="not a message"):
        actions.send(session, actor=TESTER, action_id=task.id)
    actions.cancel(session, actor=TESTER, action_id=task.id, reason="客户已付")
    assert task.status == ActionStatus.CANCELLED.value
    assert task.note == "客户已付"


# ---------------------------------------------------------------- the worklist


def test_the_worklist_puts_promises_first_then_disputes_then_value(session: Session) -> None:
    collector = actor_of(session, Role.COLLECTOR)
    big, old, _ = open_book(session)
    small = debtor(session, letter="A")
    make_invoice(session, customer=small, amount="100.00", due=date(2026, 5, 1))
    low = call_task(session, small, expected_value=10.0)
    high = call_task(session, big, expected_value=900.0)
    someone_elses = call_task(
        session,
        big,
        channel=CollectionChannel.LETTER.value,
        assigned_to_id=make_user(session, role=Role.COLLECTOR).id,
        expected_value=5000.0,
    )
    promise = promises.record_promise(
        session,
        actor=collector,
        customer=big,
        amount=D("50.00"),
        promised_on=AS_OF,
        as_of=AS_OF,
    )
    dispute = disputes.open_dispute(
        session,
        actor=collector,
        customer=big,
        installment_id=installments_of(session, old)[0].id,
        reason="price",
        as_of=AS_OF - timedelta(days=9),
        amount=D("20.00"),
    )

    mine = worklist.worklist(session, actor=collector, as_of=AS_OF)

    assert [(i.source.value, i.id) for i in mine.items] == [
        ("promise", promise.id),
        ("dispute", dispute.id),
        ("action", high.id),
        ("action", low.id),
    ]
    first = mine.items[0]
    assert (first.amount, first.days_overdue, first.grade) == (D("50.00"), 0, "C")
    assert mine.items[1].days_overdue == -1  # the SLA ends tomorrow
    everyone = worklist.worklist(session, actor=collector, as_of=AS_OF, mine=worklist.Mine.ALL)
    assert everyone.items[2].id == someone_elses.id
    calls = worklist.worklist(session, actor=collector, as_of=AS_OF, channel="call", grade="A")
    assert [i.id for i in calls.items] == [low.id]
    paged = worklist.worklist(session, actor=collector, as_of=AS_OF, limit=1, offset=1)
    assert (paged.total, [i.id for i in paged.items]) == (4, [dispute.id])
    found = worklist.worklist(session, actor=collector, as_of=AS_OF, q=small.code.lower())
    assert [i.id for i in found.items] == [low.id]


def test_the_worklist_of_a_sales_rep_holds_only_his_accounts(session: Session) -> None:
    rep = make_user(session, role=Role.SALES)
    his = debtor(session, owner=rep)
    theirs = debtor(session)
    mine = call_task(session, his)
    call_task(session, theirs)

    work = worklist.worklist(session, actor=Actor.for_user(rep), as_of=AS_OF)

    assert [i.id for i in work.items] == [mine.id]
    assert work.items[0].kind == ActionKind.REMINDER.value


def test_promises_query_filters(session: Session) -> None:
    customer, _, _ = open_book(session)
    promise = promises.record_promise(
        session, actor=TESTER, customer=customer, amount=D("10"), promised_on=AS_OF, as_of=AS_OF
    )
    rows = session.execute(
        promises.promises_query(
            TESTER, status=PromiseStatus.PENDING, customer_id=customer.id, due_by=AS_OF
        )
    ).all()
    assert [(p.id, c.code) for p, c in rows] == [(promise.id, customer.code)]
    assert (
        session.execute(
            promises.promises_query(
                TESTER, customer_id=customer.id, due_by=AS_OF - timedelta(days=1)
            )
        ).all()
        == []
    )


def test_open_disputes_count_until_resolved(session: Session) -> None:
    customer, old, _ = open_book(session)
    dispute = disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=installments_of(session, old)[0].id,
        reason="price",
        as_of=AS_OF,
    )
    disputes.resolve_dispute(
        session,
        actor=TESTER,
        dispute_id=dispute.id,
        resolution="adjustment",
        as_of=AS_OF + timedelta(days=3),
        note="下次订单折让",
    )
    assert disputes.open_counts(session, as_of=AS_OF + timedelta(days=2)) == {customer.id: 1}
    assert disputes.open_counts(session, as_of=AS_OF + timedelta(days=3)) == {}
    assert [
        (f.reason, f.opened, f.amount, f.still_open)
        for f in disputes.friction_by_reason(session, since=AS_OF, until=AS_OF)
    ] == [("price", 1, D("1000.00"), 0)]
    assert session.get(Dispute, dispute.id) is dispute
    assert session.scalar(select(func.count()).select_from(PromiseToPay)) == 0
    assert InvoiceStatus.OPEN.value == "open"
