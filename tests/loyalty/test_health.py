"""The health score: exact points per factor on hand-made inputs, the weights from the
settings, unknown factors at their neutral share, and every input read from the database for
a day (nothing after it, nothing older than its window)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy.orm import Session

from flywheel.analytics import health as maths
from flywheel.config import Settings
from flywheel.errors import ValidationFailed
from flywheel.loyalty import health
from flywheel.loyalty.frame import read_frame
from flywheel.models.enums import BuyingRole, HealthBand, SurveyKind, TouchpointKind
from tests.factories import make_customer
from tests.loyalty.factories import make_order
from tests.loyalty.health_world import (
    clv_for,
    make_answer,
    make_credit_score,
    make_dispute,
    make_loop,
    make_stakeholder,
    make_touchpoint,
)

AS_OF = date(2026, 6, 30)
NAN = np.nan


def inputs(**given: float) -> maths.HealthInputs:
    """One account's inputs: everything unknown (open issues and support load 0) but ``given``."""
    values = {
        "nps": NAN,
        "csat": NAN,
        "missed_purchases": NAN,
        "p_alive": NAN,
        "spend_change": NAN,
        "credit_grade": NAN,
        "days_beyond_terms": NAN,
        "open_issues": 0.0,
        "touchpoints": NAN,
        "touch_satisfaction": NAN,
        "support_ratio": 0.0,
    }
    values.update(given)
    return maths.HealthInputs(**{k: np.asarray([v], dtype=np.float64) for k, v in values.items()})


def points_of(scored: maths.ScoredHealth) -> dict[str, float]:
    return {f: float(p) for f, p in zip(scored.factor_names, scored.points[0], strict=True)}


DEFAULT_WEIGHTS = Settings().loyalty_health_weights


def test_each_factor_scores_its_share_of_its_weight() -> None:
    scored = maths.score_health(
        inputs(
            nps=50.0,  # (50 + 100) / 200 = 0.75
            csat=4.0,  # (4 − 1) / 4 = 0.75
            missed_purchases=2.0,  # ½ × (3 − 2) / 2 + ½ × 0.8 = 0.65
            p_alive=0.8,
            spend_change=0.2,  # +20 %: full
            credit_grade=2.0,  # B: 0.75
            days_beyond_terms=6.0,  # 1 − 6 / 30 = 0.8
            open_issues=1.0,  # 1 − 1 / 3
            touchpoints=3.0,  # ½ × 1 + ½ × (5 − 1) / 4 = 1
            touch_satisfaction=5.0,
            support_ratio=2.0,  # (3 − 2) / 2 = 0.5
        ),
        DEFAULT_WEIGHTS,
    )

    assert points_of(scored) == pytest.approx(
        {
            "nps": 11.25,
            "csat": 7.5,
            "purchase_recency": 13.0,
            "spend_trend": 15.0,
            "credit_grade": 7.5,
            "days_beyond_terms": 8.0,
            "open_issues": 10 * 2 / 3,
            "engagement": 5.0,
            "support_load": 2.5,
        }
    )
    assert scored.factor_names == list(maths.FACTORS)
    assert scored.score.tolist() == [76]  # 76.4167 rounded
    assert scored.band.tolist() == ["green"]
    assert scored.values[0].tolist() == [50.0, 4.0, 2.0, 0.2, 2.0, 6.0, 1.0, 3.0, 2.0]


def test_the_ends_of_each_scale() -> None:
    worst = maths.score_health(
        inputs(
            nps=-100.0,
            csat=1.0,
            missed_purchases=5.0,
            p_alive=0.0,
            spend_change=-0.8,
            credit_grade=5.0,
            days_beyond_terms=45.0,
            open_issues=4.0,
            touchpoints=0.0,
            support_ratio=3.5,
        ),
        DEFAULT_WEIGHTS,
    )
    best = maths.score_health(
        inputs(
            nps=100.0,
            csat=5.0,
            missed_purchases=0.4,
            p_alive=1.0,
            spend_change=1.5,
            credit_grade=1.0,
            days_beyond_terms=0.0,
            open_issues=0.0,
            touchpoints=7.0,
            touch_satisfaction=5.0,
            support_ratio=0.5,
        ),
        DEFAULT_WEIGHTS,
    )

    assert worst.score.tolist() == [0]
    assert worst.band.tolist() == ["red"]
    assert best.score.tolist() == [100]


def test_an_unknown_factor_scores_half_its_weight() -> None:
    scored = maths.score_health(inputs(), DEFAULT_WEIGHTS)

    # Open issues and support load are counts (0 here: full); the rest is unknown: half.
    assert points_of(scored) == pytest.approx(
        {
            "nps": 7.5,
            "csat": 5.0,
            "purchase_recency": 10.0,
            "spend_trend": 7.5,
            "credit_grade": 5.0,
            "days_beyond_terms": 5.0,
            "open_issues": 10.0,
            "engagement": 2.5,
            "support_load": 5.0,
        }
    )
    assert scored.score.tolist() == [58]  # 57.5, rounded half to even
    assert np.isnan(scored.values[0][0])


