"""A small company for the API tests: a caller per role with a bearer token, two sales reps
each owning one account with a full ledger, an import batch with a rejected row; and the
whole database's state, to show that a denied request changed nothing.

A module builds the company once (``company_for_module``) and one app (``shared_client``);
each test works in a savepoint of the company that is rolled back afterwards.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.app import create_app
from flywheel.auth import tokens
from flywheel.collections import arrangements, disputes, promises, statements, strategies
from flywheel.config import get_settings
from flywheel.credit import service as credit
from flywheel.customers import service as customers
from flywheel.customers.schemas import TouchpointIn
from flywheel.importers import service as importers
from flywheel.models import Base
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import CollectionAction, CollectionStrategy
from flywheel.models.credit import CreditLimitReview
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    ActionKind,
    ActionStatus,
    DisputeReason,
    InvitationStatus,
    Role,
    TouchpointKind,
)
from flywheel.models.feedback import Survey, SurveyInvitation
from flywheel.models.receivables import Allocation, Installment, Invoice
from flywheel.models.users import User
from flywheel.sales import service as sales
from flywheel.sales.schemas import OrderIn
from flywheel.web.deps import get_session
from tests.factories import (
    TESTER,
    make_contact,
    make_credit_note,
    make_customer,
    make_invoice,
    make_payment,
    make_user,
)

# Callers by name: one per role, and a second sales rep who owns the other account.
CALLERS: dict[str, Role] = {
    "admin": Role.ADMIN,
    "manager": Role.MANAGER,
    "rep": Role.SALES,
    "rival": Role.SALES,
    "collector": Role.COLLECTOR,
    "finance": Role.FINANCE,
    "viewer": Role.VIEWER,
}
# Tables whose rows a request may change. API tokens are left out: every authenticated
# request records its token's last use.
WATCHED = [t for t in Base.metadata.sorted_tables if t.name != "api_tokens"]

CUSTOMERS_CSV = "code,name,owner\nIMP-1,导入客户,\n,没有编号的客户,\n"


def bearer(session: Session, user: User) -> dict[str, str]:
    _, plaintext = tokens.create_token(session, actor=TESTER, user=user, name="api tests")
    return {"Authorization": f"Bearer {plaintext}"}


@dataclass
class Book:
    """The records of one account, by the keys the API names them with."""

    customer: str
    contact: int
    order: str
    paid_invoice: str  # settled by the payment
    invoice: str  # open, partly credited
    cancellable: str  # open, nothing applied
    payment: str  # 200.00 of it unallocated
    allocation: int  # the payment's allocation to paid_invoice
    credit_note: str
    # Collections (add_collections): the installments of ``invoice`` and ``cancellable``, an
    # open call task, a chat-robot message waiting for review, a pending promise and an open
    # dispute on ``invoice``, a proposed extension of it.
    installment: int = 0
    free_installment: int = 0
    action: int = 0
    message: int = 0
    promise: int = 0
    dispute: int = 0
    arrangement: int = 0
    # Documents (add_documents, only where a module asks for them): a letter action, a sent
    # statement (to a contact with an e-mail) and the token of its link.
    letter: int = 0
    statement: int = 0
    # Feedback: an open follow-up on a detractor's answer (tests/feedback/loop_support.py).
    loop: int = 0
    statement_token: str = ""
    # Loyalty: the account's id, its referral (a lead), a won referral with a pending reward,
    # an open next best action (tests/loyalty/*_support.py).
    customer_id: int = 0
    referral: int = 0
    rewarded: int = 0
    next_action: int = 0
    # Key accounts: a need in the register, a survey answer with a comment to promote.
    need: int = 0
    comment_response: int = 0
    negotiation: int = 0  # open, a price issue, nothing pending
    concession: int = 0  # a pending 12% concession on another negotiation of the account
    contract: int = 0
    milestone: int = 0
    account_task: int = 0
    deal: int = 0
    objective: int = 0

    def keys(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "contact": self.contact,
            "order": self.order,
            "paid_invoice": self.paid_invoice,
            "invoice": self.invoice,
            "cancellable": self.cancellable,
            "payment": self.payment,
            "allocation": self.allocation,
            "credit_note": self.credit_note,
            "installment": self.installment,
            "free_installment": self.free_installment,
            "action": self.action,
            "message": self.message,
            "promise": self.promise,
            "dispute": self.dispute,
            "arrangement": self.arrangement,
            "letter": self.letter,
            "statement": self.statement,
            "statement_token": self.statement_token,
            "loop": self.loop,
            "customer_id": self.customer_id,
            "referral": self.referral,
            "rewarded": self.rewarded,
            "next_action": self.next_action,
            "need": self.need,
            "comment_response": self.comment_response,
            "negotiation": self.negotiation,
            "concession": self.concession,
            "contract": self.contract,
            "milestone": self.milestone,
            "account_task": self.account_task,
            "deal": self.deal,
            "objective": self.objective,
        }


@dataclass
class World:
    users: dict[str, User]
    headers: dict[str, dict[str, str]]
    own: Book  # the rep's
    other: Book  # the rival's
    batch: int  # an import batch with one rejected row
    review: int  # a pending credit limit review of the rep's account
    strategy: int = 0  # a tier-specific collection strategy (grade C, key accounts)
    survey: int = 0  # the shipped relationship NPS survey
    campaign: int = 0  # a shipped survey campaign
    referral_rule: int = 0  # the active referral reward rule


def make_book(session: Session, prefix: str, owner: User) -> Book:
    customer = make_customer(session, code=f"{prefix}-1", name=f"{prefix} 客户", owner=owner)
    contact = make_contact(session, customer=customer, name=f"{prefix} 王经理")
    customers.log_touchpoint(
        session,
        actor=TESTER,
        data=TouchpointIn(
            customer_id=customer.id,
            contact_id=contact.id,
            user_id=owner.id,
            kind=TouchpointKind.VISIT,
            occurred_at=datetime(2026, 2, 20, 9, 30, tzinfo=UTC),
            summary=f"{prefix} 季度回顾",
            satisfaction=4,
        ),
    )
    order = sales.create_order(
        session,
        actor=TESTER,
        data=OrderIn(
            number=f"ORD-{prefix}-1",
            customer_id=customer.id,
            order_date=date(2025, 12, 20),
            amount=Decimal("1000.00"),
        ),
    )
    paid = make_invoice(
        session,
        customer=customer,
        number=f"INV-{prefix}-A",
        amount="1000.00",
        issued=date(2026, 1, 1),
        due=date(2026, 2, 1),
    )
    paid.order_id = order.id
    payment = make_payment(
        session,
        customer=customer,
        amount="1200.00",
        received=date(2026, 2, 15),
        reference=f"PAY-{prefix}-1",
    )
    [allocation] = session.scalars(
        select(Allocation).where(Allocation.payment_id == payment.id)
    ).all()
    invoice = make_invoice(
        session,
        customer=customer,
        number=f"INV-{prefix}-B",
        amount="500.00",
        issued=date(2026, 3, 1),
        due=date(2026, 4, 1),
    )
    note = make_credit_note(session, invoice=invoice, amount="50.00", issued=date(2026, 3, 5))
    note.number = f"CN-{prefix}-1"
    cancellable = make_invoice(
        session,
        customer=customer,
        number=f"INV-{prefix}-C",
        amount="300.00",
        issued=date(2026, 3, 10),
        due=date(2026, 4, 10),
    )
    session.flush()
    return Book(
        customer=customer.code,
        contact=contact.id,
        order=order.number,
        paid_invoice=paid.number,
        invoice=invoice.number,
        cancellable=cancellable.number,
        payment=payment.reference,
        allocation=allocation.id,
        credit_note=note.number,
        customer_id=customer.id,
    )


def make_world(session: Session) -> World:
    """The company, built through the services; point ``Settings.upload_dir`` at a folder of
    the test's own first: the world keeps an import batch's rejects file there."""
    users = {name: make_user(session, username=name, role=role) for name, role in CALLERS.items()}
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    headers.update({name: bearer(session, user) for name, user in users.items()})
    own = make_book(session, "OWN", users["rep"])
    other = make_book(session, "OTHER", users["rival"])
    result = importers.import_upload(
        session,
        entity="customers",
        file_name="customers.csv",
        content=io.BytesIO(CUSTOMERS_CSV.encode("utf-8")),
        actor=TESTER,
        today=date(2026, 6, 30),
    )
    assert result.batch_id is not None
    assert result.rejected == 1
    # Every account has a credit score; the rep's waits for a credit limit decision.
    credit.score_all(session, as_of=date(2026, 6, 30))
    review = CreditLimitReview(
        customer_id=customers.get_customer_by_code(session, own.customer, actor=TESTER).id,
        proposed_on=date(2026, 6, 30),
        grade="B",
        currency="CNY",
        recommended_limit=Decimal("20000.00"),
        monthly_invoiced=Decimal("8000.00"),
        terms_days=30,
    )
    session.add(review)
    session.flush()
    # After the scores: promises and disputes count in them, and the tests above expect the
    # ledger's grades.
    strategy = add_strategies(session)
    add_collections(session, own, strategy)
    add_collections(session, other, strategy)
    survey, campaign = add_feedback(session, own, other)
    referral_rule = add_loyalty(session, own, other)
    add_key_accounts(session, own, other)
    return World(
        users=users,
        headers=headers,
        own=own,
        other=other,
        batch=result.batch_id,
        review=review.id,
        strategy=strategy.id,
        survey=survey,
        campaign=campaign,
        referral_rule=referral_rule,
    )


def add_loyalty(session: Session, own: Book, other: Book) -> int:
    """Each book's loyalty row of the day, a referral lead, a won referral waiting for its
    reward and an open next best action; returns the referral reward rule's id."""
    from tests.loyalty.action_support import world_next_action
    from tests.loyalty.factories import make_loyalty_score
    from tests.loyalty.referral_support import world_referral, world_rewarded, world_rule

    rule = world_rule(session)
    for book in (own, other):
        customer = session.get(Customer, book.customer_id)
        assert customer is not None
        make_loyalty_score(session, customer=customer, as_of=date(2026, 6, 30))
        book.referral = world_referral(session, book.customer)
        book.rewarded = world_rewarded(session, book.customer)
        book.next_action = world_next_action(session, book.customer)
    return rule.id


