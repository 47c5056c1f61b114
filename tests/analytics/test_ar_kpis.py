"""The receivables KPI definitions, each pinned on a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest

from flywheel.analytics.ar_kpis import (
    AgingBuckets,
    aging_matrix,
    at_risk_by_month,
    average_days_beyond_terms,
    average_days_delinquent,
    best_possible_dso,
    collection_effectiveness_index,
    dso_countback,
    dso_simple,
)

D = np.datetime64


# ---------------------------------------------------------------- aging buckets


def test_default_buckets_are_current_then_1_30_31_60_61_90_91_180_and_over_180() -> None:
    buckets = AgingBuckets()

    assert buckets.keys == ["current", "1-30", "31-60", "61-90", "91-180", "181+"]
    assert buckets.count == 6
    days = [-10, 0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 999]
    assert buckets.bucket_of(days).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_custom_bucket_edges_from_text() -> None:
    buckets = AgingBuckets.parse("15, 45")

    assert buckets.keys == ["current", "1-15", "16-45", "46+"]
    assert buckets.bucket_of([0, 15, 16, 45, 46]).tolist() == [0, 1, 2, 2, 3]


@pytest.mark.parametrize("text", ["", "30,30", "60,30", "0,30", "30,abc", "-5"])
def test_bad_bucket_edges_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bucket edges"):
        AgingBuckets.parse(text)


def test_aging_matrix_sums_cents_per_group_and_bucket() -> None:
    # group 0: 100.00 current, 50.00 in bucket 2; group 1: 30.00 + 20.00 in bucket 1.
    matrix = aging_matrix(
        [0, 0, 1, 1], [0, 2, 1, 1], [10000, 5000, 3000, 2000], groups=2, buckets=3
    )

    assert matrix.tolist() == [[10000, 0, 5000], [0, 5000, 0]]


# ---------------------------------------------------------------- DSO


def test_dso_simple_is_receivables_over_sales_times_days() -> None:
    # AR 150,000 against 270,000 of sales in 90 days: 50 days.
    assert dso_simple(150_000, 270_000, 90) == pytest.approx(50.0)
    assert dso_simple(150_000, 0, 90) is None


def test_dso_countback_on_the_hand_worked_example() -> None:
    # 212,000 − 100,000 (30 days) − 80,000 (30 days) = 32,000; 32,000 / 70,000 × 30 = 13.714.
    result = dso_countback(212_000, [100_000, 80_000, 70_000], [30, 30, 30])

    assert result == pytest.approx(73.714, abs=0.001)


def test_dso_countback_uses_each_period_s_own_days() -> None:
    # 50,000 of AR against 40,000 in a 31-day month, then 20,000 in a 28-day month:
    # 31 + 10,000 / 20,000 × 28 = 45.
    assert dso_countback(50_000, [40_000, 20_000], [31, 28]) == pytest.approx(45.0)


def test_dso_countback_edges() -> None:
    assert dso_countback(0, [10, 10], [30, 30]) == 0.0
    assert dso_countback(100, [0, 0], [30, 30]) is None
    # AR beyond all the history given: the sum of the days, a lower bound.
    assert dso_countback(1_000, [100, 100], [30, 31]) == 61.0
    with pytest.raises(ValueError, match="one number of days per period"):
        dso_countback(1, [1, 2], [30])


def test_best_possible_dso_and_add() -> None:
    # Of AR 150,000, 90,000 is not yet due; sales 270,000 in 90 days: best 30, DSO 50, ADD 20.
    best = best_possible_dso(90_000, 270_000, 90)
    dso = dso_simple(150_000, 270_000, 90)

    assert best == pytest.approx(30.0)
    assert average_days_delinquent(dso, best) == pytest.approx(20.0)
    assert average_days_delinquent(None, best) is None


def test_cei_on_a_hand_worked_example() -> None:
    # Begin 100,000; sales 200,000; end total 120,000 of which 70,000 current:
    # (100 + 200 − 120) / (100 + 200 − 70) × 100 = 180 / 230 × 100 = 78.26 %.
    cei = collection_effectiveness_index(100_000, 200_000, 120_000, 70_000)

    assert cei == pytest.approx(78.2609, abs=0.0001)
    assert collection_effectiveness_index(0, 0, 0, 0) is None
    # Everything collectible was collected: 100 %.
    assert collection_effectiveness_index(50, 100, 30, 30) == pytest.approx(100.0)


# ---------------------------------------------------------------- payment behaviour


def test_average_days_beyond_terms_is_weighted_by_amount_and_early_counts_as_zero() -> None:
    # 1,000 paid 10 days late, 3,000 paid 30 days late, 4,000 paid 5 days early (→ 0):
    # (1,000 × 10 + 3,000 × 30 + 4,000 × 0) / 8,000 = 100,000 / 8,000 = 12.5 days.
    assert average_days_beyond_terms([10, 30, -5], [1_000, 3_000, 4_000]) == pytest.approx(12.5)
    assert average_days_beyond_terms([], []) is None


def test_at_risk_rate_per_invoice_month() -> None:
    # January: 1,000 (due Feb 1, 400 unpaid at +90) and 3,000 (due Mar 2, all paid): 10 %.
    # February: 2,000 due Mar 15, 2,000 unpaid at +90: 100 %.
    issued = np.array(["2026-01-02", "2026-01-31", "2026-02-13"], dtype="datetime64[D]")
    due = np.array(["2026-02-01", "2026-03-02", "2026-03-15"], dtype="datetime64[D]")

    result = at_risk_by_month(issued, due, [1_000, 3_000, 2_000], [400, 0, 2_000])

    assert result.months.astype(str).tolist() == ["2026-01", "2026-02"]
    assert result.rate(0) == pytest.approx(0.10)
    assert result.rate(1) == pytest.approx(1.0)
    # January is final once its last installment (due Mar 2) is 90 days past due: May 31.
    assert result.judged_on.astype(str).tolist() == ["2026-05-31", "2026-06-13"]
    assert result.latest_judged(D("2026-05-30")) is None
    assert result.latest_judged(D("2026-05-31")) == 0
    assert result.latest_judged(D("2026-07-01")) == 1