def test_engagement_without_a_touchpoint_scores_nothing_and_unrated_ones_are_neutral() -> None:
    none = maths.score_health(inputs(touchpoints=0.0), {"engagement": 1})
    one_unrated = maths.score_health(inputs(touchpoints=1.0), {"engagement": 1})

    assert points_of(none) == {"engagement": 0.0}
    # ½ × 1/3 + ½ × 0.5, of 100 points
    assert points_of(one_unrated)["engagement"] == pytest.approx(100 * (1 / 6 + 0.25))


def test_weights_are_rescaled_to_100_and_a_zero_weight_leaves_a_factor_out() -> None:
    scored = maths.score_health(
        inputs(nps=100.0, csat=1.0), {"nps": 3.0, "csat": 1.0, "engagement": 0.0}
    )

    assert scored.factor_names == ["nps", "csat"]
    assert points_of(scored) == {"nps": 75.0, "csat": 0.0}
    assert scored.score.tolist() == [75]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"nps": 1.0, "loyalty": 2.0}, "unknown health factor loyalty"),
        ({"nps": -1.0}, "cannot be negative: nps"),
        ({"nps": 0.0}, "at least one health factor"),
    ],
)
def test_bad_weights_are_refused_with_a_clear_error(
    weights: dict[str, float], message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message) as raised:
        health.checked_weights(weights)

    assert raised.value.details == {"field": "loyalty_health_weights"}


def test_bands_cut_at_70_and_40() -> None:
    bands = maths.band_of(np.asarray([100, 70, 69, 40, 39, 0]))

    assert bands.tolist() == ["green", "green", "yellow", "yellow", "red", "red"]
    assert (health.GREEN_FROM, health.YELLOW_FROM) == (70, 40)


