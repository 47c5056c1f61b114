"""The facts next-best-action rules test, read for every account at once: a few grouped SQL
statements into numpy columns (the day's loyalty scores, the latest NPS answer, open detractor
follow-ups, credit grades, overdue receivables, spend of the last two years).

Money is read as integer cents and handed out in currency units (float64: rules compare it with
thresholds, nothing is booked from it). A missing fact is NaN (numbers) or None (choices).
"""

from __future__ import annotations

import time as timer
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Date, Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.credit import service as credit
from flywheel.loyalty.frame import LoyaltyFrame
from flywheel.models.customers import Customer
from flywheel.models.enums import LoopReason, LoopStatus, OrderStatus, SurveyKind
from flywheel.models.feedback import FeedbackLoop, SurveyResponse
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.sales import Order
from flywheel.receivables.ledger_columns import (
    EPOCH,
    _cents_sql,
    _day_sql,
    _rows,
    read_ledger,
    to_day,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

_NO_DAY = 2_147_483_647  # ledger_columns' NULL day


@dataclass(frozen=True)
class AccountFacts:
    """One entry per account with a loyalty score on ``as_of``, ordered by customer id.
    ``values`` holds one array per field of ``next_actions.FIELDS``."""

    as_of: date
    customer_id: IntArray
    owner_id: IntArray  # 0: nobody's
    currency: ObjectArray
    values: dict[str, npt.NDArray[Any]]
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.customer_id.size)

    def rows_of(self, customer_ids: npt.ArrayLike) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Row of each customer id, and whether the account is among the facts."""
        ids = np.asarray(customer_ids, dtype=np.int64)
        if not len(self):
            return np.zeros(ids.size, dtype=np.int64), np.zeros(ids.size, dtype=bool)
        row = np.minimum(np.searchsorted(self.customer_id, ids), len(self) - 1).astype(np.int64)
        return row, self.customer_id[row] == ids


def _floats(values: Any) -> FloatArray:
    return np.asarray(values, dtype=np.float64)  # None becomes NaN


def _moment_day_sql(column: Any, dialect: str) -> Any:
    """A UTC timestamp column as days since 1970-01-01."""
    if dialect == "sqlite":
        return cast(func.julianday(column) - 2440587.5, Integer)
    return cast(cast(func.timezone("UTC", column), Date) - literal(EPOCH), Integer)


def _percent_at_or_below(values: FloatArray) -> FloatArray:
    """Per account, the share (0–100) of accounts with a known value at or below its own."""
    out = np.full(values.size, np.nan)
    known = ~np.isnan(values)
    if known.any():
        ordered = np.sort(values[known])
        out[known] = 100.0 * np.searchsorted(ordered, values[known], side="right") / ordered.size
    return out


def read_facts(
    session: Session, *, as_of: date, settings: Settings, frame: LoyaltyFrame | None = None
) -> AccountFacts:
    """Every account scored on ``as_of`` with its facts (see ``next_actions.FIELDS``). The
    loyalty cycle hands over its ``frame`` (the purchase days it read) so the orders are not
    read twice."""
    dialect = session.get_bind().dialect.name
    timings: dict[str, float] = {}
    started = timer.perf_counter()
    ls = LoyaltyScore
    rows = _rows(
        session,
        select(
            ls.customer_id,
            func.coalesce(Customer.owner_id, 0),
            Customer.currency,
            Customer.tier,
            Customer.status,
            ls.segment,
            ls.health,
            ls.health_band,
            ls.health_trend,
            ls.p_alive,
            ls.churn_risk,
            _cents_sql(ls.clv, dialect),
            ls.expected_purchases_90,
            _cents_sql(ls.revenue_12m, dialect),
            _day_sql(ls.last_order_on, dialect),
            ls.orders,
            ls.recency_score,
            ls.frequency_score,
            ls.monetary_score,
        )
        .join(Customer, Customer.id == ls.customer_id)
        .where(ls.as_of == as_of)
        .order_by(ls.customer_id),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 19
    customer_id = np.asarray(columns[0], dtype=np.int64)
    n = customer_id.size
    last_order_day = np.asarray(columns[14], dtype=np.float64)
    last_order_day[last_order_day == _NO_DAY] = np.nan
    as_of_day = (as_of - EPOCH).days
    clv = _floats(columns[11]) / 100.0
    revenue_12m = _floats(columns[13]) / 100.0
    tiers = np.asarray(columns[3], dtype=object)
    contract_tiers = set(settings.loyalty_contract_tiers)
    values: dict[str, npt.NDArray[Any]] = {
        "tier": tiers,
        "contract": np.asarray([t in contract_tiers for t in tiers], dtype=bool),
        "account_status": np.asarray(columns[4], dtype=object),
        "segment": np.asarray(columns[5], dtype=object),
        "health": _floats(columns[6]),
        "health_band": np.asarray(columns[7], dtype=object),
        "health_trend": np.asarray(columns[8], dtype=object),
        "p_alive": _floats(columns[9]),
        "churn_risk": _floats(columns[10]),
        "clv": clv,
        "clv_percentile": _percent_at_or_below(clv),
        "expected_purchases_90": _floats(columns[12]),
        "revenue_12m": revenue_12m,
        "revenue_percentile": _percent_at_or_below(revenue_12m),
        "recency_days": as_of_day - last_order_day,
        "orders": _floats(columns[15]),
        "recency_score": _floats(columns[16]),
        "frequency_score": _floats(columns[17]),
        "monetary_score": _floats(columns[18]),
    }
    timings["scores"] = timer.perf_counter() - started

    def row_of(ids: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        if not n:
            return np.zeros(ids.size, dtype=np.int64), np.zeros(ids.size, dtype=bool)
        row = np.minimum(np.searchsorted(customer_id, ids), n - 1).astype(np.int64)
        return row, customer_id[row] == ids

    step = timer.perf_counter()
    end = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)
    ranked = (
        select(
            SurveyResponse.customer_id.label("customer_id"),
            SurveyResponse.band.label("band"),
            SurveyResponse.score.label("score"),
            _moment_day_sql(SurveyResponse.answered_at, dialect).label("day"),
            func.row_number()
            .over(
                partition_by=SurveyResponse.customer_id,
                order_by=(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc()),
            )
            .label("rank"),
        )
        .where(SurveyResponse.kind == SurveyKind.NPS.value, SurveyResponse.answered_at < end)
        .subquery("latest_nps")
    )
    answers = _rows(
        session,
        select(ranked.c.customer_id, ranked.c.band, ranked.c.score, ranked.c.day).where(
            ranked.c.rank == 1
        ),
    )
    nps_band = np.full(n, None, dtype=object)
    nps_score = np.full(n, np.nan)
    nps_age = np.full(n, np.nan)
    if answers:
        ids, bands, scores, days = zip(*answers, strict=True)
        row, found = row_of(np.asarray(ids, dtype=np.int64))
        nps_band[row[found]] = np.asarray(bands, dtype=object)[found]
        nps_score[row[found]] = np.asarray(scores, dtype=np.float64)[found]
        nps_age[row[found]] = as_of_day - np.asarray(days, dtype=np.float64)[found]
    values["nps_band"] = nps_band
    values["nps_score"] = nps_score
    values["nps_age_days"] = nps_age

    loops = _rows(
        session,
        select(FeedbackLoop.customer_id)
        .where(
            FeedbackLoop.status == LoopStatus.OPEN.value,
            FeedbackLoop.reason == LoopReason.DETRACTOR.value,
            FeedbackLoop.opened_at < end,
        )
        .distinct(),
    )
    open_loop = np.zeros(n, dtype=bool)
    if loops:
        row, found = row_of(np.asarray([r[0] for r in loops], dtype=np.int64))
        open_loop[row[found]] = True
    values["open_detractor_loop"] = open_loop
    timings["feedback"] = timer.perf_counter() - step

    step = timer.perf_counter()
    grades = credit.grades_of(session, as_of=as_of)
    values["credit_grade"] = np.asarray(
        [grades.get(int(c)) for c in customer_id.tolist()], dtype=object
    )
    timings["credit"] = timer.perf_counter() - step

    step = timer.perf_counter()
    overdue_cents, max_days = _overdue(session, as_of, customer_id)
    values["overdue_amount"] = overdue_cents / 100.0
    values["max_days_overdue"] = max_days
    timings["receivables"] = timer.perf_counter() - step

    step = timer.perf_counter()
    if frame is not None and frame.as_of == as_of:
        values["spend_growth"] = _growth_from_frame(frame, customer_id)
    else:
        values["spend_growth"] = _spend_growth(session, as_of, customer_id, dialect)
    timings["orders"] = timer.perf_counter() - step

    return AccountFacts(
        as_of=as_of,
        customer_id=customer_id,
        owner_id=np.asarray(columns[1], dtype=np.int64),
        currency=np.asarray(columns[2], dtype=object),
        values=values,
        timings=timings,
    )


def _overdue(session: Session, as_of: date, customer_id: IntArray) -> tuple[FloatArray, FloatArray]:
    """Cents past due on ``as_of`` and the most days any of it is past due, per account
    (0 and 0 with nothing overdue), from the ledger's read of what is open that day."""
    n = customer_id.size
    cents = np.zeros(n)
    days = np.zeros(n)
    ledger = read_ledger(session, as_of=as_of)
    inst = ledger.installments
    if not len(inst) or not n:
        return cents, days
    open_cents = ledger.open_on(as_of)
    day = to_day(as_of)
    late = (open_cents > 0) & (inst.due_day < day)
    if not late.any():
        return cents, days
    ids = inst.customer_id[late]
    row = np.minimum(np.searchsorted(customer_id, ids), n - 1)
    found = customer_id[row] == ids
    past = (day - inst.due_day[late]).astype(np.int64)
    np.add.at(cents, row[found], open_cents[late][found])
    np.maximum.at(days, row[found], past[found])
    return cents, days


