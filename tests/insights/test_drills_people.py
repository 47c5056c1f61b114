"""The lists behind the people figures on the hand-counted company of ``people_world``: the
items each figure counts, most important first, in the actor's scope and the filter, as many
as the figure counts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.insights import drills, figures
from flywheel.insights.drills import DrillQuery
from flywheel.insights.figures import KPIS, Values
from flywheel.insights.periods import InsightFilter, Period
from flywheel.kit.i18n import translations
from flywheel.models.enums import Role
from tests.insights.people_world import AS_OF, MARCH, PeopleWorld, build_cube

# Each drill of this module and the measures its rows are (stocks: a difference).
COUNTED: dict[str, tuple[tuple[str, int], ...]] = {
    "new_customers": (("accounts_new", 1),),
    "new_referred": (("accounts_new_referred", 1),),
    "deals_closed": (("deals_won", 1), ("deals_lost", 1)),
    "deals_won": (("deals_won", 1),),
    "key_accounts_unplanned": (("key_accounts", 1), ("key_accounts_planned", -1)),
    "nps_responses": (("nps_responses", 1),),
    "csat_responses": (("csat_responses", 1),),
    "loops_closed": (("loops_closed", 1),),
    "promoters": (("nps_promoters", 1),),
    "detractors": (("nps_detractors", 1),),
    "referrals": (("referrals_made", 1),),
}
PEOPLE_DRILLS = (*COUNTED, "deals_created")
PEOPLE_STAGES = {"attract", "engage", "delight"}


@pytest.fixture
def world(session: Session) -> PeopleWorld:
    return build_cube(session)


def rows(
    session: Session,
    actor: Actor,
    code: str,
    flt: InsightFilter | None = None,
    period: Period | None = None,
) -> list[dict[str, Any]]:
    query = DrillQuery.of(actor, flt or InsightFilter(), period or Period.ending(MARCH), AS_OF)
    return drills.all_rows(session, drills.get(code), query)


def codes(found: list[dict[str, Any]]) -> list[str]:
    return [r["code"] for r in found]


def test_every_people_figure_has_its_drill() -> None:
    named = {k.drill for k in KPIS if k.stage in PEOPLE_STAGES}
    named |= {k.drill for k in KPIS if k.code in ("promoters", "referrals", "detractors")}
    assert named <= set(PEOPLE_DRILLS)
    catalog = translations("zh")
    for code in PEOPLE_DRILLS:
        drill = drills.get(code)
        assert [c.key for c in drill.columns[:3]] == ["code", "name", "owner"]
        for label in (drill.title, *(c.label for c in drill.columns)):
            assert catalog.gettext(label) != label, label


def test_march_lists_most_important_first(session: Session, world: PeopleWorld) -> None:
    manager = world.actor(world.manager)
    assert codes(rows(session, manager, "new_customers")) == ["PW-C", "PW-B"]  # key first
    [referred] = rows(session, manager, "new_referred")
    assert (referred["code"], referred["referrer_code"]) == ("PW-B", "PW-A")
    assert [(r["code"], r["value"]) for r in rows(session, manager, "deals_created")] == [
        ("PW-A", 50000),
        ("PW-C", 20000),
    ]
    usd = rows(session, manager, "deals_created", InsightFilter(currency="USD"))
    assert [(r["code"], r["value"]) for r in usd] == [("PW-A", 1000)]
    closed = rows(session, manager, "deals_closed")
    assert [(r["code"], r["stage"], r["currency"]) for r in closed] == [
        ("PW-A", "won", "CNY"),
        ("PW-C", "lost", "CNY"),
        ("PW-D", "won", "USD"),
    ]
    assert closed[1]["lost_reason"] == "价格"
    won = rows(session, manager, "deals_won")
    assert [(r["code"], r["cycle_days"]) for r in won] == [("PW-D", 58), ("PW-A", 54)]
    assert codes(rows(session, manager, "key_accounts_unplanned")) == ["PW-C"]
    nps = rows(session, manager, "nps_responses")
    assert [(r["code"], r["score"]) for r in nps] == [
        ("PW-C", 3),
        ("PW-A", 6),
        ("PW-D", 8),
        ("PW-B", 9),
        ("PW-A", 10),
    ]
    csat = rows(session, manager, "csat_responses")
    assert [(r["code"], r["score"]) for r in csat] == [
        ("PW-C", 2),
        ("PW-B", 3),
        ("PW-D", 4),
        ("PW-A", 5),
    ]
    assert codes(rows(session, manager, "promoters")) == ["PW-A", "PW-B"]
    assert codes(rows(session, manager, "detractors")) == ["PW-C", "PW-A"]
    loops = rows(session, manager, "loops_closed")
    assert [(r["code"], r["hours_to_close"], r["hours_late"]) for r in loops] == [
        ("PW-C", pytest.approx(120.0), pytest.approx(72.0)),
        ("PW-A", pytest.approx(48.0), 0),
        ("PW-A", pytest.approx(24.0), 0),
    ]
    referrals = rows(session, manager, "referrals")
    assert [(r["code"], r["referred_on"], r["lead"]) for r in referrals] == [
        ("PW-A", date(2026, 3, 31), "星河科技"),
        ("PW-D", date(2026, 3, 10), "远景贸易"),
    ]
    owner = world.rep.display_name or world.rep.username
    assert {r["owner"] for r in rows(session, manager, "promoters")} == {owner}


def test_the_rep_lists_his_accounts_only(session: Session, world: PeopleWorld) -> None:
    rep = world.actor(world.rep)
    rival_asked = InsightFilter(owner_id=world.rival.id)
    assert codes(rows(session, rep, "new_customers", rival_asked)) == ["PW-B"]
    assert codes(rows(session, rep, "deals_closed")) == ["PW-A"]
    assert codes(rows(session, rep, "detractors")) == ["PW-A"]
    assert codes(rows(session, rep, "loops_closed")) == ["PW-A", "PW-A"]
    assert rows(session, rep, "key_accounts_unplanned") == []
    for code in PEOPLE_DRILLS:
        assert {r["code"] for r in rows(session, rep, code)} <= {"PW-A", "PW-B"}, code


def test_a_rep_without_accounts_lists_nothing(session: Session, world: PeopleWorld) -> None:
    quarter = Period.ending(MARCH, "3m")
    for actor in (world.actor(world.idle), Actor(name="nobody", role=Role.SALES, user_id=None)):
        for code in PEOPLE_DRILLS:
            assert rows(session, actor, code, period=quarter) == [], code


@pytest.mark.parametrize(
    ("who", "flt", "period"),
    [
        ("manager", InsightFilter(), Period.ending(MARCH)),
        ("manager", InsightFilter(), Period.ending(MARCH, "3m")),
        ("manager", InsightFilter(region="华东"), Period.ending(MARCH)),
        ("manager", InsightFilter(tier="key"), Period.ending(date(2026, 4, 1), "3m")),
        ("rep", InsightFilter(), Period.ending(date(2026, 4, 1), "6m")),
        ("rival", InsightFilter(region="华东"), Period.ending(MARCH, "3m")),
    ],
)
def test_rows_are_as_many_as_the_figure_counts(
    session: Session, world: PeopleWorld, who: str, flt: InsightFilter, period: Period
) -> None:
    actor = world.actor(getattr(world, who))
    built = figures.dashboard(session, actor=actor, flt=flt, period=period, codes=["nps"])
    query = DrillQuery.of(actor, flt, period, built.built_through)
    totals = Values(figures.read_totals(session, query.flt, period.first, period.last).values())
    counted = {}
    for code, parts in COUNTED.items():
        page = drills.page(session, drills.get(code), query, size=2)
        counted[code] = (page.total, sum(totals[m] * sign for m, sign in parts))
    assert all(n == want for n, want in counted.values()), counted
    assert any(n for n, _want in counted.values())
