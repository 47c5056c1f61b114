"""The flywheel dashboard at scale: building its monthly snapshot, and the dashboard's latency
on a real ``flywheel serve`` on the 100,000-customer demo.

    python benchmarks/bench_insights.py [--reuse] [--pg-url URL] [--no-sqlite]
                                        [--clients 1 5] [--duration 10] [--warmup 2]

For SQLite, and for PostgreSQL when --pg-url or FLYWHEEL_TEST_DATABASE_URL is given, it builds
(or with --reuse reuses the ones ``bench_web.py`` keeps) the demo company, runs the daily cycle
once if the demo has no loyalty scores yet (the cube's segments read them), then times

1. ``flywheel insights build --rebuild``: every month of the history (24 by default),
2. ``flywheel insights build``: what the daily cycle does each day (the running month and the
   one before),

and drives ``flywheel serve`` (one worker) with keep-alive clients on the dashboard page as the
manager (every account) and as a sales rep (his own), with a period of 1 and 12 months, with
filters, the JSON API and one list behind a figure. Target: p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rich.table import Table
from sqlalchemy import create_engine, text

from bench_web import (
    Database,
    DemoSpec,
    clean_up,
    console,
    encode_get,
    flywheel_cli,
    make_fixtures,
    percentile,
    prepare_postgres,
    prepare_sqlite,
    probe,
    revoke_tokens,
    run_cell,
    running_server,
)

TARGET_P95_MS = 200.0


def ensure_scores(db: Database, as_of: date) -> float | None:
    """Run ``flywheel run`` once when the demo has no loyalty scores on ``as_of``; its seconds."""
    engine = create_engine(db.url)
    with engine.connect() as conn:
        scored = conn.scalar(
            text("SELECT count(*) FROM loyalty_scores WHERE as_of = :d"), {"d": as_of}
        )
    engine.dispose()
    if scored:
        return None
    console.print(f"{db.name}: running the daily cycle once (loyalty scores, grades) …")
    started = time.perf_counter()
    flywheel_cli(db.url, "run", "--as-of", as_of.isoformat(), "--json")
    return time.perf_counter() - started


def time_builds(db: Database, as_of: date) -> tuple[Table, list[dict[str, Any]]]:
    table = Table(title=f"flywheel insights build on {db.name}")
    for column in ("run", "months", "cells", "markets", "transitions", "seconds", "per month"):
        table.add_column(column, justify="left" if column == "run" else "right")
    rows: list[dict[str, Any]] = []
    for label, extra in (("first build (--rebuild)", ["--rebuild"]), ("daily", [])):
        started = time.perf_counter()
        out = json.loads(
            flywheel_cli(
                db.url, "insights", "build", "--as-of", as_of.isoformat(), *extra, "--json"
            )
        )
        seconds = time.perf_counter() - started
        months = out["months"]
        table.add_row(
            label,
            str(len(months)),
            f"{sum(m['cells'] for m in months):,}",
            f"{sum(m['markets'] for m in months):,}",
            f"{sum(m['transitions'] for m in months):,}",
            f"{seconds:.1f}",
            f"{out['seconds'] / max(len(months), 1):.2f}",
        )
        rows.append({"run": label, "seconds": seconds, **out})
    slowest = max(rows[0]["months"], key=lambda m: m["seconds"]["total"])
    parts = ", ".join(f"{k} {v:.2f}" for k, v in slowest["seconds"].items())
    table.caption = f"slowest month {slowest['month']}: {parts} s"
    return table, rows


def owner_of_many(db: Database) -> str:
    engine = create_engine(db.url)
    with engine.connect() as conn:
        name = conn.scalar(
            text(
                "SELECT u.username FROM users u JOIN customers c ON c.owner_id = u.id "
                "GROUP BY u.username ORDER BY count(*) DESC LIMIT 1"
            )
        )
    engine.dispose()
    return str(name)


def bench_pages(
    db: Database, args: argparse.Namespace, log: Path
) -> tuple[Table, list[dict[str, Any]]]:
    owner = owner_of_many(db)
    month = f"{args.as_of.replace(day=1) - timedelta(days=1):%Y-%m}"  # the last complete one
    routes: list[tuple[str, str, str, bool]] = [
        ("dashboard 1m", "manager", f"/insights?month={month}", True),
        ("dashboard 12m", "manager", f"/insights?month={month}&period=12m", True),
        (
            "dashboard filtered",
            "manager",
            "/insights?" + urlencode({"month": month, "region": "华东", "tier": "standard"}),
            True,
        ),
        ("dashboard one owner", "manager", f"/insights?month={month}&owner={owner}", True),
        ("dashboard sales rep", "sales", f"/insights?month={month}", True),
        ("API dashboard", "manager", f"/api/v1/insights/dashboard?month={month}", False),
        (
            "list: overdue accounts",
            "manager",
            f"/insights/drill/overdue_accounts?month={month}",
            True,
        ),
        ("list: receivables", "manager", f"/insights/drill/receivables?month={month}", True),
        ("list: new customers", "manager", f"/insights/drill/new_customers?month={month}", True),
        (
            "top accounts (force, friction)",
            "manager",
            f"/insights/top-accounts?month={month}",
            True,
        ),
    ]
    fixtures = make_fixtures(db.url, users=["manager", "sales"], seed=7, sample=1)
    table = Table(
        title=(
            f"flywheel dashboard on {db.name}, {args.customers:,} customers — one worker, "
            f"{args.duration:g} s per cell after {args.warmup:g} s warm-up"
        )
    )
    for column in (
        "target",
        "user",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
    ):
        table.add_column(column, justify="left" if column in ("target", "user") else "right")
    rows: list[dict[str, Any]] = []
    log.write_bytes(b"")
    try:
        with running_server(db.url, 1, log) as (pid, port):
            for key, user, path, html in routes:
                request = encode_get(path, port, fixtures.tokens[user], html=html)
                status, _ = probe(port, request)
                if not 200 <= status < 300:
                    table.add_row(key, user, "—", f"[yellow]HTTP {status}[/]", *[""] * 5)
                    continue
                for clients in args.clients:
                    result = run_cell(
                        port,
                        pid,
                        [request],
                        clients,
                        warmup=args.warmup,
                        duration=args.duration,
                        database=db.pg_database,
                    )
                    ordered = sorted(result.latencies_ms)
                    p95 = percentile(ordered, 0.95)
                    mark = " [green]✓[/]" if p95 < TARGET_P95_MS else " [red]✗[/]"
                    table.add_row(
                        key,
                        user,
                        str(clients),
                        f"{len(ordered):,}",
                        f"{len(ordered) / result.seconds:,.1f}",
                        f"{percentile(ordered, 0.5):.1f}",
                        f"{p95:.1f}{mark}",
                        f"{percentile(ordered, 0.99):.1f}",
                        str(sum(result.errors.values())),
                    )
                    rows.append(
                        {
                            "target": key,
                            "user": user,
                            "clients": clients,
                            "p95_ms": p95,
                            "requests": len(ordered),
                        }
                    )
                table.add_section()
    finally:
        revoke_tokens(db.url, fixtures.token_ids)
    table.caption = f"one owner: {owner}; month {month}"
    return table, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-build", action="store_true", help="time the pages only")
    parser.add_argument("--pg-url", default=os.environ.get("FLYWHEEL_TEST_DATABASE_URL"))
    parser.add_argument("--pg-database", default="flywheel_bench_web")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp") / "flywheel-bench-web")
    args = parser.parse_args()
    spec = DemoSpec(customers=args.customers, years=args.years, seed=args.seed, as_of=args.as_of)
    databases: list[Database] = []
    if not args.no_sqlite:
        databases.append(prepare_sqlite(spec, reuse=args.reuse, cache_dir=args.cache_dir))
    if args.pg_url:
        databases.append(prepare_postgres(args.pg_url, args.pg_database, spec, reuse=args.reuse))
    log = Path("/tmp") / "bench-insights-serve.log"
    try:
        for db in databases:
            cycle = ensure_scores(db, args.as_of)
            if cycle is not None:
                console.print(f"{db.name}: the daily cycle took {cycle:.1f} s")
            if not args.no_build:
                table, _ = time_builds(db, args.as_of)
                console.print(table)
            table, _ = bench_pages(db, args, log)
            console.print(table)
    finally:
        if not args.reuse:
            for db in databases:
                clean_up(db)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
