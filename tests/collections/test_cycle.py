"""The collections part of the daily cycle: which steps fire, what is queued, what is skipped."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.collections import arrangements, cycle, disputes, promises, strategies
from flywheel.config import CatchUp
from flywheel.credit import limits
from flywheel.models.collections import (
    CollectionAction,
    CollectionActionItem,
    CollectionStrategy,
    CreditHoldPlacement,
    OutboxMessage,
    PromiseToPay,
)
from flywheel.models.enums import (
    ActionKind,
    ActionStatus,
    DisputeReason,
    Language,
    PromiseStatus,
    Tier,
)
from tests.collections.support import AS_OF, collection_settings, debtor
from tests.factories import TESTER, make_invoice, make_payment


def run(session: Session, day: date = AS_OF, **settings: object) -> cycle.CycleResult:
    return cycle.run(session, as_of=day, settings=collection_settings(**settings))


def actions(session: Session, customer_id: int) -> list[CollectionAction]:
    return list(
        session.scalars(
            select(CollectionAction)
            .where(CollectionAction.customer_id == customer_id)
            .order_by(CollectionAction.id)
        )
    )


def outbox_of(session: Session, customer_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.customer_id == customer_id)
            .order_by(OutboxMessage.id)
        )
    )


def test_defaults_ship_for_every_grade(session: Session) -> None:
    strategies.ensure_defaults(session)
    grades = session.scalars(select(CollectionStrategy.grade).order_by(CollectionStrategy.grade))
    assert list(grades) == ["A", "B", "C", "D", "E"]
    book = strategies.load_book(session)
    e_steps = [(s.day_offset, s.channel) for s in book.by_grade["E"].steps]
    assert (-7, "email") in e_steps
    assert (1, "credit_hold") in e_steps
    assert (15, "letter") in e_steps
    assert (45, "legal") in e_steps
    a_steps = [(s.day_offset, s.channel) for s in book.by_grade["A"].steps]
    assert a_steps[:1] == [(-3, "email")]
    assert (15, "call") in a_steps


def test_friendly_reminder_before_due_is_queued_once(session: Session) -> None:
    # Given an unscored customer (dunned like grade C: a friendly note 5 days before due)
    customer = debtor(session)
    make_invoice(session, customer=customer, amount="1200.00", due=AS_OF + timedelta(days=5))
    # When the cycle runs twice on the same day
    first = run(session)
    second = run(session)
    # Then one e-mail action, one outbox row, in Chinese, to the finance contact
    assert first.messages >= 1
    assert second.actions == 0
    assert second.messages == 0
    acts = actions(session, customer.id)
    assert [(a.kind, a.channel, a.status, a.template) for a in acts] == [
        ("reminder", "email", "queued", "friendly_reminder")
    ]
    mails = outbox_of(session, customer.id)
    assert len(mails) == 1
    assert mails[0].recipient == "ap@example.cn"
    assert mails[0].language == "zh"
    assert "1,200.00" in mails[0].body
    assert mails[0].action_id == acts[0].id


def test_one_message_per_customer_lists_every_item(session: Session) -> None:
    customer = debtor(session, letter="C")
    make_invoice(session, customer=customer, amount="500.00", due=AS_OF + timedelta(days=5))
    late = make_invoice(session, customer=customer, amount="800.00", due=AS_OF - timedelta(days=14))
    run(session)
    mails = outbox_of(session, customer.id)
    assert len(mails) == 1
    assert late.number in mails[0].body
    (action,) = [a for a in actions(session, customer.id) if a.channel == "email"]
    # The most advanced step speaks: C's overdue notice at +14.
    assert action.template == "overdue_notice"
    assert action.amount == Decimal("1300.00")
    assert action.overdue_amount == Decimal("800.00")
    assert action.max_days_overdue == 14
    fired = session.scalar(
        select(func.count(CollectionActionItem.id)).where(
            CollectionActionItem.action_id == action.id, CollectionActionItem.step_id.is_not(None)
        )
    )
    assert fired == 2


def test_catching_up_fires_only_the_latest_due_step(session: Session) -> None:
    customer = debtor(session, letter="C")
    make_invoice(session, customer=customer, amount="900.00", due=AS_OF - timedelta(days=10))
    run(session)
    # C: e-mail at +1, call at +7; ten days late with no earlier run → only the call
    assert [(a.channel, a.status) for a in actions(session, customer.id)] == [("call", "open")]
    assert outbox_of(session, customer.id) == []


def test_catching_up_everything_when_configured(session: Session) -> None:
    customer = debtor(session, letter="C")
    make_invoice(session, customer=customer, amount="900.00", due=AS_OF - timedelta(days=10))
    run(session, collections_catch_up=CatchUp.ALL)
    assert sorted(a.channel for a in actions(session, customer.id)) == ["call", "email"]


def test_next_step_fires_on_its_day_and_not_before(session: Session) -> None:
    customer = debtor(session, letter="C")
    make_invoice(session, customer=customer, amount="900.00", due=AS_OF - timedelta(days=1))
    run(session)
    for day in range(2, 7):
        assert run(session, AS_OF + timedelta(days=day - 1)).actions == 0
    later = run(session, AS_OF + timedelta(days=6))  # 7 days late: the call
    assert later.tasks == 1
    assert [a.channel for a in actions(session, customer.id)] == ["email", "call"]


def test_english_contact_gets_english(session: Session) -> None:
    customer = debtor(session, letter="A", language=Language.EN)
    make_invoice(session, customer=customer, amount="100.00", due=AS_OF + timedelta(days=3))
    run(session)
    (mail,) = outbox_of(session, customer.id)
    assert mail.language == "en"
    assert any(word in mail.body for word in ("Dear", "Hello", "Hi"))


def test_webhook_step_posts_the_robot_shape(session: Session) -> None:
    customer = debtor(session, letter="C")
    make_invoice(session, customer=customer, amount="700.00", due=AS_OF - timedelta(days=21))
    run(session)
    hooks = [m for m in outbox_of(session, customer.id) if m.channel == "webhook"]
    assert len(hooks) == 1
    assert hooks[0].recipient == "http://127.0.0.1:9/robot"
    payload = json.loads(hooks[0].body)
    assert payload["msgtype"] == "markdown"
    assert (
        customer.code in payload["markdown"]["content"]
        or customer.name in payload["markdown"]["content"]
    )


def test_pending_promise_pauses_and_payment_keeps_it(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(
        session, customer=customer, amount="1000.00", due=AS_OF - timedelta(days=14)
    )
    promise = promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=Decimal("1000.00"),
        promised_on=AS_OF + timedelta(days=5),
        as_of=AS_OF,
    )
    result = run(session)
    assert result.skipped_items == 1
    assert actions(session, customer.id) == []
    make_payment(
        session,
        customer=customer,
        amount="1000.00",
        received=AS_OF + timedelta(days=2),
        invoice=invoice,
    )
    # The payment keeps the promise at once; the next cycle has nothing left to decide.
    session.refresh(promise)
    assert promise.status == PromiseStatus.KEPT.value
    assert run(session, AS_OF + timedelta(days=2)).promises_kept == 0
    assert promise.paid_amount == Decimal("1000.00")


def test_broken_promise_escalates_and_mails(session: Session) -> None:
    customer = debtor(session, letter="B")
    make_invoice(session, customer=customer, amount="1000.00", due=AS_OF - timedelta(days=12))
    promise = promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=Decimal("600.00"),
        promised_on=AS_OF + timedelta(days=2),
        as_of=AS_OF,
    )
    run(session)
    # grace is 3 days: still pending on day +5, broken on day +6
    assert run(session, AS_OF + timedelta(days=5)).promises_broken == 0
    broken = run(session, AS_OF + timedelta(days=6))
    assert broken.promises_broken == 1
    session.refresh(promise)
    assert promise.status == PromiseStatus.BROKEN.value
    kinds = [(a.kind, a.channel) for a in actions(session, customer.id)]
    assert ("broken_promise", "escalation") in kinds
    assert ("broken_promise", "email") in kinds
    assert promises.broken_counts(session, as_of=AS_OF + timedelta(days=6), since=AS_OF) == {
        customer.id: 1
    }


def test_disputed_part_leaves_dunning(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(
        session, customer=customer, amount="1000.00", due=AS_OF - timedelta(days=14)
    )
    disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=invoice.installments[0].id,
        reason=DisputeReason.QUALITY,
        amount=Decimal("400.00"),
        as_of=AS_OF,
    )
    run(session)
    (action,) = [a for a in actions(session, customer.id) if a.channel == "email"]
    assert action.amount == Decimal("600.00")


def test_fully_disputed_item_is_skipped(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(
        session, customer=customer, amount="1000.00", due=AS_OF - timedelta(days=14)
    )
    disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=invoice.installments[0].id,
        reason=DisputeReason.PRICE,
        as_of=AS_OF,
    )
    assert run(session).skipped_items == 1
    assert actions(session, customer.id) == []


def test_extension_moves_the_due_date_and_pauses(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(
        session, customer=customer, amount="1000.00", due=AS_OF - timedelta(days=14)
    )
    installment = invoice.installments[0]
    proposal = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=installment.id,
        new_due_on=AS_OF + timedelta(days=30),
        reason="季节性资金紧张",
        as_of=AS_OF,
    )
    arrangements.approve(session, actor=TESTER, arrangement_id=proposal.id, as_of=AS_OF)
    assert installment.due_date == AS_OF + timedelta(days=30)
    assert run(session).actions == 0
    # Within the friendly-reminder lead time the extended item is still left alone …
    assert run(session, AS_OF + timedelta(days=26)).skipped_items == 1
    # … and dunned from its new due date on (C: an e-mail at +1).
    assert run(session, AS_OF + timedelta(days=31)).messages == 1
    assert proposal.items[0].original_due_on == AS_OF - timedelta(days=14)


def test_thank_you_after_paying_everything_overdue(session: Session) -> None:
    customer = debtor(session, letter="C")
    invoice = make_invoice(
        session, customer=customer, amount="300.00", due=AS_OF - timedelta(days=1)
    )
    run(session)
    make_payment(
        session,
        customer=customer,
        amount="300.00",
        received=AS_OF + timedelta(days=1),
        invoice=invoice,
    )
    thanked = run(session, AS_OF + timedelta(days=1))
    assert thanked.thank_yous == 1
    assert run(session, AS_OF + timedelta(days=2)).thank_yous == 0
    kinds = [a.kind for a in actions(session, customer.id)]
    assert kinds.count(ActionKind.THANK_YOU.value) == 1


def test_grade_e_goes_on_hold_the_day_after_due_and_is_released_when_paid(
    session: Session,
) -> None:
    customer = debtor(session, letter="E")
    invoice = make_invoice(
        session, customer=customer, amount="2000.00", due=AS_OF - timedelta(days=1)
    )
    result = run(session)
    assert result.holds_placed == 1
    assert session.get(CreditHoldPlacement, customer.id) is not None
    check = limits.check(session, customer, Decimal("10.00"), as_of=AS_OF)
    assert not check.passes
    assert any("credit hold" in r for r in check.reasons)
    make_payment(
        session,
        customer=customer,
        amount="2000.00",
        received=AS_OF + timedelta(days=1),
        invoice=invoice,
    )
    released = run(session, AS_OF + timedelta(days=1))
    assert released.holds_released == 1
    assert session.get(CreditHoldPlacement, customer.id) is None


def test_tier_strategy_wins_over_the_grade(session: Session) -> None:
    strategies.ensure_defaults(session)
    strategies.save_strategy(
        session,
        actor=TESTER,
        grade="C",
        tier=Tier.KEY.value,
        name="Key accounts: the owner calls",
        steps=[strategies.StepIn(day_offset=2, channel="escalation", target="owner")],
    )
    key = debtor(session, letter="C", tier=Tier.KEY)
    make_invoice(session, customer=key, amount="100.00", due=AS_OF - timedelta(days=2))
    run(session)
    assert [(a.channel, a.status) for a in actions(session, key.id)] == [("escalation", "open")]


def test_no_email_address_leaves_a_task(session: Session) -> None:
    customer = debtor(session, letter="A", email=None)
    make_invoice(session, customer=customer, amount="100.00", due=AS_OF + timedelta(days=3))
    run(session)
    (action,) = actions(session, customer.id)
    assert action.status == ActionStatus.OPEN.value
    assert action.note == "no contact with an e-mail address"
    assert outbox_of(session, customer.id) == []


def test_promise_must_be_in_the_future(session: Session) -> None:
    customer = debtor(session, letter="A")
    make_invoice(session, customer=customer, amount="100.00", due=AS_OF)
    import pytest

    from flywheel.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="promised_on"):
        promises.record_promise(
            session,
            actor=TESTER,
            customer=customer,
            amount=Decimal("100.00"),
            promised_on=AS_OF - timedelta(days=1),
            as_of=AS_OF,
        )
    assert session.scalar(select(func.count(PromiseToPay.id))) == 0
