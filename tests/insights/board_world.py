"""A small, hand-countable company for the dashboard and drill pages: six accounts of two reps,
two invoices and a target, and the cube built over them as the daily cycle would on 15 April
2026 (months from April 2025; March 2026 is the last complete one, so the page opens on it).

Accounts (owner, tier, region, created):
  BW-A  rep    key       华东  2025-06-01
  BW-B  rep    standard  华南  2026-03-05
  BW-C  rival  key       华东  2026-03-20
  BW-D  rival  growth    华北  2026-02-10
  BW-E  rival  standard  华东  2026-04-02   (the running month)
  BW-F  rep    growth    华东  2026-03-28

New customers: March 3 (B, C, F) against February 1 (D): +2; the rep's March 2 (B, F)
against 0; 华东's March 2 (C, F); key accounts' March 1 (C). January–March 4 (B, C, D, F)
against 0 in October–December 2025. Target for new customers: 2 a month (March is on it).

Invoices (CNY, NET30): A 10,000 issued 2026-01-01 (due 01-31), D 5,000 issued 2026-03-01
(due 03-31), neither paid. At March's end: 15,000 open, 10,000 of it past due → overdue
share 66.7 %, overdue accounts 1 (A); at February's end: 10,000 open, all past due → 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from flywheel.insights import snapshot
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Tier
from flywheel.models.insights import KpiTarget
from flywheel.models.users import User
from tests.factories import make_customer, make_invoice
from tests.web.pages import make_person

AS_OF = date(2026, 4, 15)
MARCH = "2026-03"
HISTORY_MONTHS = 13  # April 2025 – April 2026: every month of March's twelve-month series
NEW_CUSTOMERS_TARGET = 2.0
ACCOUNTS: dict[str, tuple[str, Tier, str, date]] = {
    "BW-A": ("rep", Tier.KEY, "华东", date(2025, 6, 1)),
    "BW-B": ("rep", Tier.STANDARD, "华南", date(2026, 3, 5)),
    "BW-C": ("rival", Tier.KEY, "华东", date(2026, 3, 20)),
    "BW-D": ("rival", Tier.GROWTH, "华北", date(2026, 2, 10)),
    "BW-E": ("rival", Tier.STANDARD, "华东", date(2026, 4, 2)),
    "BW-F": ("rep", Tier.GROWTH, "华东", date(2026, 3, 28)),
}
NEW_IN_MARCH = ["BW-B", "BW-C", "BW-F"]


@dataclass
class BoardWorld:
    boss: User
    rep: User
    rival: User
    accounts: dict[str, Customer]


def build(session: Session, *, language: str = "en", cube: bool = True) -> BoardWorld:
    """The accounts, invoices and target; with ``cube`` the months built as on ``AS_OF``."""
    boss = make_person(session, "bw.boss", role=Role.MANAGER, language=language)
    rep = make_person(session, "bw.rep", role=Role.SALES, language=language)
    rival = make_person(session, "bw.rival", role=Role.SALES, language=language)
    people = {"rep": rep, "rival": rival}
    accounts = {
        code: make_customer(
            session,
            code=code,
            name=f"Board {code[-1]} 公司",
            owner=people[owner],
            tier=tier,
            region=region,
            created_on=created,
        )
        for code, (owner, tier, region, created) in ACCOUNTS.items()
    }
    make_invoice(
        session,
        customer=accounts["BW-A"],
        amount=Decimal("10000.00"),
        issued=date(2026, 1, 1),
        due=date(2026, 1, 31),
    )
    make_invoice(
        session,
        customer=accounts["BW-D"],
        amount=Decimal("5000.00"),
        issued=date(2026, 3, 1),
        due=date(2026, 3, 31),
    )
    session.add(KpiTarget(kpi="new_customers", value=NEW_CUSTOMERS_TARGET))
    session.flush()
    if cube:
        snapshot.run(session, as_of=AS_OF, history=HISTORY_MONTHS)
    return BoardWorld(boss, rep, rival, accounts)
