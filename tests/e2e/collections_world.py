"""The rows the collector's-day browser test knows by name: an account of nobody in particular
(every collector works it), one contact, one invoice ten days past due, and the collections
cycle run for today, so its call task is on the worklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from flywheel.collections import cycle, promises
from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, CustomerIn
from flywheel.db import unit_of_work
from flywheel.models.collections import CollectionAction, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import CollectionChannel, Tier
from flywheel.models.receivables import Installment
from flywheel.receivables import service as receivables
from flywheel.receivables.schemas import InvoiceCreate
from tests.e2e.world import SEEDER

CODE = "E2E-DAYBREAK"
NAME = "Daybreak Logistics 破晓物流"
INVOICE = "E2E-COLL-0001"
AMOUNT = Decimal("6800.00")
DAYS_OVERDUE = 10


@dataclass(frozen=True)
class Seeded:
    customer_id: int
    call_id: int
    installment_id: int


def seed_overdue_account(engine: Engine, *, today: date) -> Seeded:
    """Write the account and its overdue invoice, run the collections cycle for ``today`` and
    commit; returns the ids the test checks."""
    with unit_of_work(engine) as session:
        customer = customers.create_customer(
            session,
            actor=SEEDER,
            data=CustomerIn(
                code=CODE,
                name=NAME,
                tier=Tier.GROWTH,
                currency="CNY",
                payment_terms="NET30",
                created_on=today - timedelta(days=300),
            ),
        )
        customers.add_contact(
            session,
            actor=SEEDER,
            data=ContactIn(customer_id=customer.id, name="赵会计", email="zhao@daybreak.example"),
        )
        receivables.create_invoice(
            session,
            actor=SEEDER,
            data=InvoiceCreate(
                number=INVOICE,
                customer_id=customer.id,
                issue_date=today - timedelta(days=30 + DAYS_OVERDUE),
                amount=AMOUNT,
                payment_terms="NET30",
            ),
        )
        session.flush()
        cycle.run(session, as_of=today, settings=get_settings())
        call = session.scalars(
            select(CollectionAction).where(
                CollectionAction.customer_id == customer.id,
                CollectionAction.channel == CollectionChannel.CALL.value,
            )
        ).one()
        installment = session.scalars(
            select(Installment).where(Installment.customer_id == customer.id)
        ).one()
        return Seeded(customer_id=customer.id, call_id=call.id, installment_id=installment.id)


def action_status(engine: Engine, action_id: int) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(CollectionAction.status, CollectionAction.outcome).where(
                CollectionAction.id == action_id
            )
        ).one()
    return row.status, row.outcome


def promises_of(engine: Engine, customer_id: int) -> list[tuple[Decimal, date, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(PromiseToPay.amount, PromiseToPay.promised_on, PromiseToPay.status)
            .where(PromiseToPay.customer_id == customer_id)
            .order_by(PromiseToPay.id)
        ).all()
    return [(Decimal(r.amount), r.promised_on, r.status) for r in rows]


def dunning_paused(engine: Engine, *, installment_id: int, today: date) -> bool:
    """Whether the daily cycle leaves the installment alone today (a pending promise covers
    it)."""
    with unit_of_work(engine) as session:
        return installment_id in promises.paused_installments(session, as_of=today)


def customer_code(engine: Engine, customer_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(Customer.code).where(Customer.id == customer_id)))
