"""The people stages of the cube (attract, engage, delight) on a hand-counted company: every
figure of March 2026 exact, in the rep's scope, filtered, and for a rep with no account
(``people_world`` writes the company and its expected values out)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.insights import figures
from flywheel.insights.figures import Values
from flywheel.insights.periods import InsightFilter, Period
from flywheel.models.enums import Role
from tests.insights.people_world import MARCH, PeopleWorld, build_cube

PEOPLE_KPIS = (
    "new_customers",
    "referred_share",
    "pipeline_created",
    "win_rate",
    "sales_cycle",
    "plan_coverage",
    "nps",
    "csat",
    "loops_in_sla",
    "time_to_close",
    "promoters",
    "referrals",
    "detractors",
)


def values(
    session: Session, actor: Actor, flt: InsightFilter, period: Period
) -> dict[str, float | None]:
    board = figures.dashboard(session, actor=actor, flt=flt, period=period, codes=PEOPLE_KPIS)
    return {code: board.figures[code].value for code in PEOPLE_KPIS}


def measures(session: Session, actor: Actor, flt: InsightFilter, period: Period) -> Values:
    scoped = flt.checked().scoped(actor)
    return Values(figures.read_totals(session, scoped, period.first, period.last).values())


@pytest.fixture
def world(session: Session) -> PeopleWorld:
    return build_cube(session)


def test_march_for_the_whole_company(session: Session, world: PeopleWorld) -> None:
    got = values(session, world.actor(world.manager), InsightFilter(), Period.ending(MARCH))
    assert got == {
        "new_customers": 2.0,
        "referred_share": pytest.approx(50.0),
        "pipeline_created": 70000.0,
        "win_rate": pytest.approx(200 / 3),
        "sales_cycle": pytest.approx(56.0),
        "plan_coverage": pytest.approx(50.0),
        "nps": pytest.approx(0.0),
        "csat": pytest.approx(50.0),
        "loops_in_sla": pytest.approx(200 / 3),
        "time_to_close": pytest.approx(64.0),
        "promoters": 2.0,
        "referrals": 2.0,
        "detractors": 2.0,
    }


def test_march_measures_exactly(session: Session, world: PeopleWorld) -> None:
    got = measures(session, world.actor(world.manager), InsightFilter(), Period.ending(MARCH))
    expected = {
        "accounts": 4,
        "accounts_new": 2,
        "accounts_new_referred": 1,
        "deals_created": 3,
        "pipeline_created": 70000,
        "deals_won": 2,
        "deals_lost": 1,
        "won_value": 100000,  # CNY only: D's 8000 USD counts in a USD dashboard
        "cycle_days": 112,
        "key_accounts": 2,
        "key_accounts_planned": 1,
        "nps_responses": 5,
        "nps_promoters": 2,
        "nps_detractors": 2,
        "csat_responses": 4,
        "csat_satisfied": 2,
        "csat_sum": 14,
        "loops_opened": 4,
        "loops_closed": 3,
        "loops_closed_in_sla": 2,
        "loop_close_hours": 192,
        "referrals_made": 2,
    }
    assert {name: got[name] for name in expected} == pytest.approx(expected)


def test_money_counts_in_the_documents_currency(session: Session, world: PeopleWorld) -> None:
    usd = measures(
        session, world.actor(world.manager), InsightFilter(currency="USD"), Period.ending(MARCH)
    )
    # d5 is A's (a CNY account) in USD; d4 is D's, won in March.
    assert (usd["pipeline_created"], usd["won_value"]) == (1000.0, 8000.0)
    assert usd["deals_created"] == 3  # counts are over every currency


def test_the_rep_sees_his_accounts_only(session: Session, world: PeopleWorld) -> None:
    rep = world.actor(world.rep)
    expected = {
        "new_customers": 1.0,
        "referred_share": pytest.approx(100.0),
        "pipeline_created": 50000.0,
        "win_rate": pytest.approx(100.0),
        "sales_cycle": pytest.approx(54.0),
        "plan_coverage": pytest.approx(100.0),
        "nps": pytest.approx(100 / 3),
        "csat": pytest.approx(50.0),
        "loops_in_sla": pytest.approx(100.0),
        "time_to_close": pytest.approx(36.0),
        "promoters": 2.0,
        "referrals": 1.0,
        "detractors": 1.0,
    }
    assert values(session, rep, InsightFilter(), Period.ending(MARCH)) == expected
    # Asking for the rival's accounts changes nothing: the scope wins.
    asked = InsightFilter(owner_id=world.rival.id)
    assert values(session, rep, asked, Period.ending(MARCH)) == expected
    # A manager choosing the rep as owner sees the same.
    chosen = InsightFilter(owner_id=world.rep.id)
    assert values(session, world.actor(world.manager), chosen, Period.ending(MARCH)) == expected


def test_region_and_tier_filters(session: Session, world: PeopleWorld) -> None:
    manager = world.actor(world.manager)
    east = values(session, manager, InsightFilter(region="华东"), Period.ending(MARCH))
    # 华东: A and C (E is April's).
    assert east["new_customers"] == 1.0
    assert east["referred_share"] == pytest.approx(0.0)
    assert east["win_rate"] == pytest.approx(50.0)  # d1 won, d3 lost
    assert east["nps"] == pytest.approx(-100 / 3)  # A 10, A 6, C 3
    assert east["referrals"] == 1.0
    key = measures(session, manager, InsightFilter(tier="key"), Period.ending(MARCH))
    assert (key["key_accounts"], key["key_accounts_planned"]) == (2.0, 1.0)
    growth = measures(session, manager, InsightFilter(tier="growth"), Period.ending(MARCH))
    # D has a plan but is no key account.
    assert (growth["key_accounts"], growth["key_accounts_planned"]) == (0.0, 0.0)
    assert (growth["won_value"], growth["deals_won"]) == (0.0, 1.0)


def test_months_around_march(session: Session, world: PeopleWorld) -> None:
    manager = world.actor(world.manager)
    feb = measures(session, manager, InsightFilter(), Period.ending(date(2026, 2, 1)))
    jan = measures(session, manager, InsightFilter(), Period.ending(date(2026, 1, 1)))
    april = measures(session, manager, InsightFilter(), Period.ending(date(2026, 4, 1)))
    assert (feb["key_accounts"], feb["key_accounts_planned"]) == (1.0, 1.0)
    assert (jan["key_accounts"], jan["key_accounts_planned"]) == (1.0, 0.0)
    assert feb["referrals_made"] == 1.0  # A's lead of 02-25, counted on A
    assert (feb["nps_responses"], feb["nps_detractors"]) == (1.0, 1.0)  # C 0 on 02-28
    assert (april["nps_responses"], april["nps_promoters"]) == (1.0, 1.0)  # 04-01 00:10
    assert (april["loops_closed"], april["deals_lost"]) == (1.0, 1.0)  # L5, d7
    assert (april["accounts_new"], april["deals_created"]) == (1.0, 1.0)  # E, d6
    # A quarter sums the flows and takes the stocks of its last month.
    quarter = measures(session, manager, InsightFilter(), Period.ending(MARCH, "3m"))
    assert quarter["deals_created"] == 3 + 2 + 1  # March; d4, d7 in February; d1 in January
    assert quarter["nps_responses"] == 6
    assert (quarter["key_accounts"], quarter["key_accounts_planned"]) == (2.0, 1.0)


def test_a_rep_without_accounts_sees_nothing(session: Session, world: PeopleWorld) -> None:
    for actor in (
        world.actor(world.idle),
        Actor(name="nobody", role=Role.SALES, user_id=None),
    ):
        got = values(session, actor, InsightFilter(), Period.ending(MARCH, "3m"))
        counts = {"new_customers", "pipeline_created", "promoters", "referrals", "detractors"}
        assert {c: v for c, v in got.items() if c in counts} == dict.fromkeys(counts, 0.0)
        assert all(got[c] is None for c in got if c not in counts)
