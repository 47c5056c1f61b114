"""A small deals world for the deal tests: a sales rep's key account, a rival rep's, a manager;
and ``world_deal`` for the API permission matrix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.customers import service as customers
from flywheel.keyaccounts import deals
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import Deal
from flywheel.models.users import User
from tests.factories import TESTER, make_customer, make_user

OPENED = date(2026, 1, 5)


@dataclass
class DealWorld:
    rep: User
    rival: User
    manager: User
    account: Customer  # the rep's
    foreign: Customer  # the rival's


def build(session: Session) -> DealWorld:
    rep = make_user(session, role=Role.SALES)
    rival = make_user(session, role=Role.SALES)
    manager = make_user(session, role=Role.MANAGER)
    account = make_customer(session, name="东方机电", tier=Tier.KEY, owner=rep)
    foreign = make_customer(session, name="西岭化工", tier=Tier.KEY, owner=rival)
    deals.seed_default_stages(session)
    session.flush()
    return DealWorld(rep=rep, rival=rival, manager=manager, account=account, foreign=foreign)


def open_deal(session: Session, account: Customer, **extra: object) -> Deal:
    values: dict[str, object] = {
        "customer": account.code,
        "title": "年度框架采购",
        "value": "100000.00",
        "opened_on": OPENED,
        **extra,
    }
    return deals.create_deal(session, actor=TESTER, **values)  # type: ignore[arg-type]


def state(session: Session) -> tuple[int, int]:
    """(audit events, deals): what a refused request must leave as it was."""
    session.flush()
    return (
        session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        session.scalar(select(func.count(Deal.id))) or 0,
    )


def world_deal(session: Session, code: str) -> int:
    """An open deal of the account ``code`` in stage qualified, for the permission matrix."""
    account = customers.get_customer_by_code(session, code, actor=TESTER)
    return open_deal(session, account, title=f"{code} 矩阵商机", stage="qualified").id
