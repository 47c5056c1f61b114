"""Import throughput: a generated N-row invoice CSV into SQLite (and PostgreSQL if given).

    python benchmarks/bench_import.py --rows 1000000 [--postgres URL]

Runs each import twice: the first inserts every row, the second finds every row unchanged.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, text

from flywheel.auth.actor import Actor
from flywheel.db import make_engine, session_factory, upgrade_database
from flywheel.importers.service import import_file
from flywheel.models.customers import Customer

console = Console()


def make_csv(path: Path, rows: int, customers: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = date(2020, 1, 1)
    terms = ["NET30", "NET45", "NET60", "EOM30", "月结60天"]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["发票号", "客户编号", "开票日期", "金额", "币种", "付款条件"])
        for n in range(rows):
            issued = start + timedelta(days=rng.randrange(0, 6 * 365))
            writer.writerow(
                [
                    f"INV{n:08d}",
                    f"C{rng.randrange(customers):06d}",
                    issued.isoformat() if n % 3 else f"{issued.year}/{issued.month}/{issued.day}",
                    f"{rng.randrange(10_000, 50_000_000) / 100:,.2f}",
                    "CNY",
                    terms[n % len(terms)],
                ]
            )


def prepare(url: str, customers: int) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade_database(engine)
    today = date(2026, 1, 1)
    rows = [
        {
            "code": f"C{n:06d}",
            "name": f"客户{n}",
            "tier": "standard",
            "currency": "CNY",
            "payment_terms": "NET30",
            "status": "active",
            "created_on": today,
            "updated_at": datetime.now(UTC),
        }
        for n in range(customers)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Customer.__table__), rows)
    return engine


def run(engine: Engine, path: Path) -> tuple[float, dict[str, int]]:
    session = session_factory(engine)()
    started = time.perf_counter()
    result = import_file(
        session, entity="invoices", path=path, actor=Actor.system("bench"), today=date(2026, 1, 1)
    )
    session.commit()
    seconds = time.perf_counter() - started
    session.close()
    return seconds, {
        "inserted": result.inserted,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("FLYWHEEL_TEST_DATABASE_URL"))
    args = parser.parse_args()
    table = Table(title=f"invoice import, {args.rows:,} rows (CSV, UTF-8 BOM, Chinese headers)")
    for column in ("database", "run", "rows", "inserted", "unchanged", "seconds", "rows/s"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "invoices.csv"
        started = time.perf_counter()
        make_csv(path, args.rows, args.customers)
        console.print(
            f"generated {path.stat().st_size / 2**20:,.0f} MiB CSV in {time.perf_counter() - started:.1f} s"
        )
        targets = [("SQLite", f"sqlite:///{folder}/bench.db")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for name, url in targets:
            engine = prepare(url, args.customers)
            for label in ("first (insert)", "second (unchanged)"):
                seconds, counts = run(engine, path)
                table.add_row(
                    name,
                    label,
                    f"{args.rows:,}",
                    f"{counts['inserted']:,}",
                    f"{counts['unchanged']:,}",
                    f"{seconds:.1f}",
                    f"{args.rows / seconds:,.0f}",
                )
            engine.dispose()
    console.print(table)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"peak memory {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
