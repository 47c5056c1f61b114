"""The rows the browser tests know by name, written through the services on top of the demo.

The demo company is random (seeded); these few rows are not, so a test can say exactly what a
page must show: an account of the demo ``sales`` rep with two open invoices, an account of
another rep that ``sales`` must never see, and users of their own for the language switch (a
signed-in user's language is his setting, kept in the database: one user per test that
changes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select, update

from flywheel.auth.actor import Actor
from flywheel.customers import service as customers
from flywheel.customers.schemas import CustomerIn
from flywheel.db import unit_of_work
from flywheel.demo.accounts import DEMO_PASSWORD
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Tier
from flywheel.models.receivables import Invoice
from flywheel.models.users import User
from flywheel.receivables import service as receivables
from flywheel.receivables.schemas import InvoiceCreate
from flywheel.users import service as users

SEEDER = Actor.system("e2e")
PASSWORD = DEMO_PASSWORD

# One demo user per role; the username is the role.
SALES = "sales"
COLLECTOR = "collector"
FINANCE = "finance"
ADMIN = "admin"
# Ours: another rep, and managers whose language a switch test changes (one per test).
OTHER_REP = "e2e.other.rep"
POLYGLOT = "e2e.polyglot"
POLYGLOT_360 = "e2e.polyglot.360"


@dataclass(frozen=True)
class KnownInvoice:
    number: str
    amount: Decimal
    days_ago: int  # issued this many days before today, NET30


@dataclass(frozen=True)
class KnownAccount:
    code: str
    name: str
    owner: str
    invoices: tuple[KnownInvoice, ...] = ()


# A name no demo account has, in Latin and Chinese, so a search finds exactly this one.
OWN_ACCOUNT = KnownAccount(
    code="E2E-ZEPHYR",
    name="Zephyr Quantum Robotics 泽风量子机器人",
    owner=SALES,
    invoices=(
        # Overdue (due 45 days ago), then not yet due (due in 10 days): a payment of 15,000.00
        # settles the first and leaves 5,000.00 on the second.
        KnownInvoice("E2E-INV-0001", Decimal("12000.00"), 75),
        KnownInvoice("E2E-INV-0002", Decimal("8000.00"), 20),
    ),
)
OTHER_ACCOUNT = KnownAccount(
    code="E2E-BOREALIS",
    name="Borealis Trading 北极光贸易",
    owner=OTHER_REP,
    invoices=(KnownInvoice("E2E-INV-0101", Decimal("5000.00"), 40),),
)
PAYMENT_AMOUNT = Decimal("15000.00")


def seed(engine: Engine, *, today: date) -> None:
    """Add the known rows (the demo must be built first) and commit them."""
    with unit_of_work(engine) as session:
        for username, role in (
            (OTHER_REP, Role.SALES),
            (POLYGLOT, Role.MANAGER),
            (POLYGLOT_360, Role.MANAGER),
        ):
            users.create_user(
                session,
                actor=SEEDER,
                username=username,
                display_name=username,
                role=role,
                language="en",
                password=PASSWORD,
            )
        # The tests start in English; the demo gives its users Chinese or English at random.
        session.execute(update(User).values(language="en"))
        for account in (OWN_ACCOUNT, OTHER_ACCOUNT):
            owner = users.get_by_username(session, account.owner)
            customer = customers.create_customer(
                session,
                actor=SEEDER,
                data=CustomerIn(
                    code=account.code,
                    name=account.name,
                    tier=Tier.KEY,
                    owner_id=owner.id,
                    currency="CNY",
                    payment_terms="NET30",
                    created_on=today - timedelta(days=400),
                ),
            )
            for invoice in account.invoices:
                receivables.create_invoice(
                    session,
                    actor=SEEDER,
                    data=InvoiceCreate(
                        number=invoice.number,
                        customer_id=customer.id,
                        issue_date=today - timedelta(days=invoice.days_ago),
                        amount=invoice.amount,
                        payment_terms="NET30",
                    ),
                )


def accounts_of(engine: Engine, username: str) -> int:
    """How many accounts ``username`` owns."""
    with engine.connect() as conn:
        owned = conn.scalar(
            select(func.count())
            .select_from(Customer)
            .join(User, User.id == Customer.owner_id)
            .where(User.username == username)
        )
    return int(owned or 0)


def busiest_account(engine: Engine, username: str) -> str:
    """The code of the demo account of ``username`` with the most invoices: a full 360."""
    with engine.connect() as conn:
        code = conn.scalar(
            select(Customer.code)
            .join(User, User.id == Customer.owner_id)
            .join(Invoice, Invoice.customer_id == Customer.id)
            .where(User.username == username)
            .group_by(Customer.code)
            .order_by(func.count(Invoice.id).desc(), Customer.code)
            .limit(1)
        )
    assert code is not None, f"{username} owns no account with invoices"
    return str(code)
