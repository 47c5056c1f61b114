"""The loyalty browser tests' own accounts, orders and users on top of the demo, and the day's
loyalty cycle run over all of it.

A few accounts of the demo ``sales`` rep and of the demo ``manager`` with order histories of a
known shape: big buyers who stopped months ago (at risk, so the cycle gives their owner a
"re-engage" action), steady buyers, a referrer with an open invoice that can take the reward's
credit note, and a new account the referred lead became. The cycle then runs for today (the
server's business day) over the demo and these, as ``flywheel run`` would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from flywheel.config import Settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, CustomerIn
from flywheel.db import unit_of_work
from flywheel.loyalty import cycle
from flywheel.models.customers import Customer
from flywheel.models.enums import Language, OrderStatus, Role, Tier
from flywheel.models.loyalty import NextAction
from flywheel.models.sales import Order
from flywheel.receivables import service as receivables
from flywheel.receivables.schemas import InvoiceCreate
from flywheel.users import service as users
from tests.e2e import world

SALES = world.SALES
MANAGER = "manager"
# A manager who reads Chinese: the dashboard in zh-CN.
ZH_MANAGER = "e2e.loyalty.zh"

PREFIX = "E2E-LY"
REFERRER = f"{PREFIX}-REFERRER"
NEWCOMER = f"{PREFIX}-NEWCOMER"
REFERRER_INVOICE = "E2E-LY-INV-0001"
REFERRER_CONTACT = "钱总"
LEAD_COMPANY = "南山精工 Nanshan Precision"


@dataclass(frozen=True)
class Buyer:
    code: str
    name: str
    owner: str
    tier: Tier
    every_days: int  # one order this often…
    amount: Decimal  # …of this much…
    stopped_days_ago: int  # …until this many days ago
    since_days_ago: int = 720


FADING = (
    Buyer(f"{PREFIX}-FADE-1", "Aurora Heavy Industry 极光重工", SALES, Tier.KEY, 21,
          Decimal("180000.00"), 220, 600),
    Buyer(f"{PREFIX}-FADE-2", "Cobalt Marine 钴蓝船舶", SALES, Tier.KEY, 25,
          Decimal("150000.00"), 250),
    Buyer(f"{PREFIX}-FADE-3", "Delta Grid 德尔塔电网", MANAGER, Tier.KEY, 20,
          Decimal("170000.00"), 230, 650),
)  # fmt: skip
STEADY = (
    Buyer(f"{PREFIX}-STEADY-1", "Ember Foods 余烬食品", SALES, Tier.GROWTH, 14,
          Decimal("40000.00"), 3, 400),
    Buyer(f"{PREFIX}-STEADY-2", "Fjord Optics 峡湾光学", SALES, Tier.STANDARD, 30,
          Decimal("25000.00"), 10),
    Buyer(f"{PREFIX}-STEADY-3", "Garnet Labs 石榴石实验室", MANAGER, Tier.GROWTH, 18,
          Decimal("60000.00"), 5, 300),
    Buyer(REFERRER, "Harbor Cranes 港湾起重", SALES, Tier.KEY, 16, Decimal("90000.00"), 4, 500),
)  # fmt: skip
NEW = Buyer(NEWCOMER, LEAD_COMPANY, SALES, Tier.STANDARD, 30, Decimal("30000.00"), 2, 40)
BUYERS = (*FADING, *STEADY, NEW)
OWN_FADING = tuple(b.code for b in FADING if b.owner == SALES)
MANAGERS_FADING = tuple(b.code for b in FADING if b.owner == MANAGER)


def seed(engine: Engine, *, today: date) -> dict[str, Any]:
    """Add the accounts, their orders and the zh manager, run the loyalty cycle for ``today``
    and commit; what the cycle reported."""
    with unit_of_work(engine) as session:
        users.create_user(
            session,
            actor=world.SEEDER,
            username=ZH_MANAGER,
            display_name="李经理",
            role=Role.MANAGER,
            language="zh",
            password=world.PASSWORD,
        )
        number = 0
        for buyer in BUYERS:
            owner = users.get_by_username(session, buyer.owner)
            customer = customers.create_customer(
                session,
                actor=world.SEEDER,
                data=CustomerIn(
                    code=buyer.code,
                    name=buyer.name,
                    tier=buyer.tier,
                    owner_id=owner.id,
                    currency="CNY",
                    payment_terms="NET30",
                    created_on=today - timedelta(days=buyer.since_days_ago + 5),
                ),
            )
            day = today - timedelta(days=buyer.since_days_ago)
            while day <= today - timedelta(days=buyer.stopped_days_ago):
                number += 1
                session.add(
                    Order(
                        number=f"E2E-LY-SO-{number:05d}",
                        customer_id=customer.id,
                        order_date=day,
                        amount=buyer.amount,
                        currency="CNY",
                        status=OrderStatus.DELIVERED.value,
                        delivered_on=day,
                    )
                )
                day += timedelta(days=buyer.every_days)
            if buyer.code == REFERRER:
                customers.add_contact(
                    session,
                    actor=world.SEEDER,
                    data=ContactIn(
                        customer_id=customer.id,
                        name=REFERRER_CONTACT,
                        email="qian@harbor.example",
                        language=Language.ZH,
                    ),
                )
                receivables.create_invoice(
                    session,
                    actor=world.SEEDER,
                    data=InvoiceCreate(
                        number=REFERRER_INVOICE,
                        customer_id=customer.id,
                        issue_date=today - timedelta(days=5),
                        amount=Decimal("8000.00"),
                        payment_terms="NET30",
                    ),
                )
        session.flush()
        run = cycle.run(session, as_of=today, settings=Settings())
        return run.as_dict()


def customer_id(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        found = conn.scalar(select(Customer.id).where(Customer.code == code))
    assert found is not None, code
    return int(found)


def next_action(engine: Engine, action_id: int) -> tuple[str, str | None]:
    """(status, outcome note) of one next best action."""
    with engine.connect() as conn:
        row = conn.execute(
            select(NextAction.status, NextAction.outcome_note).where(NextAction.id == action_id)
        ).one()
    return str(row.status), row.outcome_note
