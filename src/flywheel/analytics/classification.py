"""Quality of a binary classifier or score: AUC, KS, Gini and the population stability index.

Plain numpy on 1-d arrays, no I/O. ``y_true`` holds 0/1 with 1 = the event (default, late
payment); ``score`` is anything ordered so that a higher value means *more* likely to be an event,
unless the caller says ``higher_is_event=False`` (credit points: higher = safer).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "auc",
    "gini",
    "ks",
    "population_stability_index",
    "psi_from_shares",
    "quantile_edges",
]

ArrayLike = npt.ArrayLike
Float64Array = npt.NDArray[np.float64]

# Share used in place of an empty bin, so that PSI stays finite (a common convention).
PSI_EMPTY_SHARE = 1e-4


def _checked(y_true: ArrayLike, score: ArrayLike) -> tuple[npt.NDArray[np.bool_], Float64Array]:
    labels = np.asarray(y_true)
    values = np.asarray(score, dtype=np.float64)
    if labels.ndim != 1 or values.ndim != 1 or len(labels) != len(values):
        raise ValueError("y_true and score must be 1-d arrays of the same length")
    if len(labels) and not np.isin(labels, (0, 1)).all():
        raise ValueError("y_true must hold only 0 and 1")
    if np.isnan(values).any():
        raise ValueError("score holds NaN")
    events = labels.astype(bool)
    if events.all() or not events.any():
        raise ValueError("y_true must hold both classes (0 and 1) to measure discrimination")
    return events, values


def auc(y_true: ArrayLike, score: ArrayLike, *, higher_is_event: bool = True) -> float:
    """Area under the ROC curve: the probability that a random event scores above a random
    non-event, ties counted as one half (the Mann–Whitney statistic)."""
    events, values = _checked(y_true, score)
    if not higher_is_event:
        values = -values
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # Average ranks of tied values (1-based).
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    counts = np.diff(np.r_[first, len(values)])
    mean_rank = first + (counts + 1) / 2.0
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = mean_rank[group]
    n_event = int(events.sum())
    n_nonevent = len(values) - n_event
    rank_sum = float(ranks[events].sum())
    return (rank_sum - n_event * (n_event + 1) / 2.0) / (n_event * n_nonevent)


def gini(y_true: ArrayLike, score: ArrayLike, *, higher_is_event: bool = True) -> float:
    """Gini coefficient (accuracy ratio) = 2·AUC − 1."""
    return 2.0 * auc(y_true, score, higher_is_event=higher_is_event) - 1.0


def ks(y_true: ArrayLike, score: ArrayLike, *, higher_is_event: bool = True) -> float:
    """Kolmogorov–Smirnov statistic: the largest gap between the cumulative share of events
    and of non-events when cutting the score at any threshold (tied scores are cut together)."""
    events, values = _checked(y_true, score)
    if not higher_is_event:
        values = -values
    order = np.argsort(-values, kind="mergesort")
    sorted_values = values[order]
    sorted_events = events[order]
    cum_event = np.cumsum(sorted_events) / sorted_events.sum()
    cum_nonevent = np.cumsum(~sorted_events) / (~sorted_events).sum()
    # Only the last position of each run of equal scores is a real threshold.
    last_of_tie = np.r_[sorted_values[1:] != sorted_values[:-1], True]
    return float(np.max(np.abs(cum_event - cum_nonevent)[last_of_tie]))


def quantile_edges(expected: ArrayLike, bins: int = 10) -> Float64Array:
    """Inner cut points at the quantiles of ``expected`` (duplicates dropped), for PSI bins."""
    values = np.asarray(expected, dtype=np.float64)
    values = values[~np.isnan(values)]
    if bins < 2:
        raise ValueError("bins must be at least 2")
    if not len(values):
        raise ValueError("expected holds no values")
    inner = np.quantile(values, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return np.unique(inner)


def psi_from_shares(expected_share: ArrayLike, actual_share: ArrayLike) -> float:
    """PSI = Σ (actual − expected) · ln(actual / expected) over bins given as shares.

    An empty bin counts as ``PSI_EMPTY_SHARE`` so that the index stays finite. Rules of thumb:
    below 0.1 stable, 0.1–0.25 some shift, above 0.25 a population that has moved.
    """
    expected = np.asarray(expected_share, dtype=np.float64)
    actual = np.asarray(actual_share, dtype=np.float64)
    if expected.shape != actual.shape or expected.ndim != 1:
        raise ValueError("expected and actual shares must be 1-d arrays of the same length")
    expected = np.where(expected > 0, expected, PSI_EMPTY_SHARE)
    actual = np.where(actual > 0, actual, PSI_EMPTY_SHARE)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def population_stability_index(
    expected: ArrayLike,
    actual: ArrayLike,
    *,
    bins: int = 10,
    edges: Sequence[float] | Float64Array | None = None,
) -> float:
    """How far the distribution of ``actual`` moved from that of ``expected`` (e.g. scores of
    the test period vs the training period). Bins are the quantiles of ``expected`` unless
    ``edges`` (inner cut points) are given; a value equal to a cut point goes to the upper bin.
    NaN values are ignored."""
    base = np.asarray(expected, dtype=np.float64)
    new = np.asarray(actual, dtype=np.float64)
    base = base[~np.isnan(base)]
    new = new[~np.isnan(new)]
    if not len(base) or not len(new):
        raise ValueError("both expected and actual must hold values")
    cuts = quantile_edges(base, bins) if edges is None else np.asarray(edges, dtype=np.float64)
    n_bins = len(cuts) + 1
    base_counts = np.bincount(np.searchsorted(cuts, base, side="right"), minlength=n_bins)
    new_counts = np.bincount(np.searchsorted(cuts, new, side="right"), minlength=n_bins)
    return psi_from_shares(base_counts / len(base), new_counts / len(new))
