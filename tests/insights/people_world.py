"""A small, hand-countable company for the people stages of the cube (attract, engage,
delight) and their drills: five accounts of two reps, their referrals, deals, account plans,
survey answers and closed loops around March 2026, written through the services where there
is one and as rows where the survey page or the loop job would write them.

Accounts (owner, tier, region, currency, created):
  PW-A  rep    key       华东  CNY  2025-06-01
  PW-B  rep    standard  华南  CNY  2026-03-05  referred by PW-A (referral made 02-25, won 03-05)
  PW-C  rival  key       华东  CNY  2026-03-20
  PW-D  rival  growth    华北  USD  2025-06-01
  PW-E  rival  standard  华东  CNY  2026-04-02
March: new 2 (B, C), referred 1 (B) → 50 %; referrals made 2 (D 03-10, A 03-31).

Deals (account, value, opened → closed):
  d1 A 100000 CNY 01-15 → won 03-10 (54 days)    d2 A 50000 CNY 03-02 open
  d3 C  20000 CNY 03-21 → lost 03-28             d4 D 8000 USD 02-01 → won 03-31 (58 days)
  d5 A   1000 USD 03-15 open                     d6 B 30000 CNY 04-01 open
  d7 C   5000 CNY 02-10 → lost 04-03
March: created 3 (d2, d3, d5): pipeline 70000 CNY, 1000 USD; won 2, lost 1 → 66.67 %, cycle
56 days; the rep's: won 1, lost 0 → 100 %, cycle 54, pipeline 50000 CNY.
Account plans: A's made 02-10, D's (not a key account) 02-12. Key accounts at March's end:
A, C; planned A → 50 %; at February's end A of A → 100 %; at January's end 0 %.

NPS (March): A 10, A 6, B 9 (03-31 23:30 UTC), C 3, D 8; outside: A 10 04-01 00:10, C 0 02-28.
  → 5 answers, 2 promoters, 2 detractors: NPS 0; the rep's 3/2/1: 33.33.
CSAT (March): A 5, B 3, C 2, D 4 → 2 of 4 satisfied: 50 %; sum 14.
Loops (opened → due, closed):
  L1 A 02-27 09:00 → 03-01 09:00, closed 03-01 09:00 (on the due minute: within, 48 h)
  L2 A 03-01 09:00 → 03-03 09:00, closed 03-02 09:00 (24 h)
  L3 C 03-05 09:00 → 03-07 09:00, closed 03-10 09:00 (120 h, 72 h late)
  L4 D 03-20 09:00 → 03-22 09:00, open
  L5 C 03-30 09:00 → 04-01 09:00, closed 04-01 00:30
March: opened 4 (L2–L5), closed 3 (L1–L3), 2 within the SLA → 66.67 %, 64 hours on average;
the rep's: 2 of 2, 36 hours.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.insights import snapshot
from flywheel.keyaccounts import deals, plans
from flywheel.loyalty import referrals
from flywheel.models.customers import Customer
from flywheel.models.enums import LoopReason, LoopStatus, Role, SurveyKind, Tier
from flywheel.models.feedback import FeedbackLoop
from flywheel.models.users import User
from tests.factories import TESTER, make_customer, make_user
from tests.feedback.metrics_world import answer

AS_OF = date(2026, 4, 15)
MARCH = date(2026, 3, 1)
_seq = itertools.count(1)


def moment(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class PeopleWorld:
    rep: User
    rival: User
    manager: User
    idle: User  # a sales rep with no account
    a: Customer
    b: Customer
    c: Customer
    d: Customer
    e: Customer

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user)


def _deal(
    session: Session,
    account: Customer,
    value: str,
    opened: date,
    *,
    currency: str | None = None,
    won: date | None = None,
    lost: date | None = None,
) -> None:
    deal = deals.create_deal(
        session,
        actor=TESTER,
        customer=account.code,
        title=f"{account.code} {value}",
        value=value,
        opened_on=opened,
        currency=currency,
    )
    if won is not None:
        deals.win_deal(session, actor=TESTER, deal_id=deal.id, on=won)
    if lost is not None:
        deals.lose_deal(session, actor=TESTER, deal_id=deal.id, on=lost, reason="价格")


def _plan(session: Session, account: Customer, made: date) -> None:
    plan = plans.save_plan(session, actor=TESTER, code=account.code, values={}, as_of=made)
    plan.created_at = datetime.combine(made, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    session.flush()


def _loop(
    session: Session,
    account: Customer,
    opened: datetime,
    closed: datetime | None,
) -> None:
    session.add(
        FeedbackLoop(
            customer_id=account.id,
            dedupe_key=f"people-world:{next(_seq)}",
            reason=LoopReason.DETRACTOR.value,
            urgency=[],
            owner_id=account.owner_id,
            status=(LoopStatus.CLOSED if closed else LoopStatus.OPEN).value,
            opened_at=opened,
            due_at=opened + timedelta(hours=48),
            closed_at=closed,
            outcome="resolved" if closed else None,
        )
    )
    session.flush()


def build(session: Session) -> PeopleWorld:
    n = next(_seq)
    rep = make_user(session, username=f"pw-rep-{n}", role=Role.SALES)
    rival = make_user(session, username=f"pw-rival-{n}", role=Role.SALES)
    manager = make_user(session, username=f"pw-manager-{n}", role=Role.MANAGER)
    idle = make_user(session, username=f"pw-idle-{n}", role=Role.SALES)
    old = date(2025, 6, 1)
    a = make_customer(session, code="PW-A", tier=Tier.KEY, owner=rep, region="华东", created_on=old)
    b = make_customer(session, code="PW-B", owner=rep, region="华南", created_on=date(2026, 3, 5))
    c = make_customer(
        session,
        code="PW-C",
        tier=Tier.KEY,
        owner=rival,
        region="华东",
        created_on=date(2026, 3, 20),
    )
    d = make_customer(
        session,
        code="PW-D",
        tier=Tier.GROWTH,
        owner=rival,
        region="华北",
        currency="USD",
        created_on=old,
    )
    e = make_customer(session, code="PW-E", owner=rival, region="华东", created_on=date(2026, 4, 2))

    made = referrals.record_referral(
        session, actor=TESTER, customer=a.code, referred_on=date(2026, 2, 25), lead_company="乙方"
    )
    referrals.change_status(
        session,
        actor=TESTER,
        referral_id=made.id,
        status="won",
        on=date(2026, 3, 5),
        referred_customer=b.code,
    )
    referrals.record_referral(
        session,
        actor=TESTER,
        customer=d.code,
        referred_on=date(2026, 3, 10),
        lead_company="远景贸易",
    )
    referrals.record_referral(
        session,
        actor=TESTER,
        customer=a.code,
        referred_on=date(2026, 3, 31),
        lead_company="星河科技",
    )

    deals.seed_default_stages(session)
    _deal(session, a, "100000.00", date(2026, 1, 15), won=date(2026, 3, 10))
    _deal(session, a, "50000.00", date(2026, 3, 2))
    _deal(session, c, "20000.00", date(2026, 3, 21), lost=date(2026, 3, 28))
    _deal(session, d, "8000.00", date(2026, 2, 1), won=date(2026, 3, 31))
    _deal(session, a, "1000.00", date(2026, 3, 15), currency="USD")
    _deal(session, b, "30000.00", date(2026, 4, 1))
    _deal(session, c, "5000.00", date(2026, 2, 10), lost=date(2026, 4, 3))

    _plan(session, a, date(2026, 2, 10))
    _plan(session, d, date(2026, 2, 12))

    nps = SurveyKind.NPS.value
    csat = SurveyKind.CSAT.value
    for account, kind, score, when in (
        (a, nps, 10, moment(3, 3)),
        (a, nps, 6, moment(3, 12)),
        (b, nps, 9, moment(3, 31, 23, 30)),
        (c, nps, 3, moment(3, 20)),
        (d, nps, 8, moment(3, 25)),
        (a, nps, 10, moment(4, 1, 0, 10)),
        (c, nps, 0, moment(2, 28)),
        (a, csat, 5, moment(3, 4)),
        (b, csat, 3, moment(3, 6)),
        (c, csat, 2, moment(3, 21)),
        (d, csat, 4, moment(3, 26)),
    ):
        answer(session, customer=account, contact=None, kind=kind, score=score, when=when)

    _loop(session, a, moment(2, 27), moment(3, 1))
    _loop(session, a, moment(3, 1), moment(3, 2))
    _loop(session, c, moment(3, 5), moment(3, 10))
    _loop(session, d, moment(3, 20), None)
    _loop(session, c, moment(3, 30), moment(4, 1, 0, 30))
    session.flush()
    return PeopleWorld(rep, rival, manager, idle, a, b, c, d, e)


def build_cube(session: Session) -> PeopleWorld:
    """The world, and its cube from January to April 2026 (built on ``AS_OF``)."""
    world = build(session)
    snapshot.run(session, as_of=AS_OF, history=4, rebuild=True)
    return world
