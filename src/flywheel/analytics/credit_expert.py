"""The expert credit scorecard: payment-behaviour factors per customer, points per factor, a
score and a grade, with every factor's contribution kept so a grade can be explained.

Pure: arrays in, arrays out. Days are integers (days since 1970-01-01), money is anything
numeric (cents as int64 in the app). Nothing here knows about the database.

Factors (all computed for one ``as_of`` day; "the year" is the 365 days up to it):

``days_beyond_terms``
    average days beyond terms over the year, weighted by amount: installments settled in the
    year count ``max(0, settled − due)``, installments still open and past due count
    ``as_of − due`` on their open amount.
``days_beyond_terms_trend``
    the same average over the last 91 days minus the one over the 274 days before them
    (positive: paying later than before). Missing unless both periods have items.
``late_share``
    share of the year's settled installments, plus those open past due, that were late.
``worst_days_overdue``
    the most days any installment was (or is) past due in the year.
``overdue_share``
    share of today's open balance that is past due.
``limit_utilisation``
    open balance over the credit limit (missing when the customer has none).
``tenure_months``
    months since the customer was first known.
``open_disputes``, ``broken_promises``
    counts supplied by the collections capability (missing until it exists).
``history_depth``
    installments settled in the history the caller passed (the app passes one year).

A missing factor (nothing to measure) scores its ``missing_points``, usually 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

YEAR_DAYS = 365
RECENT_DAYS = 91
DAYS_PER_MONTH = 30.4375

FACTORS: tuple[str, ...] = (
    "days_beyond_terms",
    "days_beyond_terms_trend",
    "late_share",
    "worst_days_overdue",
    "overdue_share",
    "limit_utilisation",
    "tenure_months",
    "open_disputes",
    "broken_promises",
    "history_depth",
)


@dataclass(frozen=True, slots=True)
class InstallmentHistory:
    """The installments a score looks at, one entry per installment.

    ``customer`` is the row of the customer (0 … n_customers − 1); ``settled_day`` is the day
    the installment was settled in full (``NO_DAY`` while open on ``as_of``); ``open_amount``
    is what is open on ``as_of``.
    """

    customer: IntArray
    due_day: IntArray
    amount: FloatArray
    open_amount: FloatArray
    settled_day: IntArray


NO_DAY = np.iinfo(np.int64).max


def day_numbers(days: npt.NDArray[np.datetime64]) -> IntArray:
    """``datetime64`` days → days since 1970-01-01; NaT → ``NO_DAY``."""
    as_int = days.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(days), NO_DAY, as_int).astype(np.int64)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What the ledger does not hold, per customer row; NaN where unknown."""

    first_known_day: IntArray
    credit_limit: FloatArray
    open_disputes: FloatArray
    broken_promises: FloatArray


def _weighted_mean(
    values: FloatArray, weights: FloatArray, rows: IntArray, n: int
) -> tuple[FloatArray, FloatArray]:
    """Per row: (Σ w·v / Σ w, Σ w); NaN where Σ w is 0."""
    total = np.bincount(rows, weights=weights, minlength=n).astype(np.float64)
    weighted = np.bincount(rows, weights=weights * values, minlength=n).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), np.nan)
    return mean.astype(np.float64), total


