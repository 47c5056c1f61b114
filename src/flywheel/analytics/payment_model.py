"""Payment-date prediction: point-in-time features from an invoice history, a gradient-boosted
model of days late with calibrated probabilities of paying late, naive baselines and a
time-ordered backtest.

Days late = paid date − due date in calendar days; **early payment counts as negative** (paid
5 days before the due date is −5), so "paid late" means days late > 0.

The input is one row per invoice (or per installment: one row per amount with its own due date)
with the columns ``customer``, ``issue_date``, ``due_date``, ``paid_date`` (NaT while open or
never paid) and ``amount``; optional numeric columns ``disputes`` and ``promises`` are used
when present. Every feature of an invoice uses only what was known on its issue date: the
invoices of the same customer paid strictly before that day, and those issued strictly before it.
Everything is vectorised (sorts, cumulative sums and binary searches), so millions of invoices
take seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from flywheel.analytics.classification import auc

__all__ = [
    "BASELINES",
    "FEATURE_COLUMNS",
    "INVOICE_COLUMNS",
    "BacktestResult",
    "PaymentDelayModel",
    "backtest",
    "baseline_predictions",
    "build_features",
    "chinese_new_year_days",
    "days_late",
]

Float64Array = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]

INVOICE_COLUMNS = ("customer", "issue_date", "due_date", "paid_date", "amount")
OPTIONAL_COLUMNS = ("disputes", "promises")
BASELINES = ("customer_median", "customer_mean", "due_date")
RECENT_PAYMENTS = 3  # "recent" in the trend feature: the customer's last 3 paid invoices
CNY_WINDOW_DAYS = 90  # the distance to Spring Festival is clipped to ±90 days

# Chinese New Year (春节) day, 2010–2040, as days since 1970-01-01.
_CHINESE_NEW_YEAR = (
    "2010-02-14 2011-02-03 2012-01-23 2013-02-10 2014-01-31 2015-02-19 2016-02-08 2017-01-28 "
    "2018-02-16 2019-02-05 2020-01-25 2021-02-12 2022-02-01 2023-01-22 2024-02-10 2025-01-29 "
    "2026-02-17 2027-02-06 2028-01-26 2029-02-13 2030-02-03 2031-01-23 2032-02-11 2033-01-31 "
    "2034-02-19 2035-02-08 2036-01-28 2037-02-15 2038-02-04 2039-01-24 2040-02-12"
)


def chinese_new_year_days() -> Int64Array:
    """The Spring Festival days 2010–2040 as int64 days since 1970-01-01, ascending."""
    dates = np.array(_CHINESE_NEW_YEAR.split(), dtype="datetime64[D]")
    return dates.astype(np.int64)


FEATURE_COLUMNS = (
    "history_count",
    "history_mean_days_late",
    "history_median_days_late",
    "history_std_days_late",
    "history_share_late",
    "history_share_late_30",
    "history_recent_mean_days_late",
    "history_trend_days_late",
    "history_last_days_late",
    "days_since_last_payment",
    "prior_invoice_count",
    "tenure_days",
    "amount_log",
    "amount_to_usual",
    "terms_days",
    "open_count",
    "open_amount_log",
    "open_amount_to_amount",
    "issue_month",
    "due_weekday",
    "due_day_of_month",
    "due_days_to_month_end",
    "due_days_from_new_year",
    "expected_payment_days_from_new_year",
    "history_usual_weekday_share",
    "history_usual_day_share",
    "usual_weekday_days_late",
    "usual_day_days_late",
    "usual_weekday_shift",
    "usual_day_shift",
    "usual_run_days_late",
)


# ------------------------------------------------------------------------------- helpers


def _day_numbers(values: Any) -> tuple[Int64Array, npt.NDArray[np.bool_]]:
    """Days since 1970-01-01 of a datetime-like column, and the mask of missing values."""
    dates = np.asarray(pd.to_datetime(values)).astype("datetime64[D]")
    missing = np.isnat(dates)
    days = np.where(missing, 0, dates.astype(np.int64))
    return days.astype(np.int64), missing


def days_late(invoices: pd.DataFrame) -> Float64Array:
    """paid_date − due_date in days (negative = paid early); NaN while unpaid."""
    due, _ = _day_numbers(invoices["due_date"])
    paid, unpaid = _day_numbers(invoices["paid_date"])
    return np.where(unpaid, np.nan, (paid - due).astype(np.float64))


def _group_starts(codes: Int64Array) -> Int64Array:
    """For rows sorted by group code: the index of the first row of each row's group."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    is_start = np.r_[True, codes[1:] != codes[:-1]]
    first = np.flatnonzero(is_start)
    return np.repeat(first, np.diff(np.r_[first, n])).astype(np.int64)


