"""Credit scoring of every customer for a day: read the ledger once in columns, score with the
expert scorecard, write one dated snapshot row per customer, audit the grades that changed."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import ScalarSelect, Select, Table, bindparam, delete, select
from sqlalchemy.orm import Session

from flywheel.analytics.credit_expert import (
    DEFAULT_SCORECARD,
    NO_DAY,
    CustomerFacts,
    ExpertScorecard,
    InstallmentHistory,
    day_numbers,
    payment_factors,
    score_customers,
)
from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.collections import disputes, promises
from flywheel.credit import limits, trained
from flywheel.db import bulk_insert
from flywheel.errors import ValidationFailed
from flywheel.models.base import utcnow
from flywheel.models.credit import CreditLimit, CreditScore
from flywheel.models.customers import Customer
from flywheel.receivables.ledger_columns import EPOCH, LedgerColumns, read_ledger

# The factors look at one year: what was settled in it and what is open. Reading from a year
# back holds both (an installment settled in the year but due before it was open on the first
# day, so the read has it).
HISTORY_DAYS = 365
EXPERT = "expert"
TRAINED = "trained"
_SCORE_COLUMNS = ("customer_id", "as_of", "score", "grade", "model", "factors", "computed_at")


@dataclass(frozen=True, slots=True)
class ScoreRun:
    as_of: date
    customers: int
    grades: dict[str, int]
    grade_changes: int
    limit_reviews_proposed: int = 0
    limit_reviews_refreshed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    model: str = EXPERT


def load_scorecard(path: Path | None) -> ExpertScorecard:
    """The expert scorecard from a JSON file (``FLYWHEEL_CREDIT_SCORECARD``), else the default."""
    if path is None:
        return DEFAULT_SCORECARD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ExpertScorecard.from_dict(data)
    except OSError as exc:
        raise ValidationFailed(f"cannot read the credit scorecard {path}: {exc}") from exc
    except (json.JSONDecodeError, ValueError) as exc:
        raise ValidationFailed(f"the credit scorecard {path} is not valid: {exc}") from exc


def _per_customer(ids: np.ndarray, counts: dict[int, int]) -> np.ndarray:
    """A count per customer of ``ids`` (0 for those not in ``counts``), as floats."""
    return np.array([counts.get(c, 0) for c in ids.tolist()], dtype=np.float64)


@dataclass(frozen=True)
class Scored:
    """Every customer's credit score as of a day, computed and not yet stored."""

    ledger: LedgerColumns
    scores: np.ndarray[Any, Any]
    grades: np.ndarray[Any, Any]
    points: np.ndarray[Any, Any]  # (customers, factors)
    factor_names: list[str]
    values: np.ndarray[Any, Any]  # (customers, factors)
    model: str
    seconds: dict[str, float] = field(default_factory=dict)


