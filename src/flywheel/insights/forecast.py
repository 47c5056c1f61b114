"""The cash forecast against what came in: for a period of the dashboard, the receipts the
latest 13-week forecast made on or before the period's first day expected in its weeks starting
in the period (``credit.predictions``), and the payments actually received on those weeks' days.

The forecast is the company's (one per currency, never split by owner), so the figure is only
for the roles that may see it (``Permission.VIEW_CASH_FORECAST``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.credit.predictions import ForecastWeek
from flywheel.kit.money import CENT, ZERO
from flywheel.models.credit import CashForecast
from flywheel.models.receivables import Payment

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ForecastVsActual:
    """Expected against received in ``currency`` from ``first`` to ``last`` (the days of the
    forecast's weeks starting in the period; the period itself when there is no forecast)."""

    currency: str
    made_on: date | None  # the forecast's day; None: none was made by the period's first day
    first: date
    last: date
    through: date  # payments are counted up to this day
    expected: Decimal | None  # None: no forecast
    actual: Decimal
    weeks: list[ForecastWeek]  # a week's actual is None until its first day has come

    @property
    def complete(self) -> bool:
        """Whether every day compared has passed."""
        return self.through >= self.last

    @property
    def difference(self) -> Decimal | None:
        """Received − expected."""
        return None if self.expected is None else self.actual - self.expected

    @property
    def ratio(self) -> float | None:
        """Received ÷ expected (1.0: exactly as forecast)."""
        if self.expected is None or self.expected <= 0:
            return None
        return float(self.actual / self.expected)


def _received(session: Session, *, currency: str, first: date, last: date) -> dict[date, Decimal]:
    """Payments received per day from ``first`` to ``last`` in ``currency``."""
    if last < first:
        return {}
    rows = session.execute(
        select(Payment.received_on, func.sum(Payment.amount))
        .where(
            Payment.currency == currency,
            Payment.received_on >= first,
            Payment.received_on <= last,
        )
        .group_by(Payment.received_on)
    ).all()
    return {day: Decimal(amount or 0) for day, amount in rows}


def forecast_vs_actual(
    session: Session,
    *,
    actor: Actor,
    period_first: date,
    period_last: date,
    currency: str,
    as_of: date | None = None,
) -> ForecastVsActual | None:
    """The forecast of the period against the payments received (None for a role that may not
    see the cash forecast). ``as_of``: the day the data is known up to (the cube's build day);
    payments are counted up to it, every day of the weeks when it is not given."""
    if not permissions.allows(actor, Permission.VIEW_CASH_FORECAST):
        return None
    currency = currency.strip().upper()
    made = session.scalar(
        select(func.max(CashForecast.as_of)).where(
            CashForecast.as_of <= period_first, CashForecast.currency == currency
        )
    )
    rows = (
        session.scalars(
            select(CashForecast)
            .where(
                CashForecast.as_of == made,
                CashForecast.currency == currency,
                CashForecast.week_start >= period_first,
                CashForecast.week_start <= period_last,
            )
            .order_by(CashForecast.week_start)
        ).all()
        if made is not None
        else []
    )
    if rows:
        first, last = rows[0].week_start, rows[-1].week_start + WEEK - timedelta(days=1)
    else:
        first, last = period_first, period_last
    through = min(last, as_of) if as_of is not None else last
    daily = _received(session, currency=currency, first=first, last=through)
    weeks: list[ForecastWeek] = []
    for row in rows:
        week_last = row.week_start + WEEK - timedelta(days=1)
        actual = None
        if row.week_start <= through:
            actual = sum(
                (v for d, v in daily.items() if row.week_start <= d <= week_last), ZERO
            ).quantize(CENT)
        weeks.append(ForecastWeek(row.week_start, row.expected, row.low, row.high, actual))
    return ForecastVsActual(
        currency=currency,
        made_on=made if rows else None,
        first=first,
        last=last,
        through=through,
        expected=sum((r.expected for r in rows), ZERO).quantize(CENT) if rows else None,
        actual=sum(daily.values(), ZERO).quantize(CENT),
        weeks=weeks,
    )
