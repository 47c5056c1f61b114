"""The customer health score: each factor's raw value turned into a share of its weight, the
points summed to 0–100, and the colour band. Pure: arrays in, arrays out.

Every factor's value becomes a *share* from 0 (as bad as it gets) to 1 (as good as it gets);
its points are ``weight × share``, the weights rescaled to add up to 100. A factor whose value
is unknown (NaN: no survey answer, no purchase, no credit score, …) scores ``NEUTRAL_SHARE``,
the middle of its scale — what a passive NPS of 0, a CSAT of 3 or a credit grade C would score —
so a new account is neither rewarded nor punished for what nobody has measured yet.

The factors (values as stored in the explanation; "shares" as scored):

``nps``
    account NPS, −100 … 100: each stakeholder's latest NPS answer of the last 12 months,
    weighted by buying role. share = (NPS + 100) / 200.
``csat``
    mean CSAT answer of the last 12 months, 1 … 5. share = (mean − 1) / 4.
``purchase_recency``
    expected purchases missed: days since the last purchase × the purchase rate the CLV model
    expects of the account while alive. share = ½ × clip((3 − missed) / 2, 0, 1) + ½ × P(alive):
    up to one expected purchase missed is normal (full half), three or more is none; the other
    half is the model's probability that the account is still alive.
``spend_trend``
    change of spend, last 12 months against the 12 before, as a fraction (0.25: +25 %);
    unknown without spend in the earlier year. share = clip((change + 0.5) / 0.7, 0, 1):
    −50 % or worse scores nothing, +20 % or better all.
``credit_grade``
    the latest credit grade as a number, A = 1 … E = 5. share = (5 − grade) / 4.
``days_beyond_terms``
    average days beyond terms over 12 months (the credit factor). share = clip(1 − days / 30).
``open_issues``
    open feedback follow-ups plus open disputes. share = clip(1 − count / 3): none is full.
``engagement``
    touchpoints other than support in the last 90 days, with the satisfaction logged on any
    touchpoint then. share = 0 without a touchpoint, else ½ × min(count / 3, 1) + ½ × the
    satisfaction share ((mean − 1) / 4, ``NEUTRAL_SHARE`` when none was rated). Unknown (so
    neutral) for an account younger than 90 days that has none yet.
``support_load``
    support touchpoints of the last 90 days over the account's normal: its own 90-day average
    over the year before them, at least 1. share = clip((3 − ratio) / 2, 0, 1): up to normal
    is full, three times normal or more is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

FACTORS: tuple[str, ...] = (
    "nps",
    "csat",
    "purchase_recency",
    "spend_trend",
    "credit_grade",
    "days_beyond_terms",
    "open_issues",
    "engagement",
    "support_load",
)

# The colour bands of the 0–100 score.
GREEN_FROM = 70  # 70–100: healthy
YELLOW_FROM = 40  # 40–69: watch; below: at risk (red)
GREEN, YELLOW, RED = "green", "yellow", "red"

NEUTRAL_SHARE = 0.5  # an unknown factor scores the middle of its scale
TOTAL_POINTS = 100.0

# purchase_recency: expected purchases missed that still score in full, and that score nothing.
MISSED_FULL = 1.0
MISSED_NONE = 3.0
# spend_trend: the change that scores nothing and the one that scores in full.
SPEND_CHANGE_NONE = -0.5
SPEND_CHANGE_FULL = 0.2
# days_beyond_terms: the average delay that scores nothing.
DAYS_BEYOND_TERMS_NONE = 30.0
# open_issues: this many open issues score nothing.
OPEN_ISSUES_NONE = 3.0
# engagement: touchpoints in 90 days that count as fully engaged.
TOUCHPOINTS_FULL = 3.0
# support_load: the ratio to normal that still scores in full, and the one that scores nothing.
SUPPORT_RATIO_FULL = 1.0
SUPPORT_RATIO_NONE = 3.0

# Credit grades as the numbers the explanation stores.
GRADE_NUMBERS: dict[str, int] = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
GRADE_LETTERS: dict[int, str] = {v: k for k, v in GRADE_NUMBERS.items()}


@dataclass(frozen=True, slots=True)
class HealthInputs:
    """Each account's raw measurements (one entry per account; NaN where unknown)."""

    nps: FloatArray  # account NPS −100 … 100
    csat: FloatArray  # mean CSAT answer 1 … 5
    missed_purchases: FloatArray  # days since the last purchase × expected daily rate
    p_alive: FloatArray
    spend_change: FloatArray  # last 12 months / the 12 before − 1
    credit_grade: FloatArray  # 1 (A) … 5 (E)
    days_beyond_terms: FloatArray
    open_issues: FloatArray  # a count; never unknown
    touchpoints: FloatArray  # non-support touchpoints in 90 days; NaN: a new account without
    touch_satisfaction: FloatArray  # mean satisfaction 1 … 5 of the 90 days' touchpoints
    support_ratio: FloatArray  # support touchpoints in 90 days over the account's normal


