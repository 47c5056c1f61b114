"""Customer statements: the open items and their aging to the cent, the e-mail with the token
link in the contact's language, the customer's answer (confirm or dispute lines) and the
monthly run that sends each customer one statement a month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.collections import statements
from flywheel.config import Settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn
from flywheel.errors import Conflict, InvalidAmount, NotFound, ValidationFailed
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import CollectionAction, Dispute, OutboxMessage, Statement
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import BuyingRole, Language
from tests.factories import TESTER, make_customer, make_invoice, make_payment

AS_OF = date(2026, 12, 5)
SETTINGS = Settings(
    public_url="https://ar.example.com/", company_name="飞轮示范有限公司", statement_day=1
)


def add_contact(
    session: Session,
    customer: Customer,
    *,
    name: str,
    email: str | None,
    language: Language = Language.ZH,
    role: BuyingRole | None = None,
) -> Contact:
    return customers.add_contact(
        session,
        actor=TESTER,
        data=ContactIn(
            customer_id=customer.id, name=name, email=email, language=language, buying_role=role
        ),
    )


def ledger(session: Session) -> Customer:
    """Open items in every aging bucket, one partly paid, one paid, one in another currency."""
    customer = make_customer(session, name="上海华东精密机械有限公司")
    make_invoice(
        session,
        customer=customer,
        amount="1000.00",
        issued=date(2026, 11, 10),
        due=date(2026, 12, 10),
        number="S-CUR",
    )
    part = make_invoice(
        session,
        customer=customer,
        amount="2000.00",
        issued=date(2026, 10, 21),
        due=date(2026, 11, 20),
        number="S-15",
    )
    make_invoice(
        session,
        customer=customer,
        amount="700.00",
        issued=date(2026, 9, 30),
        due=date(2026, 10, 30),
        number="S-36",
    )
    make_invoice(
        session,
        customer=customer,
        amount="300.10",
        issued=date(2026, 9, 1),
        due=date(2026, 10, 1),
        number="S-65",
    )
    make_invoice(
        session,
        customer=customer,
        amount="50.05",
        issued=date(2026, 7, 1),
        due=date(2026, 8, 1),
        number="S-126",
    )
    paid = make_invoice(
        session,
        customer=customer,
        amount="400.00",
        issued=date(2026, 9, 1),
        due=date(2026, 10, 1),
        number="S-PAID",
    )
    make_invoice(
        session,
        customer=customer,
        amount="999.00",
        issued=date(2026, 9, 1),
        due=date(2026, 10, 1),
        number="S-USD",
        currency="USD",
    )
    make_payment(
        session, customer=customer, amount="500.25", invoice=part, received=date(2026, 11, 25)
    )
    make_payment(
        session, customer=customer, amount="400.00", invoice=paid, received=date(2026, 10, 1)
    )
    session.flush()
    return customer


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ---------------------------------------------------------------- lines and aging


def test_the_statement_lists_open_items_with_exact_aging(session: Session) -> None:
    customer = ledger(session)

    data = statements.build_statement(session, customer=customer, as_of=AS_OF, settings=SETTINGS)

    assert [(ln.invoice, ln.open_amount, ln.days_overdue) for ln in data.lines] == [
        ("S-126", Decimal("50.05"), 126),
        ("S-65", Decimal("300.10"), 65),
        ("S-36", Decimal("700.00"), 36),
        ("S-15", Decimal("1499.75"), 15),
        ("S-CUR", Decimal("1000.00"), -5),
    ]
    assert data.aging == [
        Decimal("1000.00"),
        Decimal("1499.75"),
        Decimal("700.00"),
        Decimal("300.10"),
        Decimal("50.05"),
    ]
    assert data.total == Decimal("3549.90")
    assert data.overdue == Decimal("2549.90")
    assert data.currency == "CNY"
    assert data.company == "飞轮示范有限公司"


def test_bucket_edges_follow_days_past_due() -> None:
    lines = [
        statements.StatementLine(
            i, f"I{i}", 1, AS_OF, AS_OF, Decimal("1.00"), Decimal("1.00"), days
        )
        for i, days in enumerate([0, 1, 30, 31, 60, 61, 90, 91])
    ]

    aging, total, overdue = statements.summarise(lines)

    assert aging == [
        Decimal("1.00"),
        Decimal("2.00"),
        Decimal("2.00"),
        Decimal("2.00"),
        Decimal("1.00"),
    ]
    assert total == Decimal("8.00")
    assert overdue == Decimal("7.00")


# ---------------------------------------------------------------- sending


def test_sending_stores_the_statement_and_queues_the_email_in_the_contacts_language(
    session: Session,
) -> None:
    customer = ledger(session)
    add_contact(session, customer, name="Li Ming", email="li.ming@example.cn")
    finance = add_contact(
        session,
        customer,
        name="Emily Carter",
        email="ap@example.com",
        language=Language.EN,
        role=BuyingRole.FINANCE,
    )

    statement, token = statements.create_statement(
        session, actor=TESTER, customer=customer, as_of=AS_OF, settings=SETTINGS
    )

    assert statement.status == "sent"
    assert statement.contact_id == finance.id
    assert statement.language == "en"
    assert statement.total == Decimal("3549.90")
    assert statement.overdue == Decimal("2549.90")
    assert len(statement.lines) == 5
    assert statement.lines[3]["open"] == "1499.75"
    assert statement.token_hash == statements.token_hash(token)
    assert token not in statement.token_hash
    (message,) = session.scalars(select(OutboxMessage))
    assert message.dedupe_key == f"statement:{statement.id}"
    assert message.recipient == "ap@example.com"
    assert message.language == "en"
    assert message.subject.startswith("Statement of account from 飞轮示范有限公司")
    assert f"https://ar.example.com/statement/{token}" in message.body
    assert "Dear Emily Carter," in message.body
    assert "CNY 1,499.75" in message.body
    assert message.body_html is not None
    assert f'<a href="https://ar.example.com/statement/{token}">' in message.body_html
    action = session.get(CollectionAction, statement.action_id)
    assert action is not None
    assert (action.kind, action.channel, action.status) == ("statement", "email", "queued")
    assert action.dedupe_key == f"statement:{statement.id}"
    assert message.action_id == action.id
    assert len(action.items) == 5
    (sent,) = events(session, "statement.sent")
    assert sent.subject_id == statement.id
    assert sent.after is not None
    assert sent.after["total"] == "3549.90"


def test_a_chinese_contact_gets_the_chinese_email(session: Session) -> None:
    customer = ledger(session)
    add_contact(session, customer, name="王丽", email="wangli@example.cn")

    statement, token = statements.create_statement(
        session, actor=TESTER, customer=customer, as_of=AS_OF, settings=SETTINGS
    )

    message = session.scalars(select(OutboxMessage)).one()
    assert statement.language == "zh"
    assert message.body.startswith("尊敬的王丽：")
    assert "¥1,499.75" in message.body
    assert f"https://ar.example.com/statement/{token}" in message.body


def test_a_chosen_contact_wins(session: Session) -> None:
    customer = ledger(session)
    add_contact(session, customer, name="财务", email="ap@example.cn", role=BuyingRole.FINANCE)
    chosen = add_contact(session, customer, name="采购", email="buyer@example.cn")

    statement, _token = statements.create_statement(
        session,
        actor=TESTER,
        customer=customer,
        as_of=AS_OF,
        contact_id=chosen.id,
        settings=SETTINGS,
    )

    assert statement.contact_id == chosen.id
    assert session.scalars(select(OutboxMessage.recipient)).one() == "buyer@example.cn"


def test_no_email_contact_is_a_clear_error_and_nothing_is_written(session: Session) -> None:
    customer = ledger(session)
    add_contact(session, customer, name="张三", email=None)
    before = count(session, AuditEvent)

    with pytest.raises(ValidationFailed, match="no contact with an e-mail address"):
        statements.create_statement(session, actor=TESTER, customer=customer, as_of=AS_OF)

    assert count(session, Statement) == 0
    assert count(session, OutboxMessage) == 0
    assert count(session, CollectionAction) == 0
    assert count(session, AuditEvent) == before


def test_a_contact_of_another_customer_is_not_found(session: Session) -> None:
    customer = ledger(session)
    stranger = add_contact(session, make_customer(session), name="x", email="x@example.cn")

    with pytest.raises(NotFound):
        statements.create_statement(
            session, actor=TESTER, customer=customer, as_of=AS_OF, contact_id=stranger.id
        )
    assert count(session, Statement) == 0


def test_a_statement_can_be_stored_without_sending(session: Session) -> None:
    customer = ledger(session)

    statement, _token = statements.create_statement(
        session, actor=TESTER, customer=customer, as_of=AS_OF, send=False
    )

    assert statement.action_id is None
    assert count(session, OutboxMessage) == 0
    assert len(events(session, "statement.created")) == 1


# ---------------------------------------------------------------- the customer's answer


def sent_statement(session: Session) -> tuple[Customer, Statement, str]:
    customer = ledger(session)
    add_contact(session, customer, name="王丽", email="wangli@example.cn")
    statement, token = statements.create_statement(
        session, actor=TESTER, customer=customer, as_of=AS_OF, settings=SETTINGS
    )
    return customer, statement, token


def test_the_customer_confirms_the_balance(session: Session) -> None:
    _customer, statement, token = sent_statement(session)

    statements.answer(session, token, confirm=True, note="核对无误", as_of=date(2026, 12, 7))

    assert statement.status == "confirmed"
    assert statement.answered_at is not None
    assert statement.answer_note == "核对无误"
    (confirmed,) = events(session, "statement.confirmed")
    assert confirmed.actor_name == "statement"
    assert confirmed.after == {"status": "confirmed", "note": "核对无误"}


def test_a_statement_is_answered_once(session: Session) -> None:
    _customer, statement, token = sent_statement(session)
    statements.answer(session, token, confirm=True, as_of=AS_OF)

    with pytest.raises(Conflict, match="already answered"):
        statements.answer(session, token, confirm=True, as_of=AS_OF)
    assert statement.status == "confirmed"


def test_an_unknown_token_is_not_found(session: Session) -> None:
    sent_statement(session)

    with pytest.raises(NotFound):
        statements.answer(session, "not-a-token", confirm=True, as_of=AS_OF)
    with pytest.raises(NotFound):
        statements.find_by_token(session, "")


def test_disputed_lines_open_disputes_from_the_statement(session: Session) -> None:
    pytest.importorskip("flywheel.collections.disputes")
    customer, statement, token = sent_statement(session)
    by_invoice = {line["invoice"]: line["installment_id"] for line in statement.lines}

    statements.answer(
        session,
        token,
        confirm=False,
        disputed_lines=[
            (by_invoice["S-65"], "quality", None, "质量不合格"),
            statements.DisputedLine(by_invoice["S-15"], "price", Decimal("200.00"), "单价不对"),
        ],
        note="请核实",
        as_of=date(2026, 12, 7),
    )

    assert statement.status == "disputed"
    disputes = session.scalars(select(Dispute).order_by(Dispute.amount)).all()
    assert [(d.reason, d.amount, d.source, d.description) for d in disputes] == [
        ("price", Decimal("200.00"), "statement", "单价不对"),
        ("quality", Decimal("300.10"), "statement", "质量不合格"),
    ]
    assert all(d.customer_id == customer.id for d in disputes)
    assert all(d.opened_on == date(2026, 12, 7) for d in disputes)
    (disputed,) = events(session, "statement.disputed")
    assert disputed.after is not None
    assert sorted(disputed.after["disputes"]) == sorted(d.id for d in disputes)


def test_a_dispute_larger_than_the_line_is_refused(session: Session) -> None:
    pytest.importorskip("flywheel.collections.disputes")
    _customer, statement, token = sent_statement(session)
    line = statement.lines[0]

    with pytest.raises(InvalidAmount, match="at most 50.05"):
        statements.answer(
            session,
            token,
            confirm=False,
            disputed_lines=[(line["installment_id"], "price", Decimal("50.06"), None)],
            as_of=AS_OF,
        )
    assert statement.status == "sent"
    assert count(session, Dispute) == 0


def test_a_line_not_on_the_statement_cannot_be_disputed(session: Session) -> None:
    _customer, statement, token = sent_statement(session)

    with pytest.raises(NotFound, match="not on this statement"):
        statements.answer(
            session,
            token,
            confirm=False,
            disputed_lines=[(999999, "price", None, None)],
            as_of=AS_OF,
        )
    assert statement.status == "sent"


def test_an_answer_must_say_something(session: Session) -> None:
    _customer, _statement, token = sent_statement(session)

    with pytest.raises(ValidationFailed, match="at least one line"):
        statements.answer(session, token, confirm=False, as_of=AS_OF)


# ---------------------------------------------------------------- the monthly run


def test_the_monthly_run_sends_once_per_customer_and_month(session: Session) -> None:
    with_email = ledger(session)
    add_contact(session, with_email, name="王丽", email="wangli@example.cn")
    english = make_customer(session, name="Northwind Precision Parts Ltd.")
    make_invoice(
        session, customer=english, amount="88.00", issued=date(2026, 11, 1), due=date(2026, 12, 1)
    )
    add_contact(session, english, name="Emily", email="emily@example.com", language=Language.EN)
    no_email = make_customer(session)
    make_invoice(
        session, customer=no_email, amount="10.00", issued=date(2026, 11, 1), due=date(2026, 12, 1)
    )
    add_contact(session, no_email, name="无邮箱", email=None)
    nothing_open = make_customer(session)
    add_contact(session, nothing_open, name="清账", email="paid@example.cn")
    session.flush()

    assert statements.send_scheduled(session, as_of=date(2026, 12, 2), settings=SETTINGS) == 0
    first = statements.send_scheduled(session, as_of=date(2026, 12, 1), settings=SETTINGS)
    again = statements.send_scheduled(session, as_of=date(2026, 12, 1), settings=SETTINGS)

    assert (first, again) == (2, 0)
    keys = set(session.scalars(select(OutboxMessage.dedupe_key)))
    assert keys == {f"statement:{with_email.id}:2026-12", f"statement:{english.id}:2026-12"}
    languages = dict(
        session.execute(select(OutboxMessage.customer_id, OutboxMessage.language)).all()
    )
    assert languages == {with_email.id: "zh", english.id: "en"}
    actions = session.scalars(select(CollectionAction)).all()
    assert {a.dedupe_key for a in actions} == keys
    assert all(a.automatic for a in actions)
    assert count(session, Statement) == 2
    # Next month, again one each.
    assert statements.send_scheduled(session, as_of=date(2027, 1, 1), settings=SETTINGS) == 2
