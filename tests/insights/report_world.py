"""A small, hand-countable company for the management report, around Monday 1 June 2026: the
day both the weekly report (25–31 May) and the monthly report (May) fall due.

People: two managers with an address (张经理 reads Chinese, Emma Reed English), a manager with
no address, a manager who left (disabled), an administrator and a sales rep, both with an
address (neither gets the report while there are managers).

Accounts (all the rep's, CNY), created:
  RW-OLD1 北方重工集团 2025-01-01   health green (04-20) → red (05-30): dropped
  RW-OLD2 Harbor Tools Ltd. 2025-01-01  segment champions (04-20) → at risk (05-30): dropped
  RW-OLD3 东海贸易 2025-01-01   health yellow → green: rose, not listed
  RW-APR 2026-04-10; RW-MAY1 05-05; RW-MAY2 05-20; RW-MAY3 05-26; RW-MAY4 05-31
New customers: April 1, May 4 (+300 %); the week 2 (MAY3, MAY4), the week before 1 (MAY2).

The week (25–31 May) against the week before (18–24 May):
  deals won 1 (OLD1's, won 05-28) / 0;  NPS answers 3 (10, 3, 6: 2 detractors) / 1 (9);
  payments 2 (1,000.00 + 2,500.50 = 3,500.50 CNY) / 1 (800.00);  promises broken 1 / 2.
On 1 June: OLD1 owes 50,000.00 overdue (due 04-30), OLD2 20,000.00 (due 05-10), MAY1 10,000.00
not yet due (06-15). Open next best actions: OLD2 rescue (score 90), MAY1 referral ask (70),
OLD1 gentle reminder (50); a done one (99) is not open. Loops: OLD2's open, due 05-29 09:00
(63 hours late on 1 June); OLD3's open, due 06-02 (not late); OLD1's closed late (not open).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.keyaccounts import deals
from flywheel.loyalty import next_actions
from flywheel.models.collections import PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    LoopReason,
    LoopStatus,
    NextActionStatus,
    PromiseStatus,
    Role,
    Segment,
    SurveyKind,
)
from flywheel.models.feedback import FeedbackLoop
from flywheel.models.loyalty import NextAction, NextActionRule
from flywheel.models.users import User
from flywheel.users import service as users
from tests.factories import TESTER, make_customer, make_invoice, make_payment
from tests.feedback.metrics_world import answer
from tests.loyalty.factories import make_loyalty_score

REPORT_DAY = date(2026, 6, 1)  # a Monday, and the first of the month
OLD = date(2025, 1, 1)
_seq = itertools.count(1)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class ReportWorld:
    manager_zh: User
    manager_en: User
    admin: User
    rep: User
    accounts: dict[str, Customer]


def _user(
    session: Session,
    name: str,
    role: Role,
    *,
    email: str | None,
    language: str = "zh",
    display: str | None = None,
) -> User:
    return users.create_user(
        session,
        actor=TESTER,
        username=name,
        display_name=display or name,
        email=email,
        role=role,
        language=language,
        password="correct horse battery",
    )


def _action(
    session: Session, customer: Customer, rule_code: str, score: float, *, done: bool = False
) -> None:
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == rule_code))
    assert rule is not None
    session.add(
        NextAction(
            customer_id=customer.id,
            rule_id=rule.id,
            dedupe_key=f"nba:{rule.id}:{customer.id}:report-world-{next(_seq)}",
            action=rule.action,
            owner_id=customer.owner_id,
            score=score,
            reason=[],
            status=(NextActionStatus.DONE if done else NextActionStatus.OPEN).value,
            created_on=date(2026, 5, 25),
            due_on=date(2026, 6, 3),
        )
    )


def _loop(
    session: Session, customer: Customer, due: datetime, *, closed: datetime | None = None
) -> None:
    session.add(
        FeedbackLoop(
            customer_id=customer.id,
            dedupe_key=f"report-world:{next(_seq)}",
            reason=LoopReason.DETRACTOR.value,
            urgency=[],
            owner_id=customer.owner_id,
            status=(LoopStatus.CLOSED if closed else LoopStatus.OPEN).value,
            opened_at=due - timedelta(hours=48),
            due_at=due,
            closed_at=closed,
            outcome="resolved" if closed else None,
        )
    )


def _promise(session: Session, customer: Customer, broken_on: date) -> None:
    session.add(
        PromiseToPay(
            customer_id=customer.id,
            amount=Decimal("1000.00"),
            currency="CNY",
            promised_on=broken_on - timedelta(days=5),
            made_on=broken_on - timedelta(days=10),
            grace_days=3,
            status=PromiseStatus.BROKEN.value,
            resolved_on=broken_on,
        )
    )


def build(session: Session) -> ReportWorld:
    manager_zh = _user(
        session, "zhang.jl", Role.MANAGER, email="zhang@flywheel.test", display="张经理"
    )
    manager_en = _user(
        session,
        "emma.reed",
        Role.MANAGER,
        email="Emma Reed <emma@flywheel.test>",
        language="en",
        display="Emma Reed",
    )
    _user(session, "no.address", Role.MANAGER, email=None)
    gone = _user(session, "left.co", Role.MANAGER, email="left@flywheel.test")
    users.disable_user(session, actor=TESTER, user=gone)
    admin = _user(session, "it.admin", Role.ADMIN, email="it@flywheel.test")
    rep = _user(session, "li.rep", Role.SALES, email="li@flywheel.test", display="李销售")

    def account(code: str, name: str, created: date) -> Customer:
        return make_customer(session, code=code, name=name, owner=rep, created_on=created)

    old1 = account("RW-OLD1", "北方重工集团", OLD)
    old2 = account("RW-OLD2", "Harbor Tools Ltd.", OLD)
    old3 = account("RW-OLD3", "东海贸易", OLD)
    account("RW-APR", "四月新客户", date(2026, 4, 10))
    may1 = account("RW-MAY1", "五月新客户一", date(2026, 5, 5))
    account("RW-MAY2", "五月新客户二", date(2026, 5, 20))
    account("RW-MAY3", "五月新客户三", date(2026, 5, 26))
    account("RW-MAY4", "五月新客户四", date(2026, 5, 31))

    before, after = date(2026, 4, 20), date(2026, 5, 30)
    make_loyalty_score(session, customer=old1, as_of=before, health=80)
    make_loyalty_score(
        session, customer=old1, as_of=after, health=30, revenue_12m=Decimal("300000.00")
    )
    make_loyalty_score(session, customer=old2, as_of=before, health=80, segment=Segment.CHAMPIONS)
    make_loyalty_score(
        session,
        customer=old2,
        as_of=after,
        health=80,
        segment=Segment.AT_RISK,
        revenue_12m=Decimal("90000.00"),
    )
    make_loyalty_score(session, customer=old3, as_of=before, health=50)
    make_loyalty_score(session, customer=old3, as_of=after, health=85)

    deals.seed_default_stages(session)
    deal = deals.create_deal(
        session,
        actor=TESTER,
        customer=old1.code,
        title="北方重工 年度框架",
        value="120000.00",
        opened_on=date(2026, 4, 1),
    )
    deals.win_deal(session, actor=TESTER, deal_id=deal.id, on=date(2026, 5, 28))

    nps = SurveyKind.NPS.value
    for customer, score, when in (
        (old1, 10, at(5, 25)),
        (old2, 3, at(5, 27)),
        (old3, 6, at(5, 31, 23)),
        (old3, 9, at(5, 24, 23)),
    ):
        answer(session, customer=customer, contact=None, kind=nps, score=score, when=when)

    make_invoice(
        session,
        customer=old1,
        amount="50000.00",
        issued=date(2026, 3, 31),
        due=date(2026, 4, 30),
    )
    make_invoice(
        session,
        customer=old2,
        amount="20000.00",
        issued=date(2026, 4, 10),
        due=date(2026, 5, 10),
    )
    make_invoice(
        session,
        customer=may1,
        amount="10000.00",
        issued=date(2026, 5, 16),
        due=date(2026, 6, 15),
    )
    make_payment(session, customer=old3, amount="1000.00", received=date(2026, 5, 25))
    make_payment(session, customer=old3, amount="2500.50", received=date(2026, 5, 31))
    make_payment(session, customer=old3, amount="800.00", received=date(2026, 5, 18))

    _promise(session, old2, date(2026, 5, 29))
    _promise(session, old2, date(2026, 5, 19))
    _promise(session, old1, date(2026, 5, 24))

    next_actions.ensure_default_rules(session)
    _action(session, old2, "rescue_detractor", 90.0)
    _action(session, may1, "referral_ask_promoter", 70.0)
    _action(session, old1, "gentle_reminder_friendly", 50.0)
    _action(session, old3, "upsell_growing", 99.0, done=True)

    _loop(session, old2, at(5, 29))
    _loop(session, old3, at(6, 2))
    _loop(session, old1, at(5, 20), closed=at(5, 23))
    session.flush()
    return ReportWorld(
        manager_zh=manager_zh,
        manager_en=manager_en,
        admin=admin,
        rep=rep,
        accounts={
            c.code: c for c in session.scalars(select(Customer).where(Customer.code.like("RW-%")))
        },
    )
