"""The expert scorecard's maths on hand-worked examples: factors, bands, grades, explanations."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from flywheel.analytics.credit_expert import (
    DEFAULT_SCORECARD,
    NO_DAY,
    CustomerFacts,
    ExpertScorecard,
    FactorPoints,
    InstallmentHistory,
    explanations,
    payment_factors,
    rank_correlation,
    score_customers,
)

EPOCH = date(1970, 1, 1)
AS_OF = (date(2026, 6, 30) - EPOCH).days


def day(value: date) -> int:
    return (value - EPOCH).days


def history(rows: list[tuple[int, date, float, float, date | None]]) -> InstallmentHistory:
    """(customer row, due, amount, open on as_of, settled on)."""
    return InstallmentHistory(
        customer=np.array([r[0] for r in rows], dtype=np.int64),
        due_day=np.array([day(r[1]) for r in rows], dtype=np.int64),
        amount=np.array([r[2] for r in rows]),
        open_amount=np.array([r[3] for r in rows]),
        settled_day=np.array([day(r[4]) if r[4] else NO_DAY for r in rows], dtype=np.int64),
    )


def facts(n: int, *, known: list[date], limit: list[float] | None = None) -> CustomerFacts:
    return CustomerFacts(
        first_known_day=np.array([day(k) for k in known], dtype=np.int64),
        credit_limit=np.array(limit if limit else [math.nan] * n),
        open_disputes=np.full(n, math.nan),
        broken_promises=np.full(n, math.nan),
    )


def test_factors_of_a_customer_that_settled_one_of_two_installments_late() -> None:
    # Given customer 0 settled 100 ten days late (in the last 91 days) and 300 on time
    # (earlier in the year); customer 1 owes 1,000 twenty days past due and 500 not yet due;
    # customer 2 has no history at all.
    h = history(
        [
            (0, date(2026, 5, 1), 100.0, 0.0, date(2026, 5, 11)),
            (0, date(2026, 1, 15), 300.0, 0.0, date(2026, 1, 10)),
            (1, date(2026, 6, 10), 1000.0, 1000.0, None),
            (1, date(2026, 7, 31), 500.0, 500.0, None),
        ]
    )
    f = payment_factors(
        h,
        facts(
            3,
            known=[date(2023, 6, 30), date(2026, 3, 30), date(2026, 6, 30)],
            limit=[math.nan, 3000.0, math.nan],
        ),
        as_of_day=AS_OF,
        n_customers=3,
    )
    # (10 × 100 + 0 × 300) / 400 = 2.5 days; customer 1: 20 days on its overdue 1,000.
    assert f["days_beyond_terms"][0] == pytest.approx(2.5)
    assert f["days_beyond_terms"][1] == pytest.approx(20.0)
    assert math.isnan(f["days_beyond_terms"][2])
    # Recent (last 91 days): 10 days; the 274 days before: 0 → +10.
    assert f["days_beyond_terms_trend"][0] == pytest.approx(10.0)
    assert math.isnan(f["days_beyond_terms_trend"][1])  # nothing settled before
    assert f["late_share"][0] == pytest.approx(0.5)
    assert f["late_share"][1] == pytest.approx(1.0)
    assert f["worst_days_overdue"][0] == 10
    assert f["worst_days_overdue"][1] == 20
    assert math.isnan(f["overdue_share"][0])  # nothing open
    assert f["overdue_share"][1] == pytest.approx(1000 / 1500)
    assert f["limit_utilisation"][1] == pytest.approx(0.5)
    assert math.isnan(f["limit_utilisation"][0])
    assert f["tenure_months"][0] == pytest.approx(1096 / 30.4375)
    assert f["tenure_months"][2] == 0
    assert list(f["history_depth"]) == [2, 0, 0]


def test_settlements_older_than_a_year_count_for_depth_only() -> None:
    h = history([(0, date(2025, 1, 1), 100.0, 0.0, date(2025, 3, 1))])
    f = payment_factors(h, facts(1, known=[date(2024, 1, 1)]), as_of_day=AS_OF, n_customers=1)
    assert math.isnan(f["days_beyond_terms"][0])
    assert math.isnan(f["worst_days_overdue"][0])
    assert f["history_depth"][0] == 1


def test_a_value_on_a_band_bound_takes_that_band_and_missing_takes_missing_points() -> None:
    factor = FactorPoints("days_beyond_terms", ((0, 60), (5, 40), (None, -60)), missing_points=7)
    values = np.array([-3.0, 0.0, 0.5, 5.0, 5.01, 400.0, math.nan])
    assert factor.points(values).tolist() == [60, 60, 40, 40, -60, -60, 7]


def test_bands_must_increase_and_end_unbounded() -> None:
    with pytest.raises(ValueError, match="must increase"):
        FactorPoints("late_share", ((0.5, 1), (0.2, 2), (None, 3)))
    with pytest.raises(ValueError, match="no upper bound"):
        FactorPoints("late_share", ((0.5, 1),))
    with pytest.raises(ValueError, match="unknown factor"):
        FactorPoints("shoe_size", ((None, 1),))


def test_score_is_base_plus_points_and_grades_follow_the_bounds() -> None:
    card = ExpertScorecard(
        base=600,
        factors=(FactorPoints("late_share", ((0.1, 50), (0.5, 0), (None, -100))),),
        grades=(("A", 650), ("B", 600), ("C", -(10**9))),
    )
    scored = score_customers(card, {"late_share": np.array([0.0, 0.3, 0.9, math.nan])})
    assert scored.scores.tolist() == [650, 600, 500, 600]
    assert scored.grades.tolist() == ["A", "B", "C", "B"]
    assert explanations(scored, 2) == [("late_share", 0.9, -100)]
    assert explanations(scored, 3) == [("late_share", None, 0)]


def test_explanations_add_up_to_the_score_largest_effect_first() -> None:
    n = 2
    factors = {name: np.array([0.0, 80.0]) for name in ("days_beyond_terms", "worst_days_overdue")}
    factors |= {
        name: np.full(n, math.nan)
        for name in (
            "days_beyond_terms_trend",
            "late_share",
            "overdue_share",
            "limit_utilisation",
            "tenure_months",
            "open_disputes",
            "broken_promises",
            "history_depth",
        )
    }
    scored = score_customers(DEFAULT_SCORECARD, factors)
    for row in range(n):
        reasons = explanations(scored, row)
        assert DEFAULT_SCORECARD.base + sum(p for _f, _v, p in reasons) == scored.scores[row]
        assert [abs(p) for _f, _v, p in reasons] == sorted(
            (abs(p) for _f, _v, p in reasons), reverse=True
        )
    assert scored.grades.tolist() == ["B", "E"]  # 600+60+20 = 680; 600−60−25 = 515


def test_a_customer_with_no_history_lands_in_the_middle_grade() -> None:
    factors = {name: np.array([math.nan]) for name in (f.factor for f in DEFAULT_SCORECARD.factors)}
    factors["history_depth"] = np.array([0.0])
    factors["tenure_months"] = np.array([0.0])
    scored = score_customers(DEFAULT_SCORECARD, factors)
    assert scored.scores.tolist() == [580]
    assert scored.grades.tolist() == ["C"]


def test_the_card_survives_a_round_trip_through_json_shapes() -> None:
    again = ExpertScorecard.from_dict(DEFAULT_SCORECARD.to_dict())
    assert again == DEFAULT_SCORECARD
    with pytest.raises(ValueError, match="not a valid expert scorecard"):
        ExpertScorecard.from_dict({"base": 600, "grades": [["A", 1]]})


def test_rank_correlation_on_a_hand_worked_example_with_ties() -> None:
    # ranks x: 1, 2.5, 2.5, 4; y: 1, 2, 3, 4 → Pearson of ranks = 0.9486832980505138
    assert rank_correlation([1, 2, 2, 3], [10, 20, 30, 40]) == pytest.approx(0.9486832980505138)
    assert rank_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
