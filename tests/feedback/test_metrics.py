"""The feedback metrics: the formulas on hand-worked examples, then the queries on the small
company of ``metrics_world`` (breakdowns, trend, account NPS, journey, detractors' topics) and
the sales rep's scope."""

from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import Settings
from flywheel.errors import ValidationFailed
from flywheel.feedback import metrics, scores
from flywheel.feedback.metrics import MetricFilter
from flywheel.models.customers import Touchpoint
from tests.feedback.metrics_world import END, START, add_texts, at, build

ADMIN = Actor.system("tests")
WEIGHTS = Settings().account_nps_weights
PERIOD = MetricFilter(START, END)


# ---------------------------------------------------------------- the formulas


def test_nps_of_five_promoters_three_passives_two_detractors() -> None:
    # NPS = 100 × (5 − 2) / 10 = 30. Interval on adjusted counts: n' = 13, p = 5.75/13,
    # d = 2.75/13, p − d = 3/13 = 0.230769, p + d = 8.5/13 = 0.653846,
    # variance 0.653846 − 0.230769² = 0.600592, se = √(0.600592/13) = 0.214939,
    # half width 1.959964 × 0.214939 = 0.421272 → [−19.050, 65.204].
    figure = scores.nps_of(5, 3, 2)

    assert figure.n == 10
    assert figure.score == pytest.approx(30.0)
    assert figure.low == pytest.approx(-19.0506, abs=1e-3)
    assert figure.high == pytest.approx(65.2045, abs=1e-3)
    assert figure.small_sample


def test_nps_interval_holds_the_score_and_stays_in_range() -> None:
    # One detractor: adjusted centre (0.75 − 1.75)/4 = −0.25, half width 0.735; the interval
    # is widened down to the observed −100.
    alone = scores.nps_of(0, 0, 1)
    assert (alone.score, alone.low) == (-100.0, -100.0)
    assert alone.high == pytest.approx(48.4986, abs=1e-3)
    # All promoters: the top is clamped at 100.
    assert scores.nps_of(40, 0, 0).high == 100.0
    assert not scores.nps_of(40, 0, 0).small_sample
    empty = scores.nps_of(0, 0, 0)
    assert (empty.n, empty.score, empty.low, empty.high) == (0, None, None, None)


def test_csat_is_the_share_of_fours_and_fives_with_a_wilson_interval() -> None:
    # 8 of 10: p = 0.8, z² = 3.841459; centre (0.8 + 0.192073)/1.384146 = 0.716740;
    # half 1.959964 × √(0.016 + 0.009604)/1.384146 = 0.226575 → [49.016, 94.332] %.
    figure = scores.csat_of(8, 10)

    assert figure.percent == pytest.approx(80.0)
    assert figure.low == pytest.approx(49.0162, abs=1e-3)
    assert figure.high == pytest.approx(94.3318, abs=1e-3)
    assert scores.csat_of(0, 0).percent is None
    assert scores.wilson_interval(0, 5)[0] == 0.0


def test_ces_is_the_mean_with_a_t_interval() -> None:
    # Scores 5, 6, 7, 4, 3: mean 5, s² = (0 + 1 + 4 + 1 + 4)/4 = 2.5, s = 1.581139;
    # t(0.975, 4) = 2.776445; half 2.776445 × 1.581139/√5 = 1.963243 → [3.0368, 6.9632].
    answers = [5, 6, 7, 4, 3]
    figure = scores.ces_of(len(answers), sum(answers), sum(a * a for a in answers))

    assert figure.mean == pytest.approx(5.0)
    assert figure.sd == pytest.approx(math.sqrt(2.5))
    assert figure.low == pytest.approx(3.03676, abs=1e-4)
    assert figure.high == pytest.approx(6.96324, abs=1e-4)
    one = scores.ces_of(1, 6, 36)
    assert (one.mean, one.low, one.high) == (6.0, None, None)


def test_t_quantiles_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 5, 29, 30, 31, 45, 120, 1000):
        assert scores.t_quantile_975(df) == pytest.approx(float(stats.t.ppf(0.975, df)), abs=1e-6)


def test_account_nps_weighs_stakeholders_by_buying_role() -> None:
    # Decision maker 10 (w 3, +1), user 6 (w 1, −1), finance 8 (w 2, 0):
    # 100 × (3 − 1 + 0) / (3 + 1 + 2) = 33.33.
    answers = [(10, "decision_maker"), (6, "user"), (8, "finance")]
    assert scores.account_nps(answers, WEIGHTS) == pytest.approx(100 * 2 / 6)
    # An unknown role weighs what "" does (1); no answer, no score.
    assert scores.account_nps([(0, "janitor"), (10, None)], WEIGHTS) == pytest.approx(0.0)
    assert scores.account_nps([], WEIGHTS) is None


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        MetricFilter(END, START).checked()
    with pytest.raises(ValidationFailed):
        MetricFilter(START, END, tier="gold").checked()