def payment_factors(
    history: InstallmentHistory, facts: CustomerFacts, *, as_of_day: int, n_customers: int
) -> dict[str, FloatArray]:
    """Every factor of ``FACTORS`` per customer row (NaN: nothing to measure)."""
    n = n_customers
    h = history
    settled = h.settled_day <= as_of_day
    still_open = (h.open_amount > 0) & ~settled
    past_due_open = still_open & (h.due_day < as_of_day)
    in_year = settled & (h.settled_day > as_of_day - YEAR_DAYS)
    recent = settled & (h.settled_day > as_of_day - RECENT_DAYS)
    earlier = in_year & ~recent

    settled_late = np.where(settled, np.maximum(h.settled_day - h.due_day, 0), 0).astype(float)
    open_late = np.where(past_due_open, as_of_day - h.due_day, 0).astype(float)

    def beyond_terms(settled_mask: npt.NDArray[np.bool_], *, with_open: bool) -> FloatArray:
        days = [settled_late[settled_mask]]
        weights = [h.amount[settled_mask]]
        rows = [h.customer[settled_mask]]
        if with_open:
            days.append(open_late[past_due_open])
            weights.append(h.open_amount[past_due_open])
            rows.append(h.customer[past_due_open])
        mean, _total = _weighted_mean(
            np.concatenate(days), np.concatenate(weights), np.concatenate(rows), n
        )
        return mean

    days_beyond_terms = beyond_terms(in_year, with_open=True)
    trend = beyond_terms(recent, with_open=True) - beyond_terms(earlier, with_open=False)

    counted = in_year | past_due_open
    late = (in_year & (settled_late > 0)) | past_due_open
    n_counted = np.bincount(h.customer[counted], minlength=n).astype(float)
    n_late = np.bincount(h.customer[late], minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        late_share = np.where(n_counted > 0, n_late / np.where(n_counted > 0, n_counted, 1), np.nan)

    worst = np.full(n, -1.0)
    np.maximum.at(worst, h.customer[in_year], settled_late[in_year])
    np.maximum.at(worst, h.customer[past_due_open], open_late[past_due_open])
    worst = np.where(worst < 0, np.nan, worst)

    open_total = np.bincount(h.customer[still_open], weights=h.open_amount[still_open], minlength=n)
    overdue_total = np.bincount(
        h.customer[past_due_open], weights=h.open_amount[past_due_open], minlength=n
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        overdue_share = np.where(
            open_total > 0, overdue_total / np.where(open_total > 0, open_total, 1), np.nan
        )
        utilisation = np.where(
            facts.credit_limit > 0,
            open_total / np.where(facts.credit_limit > 0, facts.credit_limit, 1),
            np.nan,
        )
    known = facts.first_known_day.astype(float)
    tenure = np.where(known <= as_of_day, (as_of_day - known) / DAYS_PER_MONTH, np.nan)
    depth = np.bincount(h.customer[settled], minlength=n).astype(float)
    return {
        "days_beyond_terms": days_beyond_terms,
        "days_beyond_terms_trend": trend,
        "late_share": late_share,
        "worst_days_overdue": worst,
        "overdue_share": overdue_share,
        "limit_utilisation": utilisation,
        "tenure_months": tenure,
        "open_disputes": facts.open_disputes.astype(float),
        "broken_promises": facts.broken_promises.astype(float),
        "history_depth": depth,
    }


@dataclass(frozen=True, slots=True)
class FactorPoints:
    """Points of one factor: the first band whose ``upper`` bound the value does not exceed
    (``None``: no bound) gives its points; a missing value gives ``missing_points``."""

    factor: str
    bands: tuple[tuple[float | None, int], ...]
    missing_points: int = 0

    def __post_init__(self) -> None:
        if self.factor not in FACTORS:
            raise ValueError(
                f"unknown factor {self.factor!r}; the factors are {', '.join(FACTORS)}"
            )
        if not self.bands or self.bands[-1][0] is not None:
            raise ValueError(f"{self.factor}: the last band must have no upper bound (null)")
        uppers = [u for u, _ in self.bands[:-1]]
        bounded = [u for u in uppers if u is not None]
        if len(bounded) != len(uppers) or any(b <= a for a, b in itertools.pairwise(bounded)):
            raise ValueError(f"{self.factor}: band upper bounds must increase")

    def points(self, values: FloatArray) -> IntArray:
        uppers = np.array([u for u, _ in self.bands[:-1]], dtype=float)
        points = np.array([p for _, p in self.bands], dtype=np.int64)
        # side="left": a value equal to a bound falls in that bound's band.
        band = np.searchsorted(uppers, np.nan_to_num(values, nan=0.0), side="left")
        return np.where(np.isnan(values), self.missing_points, points[band]).astype(np.int64)


@dataclass(frozen=True, slots=True)
class ExpertScorecard:
    """Base points plus each factor's points; grades by lower score bounds, best first."""

    base: int
    factors: tuple[FactorPoints, ...]
    grades: tuple[tuple[str, int], ...]  # (grade, lowest score), e.g. ("A", 700); last: -inf

    def __post_init__(self) -> None:
        if not self.factors or not self.grades:
            raise ValueError("a scorecard needs at least one factor and one grade")
        bounds = [b for _, b in self.grades]
        if any(b >= a for a, b in itertools.pairwise(bounds)):
            raise ValueError("grade lower bounds must decrease from the best grade to the worst")

    def score(self, factors: Mapping[str, FloatArray]) -> tuple[IntArray, IntArray]:
        """(scores, points per factor: one column per ``self.factors``)."""
        if not self.factors:
            raise ValueError("a scorecard needs at least one factor")
        columns = [f.points(np.asarray(factors[f.factor], dtype=float)) for f in self.factors]
        points = np.column_stack(columns)
        return self.base + points.sum(axis=1), points

    def grade(self, scores: IntArray) -> npt.NDArray[np.str_]:
        names = [g for g, _ in self.grades]
        bounds = np.array([b for _, b in self.grades], dtype=float)
        # Index of the first grade whose lower bound the score reaches; the worst otherwise.
        reached = scores[:, None] >= bounds[None, :]
        first = np.where(reached.any(axis=1), reached.argmax(axis=1), len(names) - 1)
        return np.asarray(names, dtype=str)[first]

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "grades": [list(g) for g in self.grades],
            "factors": [
                {
                    "factor": f.factor,
                    "bands": [list(b) for b in f.bands],
                    "missing_points": f.missing_points,
                }
                for f in self.factors
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpertScorecard:
        try:
            return cls(
                base=int(data["base"]),
                grades=tuple((str(g), int(b)) for g, b in data["grades"]),
                factors=tuple(
                    FactorPoints(
                        factor=str(f["factor"]),
                        bands=tuple(
                            (None if u is None else float(u), int(p)) for u, p in f["bands"]
                        ),
                        missing_points=int(f.get("missing_points", 0)),
                    )
                    for f in data["factors"]
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a valid expert scorecard: {exc}") from exc


def _bands(*pairs: tuple[float | None, int]) -> tuple[tuple[float | None, int], ...]:
    return tuple(pairs)


# The default card. Base 600; a customer with no history at all scores 580 (grade C): new
# accounts start in the middle, neither trusted nor held.
DEFAULT_SCORECARD = ExpertScorecard(
    base=600,
    factors=(
        FactorPoints(
            "days_beyond_terms",
            _bands((0, 60), (5, 40), (15, 15), (30, -10), (60, -35), (None, -60)),
        ),
        FactorPoints("days_beyond_terms_trend", _bands((-5, 10), (5, 0), (15, -10), (None, -20))),
        FactorPoints("late_share", _bands((0.10, 30), (0.25, 10), (0.50, -10), (None, -30))),
        FactorPoints(
            "worst_days_overdue", _bands((0, 20), (30, 5), (60, -10), (90, -25), (None, -50))
        ),
        FactorPoints("overdue_share", _bands((0, 20), (0.20, 5), (0.50, -15), (None, -35))),
        FactorPoints("limit_utilisation", _bands((0.50, 10), (0.80, 0), (1.00, -10), (None, -25))),
        FactorPoints("tenure_months", _bands((6, -10), (12, -5), (36, 0), (None, 15))),
        FactorPoints("open_disputes", _bands((0, 0), (1, -10), (None, -25))),
        FactorPoints("broken_promises", _bands((0, 0), (1, -15), (None, -35))),
        FactorPoints("history_depth", _bands((0, -10), (4, -5), (19, 0), (None, 10))),
    ),
    grades=(("A", 700), ("B", 650), ("C", 580), ("D", 520), ("E", -(10**9))),
)


@dataclass(frozen=True, slots=True)
class ScoredCustomers:
    scores: IntArray
    grades: npt.NDArray[np.str_]
    points: IntArray  # one column per factor of the card
    values: FloatArray  # the factor values, same columns
    factor_names: tuple[str, ...] = field(default=())


def score_customers(card: ExpertScorecard, factors: Mapping[str, FloatArray]) -> ScoredCustomers:
    scores, points = card.score(factors)
    names = tuple(f.factor for f in card.factors)
    values = np.column_stack([np.asarray(factors[name], dtype=float) for name in names])
    return ScoredCustomers(scores, card.grade(scores), points, values, names)


def explanations(scored: ScoredCustomers, row: int) -> list[tuple[str, float | None, int]]:
    """(factor, value or None, points) of one customer, largest effect first."""
    found = [
        (name, None if np.isnan(v) else float(v), int(p))
        for name, v, p in zip(
            scored.factor_names, scored.values[row], scored.points[row], strict=True
        )
    ]
    return sorted(found, key=lambda item: -abs(item[2]))


def rank_correlation(a: Sequence[float] | FloatArray, b: Sequence[float] | FloatArray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size != y.size or x.size < 2:
        raise ValueError("rank correlation needs two arrays of the same length, at least 2")

    def ranks(v: FloatArray) -> FloatArray:
        order = np.argsort(v, kind="mergesort")
        sorted_v = v[order]
        r = np.empty(v.size)
        # Average rank over runs of equal values.
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_v)) + 1]
        ends = np.r_[starts[1:], v.size]
        avg = (starts + ends - 1) / 2.0
        r[order] = np.repeat(avg, ends - starts)
        return r

    rx, ry = ranks(x), ranks(y)
    return float(np.corrcoef(rx, ry)[0, 1])
