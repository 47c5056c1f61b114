"""RFM: recency, frequency and monetary quintile scores of buying accounts, and the named
segment each (R, F, M) falls into.

Arrays in, arrays out; one row per account. The caller decides the windows (see
``loyalty.segments``: frequency over the last 24 months, monetary over the last 12).

Quintile scores (1 worst … 5 best) are given only among the accounts that bought; an account
that never bought scores 0 on all three. An account's score comes from its mid-rank among the
scored accounts: with ``below`` accounts strictly worse and ``tied`` accounts equal (itself
included), its percentile is p = (below + tied / 2) / n and its score ⌈5 p⌉. Tied accounts
therefore always share a score, a lone buyer scores 3, and n distinct values split into five
groups as equal as n allows (10 accounts: two per score).

Segments read R against FM = ⌈(F + M) / 2⌉, the mean of frequency and monetary rounded up:

======  ===============  ===============  ===============  ===============  ===============
R \\ FM  1                2                3                4                5
======  ===============  ===============  ===============  ===============  ===============
5       promising        promising        loyal            champions        champions
4       promising        promising        loyal            champions        champions
3       needs_attention  needs_attention  needs_attention  loyal            loyal
2       hibernating      hibernating      at_risk          at_risk          at_risk
1       lost             lost             at_risk          at_risk          at_risk
======  ===============  ===============  ===============  ===============  ===============

* champions: bought lately, often and for much;
* loyal: good buyers, recent enough (a top buyer whose last order is middling stays loyal);
* promising: bought lately but not yet often or for much (new accounts land here);
* needs_attention: middling on every count, sliding if nobody calls;
* at_risk: used to buy often or for much, but not lately;
* hibernating: little and not lately;
* lost: little, and longest ago;
* no_purchase: no order yet (scores 0).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

CHAMPIONS = "champions"
LOYAL = "loyal"
PROMISING = "promising"
NEEDS_ATTENTION = "needs_attention"
AT_RISK = "at_risk"
HIBERNATING = "hibernating"
LOST = "lost"
NO_PURCHASE = "no_purchase"

# Best first: the order pages and tables list them in.
SEGMENTS: tuple[str, ...] = (
    CHAMPIONS,
    LOYAL,
    PROMISING,
    NEEDS_ATTENTION,
    AT_RISK,
    HIBERNATING,
    LOST,
    NO_PURCHASE,
)

_P, _L, _C, _N = PROMISING, LOYAL, CHAMPIONS, NEEDS_ATTENTION
_A, _H, _X = AT_RISK, HIBERNATING, LOST
# GRID[r - 1][fm - 1]; the module docstring draws it with R = 5 on top.
GRID: tuple[tuple[str, ...], ...] = (
    (_X, _X, _A, _A, _A),  # R 1
    (_H, _H, _A, _A, _A),  # R 2
    (_N, _N, _N, _L, _L),  # R 3
    (_P, _P, _L, _C, _C),  # R 4
    (_P, _P, _L, _C, _C),  # R 5
)
_GRID = np.array([[NO_PURCHASE] * 6] + [[NO_PURCHASE, *row] for row in GRID], dtype=object)


def quintile_scores(values: npt.ArrayLike, scored: npt.ArrayLike) -> IntArray:
    """Scores 1–5 of ``values`` (higher is better) among the rows where ``scored`` holds; 0
    elsewhere. Exact on integers (no float in the rank), so hand-counted cases hold."""
    vals = np.asarray(values)
    mask = np.asarray(scored, dtype=bool)
    if vals.shape != mask.shape:
        raise ValueError("values and scored must have the same length")
    scores = np.zeros(vals.shape, dtype=np.int64)
    n = int(mask.sum())
    if n == 0:
        return scores
    picked = vals[mask]
    ordered = np.sort(picked)
    below = np.searchsorted(ordered, picked, side="left").astype(np.int64)
    tied = np.searchsorted(ordered, picked, side="right").astype(np.int64) - below
    # ⌈5 (below + tied / 2) / n⌉ = ⌈5 (2 below + tied) / 2n⌉, in integers.
    numerator = 5 * (2 * below + tied)
    denominator = 2 * n
    scores[mask] = np.clip(-(-numerator // denominator), 1, 5)
    return scores


def fm_score(frequency_score: npt.ArrayLike, monetary_score: npt.ArrayLike) -> IntArray:
    """FM = ⌈(F + M) / 2⌉ (0 where both are 0)."""
    f = np.asarray(frequency_score, dtype=np.int64)
    m = np.asarray(monetary_score, dtype=np.int64)
    return (f + m + 1) // 2


def segments_of(
    recency_score: npt.ArrayLike, frequency_score: npt.ArrayLike, monetary_score: npt.ArrayLike
) -> ObjectArray:
    """The named segment of each (R, F, M) by the grid above; ``no_purchase`` where R is 0."""
    r = np.asarray(recency_score, dtype=np.int64)
    fm = fm_score(frequency_score, monetary_score)
    if r.size and (r.min() < 0 or r.max() > 5 or fm.min() < 0 or fm.max() > 5):
        raise ValueError("RFM scores run from 0 to 5")
    # A buyer always has R ≥ 1; F and M may be 0 only together with R (no purchase at all).
    fm = np.where(r > 0, np.maximum(fm, 1), 0)
    segments: ObjectArray = _GRID[r, fm]
    return segments


def rfm_scores(
    *,
    bought: npt.ArrayLike,
    recency_days: npt.ArrayLike,
    frequency: npt.ArrayLike,
    monetary: npt.ArrayLike,
    monetary_group: npt.ArrayLike | None = None,
) -> tuple[IntArray, IntArray, IntArray, ObjectArray]:
    """(R, F, M, segment) of every row.

    ``recency_days``: days since the last purchase (fewer is better); ``frequency``: purchases
    in the frequency window; ``monetary``: spend in the monetary window. Only rows where
    ``bought`` holds are scored. ``monetary_group`` (e.g. the currency) ranks spend only
    against spend of the same group, since amounts in different currencies do not compare.
    """
    buyers = np.asarray(bought, dtype=bool)
    recency = np.asarray(recency_days, dtype=np.int64)
    r = quintile_scores(-recency, buyers)
    f = quintile_scores(np.asarray(frequency, dtype=np.int64), buyers)
    spend = np.asarray(monetary)
    if monetary_group is None:
        m = quintile_scores(spend, buyers)
    else:
        groups = np.asarray(monetary_group, dtype=object)
        m = np.zeros(len(buyers), dtype=np.int64)
        for group in set(groups[buyers].tolist()):
            inside = buyers & (groups == group)
            m[inside] = quintile_scores(spend[inside], np.ones(int(inside.sum()), dtype=bool))
    return r, f, m, segments_of(r, f, m)
