"""Demo company build time: generate N customers' history and write it, by stage and table.

    python benchmarks/bench_demo.py --customers 100000 --years 3 [--database-url URL]

Without --database-url it builds into a fresh temporary SQLite file. A given URL must point to
a database the benchmark may fill: it runs with --replace.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from flywheel.db import make_engine, upgrade_database
from flywheel.demo.service import DemoSummary, build_demo

console = Console()


class StageClock:
    """Seconds spent in each progress stage (from its first report to its last)."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.first.setdefault(stage, now)
        self.last[stage] = now

    def seconds(self, stage: str) -> float:
        return self.last.get(stage, 0.0) - self.first.get(stage, 0.0)


def run(url: str, customers: int, years: int, seed: int, as_of: date) -> None:
    engine = make_engine(url)
    upgrade_database(engine)
    clock = StageClock()
    summary = build_demo(
        engine,
        customers=customers,
        years=years,
        seed=seed,
        as_of=as_of,
        replace=True,
        progress=clock,
    )
    engine.dispose()
    report(summary, clock, url)


def report(summary: DemoSummary, clock: StageClock, url: str) -> None:
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = Table(title=f"flywheel demo — {summary.customers:,} customers, {summary.years} years")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("write s", justify="right")
    table.add_column("rows/s", justify="right")
    for name, rows in summary.counts.items():
        seconds = clock.seconds(f"write {name}")
        rate = f"{rows / seconds:,.0f}" if seconds > 0 else "—"
        table.add_row(name, f"{rows:,}", f"{seconds:.1f}", rate)
    table.add_section()
    total = summary.total_rows
    table.add_row("[bold]total rows[/]", f"[bold]{total:,}[/]", "", "")
    table.add_row("generation seconds", "", f"{summary.generate_seconds:.1f}", "")
    table.add_row("index build seconds", "", f"{clock.seconds('build indexes'):.1f}", "")
    table.add_row("commit seconds", "", f"{clock.seconds('commit'):.1f}", "")
    table.add_row("write seconds (all)", "", f"{summary.write_seconds:.1f}", "")
    table.add_row(
        "[bold]total seconds[/]",
        "",
        f"[bold]{summary.seconds:.1f}[/]",
        f"{total / summary.seconds:,.0f}",
    )
    table.add_row("peak memory (MiB)", f"{peak_mib:,.0f}", "", "")
    console.print(table)
    console.print(f"database: {summary.database}")
    verdict = "[green]OK[/]" if summary.seconds < 180 else "[red]over 3 minutes[/]"
    console.print(f"under 3 minutes: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.customers, args.years, args.seed, args.as_of)
        return
    with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as folder:
        path = Path(folder) / "demo.db"
        run(f"sqlite:///{path}", args.customers, args.years, args.seed, args.as_of)
        console.print(f"SQLite file size: {path.stat().st_size / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
