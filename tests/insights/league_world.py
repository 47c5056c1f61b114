"""Hand-written cube rows for the trend, league and transition tests: who holds what in which
month is spelt out below, so every expected figure can be worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.insights import (
    InsightMonth,
    insight_cells,
    insight_markets,
    insight_transitions,
)
from flywheel.models.users import User
from tests.web.pages import make_person

SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
MONTH_ENDS = {SEP: date(2026, 9, 30), OCT: date(2026, 10, 31), NOV: date(2026, 11, 30)}


@dataclass
class World:
    rep_a: User
    rep_b: User
    rep_c: User
    boss: User


def put(
    session: Session,
    month: date,
    *,
    owner: User | None,
    region: str = "华东",
    tier: str = "standard",
    segment: str = "loyal",
    currency: str = "CNY",
    **measures: float,
) -> None:
    """One cell of the cube, and the same numbers in the cube without owners."""
    dims = {
        "month": month,
        "as_of": MONTH_ENDS[month],
        "currency": currency,
        "region": region,
        "tier": tier,
        "segment": segment,
        **measures,
    }
    session.execute(insert(insight_cells), [{**dims, "owner_id": owner.id if owner else 0}])
    session.execute(insert(insight_markets), [dims])


def built(session: Session, *months: date) -> None:
    for month in months:
        session.add(
            InsightMonth(month=month, as_of=MONTH_ENDS[month], accounts=0, cells=0, seconds=0.0)
        )
    session.flush()


def people(session: Session) -> World:
    return World(
        rep_a=make_person(session, "rep.a", role=Role.SALES),
        rep_b=make_person(session, "rep.b", role=Role.SALES),
        rep_c=make_person(session, "rep.c", role=Role.SALES),
        boss=make_person(session, "boss.li", role=Role.MANAGER),
    )


def build(session: Session) -> World:
    """Three months of cells (September to November 2026).

    November: A holds 10 CNY accounts in 华东 (won 3, lost 1, collected 1,000, receivables 400
    of which 300 current) and 2 USD accounts in 华南 (won 1, lost 1, collected 50 USD); B holds
    5 accounts in 华东 (won 1, lost 3, collected 3,000, receivables 200 of which 100 current);
    one account without owner or region collected 10. October: A 9 accounts (won 1, lost 1,
    collected 500), B 5 (won 2, collected 1,000), C 3 (collected 70). September: A 8 and B 4
    accounts, each collected 100.
    """
    world = people(session)
    a, b, c = world.rep_a, world.rep_b, world.rep_c
    built(session, SEP, OCT, NOV)
    put(session, SEP, owner=a, accounts=8, collected=100)
    put(session, SEP, owner=b, accounts=4, collected=100)
    put(session, OCT, owner=a, accounts=9, deals_won=1, deals_lost=1, collected=500)
    put(session, OCT, owner=b, accounts=5, deals_won=2, collected=1000)
    put(session, OCT, owner=c, region="华北", accounts=3, collected=70)
    put(
        session,
        NOV,
        owner=a,
        tier="key",
        accounts=10,
        deals_won=3,
        deals_lost=1,
        collected=1000,
        ar_total=400,
        ar_current=300,
    )
    put(
        session,
        NOV,
        owner=a,
        region="华南",
        currency="USD",
        segment="champions",
        accounts=2,
        deals_won=1,
        deals_lost=1,
        collected=50,
    )
    put(
        session,
        NOV,
        owner=b,
        accounts=5,
        deals_won=1,
        deals_lost=3,
        collected=3000,
        ar_total=200,
        ar_current=100,
    )
    put(session, NOV, owner=None, region="", accounts=1, collected=10)
    return world


def moves(session: Session, world: World) -> None:
    """Accounts moving into November (and one October row that must not count).

    Segments: A's key accounts in 华东 — champions→champions 5, champions→loyal 2,
    loyal→champions 1, unscored→promising 3; A's growth account in 华南 — at_risk→lost 1;
    B's standard accounts in 华东 — loyal→loyal 4, loyal→at_risk 2, champions→champions 1.
    Grades: A — A→A 3, A→B 1, B→A 2; B — C→E 1.
    """
    a, b = world.rep_a, world.rep_b
    rows = [
        (NOV, "segment", a, "华东", "key", "champions", "champions", 5),
        (NOV, "segment", a, "华东", "key", "champions", "loyal", 2),
        (NOV, "segment", a, "华东", "key", "loyal", "champions", 1),
        (NOV, "segment", a, "华东", "key", "unscored", "promising", 3),
        (NOV, "segment", a, "华南", "growth", "at_risk", "lost", 1),
        (NOV, "segment", b, "华东", "standard", "loyal", "loyal", 4),
        (NOV, "segment", b, "华东", "standard", "loyal", "at_risk", 2),
        (NOV, "segment", b, "华东", "standard", "champions", "champions", 1),
        (NOV, "grade", a, "华东", "key", "A", "A", 3),
        (NOV, "grade", a, "华东", "key", "A", "B", 1),
        (NOV, "grade", a, "华东", "key", "B", "A", 2),
        (NOV, "grade", b, "华东", "standard", "C", "E", 1),
        (OCT, "segment", a, "华东", "key", "champions", "lost", 9),
    ]
    session.execute(
        insert(insight_transitions),
        [
            {
                "month": month,
                "kind": kind,
                "owner_id": owner.id,
                "region": region,
                "tier": tier,
                "from_code": source,
                "to_code": to,
                "accounts": n,
            }
            for month, kind, owner, region, tier, source, to, n in rows
        ],
    )
    session.flush()
