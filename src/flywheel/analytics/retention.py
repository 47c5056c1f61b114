"""Retention on purchase days: repeat-purchase rate, cohort retention by first-purchase month,
and net and gross revenue retention (NRR, GRR) per month, quarter or year.

Arrays in, numbers out. Days are integers since 1970-01-01; money is integer cents, so every
sum is exact. Months are counted from 1970-01 (month 0); quarters and years are calendar ones.

Definitions (the pages and the API state the same):

* Repeat-purchase rate = buyers with at least two purchase days ÷ buyers (two orders on one
  day are one purchase).
* Cohort retention: a cohort is the accounts whose first purchase day falls in one calendar
  month (month 0). For month k of a cohort, the customer retention is the share of the cohort
  buying at least once in that month, and the revenue retention is the cohort's revenue of that
  month ÷ its revenue of month 0. Month 0's customer retention is 1 by construction.
* NRR and GRR of a period P look at the accounts that bought in the period before (P − 1), with
  their revenue there (``start``). Comparing each one's revenue in P with its revenue in P − 1:
  expansion = Σ (P − (P − 1)) where P is higher; contraction = Σ ((P − 1) − P) where P is lower
  but above 0; churn = Σ (P − 1) where the account bought nothing in P (revenue ≤ 0).
  NRR = (start + expansion − contraction − churn) ÷ start,
  GRR = (start − contraction − churn) ÷ start.
  Accounts new in P (or returning after a gap) are not in the cohort; their revenue is
  reported apart (``new_cents``) and counted in neither ratio. Only whole periods count: a
  period is in the series when it ended on or before ``as_of``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Period = Literal["month", "quarter", "year"]
PERIODS: tuple[Period, ...] = ("month", "quarter", "year")
_MONTHS_IN: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
EPOCH = date(1970, 1, 1)


# ---------------------------------------------------------------- calendar


def day_of(value: date) -> int:
    return (value - EPOCH).days


def date_of(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def month_of_days(days: npt.ArrayLike) -> IntArray:
    """Months since 1970-01 of days since 1970-01-01."""
    as_days = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months: IntArray = as_days.astype("datetime64[M]").astype(np.int64)
    return months


def month_of(value: date) -> int:
    return (value.year - 1970) * 12 + value.month - 1


def first_day_of_month(month: int) -> date:
    return date(1970 + month // 12, month % 12 + 1, 1)


def month_label(month: int) -> str:
    """``2026-03``."""
    return first_day_of_month(month).isoformat()[:7]


def months_before(value: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day when it is
    shorter: 31 March less one month is 28 or 29 February)."""
    index = value.year * 12 + value.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(value.day, last))


def check_period(period: str) -> Period:
    if period not in _MONTHS_IN:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    return period  # type: ignore[return-value]


def period_of_months(months: npt.ArrayLike, period: Period) -> IntArray:
    """Period numbers (months, quarters or years since 1970) of month numbers."""
    return np.asarray(months, dtype=np.int64) // _MONTHS_IN[check_period(period)]


def period_bounds(index: int, period: Period) -> tuple[date, date]:
    """The first and last day of period number ``index``."""
    size = _MONTHS_IN[check_period(period)]
    first = first_day_of_month(index * size)
    after = first_day_of_month((index + 1) * size)
    return first, after - timedelta(days=1)


def period_label(index: int, period: Period) -> str:
    """``2026-03``, ``2026-Q1`` or ``2026``."""
    first, _last = period_bounds(index, period)
    if period == "month":
        return first.isoformat()[:7]
    if period == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return str(first.year)


def last_whole_period(as_of: date, period: Period) -> int:
    """The last period that ended on or before ``as_of``."""
    tomorrow = as_of + timedelta(days=1)
    return int(period_of_months([month_of(tomorrow)], period)[0]) - 1


# ---------------------------------------------------------------- repeat purchase


@dataclass(frozen=True, slots=True)
class RepeatPurchase:
    buyers: int
    repeat_buyers: int

    @property
    def rate(self) -> float | None:
        return self.repeat_buyers / self.buyers if self.buyers else None


