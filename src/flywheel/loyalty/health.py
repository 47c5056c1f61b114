"""Every account's health score for a day: the inputs read in a few grouped statements (survey
answers, touchpoints, follow-ups, disputes, the credit snapshot), the rest from the loyalty
frame and the CLV scores, scored by ``analytics.health``.

No ORM object per account and no query per account: each statement groups by customer and
returns one row per account that has something, spread into arrays in the frame's order.
The factor formulas, their neutral value for the unknown and the bands are documented in
``flywheel.analytics.health``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Float,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from flywheel.analytics import health as maths
from flywheel.collections import disputes
from flywheel.config import Settings
from flywheel.errors import ValidationFailed
from flywheel.feedback.surveys import SCALES
from flywheel.loyalty.frame import NO_DAY, LoyaltyFrame
from flywheel.loyalty.lifetime import ClvScores
from flywheel.models.credit import CreditScore
from flywheel.models.customers import Contact, Touchpoint
from flywheel.models.enums import HealthBand, SurveyKind, TouchpointKind
from flywheel.models.feedback import FeedbackLoop, SurveyResponse
from flywheel.receivables.ledger_columns import EPOCH, _rows

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

FACTORS = maths.FACTORS
GREEN_FROM = maths.GREEN_FROM
YELLOW_FROM = maths.YELLOW_FROM
NEUTRAL_SHARE = maths.NEUTRAL_SHARE

SURVEY_DAYS = 365  # NPS and CSAT: the answers of the last 12 months
SPEND_DAYS = 365  # spend trend: this many days against as many before them
TOUCH_DAYS = 90  # engagement and support load: the last 90 days
SUPPORT_NORMAL_DAYS = 365  # support load: "normal" is the 90-day average of the year before
_CHUNK = 900  # ids per IN (...) list: below SQLite's bound-parameter limit

# Plain strings (the enum's values): a driver may write an Enum member by its name.
_BANDS = {
    maths.GREEN: HealthBand.GREEN.value,
    maths.YELLOW: HealthBand.YELLOW.value,
    maths.RED: HealthBand.RED.value,
}


@dataclass(frozen=True)
class HealthScores:
    """Per account (frame rows): the 0–100 score, its band and its explanation."""

    score: IntArray
    band: ObjectArray  # HealthBand values, as plain strings
    factor_names: list[str]
    values: FloatArray  # n × factors, NaN = unknown
    points: FloatArray  # n × factors
    shares: FloatArray  # n × factors, 0 … 1, unknown ones at NEUTRAL_SHARE
    seconds: dict[str, float] = field(default_factory=dict)

    def explanation(self, row: int) -> list[list[Any]]:
        """``[[factor, value or None, points], …]`` of one account, as the score rows store it."""
        return [
            [name, None if np.isnan(v) else round(float(v), 4), round(float(p), 2)]
            for name, v, p in zip(
                self.factor_names, self.values[row], self.points[row], strict=True
            )
        ]


def checked_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The configured weights rescaled to 100, or a clear error naming what is wrong."""
    try:
        return maths.normalised_weights(weights)
    except ValueError as exc:
        raise ValidationFailed(
            f"FLYWHEEL_LOYALTY_HEALTH_WEIGHTS: {exc}", field="loyalty_health_weights"
        ) from exc


# ---------------------------------------------------------------- reading the inputs


def _moment(day: date) -> datetime:
    return datetime.combine(day, day_start(), tzinfo=UTC)


def _spread(
    frame: LoyaltyFrame, ids: Sequence[Any], columns: Iterable[Sequence[Any]], fill: float
) -> list[FloatArray]:
    """Columns of rows keyed by customer id, laid out in the frame's order (``fill`` where an
    account has no row). Ids not in the frame (accounts created since it was read) are left out."""
    n = len(frame)
    key = np.asarray(ids, dtype=np.int64)
    out: list[FloatArray] = []
    if key.size and n:
        rows = np.minimum(np.searchsorted(frame.customer_id, key), n - 1)
        found = frame.customer_id[rows] == key
    else:
        rows = np.zeros(0, dtype=np.int64)
        found = np.zeros(0, dtype=bool)
    for column in columns:
        values = np.full(n, fill, dtype=np.float64)
        if key.size and n:
            # PostgreSQL hands averages back as Decimal: float() each (there are few).
            given = np.array([np.nan if v is None else float(v) for v in column], dtype=np.float64)
            values[rows[found]] = given[found]
        out.append(values)
    return out


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[Sequence[Any]]:
    # A comprehension per column: zip(*rows) over 100,000 rows is several times slower.
    return [[row[k] for row in rows] for k in range(width)]


