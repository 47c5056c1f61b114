"""The loyalty part of ``flywheel run`` at scale, and how well health and churn risk rank the
demo company's true churn.

    python benchmarks/bench_loyalty.py [--reuse] [--pg-url URL] [--no-sqlite] [--no-evaluate]

Builds (or, with --reuse, reuses the ones ``bench_web.py`` keeps) the demo company on SQLite and
on PostgreSQL, scores its credit once (health reads the grades), then runs the loyalty cycle in
its own process, timed with its commit:

1. the first day (every account's row written, the next best actions of the day opened),
2. the same day again (replaces the day's rows; opens no action twice),
3. the next day.

Then, on the first database, the check against the demo's ground truth: health and churn risk
computed as of half a year before the demo's last day, against each account's latent monthly
churn hazard (Spearman rank correlation) and against whether it churned in the next six months
(AUC). The loyalty rows are removed before the first run, so a reused database measures the
same work every time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from rich.table import Table
from sqlalchemy import create_engine, text

from bench_web import Database, DemoSpec, clean_up, console, prepare_postgres, prepare_sqlite

TARGET_SECONDS = 15.0
LOYALTY_TABLES = ("next_actions", "loyalty_scores", "loyalty_model_fits")
PHASES = ("read", "segments", "clv", "health", "churn", "write", "referrals", "next_actions")

CYCLE = """
import json, sys, time
from datetime import date
from flywheel.config import get_settings
from flywheel.db import unit_of_work
from flywheel.loyalty import cycle

day = date.fromisoformat(sys.argv[1])
started = time.perf_counter()
with unit_of_work() as session:
    result = cycle.run(session, as_of=day, settings=get_settings())
    flushed = time.perf_counter()
print(json.dumps({**result.as_dict(), "commit": time.perf_counter() - flushed,
                  "in_process": time.perf_counter() - started}))
"""

EVALUATE = """
import json, sys
from datetime import date
import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from sqlalchemy import select
from flywheel.config import get_settings
from flywheel.credit import service as credit
from flywheel.db import unit_of_work
from flywheel.loyalty import churn, health, lifetime
from flywheel.loyalty.frame import read_frame
from flywheel.models.demo import DemoCustomerTraits

day = date.fromisoformat(sys.argv[1])
settings = get_settings()
with unit_of_work() as session:
    # Health reads the credit grades of the day, as the daily cycle would have them.
    credit.score_all(session, as_of=day)
with unit_of_work() as session:
    frame = read_frame(session, as_of=day)
    clv = lifetime.score_clv(frame, settings=settings, holdout=False)
    scored = health.compute_health(session, frame=frame, clv=clv, settings=settings)
    risk = churn.assess_churn(session, frame=frame, clv=clv, health=scored, settings=settings)
    traits = session.execute(select(DemoCustomerTraits.customer_id, DemoCustomerTraits.churn_hazard,
                                    DemoCustomerTraits.churned_on_month)).all()
