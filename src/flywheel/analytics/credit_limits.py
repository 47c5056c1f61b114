"""Recommended credit limits: what a customer buys in the time it takes to pay, scaled by its
credit grade and rounded to a figure a person would write down.

    limit = monthly invoiced × (terms days / 30 + 1) × grade multiplier, rounded up

The "+ 1" month covers what is ordered while the previous invoice is still within terms. Grade E
gets 0 (cash in advance, new orders held).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    multipliers: Mapping[str, float] = field(
        default_factory=lambda: {"A": 1.5, "B": 1.2, "C": 1.0, "D": 0.6, "E": 0.0}
    )
    # (below this limit, round up to a multiple of this step); the last applies above all.
    rounding: Sequence[tuple[float, float]] = (
        (100_000.0, 1_000.0),
        (1_000_000.0, 10_000.0),
        (float("inf"), 100_000.0),
    )
    # A proposal is made when the recommendation moves this far from the current limit.
    review_threshold: float = 0.20


def round_up(raw: FloatArray, policy: LimitPolicy) -> FloatArray:
    """Each value rounded up to the step of its size band (0 stays 0)."""
    bounds = np.array([b for b, _ in policy.rounding])
    steps = np.array([s for _, s in policy.rounding])
    step = steps[np.minimum(np.searchsorted(bounds, raw, side="left"), len(steps) - 1)]
    rounded: FloatArray = np.ceil(np.round(raw / step, 9)) * step
    return rounded


def recommended_limits(
    monthly_invoiced: FloatArray,
    terms_days: FloatArray,
    grades: Sequence[str] | npt.NDArray[np.str_],
    policy: LimitPolicy | None = None,
) -> FloatArray:
    """One recommended limit per customer (in its currency)."""
    policy = policy or LimitPolicy()
    multiplier = np.array([policy.multipliers.get(str(g), 0.0) for g in grades], dtype=float)
    raw = np.maximum(monthly_invoiced, 0.0) * (np.maximum(terms_days, 0.0) / 30.0 + 1.0)
    return round_up(raw * multiplier, policy)


def needs_review(
    recommended: FloatArray, current: FloatArray, policy: LimitPolicy | None = None
) -> npt.NDArray[np.bool_]:
    """Whether to propose: no current limit (NaN) and a recommendation above 0, or a
    recommendation that moved more than the policy's threshold from the current limit."""
    policy = policy or LimitPolicy()
    no_limit = np.isnan(current)
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = np.abs(recommended - current) > policy.review_threshold * np.abs(current)
    zero_both = (current == 0) & (recommended == 0)
    return np.where(no_limit, recommended > 0, moved & ~zero_both)
