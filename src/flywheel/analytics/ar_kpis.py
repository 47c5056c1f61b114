"""The receivables KPIs, defined once: aging buckets, DSO (simple, countback), best possible DSO,
ADD, CEI, at-risk rate and average days beyond terms.

Pure: numbers and numpy arrays in, numbers and arrays out; no session, no clock. Amounts may be
in any unit (currency units or cents) as long as one call uses one unit. A ratio whose
denominator is zero is undefined and comes back as ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DEFAULT_BUCKET_EDGES: tuple[int, ...] = (30, 60, 90, 180)
AT_RISK_DAYS = 90


# ---------------------------------------------------------------- aging buckets


@dataclass(frozen=True, slots=True)
class AgingBuckets:
    """Current (not yet due) plus overdue buckets ending at ``edges`` days past due.

    ``edges=(30, 60, 90, 180)`` gives six buckets: current, 1–30, 31–60, 61–90, 91–180, >180.
    Days past due = as-of date − due date; an item due on the as-of date is still current.
    """

    edges: tuple[int, ...] = DEFAULT_BUCKET_EDGES

    def __post_init__(self) -> None:
        edges = self.edges
        if not edges:
            raise ValueError("bucket edges: give at least one, e.g. 30,60,90,180")
        if any(int(e) != e or e < 1 for e in edges):
            raise ValueError(f"bucket edges are whole days of at least 1, got {list(edges)}")
        if any(b <= a for a, b in pairwise(edges)):
            raise ValueError(f"bucket edges must increase, got {list(edges)}")

    @classmethod
    def parse(cls, text: str) -> AgingBuckets:
        """``"30,60,90,180"`` → buckets; ValueError naming the bad part."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            edges = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(
                f"bucket edges are whole numbers of days separated by commas, got {text!r}"
            ) from None
        return cls(edges)

    @property
    def count(self) -> int:
        return len(self.edges) + 2

    @property
    def keys(self) -> list[str]:
        """Stable keys: ``current``, ``1-30``, ``31-60`` … ``181+``."""
        keys = ["current"]
        low = 1
        for edge in self.edges:
            keys.append(f"{low}-{edge}")
            low = edge + 1
        keys.append(f"{low}+")
        return keys

    def bucket_of(self, days_past_due: npt.ArrayLike) -> IntArray:
        """Bucket index of each item: 0 current (≤ 0 days past due), 1 … ``count - 1``."""
        bounds = np.asarray((0, *self.edges), dtype=np.int64)
        days = np.asarray(days_past_due, dtype=np.int64)
        return np.searchsorted(bounds, days, side="left").astype(np.int64)

    def contains(self, bucket: int, days_past_due: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        inside: npt.NDArray[np.bool_] = self.bucket_of(days_past_due) == bucket
        return inside


def aging_matrix(
    group: npt.ArrayLike, bucket: npt.ArrayLike, amount: npt.ArrayLike, *, groups: int, buckets: int
) -> IntArray:
    """Sum of ``amount`` (integer cents) per group (rows) and bucket (columns), exactly."""
    g = np.asarray(group, dtype=np.int64)
    b = np.asarray(bucket, dtype=np.int64)
    a = np.asarray(amount, dtype=np.int64)
    out = np.zeros(groups * buckets, dtype=np.int64)
    np.add.at(out, g * buckets + b, a)
    return out.reshape(groups, buckets)


# ---------------------------------------------------------------- DSO family


def dso_simple(receivables: float, sales: float, days: float) -> float | None:
    """Days sales outstanding, simple method: AR at the end of the period ÷ credit sales of
    the period × days in the period."""
    if sales <= 0:
        return None
    return receivables / sales * days


def dso_countback(
    receivables: float, sales_recent_first: Sequence[float], days_recent_first: Sequence[float]
) -> float | None:
    """Days sales outstanding, countback method: walk back through the periods (most recent
    first), taking each period's whole days while AR covers its sales, then the fraction of the
    last period AR reaches. AR 212,000 with monthly sales 100,000 / 80,000 / 70,000 of 30 days:
    30 + 30 + 32,000 / 70,000 × 30 = 73.7 days.

    When AR exceeds the sales of every period given the answer is the sum of their days, a
    lower bound (give more history). None when there are no sales at all.
    """
    if len(sales_recent_first) != len(days_recent_first):
        raise ValueError("one number of days per period of sales")
    if receivables <= 0:
        return 0.0
    if not any(s > 0 for s in sales_recent_first):
        return None
    left = receivables
    total = 0.0
    for sales, days in zip(sales_recent_first, days_recent_first, strict=True):
        if sales <= 0:
            total += days
            continue
        if left <= sales:
            return total + left / sales * days
        left -= sales
        total += days
    return total


def best_possible_dso(current_receivables: float, sales: float, days: float) -> float | None:
    """Best possible DSO: the part of AR that is not yet due ÷ credit sales × days, the DSO a
    company would have if every customer paid exactly on time."""
    return dso_simple(current_receivables, sales, days)


def average_days_delinquent(dso: float | None, best_dso: float | None) -> float | None:
    """ADD = DSO − best possible DSO: the days by which customers pay later than the terms."""
    if dso is None or best_dso is None:
        return None
    return dso - best_dso


def collection_effectiveness_index(
    beginning_receivables: float,
    credit_sales: float,
    ending_total_receivables: float,
    ending_current_receivables: float,
) -> float | None:
    """CEI, in percent: (beginning AR + credit sales − ending total AR) ÷ (beginning AR + credit
    sales − ending current AR) × 100. What was collected out of what could have been collected
    (everything except the part not yet due at the end); 100 is perfect."""
    collectible = beginning_receivables + credit_sales - ending_current_receivables
    if collectible <= 0:
        return None
    collected = beginning_receivables + credit_sales - ending_total_receivables
    return collected / collectible * 100.0


# ---------------------------------------------------------------- payment behaviour


def average_days_beyond_terms(days_late: npt.ArrayLike, amount: npt.ArrayLike) -> float | None:
    """Amount-weighted average days paid after the due date; paying early or on the due date
    counts as 0 days. One entry per payment applied to an installment."""
    days = np.maximum(np.asarray(days_late, dtype=np.float64), 0.0)
    weight = np.asarray(amount, dtype=np.float64)
    total = float(weight.sum())
    if total <= 0:
        return None
    return float((days * weight).sum() / total)


@dataclass(frozen=True, slots=True)
class AtRiskByMonth:
    """The at-risk rate of each invoice month (``months``: numpy ``datetime64[M]``)."""

    months: npt.NDArray[np.datetime64]
    invoiced: FloatArray  # amount invoiced in the month
    unpaid: FloatArray  # of which unpaid 90 days past its due date
    judged_on: npt.NDArray[np.datetime64]  # the day the month's last installment reached +90

    def rate(self, index: int) -> float | None:
        invoiced = float(self.invoiced[index])
        return None if invoiced <= 0 else float(self.unpaid[index]) / invoiced

    def latest_judged(self, day: np.datetime64) -> int | None:
        """Index of the most recent month every installment of which was 90 days past due
        by ``day`` (so its rate is final), or None."""
        ready = np.flatnonzero(self.judged_on <= day)
        return int(ready[-1]) if ready.size else None


def at_risk_by_month(
    issue_day: npt.ArrayLike,
    due_day: npt.ArrayLike,
    amount: npt.ArrayLike,
    unpaid_at_due_plus_90: npt.ArrayLike,
    *,
    days: int = AT_RISK_DAYS,
) -> AtRiskByMonth:
    """At-risk rate per invoice month: of the amount invoiced in a month, the share still
    unpaid ``days`` (90) days after its due date. One entry per installment; days are numpy
    ``datetime64[D]``; ``unpaid_at_due_plus_90`` is the installment's open amount on its due
    date + 90 days (what was not paid, credited or written off by then)."""
    issued = np.asarray(issue_day, dtype="datetime64[D]")
    due = np.asarray(due_day, dtype="datetime64[D]")
    months_of = issued.astype("datetime64[M]")
    months, index = np.unique(months_of, return_inverse=True)
    n = months.size
    weights = np.asarray(amount, dtype=np.float64)
    invoiced = np.bincount(index, weights=weights, minlength=n).astype(np.float64)
    unpaid = np.bincount(
        index, weights=np.asarray(unpaid_at_due_plus_90, dtype=np.float64), minlength=n
    ).astype(np.float64)
    judged = np.full(n, np.datetime64("1970-01-01", "D"))
    if issued.size:
        np.maximum.at(judged, index, due + np.timedelta64(days, "D"))
    return AtRiskByMonth(
        months=months, invoiced=invoiced, unpaid=unpaid, judged_on=judged.astype("datetime64[D]")
    )
