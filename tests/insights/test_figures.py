"""The dashboard's figures from the cube: flows summed over the period, stocks from its last
month, money in one currency, counts over all; the period before, the trend, the targets and
the scope of a sales rep."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.insights import figures
from flywheel.insights.periods import InsightFilter, Period, owner_id_of, parse_month
from flywheel.models.insights import KpiTarget
from tests.factories import TESTER
from tests.insights.cube_world import AS_OF, build, build_cube

NOV = date(2026, 11, 1)


def board(
    session: Session, *, actor: Actor = TESTER, period: str = "1m", month: date = NOV, **flt: object
) -> figures.Dashboard:
    return figures.dashboard(
        session,
        actor=actor,
        flt=InsightFilter(**flt),  # type: ignore[arg-type]
        period=Period.ending(month, period),
    )


def test_periods() -> None:
    quarter = Period.ending(date(2026, 2, 17), "3m")
    assert (quarter.first, quarter.last, quarter.end) == (
        date(2025, 12, 1),
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert (quarter.previous.first, quarter.previous.last) == (date(2025, 9, 1), date(2025, 11, 1))
    assert quarter.month_list() == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    with pytest.raises(ValidationFailed, match="1m, 3m, 6m, 12m"):
        Period.ending(NOV, "2w")
    assert parse_month("2026-07", default=AS_OF) == date(2026, 7, 1)
    assert parse_month(None, default=AS_OF) == date(2026, 12, 1)
    with pytest.raises(ValidationFailed, match="YYYY-MM"):
        parse_month("July", default=AS_OF)


def test_one_month_against_the_month_before(session: Session) -> None:
    build(session)
    build_cube(session)

    result = board(session)

    win = result.figures["win_rate"]
    # November: won 1 (A) + 1 (B) + 0 (C) of closed 2 + 4 + 1; October: A won 2 of 3.
    assert win.value == pytest.approx(2 / 7 * 100)
    assert win.previous == pytest.approx(2 / 3 * 100)
    assert win.improved is False
    # CNY money only: A 300 + C 50 (B's 70 is USD, its EUR deal EUR).
    assert result.figures["pipeline_created"].value == 350.0
    assert result.figures["new_customers"].value == 1.0  # C
    assert result.missing_months == []
    assert result.built_through == date(2026, 11, 30)


def test_money_in_another_currency(session: Session) -> None:
    build(session)
    build_cube(session)

    assert board(session, currency="usd").figures["pipeline_created"].value == 70.0
    assert board(session, currency="EUR").figures["pipeline_created"].value == 999.0
    # Counts do not depend on the currency.
    assert board(session, currency="EUR").figures["win_rate"].value == pytest.approx(2 / 7 * 100)
    with pytest.raises(ValidationFailed, match="three letters"):
        board(session, currency="EURO")


def test_a_quarter_sums_flows_and_takes_stocks_at_its_end(session: Session) -> None:
    build(session)
    build_cube(session)

    result = board(session, period="3m", month=date(2026, 12, 1))

    # Oct–Dec flows: won 2 + 2 + 1, lost 1 + 5 + 0.
    assert result.figures["win_rate"].value == pytest.approx(5 / 11 * 100)
    # CNY pipeline over the quarter: 1000 + 350 + 10.
    assert result.figures["pipeline_created"].value == 1360.0
    # The quarter before (Jul–Sep) has months built but only D's win.
    assert result.figures["win_rate"].previous == pytest.approx(100.0)
    assert result.built_through == AS_OF


def test_the_monthly_series(session: Session) -> None:
    build(session)
    build_cube(session)

    series = dict(board(session).figures["pipeline_created"].series)

    assert len(series) == 12
    assert series[date(2026, 10, 1)] == 1000.0
    assert series[date(2026, 11, 1)] == 350.0
    assert series[date(2026, 8, 1)] == 0.0  # built: nothing happened
    assert series[date(2026, 1, 1)] is None  # never built (history of six months)


def test_filters_read_the_cells_of_one_owner_region_tier_or_segment(session: Session) -> None:
    world = build(session)
    build_cube(session)

    mine = board(session, owner_id=world.rep.id)
    assert mine.figures["win_rate"].value == pytest.approx(2 / 6 * 100)  # A and B
    assert mine.figures["pipeline_created"].value == 300.0
    east = board(session, region="华东")
    assert east.figures["win_rate"].value == pytest.approx(1 / 3 * 100)  # A and C
    assert board(session, tier="growth").figures["win_rate"].value == 0.0
    champions = board(session, segment="champions")
    assert champions.figures["pipeline_created"].value == 300.0
    assert board(session, region="西北").figures["win_rate"].value is None
    with pytest.raises(ValidationFailed, match="tier"):
        board(session, tier="gold")


def test_a_sales_rep_sees_his_own_accounts_whatever_he_asks(session: Session) -> None:
    world = build(session)
    build_cube(session)
    rep = Actor.for_user(world.other_rep)

    own = board(session, actor=rep)
    asked_for_another = board(session, actor=rep, owner_id=world.rep.id)

    assert own.figures["win_rate"].value == 0.0  # C lost its one deal
    assert asked_for_another.figures["win_rate"].value == 0.0
    assert own.figures["pipeline_created"].value == 50.0
    assert own.filter.owner_id == world.other_rep.id


def test_targets(session: Session) -> None:
    build(session)
    build_cube(session)
    session.add_all([KpiTarget(kpi="win_rate", value=25.0), KpiTarget(kpi="dso", value=10.0)])
    session.flush()

    result = board(session)

    assert result.figures["win_rate"].target == 25.0
    assert result.figures["win_rate"].on_target is True
    assert result.figures["nps"].target is None
    assert result.figures["nps"].on_target is None


def test_months_without_a_snapshot(session: Session) -> None:
    build(session)

    result = board(session)

    assert result.missing_months == [NOV]
    assert result.figures["win_rate"].value is None
    assert result.figures["new_customers"].value is None
    assert result.built_through is None


def test_the_default_month_is_the_last_complete_one(session: Session) -> None:
    build(session)
    assert figures.default_month(session, today=AS_OF) == NOV  # nothing built yet
    build_cube(session)
    assert figures.default_month(session, today=AS_OF) == NOV
    assert figures.default_month(session, today=date(2026, 11, 20)) == date(2026, 10, 1)


def test_owner_names(session: Session) -> None:
    world = build(session)
    assert owner_id_of(session, " cube_rep ") == world.rep.id
    assert owner_id_of(session, "") is None
    with pytest.raises(ValidationFailed, match="no user 'nobody'"):
        owner_id_of(session, "nobody")


def test_every_kpi_names_a_known_stage_and_a_unique_code() -> None:
    assert len(figures.KPI_BY_CODE) == len(figures.KPIS)
    assert {k.stage for k in figures.KPIS} == {*figures.STAGES, "force", "friction"}
    assert all(k.better in ("up", "down") for k in figures.KPIS)
