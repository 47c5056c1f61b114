"""The cash forecast against actual: the latest forecast made by the period's first day, its
weeks starting in the period, the payments received on those weeks' days, company-wide and only
for the roles that may see the forecast."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.insights.forecast import forecast_vs_actual
from flywheel.models.enums import Role
from tests.factories import TESTER, make_customer, make_payment
from tests.insights.money_world import JUNE, JUNE_END, build


def test_june_against_the_forecast_of_31_may(session: Session) -> None:
    world = build(session)

    result = forecast_vs_actual(
        session,
        actor=Actor.for_user(world.collector),
        period_first=JUNE,
        period_last=JUNE_END,
        currency="CNY",
    )

    assert result is not None
    # The forecast of 31 May (not the older one of 20 May, nor the one of 2 June): its weeks
    # start 1, 8, 15, 22 and 29 June; the sixth (6 July) starts after June.
    assert result.made_on == date(2026, 5, 31)
    assert [w.week_start for w in result.weeks] == [date(2026, 6, d) for d in (1, 8, 15, 22, 29)]
    assert (result.first, result.last) == (date(2026, 6, 1), date(2026, 7, 5))
    assert result.expected == Decimal("15000.00")
    # Received on those days in CNY: Q's 500 on 5 June and S's 800 on 5 July (the last week's
    # last day); V's payment is in USD.
    assert result.actual == Decimal("1300.00")
    assert [w.actual for w in result.weeks] == [
        Decimal("500.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("800.00"),
    ]
    assert result.complete
    assert result.difference == Decimal("-13700.00")
    assert result.ratio == pytest.approx(1300 / 15000)


def test_known_up_to_a_day(session: Session) -> None:
    build(session)

    result = forecast_vs_actual(
        session,
        actor=TESTER,
        period_first=JUNE,
        period_last=JUNE_END,
        currency="cny",
        as_of=date(2026, 6, 30),
    )

    assert result is not None
    assert result.through == date(2026, 6, 30)
    assert not result.complete
    assert result.actual == Decimal("500.00")  # S's payment of 5 July is not known yet
    assert result.weeks[-1].actual == Decimal("0.00")
    early = forecast_vs_actual(
        session,
        actor=TESTER,
        period_first=JUNE,
        period_last=JUNE_END,
        currency="CNY",
        as_of=date(2026, 6, 10),
    )
    assert early is not None
    assert [w.actual for w in early.weeks][1:] == [Decimal("0.00"), None, None, None]


def test_company_wide_whoever_owns_the_accounts(session: Session) -> None:
    build(session)
    other = make_customer(session, code="MW-X")
    make_payment(session, customer=other, amount="1000.00", received=date(2026, 6, 9))

    for role in (Role.ADMIN, Role.MANAGER, Role.COLLECTOR, Role.FINANCE):
        result = forecast_vs_actual(
            session,
            actor=Actor(name=role.value, role=role, user_id=None),
            period_first=JUNE,
            period_last=JUNE_END,
            currency="CNY",
        )
        assert result is not None
        assert result.actual == Decimal("2300.00")


def test_not_for_a_sales_rep_or_a_viewer(session: Session) -> None:
    world = build(session)

    for actor in (Actor.for_user(world.rep), Actor(name="v", role=Role.VIEWER, user_id=None)):
        assert (
            forecast_vs_actual(
                session, actor=actor, period_first=JUNE, period_last=JUNE_END, currency="CNY"
            )
            is None
        )


def test_without_a_forecast_the_payments_of_the_period(session: Session) -> None:
    build(session)

    result = forecast_vs_actual(
        session, actor=TESTER, period_first=JUNE, period_last=JUNE_END, currency="USD"
    )

    assert result is not None
    assert (result.made_on, result.expected, result.weeks) == (None, None, [])
    assert (result.first, result.last, result.actual) == (JUNE, JUNE_END, Decimal("250.00"))
    assert result.difference is None
    assert result.ratio is None
    # A forecast made after the period began is no forecast of it.
    before = forecast_vs_actual(
        session,
        actor=TESTER,
        period_first=date(2026, 5, 1),
        period_last=date(2026, 5, 31),
        currency="CNY",
    )
    assert before is not None
    assert before.made_on is None
