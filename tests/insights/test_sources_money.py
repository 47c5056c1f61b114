"""The loyalty and cash measures of the cube on a hand-counted company (``money_world``): exact
figures for June 2026, money in one currency at a time, the scope of a sales rep, the latest
loyalty cycle's rows, and the receivables page's KPIs for the same accounts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.credit import service as credit
from flywheel.insights import figures
from flywheel.insights.cube import UNSCORED, grades_at, read_accounts, segments_at
from flywheel.insights.periods import InsightFilter, Period
from flywheel.loyalty.frame import read_frame
from flywheel.loyalty.segments import score_segments
from flywheel.models.credit import CreditScore
from flywheel.models.enums import Segment
from flywheel.receivables.kpis import receivables_kpis
from tests.factories import TESTER
from tests.insights.money_world import JUNE, JUNE_END, build, build_cube


def board(
    session: Session, *, actor: Actor = TESTER, month: date = JUNE, period: str = "1m", **flt: str
) -> dict[str, float | None]:
    result = figures.dashboard(
        session,
        actor=actor,
        flt=InsightFilter(**flt),  # type: ignore[arg-type]
        period=Period.ending(month, period),
    )
    return {code: f.value for code, f in result.figures.items()}


def totals(
    session: Session, *, actor: Actor = TESTER, month: date = JUNE, **flt: str
) -> dict[str, float]:
    chosen = InsightFilter(**flt).checked().scoped(actor)  # type: ignore[arg-type]
    return dict(figures.read_totals(session, chosen, month, month)[month].values)


def test_loyalty_measures_of_june(session: Session) -> None:
    build(session)
    build_cube(session)

    cny = totals(session, currency="CNY")
    assert (cny["buyers_12m"], cny["repeat_buyers_12m"]) == (4, 2)  # P Q U V; P and U again
    assert (cny["base_accounts"], cny["retained_accounts"], cny["expanded_accounts"]) == (4, 3, 2)
    assert (cny["base_revenue"], cny["retained_revenue"], cny["kept_revenue"]) == (
        4500.0,
        4300.0,
        1800.0,
    )
    usd = totals(session, currency="USD")
    assert (usd["base_revenue"], usd["retained_revenue"], usd["kept_revenue"]) == (
        900.0,
        1200.0,
        900.0,
    )

    figures_cny = board(session, currency="CNY")
    assert figures_cny["repeat_rate"] == pytest.approx(50.0)
    assert figures_cny["retention"] == pytest.approx(75.0)
    assert figures_cny["nrr"] == pytest.approx(4300 / 4500 * 100)
    assert figures_cny["expansions"] == 2
    assert board(session, currency="USD")["nrr"] == pytest.approx(1200 / 900 * 100)


def test_clv_health_and_churn_risk_come_from_the_latest_cycle(session: Session) -> None:
    build(session)
    build_cube(session)

    cny = totals(session, currency="CNY")
    # The rows of 20 June: P's older row of 31 May does not count.
    assert (cny["clv_accounts"], cny["clv_sum"]) == (3, 80000.0)
    assert (cny["health_green"], cny["health_yellow"], cny["health_red"]) == (2, 1, 2)
    assert cny["churn_high"] == 3  # Q, U (exactly 0.5) and V; S has no CLV
    figures_cny = board(session, currency="CNY")
    assert figures_cny["average_clv"] == pytest.approx(80000 / 3)
    assert figures_cny["healthy_share"] == pytest.approx(40.0)
    assert figures_cny["churn_risk"] == 3
    assert board(session, currency="USD")["average_clv"] == pytest.approx(99999.0)
    # May's end: only P's row of 31 May (health 10, CLV 1).
    may = totals(session, month=date(2026, 5, 1), currency="CNY")
    assert (may["clv_accounts"], may["clv_sum"], may["health_red"], may["health_green"]) == (
        1,
        1.0,
        1,
        0,
    )


def test_cash_measures_of_june(session: Session) -> None:
    build(session)
    build_cube(session)

    cny = totals(session, currency="CNY")
    assert (cny["ar_total"], cny["ar_current"], cny["ar_beginning"], cny["sales_window"]) == (
        3700.0,
        2000.0,
        1800.0,
        2800.0,
    )
    assert cny["overdue_accounts"] == 4  # P, Q, S and V (in USD)
    assert (cny["collected"], cny["promises_kept"], cny["promises_broken"]) == (500.0, 1, 1)
    assert cny["disputes_opened"] == 2

    figures_cny = board(session, currency="CNY")
    assert figures_cny["dso"] == pytest.approx(3700 / 2800 * 90)
    assert figures_cny["cei"] == pytest.approx(900 / 2600 * 100)
    assert figures_cny["overdue_share"] == pytest.approx(1700 / 3700 * 100)
    assert figures_cny["promise_keeping"] == pytest.approx(50.0)
    assert figures_cny["collected"] == pytest.approx(500.0)
    figures_usd = board(session, currency="USD")
    assert figures_usd["dso"] == pytest.approx(67.5)
    assert figures_usd["cei"] == pytest.approx(25.0)
    assert figures_usd["collected"] == pytest.approx(250.0)


def test_the_running_month_and_the_one_before(session: Session) -> None:
    build(session)
    build_cube(session)

    july = totals(session, month=date(2026, 7, 1), currency="CNY")
    # Built to 10 July: S paid I5 on 5 July; I2 (due 10 July) is not yet overdue.
    assert (july["ar_total"], july["ar_current"]) == (2900.0, 2000.0)
    assert (july["collected"], july["promises_broken"]) == (800.0, 1)
    may = totals(session, month=date(2026, 5, 1), currency="CNY")
    # 31 May: I1 600 after the May payment, I3 500 (due 15 May), I5 800.
    assert (may["ar_total"], may["ar_current"], may["collected"]) == (1900.0, 0.0, 400.0)


def test_a_sales_rep_sees_his_own_accounts(session: Session) -> None:
    world = build(session)
    build_cube(session)
    rep = Actor.for_user(world.rep)  # P, Q and V

    mine = board(session, actor=rep, currency="CNY")
    assert mine["repeat_rate"] == pytest.approx(100 / 3)  # P of P, Q, V
    assert mine["retention"] == pytest.approx(100.0)
    assert mine["nrr"] == pytest.approx(4300 / 3000 * 100)
    assert mine["healthy_share"] == pytest.approx(200 / 3)  # P and V green, Q red
    assert mine["churn_risk"] == 2  # Q and V
    assert mine["dso"] == pytest.approx(2900 / 2800 * 90)  # no S
    assert mine["overdue"] == 3
    assert mine["disputes"] == 1
    # Asking for another owner's accounts changes nothing: the scope wins.
    assert board(session, actor=rep, currency="CNY", owner_id=world.rival.id) == mine  # type: ignore[arg-type]

    rival = board(session, actor=Actor.for_user(world.rival), currency="CNY")
    assert rival["overdue_share"] == pytest.approx(100.0)  # S's 800, all overdue
    assert rival["dso"] is None  # nothing invoiced in the window
    assert rival["promise_keeping"] is None
    assert (rival["overdue"], rival["disputes"]) == (1, 1)


def test_figures_equal_the_receivables_page_for_the_same_accounts(session: Session) -> None:
    world = build(session)
    build_cube(session)

    for actor in (TESTER, Actor.for_user(world.rep), Actor.for_user(world.rival)):
        for currency in ("CNY", "USD"):
            page = receivables_kpis(
                session, actor=actor, as_of=JUNE_END, currency=currency, months=1
            ).current
            mine = board(session, actor=actor, currency=currency)
            assert mine["dso"] == (None if page.dso is None else pytest.approx(page.dso))
            assert mine["cei"] == (None if page.cei is None else pytest.approx(page.cei))


def test_segments_and_grades_of_month_ends_without_a_cycle_are_computed(
    session: Session,
) -> None:
    world = build(session)
    accounts = read_accounts(session)
    row = {code: int(accounts.positions([c.id])[0]) for code, c in world.accounts.items()}

    # 30 June: the cycle's rows of 20 June (the factory's "loyal").
    stored = segments_at(session, accounts, JUNE_END)
    assert {stored[row[c]] for c in "PQSUV"} == {Segment.LOYAL.value}

    # 30 April: no cycle yet, so the segments are the loyalty cycle's for that day, computed
    # from the orders.
    def expected_on(day: date) -> dict[int, str]:
        frame = read_frame(session, as_of=day)
        return dict(
            zip(frame.customer_id.tolist(), score_segments(frame).segment.tolist(), strict=True)
        )

    april = date(2026, 4, 30)
    expected = expected_on(april)
    computed = segments_at(session, accounts, april)
    assert {c: computed[row[c]] for c in "PQSUV"} == {
        c: expected[world.accounts[c].id] for c in "PQSUV"
    }
    assert computed[row["S"]] != computed[row["P"]]  # S has not bought for ten months
    # Before U existed, it has no segment; P's row of 31 May is its latest on 19 June.
    assert segments_at(session, accounts, date(2025, 12, 31))[row["U"]] == UNSCORED
    before_cycle = segments_at(session, accounts, date(2026, 6, 19))
    assert before_cycle[row["P"]] == Segment.AT_RISK.value
    assert before_cycle[row["Q"]] == expected_on(date(2026, 6, 19))[world.accounts["Q"].id]

    # No credit scores stored: the grades the credit scoring gives for the day.
    graded = credit.compute_scores(session, as_of=JUNE_END)
    by_id = dict(zip(graded.ledger.customers.id.tolist(), graded.grades.tolist(), strict=True))
    grades = grades_at(session, accounts, JUNE_END)
    assert {c: grades[row[c]] for c in "PQSUV"} == {c: by_id[world.accounts[c].id] for c in "PQSUV"}
    assert len({grades[row[c]] for c in "PQSUV"}) > 1  # S's 800 overdue since February
    assert grades_at(session, accounts, date(2023, 12, 31))[row["P"]] == UNSCORED
    # Once the day is scored, its stored rows are read.
    credit.score_all(session, as_of=JUNE_END)
    session.execute(
        update(CreditScore)
        .where(CreditScore.customer_id == world.accounts["P"].id)
        .values(grade="E")
    )
    assert grades_at(session, read_accounts(session), JUNE_END)[row["P"]] == "E"


def test_a_month_without_orders_or_ledger_is_empty(session: Session) -> None:
    build(session)
    run = build_cube(session, as_of=date(2023, 3, 15), history=2)
    assert [m.cells for m in run.months] == [0, 0]
    assert np.all(np.asarray([m.transitions for m in run.months]) == 0)
