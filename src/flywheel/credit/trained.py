"""The trained credit scorecard: learnt from the company's own history, used instead of the
expert card only while its out-of-time validation passes the minimums.

Target: a customer "goes bad" when one of its installments is still open 90 days after its due
date, that 90th day falling in the six months after the observation day. Observation days are
month-ends going back from ``as_of``: the latest one whose six months are fully known is kept
out for the out-of-time test, the six before it are the training data. Features are the expert
card's factors on each observation day (``analytics.credit_expert.payment_factors``), so the
two cards explain themselves in the same words.
"""

from __future__ import annotations

import math
import pickle
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from flywheel.analytics.credit_expert import (
    FACTORS,
    NO_DAY,
    CustomerFacts,
    InstallmentHistory,
    day_numbers,
    payment_factors,
)
from flywheel.errors import NotEnoughData
from flywheel.receivables.ledger_columns import EPOCH, LedgerColumns

MODEL_FILE = "credit_scorecard.pkl"
PERFORMANCE_DAYS = 183
BAD_DAYS = 90
TRAIN_SNAPSHOTS = 6
SNAPSHOT_STEP_DAYS = 30
# Used only when the out-of-time validation reaches these.
MINIMUMS = {"auc": 0.70, "ks": 0.30, "psi_max": 0.25}
# Grades by probability of going bad (upper bounds), best first; the rest is E.
PD_GRADES: tuple[tuple[str, float], ...] = (("A", 0.01), ("B", 0.03), ("C", 0.08), ("D", 0.20))
# Features left out: all missing until limits and collections exist.
UNUSED = ("limit_utilisation", "open_disputes", "broken_promises")
FEATURES = tuple(f for f in FACTORS if f not in UNUSED)


@dataclass(frozen=True, slots=True)
class TrainedCard:
    model: Any  # analytics.scorecard.CreditScorecard
    metrics: dict[str, float]
    passed: bool
    as_of: date
    grade_bounds: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class CardTraining:
    card: TrainedCard
    path: Path
    n_train: int
    n_test: int
    bad_rate_train: float
    seconds: dict[str, float] = field(default_factory=dict)


def factors_on(ledger: LedgerColumns, day: date, first_known: Any) -> dict[str, Any]:
    """The expert factors of every customer of ``ledger`` as they stood on ``day``."""
    inst = ledger.installments
    d = (day - EPOCH).days
    issued = day_numbers(inst.issue_day) <= d
    open_amount = np.where(issued, ledger.open_on(day), 0).astype(np.float64)
    settled = day_numbers(inst.settled_day)
    settled = np.where((settled > d) | (open_amount > 0) | ~issued, NO_DAY, settled)
    keep = issued
    history = InstallmentHistory(
        customer=inst.customer[keep],
        due_day=day_numbers(inst.due_day)[keep],
        amount=inst.amount[keep].astype(np.float64),
        open_amount=open_amount[keep],
        settled_day=settled[keep],
    )
    n = len(ledger.customers)
    facts = CustomerFacts(
        first_known_day=first_known,
        credit_limit=np.full(n, np.nan),
        open_disputes=np.full(n, np.nan),
        broken_promises=np.full(n, np.nan),
    )
    return payment_factors(history, facts, as_of_day=d, n_customers=n)


def went_bad(ledger: LedgerColumns, day: date, *, until: date) -> Any:
    """Per customer: an installment still open ``BAD_DAYS`` after its due date, that day in
    (``day``, ``until``]."""
    inst = ledger.installments
    due = inst.due_day.astype("datetime64[D]")
    bad_day = due + np.timedelta64(BAD_DAYS, "D")
    start, end = np.datetime64(day, "D"), np.datetime64(until, "D")
    in_window = (bad_day > start) & (bad_day <= end)
    still_open = np.zeros(len(inst), dtype=bool)
    rows = np.flatnonzero(in_window)
    if rows.size:
        open_then = ledger.open_on_each(bad_day)
        still_open[rows] = open_then[rows] > 0
    return np.bincount(inst.customer[still_open], minlength=len(ledger.customers)) > 0


def observationday_numbers(as_of: date) -> tuple[date, list[date]]:
    """(test day, training days oldest first)."""
    test = as_of - timedelta(days=PERFORMANCE_DAYS)
    train = [test - timedelta(days=SNAPSHOT_STEP_DAYS * k) for k in range(TRAIN_SNAPSHOTS, 0, -1)]
    # Training windows overlap the test window in calendar time; each is fully known by
    # as_of, and the test customers are scored on a later day than any training row.
    return test, train