def test_compute_health_reads_every_input_as_of_the_day(session: Session) -> None:
    # Given an established account with history in every input …
    a = make_customer(session, code="H-A", created_on=date(2024, 1, 1))
    make_order(session, customer=a, on=date(2025, 3, 1), amount="1000.00")  # the year before
    make_order(session, customer=a, on=date(2025, 9, 1), amount="600.00")
    make_order(session, customer=a, on=date(2026, 5, 31), amount="600.00")
    make_order(session, customer=a, on=date(2026, 7, 2), amount="9000.00")  # after the day
    boss = make_stakeholder(session, customer=a, name="Boss", role=BuyingRole.DECISION_MAKER)
    user = make_stakeholder(session, customer=a, name="User", role=BuyingRole.USER)
    old = make_stakeholder(session, customer=a, name="Old", role=BuyingRole.FINANCE)
    nps = SurveyKind.NPS
    make_answer(session, customer=a, kind=nps, score=2, on=date(2026, 1, 1), contact=boss)
    make_answer(
        session,
        customer=a,
        kind=nps,
        score=10,
        on=date(2026, 3, 1),
        contact=boss,
        role=BuyingRole.DECISION_MAKER.value,
    )
    make_answer(session, customer=a, kind=nps, score=5, on=date(2026, 2, 1), contact=user)
    make_answer(session, customer=a, kind=nps, score=0, on=date(2025, 5, 1), contact=old)
    make_answer(session, customer=a, kind=nps, score=0, on=date(2026, 7, 1), contact=user)
    csat = SurveyKind.CSAT
    for score, on in ((4, date(2026, 1, 10)), (5, date(2026, 6, 30)), (1, date(2025, 6, 1))):
        make_answer(session, customer=a, kind=csat, score=score, on=on)
    make_credit_score(session, customer=a, as_of=date(2026, 6, 29), grade="B", days_beyond_terms=6)
    make_credit_score(session, customer=a, as_of=date(2026, 7, 5), grade="E", days_beyond_terms=90)
    make_loop(session, customer=a, opened=date(2026, 6, 1))
    make_loop(session, customer=a, opened=date(2026, 6, 20), closed=date(2026, 7, 2))
    make_loop(session, customer=a, opened=date(2026, 5, 1), closed=date(2026, 6, 15))
    make_dispute(session, customer=a, opened=date(2026, 5, 1), resolved=date(2026, 6, 20))
    make_dispute(session, customer=a, opened=date(2026, 7, 1))
    tp = TouchpointKind
    make_touchpoint(session, customer=a, kind=tp.CALL, on=date(2026, 6, 1), satisfaction=4)
    make_touchpoint(session, customer=a, kind=tp.VISIT, on=date(2026, 4, 2))
    make_touchpoint(session, customer=a, kind=tp.SUPPORT, on=date(2026, 6, 5), satisfaction=2)
    make_touchpoint(session, customer=a, kind=tp.CALL, on=date(2026, 4, 1), satisfaction=1)
    # … a new account with nothing yet, and an old one with no contact but support calls.
    b = make_customer(session, code="H-B", created_on=date(2026, 5, 1))
    c = make_customer(session, code="H-C", created_on=date(2024, 1, 1))
    for on in (date(2026, 5, 1), date(2026, 5, 2), date(2026, 6, 1)):
        make_touchpoint(session, customer=c, kind=tp.SUPPORT, on=on)
    for month in range(3, 12):  # eight in the year before the 90 days, one before that
        make_touchpoint(session, customer=c, kind=tp.SUPPORT, on=date(2025, month, 10))
    frame = read_frame(session, as_of=AS_OF)
    clv = clv_for(frame, p_alive={a.id: 0.8}, expected_rate={a.id: 1 / 30})

    # When
    scores = health.compute_health(session, frame=frame, clv=clv, settings=Settings())

    # Then
    ra, rb, rc = frame.rows_of(np.asarray([a.id, b.id, c.id])).tolist()
    explained = {f: (v, p) for f, v, p in scores.explanation(ra)}
    assert explained == {
        "nps": (50.0, 11.25),  # 100 × (3 − 1) / (3 + 1): the boss's latest answer counts
        "csat": (4.5, 8.75),
        "purchase_recency": (1.0, 18.0),  # 30 days × 1/30 a day; ½ + ½ × 0.8
        "spend_trend": (0.2, 15.0),  # 1200 against 1000
        "credit_grade": (2.0, 7.5),  # B, the score of 29 June (not 5 July's E)
        "days_beyond_terms": (6.0, 8.0),
        "open_issues": (2.0, 3.33),  # the open follow-up and the one closed after the day
        "engagement": (2.0, 2.92),  # ½ × 2/3 + ½ × (mean 3 − 1) / 4
        "support_load": (1.0, 5.0),  # 1 against a normal of at least 1
    }
    assert scores.score[ra] == 80  # 79.75
    assert scores.band[ra] == HealthBand.GREEN

    new = {f: v for f, v, _p in scores.explanation(rb)}
    assert new == {
        "nps": None,
        "csat": None,
        "purchase_recency": None,
        "spend_trend": None,
        "credit_grade": None,
        "days_beyond_terms": None,
        "open_issues": 0.0,
        "engagement": None,  # younger than 90 days: unknown, not disengaged
        "support_load": 0.0,
    }
    assert scores.score[rb] == 58
    assert scores.band[rb] == HealthBand.YELLOW

    quiet = {f: (v, p) for f, v, p in scores.explanation(rc)}
    assert quiet["engagement"] == (0.0, 0.0)
    normal = 8 * 90 / 365
    assert quiet["support_load"] == (round(3 / normal, 4), round(5 * (3 - 3 / normal) / 2, 2))
    assert set(scores.seconds) >= {"nps", "csat", "credit", "open_issues", "touchpoints", "read"}


def test_factors_weighing_nothing_are_not_read(session: Session) -> None:
    a = make_customer(session, code="H-W")
    make_touchpoint(session, customer=a, kind=TouchpointKind.CALL, on=date(2026, 6, 1))
    frame = read_frame(session, as_of=AS_OF)
    settings = Settings(loyalty_health_weights={"engagement": 1.0, "open_issues": 1.0})

    scores = health.compute_health(session, frame=frame, clv=clv_for(frame), settings=settings)

    assert scores.factor_names == ["open_issues", "engagement"]
    assert set(scores.seconds) == {"open_issues", "touchpoints", "read", "score"}
    row = int(frame.rows_of(np.asarray([a.id]))[0])
    # open issues: 50; engagement ½ × 1/3 + ½ × 0.5 of 50
    assert scores.score[row] == round(50 + 50 * (1 / 6 + 0.25))


def test_an_account_missing_from_the_latest_credit_snapshot_keeps_its_older_score(
    session: Session,
) -> None:
    everyday = make_customer(session, code="H-CR1", created_on=date(2025, 1, 1))
    skipped = make_customer(session, code="H-CR2", created_on=date(2025, 1, 1))
    make_credit_score(session, customer=everyday, as_of=date(2026, 6, 29), grade="A")
    make_credit_score(
        session, customer=skipped, as_of=date(2026, 6, 1), grade="D", days_beyond_terms=None
    )
    make_credit_score(session, customer=skipped, as_of=date(2026, 5, 1), grade="E")
    frame = read_frame(session, as_of=AS_OF)

    grade, days_beyond = health.read_credit(frame, session)

    rows = frame.rows_of(np.asarray([everyday.id, skipped.id]))
    assert grade[rows].tolist() == [1.0, 4.0]
    assert days_beyond[rows[0]] == 6.0
    assert np.isnan(days_beyond[rows[1]])  # the factor was stored without a value
