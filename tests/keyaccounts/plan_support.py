"""A small key-account world for the plan tests: a rep's key account with contacts, touchpoints
and orders, and another rep's key account out of his scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, TouchpointIn
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import BuyingRole, Role, Tier, TouchpointKind
from flywheel.models.sales import Order
from flywheel.models.users import User
from tests.factories import TESTER, make_customer, make_user

AS_OF = date(2026, 6, 30)


@dataclass
class PlanWorld:
    rep: User
    other_rep: User
    account: Customer
    other: Customer
    decision_maker: Contact
    influencer: Contact


def add_contact(
    session: Session, customer: Customer, name: str, role: BuyingRole | None
) -> Contact:
    return customers.add_contact(
        session,
        actor=TESTER,
        data=ContactIn(customer_id=customer.id, name=name, buying_role=role),
    )


def meet(session: Session, contact: Contact, on: date) -> None:
    customers.log_touchpoint(
        session,
        actor=TESTER,
        data=TouchpointIn(
            customer_id=contact.customer_id,
            contact_id=contact.id,
            kind=TouchpointKind.MEETING,
            occurred_at=datetime(on.year, on.month, on.day, 10, tzinfo=UTC),
        ),
    )


def order(session: Session, customer: Customer, on: date, amount: str) -> None:
    session.add(
        Order(
            number=f"SO-{customer.code}-{on.isoformat()}-{amount}",
            customer_id=customer.id,
            order_date=on,
            amount=Decimal(amount),
            currency="CNY",
            status="open",
        )
    )
    session.flush()


def build(
    session: Session, *, rep_name: str = "ka.rep", as_of: date = AS_OF, rep: User | None = None
) -> PlanWorld:
    """``rep`` (made here unless given) owns KA-001; another rep owns KA-002."""
    rep = rep or make_user(session, username=rep_name, role=Role.SALES)
    other_rep = make_user(session, username=f"{rep_name}.other", role=Role.SALES)
    account = make_customer(session, code="KA-001", name="华东重工", tier=Tier.KEY, owner=rep)
    other = make_customer(session, code="KA-002", name="西部能源", tier=Tier.KEY, owner=other_rep)
    dm = add_contact(session, account, "张总", BuyingRole.DECISION_MAKER)
    influencer = add_contact(session, account, "李工", BuyingRole.INFLUENCER)
    meet(session, dm, as_of - timedelta(days=20))
    meet(session, influencer, as_of - timedelta(days=5))
    # This year's (when as_of is past January), the last 12 months', and an older one.
    order(session, account, as_of - timedelta(days=10), "300000.00")
    order(session, account, as_of - timedelta(days=300), "100000.00")
    order(session, account, as_of - timedelta(days=400), "999.00")
    return PlanWorld(rep, other_rep, account, other, dm, influencer)


def audit_total(session: Session) -> int:
    session.flush()
    return session.scalar(select(func.count(AuditEvent.id))) or 0


def world_plan(session: Session, code: str) -> int:
    """A plan with one objective, a whitespace item and a risk on the account ``code`` (for the
    shared API world); returns the objective's id."""
    from flywheel.keyaccounts import plans

    plans.save_plan(
        session,
        actor=TESTER,
        code=code,
        values={
            "revenue_target": "100000",
            "estimated_wallet": "400000",
            "whitespace": [{"item": "华南工厂"}],
            "risks": [{"risk": "竞争对手降价"}],
        },
        as_of=date(2026, 1, 1),
    )
    objective = plans.add_objective(
        session, actor=TESTER, code=code, values={"title": "矩阵目标", "due_on": "2099-12-31"}
    )
    return objective.id