def add_feedback(session: Session, own: Book, other: Book) -> tuple[int, int]:
    """The shipped topics, surveys and campaigns, and a detractor's open follow-up in each book;
    returns the relationship survey's id and the first campaign's."""
    from flywheel.feedback import analysis, campaigns
    from flywheel.feedback import tokens as feedback_tokens
    from tests.feedback.loop_support import world_loop

    analysis.ensure_topics(session)
    made = campaigns.ensure_default_campaigns(session, as_of=COLLECTIONS_DAY)
    survey = session.scalar(select(Survey.id).where(Survey.code == "nps-relationship"))
    assert survey is not None
    own.loop = world_loop(session, own.customer)
    other.loop = world_loop(session, other.customer)
    for book in (own, other):
        nonce = feedback_tokens.new_nonce()
        session.add(
            SurveyInvitation(
                campaign_id=made[0].id,
                survey_id=made[0].survey_id,
                customer_id=customers.get_customer_by_code(session, book.customer, actor=TESTER).id,
                contact_id=book.contact,
                dedupe_key=f"world:{book.customer}:survey",
                event_ref=f"world:{book.customer}",
                language="zh",
                token_nonce=nonce,
                token_hash=feedback_tokens.hash_token(
                    feedback_tokens.token_for(nonce, get_settings())
                ),
                status=InvitationStatus.SENT.value,
                send_on=COLLECTIONS_DAY,
            )
        )
    session.flush()
    return survey, made[0].id


