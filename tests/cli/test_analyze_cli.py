"""``flywheel analyze`` end to end: real CSV files, a real process, JSON on stdout."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def analyze(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    # No database is needed: point the settings at a path that does not exist to prove it.
    env["FLYWHEEL_DATABASE_URL"] = "sqlite:////nonexistent/flywheel.db"
    return subprocess.run(
        [sys.executable, "-m", "flywheel", "analyze", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(lines[0])
    return data


def write_csv(
    path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def credit_rows(n: int, seed: int) -> list[list[Any]]:
    """Utilisation (numeric, some missing), region (text) and a 0/1 default they drive."""
    rng = np.random.default_rng(seed)
    rows: list[list[Any]] = []
    for i in range(n):
        utilisation = rng.uniform(0.0, 1.0)
        region = str(rng.choice(["north", "south", "east"]))
        logit = -2.0 + 3.0 * utilisation + (0.8 if region == "south" else 0.0)
        default = int(rng.uniform() < 1.0 / (1.0 + np.exp(-logit)))
        shown = "" if i % 17 == 0 else f"{utilisation:.4f}"
        rows.append([f"A{i:05d}", shown, region, default])
    return rows


CREDIT_HEADER = ["account", "utilisation", "region", "default"]


def test_credit_scorecard_json_and_table(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "train.csv", CREDIT_HEADER, credit_rows(1000, seed=1))
    out = tmp_path / "scorecard.csv"

    proc = analyze(
        "credit-scorecard",
        train,
        "--target",
        "default",
        "--ignore",
        "account",
        "--out",
        out,
        "--json",
    )

    assert proc.returncode == 0, proc.stderr
    result = as_json(proc)
    assert {"auc", "ks", "gini", "n_train", "n_test"} <= set(result)
    assert result["n_train"] == 700
    assert result["n_test"] == 300
    assert result["gini"] == pytest.approx(2 * result["auc"] - 1, abs=1e-3)
    assert 0.6 < result["auc"] < 0.95
    assert result["variables"] == ["utilisation", "region"]
    assert result["categorical_variables"] == ["region"]
    header, rows = read_csv(out)
    assert header == [
        "variable",
        "bin",
        "count",
        "count_share",
        "event_count",
        "non_event_count",
        "event_rate",
        "woe",
        "iv",
        "coefficient",
        "points",
    ]
    assert {row["variable"] for row in rows} == {"utilisation", "region"}
    missing = next(r for r in rows if r["variable"] == "utilisation" and r["bin"] == "Missing")
    assert int(missing["count"]) > 0  # the empty cells of the training part
    assert sum(int(r["count"]) for r in rows if r["variable"] == "region") == 700


def test_credit_scorecard_with_a_test_file_in_gbk(tmp_path: Path) -> None:
    header = ["客户", "利用率", "地区", "违约"]
    train = write_csv(tmp_path / "训练.csv", header, credit_rows(600, seed=2), encoding="gbk")
    test = write_csv(tmp_path / "test.csv", header, credit_rows(250, seed=3), encoding="utf-8-sig")

    proc = analyze(
        "credit-scorecard", train, "--target", "违约", "--test", test, "--ignore", "客户", "--json"
    )

    assert proc.returncode == 0, proc.stderr
    result = as_json(proc)
    assert (result["n_train"], result["n_test"]) == (600, 250)
    assert result["test"] == "test.csv"


def test_credit_scorecard_human_output(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "train.csv", CREDIT_HEADER, credit_rows(500, seed=4))

    proc = analyze("credit-scorecard", train, "--target", "default", "--ignore", "account")

    assert proc.returncode == 0, proc.stderr
    assert "AUC" in proc.stdout
    assert "stratified 30% of train.csv, seed 42" in proc.stdout


@pytest.mark.parametrize(
    ("rows", "target", "code", "words"),
    [
        ([["1", "0"], ["2", "1"]], "bad", "column_missing", ["'bad'", "'x'", "'default'"]),
        (
            [["1", "0"], ["2", "yes"], ["3", "1"]],
            "default",
            "value_unparseable",
            ["row 3", "'yes'"],
        ),
        ([["1", "0"], ["2", ""]], "default", "value_unparseable", ["row 3", "empty"]),
        ([["1", "0"], ["2", "0"]], "default", "not_enough_data", ["only 0"]),
    ],
)
def test_credit_scorecard_bad_input(
    tmp_path: Path, rows: list[list[str]], target: str, code: str, words: list[str]
) -> None:
    train = write_csv(tmp_path / "train.csv", ["x", "default"], rows)

    proc = analyze("credit-scorecard", train, "--target", target, "--json")

    assert proc.returncode == 3
    error = as_json(proc)["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"]


def test_an_empty_file_is_refused_with_its_name(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    proc = analyze("credit-scorecard", empty, "--target", "default")

    assert proc.returncode == 3
    assert "empty.csv is empty" in proc.stderr
    assert proc.stdout == ""


# ------------------------------------------------------------------------------- payments

INVOICE_HEADER = ["客户编号", "invoice", "issued", "due", "paid", "amount", "note"]


def invoice_rows(customers: int, per_customer: int, seed: int) -> list[list[Any]]:
    """Each customer has a habit; invoices over 50,000 are paid 15 days later still."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01")
    rows: list[list[Any]] = []
    number = 0
    for customer in range(customers):
        habit = rng.normal(5.0, 10.0)
        for _ in range(per_customer):
            number += 1
            issued = start + int(rng.integers(0, 700))
            due = issued + int(rng.choice([30, 60]))
            big = rng.uniform() < 0.3
            amount = rng.uniform(60_000, 90_000) if big else rng.uniform(1_000, 5_000)
            paid = due + round(habit + (15.0 if big else 0.0) + rng.normal(0.0, 3.0))
            shown_paid = str(paid) if paid <= np.datetime64("2024-12-31") else ""
            rows.append(
                [
                    f"K{customer:03d}",
                    f"INV{number:05d}",
                    str(issued).replace("-", "/"),
                    str(due),
                    shown_paid,
                    f"{amount:,.2f}",
                    "备注",
                ]
            )
    return rows


