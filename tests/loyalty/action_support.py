"""Hand-made accounts for the next-best-action tests: each one is what exactly one shipped rule
looks for (a high-CLV promoter, a detractor, an at-risk big spender, a growing account, a
contract account whose health falls, a friendly account a little overdue), and a quiet one
that none of them touches."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.models.credit import CreditScore
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Segment, Tier, Trend
from flywheel.models.loyalty import NextAction
from flywheel.models.users import User
from tests.factories import make_customer, make_invoice, make_user
from tests.feedback.loop_support import answer
from tests.loyalty.factories import make_loyalty_score, make_order

AS_OF = date(2026, 3, 2)
SETTINGS = Settings(secret_key="flywheel-tests-only-session-key", loyalty_contract_tiers=["key"])
_seq = itertools.count(1)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def scored(
    session: Session,
    *,
    owner: User | None,
    as_of: date = AS_OF,
    tier: Tier = Tier.STANDARD,
    name: str | None = None,
    **fields: Any,
) -> Customer:
    """An account with its loyalty row of ``as_of`` (quiet unless ``fields`` say otherwise)."""
    customer = make_customer(session, owner=owner, tier=tier, name=name)
    fields.setdefault("clv", "50000.00")
    fields.setdefault("revenue_12m", Decimal("60000.00"))
    make_loyalty_score(session, customer=customer, as_of=as_of, **fields)
    return customer


def grade(session: Session, customer: Customer, letter: str, *, on: date = AS_OF) -> None:
    session.add(
        CreditScore(
            customer_id=customer.id, as_of=on, score=700, grade=letter, model="expert", factors=[]
        )
    )
    session.flush()


@dataclass
class Book:
    rep: User
    rival: User
    manager: User
    quiet: Customer
    promoter: Customer
    small_promoter: Customer  # a promoter with a low CLV: no referral ask
    detractor: Customer
    at_risk: Customer
    growing: Customer
    renewal: Customer
    overdue: Customer

    def by_code(self) -> dict[str, str]:
        return {
            getattr(self, name).code: name
            for name in (
                "quiet",
                "promoter",
                "small_promoter",
                "detractor",
                "at_risk",
                "growing",
                "renewal",
                "overdue",
            )
        }


def book(session: Session, *, rep: User | None = None, manager: User | None = None) -> Book:
    """The accounts above; ``rep`` owns all but the detractor (the rival's)."""
    n = next(_seq)
    rep = rep or make_user(session, username=f"nba-rep-{n}", role=Role.SALES)
    rival = make_user(session, username=f"nba-rival-{n}", role=Role.SALES)
    manager = manager or make_user(session, username=f"nba-manager-{n}", role=Role.MANAGER)
    quiet = scored(session, owner=rep, name="安静客户", clv="40000.00")
    promoter = scored(session, owner=rep, name="推荐客户", clv="900000.00")
    answer(session, promoter, score=10, at=noon(AS_OF - timedelta(days=20)))
    small = scored(session, owner=rep, name="小推荐客户", clv="1000.00")
    answer(session, small, score=9, at=noon(AS_OF - timedelta(days=20)))
    detractor = scored(session, owner=rival, name="不满客户", clv="30000.00")
    answer(session, detractor, score=3, at=noon(AS_OF - timedelta(days=5)))
    at_risk = scored(
        session,
        owner=rep,
        name="风险客户",
        clv="20000.00",
        segment=Segment.AT_RISK,
        health=35,
        churn_risk=0.7,
        p_alive=0.3,
        monetary_score=5,
    )
    growing = scored(session, owner=rep, name="增长客户", clv="60000.00")
    make_order(session, customer=growing, on=AS_OF - timedelta(days=500), amount="100000.00")
    make_order(session, customer=growing, on=AS_OF - timedelta(days=100), amount="150000.00")
    renewal = scored(
        session,
        owner=rep,
        name="续约客户",
        tier=Tier.KEY,
        clv="70000.00",
        health=55,
        health_trend=Trend.DOWN.value,
    )
    overdue = scored(session, owner=rep, name="逾期客户", clv="10000.00")
    make_invoice(
        session,
        customer=overdue,
        amount="8000.00",
        issued=AS_OF - timedelta(days=40),
        due=AS_OF - timedelta(days=10),
    )
    session.flush()
    return Book(
        rep, rival, manager, quiet, promoter, small, detractor, at_risk, growing, renewal, overdue
    )


def opened(session: Session) -> list[NextAction]:
    return list(session.scalars(select(NextAction).order_by(NextAction.id)))


def world_next_action(session: Session, customer_code: str) -> int:
    """An open next best action on the account ``customer_code``, for the shared API world
    (``tests/web/api_support.py``): the permission matrix and the schema checks would name it
    as ``{next_action}``."""
    from flywheel.loyalty import next_actions
    from flywheel.models.loyalty import NextActionRule

    next_actions.ensure_default_rules(session)
    customer = session.scalar(select(Customer).where(Customer.code == customer_code))
    assert customer is not None
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == "rescue_detractor"))
    assert rule is not None
    action = NextAction(
        customer_id=customer.id,
        rule_id=rule.id,
        dedupe_key=f"nba:{rule.id}:{customer.id}:world",
        action=rule.action,
        owner_id=customer.owner_id,
        score=90.0,
        reason=[["nps_band", "detractor"]],
        status="open",
        created_on=AS_OF,
        due_on=AS_OF + timedelta(days=3),
    )
    session.add(action)
    session.flush()
    return action.id