def history_days_needed() -> int:
    return 365 + PERFORMANCE_DAYS + SNAPSHOT_STEP_DAYS * TRAIN_SNAPSHOTS + 1


def _frame(factors: dict[str, Any], rows: Any) -> Any:
    import pandas as pd  # type: ignore[import-untyped]

    return pd.DataFrame({name: np.asarray(factors[name])[rows] for name in FEATURES})


def grade_bounds(model: Any) -> tuple[tuple[str, int], ...]:
    """Score lower bounds of each grade from the PD bands and the card's points scaling."""
    bounds: list[tuple[str, int]] = []
    for grade, pd_max in PD_GRADES:
        odds = (1.0 - pd_max) / pd_max
        score = model.base_points + model.pdo * math.log2(odds / model.base_odds)
        bounds.append((grade, math.ceil(score)))
    bounds.append(("E", -(10**9)))
    return tuple(bounds)


def train_card(
    ledger: LedgerColumns, first_known: Any, *, as_of: date, model_dir: Path
) -> CardTraining:
    """Fit on the training observation days, validate on the held-out later one, keep it."""
    from flywheel.analytics.scorecard import CreditScorecard

    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    test_day, train_days = observationday_numbers(as_of)
    parts_x, parts_y = [], []
    for day in train_days:
        factors = factors_on(ledger, day, first_known)
        rows = np.flatnonzero(np.asarray(first_known) <= (day - EPOCH).days)
        parts_x.append(_frame(factors, rows))
        parts_y.append(went_bad(ledger, day, until=day + timedelta(days=PERFORMANCE_DAYS))[rows])
    import pandas as pd

    x_train = pd.concat(parts_x, ignore_index=True)
    y_train = np.concatenate(parts_y).astype(np.int64)
    test_factors = factors_on(ledger, test_day, first_known)
    test_rows = np.flatnonzero(np.asarray(first_known) <= (test_day - EPOCH).days)
    x_test = _frame(test_factors, test_rows)
    y_test = went_bad(ledger, test_day, until=as_of)[test_rows].astype(np.int64)
    seconds["features"] = time.perf_counter() - clock
    if len(y_train) < 200 or y_train.min() == y_train.max() or y_test.min() == y_test.max():
        raise NotEnoughData(
            "the credit history is too short or has no customer that went 90 days past due "
            "in the observation windows; the expert scorecard stays"
        )
    clock = time.perf_counter()
    model = CreditScorecard().fit(x_train, y_train)
    metrics = {k: float(v) for k, v in model.validate(x_test, y_test).items()}
    seconds["fit"] = time.perf_counter() - clock
    passed = (
        metrics["auc"] >= MINIMUMS["auc"]
        and metrics["ks"] >= MINIMUMS["ks"]
        and metrics["psi"] <= MINIMUMS["psi_max"]
    )
    card = TrainedCard(
        model=model, metrics=metrics, passed=passed, as_of=as_of, grade_bounds=grade_bounds(model)
    )
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_FILE
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump(card, handle)
    temporary.replace(path)
    return CardTraining(
        card=card,
        path=path,
        n_train=len(y_train),
        n_test=len(y_test),
        bad_rate_train=float(y_train.mean()),
        seconds=seconds,
    )


def load_card(model_dir: Path) -> TrainedCard | None:
    """The trained card when one was kept and it passed its validation; else None."""
    path = model_dir / MODEL_FILE
    if not path.exists():
        return None
    with path.open("rb") as handle:
        card = pickle.load(handle)
    return card if isinstance(card, TrainedCard) and card.passed else None


def score_with(card: TrainedCard, factors: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """(scores, grades, points per factor, factor values) of every customer row."""
    frame = _frame(factors, slice(None))
    scores = np.rint(card.model.score(frame)).astype(np.int64)
    explained = card.model.explain(frame, relative=True)
    names = list(explained.columns)
    points = np.rint(explained.to_numpy()).astype(np.int64)
    values = np.column_stack([np.asarray(factors[n], dtype=float) for n in names])
    grades_bounds = card.grade_bounds
    bounds = np.array([b for _, b in grades_bounds], dtype=float)
    reached = scores[:, None] >= bounds[None, :]
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), len(bounds) - 1)
    grades = np.asarray([g for g, _ in grades_bounds])[first]
    return scores, grades, points, (names, values)
