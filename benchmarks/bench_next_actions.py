"""The next-best-action engine at scale, on its own: N synthetic accounts (100,000 by default)
with the day's loyalty rows, NPS answers, open detractor follow-ups, credit grades, open and
overdue installments and two years of orders, written with bulk inserts; then
``next_actions.run`` timed three times, each with its commit:

1. the first day (every rule over every account; the day's actions opened),
2. the same day again (opens nothing),
3. the next day (the facts unchanged: cooldowns hold everything back).

    python benchmarks/bench_next_actions.py [--accounts 100000] [--pg-url URL] [--no-sqlite]

SQLite goes to a temporary file; --pg-url names a PostgreSQL database the benchmark may empty
and fill (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/flywheel_bench_nba).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, literal, select, text
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.db import make_engine, upgrade_database
from flywheel.feedback import surveys
from flywheel.loyalty import next_actions
from flywheel.models.credit import CreditScore
from flywheel.models.customers import Customer
from flywheel.models.feedback import FeedbackLoop, SurveyResponse
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.receivables import Installment, Invoice
from flywheel.models.sales import Order
from flywheel.models.users import User

AS_OF = date(2026, 3, 2)
console = Console(width=160)
SEGMENTS = ["champions", "loyal", "promising", "needs_attention", "at_risk", "hibernating", "lost"]


def _batches(rows: list[dict[str, Any]], size: int = 20_000) -> Any:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _put(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        session.execute(insert(table), batch)


def build(engine: Engine, n: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    with Session(engine) as session:
        users = [
            {"username": f"rep{i}", "display_name": f"Rep {i}", "role": "sales"} for i in range(50)
        ]
        _put(session, User, users)
        user_ids = [r[0] for r in session.execute(text("SELECT id FROM users ORDER BY id"))]
        tiers = rng.choice(["key", "growth", "standard"], n, p=[0.05, 0.25, 0.7])
        _put(
            session,
            Customer,
            [
                {
                    "code": f"B{i:07d}",
                    "name": f"客户 {i}",
                    "tier": str(tiers[i]),
                    "owner_id": user_ids[i % len(user_ids)],
                    "currency": "CNY",
                    "payment_terms": "NET30",
                    "status": "active",
                    "created_on": date(2023, 1, 1),
                }
                for i in range(n)
            ],
        )
        ids = [r[0] for r in session.execute(text("SELECT id FROM customers ORDER BY id"))]
        clv = rng.lognormal(10, 1.2, n)
        health = rng.integers(5, 100, n)
        churn = rng.random(n)
        _put(
            session,
            LoyaltyScore,
            [
                {
                    "customer_id": cid,
                    "as_of": AS_OF,
                    "currency": "CNY",
                    "orders": int(rng.integers(1, 40)),
                    "first_order_on": date(2023, 2, 1),
                    "last_order_on": AS_OF - timedelta(days=int(rng.integers(0, 400))),
                    "revenue_12m": round(float(clv[i] * 0.4), 2),
                    "recency_score": int(rng.integers(1, 6)),
                    "frequency_score": int(rng.integers(1, 6)),
                    "monetary_score": int(rng.integers(1, 6)),
                    "segment": SEGMENTS[int(rng.integers(0, len(SEGMENTS)))],
                    "p_alive": float(1 - churn[i]),
                    "expected_purchases_90": float(rng.random() * 3),
                    "expected_purchases_365": float(rng.random() * 10),
                    "expected_order_value": 1000,
                    "clv": round(float(clv[i]), 2),
                    "health": int(health[i]),
                    "health_band": "green"
                    if health[i] >= 70
                    else "yellow"
                    if health[i] >= 40
                    else "red",
                    "health_trend": ["up", "flat", "down"][int(rng.integers(0, 3))],
                    "health_factors": [],
                    "churn_risk": float(churn[i]),
                    "churn_basis": "p_alive",
                }
                for i, cid in enumerate(ids)
            ],
        )
        surveys.ensure_defaults(session)
        survey_id = session.execute(text("SELECT id FROM surveys ORDER BY id LIMIT 1")).scalar()
        answered = rng.choice(n, n * 3 // 10, replace=False)
        scores = rng.integers(0, 11, answered.size)
        _put(
            session,
            SurveyResponse,
            [
                {
                    "survey_id": survey_id,
                    "customer_id": ids[int(i)],
                    "kind": "nps",
                    "score": int(s),
                    "scale_min": 0,
                    "scale_max": 10,
                    "band": surveys.band("nps", int(s)).value,
                    "answers": {},
                    "language": "zh",
                    "answered_at": datetime.combine(
                        AS_OF - timedelta(days=int(rng.integers(1, 500))), clock_time(9), UTC
                    ),
                }
                for i, s in zip(answered, scores, strict=True)
            ],
        )
        detractors = answered[scores <= 6][: n // 20]
        moment = datetime.combine(AS_OF - timedelta(days=3), clock_time(9), UTC)
        _put(
            session,
            FeedbackLoop,
            [
                {
                    "customer_id": ids[int(i)],
                    "dedupe_key": f"bench:{i}",
                    "reason": "detractor",
                    "urgency": [],
                    "status": "open",
                    "opened_at": moment,
                    "due_at": moment + timedelta(hours=48),
                }
                for i in detractors
            ],
        )
        grades = rng.choice(list("ABCDE"), n)
        _put(
            session,
            CreditScore,
            [
                {
                    "customer_id": cid,
                    "as_of": AS_OF,
                    "score": 600,
                    "grade": str(grades[i]),
                    "model": "expert",
                    "factors": [],
                }
                for i, cid in enumerate(ids)
            ],
        )
        billed = rng.choice(n, n * 6 // 10, replace=False)
        _put(
            session,
            Invoice,
            [
                {
                    "number": f"BI{i:08d}",
                    "customer_id": ids[int(c)],
                    "issue_date": AS_OF - timedelta(days=int(rng.integers(5, 90))),
                    "payment_terms": "NET30",
                    "amount": 5000,
                    "currency": "CNY",
                    "status": "open",
                }
                for i, c in enumerate(billed)
            ],
        )
        invoices = session.execute(text("SELECT id, customer_id, issue_date FROM invoices")).all()
        _put(
            session,
            Installment,
            [
                {
                    "invoice_id": inv_id,
                    "customer_id": cid,
                    "sequence": 1,
                    "due_date": (
                        issued if isinstance(issued, date) else date.fromisoformat(str(issued))
                    )
                    + timedelta(days=30),
                    "amount": 5000,
                    "status": "open",
                }
                for inv_id, cid, issued in invoices
            ],
        )
        buyers = rng.integers(0, n, n * 3)
        days = rng.integers(0, 730, buyers.size)
        _put(
            session,
            Order,
            [
                {
                    "number": f"BO{i:08d}",
                    "customer_id": ids[int(c)],
                    "order_date": AS_OF - timedelta(days=int(d)),
                    "amount": round(float(rng.lognormal(8, 1)), 2),
                    "currency": "CNY",
                    "status": "delivered",
                }
                for i, (c, d) in enumerate(zip(buyers, days, strict=True))
            ],
        )
        session.commit()


def copy_scores(engine: Engine, day: date) -> None:
    """The day's loyalty rows again for ``day``, as the cycle would write them."""
    columns = [c for c in LoyaltyScore.__table__.columns if c.name not in ("id", "as_of")]
    with Session(engine) as session:
        session.execute(
            insert(LoyaltyScore).from_select(
                [c.name for c in columns] + ["as_of"],
                select(*columns, literal(day)).where(LoyaltyScore.as_of == AS_OF),
            )
        )
        session.commit()


