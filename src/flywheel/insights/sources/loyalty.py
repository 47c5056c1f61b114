"""Loyalty: states at the month's last day, with the loyalty domain's own definitions.

* Repeat purchase (``loyalty.retention.repeat_figures``): a buyer has a purchase day (orders not
  cancelled; two orders on one day are one purchase) in the twelve calendar months ending on
  the day, a repeat buyer two or more. The window is the one of the RFM monetary score
  (``loyalty.segments.window_start_day``): from the day after the same date a year earlier.
* NRR and GRR (``loyalty.retention.net_retention``, ``analytics.retention``): the base is the
  accounts that bought in the twelve months before those twelve, with their revenue there;
  ``retained_revenue`` is their revenue in the last twelve months (start + expansion −
  contraction − churn, the NRR's numerator) and ``kept_revenue`` the GRR's numerator (each
  account's smaller of the two, nothing for one that stopped buying). On 31 December the two
  windows are the calendar years, and the figures are ``net_retention(frame, period="year")``'s
  last period. Revenue is the orders' amounts in the account's currency.
* CLV, health and churn risk: the rows of the latest loyalty cycle on or before the day (the
  loyalty dashboard's ``latest_day``); CLV in the score's currency, counted where it has one.
  High churn risk is what the loyalty dashboard's at-risk list shows (``dashboard.at_risk``):
  a CLV above 0 and a churn risk of at least ``DEFAULT_MIN_CHURN_RISK`` (0.5, more likely than
  not).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.analytics.retention import day_of, months_before
from flywheel.insights import history
from flywheel.insights.cube import Accounts, Contribution, Month, contribution
from flywheel.loyalty.dashboard import DEFAULT_MIN_CHURN_RISK
from flywheel.loyalty.frame import LoyaltyFrame
from flywheel.models.enums import HealthBand
from flywheel.models.loyalty import LoyaltyScore
from flywheel.receivables.ledger_columns import _cents_sql

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

YEAR_MONTHS = 12


def trailing_years(day: date) -> tuple[int, int, int]:
    """Day numbers (since 1970) of the first day of the twelve months ending on ``day``, of the
    twelve before them, and of ``day``."""
    this_year = day_of(months_before(day, YEAR_MONTHS)) + 1
    year_before = day_of(months_before(day, 2 * YEAR_MONTHS)) + 1
    return this_year, year_before, day_of(day)


def retention_columns(frame: LoyaltyFrame) -> dict[str, npt.NDArray[np.float64]]:
    """Per frame row: the loyalty measures of the orders (counts 0/1, money in currency units)."""
    this_year, year_before, last = trailing_years(frame.as_of)
    days_now = frame.purchase_days_between(this_year, last)
    now = frame.revenue_between(this_year, last)
    before = frame.revenue_between(year_before, this_year - 1)
    base = before > 0
    bought = now > 0
    retained = base & bought
    expanded = retained & (now > before)

    def count(mask: BoolArray) -> npt.NDArray[np.float64]:
        return mask.astype(np.float64)

    def money(cents: IntArray) -> npt.NDArray[np.float64]:
        return cents.astype(np.float64) / 100.0

    return {
        "buyers_12m": count(days_now >= 1),
        "repeat_buyers_12m": count(days_now >= 2),
        "base_accounts": count(base),
        "retained_accounts": count(retained),
        "expanded_accounts": count(expanded),
        "base_revenue": money(np.where(base, before, 0)),
        "retained_revenue": money(np.where(retained, now, 0)),
        "kept_revenue": money(np.where(retained, np.minimum(now, before), 0)),
    }


def _orders(session: Session, accounts: Accounts, month: Month) -> dict[str, Contribution]:
    frame = history.frame_on(session, accounts, month.last)
    at = accounts.positions(frame.customer_id)
    out: dict[str, Contribution] = {}
    for name, values in retention_columns(frame).items():
        keep = (values != 0) & (at >= 0)
        # Money in each account's own currency: the frame sums its orders as they are.
        out[name] = Contribution(account=at[keep], value=values[keep])
    return out


def _scores(session: Session, accounts: Accounts, month: Month) -> dict[str, Contribution]:
    day = session.scalar(
        select(func.max(LoyaltyScore.as_of)).where(LoyaltyScore.as_of <= month.last)
    )
    if day is None:
        return {}
    dialect = session.get_bind().dialect.name
    rows = session.execute(
        select(
            LoyaltyScore.customer_id,
            LoyaltyScore.currency,
            _cents_sql(LoyaltyScore.clv, dialect),
            LoyaltyScore.health_band,
            LoyaltyScore.churn_risk,
        ).where(LoyaltyScore.as_of == day)
    ).all()
    if not rows:
        return {}
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    currency = np.asarray([r[1] for r in rows], dtype=object)
    has_clv = np.asarray([r[2] is not None for r in rows], dtype=bool)
    clv = np.asarray([r[2] or 0 for r in rows], dtype=np.float64) / 100.0
    band = np.asarray([r[3] for r in rows], dtype=object)
    risk = np.asarray([r[4] for r in rows], dtype=np.float64)
    at_risk = has_clv & (clv > 0) & (risk > 0) & (risk >= DEFAULT_MIN_CHURN_RISK)

    def counted(mask: BoolArray) -> Contribution:
        return contribution(accounts, ids[mask])

    return {
        # Counted in the score's currency, like the sum: the average CLV is per currency.
        "clv_accounts": contribution(accounts, ids[has_clv], None, currency[has_clv]),
        "clv_sum": contribution(accounts, ids[has_clv], clv[has_clv], currency[has_clv]),
        "health_green": counted(band == HealthBand.GREEN.value),
        "health_yellow": counted(band == HealthBand.YELLOW.value),
        "health_red": counted(band == HealthBand.RED.value),
        "churn_high": counted(at_risk),
    }


def measures(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    return {**_orders(session, accounts, month), **_scores(session, accounts, month)}
