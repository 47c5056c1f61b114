"""A small company and a source of hand-set measures, to test the cube, the figures and their
API without the real sources: what each account adds in each month is written out below."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy.orm import Session

from flywheel.insights import snapshot
from flywheel.insights.cube import Accounts, Contribution, Month, contribution
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Tier
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.users import User
from tests.factories import make_customer, make_user

AS_OF = date(2026, 12, 4)

# (account code, month) -> measures it adds that month. Money of B is in USD (its currency)
# except the EUR deal; every other account bills in CNY.
PLAN: dict[tuple[str, str], dict[str, float]] = {
    ("A", "2026-10"): {
        "deals_won": 2,
        "deals_lost": 1,
        "pipeline_created": 1000.0,
        "ar_total": 500.0,
    },
    ("A", "2026-11"): {
        "deals_won": 1,
        "deals_lost": 1,
        "pipeline_created": 300.0,
        "ar_total": 800.0,
    },
    ("B", "2026-11"): {"deals_won": 1, "deals_lost": 3, "pipeline_created": 70.0, "ar_total": 40.0},
    ("C", "2026-11"): {
        "deals_won": 0,
        "deals_lost": 1,
        "pipeline_created": 50.0,
        "ar_total": 200.0,
    },
    ("C", "2026-12"): {"deals_won": 1, "pipeline_created": 10.0, "ar_total": 100.0},
    ("D", "2026-09"): {"deals_won": 1, "ar_total": 10.0},
}
EUR_DEAL = ("B", "2026-11", 999.0)  # a pipeline in EUR: only an EUR dashboard shows it


@dataclass
class CubeWorld:
    rep: User
    other_rep: User
    manager: User
    accounts: dict[str, Customer]


def build(session: Session) -> CubeWorld:
    rep = make_user(session, username="cube_rep", role=Role.SALES)
    other = make_user(session, username="cube_rep2", role=Role.SALES)
    manager = make_user(session, username="cube_boss", role=Role.MANAGER)
    accounts = {
        "A": make_customer(
            session, code="A", owner=rep, region="华东", tier=Tier.KEY, created_on=date(2025, 1, 1)
        ),
        "B": make_customer(
            session,
            code="B",
            owner=rep,
            region="华南",
            currency="USD",
            created_on=date(2026, 10, 10),
        ),
        "C": make_customer(
            session,
            code="C",
            owner=other,
            region="华东",
            tier=Tier.GROWTH,
            created_on=date(2026, 11, 5),
        ),
        "D": make_customer(session, code="D", region=None, created_on=date(2026, 9, 1)),
    }
    # A is a champion from the end of October on.
    session.add(
        LoyaltyScore(
            customer_id=accounts["A"].id,
            as_of=date(2026, 10, 31),
            currency="CNY",
            orders=9,
            revenue_12m=Decimal("1000.00"),
            recency_score=5,
            frequency_score=5,
            monetary_score=5,
            segment="champions",
            health=80,
            health_band="green",
            health_trend="flat",
            health_factors=[],
            churn_risk=0.1,
            churn_basis="p_alive",
            computed_at=datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
        )
    )
    session.flush()
    return CubeWorld(rep=rep, other_rep=other, manager=manager, accounts=accounts)


def planned(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    codes = dict(session.query(Customer.code, Customer.id).all())
    key = month.first.isoformat()[:7]
    out: dict[str, tuple[list[int], list[float], list[str | None]]] = {}
    for (code, when), measures in PLAN.items():
        if when != key or code not in codes:
            continue
        for name, value in measures.items():
            ids, values, currencies = out.setdefault(name, ([], [], []))
            ids.append(codes[code])
            values.append(value)
            currencies.append(None)
    result: dict[str, Contribution] = {}
    for name, (ids, values, _) in out.items():
        result[name] = contribution(accounts, ids, values)
    if key == EUR_DEAL[1] and EUR_DEAL[0] in codes:
        usual = result.get("pipeline_created")
        eur = contribution(accounts, [codes[EUR_DEAL[0]]], [EUR_DEAL[2]], currency=["EUR"])
        if usual is not None:
            own = np.asarray([str(c) for c in accounts.currency[usual.account]], dtype=object)
            result["pipeline_created"] = Contribution(
                account=np.concatenate([usual.account, eur.account]),
                value=np.concatenate([usual.value, eur.value]),
                currency=np.concatenate([own, np.asarray(["EUR"], dtype=object)]),
            )
    return result


def build_cube(session: Session, *, as_of: date = AS_OF, history: int = 6) -> snapshot.SnapshotRun:
    from flywheel.insights.sources import attract

    return snapshot.run(session, as_of=as_of, history=history, sources=[attract.measures, planned])