def _role_weight(role: Any, weights: Mapping[str, float]) -> ColumnElement[float]:
    """A buying role's weight (a role the settings do not name weighs what "" does), ≥ 0."""
    named = {k: max(float(v), 0.0) for k, v in weights.items() if k}
    default = max(float(weights.get("", 1.0)), 0.0)
    if not named:
        return literal(default, Float)
    return case(named, value=role, else_=literal(default, Float))


def read_nps(frame: LoyaltyFrame, session: Session, weights: Mapping[str, float]) -> FloatArray:
    """Account NPS of every account: each stakeholder's latest NPS answer of the last 12
    months, 100 × Σ wᵢ·(promoterᵢ − detractorᵢ) / Σ wᵢ (the feedback capability's account
    NPS); NaN without an answer that weighs."""
    scale = SCALES[SurveyKind.NPS]
    begin, finish = (
        _moment(frame.as_of - timedelta(days=SURVEY_DAYS - 1)),
        _moment(frame.as_of + timedelta(days=1)),
    )
    response = SurveyResponse
    ranked = func.row_number().over(
        partition_by=(response.customer_id, response.contact_id),
        order_by=(response.answered_at.desc(), response.id.desc()),
    )
    latest = (
        select(
            response.customer_id.label("customer_id"),
            response.score.label("score"),
            func.coalesce(response.buying_role, Contact.buying_role, "").label("role"),
            ranked.label("rank"),
        )
        .outerjoin(Contact, Contact.id == response.contact_id)
        .where(
            response.kind == SurveyKind.NPS.value,
            response.contact_id.is_not(None),
            response.answered_at >= begin,
            response.answered_at < finish,
        )
        .subquery("latest_nps")
    )
    weight = _role_weight(latest.c.role, weights)
    value = case((latest.c.score >= scale.good, 1), (latest.c.score <= scale.bad, -1), else_=0)
    rows = _rows(
        session,
        select(latest.c.customer_id, func.sum(weight * value), func.sum(weight))
        .where(latest.c.rank == 1)
        .group_by(latest.c.customer_id),
    )
    ids, weighted, total = _columns(rows, 3)
    net, weight_sum = _spread(frame, ids, (weighted, total), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            weight_sum > 0, 100.0 * net / np.where(weight_sum > 0, weight_sum, 1), np.nan
        )


def read_csat(frame: LoyaltyFrame, session: Session) -> FloatArray:
    """Mean CSAT answer (1–5) of the last 12 months per account; NaN without one."""
    begin, finish = (
        _moment(frame.as_of - timedelta(days=SURVEY_DAYS - 1)),
        _moment(frame.as_of + timedelta(days=1)),
    )
    rows = _rows(
        session,
        select(SurveyResponse.customer_id, func.avg(SurveyResponse.score))
        .where(
            SurveyResponse.kind == SurveyKind.CSAT.value,
            SurveyResponse.answered_at >= begin,
            SurveyResponse.answered_at < finish,
        )
        .group_by(SurveyResponse.customer_id),
    )
    ids, mean = _columns(rows, 2)
    return _spread(frame, ids, (mean,), np.nan)[0]


@dataclass(frozen=True, slots=True)
class TouchCounts:
    touchpoints: FloatArray  # other than support, last 90 days
    satisfaction: FloatArray  # mean satisfaction of the last 90 days' rated ones; NaN: none
    support: FloatArray  # support touchpoints, last 90 days
    support_before: FloatArray  # support touchpoints in the year before those 90 days


