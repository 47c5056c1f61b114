"""Credit scoring at scale: ``flywheel run`` (the credit part) on the 100,000-customer demo.

    python benchmarks/bench_credit.py [--reuse] [--pg-url URL] [--no-sqlite] [--runs 2]

Builds (or, with --reuse, reuses the ones ``bench_web.py`` keeps) the demo company on SQLite
and on PostgreSQL (with --pg-url or FLYWHEEL_TEST_DATABASE_URL), runs ``flywheel run --json``
as its own process --runs times (the first writes the day's snapshot, the next ones replace
it), and prints, per run: wall time, the time spent reading the ledger, computing and writing,
their shares, the process's peak memory, and how well the scores rank the demo's latent
payment discipline (Spearman's rank correlation: the ground truth the generator drew).
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


def run_cycle(db: Database, as_of: date) -> tuple[dict[str, object], float, float]:
    """``flywheel run`` in a child process: (its JSON, wall seconds, peak RSS MiB)."""
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": db.url}
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
    args = parser.parse_args()
    spec = DemoSpec(args.customers, args.years, args.seed, args.as_of)

    console.print(f"machine: {os.cpu_count()} cores, load at start {os.getloadavg()}")
    databases: list[Database] = []
    if not args.no_sqlite:
        databases.append(prepare_sqlite(spec, reuse=args.reuse, cache_dir=args.cache_dir))
    if args.pg_url:
        databases.append(prepare_postgres(args.pg_url, args.pg_database, spec, reuse=args.reuse))

    table = Table(title=f"flywheel run (credit) — {spec.label}")
    for column in (
        "database",
        "run",
        "customers",
        "installments",
        "wall s",
        "read s",
        "compute s",
        "write s",
        "read/compute/write %",
        "peak MiB",
        "Spearman vs discipline",
    ):
        table.add_column(column, justify="right")
    try:
        for db in databases:
            for number in range(1, args.runs + 1):
                console.print(f"  {db.name} · run {number} …")
                answer, wall, peak = run_cycle(db, args.as_of)
                credit = answer["credit"]
                assert isinstance(credit, dict)
                seconds = credit["seconds"]
                read = float(seconds["read"])
                compute = float(seconds["compute"])
                write = sum(float(v) for k, v in seconds.items() if k.startswith("write"))
                total = read + compute + write
                rho, installments = agreement(db, args.as_of)
                mark = "✓" if wall < TARGET_SECONDS else "✗"
                table.add_row(
                    db.name,
                    str(number),
                    f"{credit['customers']:,}",
                    f"{installments:,}",
                    f"{wall:.1f} {mark}",
                    f"{read:.1f}",
                    f"{compute:.2f}",
                    f"{write:.1f}",
                    f"{100 * read / total:.0f}/{100 * compute / total:.0f}/{100 * write / total:.0f}",
                    f"{peak:,.0f}",
                    f"{rho:.3f}",
                )
    finally:
        for db in databases:
            clean_up(db)
    console.print(table)
    console.print(
        f"load at end {os.getloadavg()}; target: the credit and AR part of flywheel run under "
        f"{TARGET_SECONDS:.0f} s (wall includes starting the process); Spearman: rank "
        "correlation of the score with the demo's latent payment discipline (1 = same order)"
    )


if __name__ == "__main__":
    main()
