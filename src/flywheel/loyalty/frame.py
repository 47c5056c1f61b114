"""The loyalty cycle's input read once, in columns: every account and its purchase days.

One statement reads the accounts, one the orders summed per account and day (cancelled orders
left out, nothing after ``as_of``). Days are integers since 1970-01-01 and money is integer
cents in the account's currency, so numpy takes both in one step. Segments, CLV, health and
churn all start from this frame; none of them reads the orders again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from flywheel.models.customers import Customer
from flywheel.models.enums import OrderStatus
from flywheel.models.sales import Order
from flywheel.receivables.ledger_columns import EPOCH, _cents_sql, _day_sql, _ints, _rows

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

NO_DAY = -1  # an account without a purchase: its first and last purchase day
# Account and day packed in one integer key for grouping: days from 1900 to 2173.
_FIRST_DAY = -25_567
_DAY_SPAN = 100_000


def day_number(value: date) -> int:
    return (value - EPOCH).days


@dataclass(frozen=True)
class LoyaltyFrame:
    """Accounts (one row each, ordered by id) and their purchase days (grouped by account,
    ordered by day). ``day_start[i]:day_start[i + 1]`` are the purchase days of account ``i``."""

    as_of: date
    as_of_day: int
    # Accounts
    customer_id: IntArray
    tier: ObjectArray
    owner_id: IntArray  # 0: no owner
    region: ObjectArray  # None where unknown
    currency: ObjectArray
    status: ObjectArray
    created_day: IntArray
    # Purchase days: one row per account and day with at least one order
    day_start: IntArray  # len(accounts) + 1 offsets into the three arrays below
    day_customer: IntArray  # row of the account (0..n-1), not its id
    day: IntArray
    day_cents: IntArray  # the day's orders summed
    day_orders: IntArray  # how many orders that day
    # Per account, from the purchase days
    orders: IntArray
    purchase_days: IntArray
    first_day: IntArray  # NO_DAY: never bought
    last_day: IntArray  # NO_DAY: never bought
    revenue_cents: IntArray  # all orders up to as_of

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def has_orders(self) -> npt.NDArray[np.bool_]:
        return self.orders > 0

    def revenue_between(self, start_day: int, end_day: int) -> IntArray:
        """Each account's orders from ``start_day`` to ``end_day`` (both included), in cents."""
        inside = (self.day >= start_day) & (self.day <= end_day)
        return np.bincount(
            self.day_customer[inside], weights=self.day_cents[inside], minlength=len(self)
        ).astype(np.int64)

    def purchase_days_between(self, start_day: int, end_day: int) -> IntArray:
        """Each account's number of purchase days from ``start_day`` to ``end_day``."""
        inside = (self.day >= start_day) & (self.day <= end_day)
        return np.bincount(self.day_customer[inside], minlength=len(self)).astype(np.int64)

    def rows_of(self, customer_ids: IntArray) -> IntArray:
        """The frame rows of ``customer_ids`` (every one must be in the frame)."""
        return np.searchsorted(self.customer_id, customer_ids).astype(np.int64)


def read_frame(
    session: Session, *, as_of: date, customers: Sequence[ColumnElement[bool]] = ()
) -> LoyaltyFrame:
    """Every account (or those passing the WHERE clauses ``customers``) and its purchase days
    up to ``as_of``. With clauses the orders are narrowed in SQL too, so a sales rep's figures
    read his few hundred accounts, not the company's history."""
    dialect = session.get_bind().dialect.name
    accounts = _rows(
        session,
        select(
            Customer.id,
            Customer.tier,
            func.coalesce(Customer.owner_id, 0),
            Customer.region,
            Customer.currency,
            Customer.status,
            _day_sql(Customer.created_on, dialect),
        )
        .where(*customers)
        .order_by(Customer.id),
    )
    columns = list(zip(*accounts, strict=True)) if accounts else [()] * 7
    customer_id = np.asarray(columns[0], dtype=np.int64)
    n = len(customer_id)
    # Orders as they are stored, grouped by account and day here: a GROUP BY over millions
    # of orders costs the database a sort (and SQLite a walk of the index with a lookup per
    # row) that numpy does in a fraction of the time.
    raw = _ints(
        session,
        select(
            Order.customer_id,
            _day_sql(Order.order_date, dialect),
            _cents_sql(Order.amount, dialect),
        ).where(
            Order.order_date <= as_of,
            Order.status != OrderStatus.CANCELLED.value,
            *([Order.customer_id.in_(select(Customer.id).where(*customers))] if customers else []),
        ),
        3,
    )
    order_customer = np.searchsorted(customer_id, raw[:, 0]).astype(np.int64)
    key = order_customer * _DAY_SPAN + (raw[:, 1] - _FIRST_DAY)
    unique_keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    day_customer = (unique_keys // _DAY_SPAN).astype(np.int64)
    day = (unique_keys % _DAY_SPAN + _FIRST_DAY).astype(np.int64)
    day_cents = np.bincount(inverse, weights=raw[:, 2], minlength=len(unique_keys)).astype(np.int64)
    day_orders = counts.astype(np.int64)
    purchase_days = np.bincount(day_customer, minlength=n).astype(np.int64)
    day_start = np.concatenate(([0], np.cumsum(purchase_days))).astype(np.int64)
    bought = purchase_days > 0
    first_day = np.full(n, NO_DAY, dtype=np.int64)
    last_day = np.full(n, NO_DAY, dtype=np.int64)
    first_day[bought] = day[day_start[:-1][bought]]
    last_day[bought] = day[day_start[1:][bought] - 1]
    return LoyaltyFrame(
        as_of=as_of,
        as_of_day=day_number(as_of),
        customer_id=customer_id,
        tier=np.asarray(columns[1], dtype=object),
        owner_id=np.asarray(columns[2], dtype=np.int64),
        region=np.asarray(columns[3], dtype=object),
        currency=np.asarray(columns[4], dtype=object),
        status=np.asarray(columns[5], dtype=object),
        created_day=np.asarray(columns[6], dtype=np.int64),
        day_start=day_start,
        day_customer=day_customer,
        day=day,
        day_cents=day_cents,
        day_orders=day_orders,
        orders=np.bincount(day_customer, weights=day_orders, minlength=n).astype(np.int64),
        purchase_days=purchase_days,
        first_day=first_day,
        last_day=last_day,
        revenue_cents=np.bincount(day_customer, weights=day_cents, minlength=n).astype(np.int64),
    )
