"""A small, hand-countable company for the loyalty retention, dashboard, API and CLI tests.

Orders (CNY unless said, the 10th of each month of 2026):

    P (ly.rep, 华东, key):   Jan 1,000 · Feb 1,500 · Mar 1,500
    Q (ly.rep, 华南):        Jan 2,000 · Feb 1,000
    R (ly.rival, 华东):      Jan 500 · Mar 700
    S (ly.rival, 华南):      Feb 800 · Mar 800
    U (ly.rival, 华南):      Mar 1,000
    X (ly.rival, USD):       Jan 9,999 · Feb 9,999 (another currency: never mixed in)

Loyalty scores (``with_scores``) of 31 March 2026, as the cycle would write them:

    P champions    CLV 50,000  churn 0.1  (value at risk 5,000; below 0.5, not "at risk")
    Q at_risk      CLV 20,000  churn 0.8  → 16,000
    R hibernating  CLV 40,000  churn 0.6  → 24,000
    S loyal        CLV 10,000  churn 0.5  →  5,000
    U promising    no CLV      churn 0.9
    X at_risk      CLV 99,999 USD churn 0.9
and one older row, P lost on 1 March 2026 (the latest day on or before 15 March).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Segment, Tier
from flywheel.models.users import User
from tests.factories import make_customer
from tests.loyalty.factories import make_loyalty_score, make_order
from tests.web.pages import make_person

AS_OF = date(2026, 3, 31)
OLD_DAY = date(2026, 3, 1)


@dataclass
class LoyaltyWorld:
    manager: User
    rep: User
    rival: User
    accounts: dict[str, Customer]


def build(session: Session, *, language: str = "en") -> LoyaltyWorld:
    manager = make_person(session, "ly.manager", role=Role.MANAGER, language=language)
    rep = make_person(session, "ly.rep", role=Role.SALES, language=language)
    rival = make_person(session, "ly.rival", role=Role.SALES, language=language)
    rival.display_name = "Rival Zhang"
    session.flush()
    accounts = {
        "P": make_customer(session, code="RT-P", owner=rep, region="华东", tier=Tier.KEY),
        "Q": make_customer(session, code="RT-Q", owner=rep, region="华南"),
        "R": make_customer(session, code="RT-R", owner=rival, region="华东"),
        "S": make_customer(session, code="RT-S", owner=rival, region="华南"),
        "U": make_customer(session, code="RT-U", owner=rival, region="华南"),
        "X": make_customer(session, code="RT-X", owner=rival, currency="USD"),
    }
    orders = {
        "P": [(1, "1000"), (2, "1500"), (3, "1500")],
        "Q": [(1, "2000"), (2, "1000")],
        "R": [(1, "500"), (3, "700")],
        "S": [(2, "800"), (3, "800")],
        "U": [(3, "1000")],
        "X": [(1, "9999"), (2, "9999")],
    }
    for key, rows in orders.items():
        for month, amount in rows:
            make_order(session, customer=accounts[key], on=date(2026, month, 10), amount=amount)
    return LoyaltyWorld(manager, rep, rival, accounts)


def with_scores(session: Session, world: LoyaltyWorld) -> LoyaltyWorld:
    a = world.accounts
    rows = [
        ("P", Segment.CHAMPIONS, 80, "50000.00", 0.1),
        ("Q", Segment.AT_RISK, 30, "20000.00", 0.8),
        ("R", Segment.HIBERNATING, 45, "40000.00", 0.6),
        ("S", Segment.LOYAL, 72, "10000.00", 0.5),
        ("U", Segment.PROMISING, 60, None, 0.9),
        ("X", Segment.AT_RISK, 20, "99999.00", 0.9),
    ]
    for key, segment, health, clv, risk in rows:
        make_loyalty_score(
            session,
            customer=a[key],
            as_of=AS_OF,
            segment=segment,
            health=health,
            clv=clv,
            churn_risk=risk,
            p_alive=1 - risk,
        )
    make_loyalty_score(session, customer=a["P"], as_of=OLD_DAY, segment=Segment.LOST)
    return world