def _within_group_cumsum(values: Float64Array, starts: Int64Array) -> Float64Array:
    """Cumulative sum that restarts at each group (rows sorted by group)."""
    total = np.cumsum(values)
    before = np.r_[0.0, total][starts]
    return np.asarray(total - before)


def _last_before(
    event_keys: Int64Array, event_codes: Int64Array, query_keys: Int64Array, query_codes: Int64Array
) -> tuple[Int64Array, npt.NDArray[np.bool_]]:
    """Index of the last event of the same group strictly before each query (keys sort by group,
    then day); and whether there is one."""
    position = np.searchsorted(event_keys, query_keys, side="left") - 1
    found = position >= 0
    safe = np.where(found, position, 0)
    found &= event_codes[safe] == query_codes if len(event_codes) else found
    return safe.astype(np.int64), found


def _gather(values: Float64Array, index: Int64Array, found: npt.NDArray[np.bool_]) -> Float64Array:
    if not len(values):
        return np.full(len(index), np.nan)
    return np.where(found, values[index], np.nan)


def _running_mode(values: Int64Array, codes: Int64Array) -> tuple[Int64Array, Float64Array]:
    """The most frequent value of each group up to and including each row, and how often it
    occurred (rows sorted by group; the larger value wins a tie). Values are small ints ≥ 0."""
    n = len(values)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    # How many times each row's value has occurred in its group so far.
    order = np.lexsort((np.arange(n), values, codes))
    pair = codes[order] * (int(values.max()) + 1) + values[order]
    starts = _group_starts(pair)
    seen = np.empty(n, dtype=np.int64)
    seen[order] = np.arange(n) - starts + 1
    # Running maximum of (times seen, value) per group: groups are sorted, so an offset per
    # group keeps the maximum from crossing into the next one.
    width = int(values.max()) + 1
    packed = seen * width + values
    offset = codes * (int(packed.max()) + 1)
    best = np.maximum.accumulate(packed + offset) - offset
    return (best % width).astype(np.int64), (best // width).astype(np.float64)


def _weekday(days: Float64Array | Int64Array) -> Float64Array:
    return np.asarray((days + 3) % 7, dtype=np.float64)  # 1970-01-01 was a Thursday


def _nearest_weekday(days: Float64Array, weekday: Float64Array) -> Float64Array:
    """The day with the given weekday (0 = Monday) nearest to each day."""
    ahead = (weekday - _weekday(days)) % 7
    return np.asarray(np.where(ahead <= 3, days + ahead, days + ahead - 7), dtype=np.float64)


def _nearest_day_of_month(days: Float64Array, day: Float64Array) -> Float64Array:
    """The day with the given day of month (the month's last day when it is shorter) nearest
    to each day."""
    month = days.astype(np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    best = np.full(len(days), np.nan)
    for shift in (-1, 0, 1):
        first = (month + shift).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        following = (
            (month + shift + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        )
        candidate = first + np.minimum(day, following - first) - 1
        closer = np.isnan(best) | (np.abs(candidate - days) < np.abs(best - days))
        best = np.where(closer, candidate, best)
    return best


def _expanding_median(
    values: Float64Array, codes: Int64Array, at: Int64Array | None = None
) -> Float64Array:
    """Median of each group's values up to and including each row (rows sorted by group).

    With ``at`` (rows), only those rows' medians are wanted (the others are NaN): when their
    histories together are short enough, each is taken from its own prefix, all at once (one
    sort of the prefixes' values by prefix), instead of a running median over every row."""
    if not len(values):
        return np.zeros(0)
    if at is not None:
        starts = _group_starts(codes)
        wanted = np.unique(np.asarray(at, dtype=np.int64))
        first = starts[wanted]
        lengths = wanted - first + 1
        if int(lengths.sum()) <= 2 * len(values):
            offsets = np.cumsum(lengths) - lengths
            prefix = np.repeat(np.arange(len(wanted)), lengths)
            picked = values[np.arange(int(lengths.sum())) - offsets[prefix] + first[prefix]]
            ordered = picked[np.lexsort((picked, prefix))]
            lower = ordered[offsets + (lengths - 1) // 2]
            upper = ordered[offsets + lengths // 2]
            medians = np.full(len(values), np.nan)
            medians[wanted] = (lower + upper) / 2.0
            return medians
    series = pd.Series(values)
    medians = series.groupby(codes, sort=False).expanding().median()
    medians = medians.reset_index(level=0, drop=True).sort_index()
    return np.asarray(medians.to_numpy(), dtype=np.float64)


# ------------------------------------------------------------------------------ features


def build_features(invoices: pd.DataFrame, *, rows: npt.ArrayLike | None = None) -> pd.DataFrame:
    """Point-in-time features of every invoice, in the order of ``invoices`` (same index); with
    ``rows`` (positions in ``invoices``) only of those, in that order — the history still comes
    from every invoice (the daily cycle needs the open ones only).

    ``invoices`` has ``customer``, ``issue_date``, ``due_date``, ``paid_date`` (NaT = open),
    ``amount`` and optionally ``disputes`` / ``promises`` (numbers, used as they are).
    The payment history of an invoice is the customer's invoices paid strictly before its
    issue date (their days late: mean, median, std, share late, share more than 30 days late,
    the mean of the last 3, the trend = last-3 mean − overall mean, the last one, days since
    the last payment); ``prior_invoice_count``, ``tenure_days`` and ``amount_to_usual``
    (amount / mean amount of earlier invoices) use the invoices issued strictly before it;
    ``open_count`` / ``open_amount_*`` count the customer's invoices issued before it and not
    yet paid on its issue date. Due-date effects: weekday (0 = Monday), day of month, days to
    the month end, and the signed days from the nearest Chinese New Year (clipped to ±90).
    Payment runs: the customer's usual weekday and day of month of paying (the most frequent so
    far) with the share of its payments on them, and the days late of the usual weekday and of
    the usual day of month nearest to where the payment would land at the customer's mean days
    late, how far each moves the payment, and the days late of the stronger of the two habits.
    Values without history are NaN (the model handles them).
    """
    missing = [name for name in INVOICE_COLUMNS if name not in invoices.columns]
    if missing:
        raise ValueError(f"invoices lack the columns: {', '.join(missing)}")
    n = len(invoices)
    codes = np.asarray(pd.factorize(invoices["customer"], use_na_sentinel=False)[0], np.int64)
    issue, bad_issue = _day_numbers(invoices["issue_date"])
    due, bad_due = _day_numbers(invoices["due_date"])
    if bad_issue.any() or bad_due.any():
        raise ValueError("issue_date and due_date must not be missing")
    paid, unpaid = _day_numbers(invoices["paid_date"])
    amount = np.asarray(pd.to_numeric(invoices["amount"]), dtype=np.float64)
    late = np.where(unpaid, np.nan, (paid - due).astype(np.float64))
    # The invoices whose features are asked for (the queries); the events are every invoice.
    q = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    q_codes, q_issue, q_due, q_amount = codes[q], issue[q], due[q], amount[q]

    # Events are searched by one int64 key that sorts by customer, then day.
    every_day = np.concatenate([issue, paid[~unpaid]])
    low = int(every_day.min()) if n else 0
    span = (int(every_day.max()) if n else 0) - low + 2

    def key(group: Int64Array, day: Int64Array) -> Int64Array:
        return np.asarray(group * span + (day - low), dtype=np.int64)

    out: dict[str, Float64Array] = {}
    query_keys = key(q_codes, q_issue)

    # --- payment history: events at paid dates, queried strictly before each issue date.
    paid_rows = np.flatnonzero(~unpaid)
    order = paid_rows[np.lexsort((paid[paid_rows], codes[paid_rows]))]
    p_codes, p_days, p_late = codes[order], paid[order], late[order]
    starts = _group_starts(p_codes)
    count = np.arange(len(order), dtype=np.float64) - starts + 1.0
    cum_late = _within_group_cumsum(p_late, starts)
    cum_square = _within_group_cumsum(p_late * p_late, starts)
    cum_is_late = _within_group_cumsum((p_late > 0).astype(np.float64), starts)
    cum_is_late_30 = _within_group_cumsum((p_late > 30).astype(np.float64), starts)
    mean = cum_late / np.maximum(count, 1.0)
    variance = np.maximum(cum_square / np.maximum(count, 1.0) - mean * mean, 0.0)
    std = np.where(count > 1, np.sqrt(variance * count / np.maximum(count - 1.0, 1.0)), np.nan)
    back = np.arange(len(order)) - RECENT_PAYMENTS
    has_back = count > RECENT_PAYMENTS
    recent_sum = cum_late - np.where(has_back, cum_late[np.maximum(back, 0)], 0.0)
    recent = recent_sum / np.minimum(count, RECENT_PAYMENTS)
    index, found = _last_before(key(p_codes, p_days), p_codes, query_keys, q_codes)
    median = _expanding_median(p_late, p_codes, at=index[found] if rows is not None else None)

    history_count = np.where(found, count[index] if len(count) else 0.0, 0.0)
    out["history_count"] = history_count
    out["history_mean_days_late"] = _gather(mean, index, found)
    out["history_median_days_late"] = _gather(median, index, found)
    out["history_std_days_late"] = _gather(std, index, found)
    out["history_share_late"] = _gather(cum_is_late / np.maximum(count, 1.0), index, found)
    out["history_share_late_30"] = _gather(cum_is_late_30 / np.maximum(count, 1.0), index, found)
    out["history_recent_mean_days_late"] = _gather(recent, index, found)
    out["history_trend_days_late"] = (
        out["history_recent_mean_days_late"] - out["history_mean_days_late"]
    )
    out["history_last_days_late"] = _gather(p_late, index, found)
    out["days_since_last_payment"] = q_issue - _gather(p_days.astype(np.float64), index, found)
    # Payment runs: the customer's usual weekday and day of month of paying, and how many of
    # its payments fell on them.
    p_dates = p_days.astype("datetime64[D]")
    p_day_of_month = (
        p_days - p_dates.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + 1
    ).astype(np.int64)
    usual_weekday, weekday_count = _running_mode(_weekday(p_days).astype(np.int64), p_codes)
    usual_day, day_count = _running_mode(p_day_of_month, p_codes)
    out["history_usual_weekday_share"] = _gather(
        weekday_count / np.maximum(count, 1.0), index, found
    )
    out["history_usual_day_share"] = _gather(day_count / np.maximum(count, 1.0), index, found)
    usual_weekday_at = _gather(usual_weekday.astype(np.float64), index, found)
    usual_day_at = _gather(usual_day.astype(np.float64), index, found)

    # --- invoices issued strictly before: count, tenure, usual amount, open items.
    order = np.lexsort((issue, codes))
    i_codes, i_days = codes[order], issue[order]
    starts = _group_starts(i_codes)
    issued_count = np.arange(n, dtype=np.float64) - starts + 1.0
    issued_amount = _within_group_cumsum(amount[order], starts)
    first_issue = i_days[starts].astype(np.float64) if n else np.zeros(0)
    index, found = _last_before(key(i_codes, i_days), i_codes, query_keys, q_codes)
    prior_count = np.where(found, issued_count[index] if n else 0.0, 0.0)
    prior_amount = np.where(found, issued_amount[index] if n else 0.0, 0.0)
    out["prior_invoice_count"] = prior_count
    out["tenure_days"] = np.where(found, q_issue - _gather(first_issue, index, found), 0.0)
    usual = np.where(prior_count > 0, prior_amount / np.maximum(prior_count, 1.0), np.nan)
    out["amount_log"] = np.log1p(np.maximum(q_amount, 0.0))
    out["amount_to_usual"] = q_amount / usual

    # An invoice closes when paid, but not before it exists (prepayments).
    closed_rows = paid_rows
    closed_day = np.maximum(paid[closed_rows], issue[closed_rows])
    order = closed_rows[np.lexsort((closed_day, codes[closed_rows]))]
    c_codes = codes[order]
    c_days = np.maximum(paid[order], issue[order])
    starts = _group_starts(c_codes)
    closed_count = np.arange(len(order), dtype=np.float64) - starts + 1.0
    closed_amount = _within_group_cumsum(amount[order], starts)
    index, found = _last_before(key(c_codes, c_days), c_codes, query_keys, q_codes)
    open_count = prior_count - np.where(found, closed_count[index] if len(order) else 0.0, 0.0)
    open_amount = prior_amount - np.where(found, closed_amount[index] if len(order) else 0.0, 0.0)
    open_amount = np.maximum(open_amount, 0.0)  # float noise of the running sums
    out["open_count"] = open_count
    out["open_amount_log"] = np.log1p(open_amount)
    out["open_amount_to_amount"] = open_amount / np.where(q_amount > 0, q_amount, np.nan)

    # --- calendar effects of the invoice itself.
    due_dates = q_due.astype("datetime64[D]")
    month_start = due_dates.astype("datetime64[M]")
    next_month = (month_start + 1).astype("datetime64[D]")
    out["terms_days"] = (q_due - q_issue).astype(np.float64)
    out["issue_month"] = (
        q_issue.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    ).astype(np.float64)
    out["due_weekday"] = ((q_due + 3) % 7).astype(np.float64)  # 1970-01-01 was a Thursday
    out["due_day_of_month"] = (
        q_due - month_start.astype("datetime64[D]").astype(np.int64) + 1
    ).astype(np.float64)
    out["due_days_to_month_end"] = (next_month.astype(np.int64) - 1 - q_due).astype(np.float64)
    out["due_days_from_new_year"] = _days_from_new_year(q_due.astype(np.float64))
    # Where the payment would land if the customer paid as usual: a transfer that falls in the
    # Spring Festival break waits until after it.
    usual_delay = np.nan_to_num(out["history_median_days_late"], nan=0.0)
    out["expected_payment_days_from_new_year"] = _days_from_new_year(
        q_due.astype(np.float64) + np.rint(usual_delay)
    )

    # The usual run nearest to where the payment would land if the customer paid as usual. The
    # mean days late is the better guide here: snapping to the nearest run moves payments both
    # ways, so it leaves the mean about where the customer meant to pay.
    mean_delay = np.nan_to_num(out["history_mean_days_late"], nan=0.0)
    intended = q_due.astype(np.float64) + np.rint(mean_delay)
    has_usual = ~np.isnan(usual_weekday_at)
    weekday_run = _nearest_weekday(intended, np.nan_to_num(usual_weekday_at))
    day_run = _nearest_day_of_month(intended, np.nan_to_num(usual_day_at, nan=1.0))
    out["usual_weekday_days_late"] = np.where(has_usual, weekday_run - q_due, np.nan)
    out["usual_day_days_late"] = np.where(has_usual, day_run - q_due, np.nan)
    # How far the run moves the payment from where the customer meant it, and the run of the
    # stronger habit (weekday or day of month).
    out["usual_weekday_shift"] = np.where(has_usual, weekday_run - intended, np.nan)
    out["usual_day_shift"] = np.where(has_usual, day_run - intended, np.nan)
    by_day = np.nan_to_num(out["history_usual_day_share"]) >= np.nan_to_num(
        out["history_usual_weekday_share"]
    )
    out["usual_run_days_late"] = np.where(
        by_day, out["usual_day_days_late"], out["usual_weekday_days_late"]
    )

    frame = pd.DataFrame({name: out[name] for name in FEATURE_COLUMNS}, index=invoices.index[q])
    for name in OPTIONAL_COLUMNS:
        if name in invoices.columns:
            frame[name] = np.asarray(pd.to_numeric(invoices[name]), dtype=np.float64)[q]
    return frame


def _days_from_new_year(days: Float64Array) -> Float64Array:
    """Signed days from the nearest Chinese New Year, clipped to ±``CNY_WINDOW_DAYS``."""
    new_years = chinese_new_year_days().astype(np.float64)
    nearest = np.clip(np.searchsorted(new_years, days), 1, len(new_years) - 1)
    before, after = new_years[nearest - 1], new_years[nearest]
    signed = np.where(days - before <= after - days, days - before, days - after)
    return np.asarray(np.clip(signed, -CNY_WINDOW_DAYS, CNY_WINDOW_DAYS), dtype=np.float64)


def baseline_predictions(features: pd.DataFrame, *, global_median: float) -> pd.DataFrame:
    """The naive forecasts of days late: the customer's historical median and mean (invoices
    paid before the issue date; ``global_median`` when there are none) and "pays on the due
    date" (0)."""
    median = features["history_median_days_late"].to_numpy(dtype=np.float64)
    mean = features["history_mean_days_late"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "customer_median": np.where(np.isnan(median), global_median, median),
            "customer_mean": np.where(np.isnan(mean), global_median, mean),
            "due_date": np.zeros(len(features)),
        },
        index=features.index,
    )


# --------------------------------------------------------------------------------- model


class PaymentDelayModel:
    """Days late of an invoice from its point-in-time features (:func:`build_features`).

    ``predict`` gives days late (negative = early) from a HistGradientBoostingRegressor with
    ``loss`` ("absolute_error" targets the median, hence the MAE; "squared_error" the mean).
    ``predict_proba_late`` and ``predict_proba_very_late`` give calibrated probabilities of
    days late > 0 and > ``very_late_days`` from gradient-boosted classifiers calibrated
    (``calibration`` "isotonic" or "sigmoid") on the latest ``calibration_holdout`` share of the
    training rows, which must then come oldest first (as :func:`backtest` passes them): one fit
    per classifier, and a calibration on the most recent behaviour. With
    ``calibration_holdout=None`` they are calibrated by ``CalibratedClassifierCV`` with
    ``calibration_folds`` folds instead (more fits, any row order). ``fit`` keeps the last
    ``max_train_rows`` rows (the most recent, when they come oldest first; None keeps all):
    at 2,000,000 installments the whole history would take many minutes to fit.

    Fitted attributes: ``feature_names_``, ``regressor_``, ``late_classifier_``,
    ``very_late_classifier_`` (None when the training data has a single class; the
    probability is then the constant share), ``late_share_``, ``very_late_share_``,
    ``global_median_days_late_``, ``n_train_``, ``residuals_`` (sorted training residuals,
    for :meth:`predict_given_unpaid`).
    """

    def __init__(
        self,
        *,
        loss: str = "absolute_error",
        very_late_days: int = 30,
        max_iter: int = 300,
        learning_rate: float = 0.08,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        early_stopping: bool = True,
        calibration: str = "isotonic",
        calibration_holdout: float | None = 0.2,
        calibration_folds: int = 3,
        max_train_rows: int | None = 400_000,
        random_state: int = 0,
    ) -> None:
        self.loss = loss
        self.very_late_days = very_late_days
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.early_stopping = early_stopping
        self.calibration = calibration
        self.calibration_holdout = calibration_holdout
        self.calibration_folds = calibration_folds
        self.max_train_rows = max_train_rows
        self.random_state = random_state

    def _matrix(self, features: pd.DataFrame) -> Float64Array:
        missing = [name for name in self.feature_names_ if name not in features.columns]
        if missing:
            raise ValueError(f"features lack the columns: {', '.join(missing)}")
        return np.asarray(features[self.feature_names_], dtype=np.float64)

    def _boosting(self) -> dict[str, Any]:
        return {
            "max_iter": self.max_iter,
            "learning_rate": self.learning_rate,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
            "l2_regularization": self.l2_regularization,
            "early_stopping": self.early_stopping,
            "random_state": self.random_state,
        }

    def _classifier(self, X: Float64Array, event: npt.NDArray[np.bool_]) -> Any:
        from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
        from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

        if self.calibration_holdout:
            cut = round(len(event) * (1.0 - self.calibration_holdout))
            early, recent = event[:cut], event[cut:]
            if min(early.sum(), (~early).sum(), recent.sum(), (~recent).sum()) >= 2:
                from sklearn.frozen import FrozenEstimator  # type: ignore[import-untyped]

                learnt = HistGradientBoostingClassifier(**self._boosting())
                learnt.fit(X[:cut], early.astype(np.int64))
                calibrated = CalibratedClassifierCV(
                    FrozenEstimator(learnt), method=self.calibration
                )
                return calibrated.fit(X[cut:], recent.astype(np.int64))
        n_event = int(event.sum())
        if min(n_event, len(event) - n_event) < max(self.calibration_folds, 2):
            return None
        calibrated = CalibratedClassifierCV(
            HistGradientBoostingClassifier(**self._boosting()),
            method=self.calibration,
            cv=self.calibration_folds,
        )
        return calibrated.fit(X, event.astype(np.int64))

    def fit(self, features: pd.DataFrame, days_late: npt.ArrayLike) -> Self:
        from sklearn.ensemble import HistGradientBoostingRegressor

        target = np.asarray(days_late, dtype=np.float64)
        if target.ndim != 1 or len(target) != len(features):
            raise ValueError("days_late must be 1-d with one value per row of features")
        if np.isnan(target).any():
            raise ValueError("days_late holds NaN: train on paid invoices only")
        if len(target) < 2:
            raise ValueError("at least 2 paid invoices are needed to train")
        if self.max_train_rows is not None and len(target) > self.max_train_rows:
            # The most recent behaviour is what a forecast needs; older rows only cost time.
            features = features.iloc[-self.max_train_rows :]
            target = target[-self.max_train_rows :]
        self.feature_names_ = [name for name in features.columns if name != "customer"]
        X = self._matrix(features)
        regressor = HistGradientBoostingRegressor(loss=self.loss, **self._boosting())
        self.regressor_ = regressor.fit(X, target)
        late = target > 0
        very_late = target > self.very_late_days
        self.late_share_ = float(late.mean())
        self.very_late_share_ = float(very_late.mean())
        self.late_classifier_ = self._classifier(X, late)
        self.very_late_classifier_ = self._classifier(X, very_late)
        self.global_median_days_late_ = float(np.median(target))
        self.n_train_ = len(target)
        # In-sample, so slightly narrower than the errors on new invoices.
        self.residuals_ = np.sort(target - regressor.predict(X))
        return self

    def predict(self, features: pd.DataFrame) -> Float64Array:
        """Predicted days late (negative = before the due date)."""
        return np.asarray(self.regressor_.predict(self._matrix(features)), dtype=np.float64)

    def predict_given_unpaid(
        self, features: pd.DataFrame, days_late_so_far: npt.ArrayLike
    ) -> Float64Array:
        """Predicted days late of invoices still unpaid ``days_late_so_far`` days after their
        due date (as_of − due date; negative while not yet due).

        An open invoice that is already 40 days overdue will not be paid "5 days late": the
        forecast is the median of prediction + training residual among the outcomes later than
        ``days_late_so_far`` (one day later when no residual is that large). For an invoice far
        from due this is about ``predict``."""
        predicted = self.predict(features)
        elapsed = np.asarray(days_late_so_far, dtype=np.float64)
        residuals = self.residuals_
        n = len(residuals)
        # Outcomes predicted + r > elapsed ⇔ r > elapsed − predicted: the sorted tail from k.
        first = np.searchsorted(residuals, elapsed - predicted, side="right")
        remaining = n - first
        middle = np.minimum(first + remaining // 2, n - 1)
        conditional = predicted + residuals[middle]
        return np.asarray(np.where(remaining > 0, conditional, elapsed + 1.0), dtype=np.float64)

    def _probability(self, classifier: Any, share: float, features: pd.DataFrame) -> Float64Array:
        if classifier is None:
            return np.full(len(features), share)
        return np.asarray(classifier.predict_proba(self._matrix(features))[:, 1], np.float64)

    def predict_proba_late(self, features: pd.DataFrame) -> Float64Array:
        """Calibrated P(paid after the due date)."""
        return self._probability(self.late_classifier_, self.late_share_, features)

    def predict_proba_very_late(self, features: pd.DataFrame) -> Float64Array:
        """Calibrated P(paid more than ``very_late_days`` after the due date)."""
        return self._probability(self.very_late_classifier_, self.very_late_share_, features)


# ------------------------------------------------------------------------------ backtest


@dataclass
class BacktestResult:
    """A time-ordered backtest. ``predictions`` has one row per test invoice (index of the
    input): ``days_late`` (NaN when unpaid), ``predicted_days_late``, ``p_late``,
    ``p_late_30`` and each baseline's forecast. MAE and AUC use the paid test invoices."""

    split_date: Any
    settle_days: int
    n_train: int
    n_test: int
    n_test_paid: int
    mae_days: float
    auc_late: float | None
    auc_late_30: float | None
    baseline_mae_days: dict[str, float]
    baseline_auc_late: dict[str, float | None]
    predictions: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def best_baseline(self) -> str:
        return min(self.baseline_mae_days, key=self.baseline_mae_days.__getitem__)

    @property
    def improvement_over_best_baseline(self) -> float:
        """1 − model MAE / best baseline MAE (0.2 = 20% lower error)."""
        best = self.baseline_mae_days[self.best_baseline]
        return 1.0 - self.mae_days / best if best > 0 else float("nan")


def _safe_auc(event: npt.NDArray[np.bool_], score: Float64Array) -> float | None:
    if event.all() or not event.any():
        return None
    return auc(event.astype(np.int64), score)


def backtest(
    invoices: pd.DataFrame,
    *,
    split_date: Any,
    model: PaymentDelayModel | None = None,
    features: pd.DataFrame | None = None,
    settle_days: int | None = None,
) -> BacktestResult:
    """Train on invoices issued and paid before ``split_date``; test on those issued on or
    after it. Features are point-in-time, so a test invoice sees the payments made before its
    own issue date (including those after the split), as a forecast made on that day would.
    ``features`` may be passed when already built for ``invoices``.

    Of the invoices due just before the split only the early payers are paid by then; training
    on them would teach the model that recent invoices are paid early. So training also
    requires the due date to be at least ``settle_days`` before the split: by default the 95th
    percentile of days late of the invoices paid before the split (at least 0). When no invoice
    is that old, every invoice paid before the split is used and ``settle_days`` reads 0."""
    started = time.perf_counter()
    split = np.datetime64(pd.Timestamp(split_date).date(), "D").astype(np.int64)
    if features is None:
        features = build_features(invoices)
    featured = time.perf_counter()
    issue, _ = _day_numbers(invoices["issue_date"])
    paid, unpaid = _day_numbers(invoices["paid_date"])
    target = days_late(invoices)
    due, _ = _day_numbers(invoices["due_date"])
    paid_before = (issue < split) & ~unpaid & (paid < split)
    if not paid_before.any():
        raise ValueError("no invoice was issued and paid before the split date")
    if settle_days is None:
        settle_days = max(int(np.ceil(np.quantile(target[paid_before], 0.95))), 0)
    train = paid_before & (due <= split - settle_days)
    if not train.any():  # a short history: use what there is
        settle_days, train = 0, paid_before
    test = issue >= split
    if not test.any():
        raise ValueError("no invoice was issued on or after the split date")
    model = model if model is not None else PaymentDelayModel()
    # Oldest first: the classifiers are calibrated on the most recent training rows.
    rows = np.flatnonzero(train)
    rows = rows[np.argsort(issue[rows], kind="stable")]
    model.fit(features.iloc[rows], target[rows])
    fitted = time.perf_counter()

    test_features = features[test]
    predictions = pd.DataFrame(
        {
            "days_late": target[test],
            "predicted_days_late": model.predict(test_features),
            "p_late": model.predict_proba_late(test_features),
            "p_late_30": model.predict_proba_very_late(test_features),
        },
        index=test_features.index,
    )
    baselines = baseline_predictions(test_features, global_median=model.global_median_days_late_)
    for name in BASELINES:
        predictions[f"baseline_{name}"] = baselines[name].to_numpy()

    known = ~np.isnan(predictions["days_late"].to_numpy())
    actual = predictions["days_late"].to_numpy()[known]
    if not known.any():
        raise ValueError("no invoice issued on or after the split date has been paid yet")
    late = actual > 0

    def mae(column: str) -> float:
        return float(np.mean(np.abs(predictions[column].to_numpy()[known] - actual)))

    predicted = time.perf_counter()
    return BacktestResult(
        split_date=pd.Timestamp(split_date).date(),
        settle_days=settle_days,
        n_train=model.n_train_,
        n_test=int(test.sum()),
        n_test_paid=int(known.sum()),
        mae_days=mae("predicted_days_late"),
        auc_late=_safe_auc(late, predictions["p_late"].to_numpy()[known]),
        auc_late_30=_safe_auc(actual > 30, predictions["p_late_30"].to_numpy()[known]),
        baseline_mae_days={name: mae(f"baseline_{name}") for name in BASELINES},
        baseline_auc_late={
            name: _safe_auc(late, predictions[f"baseline_{name}"].to_numpy()[known])
            for name in BASELINES
        },
        predictions=predictions,
        seconds={
            "features": featured - started,
            "fit": fitted - featured,
            "predict": predicted - fitted,
        },
    )