@dataclass(frozen=True, slots=True)
class ScoredHealth:
    score: IntArray  # 0 … 100
    band: ObjectArray  # "green", "yellow" or "red"
    factor_names: list[str]
    values: FloatArray  # n × factors, NaN where unknown
    points: FloatArray  # n × factors
    shares: FloatArray  # n × factors, 0 … 1 (unknown ones at NEUTRAL_SHARE)


def normalised_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The factors with a positive weight, in ``FACTORS`` order, rescaled to add up to 100.
    Unknown factor names, negative weights and an all-zero set are refused (ValueError)."""
    unknown = sorted(set(weights) - set(FACTORS))
    if unknown:
        raise ValueError(
            f"unknown health factor {', '.join(unknown)}; the factors are {', '.join(FACTORS)}"
        )
    negative = sorted(k for k, v in weights.items() if not float(v) >= 0)
    if negative:
        raise ValueError(f"health weights cannot be negative: {', '.join(negative)}")
    kept = {f: float(weights[f]) for f in FACTORS if float(weights.get(f, 0.0)) > 0}
    total = sum(kept.values())
    if total <= 0:
        raise ValueError("at least one health factor needs a positive weight")
    return {f: w * TOTAL_POINTS / total for f, w in kept.items()}


def _clip01(values: FloatArray) -> FloatArray:
    return np.clip(values, 0.0, 1.0)


def _linear_down(values: FloatArray, full: float, none: float) -> FloatArray:
    """1 up to ``full``, 0 from ``none`` on, a straight line between (NaN stays NaN)."""
    return _clip01((none - values) / (none - full))


def factor_shares(inputs: HealthInputs) -> dict[str, tuple[FloatArray, FloatArray]]:
    """(value, share) of every factor; a share is NaN where the value is unknown."""
    i = inputs
    with np.errstate(invalid="ignore"):
        recency = 0.5 * _linear_down(i.missed_purchases, MISSED_FULL, MISSED_NONE) + 0.5 * (
            _clip01(i.p_alive)
        )
        rated = np.where(
            np.isnan(i.touch_satisfaction), NEUTRAL_SHARE, (i.touch_satisfaction - 1.0) / 4.0
        )
        engaged = np.where(
            i.touchpoints > 0,
            0.5 * np.minimum(i.touchpoints / TOUCHPOINTS_FULL, 1.0) + 0.5 * _clip01(rated),
            0.0,
        )
        engaged = np.where(np.isnan(i.touchpoints), np.nan, engaged)
        return {
            "nps": (i.nps, _clip01((i.nps + 100.0) / 200.0)),
            "csat": (i.csat, _clip01((i.csat - 1.0) / 4.0)),
            "purchase_recency": (i.missed_purchases, recency),
            "spend_trend": (
                i.spend_change,
                _clip01(
                    (i.spend_change - SPEND_CHANGE_NONE) / (SPEND_CHANGE_FULL - SPEND_CHANGE_NONE)
                ),
            ),
            "credit_grade": (i.credit_grade, _clip01((5.0 - i.credit_grade) / 4.0)),
            "days_beyond_terms": (
                i.days_beyond_terms,
                _clip01(1.0 - i.days_beyond_terms / DAYS_BEYOND_TERMS_NONE),
            ),
            "open_issues": (i.open_issues, _clip01(1.0 - i.open_issues / OPEN_ISSUES_NONE)),
            "engagement": (i.touchpoints, engaged),
            "support_load": (
                i.support_ratio,
                _linear_down(i.support_ratio, SUPPORT_RATIO_FULL, SUPPORT_RATIO_NONE),
            ),
        }


def band_of(score: IntArray) -> ObjectArray:
    """ "green" from ``GREEN_FROM``, "yellow" from ``YELLOW_FROM``, else "red"."""
    return np.where(score >= GREEN_FROM, GREEN, np.where(score >= YELLOW_FROM, YELLOW, RED)).astype(
        object
    )


def score_health(inputs: HealthInputs, weights: Mapping[str, float]) -> ScoredHealth:
    """Points per factor (weight × share, unknown shares neutral), the 0–100 score (their sum,
    rounded) and its band, for the factors with a positive weight."""
    scaled = normalised_weights(weights)
    every = factor_shares(inputs)
    names = list(scaled)
    values = np.column_stack([every[f][0] for f in names]).astype(np.float64)
    shares = np.column_stack([every[f][1] for f in names]).astype(np.float64)
    shares = np.where(np.isnan(shares), NEUTRAL_SHARE, shares)
    points = shares * np.asarray([scaled[f] for f in names], dtype=np.float64)
    score = np.clip(np.rint(points.sum(axis=1)), 0, TOTAL_POINTS).astype(np.int64)
    return ScoredHealth(
        score=score,
        band=band_of(score),
        factor_names=names,
        values=values,
        points=points,
        shares=shares,
    )
