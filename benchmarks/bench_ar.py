"""Receivables analytics at scale: the aging report, its drill-down and the KPIs with their
12-month trend, on a demo company of N customers (100,000 by default: about 2.2 million
invoices and 2.4 million installments and allocations).

    python benchmarks/bench_ar.py [--customers 100000] [--reuse] [--pg-url URL]
                                  [--suggested-indexes] [--repeat 3]

The SQLite company is built with the demo generator (as ``flywheel demo`` does) into
/tmp/flywheel-bench-ar/demo-N.db; with --reuse an existing file of that size is used as it is
(building takes a couple of minutes). --pg-url runs the same on a PostgreSQL database the
benchmark may fill (built there unless --reuse finds the company). --suggested-indexes also
measures with indexes on allocations.applied_on and installments.settled_on (created for the
run, dropped afterwards), which the reads can use but the migrations do not have yet.

Prints one table per database: time to read the ledger columns, to compute, in all (best of
--repeat), the installments and allocations read, and the Python heap's peak for the
operation (tracemalloc, numpy arrays included).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from flywheel.auth.actor import CLI
from flywheel.db import make_engine, upgrade_database
from flywheel.demo.service import build_demo
from flywheel.models.customers import Customer
from flywheel.receivables import aging, kpis

console = Console()
SUGGESTED_INDEXES = {
    "ix_bench_allocations_applied_on": "allocations (applied_on)",
    "ix_bench_installments_settled_on": "installments (settled_on)",
}


@dataclass
class Measure:
    name: str
    read: float
    compute: float
    total: float
    rows: str
    peak_mib: float


def prepare(url: str, customers: int, as_of: date, reuse: bool) -> Engine:
    engine = make_engine(url)
    upgrade_database(engine)
    with Session(engine) as session:
        present = session.scalar(select(func.count()).select_from(Customer)) or 0
    if reuse and present == customers:
        console.print(f"[dim]reusing the demo company in {url} ({present:,} customers)[/]")
    else:
        console.print(f"[dim]building a demo company of {customers:,} customers in {url} …[/]")
        started = time.perf_counter()
        build_demo(engine, customers=customers, years=3, seed=7, as_of=as_of, replace=True)
        console.print(f"[dim]built in {time.perf_counter() - started:.0f} s[/]")
    if engine.dialect.name == "postgresql":
        # A bulk load leaves PostgreSQL without statistics until autovacuum comes by; a
        # database in use has them, and the planner needs them to join the few open items.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return engine


def operations(as_of: date, drill_customer: str) -> list[tuple[str, Callable[[Session], Any]]]:
    past = as_of - timedelta(days=90)

    def report(by: str, day: date) -> Callable[[Session], Any]:
        return lambda s: aging.aging_report(
            s, actor=CLI, as_of=day, currency="CNY", by=by, limit=50
        )

    return [
        ("aging by customer (page of 50)", report("customer", as_of)),
        ("aging by owner", report("owner", as_of)),
        ("aging by tier", report("tier", as_of)),
        (f"aging by customer as of {past}", report("customer", past)),
        (
            "drill-down: one customer",
            lambda s: aging.aging_installments(
                s, actor=CLI, as_of=as_of, currency="CNY", by="customer", group=drill_customer
            ),
        ),
        (
            "drill-down: one tier, 91-180",
            lambda s: aging.aging_installments(
                s, actor=CLI, as_of=as_of, currency="CNY", by="tier", group="key", bucket="91-180"
            ),
        ),
        (
            "KPIs + 12-month trend",
            lambda s: kpis.receivables_kpis(s, actor=CLI, as_of=as_of, currency="CNY"),
        ),
    ]


def measure(engine: Engine, as_of: date, repeat: int) -> list[Measure]:
    with Session(engine) as session:
        drill = session.scalar(select(Customer.code).order_by(Customer.id).limit(1)) or ""
    results: list[Measure] = []
    for name, run in operations(as_of, drill):
        totals: list[float] = []
        reads: list[float] = []
        computes: list[float] = []
        for _ in range(repeat):
            with Session(engine) as session:
                started = time.perf_counter()
                result = run(session)
                totals.append(time.perf_counter() - started)
                timings = getattr(result, "timings", {})
                reads.append(timings.get("read", 0.0))
                computes.append(timings.get("compute", 0.0))
        best = min(range(repeat), key=lambda i: totals[i])
        with Session(engine) as session:
            tracemalloc.start()
            result = run(session)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        results.append(
            Measure(
                name=name,
                read=reads[best],
                compute=computes[best],
                total=totals[best],
                rows=_describe(result),
                peak_mib=peak / 2**20,
            )
        )
        console.print(f"[dim]{name}: {statistics.median(totals):.3f} s median of {repeat}[/]")
    return results


def _describe(result: Any) -> str:
    """Rows read (installments / allocations) and what came out."""
    sizes = getattr(result, "sizes", {})
    read = f"{sizes['installments']:,} / {sizes['allocations']:,} → " if sizes else ""
    if isinstance(result, aging.AgingReport):
        return f"{read}{result.totals.items:,} open, {result.groups:,} groups"
    if isinstance(result, aging.InstallmentPage):
        return f"{result.total:,} items"
    if isinstance(result, kpis.KpiReport):
        return f"{read}{len(result.trend)} points"
    return ""


def show(title: str, measures: list[Measure]) -> None:
    table = Table(title=title)
    table.add_column("operation")
    table.add_column("read s", justify="right")
    table.add_column("compute s", justify="right")
    table.add_column("total s", justify="right")
    table.add_column("rows read (inst. / alloc.) → result", justify="right")
    table.add_column("peak MiB", justify="right")
    for m in measures:
        table.add_row(
            m.name,
            f"{m.read:.3f}",
            f"{m.compute:.3f}",
            f"[bold]{m.total:.3f}[/]",
            m.rows,
            f"{m.peak_mib:.0f}",
        )
    console.print(table)


def with_suggested_indexes(engine: Engine, run: Callable[[], list[Measure]]) -> list[Measure]:
    with engine.begin() as connection:
        for name, target in SUGGESTED_INDEXES.items():
            connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {target}"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE allocations"))
            connection.execute(text("ANALYZE installments"))
    try:
        return run()
    finally:
        with engine.begin() as connection:
            for name in SUGGESTED_INDEXES:
                connection.execute(text(f"DROP INDEX IF EXISTS {name}"))


def bench(label: str, url: str, args: argparse.Namespace) -> None:
    as_of = date.fromisoformat(args.as_of)
    engine = prepare(url, args.customers, as_of, args.reuse)
    try:
        base = measure(engine, as_of, args.repeat)
        show(f"{label} — {args.customers:,} customers, as of {as_of}", base)
        if args.suggested_indexes:
            indexed = with_suggested_indexes(engine, lambda: measure(engine, as_of, args.repeat))
            show(f"{label} — with the suggested indexes", indexed)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--as-of", default="2026-11-30", help="The demo's last day.")
    parser.add_argument("--reuse", action="store_true", help="Use an existing demo company.")
    parser.add_argument("--pg-url", help="Also on this PostgreSQL database (it may be filled).")
    parser.add_argument("--suggested-indexes", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        folder = Path("/tmp/flywheel-bench-ar")
        folder.mkdir(parents=True, exist_ok=True)
        bench("SQLite", f"sqlite:///{folder / f'demo-{args.customers}.db'}", args)
    if args.pg_url:
        bench("PostgreSQL", args.pg_url, args)


if __name__ == "__main__":
    main()
