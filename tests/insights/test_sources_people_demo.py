"""The dashboard's people figures on the demo company, recomputed independently by the domains'
own functions for the same period and filter: referrals (``loyalty.referral_kpis``), the
pipeline (``keyaccounts.deal_figures``), account plans (``keyaccounts.plan_figures``), NPS and
CSAT (``feedback.metrics``) and the closed loop (``feedback.loops``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.feedback import loops, metrics
from flywheel.feedback.metrics import MetricFilter
from flywheel.insights import drills, figures, snapshot
from flywheel.insights.figures import Values
from flywheel.insights.periods import InsightFilter, Period
from flywheel.keyaccounts.deal_figures import pipeline_figures
from flywheel.keyaccounts.plan_figures import AccountFilter, key_account_rows
from flywheel.loyalty import referral_kpis
from flywheel.models.enums import Role, Tier
from flywheel.models.users import User
from tests.databases import BACKENDS, fresh_engine
from tests.demo.conftest import AS_OF, build_small

PERIODS = (
    Period.ending(AS_OF, "12m"),
    Period.ending(AS_OF, "3m"),
    Period.ending(date(2025, 4, 1), "6m"),
    Period.ending(date(2024, 12, 1), "3m"),
    Period.ending(date(2024, 10, 1)),
    Period.ending(date(2024, 7, 1)),
)
REPS = ("sales", "sales003", "sales005")


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The small demo company and its cube, on a database of its own."""
    for engine in fresh_engine(request.param, tmp_path_factory.mktemp("people-demo")):
        build_small(engine)
        with Session(engine) as session:
            snapshot.run(session, as_of=AS_OF, rebuild=True)
            session.commit()
        yield engine


@pytest.fixture
def db(demo: Engine) -> Iterator[Session]:
    with Session(demo) as session:
        yield session
        session.rollback()


def user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def actors(session: Session) -> list[Actor]:
    """The manager (every account) and three reps (their own)."""
    manager = Actor.for_user(user(session, "manager"))
    assert manager.role == Role.MANAGER
    return [manager, *(Actor.for_user(user(session, name)) for name in REPS)]


def measures(session: Session, actor: Actor, flt: InsightFilter, period: Period) -> Values:
    scoped = flt.checked().scoped(actor)
    months = figures.read_totals(session, scoped, period.first, period.last)
    assert len(months) == period.months  # every month of the sample was built
    return Values(months.values())


def kpis(
    session: Session, actor: Actor, flt: InsightFilter, period: Period
) -> dict[str, float | None]:
    board = figures.dashboard(session, actor=actor, flt=flt, period=period)
    return {code: f.value for code, f in board.figures.items()}


def same(value: float | None, expected: float | None, *, within: float) -> bool:
    if value is None or expected is None:
        return value is None and expected is None
    return abs(value - expected) <= within


def percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def test_attract_and_referrals_as_the_referral_kpis_count(db: Session) -> None:
    seen = {"new": 0, "referred": 0, "made": 0}
    for actor in actors(db):
        for period in PERIODS:
            domain = referral_kpis.kpis(
                db, actor, start=period.first, end=period.end, as_of=period.end
            )
            cube = measures(db, actor, InsightFilter(), period)
            board = kpis(db, actor, InsightFilter(), period)
            where = (actor.name, period)
            assert cube["accounts_new"] == domain["new_customers"], where
            assert cube["accounts_new_referred"] == domain["new_referred"], where
            assert cube["referrals_made"] == domain["made"], where
            assert board["referrals"] == domain["made"], where
            assert same(
                board["referred_share"], percent(domain["referred_new_share"]), within=0.01
            ), where
            seen["new"] += domain["new_customers"]
            seen["referred"] += domain["new_referred"]
            seen["made"] += domain["made"]
    assert all(seen.values()), seen


def test_win_rate_and_sales_cycle_as_the_pipeline_figures_compute(db: Session) -> None:
    seen = {"won": 0, "lost": 0}
    for actor in actors(db):
        for period in PERIODS:
            domain = pipeline_figures(
                db, actor, as_of=period.end, start=period.first, end=period.end
            )
            cube = measures(db, actor, InsightFilter(), period)
            board = kpis(db, actor, InsightFilter(), period)
            where = (actor.name, period)
            assert (cube["deals_won"], cube["deals_lost"]) == (domain["won"], domain["lost"]), where
            assert same(board["win_rate"], percent(domain["win_rate"]), within=0.01), where
            assert same(board["sales_cycle"], domain["average_cycle_days"], within=0.051), where
            for currency in ("CNY", "USD"):
                money = measures(db, actor, InsightFilter(currency=currency), period)
                won = Decimal(domain["won_value"].get(currency, "0"))
                assert money["won_value"] == pytest.approx(float(won), abs=0.005), where
            seen["won"] += domain["won"]
            seen["lost"] += domain["lost"]
    assert all(seen.values()), seen


