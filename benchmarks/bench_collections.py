"""The collections part of ``flywheel run`` at scale: 100,000 customers, about 2,000,000
installments.

    python benchmarks/bench_collections.py [--reuse] [--pg-url URL] [--no-sqlite]

Builds (or, with --reuse, reuses the ones ``bench_web.py`` keeps) the demo company on SQLite and
on PostgreSQL (with --pg-url or FLYWHEEL_TEST_DATABASE_URL), scores it once (the strategies
follow the grades), then runs the collections cycle, each in its own process and timed with its
commit:

1. the first day (every open item gets its latest due step: the heaviest day there is),
2. the same day again (idempotent: must create nothing),
3. the next day (an ordinary day),

and prints the wall time, the cycle's own phases, the actions, messages and tasks created, and
the outbox rows. The collections rows are removed before the first run, so a reused database
measures the same work every time.
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

from bench_web import (
    Database,
    DemoSpec,
    clean_up,
    console,
    prepare_postgres,
    prepare_sqlite,
)

TARGET_SECONDS = 60.0
COLLECTION_TABLES = (
    "outbox",
    "collection_action_items",
    "promise_items",
    "promises_to_pay",
    "disputes",
    "arrangement_items",
    "payment_arrangements",
    "statements",
    "credit_holds",
    "collection_actions",
)

CYCLE = """
import json, sys, time
from datetime import date
from flywheel.collections import cycle
from flywheel.config import get_settings
from flywheel.db import unit_of_work

day = date.fromisoformat(sys.argv[1])
started = time.perf_counter()
with unit_of_work() as session:
    result = cycle.run(session, as_of=day, settings=get_settings())
    flushed = time.perf_counter()
print(json.dumps({**result.as_dict(), "commit": time.perf_counter() - flushed,
                  "in_process": time.perf_counter() - started}))
"""


def reset_collections(db: Database) -> None:
    engine = create_engine(db.url)
    with engine.begin() as conn:
        for table in COLLECTION_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def score(db: Database, as_of: date) -> None:
    """The day's credit grades, which choose each customer's strategy."""
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": db.url}
    code = (
        "from datetime import date; from flywheel.credit import service; "
        "from flywheel.db import unit_of_work\n"
        "with unit_of_work() as s: service.score_all(s, as_of=date.fromisoformat("
        f"'{as_of.isoformat()}'))"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def run_cycle(db: Database, day: date) -> tuple[dict[str, object], float]:
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": db.url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CYCLE, day.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the collections cycle failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def counts(db: Database) -> tuple[int, int, int]:
    engine = create_engine(db.url)
    with engine.connect() as conn:
        customers = int(conn.scalar(text("SELECT count(*) FROM customers")) or 0)
        installments = int(conn.scalar(text("SELECT count(*) FROM installments")) or 0)
        outbox = int(conn.scalar(text("SELECT count(*) FROM outbox")) or 0)
    engine.dispose()
    return customers, installments, outbox


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
    args = parser.parse_args()
    spec = DemoSpec(args.customers, args.years, args.seed, args.as_of)

    console.print(f"machine: {os.cpu_count()} cores, load at start {os.getloadavg()}")
    databases: list[Database] = []
    if not args.no_sqlite:
        databases.append(prepare_sqlite(spec, reuse=args.reuse, cache_dir=args.cache_dir))
    if args.pg_url:
        databases.append(prepare_postgres(args.pg_url, args.pg_database, spec, reuse=args.reuse))

    table = Table(title=f"flywheel run (collections) — {spec.label}")
    for column in (
        "database",
        "run",
        "customers",
        "installments",
        "wall s",
        "promises/read/decide/act/follow-up/commit s",
        "actions",
        "messages",
        "tasks",
        "items fired",
        "outbox rows",
    ):
        table.add_column(column, justify="right")
    runs = (
        ("first day", args.as_of),
        ("same day again", args.as_of),
        ("next day", args.as_of + timedelta(days=1)),
    )
    try:
        for db in databases:
            reset_collections(db)
            score(db, args.as_of)
            for label, day in runs:
                console.print(f"  {db.name} · {label} …")
                answer, wall = run_cycle(db, day)
                seconds = answer["seconds"]
                assert isinstance(seconds, dict)
                phases = "/".join(
                    f"{float(seconds.get(k, 0)):.1f}"
                    for k in ("promises", "read", "decide", "act", "follow_up")
                )
                customers, installments, outbox = counts(db)
                mark = "✓" if wall < TARGET_SECONDS else "✗"
                table.add_row(
                    db.name,
                    label,
                    f"{customers:,}",
                    f"{installments:,}",
                    f"{wall:.1f} {mark}",
                    f"{phases}/{float(answer['commit']):.1f}",  # type: ignore[arg-type]
                    f"{answer['actions']:,}",
                    f"{answer['messages']:,}",
                    f"{answer['tasks']:,}",
                    f"{answer['items_fired']:,}",
                    f"{outbox:,}",
                )
    finally:
        for db in databases:
            clean_up(db)
    console.print(table)
    console.print(
        f"load at end {os.getloadavg()}; target: the collections part of flywheel run under "
        f"{TARGET_SECONDS:.0f} s for 100,000 customers (wall includes starting the process)"
    )


if __name__ == "__main__":
    main()
