"""``flywheel ar aging`` and ``flywheel ar kpis`` end to end: a real process on a demo company
in a SQLite file; the aging is checked against the ledger summed row by row through the ORM."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.db import make_engine
from flywheel.models.enums import InvoiceStatus
from flywheel.models.receivables import Allocation, Installment, Invoice
from tests.cli.test_commands import as_json, flywheel

DEMO_DAY = "2026-06-30"
PAST_DAY = date(2026, 3, 31)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ar") / "flywheel.db"
    assert flywheel(db, "init").returncode == 0
    built = flywheel(
        db,
        "demo",
        "--customers",
        "40",
        "--years",
        "2",
        "--seed",
        "5",
        "--as-of",
        DEMO_DAY,
        "--json",
    )
    assert built.returncode == 0, built.stderr
    return db


def open_by_bucket(db: Path, as_of: date) -> dict[str, Decimal]:
    """The aging by the definition, one ORM installment at a time: amount − allocations
    applied by as_of − a write-off dated by as_of, bucketed by days past due."""
    engine = make_engine(f"sqlite:///{db}")
    buckets = {k: Decimal("0.00") for k in ("current", "1-30", "31-60", "61-90", "91-180", "181+")}
    with Session(engine) as session:
        applied: dict[int, Decimal] = {}
        for allocation in session.scalars(select(Allocation).where(Allocation.applied_on <= as_of)):
            applied[allocation.installment_id] = (
                applied.get(allocation.installment_id, Decimal("0.00")) + allocation.amount
            )
        rows = session.execute(
            select(Installment, Invoice.issue_date)
            .join(Invoice)
            .where(Invoice.currency == "CNY", Invoice.issue_date <= as_of)
            .where(Installment.status != InvoiceStatus.CANCELLED.value)
        ).all()
        for installment, _issued in rows:
            written = (
                installment.written_off_amount
                if installment.settled_on is not None and installment.settled_on <= as_of
                else Decimal("0.00")
            )
            left = installment.amount - applied.get(installment.id, Decimal("0.00")) - written
            if left <= 0:
                continue
            days = (as_of - installment.due_date).days
            key = (
                "current"
                if days <= 0
                else "1-30"
                if days <= 30
                else "31-60"
                if days <= 60
                else "61-90"
                if days <= 90
                else "91-180"
                if days <= 180
                else "181+"
            )
            buckets[key] += left
    engine.dispose()
    return buckets


@pytest.mark.parametrize("as_of", [date(2026, 6, 30), PAST_DAY])
def test_aging_json_equals_the_ledger_summed_by_hand(demo_db: Path, as_of: date) -> None:
    proc = flywheel(demo_db, "ar", "aging", "--as-of", as_of.isoformat(), "--by", "tier", "--json")

    assert proc.returncode == 0, proc.stderr
    data = as_json(proc)
    expected = open_by_bucket(demo_db, as_of)
    assert {k: Decimal(v) for k, v in data["totals"]["buckets"].items()} == expected
    assert Decimal(data["totals"]["total"]) == sum(expected.values())
    assert sum(Decimal(r["total"]) for r in data["items"]) == sum(expected.values())
    assert {r["key"] for r in data["items"]} <= {"key", "growth", "standard"}


def test_aging_with_custom_buckets_and_the_human_table(demo_db: Path) -> None:
    data = as_json(
        flywheel(demo_db, "ar", "aging", "--as-of", DEMO_DAY, "--buckets", "45,90", "--json")
    )
    human = flywheel(demo_db, "ar", "aging", "--as-of", DEMO_DAY, "--by", "owner")

    assert data["buckets"] == ["current", "1-45", "46-90", "91+"]
    assert data["by"] == "customer"
    assert human.returncode == 0, human.stderr
    assert "aging by owner" in human.stdout


def test_kpis_json_has_the_card_and_a_twelve_month_trend(demo_db: Path) -> None:
    proc = flywheel(demo_db, "ar", "kpis", "--as-of", DEMO_DAY, "--json")

    assert proc.returncode == 0, proc.stderr
    data = as_json(proc)
    assert set(data) == {"as_of", "currency", "period_days", "current", "trend", "definitions"}
    assert len(data["trend"]) == 12
    assert data["trend"][-1] == data["current"]
    current = data["current"]
    assert current["dso"] is not None
    assert current["dso"] > 0
    assert current["add"] == pytest.approx(current["dso"] - current["best_possible_dso"], abs=0.02)
    assert Decimal(current["receivables"]) == sum(
        open_by_bucket(demo_db, date(2026, 6, 30)).values()
    )
    assert "CEI" in data["definitions"]["cei"]
    human = flywheel(demo_db, "ar", "kpis", "--as-of", DEMO_DAY)
    assert human.returncode == 0
    assert "receivables KPIs" in human.stdout


def test_bad_options_exit_with_a_validation_error(demo_db: Path) -> None:
    by = flywheel(demo_db, "ar", "aging", "--by", "colour", "--json")
    edges = flywheel(demo_db, "ar", "aging", "--buckets", "60,30", "--json")

    assert by.returncode == 3
    assert as_json(by)["error"]["details"]["field"] == "by"
    assert edges.returncode == 3
    assert as_json(edges)["error"]["details"]["field"] == "buckets"