def timed_run(engine: Engine, day: date, settings: Settings) -> dict[str, Any]:
    if day != AS_OF:
        copy_scores(engine, day)
    started, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        result = next_actions.run(session, as_of=day, settings=settings)
        flushed = time.perf_counter()
        session.commit()
    result["commit"] = time.perf_counter() - flushed
    result["wall"] = time.perf_counter() - started
    result["cpu"] = time.process_time() - cpu
    return result


def bench(label: str, engine: Engine, n: int) -> None:
    clock = time.perf_counter()
    build(engine, n)
    console.print(f"{label}: {n:,} accounts built in {time.perf_counter() - clock:.1f} s")
    settings = Settings(secret_key="bench-only-secret-key", loyalty_contract_tiers=["key"])
    table = Table(title=f"next_actions.run — {label}, {n:,} accounts")
    for column in (
        "run",
        "opened",
        "expired",
        "cooling",
        "capped",
        "read s",
        "evaluate s",
        "rank s",
        "write s",
        "commit s",
        "total s",
        "CPU s",
    ):
        table.add_column(column, justify="right")
    for name, day in (
        ("first day", AS_OF),
        ("same day again", AS_OF),
        ("next day", AS_OF + timedelta(days=1)),
    ):
        r = timed_run(engine, day, settings)
        s = r["seconds"]
        table.add_row(
            name,
            f"{r['opened']:,}",
            f"{r['expired']:,}",
            f"{r['skipped_cooldown']:,}",
            f"{r['skipped_cap']:,}",
            f"{s['read']:.2f}",
            f"{s['evaluate']:.3f}",
            f"{s['rank']:.3f}",
            f"{s['write']:.2f}",
            f"{r['commit']:.2f}",
            f"{r['wall']:.2f}",
            f"{r['cpu']:.2f}",
        )
        reads = ", ".join(f"{k[5:]} {v:.2f}" for k, v in s.items() if k.startswith("read_"))
        console.print(f"  {name}: reads — {reads}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--pg-url")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'nba.db'}")
            upgrade_database(engine)
            bench("SQLite", engine, args.accounts)
            engine.dispose()
    if args.pg_url:
        engine = make_engine(args.pg_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade_database(engine)
        bench("PostgreSQL", engine, args.accounts)
        engine.dispose()


if __name__ == "__main__":
    main()
