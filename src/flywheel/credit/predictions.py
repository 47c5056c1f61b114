"""Payment-date predictions and the 13-week cash forecast.

``train`` fits the payment-date model (``analytics.payment_model``) on the company's paid
installments, backtests it in time order against the naive baselines, and keeps it in one file
(``FLYWHEEL_MODEL_DIR``). The daily cycle then predicts, for every open installment, its payment
day and the probabilities of paying late, and sums the open amounts into expected receipts per
week for the next 13 weeks, with a band from the model's own errors.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from flywheel.config import get_settings
from flywheel.db import bulk_insert
from flywheel.errors import NotEnoughData
from flywheel.kit.money import CENT, from_float
from flywheel.models.credit import CashForecast, PaymentPrediction
from flywheel.models.receivables import Installment, Invoice, Payment
from flywheel.receivables.ledger_columns import LedgerColumns, read_ledger, to_day

MODEL_FILE = "payment_model.pkl"
HISTORY_YEARS = 3
BACKTEST_DAYS = 180  # the backtest tests on the installments issued in the last 180 days
WEEKS = 13
_PREDICTION_COLUMNS = (
    "installment_id",
    "customer_id",
    "as_of",
    "predicted_on",
    "days_late",
    "p_late",
    "p_very_late",
)
BAND = (0.10, 0.90)  # the band: the 10th and 90th percentiles of the model's errors


@dataclass(frozen=True, slots=True)
class TrainResult:
    as_of: date
    path: Path
    n_train: int
    n_test: int
    mae_days: float
    baseline_mae_days: dict[str, float]
    auc_late: float | None
    improvement_over_best_baseline: float
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PredictResult:
    predicted: int
    weeks: int
    seconds: dict[str, float] = field(default_factory=dict)


def model_path(model_dir: Path) -> Path:
    return model_dir / MODEL_FILE


def history_days() -> int:
    """How far back the history reaches: the invoices of the last ``HISTORY_YEARS`` years."""
    return 365 * HISTORY_YEARS


def load_history(session: Session, *, as_of: date, ledger: LedgerColumns | None = None) -> Any:
    """One row per installment of invoices issued in the last three years up to ``as_of``:
    installment, customer, issue/due/paid dates (paid: settled in full by ``as_of``, not
    written off), amount, the amount open now and — for the open ones — the invoice's
    currency (None for the others).

    It comes from a columnar read of the ledger (``receivables.ledger_columns``): ``ledger``
    when the caller already has one complete from ``history_days()`` before ``as_of``, else a
    read of its own."""
    import pandas as pd  # type: ignore[import-untyped]

    since = as_of - timedelta(days=history_days())
    if ledger is None:
        ledger = read_ledger(session, as_of=as_of, since=since)
    elif (reach := ledger.reaches_back()) is None or reach > since or ledger.as_of < as_of:
        raise ValueError(f"the ledger read from {reach} does not reach back to {since}")
    inst = ledger.installments
    keep = (inst.issue_day >= to_day(since)) & (inst.issue_day <= to_day(as_of))
    settled = inst.settled_day[keep]
    written_off = inst.written_off[keep]
    open_now = inst.open_now[keep]
    paid = ~np.isnat(settled) & (written_off == 0) & (settled <= to_day(as_of))
    is_open = np.isnat(settled) & (open_now > 0)
    ids = inst.id[keep]
    currency = np.full(len(ids), None, dtype=object)
    currency[is_open] = _currencies(session, ids[is_open])
    return pd.DataFrame(
        {
            "installment_id": ids,
            "customer": inst.customer_id[keep],
            "issue_date": inst.issue_day[keep].astype("datetime64[ns]"),
            "due_date": inst.due_day[keep].astype("datetime64[ns]"),
            "paid_date": np.where(paid, settled, np.datetime64("NaT")).astype("datetime64[ns]"),
            "is_open": is_open,
            "amount": inst.amount[keep] / 100.0,
            "open_amount": open_now / 100.0,
            "currency": currency,
        }
    )


def _currencies(session: Session, installment_ids: np.ndarray[Any, Any]) -> list[str]:
    """The invoice currency of each of these (open) installments, in their order: one read of
    every unsettled installment's currency (a few hundred thousand short rows at most), then
    any other asked for by id."""
    rows = session.execute(
        select(Installment.id, Invoice.currency)
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(Installment.settled_on.is_(None))
    ).tuples()
    found: dict[int, str] = dict(rows.all())
    ids = installment_ids.tolist()
    missing = [i for i in ids if i not in found]
    for start in range(0, len(missing), 5000):
        chunk = missing[start : start + 5000]
        found.update(
            session.execute(
                select(Installment.id, Invoice.currency)
                .join(Invoice, Invoice.id == Installment.invoice_id)
                .where(Installment.id.in_(chunk))
            )
            .tuples()
            .all()
        )
    return [found[i] for i in ids]


def train(session: Session, *, as_of: date, model_dir: Path) -> TrainResult:
    """Backtest on the last 180 days, then fit on everything paid and keep the model."""
    from flywheel.analytics.payment_model import PaymentDelayModel, backtest, build_features

    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    history = load_history(session, as_of=as_of)
    seconds["read"] = time.perf_counter() - clock
    if history["paid_date"].notna().sum() < 50:
        raise NotEnoughData("the payment-date model needs at least 50 paid installments")
    clock = time.perf_counter()
    features = build_features(history)
    split = as_of - timedelta(days=BACKTEST_DAYS)
    try:
        tested = backtest(history, split_date=split, features=features)
    except ValueError as exc:
        raise NotEnoughData(f"cannot backtest the payment-date model: {exc}") from exc
    seconds["backtest"] = time.perf_counter() - clock
    clock = time.perf_counter()
    # The model kept is fitted on everything paid whose due date is old enough to have been
    # paid late too (the backtest's settle_days), oldest first.
    import pandas as pd

    paid = history["paid_date"].notna().to_numpy()
    old_enough = (
        history["due_date"] <= pd.Timestamp(as_of - timedelta(days=tested.settle_days))
    ).to_numpy()
    rows = np.flatnonzero(paid & old_enough)
    rows = rows[np.argsort(history["issue_date"].to_numpy()[rows], kind="stable")]
    target = (history["paid_date"] - history["due_date"]).dt.days.to_numpy(dtype=float)
    model = PaymentDelayModel().fit(features.iloc[rows], target[rows])
    seconds["fit"] = time.perf_counter() - clock
    path = model_path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    metrics = {
        "as_of": as_of.isoformat(),
        "n_train": model.n_train_,
        "backtest": {
            "split_date": split.isoformat(),
            "n_test": tested.n_test_paid,
            "mae_days": tested.mae_days,
            "auc_late": tested.auc_late,
            "baseline_mae_days": tested.baseline_mae_days,
        },
    }
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump({"model": model, "metrics": metrics}, handle)
    temporary.replace(path)  # a reader never sees half a file
    return TrainResult(
        as_of=as_of,
        path=path,
        n_train=model.n_train_,
        n_test=tested.n_test_paid,
        mae_days=tested.mae_days,
        baseline_mae_days=dict(tested.baseline_mae_days),
        auc_late=tested.auc_late,
        improvement_over_best_baseline=tested.improvement_over_best_baseline,
        seconds=seconds,
    )


def load_model(model_dir: Path) -> tuple[Any, dict[str, Any]] | None:
    """(model, metrics) from ``flywheel credit train``, or None when none was trained. The
    file is ours (written by train): it is a pickle, so keep the folder writable by Flywheel
    only."""
    path = model_path(model_dir)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        kept = pickle.load(handle)
    return kept["model"], kept["metrics"]


def predict(
    session: Session,
    *,
    as_of: date,
    model_dir: Path,
    ledger: LedgerColumns | None = None,
    loaded: tuple[Any, dict[str, Any]] | None = None,
) -> PredictResult | None:
    """Predict every open installment's payment day and write the 13-week cash forecast of
    ``as_of``; None (and nothing written) when no model has been trained. ``ledger``: a
    columnar read complete from ``history_days()`` before ``as_of``, when the caller has one
    (the daily cycle shares its read with the credit scores); ``loaded``: the model when the
    caller has loaded it already (``load_model``)."""
    from flywheel.analytics.payment_model import build_features

    kept = loaded if loaded is not None else load_model(model_dir)
    if kept is None:
        return None
    model, _metrics = kept
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    history = load_history(session, as_of=as_of, ledger=ledger)
    seconds["read"] = time.perf_counter() - clock
    clock = time.perf_counter()
    is_open = history["is_open"].to_numpy()
    open_rows = np.flatnonzero(is_open)
    # Only the open items need features; the history behind them is every installment.
    open_features = build_features(history, rows=open_rows)
    due = history["due_date"].to_numpy()[open_rows].astype("datetime64[D]")
    as_of_day = np.datetime64(as_of, "D")
    so_far = (as_of_day - due).astype(np.int64)
    days_late = np.rint(model.predict_given_unpaid(open_features, so_far)).astype(np.int64)
    # Never in the past: an overdue item is expected from tomorrow at the earliest.
    predicted = np.maximum(due + days_late.astype("timedelta64[D]"), as_of_day + 1)
    p_late = model.predict_proba_late(open_features)
    p_very_late = model.predict_proba_very_late(open_features)
    seconds["compute"] = time.perf_counter() - clock

    clock = time.perf_counter()
    session.execute(delete(PaymentPrediction))
    ids = history["installment_id"].to_numpy()[open_rows].tolist()
    customers = history["customer"].to_numpy()[open_rows].tolist()
    predicted_days = predicted.astype(object).tolist()
    late = days_late.tolist()
    bulk_insert(
        session,
        cast(Table, PaymentPrediction.__table__),
        _PREDICTION_COLUMNS,
        list(
            zip(
                ids,
                customers,
                [as_of] * len(ids),
                predicted_days,
                late,
                np.round(p_late, 4).tolist(),
                np.round(p_very_late, 4).tolist(),
                strict=True,
            )
        ),
    )

    amounts = history["open_amount"].to_numpy()[open_rows]
    currencies = history["currency"].to_numpy()[open_rows]
    session.execute(delete(CashForecast).where(CashForecast.as_of == as_of))
    forecast_rows: list[dict[str, Any]] = []
    # Always the base currency, so an empty book shows a forecast of zeros, not none.
    for currency in sorted(set(currencies.tolist()) | {get_settings().base_currency}):
        mine = currencies == currency
        weeks = weekly_forecast(
            predicted[mine], amounts[mine], as_of=as_of, residuals=model.residuals_
        )
        forecast_rows += [
            {
                "as_of": as_of,
                "currency": currency,
                "week_start": start,
                "expected": expected,
                "low": low,
                "high": high,
            }
            for start, expected, low, high in weeks
        ]
    if forecast_rows:
        session.execute(insert(cast(Table, CashForecast.__table__)), forecast_rows)
    session.flush()
    seconds["write"] = time.perf_counter() - clock
    return PredictResult(predicted=len(ids), weeks=WEEKS, seconds=seconds)


def weekly_forecast(
    predicted: np.ndarray[Any, Any],
    amounts: np.ndarray[Any, Any],
    *,
    as_of: date,
    residuals: np.ndarray[Any, Any],
) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    """(week start, expected, low, high) for the 13 weeks from ``as_of``. Expected: the open
    amounts by predicted day. The band shifts every predicted day by the 10th and 90th
    percentile of the model's errors (earlier and later payments) and keeps, per week, the
    lower and the higher of those sums and the expected one."""
    as_of_day = np.datetime64(as_of, "D")
    shifts = [0.0]
    if len(residuals):
        shifts += [float(np.quantile(residuals, q)) for q in BAND]

    def sums(shift: float) -> np.ndarray[Any, Any]:
        days = (predicted + np.int64(round(shift))).astype("datetime64[D]")
        days = np.maximum(days, as_of_day + 1)
        week = ((days - (as_of_day + 1)).astype(np.int64)) // 7
        keep = (week >= 0) & (week < WEEKS)
        return np.bincount(week[keep], weights=amounts[keep], minlength=WEEKS)

    expected, *shifted = [sums(s) for s in shifts]
    low = np.minimum.reduce([expected, *shifted])
    high = np.maximum.reduce([expected, *shifted])
    return [
        (
            as_of + timedelta(days=1 + 7 * w),
            from_float(expected[w]),
            from_float(low[w]),
            from_float(high[w]),
        )
        for w in range(WEEKS)
    ]


@dataclass(frozen=True, slots=True)
class ForecastWeek:
    week_start: date
    expected: Decimal
    low: Decimal
    high: Decimal
    actual: Decimal | None  # received in the week, once it has passed


def forecast_currencies(session: Session, *, as_of: date) -> tuple[date | None, list[str]]:
    """The day of the newest forecast made on or before ``as_of`` and its currencies."""
    made = session.scalar(select(func.max(CashForecast.as_of)).where(CashForecast.as_of <= as_of))
    if made is None:
        return None, []
    currencies = session.scalars(
        select(CashForecast.currency).where(CashForecast.as_of == made).distinct()
    ).all()
    return made, sorted(currencies)


def forecast(
    session: Session, *, as_of: date, currency: str
) -> tuple[date | None, list[ForecastWeek]]:
    """The newest forecast in ``currency`` made on or before ``as_of``, each past week with
    what came in, in that currency."""
    made = session.scalar(
        select(func.max(CashForecast.as_of)).where(
            CashForecast.as_of <= as_of, CashForecast.currency == currency
        )
    )
    if made is None:
        return None, []
    rows = session.scalars(
        select(CashForecast)
        .where(CashForecast.as_of == made, CashForecast.currency == currency)
        .order_by(CashForecast.week_start)
    ).all()
    weeks: list[ForecastWeek] = []
    for row in rows:
        end = row.week_start + timedelta(days=7)
        actual = None
        if end <= as_of + timedelta(days=1):
            actual = Decimal(
                session.scalar(
                    select(func.coalesce(func.sum(Payment.amount), 0)).where(
                        Payment.received_on >= row.week_start,
                        Payment.received_on < end,
                        Payment.currency == currency,
                    )
                )
                or 0
            ).quantize(CENT)
        weeks.append(ForecastWeek(row.week_start, row.expected, row.low, row.high, actual))
    return made, weeks


def predictions_of(session: Session, customer_id: int) -> dict[int, PaymentPrediction]:
    """installment id → its prediction, for one customer (the 360)."""
    return {
        p.installment_id: p
        for p in session.scalars(
            select(PaymentPrediction).where(PaymentPrediction.customer_id == customer_id)
        )
    }