COLLECTIONS_DAY = date(2026, 6, 30)
ROBOT = "http://127.0.0.1:9/robot"


def add_strategies(session: Session) -> CollectionStrategy:
    """The shipped strategies, and one for grade C key accounts with a chat-robot step."""
    strategies.ensure_defaults(session)
    return strategies.save_strategy(
        session,
        actor=TESTER,
        grade="C",
        tier="key",
        name="Key accounts — a call first",
        steps=[
            strategies.StepIn(day_offset=3, channel="call"),
            strategies.StepIn(
                day_offset=10, channel="webhook", template="team_alert", target=ROBOT
            ),
        ],
    )


def add_collections(session: Session, book: Book, strategy: CollectionStrategy) -> None:
    """A call task and a chat-robot message for review (both open), a promise of 100.00 by
    2026-07-10, a price dispute of 50.00 and a proposed extension to 2026-07-31 of the open
    invoice's installment."""
    customer = customers.get_customer_by_code(session, book.customer, actor=TESTER)
    [installment] = session.scalars(
        select(Installment).join(Invoice).where(Invoice.number == book.invoice)
    ).all()
    [free] = session.scalars(
        select(Installment).join(Invoice).where(Invoice.number == book.cancellable)
    ).all()
    robot = next(s for s in strategy.steps if s.channel == "webhook")
    tasks = [
        CollectionAction(
            customer_id=customer.id,
            due_on=COLLECTIONS_DAY,
            kind=ActionKind.REMINDER.value,
            channel=channel,
            status=ActionStatus.OPEN.value,
            automatic=False,
            dedupe_key=f"world:{customer.code}:{channel}",
            step_id=step_id,
            template=template,
            amount=installment.open_amount,
            overdue_amount=installment.open_amount,
            currency=customer.currency,
            max_days_overdue=(COLLECTIONS_DAY - installment.due_date).days,
            expected_value=100.0,
        )
        for channel, step_id, template in (
            ("call", None, None),
            ("webhook", robot.id, "team_alert"),
        )
    ]
    session.add_all(tasks)
    session.flush()
    promise = promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=Decimal("100.00"),
        promised_on=date(2026, 7, 10),
        as_of=COLLECTIONS_DAY,
        installment_ids=[installment.id],
    )
    dispute = disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=installment.id,
        reason=DisputeReason.PRICE,
        as_of=COLLECTIONS_DAY,
        amount=Decimal("50.00"),
        description="单价与合同不符",
    )
    extension = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=installment.id,
        new_due_on=date(2026, 7, 31),
        reason="客户资金周转",
        as_of=COLLECTIONS_DAY,
    )
    book.installment = installment.id
    book.free_installment = free.id
    book.action = tasks[0].id
    book.message = tasks[1].id
    book.promise = promise.id
    book.dispute = dispute.id
    book.arrangement = extension.id