# ---------------------------------------------------------------- the queries


def test_summary_counts_every_answer_of_the_period(session: Session) -> None:
    build(session)

    figures = metrics.summary(session, actor=ADMIN, flt=PERIOD)

    nps = figures.nps
    assert (nps.promoters, nps.passives, nps.detractors) == (5, 2, 3)
    assert nps.score == pytest.approx(20.0)
    assert (figures.csat.n, figures.csat.satisfied) == (4, 2)
    assert figures.csat.percent == pytest.approx(50.0)
    assert figures.ces.n == 3
    assert figures.ces.mean == pytest.approx(17 / 3)


def test_a_sales_reps_nps_counts_only_his_accounts(session: Session) -> None:
    world = build(session)
    rep = Actor.for_user(world.rep)
    rival = Actor.for_user(world.rival)

    mine = metrics.summary(session, actor=rep, flt=PERIOD).nps
    theirs = metrics.summary(session, actor=rival, flt=PERIOD).nps

    # M-A and M-B: promoters 10 (Jan), 9; passives 8, 7; detractors 6, 6, 3.
    assert (mine.promoters, mine.passives, mine.detractors) == (2, 2, 3)
    assert mine.score == pytest.approx(-100 / 7)
    assert (theirs.promoters, theirs.n, theirs.score) == (3, 3, 100.0)
    # Naming the other rep's book as a filter does not widen the scope.
    other = MetricFilter(START, END, owner=world.rival.username)
    assert metrics.summary(session, actor=rep, flt=other).answers == 0


def test_breakdowns_by_every_dimension(session: Session) -> None:
    world = build(session)

    def by(dimension: str) -> dict[str, tuple[int, float | None]]:
        groups = metrics.breakdown(session, actor=ADMIN, flt=PERIOD, by=dimension)
        return {g.key: (g.figures.nps.n, g.figures.nps.score) for g in groups}

    assert by("account") == {
        world.a.code: (5, 0.0),
        world.c.code: (3, 100.0),
        world.b.code: (2, -50.0),
    }
    assert by("owner") == {
        world.rep.username: (7, pytest.approx(-100 / 7)),
        world.rival.username: (3, 100.0),
    }
    assert by("region") == {"华东": (8, 37.5), "华南": (2, -50.0)}
    assert by("tier") == {"key": (5, 0.0), "standard": (2, -50.0), "growth": (3, 100.0)}
    assert by("month") == {
        "2026-01": (3, pytest.approx(100 / 3)),
        "2026-02": (4, -50.0),
        "2026-03": (3, 100.0),
    }
    assert by("campaign") == {world.campaign.name: (10, 20.0), "": (0, None)}
    touchpoints = {
        g.key: g.figures
        for g in metrics.breakdown(session, actor=ADMIN, flt=PERIOD, by="touchpoint")
    }
    assert touchpoints["delivery"].csat.percent == pytest.approx(50.0)
    assert touchpoints["support"].ces.mean == pytest.approx(17 / 3)
    assert touchpoints[""].nps.n == 10
    with pytest.raises(ValidationFailed):
        metrics.breakdown(session, actor=ADMIN, flt=PERIOD, by="colour")


