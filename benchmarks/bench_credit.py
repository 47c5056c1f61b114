"""Credit scoring at scale: ``flywheel run`` (the credit part) on the 100,000-customer demo.

    python benchmarks/bench_credit.py [--reuse] [--pg-url URL] [--no-sqlite] [--runs 2]
                                      [--no-train]

Builds (or, with --reuse, reuses the ones ``bench_web.py`` keeps) the demo company on SQLite
and on PostgreSQL (with --pg-url or FLYWHEEL_TEST_DATABASE_URL), trains the payment-date model
and the scorecard with ``flywheel credit train`` (once per demo, kept in --cache-dir; timed),
runs ``flywheel run --json`` as its own process --runs times (the first writes the day's
snapshot, the next ones replace it), and prints, per run: the time of the credit and AR part
(scores, grades, limit reviews, payment-date predictions of every open installment and the
13-week cash forecast, as the run measures it), split into reading (loading the trained
models included: they load while the ledger's rows arrive), computing and writing,
the wall time of the whole run (every other part of the cycle too), the process's peak memory,
and how well the scores rank the demo's latent payment discipline (Spearman's rank
correlation: the ground truth the generator drew).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import time
from datetime import date
from pathlib import Path

from rich.table import Table
from sqlalchemy import create_engine, text

from bench_web import (
    FLYWHEEL,
    Database,
    DemoSpec,
    clean_up,
    console,
    prepare_postgres,
    prepare_sqlite,
)
from flywheel.analytics.credit_expert import rank_correlation

TARGET_SECONDS = 20.0


def model_dir(cache_dir: Path, spec: DemoSpec) -> Path:
    """Where the models of a demo are kept: one training serves both databases, which hold
    the same company."""
    return cache_dir / f"models-{spec.slug}"


def train(db: Database, as_of: date, models: Path) -> float | None:
    """``flywheel credit train`` into ``models`` unless a model is there; its seconds."""
    if (models / "payment_model.pkl").exists():
        console.print(f"  {db.name} · reusing the models in {models}")
        return None
    console.print(f"  {db.name} · flywheel credit train …")
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": db.url, "FLYWHEEL_MODEL_DIR": str(models)}
    started = time.perf_counter()
    done = subprocess.run(
        [FLYWHEEL, "credit", "train", "--as-of", as_of.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flywheel credit train failed:\n{done.stderr}{done.stdout}")
    console.print(done.stdout.strip())
    return time.perf_counter() - started


def run_cycle(
    db: Database, as_of: date, models: Path | None
) -> tuple[dict[str, object], float, float]:
    """``flywheel run`` in a child process: (its JSON, wall seconds, peak RSS MiB)."""
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": db.url}
    if models is not None:
        env["FLYWHEEL_MODEL_DIR"] = str(models)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [FLYWHEEL, "run", "--as-of", as_of.isoformat(), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"flywheel run failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far (KiB on Linux).
    return json.loads(done.stdout), wall, max(peak, before) / 1024


def agreement(db: Database, as_of: date) -> tuple[float, int]:
    engine = create_engine(db.url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.score, t.payment_discipline FROM credit_scores s "
                "JOIN demo_customer_traits t ON t.customer_id = s.customer_id "
                "WHERE s.as_of = :day"
            ),
            {"day": as_of},
        ).all()
        installments = int(conn.scalar(text("SELECT count(*) FROM installments")) or 0)
    engine.dispose()
    return rank_correlation([r[0] for r in rows], [r[1] for r in rows]), installments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep and reuse the demo databases")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/flywheel-bench-web"))
    parser.add_argument("--pg-url", default=os.environ.get("FLYWHEEL_TEST_DATABASE_URL"))
    parser.add_argument("--pg-database", default="flywheel_bench_web")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--no-train", action="store_true", help="run without a payment-date model (no predictions)"
    )
    args = parser.parse_args()
    spec = DemoSpec(args.customers, args.years, args.seed, args.as_of)

    console.print(f"machine: {os.cpu_count()} cores, load at start {os.getloadavg()}")
    databases: list[Database] = []
    if not args.no_sqlite:
        databases.append(prepare_sqlite(spec, reuse=args.reuse, cache_dir=args.cache_dir))
    if args.pg_url:
        databases.append(prepare_postgres(args.pg_url, args.pg_database, spec, reuse=args.reuse))

    table = Table(title=f"flywheel run (credit and AR part) — {spec.label}")
    for column in (
        "database",
        "run",
        "customers",
        "installments",
        "open predicted",
        "credit part s",
        "read s",
        "compute s",
        "write s",
        "read/compute/write %",
        "whole run wall s",
        "peak MiB",
        "Spearman vs discipline",
    ):
        table.add_column(column, justify="right")
    trained: dict[str, float | None] = {}
    try:
        for db in databases:
            models = None if args.no_train else model_dir(args.cache_dir, spec)
            if models is not None:
                trained[db.name] = train(db, args.as_of, models)
            for number in range(1, args.runs + 1):
                console.print(f"  {db.name} · run {number} …")
                answer, wall, peak = run_cycle(db, args.as_of, models)
                credit = answer["credit"]
                payments = answer["payments"]
                assert isinstance(credit, dict)
                parts = [credit["seconds"]] + ([payments["seconds"]] if payments else [])
                read = compute = write = 0.0
                for seconds in parts:
                    read += float(seconds.get("read", 0.0))
                    compute += float(seconds.get("compute", 0.0))
                    write += sum(float(v) for k, v in seconds.items() if k.startswith("write"))
                total = read + compute + write
                rho, installments = agreement(db, args.as_of)
                mark = "✓" if total < TARGET_SECONDS else "✗"
                predicted = payments["installments_predicted"] if payments else 0
                table.add_row(
                    db.name,
                    str(number),
                    f"{credit['customers']:,}",
                    f"{installments:,}",
                    f"{predicted:,}",
                    f"{total:.1f} {mark}",
                    f"{read:.1f}",
                    f"{compute:.2f}",
                    f"{write:.1f}",
                    f"{100 * read / total:.0f}/{100 * compute / total:.0f}/{100 * write / total:.0f}",
                    f"{wall:.1f}",
                    f"{peak:,.0f}",
                    f"{rho:.3f}",
                )
    finally:
        for db in databases:
            clean_up(db)
    console.print(table)
    for name, seconds in trained.items():
        if seconds is not None:
            console.print(f"flywheel credit train on {name}: {seconds:.0f} s")
    console.print(
        f"load at end {os.getloadavg()}; target: the credit and AR part of flywheel run under "
        f"{TARGET_SECONDS:.0f} s; Spearman: rank correlation of the score with the demo's latent "
        "payment discipline (1 = same order)"
    )


if __name__ == "__main__":
    main()