def compute_scores(
    session: Session,
    *,
    as_of: date,
    card: ExpertScorecard = DEFAULT_SCORECARD,
    trained_card: trained.TrainedCard | None = None,
    ledger: LedgerColumns | None = None,
) -> Scored:
    """Score every customer as of ``as_of`` without writing anything (``score_all`` stores
    it; the insights cube grades past month ends with it). ``ledger`` is a read as of
    ``as_of`` complete from ``HISTORY_DAYS`` before it; read here when not given."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    if ledger is None:
        ledger = read_ledger(session, as_of=as_of, since=as_of - timedelta(days=HISTORY_DAYS))
    customers = ledger.customers
    n = len(customers)
    known = dict(session.execute(select(Customer.id, Customer.created_on)).all())
    seconds["read"] = time.perf_counter() - clock

    clock = time.perf_counter()
    as_of_day = (as_of - EPOCH).days
    inst = ledger.installments
    settled = day_numbers(inst.settled_day)
    open_amount = ledger.open_on(as_of).astype(np.float64)
    # Settled after as_of: still open on the day the score is for.
    settled = np.where((settled > as_of_day) | (open_amount > 0), NO_DAY, settled)
    history = InstallmentHistory(
        customer=inst.customer,
        due_day=day_numbers(inst.due_day),
        amount=inst.amount.astype(np.float64),
        open_amount=open_amount,
        settled_day=settled,
    )
    first_known = _first_known(known, customers.id)
    # Approved limits in cents, like the ledger's amounts; NaN where a customer has none.
    limits_of = dict(session.execute(select(CreditLimit.customer_id, CreditLimit.amount)).all())
    credit_limit = np.array(
        [float(limits_of[c]) * 100 if c in limits_of else np.nan for c in customers.id.tolist()]
    )
    facts = CustomerFacts(
        first_known_day=first_known,
        credit_limit=credit_limit,
        # From collections: disputes open on the day, promises broken in the past year.
        open_disputes=_per_customer(customers.id, disputes.open_counts(session, as_of=as_of)),
        broken_promises=_per_customer(
            customers.id,
            promises.broken_counts(
                session, as_of=as_of, since=as_of - timedelta(days=HISTORY_DAYS)
            ),
        ),
    )
    factors = payment_factors(history, facts, as_of_day=as_of_day, n_customers=n)
    if trained_card is not None:
        score_array, grade_array, point_matrix, (names_list, value_matrix) = trained.score_with(
            trained_card, factors
        )
        model_name = TRAINED
    else:
        scored = score_customers(card, factors)
        score_array, grade_array, point_matrix = scored.scores, scored.grades, scored.points
        names_list, value_matrix = list(scored.factor_names), scored.values
        model_name = EXPERT
    seconds["compute"] = time.perf_counter() - clock
    return Scored(
        ledger=ledger,
        scores=score_array,
        grades=grade_array,
        points=point_matrix,
        factor_names=list(names_list),
        values=value_matrix,
        model=model_name,
        seconds=seconds,
    )


def score_all(
    session: Session,
    *,
    as_of: date,
    card: ExpertScorecard = DEFAULT_SCORECARD,
    trained_card: trained.TrainedCard | None = None,
    actor: Actor | None = None,
    ledger: LedgerColumns | None = None,
) -> ScoreRun:
    """Score every customer as of ``as_of`` and store the day's snapshot (replacing one already
    written for that day). Grade changes against the latest earlier snapshot are audited.
    ``ledger``: as for ``compute_scores``."""
    computed = compute_scores(
        session, as_of=as_of, card=card, trained_card=trained_card, ledger=ledger
    )
    seconds = dict(computed.seconds)
    ledger, customers = computed.ledger, computed.ledger.customers
    n = len(customers)
    score_array, grade_array, point_matrix = computed.scores, computed.grades, computed.points
    names_list, value_matrix, model_name = computed.factor_names, computed.values, computed.model

    clock = time.perf_counter()
    previous = _previous_grades(session, as_of)
    session.execute(delete(CreditScore).where(CreditScore.as_of == as_of))
    seconds["write_previous"] = time.perf_counter() - clock
    grades = grade_array.tolist()
    scores = score_array.tolist()
    # Each row's reasons, largest effect first: one argsort for every customer at once.
    order = np.argsort(-np.abs(point_matrix), axis=1, kind="stable")
    names = np.asarray(names_list, dtype=object)
    ordered_names = names[order].tolist()
    ordered_points = np.take_along_axis(point_matrix, order, axis=1).tolist()
    values = np.take_along_axis(value_matrix, order, axis=1)
    rounded = np.round(values, 4).astype(object)
    rounded[np.isnan(values)] = None
    ordered_values = rounded.tolist()
    computed_at = utcnow()
    rows: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
    for row, customer_id in enumerate(customers.id.tolist()):
        rows.append(
            (
                customer_id,
                as_of,
                scores[row],
                grades[row],
                model_name,
                [
                    [f, v, p]
                    for f, v, p in zip(
                        ordered_names[row], ordered_values[row], ordered_points[row], strict=True
                    )
                ],
                computed_at,
            )
        )
        before = previous.get(customer_id)
        if before is not None and before[0] != grades[row]:
            changes.append(
                {
                    "action": "credit.grade_changed",
                    "subject_type": "customer",
                    "subject_id": customer_id,
                    "customer_id": customer_id,
                    "before": {"grade": before[0], "score": before[1], "as_of": before[2]},
                    "after": {
                        "grade": grades[row],
                        "score": scores[row],
                        "as_of": as_of.isoformat(),
                    },
                }
            )
    # One executemany (COPY on PostgreSQL) without SQLAlchemy's per-row parameter handling,
    # which cost several times the database's own work for 100,000 rows.
    bulk_insert(session, cast(Table, CreditScore.__table__), _SCORE_COLUMNS, rows)
    audit.record_many(session, actor or Actor.system("flywheel run"), changes)
    proposals = limits.propose(session, ledger, grades, as_of=as_of)
    session.flush()
    seconds["write"] = time.perf_counter() - clock
    return ScoreRun(
        as_of=as_of,
        customers=n,
        grades=dict(sorted(Counter(grades).items())),
        grade_changes=len(changes),
        model=model_name,
        limit_reviews_proposed=proposals.proposed,
        limit_reviews_refreshed=proposals.updated,
        seconds=seconds,
    )


def _first_known(known: dict[int, date], ids: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Days since 1970 each customer (row) was first known, from its created-on date."""
    return np.array(
        [(known[int(cid)] - EPOCH).days if known.get(int(cid)) else NO_DAY for cid in ids],
        dtype=np.int64,
    )


