"""The ``flywheel`` command end to end: a real process, a real SQLite file, JSON on stdout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"


def flywheel(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "flywheel", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    data: dict[str, Any] = json.loads(lines[0])
    return data


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "flywheel.db"
    assert flywheel(path, "init").returncode == 0
    return path


def test_status_before_init_says_what_to_do(tmp_path: Path) -> None:
    proc = flywheel(tmp_path / "none.db", "status", "--json")

    assert proc.returncode == 7
    assert as_json(proc)["error"]["code"] == "database_not_ready"


def test_demo_then_customer_360_as_json(db: Path) -> None:
    built = flywheel(
        db,
        "demo",
        "--customers",
        "40",
        "--years",
        "2",
        "--seed",
        "3",
        "--as-of",
        "2026-06-30",
        "--json",
    )
    assert built.returncode == 0, built.stderr
    counts = as_json(built)
    assert counts["customers"] == 40
    assert counts["invoices"] > 0

    listed = as_json(flywheel(db, "customers", "list", "--limit", "3", "--json"))
    assert listed["total"] == 40
    code = listed["customers"][0]["code"]
    shown = flywheel(db, "customers", "show", code, "--as-of", "2026-06-30", "--json")

    assert shown.returncode == 0, shown.stderr
    view = as_json(shown)
    assert set(view) == {
        "as_of",
        "customer",
        "balance",
        "contacts",
        "open_invoices",
        "payments",
        "touchpoints",
    }
    assert view["customer"]["code"] == code
    assert all(i["days_overdue"] >= 0 for i in view["open_invoices"])
    # the human view renders too
    human = flywheel(db, "customers", "show", code, "--as-of", "2026-06-30")
    assert human.returncode == 0
    assert "open invoices" in human.stdout


def test_unknown_customer_exits_with_not_found(db: Path) -> None:
    proc = flywheel(db, "customers", "show", "NOPE", "--json")

    assert proc.returncode == 4
    assert as_json(proc)["error"]["code"] == "not_found"


def test_import_reports_json_and_strict_writes_nothing(db: Path, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "客户编号,客户名称\nC000001,甲公司\nC000002,乙公司\nC000003,丙公司\n", encoding="utf-8"
    )
    invoices = tmp_path / "invoices_gbk.csv"
    shutil.copy(FIXTURES / "invoices_gbk.csv", invoices)
    assert as_json(flywheel(db, "import", "customers", str(customers), "--json"))["inserted"] == 3

    strict = flywheel(db, "import", "invoices", str(invoices), "--strict", "--json")
    assert strict.returncode == 3
    assert as_json(strict)["error"]["code"] == "import_rejected"
    assert as_json(flywheel(db, "status", "--json"))["counts"]["invoices"] == 0

    first = as_json(flywheel(db, "import", "invoices", str(invoices), "--json"))
    second = as_json(flywheel(db, "import", "invoices", str(invoices), "--json"))

    keys = ("inserted", "updated", "unchanged", "rejected")
    assert tuple(first[k] for k in keys) == (7, 0, 0, 5)
    assert tuple(second[k] for k in keys) == (0, 0, 7, 5)
    assert second["rejects_file"] == str(invoices) + ".rejects.csv"
    assert Path(second["rejects_file"]).exists()


def test_dry_run_writes_nothing(db: Path, tmp_path: Path) -> None:
    customers = tmp_path / "c.csv"
    customers.write_text("code,name\nD1,Dry Ltd\n", encoding="utf-8")

    report = as_json(flywheel(db, "import", "customers", str(customers), "--dry-run", "--json"))

    assert report["inserted"] == 1
    assert report["committed"] is False
    assert as_json(flywheel(db, "status", "--json"))["counts"]["customers"] == 0


def test_missing_column_is_a_clear_error(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")

    proc = flywheel(db, "import", "invoices", str(path))

    assert proc.returncode == 3
    assert "required column missing" in proc.stderr


def test_a_command_on_an_empty_database_says_to_run_init(tmp_path: Path) -> None:
    proc = flywheel(tmp_path / "empty.db", "customers", "list", "--json")

    assert proc.returncode == 7
    error = as_json(proc)["error"]
    assert error["code"] == "database_not_ready"
    assert "flywheel init" in error["message"]
    assert "Traceback" not in proc.stderr
