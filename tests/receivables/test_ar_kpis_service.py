"""The receivables KPIs from a real ledger, on a hand-worked example.

As of 2026-03-31 with a 90-day period (Jan 1 – Mar 31):

* A 1,000.00 issued 2025-12-01, due 2025-12-31, paid on 2026-01-20 (20 days late)
* D   500.00 issued 2025-12-05, due 2025-12-20, never paid
* B 3,000.00 issued 2026-01-10, due 2026-02-09, 2,000.00 paid on 2026-03-11 (30 days late)
* C 6,000.00 issued 2026-03-15, due 2026-04-14, open (current)

Sales of the period 9,000 (B + C). AR on Mar 31: B 1,000 + C 6,000 + D 500 = 7,500, of which
6,000 current. DSO 7,500 / 9,000 × 90 = 75; best possible 6,000 / 9,000 × 90 = 60; ADD 15.
Beginning AR (Dec 31): A 1,000 + D 500 = 1,500; CEI (1,500 + 9,000 − 7,500) /
(1,500 + 9,000 − 6,000) = 3,000 / 4,500 = 66.67 %. Countback: March 6,000 (31 days), February
nothing (28 days), then 1,500 of January's 3,000 (15.5 days) = 74.5. Days beyond terms:
(1,000 × 20 + 2,000 × 30) / 3,000 = 26.67. At-risk: December 2025 is judged once D is 90 days
past due (Mar 20): 500 of 1,500 unpaid = 1/3.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.models.enums import Role
from flywheel.receivables.kpis import receivables_kpis, trend_days
from tests.factories import TESTER, make_customer, make_invoice, make_payment, make_user

AS_OF = date(2026, 3, 31)


@pytest.fixture
def ledger(session: Session) -> None:
    customer = make_customer(session)
    a = make_invoice(
        session,
        customer=customer,
        amount="1000.00",
        issued=date(2025, 12, 1),
        due=date(2025, 12, 31),
    )
    make_invoice(
        session,
        customer=customer,
        amount="500.00",
        issued=date(2025, 12, 5),
        due=date(2025, 12, 20),
    )
    make_payment(
        session, customer=customer, amount="1000.00", received=date(2026, 1, 20), invoice=a
    )
    b = make_invoice(
        session, customer=customer, amount="3000.00", issued=date(2026, 1, 10), due=date(2026, 2, 9)
    )
    make_invoice(
        session,
        customer=customer,
        amount="6000.00",
        issued=date(2026, 3, 15),
        due=date(2026, 4, 14),
    )
    make_payment(
        session, customer=customer, amount="2000.00", received=date(2026, 3, 11), invoice=b
    )


def test_kpis_on_the_hand_worked_ledger(session: Session, ledger: None) -> None:
    report = receivables_kpis(session, actor=TESTER, as_of=AS_OF, currency="CNY")
    now = report.current

    assert (now.receivables, now.current, now.overdue) == (
        Decimal("7500.00"),
        Decimal("6000.00"),
        Decimal("1500.00"),
    )
    assert now.sales == Decimal("9000.00")
    assert now.dso == pytest.approx(75.0)
    assert now.best_possible_dso == pytest.approx(60.0)
    assert now.add == pytest.approx(15.0)
    assert now.cei == pytest.approx(66.6667, abs=1e-4)
    assert now.dso_countback == pytest.approx(74.5)
    assert now.days_beyond_terms == pytest.approx(26.6667, abs=1e-4)
    assert now.at_risk_rate == pytest.approx(1 / 3)
    assert now.at_risk_month == "2025-12"


def test_the_trend_gives_each_month_end_as_it_stood(session: Session, ledger: None) -> None:
    report = receivables_kpis(session, actor=TESTER, as_of=AS_OF, currency="CNY")

    assert [p.as_of for p in report.trend] == trend_days(AS_OF)
    assert report.trend[-1] == report.current
    february = report.trend[-2]
    # Feb 28: A paid, D and B open and past due, C not issued yet.
    assert february.as_of == date(2026, 2, 28)
    assert (february.receivables, february.current) == (Decimal("3500.00"), Decimal("0.00"))
    assert february.best_possible_dso == pytest.approx(0.0)
    # December is not judged yet on Feb 28 (D reaches +90 on Mar 20).
    assert february.at_risk_rate is None
    # Before any invoice there is nothing to divide by.
    assert report.trend[0].dso is None
    assert report.trend[0].receivables == Decimal("0.00")


def test_trend_days_are_month_ends_then_the_as_of_day() -> None:
    assert trend_days(date(2026, 3, 15), 4) == [
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 15),
    ]


def test_a_sales_rep_gets_the_kpis_of_his_own_book(session: Session, ledger: None) -> None:
    rep = Actor.for_user(make_user(session, role=Role.SALES))

    report = receivables_kpis(session, actor=rep, as_of=AS_OF, currency="CNY")

    assert report.current.receivables == Decimal("0.00")
    assert report.current.dso is None
    assert report.current.cei is None


def test_a_bad_period_names_its_field(session: Session) -> None:
    with pytest.raises(ValidationFailed) as error:
        receivables_kpis(session, actor=TESTER, as_of=AS_OF, currency="CNY", period_days=0)

    assert error.value.details["field"] == "period"