def train_scorecard(session: Session, *, as_of: date, model_dir: Path) -> trained.CardTraining:
    """Learn a scorecard from the history up to ``as_of`` and keep it (used by the daily cycle
    only if its out-of-time validation passed)."""
    clock = time.perf_counter()
    ledger = read_ledger(
        session, as_of=as_of, since=as_of - timedelta(days=trained.history_days_needed())
    )
    known = dict(session.execute(select(Customer.id, Customer.created_on)).all())
    read = time.perf_counter() - clock
    result = trained.train_card(
        ledger, _first_known(known, ledger.customers.id), as_of=as_of, model_dir=model_dir
    )
    result.seconds["read"] = read
    return result


def _previous_grades(session: Session, as_of: date) -> dict[int, tuple[str, int, str]]:
    """Each customer's grade, score and day in the latest snapshot before ``as_of``."""
    day = session.scalar(
        select(CreditScore.as_of)
        .where(CreditScore.as_of < as_of)
        .order_by(CreditScore.as_of.desc())
        .limit(1)
    )
    if day is None:
        return {}
    return {
        customer_id: (grade, score, day.isoformat())
        for customer_id, grade, score in session.execute(
            select(CreditScore.customer_id, CreditScore.grade, CreditScore.score).where(
                CreditScore.as_of == day
            )
        )
    }


# ---------------------------------------------------------------- reading the snapshots


@dataclass(frozen=True, slots=True)
class Reason:
    factor: str
    value: float | None
    points: int


@dataclass(frozen=True, slots=True)
class CreditView:
    customer_id: int
    as_of: date
    score: int
    grade: str
    model: str
    reasons: list[Reason]
    history: list[tuple[date, int, str]]  # (day, score, grade), oldest first


# Built once, with bound parameters: every 360 runs it (more than once), and building a
# statement costs more than running it.
_SCORES_SINCE = (
    select(CreditScore)
    .where(
        CreditScore.customer_id == bindparam("customer_id"),
        CreditScore.as_of <= bindparam("as_of"),
        CreditScore.as_of > bindparam("since"),
    )
    .order_by(CreditScore.as_of)
)


def latest_score(
    session: Session, customer_id: int, *, as_of: date, days: int = 400
) -> CreditView | None:
    """The customer's newest snapshot on or before ``as_of``, with the scores of the ``days``
    before it (the trend). None when the customer has never been scored."""
    rows = session.scalars(
        _SCORES_SINCE,
        {"customer_id": customer_id, "as_of": as_of, "since": as_of - timedelta(days=days)},
    ).all()
    if not rows:
        return None
    newest = rows[-1]
    return CreditView(
        customer_id=customer_id,
        as_of=newest.as_of,
        score=newest.score,
        grade=newest.grade,
        model=newest.model,
        reasons=[
            Reason(str(f), None if v is None else float(v), int(p)) for f, v, p in newest.factors
        ],
        history=[(r.as_of, r.score, r.grade) for r in rows],
    )


def _newest_score_day(as_of: date) -> ScalarSelect[date]:
    return (
        select(CreditScore.as_of)
        .where(CreditScore.as_of <= as_of)
        .order_by(CreditScore.as_of.desc())
        .limit(1)
        .scalar_subquery()
    )


def grades_of(
    session: Session, *, as_of: date, customer_ids: Collection[int] | None = None
) -> dict[int, str]:
    """customer id → grade in the newest snapshot day on or before ``as_of`` (empty if none),
    for every customer or only ``customer_ids``."""
    stmt = select(CreditScore.customer_id, CreditScore.grade).where(
        CreditScore.as_of == _newest_score_day(as_of)
    )
    if customer_ids is not None:
        if not customer_ids:
            return {}
        stmt = stmt.where(CreditScore.customer_id.in_(list(customer_ids)))
    return {row[0]: row[1] for row in session.execute(stmt)}


def graded(as_of: date, grade: str) -> Select[int]:
    """The ids of the customers graded ``grade`` in the newest snapshot on or before ``as_of``
    (a subquery for ``IN``)."""
    return select(CreditScore.customer_id).where(
        CreditScore.as_of == _newest_score_day(as_of), CreditScore.grade == grade
    )
