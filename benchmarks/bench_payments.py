"""Payment-date model against the naive baselines on the demo company, time-ordered split.

    python benchmarks/bench_payments.py [--customers 10000] [--years 3] [--seed 7]
                                        [--as-of 2026-06-30] [--reuse] [--cache-dir DIR]
                                        [--split-quantile 0.7] [--scale-invoices 2000000]

Builds the demo company on a SQLite file (kept in --cache-dir and used again with --reuse),
reads its receivables and backtests ``flywheel.analytics.payment_model``:

* one row per **installment** (an invoice billed in 2–4 parts has one due date per part): the
  invoice's issue date, the installment's due date and amount (USD converted at the demo's fixed
  7.1 CNY per USD), and its paid date = ``settled_on`` of a fully paid installment. Written-off,
  open and partly paid installments have no paid date: they count as open items in the
  features (open balance) and are neither trained on nor scored;
* days late = paid date − due date (early payment negative); split at the --split-quantile
  of issue dates, as ``flywheel analyze payments`` does by default; the model is trained on
  installments paid before the split (and due long enough before it, see ``backtest``) and
  scored on those issued on or after it that have been paid;
* baselines: the customer's historical median and mean days late (payments before the issue
  date; the training median when there are none) and "pays on the due date" (0);
* both regression losses are measured (absolute_error is the default, squared_error the
  alternative);
* ground truth: Spearman rank correlation, over customers with scored installments, of the
  customer's mean predicted days late with the demo's latent ``payment_discipline`` (negative
  is right: disciplined customers pay earlier), next to the same for the median baseline;
* scale: feature building on --scale-invoices rows (the demo's rows repeated with new
  customer ids) — the part that must stay vectorised at 2,000,000 invoices.

The demo generator draws the habits real B2B payers show: most pay in payment runs (a weekly
run on a fixed weekday, or a monthly run on a fixed day of the month, moved to the Friday before
when it falls on a weekend, sometimes missed), the rest whenever they decide to; customers on
their way out pay later and later; nobody pays during the Spring Festival break. The model sees
none of this directly, only each customer's payment history (its usual weekday and day of
month of paying among the features).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from flywheel.analytics.payment_model import (
    BacktestResult,
    PaymentDelayModel,
    backtest,
    build_features,
)
from flywheel.db import make_engine, upgrade_database
from flywheel.demo.service import build_demo
from flywheel.models.customers import Customer
from flywheel.models.demo import DemoCustomerTraits
from flywheel.models.receivables import Installment, Invoice

console = Console(width=max(Console().width, 120))
CNY_PER_USD = 7.1  # the demo's fixed rate
TARGET_IMPROVEMENT = 0.20


def prepare(args: argparse.Namespace) -> tuple[str, float | None]:
    """The demo database URL, and its build time (None when reused). Without --reuse the
    database is built in a temporary folder that ``main`` removes once it is read."""
    slug = f"{args.customers}c-{args.years}y-seed{args.seed}-{args.as_of:%Y%m%d}"
    folder = Path(args.cache_dir) if args.reuse else Path(tempfile.mkdtemp(prefix="fw-pay-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"payments-{slug}.db"
    marker = path.with_name(path.name + ".complete")
    url = f"sqlite:///{path}"
    if args.reuse and path.exists() and marker.exists():
        console.print(f"Reusing {path}")
        return url, None
    for stale in folder.glob(path.name + "*"):
        stale.unlink()
    console.print(
        f"Building the demo ({args.customers:,} customers, {args.years} years) in {path} …"
    )
    started = time.perf_counter()
    engine = make_engine(url)
    upgrade_database(engine)
    build_demo(
        engine,
        customers=args.customers,
        years=args.years,
        seed=args.seed,
        as_of=args.as_of,
        replace=True,
    )
    engine.dispose()
    marker.write_text(slug)
    return url, time.perf_counter() - started


def read_installments(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine = make_engine(url)
    query = (
        select(
            Installment.customer_id,
            Invoice.issue_date,
            Installment.due_date,
            Installment.status,
            Installment.settled_on,
            Installment.amount,
            Invoice.currency,
            Invoice.amount,
        )
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .order_by(Installment.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        traits = connection.execute(
            select(
                DemoCustomerTraits.customer_id, DemoCustomerTraits.payment_discipline, Customer.tier
            ).join(Customer, Customer.id == DemoCustomerTraits.customer_id)
        ).all()
    engine.dispose()
    customer, issued, due, status, settled, amount, currency, invoice_amount = zip(
        *rows, strict=True
    )
    paid = [s if state == "paid" else None for s, state in zip(settled, status, strict=True)]
    rate = np.where(np.array(currency) == "USD", CNY_PER_USD, 1.0)
    frame = pd.DataFrame(
        {
            "customer": np.array(customer, dtype=np.int64),
            "issue_date": pd.to_datetime(pd.Series(issued)),
            "due_date": pd.to_datetime(pd.Series(due)),
            "paid_date": pd.to_datetime(pd.Series(paid)),
            "amount": np.array([float(a) for a in amount]) * rate,
            "status": np.array(status, dtype=object),
            "invoice_amount_cny": np.array([float(a) for a in invoice_amount]) * rate,
        }
    )
    ground_truth = pd.DataFrame(
        {
            "payment_discipline": [d for _, d, _ in traits],
            "key_account": [t == "key" for _, _, t in traits],
        },
        index=[c for c, _, _ in traits],
    )
    return frame, ground_truth


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--reuse", action="store_true", help="keep the demo in --cache-dir")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "flywheel-bench"))
    parser.add_argument("--split-quantile", type=float, default=0.7)
    parser.add_argument("--scale-invoices", type=int, default=2_000_000, help="0 skips")
    parser.add_argument(
        "--threads", type=int, default=None, help="OpenMP threads of scikit-learn (default: all)"
    )
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)

    url, build_seconds = prepare(args)
    started = time.perf_counter()
    invoices, truth = read_installments(url)
    read_seconds = time.perf_counter() - started
    if not args.reuse:
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)

    started = time.perf_counter()
    features = build_features(invoices)
    feature_seconds = time.perf_counter() - started
    issue_days = invoices["issue_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    split_day = np.quantile(issue_days, args.split_quantile, method="lower")
    split = pd.Timestamp(np.datetime64(int(split_day), "D"))

    results: dict[str, BacktestResult] = {}
    for loss in ("absolute_error", "squared_error"):
        console.print(f"Training and scoring the model (loss={loss}) …")
        results[loss] = backtest(
            invoices, split_date=split, features=features, model=PaymentDelayModel(loss=loss)
        )
    main_result = results["absolute_error"]

    report(args, invoices, main_result, results, truth, split)
    timing = Table(title="Time", title_justify="left")
    timing.add_column("step")
    timing.add_column("seconds", justify="right")
    if build_seconds is not None:
        timing.add_row("build the demo", f"{build_seconds:.1f}")
    timing.add_row(f"read {len(invoices):,} installments (SQLite)", f"{read_seconds:.1f}")
    timing.add_row("build point-in-time features", f"{feature_seconds:.2f}")
    for loss, result in results.items():
        timing.add_row(
            f"fit regressor + 2 calibrated classifiers ({loss}), {result.n_train:,} rows",
            f"{result.seconds['fit']:.1f}",
        )
        timing.add_row(
            f"predict {result.n_test:,} rows ({loss})", f"{result.seconds['predict']:.2f}"
        )
    if args.scale_invoices:
        rows, seconds = scale_run(invoices, args.scale_invoices)
        timing.add_row(f"build features for {rows:,} invoices (scale check)", f"{seconds:.1f}")
    timing.add_row(
        "peak memory (MiB)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f}"
    )
    console.print(timing)


def scale_run(invoices: pd.DataFrame, target_rows: int) -> tuple[int, float]:
    copies = max(int(np.ceil(target_rows / len(invoices))), 1)
    step = int(invoices["customer"].max()) + 1
    big = pd.concat(
        [invoices.assign(customer=invoices["customer"] + k * step) for k in range(copies)],
        ignore_index=True,
    ).iloc[:target_rows]
    started = time.perf_counter()
    build_features(big)
    return len(big), time.perf_counter() - started


def report(
    args: argparse.Namespace,
    invoices: pd.DataFrame,
    result: BacktestResult,
    results: dict[str, BacktestResult],
    truth: pd.DataFrame,
    split: pd.Timestamp,
) -> None:
    status_counts = invoices["status"].value_counts().to_dict()
    console.print(
        f"Demo: {args.customers:,} customers, {args.years} years to {args.as_of}, seed "
        f"{args.seed}; {len(invoices):,} installments "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(status_counts.items()))
    )
    table = Table(
        title=(
            f"Days late of installments issued from {split:%Y-%m-%d} "
            f"({args.split_quantile:.0%} quantile of issue dates): {result.n_test_paid:,} paid "
            f"of {result.n_test:,}; trained on {result.n_train:,} (paid before the split and due "
            f"≥ {result.settle_days} days before it)"
        ),
        title_justify="left",
    )
    table.add_column("forecast")
    table.add_column("MAE days", justify="right")
    table.add_column("vs best baseline", justify="right")
    table.add_column("AUC paid late", justify="right")
    table.add_column("AUC > 30 days late", justify="right")
    best = result.baseline_mae_days[result.best_baseline]

    def auc_text(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    for loss, each in results.items():
        table.add_row(
            f"model, HistGB loss={loss}",
            f"{each.mae_days:.2f}",
            f"{1 - each.mae_days / best:+.1%}",
            auc_text(each.auc_late),
            auc_text(each.auc_late_30),
        )
    labels = {
        "customer_median": "customer's historical median",
        "customer_mean": "customer's historical mean",
        "due_date": "pays on the due date (0)",
    }
    for name, label in labels.items():
        mae = result.baseline_mae_days[name]
        table.add_row(
            label,
            f"{mae:.2f}",
            f"{1 - mae / best:+.1%}",
            auc_text(result.baseline_auc_late[name]),
            "",
        )
    console.print(table)
    improvement = result.improvement_over_best_baseline
    verdict = "[green]met[/]" if improvement >= TARGET_IMPROVEMENT else "[red]not met[/]"
    console.print(
        f"Model (absolute_error) MAE {improvement:.1%} below the best baseline "
        f"({labels[result.best_baseline]}); target ≥ {TARGET_IMPROVEMENT:.0%}: {verdict}."
    )

    predictions = result.predictions.join(invoices[["customer"]])
    scored = predictions.dropna(subset=["days_late"])
    per_customer = scored.groupby("customer").agg(
        predicted=("predicted_days_late", "mean"),
        median_baseline=("baseline_customer_median", "mean"),
        actual=("days_late", "mean"),
    )
    discipline = truth["payment_discipline"].reindex(per_customer.index).to_numpy()
    console.print(
        f"Spearman rank correlation with the latent payment_discipline over "
        f"{len(per_customer):,} customers (negative = right): mean predicted days late "
        f"{spearman(per_customer['predicted'].to_numpy(), discipline):+.3f}; median baseline "
        f"{spearman(per_customer['median_baseline'].to_numpy(), discipline):+.3f}; actual mean days "
        f"late in the test period {spearman(per_customer['actual'].to_numpy(), discipline):+.3f}."
    )


if __name__ == "__main__":
    main()