def _growth_from_frame(frame: LoyaltyFrame, customer_id: IntArray) -> FloatArray:
    """``_spend_growth`` from the purchase days the loyalty cycle already holds."""
    growth = np.full(customer_id.size, np.nan)
    if not len(frame) or not customer_id.size:
        return growth
    today = frame.as_of_day
    recent = frame.revenue_between(today - 364, today).astype(np.float64)
    earlier = frame.revenue_between(today - 729, today - 365).astype(np.float64)
    row = np.minimum(np.searchsorted(frame.customer_id, customer_id), len(frame) - 1)
    found = (frame.customer_id[row] == customer_id) & (earlier[row] > 0)
    growth[found] = (recent[row[found]] - earlier[row[found]]) / earlier[row[found]]
    return growth


def _spend_growth(session: Session, as_of: date, customer_id: IntArray, dialect: str) -> FloatArray:
    """(Orders of the last 365 days − those of the 365 before) / those of the 365 before, per
    account; NaN when the account bought nothing in the earlier year."""
    n = customer_id.size
    year_ago = as_of - timedelta(days=365)
    two_years_ago = as_of - timedelta(days=730)
    recent = case((Order.order_date > year_ago, Order.amount), else_=None)
    earlier = case((Order.order_date <= year_ago, Order.amount), else_=None)
    rows = _rows(
        session,
        select(
            Order.customer_id,
            func.coalesce(_cents_sql(func.sum(recent), dialect), 0),
            func.coalesce(_cents_sql(func.sum(earlier), dialect), 0),
        )
        .where(
            Order.order_date > two_years_ago,
            Order.order_date <= as_of,
            Order.status != OrderStatus.CANCELLED.value,
        )
        .group_by(Order.customer_id),
    )
    growth = np.full(n, np.nan)
    if not rows or not n:
        return growth
    table = np.asarray(rows, dtype=np.float64)
    ids = table[:, 0].astype(np.int64)
    row = np.minimum(np.searchsorted(customer_id, ids), n - 1)
    found = (customer_id[row] == ids) & (table[:, 2] > 0)
    growth[row[found]] = (table[found, 1] - table[found, 2]) / table[found, 2]
    return growth
