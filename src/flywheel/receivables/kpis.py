"""The receivables KPIs as of a date and their monthly trend: DSO (simple and countback), best
possible DSO, ADD, CEI, at-risk rate and average days beyond terms, for the accounts an actor
may see. The definitions are ``analytics.ar_kpis``; this module reads the ledger once
(``ledger_columns.read_ledger``) and evaluates them at each point of the trend.

Every point uses the same rules as the as-of figure, so the last point of the trend is exactly
the card: a point on day ``d`` looks at the ``period_days`` days ending on ``d``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy.orm import Session

from flywheel.analytics.ar_kpis import (
    at_risk_by_month,
    average_days_beyond_terms,
    average_days_delinquent,
    best_possible_dso,
    collection_effectiveness_index,
    dso_countback,
    dso_simple,
)
from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.errors import ValidationFailed
from flywheel.receivables.aging import check_as_of, money
from flywheel.receivables.ledger_columns import LedgerColumns, from_day, read_ledger, to_day

DEFAULT_PERIOD_DAYS = 90
TREND_MONTHS = 12
# History read before the first point of the trend: the period of its DSO and CEI, and
# earlier months for its countback and the at-risk rate of months already judged then.
_HISTORY_DAYS = 270


@dataclass(frozen=True, slots=True)
class KpiPoint:
    as_of: date
    receivables: Decimal  # total open on as_of
    current: Decimal  # of which not yet due
    overdue: Decimal
    sales: Decimal  # invoiced in the period ending on as_of
    dso: float | None
    dso_countback: float | None
    best_possible_dso: float | None
    add: float | None
    cei: float | None  # percent
    at_risk_rate: float | None  # share, 0–1
    at_risk_month: str | None  # the invoice month the rate is about, "2026-05"
    days_beyond_terms: float | None
    # Promises to pay resolved in the period: kept ÷ (kept + broken); None when none came due.
    promise_keeping_rate: float | None = None
    promises_resolved: int = 0


@dataclass(frozen=True, slots=True)
class KpiReport:
    as_of: date
    currency: str
    period_days: int
    current: KpiPoint
    trend: list[KpiPoint]  # month ends before as_of, oldest first, then as_of itself
    timings: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # rows read, per table


def trend_days(as_of: date, months: int = TREND_MONTHS) -> list[date]:
    """The last day of each of the ``months - 1`` months before ``as_of``'s month, then
    ``as_of``."""
    points = [as_of]
    day = as_of.replace(day=1) - timedelta(days=1)
    while len(points) < months:
        points.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return points[::-1]


def receivables_kpis(
    session: Session,
    *,
    actor: Actor,
    as_of: date,
    currency: str,
    period_days: int = DEFAULT_PERIOD_DAYS,
    months: int = TREND_MONTHS,
) -> KpiReport:
    """The KPIs of the accounts ``actor`` may see, in ``currency``, as of ``as_of`` and at the
    end of each of the ``months - 1`` months before."""
    check_as_of(as_of)
    if not 1 <= period_days <= 366:
        raise ValidationFailed(
            f"the period is 1 to 366 days, got {period_days}", field="period", value=period_days
        )
    if not 1 <= months <= 36:
        raise ValidationFailed(
            f"the trend has 1 to 36 months, got {months}", field="months", value=months
        )
    points = trend_days(as_of, months)
    since = points[0] - timedelta(days=max(_HISTORY_DAYS, period_days))
    clock = time.perf_counter()
    ledger = read_ledger(
        session, as_of=as_of, since=since, currency=currency, customers=visible_customers(actor)
    )
    timings = {"read": time.perf_counter() - clock}
    clock = time.perf_counter()
    figures = _Figures(ledger, period_days)
    trend = [figures.point(day) for day in points]
    timings["compute"] = time.perf_counter() - clock
    clock = time.perf_counter()
    trend = [
        _with_promises(session, point, actor=actor, currency=currency, period_days=period_days)
        for point in trend
    ]
    timings["promises"] = time.perf_counter() - clock
    return KpiReport(
        as_of=as_of,
        currency=currency,
        period_days=period_days,
        current=trend[-1],
        trend=trend,
        timings=timings,
        sizes=ledger.sizes(),
    )


def _with_promises(
    session: Session, point: KpiPoint, *, actor: Actor, currency: str, period_days: int
) -> KpiPoint:
    from flywheel.collections import promises

    rate = promises.keeping_rate(
        session,
        since=point.as_of - timedelta(days=period_days - 1),
        until=point.as_of,
        actor=actor,
        currency=currency,
    )
    return replace(point, promise_keeping_rate=rate.rate, promises_resolved=rate.kept + rate.broken)


class _Figures:
    """The KPIs of one ledger read on any day from its ``since`` to its ``as_of``."""

    def __init__(self, ledger: LedgerColumns, period_days: int) -> None:
        assert ledger.since is not None
        self.ledger = ledger
        self.period = period_days
        self.since = to_day(ledger.since)
        inst = ledger.installments
        # Invoiced per day from ``since`` (every invoice issued since then is in the read).
        offset = (inst.issue_day - self.since).astype(np.int64)
        recent = offset >= 0
        span = int((to_day(ledger.as_of) - self.since).astype(np.int64)) + 1
        daily = np.bincount(offset[recent], weights=inst.amount[recent], minlength=span)
        self.cumulative = np.concatenate([[0.0], np.cumsum(daily[:span])])
        # At-risk rate per invoice month, for whole months inside the read.
        first_month = self.since.astype("datetime64[M]")
        if self.since != first_month.astype("datetime64[D]"):
            first_month = first_month + np.timedelta64(1, "M")
        whole = inst.issue_day >= first_month.astype("datetime64[D]")
        self.at_risk = at_risk_by_month(
            inst.issue_day[whole],
            inst.due_day[whole],
            inst.amount[whole],
            ledger.open_on_each(inst.due_day + np.timedelta64(90, "D"))[whole],
        )

    def _invoiced(self, first: date, last: date) -> float:
        """Cents invoiced from ``first`` to ``last`` (both included, clipped to the read)."""
        size = self.cumulative.size - 1
        start = int((to_day(first) - self.since).astype(np.int64))
        end = int((to_day(last) - self.since).astype(np.int64)) + 1
        start, end = min(max(start, 0), size), min(max(end, 0), size)
        return float(self.cumulative[end] - self.cumulative[start]) if end > start else 0.0

    def point(self, day: date) -> KpiPoint:
        ledger, period = self.ledger, self.period
        inst = ledger.installments
        open_now = ledger.open_on(day)
        total = int(open_now.sum())
        current = int(open_now[inst.due_day >= to_day(day)].sum())
        start = day - timedelta(days=period - 1)
        sales = self._invoiced(start, day)
        beginning = int(ledger.open_on(start - timedelta(days=1)).sum())
        dso = dso_simple(total, sales, period)
        best = best_possible_dso(current, sales, period)
        return KpiPoint(
            as_of=day,
            receivables=money(total),
            current=money(current),
            overdue=money(total - current),
            sales=money(round(sales)),
            dso=dso,
            dso_countback=self._countback(day, total),
            best_possible_dso=best,
            add=average_days_delinquent(dso, best),
            cei=collection_effectiveness_index(beginning, sales, total, current),
            at_risk_rate=self._at_risk(day)[0],
            at_risk_month=self._at_risk(day)[1],
            days_beyond_terms=self._days_beyond_terms(start, day),
        )

    def _countback(self, day: date, receivables: int) -> float | None:
        """Months back from ``day`` (its own month up to ``day`` first) within the read."""
        sales: list[float] = []
        days: list[float] = []
        last = day
        first = day.replace(day=1)
        while first >= from_day(self.since):
            sales.append(self._invoiced(first, last))
            days.append((last - first).days + 1)
            last = first - timedelta(days=1)
            first = last.replace(day=1)
        return dso_countback(receivables, sales, days) if sales else None

    def _at_risk(self, day: date) -> tuple[float | None, str | None]:
        index = self.at_risk.latest_judged(to_day(day))
        if index is None:
            return None, None
        return self.at_risk.rate(index), str(self.at_risk.months[index])

    def _days_beyond_terms(self, first: date, last: date) -> float | None:
        alloc = self.ledger.allocations
        inst = self.ledger.installments
        paid = (
            alloc.from_payment
            & (alloc.applied_day >= to_day(first))
            & (alloc.applied_day <= to_day(last))
        )
        late = (alloc.applied_day[paid] - inst.due_day[alloc.installment[paid]]).astype(np.int64)
        return average_days_beyond_terms(late, alloc.amount[paid])
