"""The demo's business calendar: months of the period, working-day weights and Chinese New Year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from flywheel.demo.tables import BoolArray, Float64Array, Int64Array

# Spring Festival (春节) dates; business slows down for about two weeks around them.
_CHINESE_NEW_YEAR: dict[int, str] = {
    2010: "2010-02-14", 2011: "2011-02-03", 2012: "2012-01-23", 2013: "2013-02-10",
    2014: "2014-01-31", 2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28",
    2018: "2018-02-16", 2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12",
    2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
    2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13",
    2030: "2030-02-03", 2031: "2031-01-23", 2032: "2032-02-11", 2033: "2033-01-31",
    2034: "2034-02-19", 2035: "2035-02-08", 2036: "2036-01-28", 2037: "2037-02-15",
    2038: "2038-02-04", 2039: "2039-01-24", 2040: "2040-02-12",
}  # fmt: skip

# Demand by calendar month: Q4 peak (year-end budgets), 618 mid-year promotions.
_MONTH_SEASON = np.array([0.95, 0.92, 1.05, 1.0, 0.98, 1.04, 0.95, 0.95, 1.05, 1.0, 1.15, 1.32])

_DAY = np.timedelta64(1, "D")
EPOCH = np.datetime64("1970-01-01", "D")


def to_day(value: date) -> int:
    """Days since 1970-01-01: the integer form of dates used inside the generator."""
    return int((np.datetime64(value, "D") - EPOCH) // _DAY)


def days_to_dates(days: Int64Array) -> np.typing.NDArray[np.datetime64]:
    return days.astype("datetime64[D]")


def chinese_new_year_day(year: int) -> int:
    text = _CHINESE_NEW_YEAR.get(year, f"{year}-02-05")
    return to_day(date.fromisoformat(text))


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Months ``0..months-1`` of the demo period; the last one ends on ``as_of``."""

    period_start: int
    as_of: int
    months: int
    month_start: Int64Array  # first day of each month, plus one past ``as_of`` at the end
    year_month: Int64Array  # YYYYMM of each month
    day_weight: Float64Array  # relative business activity of each day of the period
    cum_weight: Float64Array  # cumulative day weights, ``len(days) + 1`` entries
    month_activity: Float64Array  # expected activity of each month, mean 1 over full months

    @property
    def days(self) -> int:
        return self.as_of - self.period_start + 1

    def sample_days(self, rng: np.random.Generator, months: Int64Array) -> Int64Array:
        """A working-day-weighted random day inside each given month (inverse CDF)."""
        lo = self.month_start[months] - self.period_start
        hi = self.month_start[months + 1] - self.period_start
        low_cum = self.cum_weight[lo]
        target = low_cum + rng.random(len(months)) * (self.cum_weight[hi] - low_cum)
        offset = np.searchsorted(self.cum_weight, target, side="right") - 1
        offset = np.clip(offset, lo, hi - 1)
        return (offset + self.period_start).astype(np.int64)

    def month_of(self, days: Int64Array) -> Int64Array:
        return (np.searchsorted(self.month_start, days, side="right") - 1).astype(np.int64)

    def in_new_year_slowdown(self, days: Int64Array) -> BoolArray:
        """Days from ten before to fifteen after Spring Festival, when payments stall."""
        years = days_to_dates(days).astype("datetime64[Y]").astype(np.int64) + 1970
        result = np.zeros(len(days), dtype=bool)
        for year in np.unique(years).tolist():
            new_year = chinese_new_year_day(int(year))
            for festival in (new_year, chinese_new_year_day(int(year) + 1)):
                result |= (days >= festival - 10) & (days <= festival + 15)
        return result


def business_calendar(as_of: date, years: int) -> BusinessCalendar:
    months = 12 * years
    last_month = np.datetime64(as_of, "M")
    first_month = last_month - (months - 1)
    month_starts = (first_month + np.arange(months + 1)).astype("datetime64[D]")
    month_start = ((month_starts - EPOCH) // _DAY).astype(np.int64)
    as_of_day = to_day(as_of)
    period_start = int(month_start[0])
    month_start[-1] = as_of_day + 1

    day_numbers = np.arange(period_start, as_of_day + 1, dtype=np.int64)
    dates = days_to_dates(day_numbers)
    weekday = (day_numbers + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weight = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.2, 0.08))
    month_of_year = dates.astype("datetime64[M]").astype(np.int64) % 12
    day_of_month = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")) // _DAY + 1
    weight = weight * _MONTH_SEASON[month_of_year]
    # National Day golden week and Labour Day: factories and offices close.
    weight = np.where((month_of_year == 9) & (day_of_month <= 7), weight * 0.15, weight)
    weight = np.where((month_of_year == 4) & (day_of_month <= 3), weight * 0.3, weight)
    years_covered = np.unique(dates.astype("datetime64[Y]").astype(np.int64) + 1970).tolist()
    for year in years_covered:
        festival = chinese_new_year_day(int(year))
        holiday = (day_numbers >= festival - 3) & (day_numbers <= festival + 6)
        weight = np.where(holiday, weight * 0.15, weight)
        # The weeks right after the holiday restart slowly.
        restart = (day_numbers > festival + 6) & (day_numbers <= festival + 18)
        weight = np.where(restart, weight * 0.7, weight)

    cum_weight = np.concatenate([[0.0], np.cumsum(weight)])
    offsets = month_start - period_start
    month_sum = cum_weight[offsets[1:]] - cum_weight[offsets[:-1]]
    full_months = month_sum[:-1] if months > 1 else month_sum
    month_activity = month_sum / float(full_months.mean())
    year_month = (first_month + np.arange(months)).astype("datetime64[M]").astype(np.int64)
    year_month = (year_month // 12 + 1970) * 100 + year_month % 12 + 1
    return BusinessCalendar(
        period_start=period_start,
        as_of=as_of_day,
        months=months,
        month_start=month_start,
        year_month=year_month.astype(np.int64),
        day_weight=weight.astype(np.float64),
        cum_weight=cum_weight.astype(np.float64),
        month_activity=month_activity.astype(np.float64),
    )
