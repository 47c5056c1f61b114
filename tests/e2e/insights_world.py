"""The flywheel dashboard browser test's own accounts on top of the demo, and the monthly
snapshot built over all of it for today, as ``flywheel run`` would.

Three new accounts with known creation days: two of the demo ``sales`` rep (one in the month
before this one, one the month before that) and one of another rep in the month before this
one, so that a quarter holds both of the rep's and the rep's filter never holds the other's.
What a page must show is then counted from the database itself (``new_accounts``), the
same way the snapshot's definition reads: accounts created within the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, select

from flywheel.customers import service as customers
from flywheel.customers.schemas import CustomerIn
from flywheel.db import unit_of_work
from flywheel.insights import snapshot
from flywheel.insights.cube import add_months, month_end, month_start
from flywheel.models.customers import Customer
from flywheel.models.enums import Tier
from flywheel.models.users import User
from flywheel.users import service as users
from tests.e2e import world

SALES = world.SALES
MANAGER = "manager"
OTHER_REP = world.OTHER_REP
PREFIX = "E2E-FW"


@dataclass(frozen=True)
class NewAccount:
    code: str
    name: str
    owner: str
    tier: Tier
    months_back: int  # created this many months before today's month…
    day: int  # …on this day of it


ACCOUNTS = (
    NewAccount(f"{PREFIX}-ORBIT", "Orbit Valves 轨道阀门", SALES, Tier.KEY, 1, 10),
    NewAccount(f"{PREFIX}-QUASAR", "Quasar Textiles 类星体纺织", SALES, Tier.GROWTH, 2, 5),
    NewAccount(f"{PREFIX}-NEBULA", "Nebula Glass 星云玻璃", OTHER_REP, Tier.STANDARD, 1, 12),
)


def seed(engine: Engine, *, today: date) -> dict[str, object]:
    """Add the accounts, build the snapshot for ``today`` and commit; what the build did."""
    with unit_of_work(engine) as session:
        for account in ACCOUNTS:
            owner = users.get_by_username(session, account.owner)
            created = add_months(month_start(today), -account.months_back) + timedelta(
                days=account.day - 1
            )
            customers.create_customer(
                session,
                actor=world.SEEDER,
                data=CustomerIn(
                    code=account.code,
                    name=account.name,
                    tier=account.tier,
                    owner_id=owner.id,
                    currency="CNY",
                    payment_terms="NET30",
                    created_on=created,
                ),
            )
        session.flush()
        return snapshot.run(session, as_of=today).as_dict()


def new_accounts(engine: Engine, *, first: date, last: date, owner: str | None = None) -> set[str]:
    """The codes of the accounts created from the first day of month ``first`` to the last day
    of month ``last`` (of ``owner`` when named)."""
    query = select(Customer.code).where(
        Customer.created_on >= month_start(first), Customer.created_on <= month_end(last)
    )
    if owner is not None:
        query = query.join(User, User.id == Customer.owner_id).where(User.username == owner)
    with engine.connect() as conn:
        return {str(code) for code in conn.scalars(query)}
