"""A small, hand-countable company for the loyalty and cash measures of the cube, their drills
and the cash forecast against actual, and the small demo company with its daily cycle run, for
the figures recomputed with the domains' own modules.

Accounts (rep ``mw_rep`` owns P, Q and V; ``mw_rival`` owns S and U; V bills in USD):

Orders (CNY unless said), June 2026's twelve months are 2025-07-01 … 2026-06-30:

    P  2025-03-10 1,000 · 2025-09-10 500 · 2026-02-10 2,000 + 300 (one day) · 2026-05-10 700
    Q  2025-04-10 2,000 · 2026-06-10 800 · 2026-06-11 5,000 cancelled
    S  2025-06-10 1,500                              (bought the year before, not since: lost)
    U  2026-03-10 400 · 2026-04-10 600                (new: not in the retention base)
    V  2025-05-10 900 USD · 2026-05-10 1,200 USD

    buyers P Q U V (repeat: P with 3 purchase days, U with 2) · base P Q S V, retained P Q V,
    expanded P V · CNY base 4,500, retained 3,500 + 800 = 4,300, kept 1,000 + 800 = 1,800 ·
    USD base 900, retained 1,200, kept 900.

Loyalty scores of 2026-06-20 (the latest cycle day on or before June's end; an older row of P
on 2026-05-31, at risk, must not count):

    P green 80, CLV 50,000, churn 0.1 · Q red 30, CLV 20,000, churn 0.8 · S yellow 50, no CLV,
    churn 0.9 · U red 20, CLV 10,000, churn 0.5 · V green 75, CLV 99,999 USD, churn 0.9
    → CNY CLV 80,000 over 3 accounts; high churn risk Q U V (S has no CLV).

Invoices (June's DSO window is 2026-04-02 … 2026-06-30, the day before it 2026-04-01):

    P  I1 issued 03-01 due 03-31 1,000, 400 paid 05-10 · I2 issued 06-10 due 07-10 2,000
    Q  I3 issued 04-15 due 05-15 500, paid 06-05 · I4 issued 06-20 due 06-25 300
    S  I5 issued 01-10 due 02-09 800, paid 07-05 (after June)
    V  I6 issued 05-01 due 05-31 1,000 USD, 250 paid 06-15

    CNY at 06-30: open 600 + 2,000 + 300 + 800 = 3,700, not yet due 2,000, open on 04-01
    1,000 + 800 = 1,800, invoiced in the window 2,000 + 500 + 300 = 2,800 → DSO 118.93 days,
    CEI 900 / 2,600 = 34.6 %, overdue share 1,700 / 3,700. USD: open 750, invoiced 1,000 →
    DSO 67.5, CEI 25 %. Overdue accounts: P Q S V. Collected in June: 500 CNY, 250 USD.

Promises resolved in June: P kept (06-12, 300), Q broken (06-28, 200); outside June: S broken
07-02, V kept 05-30; one pending. Disputes opened in June: P (06-03), S (06-20); Q's is of
May.

Cash forecasts (CNY): made 2026-05-20 (older), 2026-05-31 (the one June reads: weeks from
06-01 to 07-06 at 1,000, 2,000, 3,000, 4,000, 5,000, 6,000) and 2026-06-02 (too late).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.config import get_settings
from flywheel.credit import service as credit
from flywheel.demo.service import DemoSummary
from flywheel.insights import snapshot
from flywheel.insights.sources import cash, loyalty
from flywheel.loyalty import cycle
from flywheel.models.collections import Dispute, PromiseToPay
from flywheel.models.credit import CashForecast
from flywheel.models.customers import Customer
from flywheel.models.enums import HealthBand, OrderStatus, PromiseStatus, Role, Segment
from flywheel.models.receivables import Invoice
from flywheel.models.users import User
from tests.databases import BACKENDS, fresh_engine
from tests.demo.conftest import AS_OF as DEMO_AS_OF
from tests.demo.conftest import build_small
from tests.factories import make_customer, make_invoice, make_payment, make_user
from tests.loyalty.factories import make_loyalty_score, make_order

AS_OF = date(2026, 7, 10)
JUNE = date(2026, 6, 1)
JUNE_END = date(2026, 6, 30)
SCORE_DAY = date(2026, 6, 20)


@dataclass
class MoneyWorld:
    rep: User
    rival: User
    collector: User
    accounts: dict[str, Customer]
    invoices: dict[str, Invoice]


def _orders(session: Session, accounts: dict[str, Customer]) -> None:
    plan: list[tuple[str, date, str, OrderStatus]] = [
        ("P", date(2025, 3, 10), "1000.00", OrderStatus.DELIVERED),
        ("P", date(2025, 9, 10), "500.00", OrderStatus.DELIVERED),
        ("P", date(2026, 2, 10), "2000.00", OrderStatus.DELIVERED),
        ("P", date(2026, 2, 10), "300.00", OrderStatus.DELIVERED),
        ("P", date(2026, 5, 10), "700.00", OrderStatus.DELIVERED),
        ("Q", date(2025, 4, 10), "2000.00", OrderStatus.DELIVERED),
        ("Q", date(2026, 6, 10), "800.00", OrderStatus.DELIVERED),
        ("Q", date(2026, 6, 11), "5000.00", OrderStatus.CANCELLED),
        ("S", date(2025, 6, 10), "1500.00", OrderStatus.DELIVERED),
        ("U", date(2026, 3, 10), "400.00", OrderStatus.DELIVERED),
        ("U", date(2026, 4, 10), "600.00", OrderStatus.DELIVERED),
        ("V", date(2025, 5, 10), "900.00", OrderStatus.DELIVERED),
        ("V", date(2026, 5, 10), "1200.00", OrderStatus.DELIVERED),
    ]
    for code, on, amount, status in plan:
        make_order(session, customer=accounts[code], on=on, amount=amount, status=status)


def _scores(session: Session, accounts: dict[str, Customer]) -> None:
    make_loyalty_score(
        session,
        customer=accounts["P"],
        as_of=date(2026, 5, 31),
        health=10,
        clv="1.00",
        segment=Segment.AT_RISK,
    )
    plan: list[tuple[str, int, str | None, float]] = [
        ("P", 80, "50000.00", 0.1),
        ("Q", 30, "20000.00", 0.8),
        ("S", 50, None, 0.9),
        ("U", 20, "10000.00", 0.5),
        ("V", 75, "99999.00", 0.9),
    ]
    for code, health, clv, risk in plan:
        make_loyalty_score(
            session,
            customer=accounts[code],
            as_of=SCORE_DAY,
            health=health,
            clv=clv,
            churn_risk=risk,
        )


def _ledger(session: Session, accounts: dict[str, Customer]) -> dict[str, Invoice]:
    invoices = {
        "I1": make_invoice(
            session,
            customer=accounts["P"],
            amount="1000.00",
            issued=date(2026, 3, 1),
            due=date(2026, 3, 31),
        ),
        "I2": make_invoice(
            session,
            customer=accounts["P"],
            amount="2000.00",
            issued=date(2026, 6, 10),
            due=date(2026, 7, 10),
        ),
        "I3": make_invoice(
            session,
            customer=accounts["Q"],
            amount="500.00",
            issued=date(2026, 4, 15),
            due=date(2026, 5, 15),
        ),
        "I4": make_invoice(
            session,
            customer=accounts["Q"],
            amount="300.00",
            issued=date(2026, 6, 20),
            due=date(2026, 6, 25),
        ),
        "I5": make_invoice(
            session,
            customer=accounts["S"],
            amount="800.00",
            issued=date(2026, 1, 10),
            due=date(2026, 2, 9),
        ),
        "I6": make_invoice(
            session,
            customer=accounts["V"],
            amount="1000.00",
            issued=date(2026, 5, 1),
            due=date(2026, 5, 31),
        ),
    }
    make_payment(
        session,
        customer=accounts["P"],
        amount="400.00",
        received=date(2026, 5, 10),
        invoice=invoices["I1"],
    )
    make_payment(
        session,
        customer=accounts["Q"],
        amount="500.00",
        received=date(2026, 6, 5),
        invoice=invoices["I3"],
    )
    make_payment(
        session,
        customer=accounts["S"],
        amount="800.00",
        received=date(2026, 7, 5),
        invoice=invoices["I5"],
    )
    make_payment(
        session,
        customer=accounts["V"],
        amount="250.00",
        received=date(2026, 6, 15),
        invoice=invoices["I6"],
    )
    return invoices


def _promise(
    session: Session,
    customer: Customer,
    *,
    amount: str,
    status: PromiseStatus,
    resolved_on: date | None,
    made_on: date = date(2026, 5, 20),
) -> None:
    session.add(
        PromiseToPay(
            customer_id=customer.id,
            amount=Decimal(amount),
            currency=customer.currency,
            promised_on=made_on + timedelta(days=10),
            made_on=made_on,
            grace_days=3,
            status=status.value,
            paid_amount=Decimal(amount) if status == PromiseStatus.KEPT else Decimal("0.00"),
            resolved_on=resolved_on,
        )
    )


def _dispute(session: Session, invoice: Invoice, *, opened_on: date, amount: str) -> None:
    session.add(
        Dispute(
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            reason="price",
            amount=Decimal(amount),
            currency=invoice.currency,
            status="open",
            opened_on=opened_on,
            sla_due_on=opened_on + timedelta(days=14),
        )
    )


def _collections(
    session: Session, accounts: dict[str, Customer], invoices: dict[str, Invoice]
) -> None:
    _promise(
        session,
        accounts["P"],
        amount="300.00",
        status=PromiseStatus.KEPT,
        resolved_on=date(2026, 6, 12),
    )
    _promise(
        session,
        accounts["Q"],
        amount="200.00",
        status=PromiseStatus.BROKEN,
        resolved_on=date(2026, 6, 28),
    )
    _promise(
        session,
        accounts["S"],
        amount="800.00",
        status=PromiseStatus.BROKEN,
        resolved_on=date(2026, 7, 2),
    )
    _promise(
        session,
        accounts["V"],
        amount="100.00",
        status=PromiseStatus.KEPT,
        resolved_on=date(2026, 5, 30),
    )
    _promise(session, accounts["Q"], amount="50.00", status=PromiseStatus.PENDING, resolved_on=None)
    _dispute(session, invoices["I1"], opened_on=date(2026, 6, 3), amount="100.00")
    _dispute(session, invoices["I5"], opened_on=date(2026, 6, 20), amount="800.00")
    _dispute(session, invoices["I3"], opened_on=date(2026, 5, 2), amount="50.00")


FORECAST_WEEKS = ("1000.00", "2000.00", "3000.00", "4000.00", "5000.00", "6000.00")


def _forecasts(session: Session) -> None:
    for made, scale in ((date(2026, 5, 20), 7), (date(2026, 5, 31), 1), (date(2026, 6, 2), 9)):
        for week, expected in enumerate(FORECAST_WEEKS):
            amount = Decimal(expected) * scale
            session.add(
                CashForecast(
                    as_of=made,
                    currency="CNY",
                    week_start=made + timedelta(days=1 + 7 * week),
                    expected=amount,
                    low=amount * Decimal("0.8"),
                    high=amount * Decimal("1.2"),
                )
            )


def build(session: Session) -> MoneyWorld:
    rep = make_user(session, username="mw_rep", role=Role.SALES)
    rival = make_user(session, username="mw_rival", role=Role.SALES)
    collector = make_user(session, username="mw_collector", role=Role.COLLECTOR)
    created = date(2024, 1, 1)
    accounts = {
        "P": make_customer(session, code="MW-P", owner=rep, created_on=created),
        "Q": make_customer(session, code="MW-Q", owner=rep, region="华南", created_on=created),
        "S": make_customer(session, code="MW-S", owner=rival, created_on=created),
        "U": make_customer(session, code="MW-U", owner=rival, created_on=date(2026, 3, 1)),
        "V": make_customer(session, code="MW-V", owner=rep, currency="USD", created_on=created),
    }
    _orders(session, accounts)
    _scores(session, accounts)
    invoices = _ledger(session, accounts)
    _collections(session, accounts, invoices)
    _forecasts(session)
    session.flush()
    return MoneyWorld(
        rep=rep, rival=rival, collector=collector, accounts=accounts, invoices=invoices
    )


def build_cube(session: Session, *, as_of: date = AS_OF, history: int = 3) -> snapshot.SnapshotRun:
    return snapshot.run(
        session, as_of=as_of, history=history, sources=[loyalty.measures, cash.measures]
    )


HEALTH_BANDS = tuple(b.value for b in HealthBand)


# ----------------------------------------------------------------------------- the demo


def run_cycle(engine: Engine, as_of: date) -> None:
    """What ``flywheel run`` does for the parts the dashboard's loyalty and cash read: the
    credit scores, the loyalty cycle, then the cube (each part committed, as the cycle does)."""
    settings = get_settings()
    with Session(engine) as session:
        credit.score_all(session, as_of=as_of, card=credit.load_scorecard(None))
        session.commit()
    with Session(engine) as session:
        cycle.run(session, as_of=as_of, settings=settings)
        session.commit()
    with Session(engine) as session:
        snapshot.run(session, as_of=as_of, history=24)
        session.commit()


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, DemoSummary]]:
    """The small demo company (200 customers, as of 2025-06-30) with its daily cycle run once
    and 24 months of the cube built, one per backend; read-only for the tests."""
    directory: Path = tmp_path_factory.mktemp("money-demo")
    for engine in fresh_engine(request.param, directory):
        summary = build_small(engine)
        run_cycle(engine, DEMO_AS_OF)
        yield engine, summary


__all__ = [
    "AS_OF",
    "DEMO_AS_OF",
    "FORECAST_WEEKS",
    "HEALTH_BANDS",
    "JUNE",
    "JUNE_END",
    "SCORE_DAY",
    "MoneyWorld",
    "build",
    "build_cube",
    "demo",
    "run_cycle",
]
