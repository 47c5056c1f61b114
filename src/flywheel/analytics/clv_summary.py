"""Customers' frequency, recency, T and spend from a transactions list, for the CLV models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from flywheel.analytics.clv_fit import as_vector, first_position, sum_by

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CustomerSummary:
    """One row per customer whose first purchase is on or before the calibration end, in the
    order of ``customer_ids`` (sorted). Times are in periods of ``period_days`` days."""

    customer_ids: npt.NDArray[Any]
    first_day: IntArray
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    # Mean value of the repeat purchase days in the calibration period (0 without repeats);
    # None when no amounts were given.
    monetary_value: FloatArray | None
    holdout_frequency: FloatArray | None
    holdout_revenue: FloatArray | None
    holdout_length: float | None
    period_days: float
    n_transactions: int  # input rows on or before the last day used

    def __len__(self) -> int:
        return len(self.frequency)


def summarise(
    customer_ids: npt.ArrayLike,
    days: npt.ArrayLike,
    amounts: npt.ArrayLike | None = None,
    *,
    calibration_end: int,
    holdout_end: int | None = None,
    period_days: float = 1.0,
) -> CustomerSummary:
    """Frequency, recency, T and mean repeat order value per customer from transactions.

    ``days`` are whole days (e.g. days since 1970-01-01); ``calibration_end`` and
    ``holdout_end`` are inclusive days. Purchases on the same day are one purchase occasion
    (their amounts add up), so ``frequency`` counts repeat purchase days and recency and T are
    exact day counts divided by ``period_days`` — the convention of the CDNOW studies, which
    measure in weeks with day precision. Customers who first buy after the calibration end are
    left out; purchases after ``holdout_end`` (or the calibration end without a holdout) are
    ignored.
    """
    if not np.isfinite(period_days) or period_days <= 0:
        raise ValueError(f"period_days must be positive, got {period_days}")
    calibration_end = int(calibration_end)
    if holdout_end is not None and int(holdout_end) <= calibration_end:
        raise ValueError("holdout_end must come after calibration_end")
    ids = np.asarray(customer_ids)
    day_values = as_vector("days", days)
    if ids.ndim != 1 or len(ids) != len(day_values):
        raise ValueError("customer_ids and days must be one-dimensional and of the same length")
    if len(ids) == 0:
        raise ValueError("no transactions")
    if (day_values != np.floor(day_values)).any():
        raise ValueError(
            f"days must be whole days (position {first_position(day_values != np.floor(day_values))})"
        )
    value = None
    if amounts is not None:
        value = as_vector("amounts", amounts)
        if len(value) != len(ids):
            raise ValueError("amounts must have one value per transaction")
    codes, uniques = pd.factorize(ids, sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        raise ValueError(f"customer id missing at position {first_position(codes < 0)}")
    day = day_values.astype(np.int64)
    last_day = calibration_end if holdout_end is None else int(holdout_end)
    used = day <= last_day
    if not (day[used] <= calibration_end).any():
        raise ValueError("no purchase on or before the calibration end")

    # One purchase occasion per customer and day, sorted by customer then day.
    first_in_data = int(day[used].min())
    span = last_day - first_in_data + 1
    occasion_keys, occasion_of_row = np.unique(
        codes[used] * span + (day[used] - first_in_data), return_inverse=True
    )
    customer = occasion_keys // span
    occasion_day = occasion_keys % span + first_in_data
    opens = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    group = np.cumsum(np.r_[True, customer[1:] != customer[:-1]]) - 1
    first_day = occasion_day[opens]
    in_calibration = occasion_day <= calibration_end
    n_groups = len(opens)
    calibration_days = sum_by(group, in_calibration, n_groups)
    last_calibration_day = np.maximum.reduceat(
        np.where(in_calibration, occasion_day, np.iinfo(np.int64).min), opens
    )
    keep = first_day <= calibration_end

    frequency = (calibration_days - 1.0)[keep]
    recency = ((last_calibration_day - first_day) / period_days)[keep]
    age = ((calibration_end - first_day) / period_days)[keep]
    monetary = None
    occasion_value = None
    if value is not None:
        occasion_value = sum_by(occasion_of_row, value[used], len(occasion_keys))
        calibration_total = sum_by(group, occasion_value * in_calibration, n_groups)
        repeat_total = (calibration_total - occasion_value[opens])[keep]
        monetary = np.divide(
            repeat_total, frequency, out=np.zeros_like(frequency), where=frequency > 0
        )
    holdout_frequency = holdout_revenue = None
    holdout_length = None
    if holdout_end is not None:
        in_holdout = ~in_calibration
        holdout_frequency = sum_by(group, in_holdout, n_groups)[keep]
        if occasion_value is not None:
            holdout_revenue = sum_by(group, occasion_value * in_holdout, n_groups)[keep]
        holdout_length = (int(holdout_end) - calibration_end) / period_days
    return CustomerSummary(
        customer_ids=np.asarray(uniques)[customer[opens][keep]],
        first_day=first_day[keep],
        frequency=frequency,
        recency=recency,
        T=age,
        monetary_value=monetary,
        holdout_frequency=holdout_frequency,
        holdout_revenue=holdout_revenue,
        holdout_length=holdout_length,
        period_days=float(period_days),
        n_transactions=int(used.sum()),
    )
