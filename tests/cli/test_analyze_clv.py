"""``flywheel analyze clv`` on real CSV files: the CDNOW reproduction, the customer file, and bad
input named by row, column and reason."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flywheel.cli import app
from tests.analytics.cdnow import cdnow_transactions

CDNOW_WEEKS = ["--period", "week", "--calibration-end", "1997-09-30"]
HOLDOUT = ["--holdout-end", "1998-06-30"]
COLUMNS = ["--customer-col", "客户", "--date-col", "date"]


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["analyze", "clv", *map(str, args)])


def one_json(result: Any) -> dict[str, Any]:
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    data: dict[str, Any] = json.loads(lines[0])
    return data


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sales = cdnow_transactions()
    rows = [
        [customer, str(day), cds, f"{amount:.2f}"]
        for customer, day, cds, amount in zip(
            sales.customer, sales.day, sales.cds, sales.amount, strict=True
        )
    ]
    return write_csv(
        tmp_path_factory.mktemp("cdnow") / "cdnow.csv", ["客户", "date", "cds", "amount"], rows
    )


def test_cdnow_in_weeks_reproduces_the_published_fits(cdnow_csv: Path) -> None:
    result = run(cdnow_csv, *COLUMNS, "--amount-col", "amount", *CDNOW_WEEKS, *HOLDOUT, "--json")

    assert result.exit_code == 0, result.output
    data = one_json(result)
    assert data["model"] == "bgnbd"
    assert data["period"] == "week"
    assert {k: round(v, 3) for k, v in data["params"].items()} == {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
    }
    assert round(data["log_likelihood"], 1) == -9582.4
    assert data["n_customers"] == 2357
    assert data["n_repeat_customers"] == 946
    assert data["n_transactions"] == 6919
    spend = data["gamma_gamma"]
    assert {k: round(v, 2) for k, v in spend["params"].items()} == {
        "p": 6.25,
        "q": 3.74,
        "v": 15.44,
        "gamma": 15.44,
    }
    assert spend["n_customers"] == 946
    holdout = data["holdout"]
    assert holdout["length_periods"] == 39
    assert holdout["actual_total"] == 1882
    assert holdout["predicted_total"] == pytest.approx(1653.41, abs=0.01)
    assert 0 < holdout["mae"] < 1
    assert holdout["by_frequency"][0] == {
        "frequency": "0",
        "customers": 1411,
        "actual_mean": 0.2367,
        "predicted_mean": 0.2251,
    }
    assert holdout["by_frequency"][-1]["frequency"] == "7+"
    assert sum(group["customers"] for group in holdout["by_frequency"]) == 2357
    revenue = holdout["revenue"]
    assert revenue["actual_total"] == pytest.approx(70976.39, abs=0.01)
    assert revenue["predicted_total"] > 0
    assert data["totals"]["clv"] > 0
    assert data["clv"] == {"months": 12, "monthly_discount_rate": 0.01, "days_per_month": 30.4375}
    assert data["notes"] == []


def test_cdnow_human_output_shows_the_parameters_and_log_likelihood(cdnow_csv: Path) -> None:
    result = run(cdnow_csv, *COLUMNS, "--amount-col", "amount", *CDNOW_WEEKS, *HOLDOUT)

    assert result.exit_code == 0, result.output
    text = result.stdout
    for shown in ("-9582.4", "0.2426", "4.4136", "0.7929", "2.4259", "6.2496", "3.7442"):
        assert shown in text
    assert "15.4435" in text
    assert "1,882" in text
    assert "2,357 customers (946 bought again)" in text


def test_cdnow_pareto_nbd(cdnow_csv: Path) -> None:
    result = run(cdnow_csv, *COLUMNS, *CDNOW_WEEKS, "--model", "pareto", "--json")

    assert result.exit_code == 0, result.output
    data = one_json(result)
    assert data["model"] == "pareto"
    assert {k: round(v, 3) for k, v in data["params"].items()} == {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
    }
    assert round(data["log_likelihood"], 1) == -9595.0
    assert data["holdout"] is None
    assert data["gamma_gamma"] is None
    assert data["clv"] is None


def test_days_instead_of_weeks_only_rescale_alpha_and_the_likelihood(cdnow_csv: Path) -> None:
    weeks = one_json(run(cdnow_csv, *COLUMNS, *CDNOW_WEEKS, "--json"))
    days = one_json(
        run(cdnow_csv, *COLUMNS, "--period", "day", "--calibration-end", "1997-09-30", "--json")
    )

    assert days["params"]["alpha"] == pytest.approx(7 * weeks["params"]["alpha"], rel=1e-5)
    for name in ("r", "a", "b"):
        assert days["params"][name] == pytest.approx(weeks["params"][name], rel=1e-5)
    # Each of the 2,457 repeat purchase times has a density 7 times smaller per day than per week.
    assert days["log_likelihood"] == pytest.approx(
        weeks["log_likelihood"] - 2457 * math.log(7), abs=1e-3
    )
    assert days["totals"] == pytest.approx(weeks["totals"], rel=1e-6)


def test_out_writes_one_row_per_customer(cdnow_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "customers.csv"

    result = run(
        cdnow_csv, *COLUMNS, "--amount-col", "amount", *CDNOW_WEEKS, *HOLDOUT, "--out", out
    )

    assert result.exit_code == 0, result.output
    assert f"written to {out}" in result.stdout.replace("\n", "")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2357
    assert list(rows[0]) == [
        "customer",
        "first_purchase",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "p_alive",
        "expected_purchases_90d",
        "expected_purchases_365d",
        "expected_order_value",
        "clv",
        "holdout_purchases",
        "holdout_purchases_predicted",
        "holdout_revenue",
        "holdout_revenue_predicted",
    ]
    first = rows[0]
    assert first["customer"] == "0001"
    assert first["first_purchase"] == "1997-01-01"
    assert (first["frequency"], first["recency"], first["T"]) == ("2", "30.4286", "38.8571")
    assert float(first["p_alive"]) == pytest.approx(0.72662, abs=1e-5)
    assert first["holdout_purchases"] == "1"
    assert all(0 <= float(row["p_alive"]) <= 1 for row in rows)
    assert sum(float(row["clv"]) for row in rows) == pytest.approx(71550.2, abs=1.0)


def test_runs_as_a_real_process_without_a_database(cdnow_csv: Path) -> None:
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": "sqlite:////nonexistent/flywheel.db"}
    proc = subprocess.run(
        [sys.executable, "-m", "flywheel", "analyze", "clv", cdnow_csv, *COLUMNS, *CDNOW_WEEKS],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )

    assert proc.returncode == 0, proc.stderr
    assert "-9582.4" in proc.stdout


# ---------------------------------------------------------------- bad input

SMALL = [
    ["A", "2024-01-05", "10"],
    ["A", "2024-02-01", "12"],
    ["B", "2024-01-20", "8"],
    ["B", "2024-03-01", "9"],
    ["C", "2024-02-10", "20"],
]


def small_csv(tmp_path: Path, rows: list[list[str]] = SMALL) -> Path:
    return write_csv(tmp_path / "sales.csv", ["客户", "date", "amount"], rows)


def refused(result: Any, code: str, *words: str) -> dict[str, Any]:
    assert result.exit_code == 3, result.output
    error = one_json(result)["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"]
    return error


def test_a_missing_column_is_named_with_the_columns_there_are(tmp_path: Path) -> None:
    result = run(
        small_csv(tmp_path), "--customer-col", "customer", "--date-col", "date",
        "--calibration-end", "2024-02-15", "--json",
    )  # fmt: skip

    error = refused(result, "column_missing", "'customer'", "'客户'", "'date'", "'amount'")
    assert error["details"]["missing"] == ["customer"]


def test_an_unreadable_date_names_its_row_and_column(tmp_path: Path) -> None:
    rows = [*SMALL[:3], ["B", "next tuesday", "9"], SMALL[4]]

    result = run(small_csv(tmp_path, rows), *COLUMNS, "--calibration-end", "2024-02-15", "--json")

    # The header is row 1, so the fourth data row is row 5.
    error = refused(result, "value_unparseable", "row 5", "'date'", "next tuesday")
    assert error["details"]["row"] == 5


@pytest.mark.parametrize(
    ("cell", "words"),
    [("-8", ["row 4", "'amount'", "negative"]), ("", ["row 4", "'amount'", "empty"]),
     ("lots", ["row 4", "'amount'", "not a number"])],
)  # fmt: skip
def test_a_bad_amount_names_its_row(tmp_path: Path, cell: str, words: list[str]) -> None:
    rows = [*SMALL[:2], ["B", "2024-01-20", cell], *SMALL[3:]]

    result = run(
        small_csv(tmp_path, rows), *COLUMNS, "--amount-col", "amount",
        "--calibration-end", "2024-02-15", "--json",
    )  # fmt: skip

    refused(result, "value_unparseable", *words)


def test_an_empty_customer_names_its_row(tmp_path: Path) -> None:
    rows = [*SMALL[:4], ["", "2024-02-10", "20"]]

    result = run(small_csv(tmp_path, rows), *COLUMNS, "--calibration-end", "2024-02-15", "--json")

    refused(result, "value_unparseable", "row 6", "'客户'", "customer is empty")


def test_a_calibration_end_after_all_data_leaves_no_holdout(tmp_path: Path) -> None:
    result = run(
        small_csv(tmp_path), *COLUMNS, "--calibration-end", "2024-06-30",
        "--holdout-end", "2024-12-31", "--json",
    )  # fmt: skip

    refused(
        result,
        "not_enough_data",
        "--calibration-end 2024-06-30 is on or after the last purchase (2024-03-01)",
    )


def test_a_calibration_end_before_all_data_leaves_nothing_to_fit(tmp_path: Path) -> None:
    result = run(small_csv(tmp_path), *COLUMNS, "--calibration-end", "2023-12-31", "--json")

    refused(result, "not_enough_data", "no purchase on or before", "2024-01-05")


def test_no_repeat_purchase_in_the_calibration_period(tmp_path: Path) -> None:
    result = run(small_csv(tmp_path), *COLUMNS, "--calibration-end", "2024-01-25", "--json")

    refused(result, "not_enough_data", "none of the 2 customers bought again")


@pytest.mark.parametrize(
    ("options", "code", "words"),
    [
        (["--calibration-end", "soon"], "value_unparseable", ["--calibration-end", "soon"]),
        (
            ["--calibration-end", "2024-02-15", "--holdout-end", "2024-02-15"],
            "analysis_input_invalid",
            ["must come after"],
        ),
    ],
)
def test_bad_dates_in_the_options(
    tmp_path: Path, options: list[str], code: str, words: list[str]
) -> None:
    refused(run(small_csv(tmp_path), *COLUMNS, *options, "--json"), code, *words)


def test_human_errors_go_to_stderr_with_the_code(tmp_path: Path) -> None:
    result = run(small_csv(tmp_path), *COLUMNS, "--calibration-end", "2023-12-31")

    assert result.exit_code == 3
    assert "[not_enough_data]" in result.stderr
    assert result.stdout == ""


def test_an_unknown_model_is_a_usage_error(tmp_path: Path) -> None:
    result = run(small_csv(tmp_path), *COLUMNS, "--calibration-end", "2024-02-15", "--model", "x")

    assert result.exit_code == 2


def test_a_small_file_without_holdout_or_amounts(tmp_path: Path) -> None:
    result = run(small_csv(tmp_path), *COLUMNS, "--calibration-end", "2024-03-31", "--json")

    assert result.exit_code == 0, result.output
    data = one_json(result)
    assert data["n_customers"] == 3
    assert data["n_repeat_customers"] == 2
    assert data["holdout"] is None
    assert data["gamma_gamma"] is None
    assert set(data["totals"]) == {"expected_purchases_90d", "expected_purchases_365d"}