def test_the_trend_has_every_month_of_the_period(session: Session) -> None:
    build(session)

    months = metrics.trend(session, actor=ADMIN, flt=MetricFilter(START, date(2026, 4, 30)))

    assert [m.month for m in months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [m.figures.nps.n for m in months] == [3, 4, 3, 0]
    assert months[3].figures.nps.score is None


def test_account_nps_takes_each_stakeholders_latest_answer(session: Session) -> None:
    world = build(session)

    ranked = metrics.account_scores(session, actor=ADMIN, flt=PERIOD, weights=WEIGHTS)

    # M-A: dm 6 (latest; w 3, −1), user 9 (w 1, +1), user 6 (w 1, −1), finance 8 (w 2, 0):
    # 100 × (−3 + 1 − 1) / 7 = −42.86. M-B: dm 3 (−3), influencer 7 (0): 100 × −3/5 = −60.
    # M-C: three promoters: 100.
    assert [(s.code, round(s.score or 0, 2), s.stakeholders, s.weight) for s in ranked] == [
        (world.c.code, 100.0, 3, 5.0),
        (world.a.code, -42.86, 4, 7.0),
        (world.b.code, -60.0, 2, 5.0),
    ]
    worst = metrics.account_scores(
        session, actor=ADMIN, flt=PERIOD, weights=WEIGHTS, descending=False, limit=1
    )
    assert [w.code for w in worst] == [world.b.code]
    detail = metrics.account_detail(
        session, actor=ADMIN, customer_id=world.a.id, flt=PERIOD, weights=WEIGHTS
    )
    assert detail.score == pytest.approx(-300 / 7)
    assert [(a.contact, a.score, a.weight) for a in detail.answers] == [
        ("张总", 6, 3.0),
        ("赵会计", 8, 2.0),
        ("王工", 6, 1.0),
        ("李工", 9, 1.0),
    ]


def test_account_weights_come_from_the_settings(session: Session) -> None:
    world = build(session)
    flat = {"": 1.0}

    detail = metrics.account_detail(
        session, actor=ADMIN, customer_id=world.a.id, flt=PERIOD, weights=flat
    )
    [row] = metrics.account_scores(
        session, actor=ADMIN, flt=MetricFilter(START, END, customer_id=world.a.id), weights=flat
    )

    # Unweighted: (−1 + 1 − 1 + 0) / 4 = −25.
    assert detail.score == pytest.approx(-25.0)
    assert row.score == pytest.approx(-25.0)


def test_an_account_outside_the_reps_scope_has_no_nps_for_him(session: Session) -> None:
    world = build(session)
    rep = Actor.for_user(world.rep)

    detail = metrics.account_detail(
        session, actor=rep, customer_id=world.c.id, flt=PERIOD, weights=WEIGHTS
    )

    assert (detail.score, detail.answers) == (None, [])
    assert {
        s.code for s in metrics.account_scores(session, actor=rep, flt=PERIOD, weights=WEIGHTS)
    } == {
        world.a.code,
        world.b.code,
    }


def test_the_journey_joins_surveys_and_logged_satisfaction(session: Session) -> None:
    world = build(session)
    for n, score in enumerate((4, 2)):
        session.add(
            Touchpoint(
                reference=f"journey-{world.a.code}-{n}",
                customer_id=world.a.id,
                kind="delivery",
                occurred_at=at(2, 1 + n),
                satisfaction=score,
            )
        )
    session.flush()

    stages = {s.kind: s for s in metrics.journey(session, actor=ADMIN, flt=PERIOD)}

    assert list(stages) == ["delivery", "support", ""]
    assert stages["delivery"].figures.csat.percent == pytest.approx(50.0)
    assert (stages["delivery"].logged, stages["delivery"].logged_mean) == (2, pytest.approx(3.0))
    assert stages["support"].figures.ces.n == 3


def test_detractor_topics_count_negative_texts(session: Session) -> None:
    world = build(session)
    add_texts(session, world)

    found = metrics.detractor_topics(session, actor=ADMIN, flt=PERIOD)
    mine = metrics.detractor_topics(session, actor=Actor.for_user(world.rival), flt=PERIOD)

    assert found.texts == 3
    assert found.untagged == 0
    assert [(t.code, t.count) for t in found.topics] == [
        ("delivery", 2),
        ("billing", 1),
        ("packaging", 1),
    ]
    assert (mine.texts, mine.topics) == (0, [])


def test_the_360_reads_the_account_nps_and_last_answers_in_one_query(session: Session) -> None:
    world = build(session)

    detail, answers = metrics.account_feedback(
        session, actor=ADMIN, customer_id=world.a.id, flt=PERIOD, weights=WEIGHTS
    )

    # Each contact's latest answer to any survey (李工 and 王工 last answered the CES survey)…
    assert [(a.contact, a.kind, a.score) for a in answers] == [
        ("张总", "nps", 6),
        ("赵会计", "nps", 8),
        ("王工", "ces", 4),
        ("李工", "ces", 6),
    ]
    # …while the account NPS still takes their latest NPS answers, as account_detail does.
    alone = metrics.account_detail(
        session, actor=ADMIN, customer_id=world.a.id, flt=PERIOD, weights=WEIGHTS
    )
    assert detail.score == pytest.approx(-300 / 7)
    assert [(a.contact, a.score) for a in detail.answers] == [
        (a.contact, a.score) for a in alone.answers
    ]
    outside = metrics.account_feedback(
        session,
        actor=Actor.for_user(world.rival),
        customer_id=world.a.id,
        flt=PERIOD,
        weights=WEIGHTS,
    )
    assert (outside[0].answers, outside[1]) == ([], [])
