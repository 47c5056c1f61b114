"""The loyalty part of the daily cycle: RFM segments, CLV, health and churn risk for every
account, written as the day's loyalty rows, then referral rewards and the next best actions."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.db import bulk_insert
from flywheel.loyalty import churn, health, lifetime, next_actions, referrals, segments
from flywheel.loyalty.frame import NO_DAY, LoyaltyFrame, read_frame
from flywheel.models.base import utcnow
from flywheel.models.enums import ChurnBasis, CustomerStatus, Trend
from flywheel.models.loyalty import LoyaltyModelFit, LoyaltyScore
from flywheel.receivables.ledger_columns import EPOCH

# Health moves "up" or "down" against a month earlier only by at least this many points.
TREND_POINTS = 5
TREND_DAYS = 30  # "a month earlier": the newest stored day at least this long before as_of
_SCORE_COLUMNS = (
    "customer_id",
    "as_of",
    "currency",
    "orders",
    "first_order_on",
    "last_order_on",
    "revenue_12m",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "segment",
    "p_alive",
    "expected_purchases_90",
    "expected_purchases_365",
    "expected_order_value",
    "clv",
    "health",
    "health_band",
    "health_trend",
    "health_factors",
    "churn_risk",
    "churn_basis",
    "computed_at",
)


@dataclass
class LoyaltyRun:
    as_of: date
    customers: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    health_bands: dict[str, int] = field(default_factory=dict)
    trends: dict[str, int] = field(default_factory=dict)
    churn_basis: dict[str, int] = field(default_factory=dict)
    clv_model: dict[str, Any] = field(default_factory=dict)
    referrals: dict[str, Any] = field(default_factory=dict)
    next_actions: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "segments": self.segments,
            "health_bands": self.health_bands,
            "trends": self.trends,
            "churn_basis": self.churn_basis,
            "clv_model": self.clv_model,
            "referrals": self.referrals,
            "next_actions": self.next_actions,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _previous_health(session: Session, frame: LoyaltyFrame) -> np.ndarray[Any, Any]:
    """Each account's health on the newest stored day at least a month before ``as_of``
    (-1 where there is none)."""
    previous = np.full(len(frame), -1, dtype=np.int64)
    day = session.scalar(
        select(func.max(LoyaltyScore.as_of)).where(
            LoyaltyScore.as_of <= frame.as_of - timedelta(days=TREND_DAYS)
        )
    )
    if day is None:
        return previous
    rows = session.execute(
        select(LoyaltyScore.customer_id, LoyaltyScore.health).where(LoyaltyScore.as_of == day)
    ).all()
    if rows:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        position = np.searchsorted(frame.customer_id, ids)
        known = (position < len(frame)) & (
            frame.customer_id[np.minimum(position, len(frame) - 1)] == ids
        )
        previous[position[known]] = values[known]
    return previous


def trends_of(
    current: np.ndarray[Any, Any], previous: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """Up, down or flat against the earlier health (flat where there is none)."""
    change = current - previous
    return np.where(
        previous < 0,
        Trend.FLAT.value,
        np.where(
            change >= TREND_POINTS,
            Trend.UP.value,
            np.where(change <= -TREND_POINTS, Trend.DOWN.value, Trend.FLAT.value),
        ),
    ).astype(object)


def _money(values: np.ndarray[Any, Any]) -> list[Decimal | None]:
    """Currency units as Decimal cents, None where NaN."""
    cents = np.round(np.nan_to_num(values, nan=0.0) * 100).astype(np.int64).tolist()
    missing = np.isnan(values).tolist()
    return [None if m else Decimal(c).scaleb(-2) for c, m in zip(cents, missing, strict=True)]


def _rounded(values: np.ndarray[Any, Any], digits: int) -> list[float | None]:
    rounded = np.round(values, digits).astype(object)
    rounded[np.isnan(values)] = None
    return cast(list[float | None], rounded.tolist())


def _day(value: int) -> date | None:
    return None if value == NO_DAY else EPOCH + timedelta(days=value)


def _holdout_due(session: Session, as_of: date) -> bool:
    """The calibration/holdout check refits the model on older data: weekly (Mondays), and
    whenever the last week has no check stored."""
    if as_of.weekday() == 0:
        return True
    checked = session.scalars(
        select(LoyaltyModelFit.diagnostics).where(
            LoyaltyModelFit.kind == "purchase",
            LoyaltyModelFit.as_of < as_of,  # today's own is replaced by this run
            LoyaltyModelFit.as_of > as_of - timedelta(days=7),
        )
    ).all()
    return not any(d.get("holdout") for d in checked)


def _store_fits(session: Session, as_of: date, scores: lifetime.ClvScores, n: int) -> None:
    session.execute(
        delete(LoyaltyModelFit).where(
            LoyaltyModelFit.as_of == as_of, LoyaltyModelFit.kind.in_(("purchase", "spend"))
        )
    )
    if not scores.params:
        return
    session.add(
        LoyaltyModelFit(
            kind="purchase",
            model=scores.model,
            as_of=as_of,
            params=scores.params,
            log_likelihood=scores.log_likelihood,
            n_customers=n,
            diagnostics={"holdout": scores.diagnostics} if scores.diagnostics else {},
        )
    )
    if scores.spend_params:
        session.add(
            LoyaltyModelFit(
                kind="spend",
                model="gamma_gamma",
                as_of=as_of,
                params=scores.spend_params,
                n_customers=int(np.count_nonzero(scores.frequency > 0)),
                diagnostics={},
            )
        )


def run(session: Session, *, as_of: date, settings: Settings) -> LoyaltyRun:
    """Score every account as of ``as_of`` and store the day's loyalty rows (replacing those
    already written for that day), then the referral rewards and the next best actions."""
    result = LoyaltyRun(as_of=as_of)
    clock = time.perf_counter()
    frame = read_frame(session, as_of=as_of)
    result.seconds["read"] = time.perf_counter() - clock
    n = len(frame)
    result.customers = n

    clock = time.perf_counter()
    rfm = segments.score_segments(frame)
    result.seconds["segments"] = time.perf_counter() - clock
    clock = time.perf_counter()
    clv = lifetime.score_clv(frame, settings=settings, holdout=_holdout_due(session, as_of))
    result.seconds["clv"] = time.perf_counter() - clock
    clock = time.perf_counter()
    scored = health.compute_health(session, frame=frame, clv=clv, settings=settings)
    result.seconds["health"] = time.perf_counter() - clock
    clock = time.perf_counter()
    risk = churn.assess_churn(session, frame=frame, clv=clv, health=scored, settings=settings)
    trend = trends_of(scored.score, _previous_health(session, frame))
    # An account the company marked as lost is lost, whatever the models would say.
    lost = frame.status == CustomerStatus.CHURNED.value
    risk_values = np.where(lost, 1.0, risk.risk)
    basis_values = np.where(lost, ChurnBasis.MARKED_LOST.value, risk.basis).astype(object)
    result.seconds["churn"] = time.perf_counter() - clock

    clock = time.perf_counter()
    session.execute(delete(LoyaltyScore).where(LoyaltyScore.as_of == as_of))
    _store_fits(session, as_of, clv, int(np.count_nonzero(frame.has_orders)))
    result.seconds["delete"] = time.perf_counter() - clock
    clock = time.perf_counter()
    # The figure the M of RFM ranks: the last twelve calendar months.
    revenue_12m = _money(rfm.monetary_cents / 100.0)
    order_value, lifetime_value = _money(clv.expected_order_value), _money(clv.clv)
    p_alive = _rounded(clv.p_alive, 6)
    expected_90 = _rounded(clv.expected_90, 4)
    expected_365 = _rounded(clv.expected_365, 4)
    risks = np.round(risk_values, 6).tolist()
    names = list(scored.factor_names)
    values = np.round(scored.values, 4).astype(object)
    values[np.isnan(scored.values)] = None
    value_rows = values.tolist()
    point_rows = np.round(scored.points, 2).tolist()
    computed_at = utcnow()
    factor_rows = [
        [[name, value, points] for name, value, points in zip(names, v, p, strict=True)]
        for v, p in zip(value_rows, point_rows, strict=True)
    ]
    rows = list(
        zip(
            frame.customer_id.tolist(),
            [as_of] * n,
            frame.currency.tolist(),
            frame.orders.tolist(),
            [_day(d) for d in frame.first_day.tolist()],
            [_day(d) for d in frame.last_day.tolist()],
            revenue_12m,
            rfm.recency_score.tolist(),
            rfm.frequency_score.tolist(),
            rfm.monetary_score.tolist(),
            rfm.segment.tolist(),
            p_alive,
            expected_90,
            expected_365,
            order_value,
            lifetime_value,
            scored.score.tolist(),
            scored.band.tolist(),
            trend.tolist(),
            factor_rows,
            risks,
            basis_values.tolist(),
            [computed_at] * n,
            strict=True,
        )
    )
    result.seconds["prepare"] = time.perf_counter() - clock
    clock = time.perf_counter()
    bulk_insert(session, cast(Table, LoyaltyScore.__table__), _SCORE_COLUMNS, rows)
    session.flush()
    result.seconds["write"] = time.perf_counter() - clock

    result.segments = dict(sorted(Counter(rfm.segment.tolist()).items()))
    result.health_bands = dict(sorted(Counter(scored.band.tolist()).items()))
    result.trends = dict(sorted(Counter(trend.tolist()).items()))
    result.churn_basis = dict(sorted(Counter(basis_values.tolist()).items()))
    result.clv_model = {
        "model": clv.model,
        "params": clv.params,
        "log_likelihood": None if clv.log_likelihood is None else round(clv.log_likelihood, 2),
        "spend_params": clv.spend_params,
        "holdout_mae": clv.diagnostics.get("mae"),
    }

    clock = time.perf_counter()
    result.referrals = referrals.daily(session, as_of=as_of, settings=settings)
    result.seconds["referrals"] = time.perf_counter() - clock
    clock = time.perf_counter()
    result.next_actions = next_actions.run(session, as_of=as_of, settings=settings, frame=frame)
    result.seconds["next_actions"] = time.perf_counter() - clock
    return result