def repeat_purchase(purchase_days: npt.ArrayLike) -> RepeatPurchase:
    """Buyers, and those among them with a second purchase day."""
    days = np.asarray(purchase_days, dtype=np.int64)
    return RepeatPurchase(buyers=int((days >= 1).sum()), repeat_buyers=int((days >= 2).sum()))


# ---------------------------------------------------------------- cohorts


@dataclass(frozen=True)
class CohortTable:
    """Row c is the cohort of first-purchase month ``months[c]``; column k its month k.
    Cells after ``as_of``'s month are not observed (``observed`` False, counts 0)."""

    months: IntArray
    size: IntArray
    customers: IntArray  # (cohorts, ages): cohort accounts buying in month k
    revenue_cents: IntArray  # (cohorts, ages): their revenue in month k
    observed: BoolArray

    @property
    def customer_retention(self) -> FloatArray:
        """customers[c, k] ÷ size[c]; NaN where not observed or the cohort is empty."""
        with np.errstate(divide="ignore", invalid="ignore"):
            share = self.customers / self.size[:, None].astype(np.float64)
        out: FloatArray = np.where(self.observed & (self.size[:, None] > 0), share, np.nan)
        return out

    @property
    def revenue_retention(self) -> FloatArray:
        """revenue[c, k] ÷ revenue[c, 0]; NaN where not observed or month 0 had no revenue."""
        base = self.revenue_cents[:, :1].astype(np.float64) if self.revenue_cents.size else None
        if base is None:
            return np.zeros(self.revenue_cents.shape, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.revenue_cents / base
        out: FloatArray = np.where(self.observed & (base > 0), ratio, np.nan)
        return out


def cohort_retention(
    *,
    first_day: npt.ArrayLike,
    day_account: npt.ArrayLike,
    day: npt.ArrayLike,
    day_cents: npt.ArrayLike,
    as_of: date,
    months: int = 24,
) -> CohortTable:
    """The cohorts of the last ``months`` first-purchase months up to ``as_of``'s month.

    ``first_day`` is per account (negative: never bought); ``day_account``, ``day`` and
    ``day_cents`` are the purchase days (account row, day, revenue), none after ``as_of``.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    first = np.asarray(first_day, dtype=np.int64)
    rows = np.asarray(day_account, dtype=np.int64)
    days = np.asarray(day, dtype=np.int64)
    cents = np.asarray(day_cents, dtype=np.int64)
    last_month = month_of(as_of)
    first_cohort = last_month - months + 1
    cohort_of = np.where(first >= 0, month_of_days(np.maximum(first, 0)), -1)
    in_range = (cohort_of >= first_cohort) & (first >= 0)
    cohort_months = np.arange(first_cohort, last_month + 1, dtype=np.int64)
    size = np.bincount(cohort_of[in_range] - first_cohort, minlength=months).astype(np.int64)
    # Keep the months from the first non-empty cohort on: a long empty lead-in is no heatmap.
    nonempty = np.flatnonzero(size)
    start = int(nonempty[0]) if nonempty.size else months
    cohort_months, size = cohort_months[start:], size[start:]
    n_cohorts = len(cohort_months)
    ages = n_cohorts
    customers = np.zeros((n_cohorts, ages), dtype=np.int64)
    revenue = np.zeros((n_cohorts, ages), dtype=np.int64)
    if n_cohorts:
        base = int(cohort_months[0])
        keep = in_range[rows] & (days <= day_of(as_of))
        r, d, c = rows[keep], days[keep], cents[keep]
        purchase_month = month_of_days(d)
        cohort = cohort_of[r] - base
        age = purchase_month - cohort_of[r]
        cell = cohort * ages + age
        revenue = np.bincount(cell, weights=c, minlength=n_cohorts * ages)
        revenue = np.rint(revenue).astype(np.int64).reshape(n_cohorts, ages)
        # One count per account and month: the purchase days run by account, then by day.
        first_in_month = np.ones(len(r), dtype=bool)
        if len(r) > 1:
            first_in_month[1:] = (r[1:] != r[:-1]) | (purchase_month[1:] != purchase_month[:-1])
        customers = np.bincount(cell[first_in_month], minlength=n_cohorts * ages)
        customers = customers.astype(np.int64).reshape(n_cohorts, ages)
    age_index = np.arange(ages)[None, :]
    observed = cohort_months[:, None] + age_index <= last_month
    return CohortTable(
        months=cohort_months,
        size=size,
        customers=customers,
        revenue_cents=revenue,
        observed=observed,
    )


# ---------------------------------------------------------------- NRR and GRR


@dataclass(frozen=True, slots=True)
class PeriodRetention:
    """NRR and GRR of one period against the one before (see the module docstring)."""

    index: int
    start_customers: int  # accounts that bought in the period before
    retained_customers: int  # of those, the ones that bought again in this period
    start_cents: int
    expansion_cents: int
    contraction_cents: int
    churn_cents: int
    new_cents: int  # revenue of accounts not in the cohort (new or returning), in neither ratio

    @property
    def end_cents(self) -> int:
        """The cohort's revenue in this period: start + expansion − contraction − churn."""
        return self.start_cents + self.expansion_cents - self.contraction_cents - self.churn_cents

    @property
    def nrr(self) -> float | None:
        return self.end_cents / self.start_cents if self.start_cents > 0 else None

    @property
    def grr(self) -> float | None:
        if self.start_cents <= 0:
            return None
        return (self.start_cents - self.contraction_cents - self.churn_cents) / self.start_cents


def revenue_by_period(
    *,
    day_account: npt.ArrayLike,
    day: npt.ArrayLike,
    day_cents: npt.ArrayLike,
    n_accounts: int,
    first_period: int,
    last_period: int,
    period: Period,
) -> IntArray:
    """(accounts, periods) revenue in cents of the periods ``first_period``…``last_period``."""
    width = last_period - first_period + 1
    if width < 1:
        return np.zeros((n_accounts, 0), dtype=np.int64)
    rows = np.asarray(day_account, dtype=np.int64)
    index = period_of_months(month_of_days(np.asarray(day, dtype=np.int64)), period)
    keep = (index >= first_period) & (index <= last_period)
    cell = rows[keep] * width + (index[keep] - first_period)
    sums = np.bincount(
        cell, weights=np.asarray(day_cents, dtype=np.int64)[keep], minlength=n_accounts * width
    )
    matrix: IntArray = np.rint(sums).astype(np.int64).reshape(n_accounts, width)
    return matrix


def net_retention(
    *,
    day_account: npt.ArrayLike,
    day: npt.ArrayLike,
    day_cents: npt.ArrayLike,
    n_accounts: int,
    as_of: date,
    period: Period,
    periods: int = 12,
) -> list[PeriodRetention]:
    """NRR and GRR of the last ``periods`` whole periods up to ``as_of``, oldest first."""
    check_period(period)
    if periods < 1:
        raise ValueError("periods must be at least 1")
    last = last_whole_period(as_of, period)
    first = last - periods  # the period before the first one shown: its start
    matrix = revenue_by_period(
        day_account=day_account,
        day=day,
        day_cents=day_cents,
        n_accounts=n_accounts,
        first_period=first,
        last_period=last,
        period=period,
    )
    before, now = matrix[:, :-1], matrix[:, 1:]
    cohort = before > 0
    bought = now > 0
    grew = cohort & bought & (now > before)
    shrank = cohort & bought & (now < before)
    lost = cohort & ~bought

    def column_sums(values: IntArray, where: BoolArray) -> list[int]:
        return [int(v) for v in np.where(where, values, 0).sum(axis=0)]

    start = column_sums(before, cohort)
    start_customers = [int(v) for v in cohort.sum(axis=0)]
    retained = [int(v) for v in (cohort & bought).sum(axis=0)]
    expansion = column_sums(now - before, grew)
    contraction = column_sums(before - now, shrank)
    churn = column_sums(before, lost)
    new = column_sums(now, ~cohort & bought)
    return [
        PeriodRetention(
            index=first + 1 + j,
            start_customers=start_customers[j],
            retained_customers=retained[j],
            start_cents=start[j],
            expansion_cents=expansion[j],
            contraction_cents=contraction[j],
            churn_cents=churn[j],
            new_cents=new[j],
        )
        for j in range(periods)
    ]