def add_documents(session: Session, book: Book) -> None:
    """A formal letter to post (an open letter action) and a statement sent on
    ``COLLECTIONS_DAY`` to a finance contact with an e-mail. Not in every world: the
    collections API tests count an account's actions, statements and contacts."""
    customer = customers.get_customer_by_code(session, book.customer, actor=TESTER)
    make_contact(
        session,
        customer=customer,
        name=f"{customer.code} 财务",
        email=f"finance@{customer.code.lower()}.example.cn",
    )
    letter = CollectionAction(
        customer_id=customer.id,
        due_on=COLLECTIONS_DAY,
        kind=ActionKind.REMINDER.value,
        channel="letter",
        status=ActionStatus.OPEN.value,
        automatic=False,
        dedupe_key=f"world:{customer.code}:letter",
        template="formal_letter",
        language="zh",
        currency=customer.currency,
    )
    session.add(letter)
    session.flush()
    statement, token = statements.create_statement(
        session, actor=TESTER, customer=customer, as_of=COLLECTIONS_DAY
    )
    book.letter = letter.id
    book.statement = statement.id
    book.statement_token = token


@dataclass
class Company:
    """One world for a whole test module, built once in an outer transaction; each test works
    in a savepoint of it that is rolled back (``test_session``)."""

    session: Session
    world: World

    def test_session(self) -> Iterator[Session]:
        savepoint = self.session.begin_nested()
        try:
            yield self.session
        finally:
            if savepoint.is_active:
                savepoint.rollback()
            self.session.expire_all()


def company_for_module(engine: Engine, folder: Path) -> Iterator[Company]:
    """Build the world once for a module (its uploads in ``folder``); undone at the end."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(get_settings(), "upload_dir", folder)
            world = make_world(session)
            session.flush()
            yield Company(session=session, world=world)
    finally:
        session.close()
        outer.rollback()
        connection.close()


@dataclass
class SharedClient:
    """One app and client for a whole test module (building the app per test would dominate
    the run); each request works in the session of the test that makes it."""

    client: TestClient
    current: dict[str, Session]

    def using(self, session: Session) -> TestClient:
        self.current["session"] = session
        self.client.cookies.clear()
        return self.client


def shared_client(engine: Engine, **options: Any) -> Iterator[SharedClient]:
    current: dict[str, Session] = {}
    app = create_app(engine=engine)

    def test_session() -> Iterator[Session]:
        yield current["session"]

    app.dependency_overrides[get_session] = test_session
    with TestClient(app, **options) as client:
        yield SharedClient(client, current)


def database_state(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every watched table, in a stable order: equal before and after a request
    exactly when it changed nothing."""
    session.flush()
    state: dict[str, list[tuple[Any, ...]]] = {}
    for table in WATCHED:
        order = list(table.primary_key.columns) or list(table.columns)
        state[table.name] = [tuple(row) for row in session.execute(select(table).order_by(*order))]
    return state


def audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def audit_actions(session: Session, *, since: int = 0) -> list[str]:
    """The actions of the audit events after the first ``since`` ones, in order."""
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id).offset(since)))


def add_key_accounts(session: Session, own: Book, other: Book) -> None:
    """Each book's key-account records: a need and a survey comment to promote, …"""
    from tests.keyaccounts.contract_support import world_contract
    from tests.keyaccounts.deal_support import world_deal
    from tests.keyaccounts.map_support import world_map
    from tests.keyaccounts.negotiation_support import world_negotiation
    from tests.keyaccounts.plan_support import world_plan

    for book in (own, other):
        book.objective = world_plan(session, book.customer)
        book.contract, book.milestone, book.account_task = world_contract(session, book.customer)
        book.deal = world_deal(session, book.customer)
        book.need, book.comment_response = world_map(session, book.customer)
        book.negotiation, book.concession = world_negotiation(session, book.customer)