def test_plan_coverage_as_the_key_account_list_shows(db: Session) -> None:
    planned_somewhere = 0
    for actor in actors(db):
        listed, _total = key_account_rows(db, actor, AccountFilter(), as_of=AS_OF)
        key = [r for r in listed if r.customer.tier == Tier.KEY.value]
        planned = [r for r in key if r.plan is not None]
        period = Period.ending(AS_OF)
        cube = measures(db, actor, InsightFilter(), period)
        assert (cube["key_accounts"], cube["key_accounts_planned"]) == (len(key), len(planned))
        board = kpis(db, actor, InsightFilter(), period)
        expected = 100.0 * len(planned) / len(key) if key else None
        assert same(board["plan_coverage"], expected, within=1e-9), actor.name
        planned_somewhere += len(planned)
    assert planned_somewhere


def _feedback_cases(session: Session) -> list[tuple[Actor, InsightFilter, dict[str, Any]]]:
    manager, *reps = actors(session)
    rep_user = user(session, REPS[1])
    return [
        (manager, InsightFilter(), {}),
        (manager, InsightFilter(region="华东"), {"region": "华东"}),
        (manager, InsightFilter(tier="key"), {"tier": "key"}),
        (
            manager,
            InsightFilter(tier="standard", region="华南"),
            {"tier": "standard", "region": "华南"},
        ),
        (manager, InsightFilter(owner_id=rep_user.id), {"owner": rep_user.username}),
        *((rep, InsightFilter(), {}) for rep in reps),
        (reps[0], InsightFilter(region="华东"), {"region": "华东"}),
    ]


def test_nps_and_csat_as_the_feedback_metrics_count(db: Session) -> None:
    seen = {"nps": 0, "csat": 0}
    for actor, flt, narrowing in _feedback_cases(db):
        for period in PERIODS:
            domain = metrics.summary(
                db,
                actor=actor,
                flt=MetricFilter(start=period.first, end=period.end, **narrowing),
            )
            cube = measures(db, actor, flt, period)
            board = kpis(db, actor, flt, period)
            where = (actor.name, flt, period)
            assert (
                cube["nps_responses"],
                cube["nps_promoters"],
                cube["nps_detractors"],
                cube["csat_responses"],
                cube["csat_satisfied"],
            ) == (
                domain.nps.n,
                domain.nps.promoters,
                domain.nps.detractors,
                domain.csat.n,
                domain.csat.satisfied,
            ), where
            assert same(board["nps"], domain.nps.score, within=1e-9), where
            assert same(board["csat"], domain.csat.percent, within=1e-9), where
            assert (board["promoters"], board["detractors"]) == (
                domain.nps.promoters,
                domain.nps.detractors,
            ), where
            seen["nps"] += domain.nps.n
            seen["csat"] += domain.csat.n
    assert all(seen.values()), seen


def test_closed_loop_as_the_loop_kpis_count(db: Session) -> None:
    now = datetime.combine(AS_OF, time(23, 0), tzinfo=UTC)
    seen = {"opened": 0, "closed": 0}
    for actor in actors(db):
        for period in PERIODS:
            domain = loops.kpis(db, actor, period.first, period.end, now=now)
            cube = measures(db, actor, InsightFilter(), period)
            board = kpis(db, actor, InsightFilter(), period)
            where = (actor.name, period)
            assert (
                cube["loops_opened"],
                cube["loops_closed"],
                cube["loops_closed_in_sla"],
            ) == (domain["opened"], domain["closed"], domain["closed_within_sla"]), where
            assert same(
                board["loops_in_sla"], percent(domain["closed_within_sla_rate"]), within=0.01
            ), where
            assert same(board["time_to_close"], domain["mean_hours_to_close"], within=0.006), where
            seen["opened"] += domain["opened"]
            seen["closed"] += domain["closed"]
    assert all(seen.values()), seen


@pytest.mark.parametrize(
    ("code", "parts"),
    [
        ("new_customers", {"accounts_new": 1}),
        ("deals_closed", {"deals_won": 1, "deals_lost": 1}),
        ("nps_responses", {"nps_responses": 1}),
        ("detractors", {"nps_detractors": 1}),
        ("loops_closed", {"loops_closed": 1}),
        ("referrals", {"referrals_made": 1}),
        ("key_accounts_unplanned", {"key_accounts": 1, "key_accounts_planned": -1}),
    ],
)
def test_drills_list_what_the_figures_count(db: Session, code: str, parts: dict[str, int]) -> None:
    drill = drills.get(code)
    listed = 0
    for actor in actors(db)[:2]:
        for flt in (InsightFilter(), InsightFilter(region="华东"), InsightFilter(tier="growth")):
            for period in PERIODS[:3]:
                board = figures.dashboard(db, actor=actor, flt=flt, period=period, codes=["nps"])
                query = drills.DrillQuery.of(actor, flt, period, board.built_through)
                cube = measures(db, actor, flt, period)
                page = drills.page(db, drill, query, size=5)
                expected = sum(cube[m] * sign for m, sign in parts.items())
                assert page.total == expected, (actor.name, flt, period)
                assert len(page.rows) == min(5, page.total)
                listed += page.total
    assert listed