ids = np.array([t[0] for t in traits]); hazard = np.array([t[1] for t in traits])
month = np.array([t[2] or 999912 for t in traits])
rows = frame.rows_of(ids)
now = day.year * 12 + day.month - 1
churn_index = (month // 100) * 12 + (month % 100) - 1
bought = (frame.first_day[rows] >= 0) & (frame.first_day[rows] <= frame.as_of_day)
# Customers on the day: bought by then and not churned yet; "churns" within six months.
alive = bought & (churn_index > now)
label = alive & (churn_index <= now + 6)
# Customers that had already stopped in the year before the day, against those still alive.
gone = bought & (churn_index <= now) & (churn_index > now - 12)
h = scored.score[rows].astype(float); r = risk.risk[rows]
known = np.isfinite(scored.values[rows])
names = list(scored.factor_names)
out = {
    "as_of": day.isoformat(), "customers alive": int(alive.sum()),
    "churned in the next 6 months": int(label[alive].sum()),
    "Spearman(health, hazard)": float(spearmanr(h[alive], hazard[alive]).statistic),
    "Spearman(churn risk, hazard)": float(spearmanr(r[alive], hazard[alive]).statistic),
    "AUC churn risk, next 6 months": float(roc_auc_score(label[alive], r[alive])),
    "AUC low health, next 6 months": float(roc_auc_score(label[alive], -h[alive])),
    "AUC true hazard, next 6 months (ceiling)": float(roc_auc_score(label[alive], hazard[alive])),
    "AUC churn risk, stopped in the last year": float(
        roc_auc_score(gone[alive | gone], r[alive | gone])),
}
for name in ("nps", "csat"):
    j = names.index(name); m = alive & known[:, j]
    out[f"AUC low {name} where known ({m.sum()} customers)"] = float(
        roc_auc_score(label[m], -scored.values[rows][m, j]))
print(json.dumps(out))
"""


def reset_loyalty(db: Database) -> None:
    engine = create_engine(db.url)
    with engine.begin() as conn:
        for table in LOYALTY_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def score_credit(db: Database, as_of: date) -> None:
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": db.url}
    code = (
        "from datetime import date; from flywheel.credit import service; "
        "from flywheel.db import unit_of_work\n"
        "with unit_of_work() as s: service.score_all(s, as_of=date.fromisoformat("
        f"'{as_of.isoformat()}'))"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def run_script(db: Database, script: str, day: date) -> tuple[dict[str, object], float]:
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": db.url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, day.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the loyalty run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def counts(db: Database) -> tuple[int, int, int]:
    engine = create_engine(db.url)
    with engine.connect() as conn:
        customers = int(conn.scalar(text("SELECT count(*) FROM customers")) or 0)
        orders = int(conn.scalar(text("SELECT count(*) FROM orders")) or 0)
        actions = int(conn.scalar(text("SELECT count(*) FROM next_actions")) or 0)
    engine.dispose()
    return customers, orders, actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--reuse", action="store_true", help="keep and reuse the demo databases")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/flywheel-bench-web"))
    parser.add_argument("--pg-url", default=os.environ.get("FLYWHEEL_TEST_DATABASE_URL"))
    parser.add_argument("--pg-database", default="flywheel_bench_web")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-evaluate", action="store_true")
    args = parser.parse_args()
    spec = DemoSpec(args.customers, args.years, args.seed, args.as_of)

    console.print(f"machine: {os.cpu_count()} cores, load at start {os.getloadavg()}")
    databases: list[Database] = []
    if not args.no_sqlite:
        databases.append(prepare_sqlite(spec, reuse=args.reuse, cache_dir=args.cache_dir))
    if args.pg_url:
        databases.append(prepare_postgres(args.pg_url, args.pg_database, spec, reuse=args.reuse))

    table = Table(title=f"flywheel run (loyalty) — {spec.label}")
    for column in (
        "database",
        "run",
        "customers",
        "orders",
        "wall s",
        "/".join(PHASES) + "/commit s",
        "actions opened",
        "actions stored",
    ):
        table.add_column(column, justify="right")
    runs = (
        ("first day", args.as_of),
        ("same day again", args.as_of),
        ("next day", args.as_of + timedelta(days=1)),
    )
    quality: dict[str, object] | None = None
    try:
        for db in databases:
            reset_loyalty(db)
            score_credit(db, args.as_of)
            for label, day in runs:
                console.print(f"  {db.name} · {label} …")
                answer, wall = run_script(db, CYCLE, day)
                seconds = answer["seconds"]
                assert isinstance(seconds, dict)
                phases = "/".join(f"{float(seconds.get(k, 0)):.1f}" for k in PHASES)
                customers, orders, actions = counts(db)
                opened = answer["next_actions"]
                assert isinstance(opened, dict)
                mark = "✓" if wall < TARGET_SECONDS else "✗"
                table.add_row(
                    db.name,
                    label,
                    f"{customers:,}",
                    f"{orders:,}",
                    f"{wall:.1f} {mark}",
                    f"{phases}/{float(answer['commit']):.1f}",  # type: ignore[arg-type]
                    f"{int(opened.get('opened', 0)):,}",
                    f"{actions:,}",
                )
            if quality is None and not args.no_evaluate:
                console.print(f"  {db.name} · checking against the ground truth …")
                quality, _ = run_script(db, EVALUATE, args.as_of - timedelta(days=182))
    finally:
        for db in databases:
            clean_up(db)
    console.print(table)
    console.print(
        f"load at end {os.getloadavg()}; target: the loyalty part of flywheel run under "
        f"{TARGET_SECONDS:.0f} s for 100,000 customers (wall includes starting the process)"
    )
    if quality is not None:
        check = Table(
            title=f"health and churn risk against the demo's truth, as of {quality['as_of']}"
        )
        check.add_column("measure")
        check.add_column("value", justify="right")
        for key, value in quality.items():
            if key != "as_of":
                check.add_row(key, f"{value:,.3f}" if isinstance(value, float) else f"{value:,}")
        console.print(check)


if __name__ == "__main__":
    main()