PAYMENT_OPTIONS = [
    "--customer-col",
    "客户编号",
    "--issue-date-col",
    "issued",
    "--due-date-col",
    "due",
    "--paid-date-col",
    "paid",
    "--amount-col",
    "amount",
]


def test_payments_json_and_predictions_file(tmp_path: Path) -> None:
    invoices = write_csv(tmp_path / "invoices.csv", INVOICE_HEADER, invoice_rows(60, 30, seed=1))
    out = tmp_path / "predictions.csv"

    proc = analyze(
        "payments", invoices, *PAYMENT_OPTIONS, "--split-date", "2024-07-01", "--out", out, "--json"
    )

    assert proc.returncode == 0, proc.stderr
    result = as_json(proc)
    assert set(result["model"]) >= {"mae_days", "auc_late"}
    assert set(result["baselines"]) == {"customer_median", "customer_mean", "due_date"}
    for baseline in result["baselines"].values():
        assert "mae_days" in baseline
    assert result["split_date"] == "2024-07-01"
    assert result["n_train"] > 0
    assert "negative" in result["days_late"]
    # The size effect is invisible to a customer's average: the model must beat it.
    best = min(b["mae_days"] for b in result["baselines"].values())
    assert result["model"]["mae_days"] < 0.8 * best

    header, rows = read_csv(out)
    assert header == [*INVOICE_HEADER, "predicted_days_late", "p_late", "p_late_30"]
    assert len(rows) == result["n_test"]
    issued = sorted(row["issued"] for row in rows)
    assert issued[0] >= "2024/07/01"
    assert rows[0]["note"] == "备注"
    assert all(0.0 <= float(row["p_late"]) <= 1.0 for row in rows)


def test_payments_chooses_the_split_date_and_says_so(tmp_path: Path) -> None:
    invoices = write_csv(tmp_path / "invoices.csv", INVOICE_HEADER, invoice_rows(30, 20, seed=2))

    proc = analyze("payments", invoices, *PAYMENT_OPTIONS)

    assert proc.returncode == 0, proc.stderr
    assert "70% quantile of the issue dates" in proc.stdout
    assert "customer's historical median" in proc.stdout


def test_payments_names_the_row_of_an_unreadable_date(tmp_path: Path) -> None:
    rows = invoice_rows(5, 4, seed=3)
    rows[6][3] = "next Tuesday"
    invoices = write_csv(tmp_path / "invoices.csv", INVOICE_HEADER, rows)

    proc = analyze("payments", invoices, *PAYMENT_OPTIONS, "--json")

    assert proc.returncode == 3
    error = as_json(proc)["error"]
    assert error["code"] == "value_unparseable"
    assert "row 8" in error["message"]  # header is row 1, so the 7th data row is row 8
    assert "'due'" in error["message"]
    assert "'next Tuesday'" in error["message"]
    assert error["details"]["row"] == 8


def test_payments_missing_column(tmp_path: Path) -> None:
    invoices = write_csv(tmp_path / "invoices.csv", INVOICE_HEADER, invoice_rows(3, 3, seed=4))

    options = [value if value != "amount" else "total" for value in PAYMENT_OPTIONS]
    proc = analyze("payments", invoices, *options)

    assert proc.returncode == 3
    assert "no column 'total'" in proc.stderr
    assert "column_missing" in proc.stderr


def test_payments_names_the_row_of_an_unreadable_amount(tmp_path: Path) -> None:
    rows = invoice_rows(5, 4, seed=5)
    rows[2][5] = "twelve"
    invoices = write_csv(tmp_path / "invoices.csv", INVOICE_HEADER, rows)

    proc = analyze("payments", invoices, *PAYMENT_OPTIONS, "--json")

    assert proc.returncode == 3
    error = as_json(proc)["error"]
    assert error["code"] == "value_unparseable"
    assert "row 4, column 'amount': 'twelve' is not a number" in error["message"]


def test_payments_with_nothing_paid_before_the_split(tmp_path: Path) -> None:
    invoices = write_csv(tmp_path / "invoices.csv", INVOICE_HEADER, invoice_rows(5, 10, seed=6))

    proc = analyze("payments", invoices, *PAYMENT_OPTIONS, "--split-date", "2020-01-01", "--json")

    assert proc.returncode == 3
    error = as_json(proc)["error"]
    assert error["code"] == "not_enough_data"
    assert "no invoice was issued and paid before the split date" in error["message"]
