"""AUC, KS, Gini and PSI on examples worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flywheel.analytics.classification import (
    auc,
    gini,
    ks,
    population_stability_index,
    psi_from_shares,
    quantile_edges,
)


def test_auc_counts_the_ordered_pairs() -> None:
    # Events score 0.35 and 0.8, non-events 0.1 and 0.4: of the 4 (event, non-event) pairs,
    # 3 are ordered right (0.35>0.1, 0.8>0.1, 0.8>0.4) and one wrong (0.35<0.4): 3/4.
    y = [0, 0, 1, 1]
    score = [0.1, 0.4, 0.35, 0.8]

    assert auc(y, score) == pytest.approx(0.75)
    assert gini(y, score) == pytest.approx(0.5)


def test_auc_counts_a_tie_as_half_a_pair() -> None:
    # Events 1 and 2, non-events 1 and 0: pairs (1,1)=½, (1,0)=1, (2,1)=1, (2,0)=1 → 3.5/4.
    assert auc([0, 1, 0, 1], [1, 1, 0, 2]) == pytest.approx(0.875)


def test_auc_of_a_points_score_where_higher_is_safer() -> None:
    y = [1, 1, 0, 0]
    points = [500, 520, 610, 640]

    assert auc(y, points, higher_is_event=False) == pytest.approx(1.0)
    assert auc(y, points) == pytest.approx(0.0)
    assert gini(y, points, higher_is_event=False) == pytest.approx(1.0)


def test_ks_is_the_largest_gap_between_cumulative_shares() -> None:
    # Cut from the top: 0.8 (event) → events 1/2, non-events 0 → gap 0.5;
    # 0.4 (non-event) → 1/2 vs 1/2 → 0; 0.35 (event) → 1 vs 1/2 → 0.5; 0.1 → 0.
    assert ks([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.5)


def test_ks_cuts_tied_scores_together() -> None:
    # Every score tied: no threshold separates anything, whatever the row order.
    assert ks([1, 0, 1, 0], [3.0, 3.0, 3.0, 3.0]) == pytest.approx(0.0)
    # Scores 1,2,3,4 with events at 3 and 4: a perfect split, KS 1.
    assert ks([0, 0, 1, 1], [1, 2, 3, 4]) == pytest.approx(1.0)


def test_metrics_refuse_a_single_class_and_bad_labels() -> None:
    with pytest.raises(ValueError, match="both classes"):
        auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="only 0 and 1"):
        ks([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="same length"):
        auc([0, 1], [0.1])


def test_psi_from_shares_by_hand() -> None:
    # (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5
    expected = 0.25 * math.log(2.0) + 0.25 * math.log(1.5)

    assert psi_from_shares([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert psi_from_shares([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == pytest.approx(0.0)


def test_psi_on_values_uses_the_quantile_bins_of_the_expected_sample() -> None:
    expected = np.arange(1, 11, dtype=float)  # 1..10
    actual = np.array([1.0, 2.0, 3.0, 4.0, 9.0, 10.0, 10.0, 10.0])
    # Two bins cut at the median of 1..10 (5.5): expected 5/5, actual 4/8 and 4/8 → PSI 0.
    assert quantile_edges(expected, bins=2).tolist() == [5.5]
    assert population_stability_index(expected, actual, bins=2) == pytest.approx(0.0)
    # All of actual in the upper bin: the empty lower bin counts as 0.0001.
    shifted = np.array([8.0, 9.0, 10.0])
    by_hand = (1e-4 - 0.5) * math.log(1e-4 / 0.5) + (1.0 - 0.5) * math.log(1.0 / 0.5)
    assert population_stability_index(expected, shifted, bins=2) == pytest.approx(by_hand)


def test_psi_with_given_edges_puts_a_cut_value_in_the_upper_bin() -> None:
    # Edges [10]: expected [5, 10, 15, 20] → 1 below, 3 at or above; actual [5, 6] → 2 below.
    by_hand = (1.0 - 0.25) * math.log(1.0 / 0.25) + (1e-4 - 0.75) * math.log(1e-4 / 0.75)

    psi = population_stability_index([5, 10, 15, 20], [5, 6], edges=[10.0])

    assert psi == pytest.approx(by_hand)