def read_touchpoints(frame: LoyaltyFrame, session: Session) -> TouchCounts:
    """Touchpoint counts per account for engagement and support load, one grouped statement."""
    recent_from = _moment(frame.as_of - timedelta(days=TOUCH_DAYS - 1))
    before_from = _moment(frame.as_of - timedelta(days=TOUCH_DAYS - 1 + SUPPORT_NORMAL_DAYS))
    finish = _moment(frame.as_of + timedelta(days=1))
    t = Touchpoint
    recent = t.occurred_at >= recent_from
    support = t.kind == TouchpointKind.SUPPORT.value
    rated = and_(recent, t.satisfaction.is_not(None))

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    rows = _rows(
        session,
        select(
            t.customer_id,
            count(and_(recent, ~support)),
            func.sum(case((rated, t.satisfaction), else_=0)),
            count(rated),
            count(and_(recent, support)),
            count(and_(~recent, support)),
        )
        .where(t.occurred_at >= before_from, t.occurred_at < finish)
        .group_by(t.customer_id),
    )
    ids, *columns = _columns(rows, 6)
    touched, satisfaction_sum, rated_n, support_n, support_before = _spread(
        frame, ids, columns, 0.0
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        satisfaction = np.where(rated_n > 0, satisfaction_sum / np.maximum(rated_n, 1), np.nan)
    return TouchCounts(touched, satisfaction, support_n, support_before)


def read_open_issues(frame: LoyaltyFrame, session: Session) -> FloatArray:
    """Feedback follow-ups open at the end of ``as_of`` plus disputes open on it, per account."""
    finish = _moment(frame.as_of + timedelta(days=1))
    loops = _rows(
        session,
        select(FeedbackLoop.customer_id, func.count())
        .where(
            FeedbackLoop.opened_at < finish,
            or_(FeedbackLoop.closed_at.is_(None), FeedbackLoop.closed_at >= finish),
        )
        .group_by(FeedbackLoop.customer_id),
    )
    ids, counts = _columns(loops, 2)
    issues = _spread(frame, ids, (counts,), 0.0)[0]
    disputed = disputes.open_counts(session, as_of=frame.as_of)
    issues += _spread(frame, list(disputed), (list(disputed.values()),), 0.0)[0]
    return issues


_BEYOND_KEY = '"days_beyond_terms"'
_BEYOND_VALUE = re.compile(r'^"days_beyond_terms"\s*,\s*(-?[0-9][0-9.eE+-]*)')


def _beyond_terms_snippet(dialect: str) -> ColumnElement[str]:
    """The text of the stored factors from the "days_beyond_terms" entry on (a few dozen
    characters): the database cuts it out, so neither the driver nor Python parses 100,000
    JSON lists for one number each."""
    if dialect == "postgresql":
        raw: ColumnElement[str] = cast(CreditScore.factors, Text)
        at = func.strpos(raw, _BEYOND_KEY)
    else:
        raw = type_coerce(CreditScore.factors, Text)  # SQLite keeps JSON as its text
        at = func.instr(raw, _BEYOND_KEY)
    return func.substr(raw, at, 64)


def _beyond_value(snippet: str | None) -> float:
    found = _BEYOND_VALUE.match(snippet or "")
    return float(found.group(1)) if found else np.nan


def read_credit(frame: LoyaltyFrame, session: Session) -> tuple[FloatArray, FloatArray]:
    """Each account's credit grade (A = 1 … E = 5) and average days beyond terms from its
    latest credit score on or before ``as_of``; NaN where it has none.

    The daily cycle scores every account on each day it runs, so the latest day's snapshot
    holds every account known then; only accounts missing from it that existed on that day
    (none, normally) are looked up, a chunk at a time."""
    n = len(frame)
    grade = np.full(n, np.nan)
    days_beyond = np.full(n, np.nan)
    cs = CreditScore
    day = session.scalar(select(func.max(cs.as_of)).where(cs.as_of <= frame.as_of))
    if day is None:
        return grade, days_beyond
    snippet = _beyond_terms_snippet(session.get_bind().dialect.name)
    columns = (cs.customer_id, cs.grade, snippet)

    def fill(rows: list[tuple[Any, ...]]) -> npt.NDArray[np.bool_]:
        ids, grades, snippets = _columns(rows, 3)
        numbers = [maths.GRADE_NUMBERS.get(str(g), np.nan) for g in grades]
        beyond = [_beyond_value(t) for t in snippets]
        g, b = _spread(frame, ids, (numbers, beyond), np.nan)
        found = ~np.isnan(g)
        grade[found] = g[found]
        days_beyond[found] = b[found]
        return found

    seen = fill(_rows(session, select(*columns).where(cs.as_of == day)))
    # Only an account that existed on the snapshot's day can have an older score.
    missing = frame.customer_id[~seen & (frame.created_day < (day - EPOCH).days)].tolist()
    for start in range(0, len(missing), _CHUNK):
        chunk = missing[start : start + _CHUNK]
        newest = (
            select(cs.customer_id, func.max(cs.as_of).label("day"))
            .where(cs.customer_id.in_(chunk), cs.as_of < day)
            .group_by(cs.customer_id)
            .subquery()
        )
        fill(
            _rows(
                session,
                select(*columns).join(
                    newest, and_(cs.customer_id == newest.c.customer_id, cs.as_of == newest.c.day)
                ),
            )
        )
    return grade, days_beyond


# ---------------------------------------------------------------- the score


def inputs_from(
    frame: LoyaltyFrame,
    clv: ClvScores,
    *,
    nps: FloatArray,
    csat: FloatArray,
    credit_grade: FloatArray,
    days_beyond_terms: FloatArray,
    open_issues: FloatArray,
    touches: TouchCounts,
) -> maths.HealthInputs:
    """The raw factor values from what was read and the frame's purchase days."""
    as_of_day = frame.as_of_day
    bought = frame.last_day != NO_DAY
    gap = np.where(bought, as_of_day - frame.last_day, np.nan).astype(np.float64)
    missed = gap * clv.expected_rate  # NaN where the CLV model has nothing to go on
    recent = frame.revenue_between(as_of_day - SPEND_DAYS + 1, as_of_day).astype(np.float64)
    prior = frame.revenue_between(as_of_day - 2 * SPEND_DAYS + 1, as_of_day - SPEND_DAYS).astype(
        np.float64
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(prior > 0, recent / np.where(prior > 0, prior, 1.0) - 1.0, np.nan)
    # A young account without a touchpoint yet is unknown, not disengaged.
    young = frame.created_day > as_of_day - TOUCH_DAYS
    touchpoints = np.where((touches.touchpoints == 0) & young, np.nan, touches.touchpoints)
    normal = np.maximum(touches.support_before * TOUCH_DAYS / SUPPORT_NORMAL_DAYS, 1.0)
    return maths.HealthInputs(
        nps=nps,
        csat=csat,
        missed_purchases=missed,
        p_alive=clv.p_alive,
        spend_change=change,
        credit_grade=credit_grade,
        days_beyond_terms=days_beyond_terms,
        open_issues=open_issues,
        touchpoints=touchpoints,
        touch_satisfaction=touches.satisfaction,
        support_ratio=touches.support / normal,
    )


def read_inputs(
    session: Session, *, frame: LoyaltyFrame, clv: ClvScores, settings: Settings
) -> tuple[maths.HealthInputs, dict[str, float]]:
    """Every account's raw factor values for ``frame.as_of``, and the seconds each read took.
    Factors weighing 0 are not read."""
    weights = checked_weights(settings.loyalty_health_weights)
    n = len(frame)
    unknown = np.full(n, np.nan)
    seconds: dict[str, float] = {}

    def timed(name: str, wanted: bool, read: Any, default: Any) -> Any:
        if not wanted:
            return default
        clock = time.perf_counter()
        result = read()
        seconds[name] = time.perf_counter() - clock
        return result

    nps = timed(
        "nps",
        "nps" in weights,
        lambda: read_nps(frame, session, settings.account_nps_weights),
        unknown,
    )
    csat = timed("csat", "csat" in weights, lambda: read_csat(frame, session), unknown)
    grade, beyond = timed(
        "credit",
        "credit_grade" in weights or "days_beyond_terms" in weights,
        lambda: read_credit(frame, session),
        (unknown, unknown),
    )
    issues = timed(
        "open_issues",
        "open_issues" in weights,
        lambda: read_open_issues(frame, session),
        np.zeros(n),
    )
    zero = np.zeros(n)
    touches = timed(
        "touchpoints",
        "engagement" in weights or "support_load" in weights,
        lambda: read_touchpoints(frame, session),
        TouchCounts(zero, unknown, zero, zero),
    )
    inputs = inputs_from(
        frame,
        clv,
        nps=nps,
        csat=csat,
        credit_grade=grade,
        days_beyond_terms=beyond,
        open_issues=issues,
        touches=touches,
    )
    return inputs, seconds


def score(inputs: maths.HealthInputs, weights: Mapping[str, float]) -> HealthScores:
    """Score raw inputs with the given weights (checked)."""
    checked_weights(weights)
    scored = maths.score_health(inputs, weights)
    return HealthScores(
        score=scored.score,
        band=np.asarray([_BANDS[b] for b in scored.band.tolist()], dtype=object),
        factor_names=scored.factor_names,
        values=scored.values,
        points=scored.points,
        shares=scored.shares,
    )


def compute_health(
    session: Session, *, frame: LoyaltyFrame, clv: ClvScores, settings: Settings
) -> HealthScores:
    """Every account's health for ``frame.as_of``: 0–100, its band and each factor's value
    and points (weights from ``settings.loyalty_health_weights``)."""
    clock = time.perf_counter()
    inputs, seconds = read_inputs(session, frame=frame, clv=clv, settings=settings)
    read = time.perf_counter() - clock
    clock = time.perf_counter()
    scored = score(inputs, settings.loyalty_health_weights)
    seconds["read"] = read
    seconds["score"] = time.perf_counter() - clock
    return HealthScores(
        score=scored.score,
        band=scored.band,
        factor_names=scored.factor_names,
        values=scored.values,
        points=scored.points,
        shares=scored.shares,
        seconds=seconds,
    )
