"""``flywheel analyze sentiment`` end to end: real CSV files, a real process."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROWS = [
    ["1", "送货很快，质量很好，非常满意", "正面"],
    ["2", "太慢了，等了两个星期还没到货，我们要换供应商", "负面"],
    ["3", "Great service and fast delivery, very happy.", "positive"],
    ["4", "The invoice was wrong again, terrible.", "negative"],
]


def analyze(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120", "FLYWHEEL_DATABASE_URL": "sqlite:////nonexistent/x.db"}
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


def write(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["id", "comment", "truth"])
        writer.writerows(rows)
    return path


def test_labelled_comments_are_written_with_sentiment_topics_and_urgency(tmp_path: Path) -> None:
    comments = write(tmp_path / "comments.csv", ROWS)
    out = tmp_path / "labelled.csv"

    proc = analyze(
        "sentiment",
        comments,
        "--text-col",
        "comment",
        "--label-col",
        "truth",
        "--out",
        out,
        "--json",
    )

    assert proc.returncode == 0, proc.stderr
    summary = as_json(proc)
    assert summary["n"] == 4
    assert summary["accuracy"] == 1.0
    assert summary["macro_f1"] == 1.0
    assert summary["texts_per_second"] > 0
    assert summary["sentiment"] == {"positive": 2, "negative": 2}
    assert summary["languages"] == {"zh": 2, "en": 2}
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["sentiment"] for r in rows] == ["positive", "negative", "positive", "negative"]
    assert [r["language"] for r in rows] == ["zh", "zh", "en", "en"]
    assert rows[1]["urgency"] == "churn_threat"
    assert rows[3]["urgency"] == "repeated"
    assert "delivery" in rows[1]["topics"].split(";")
    assert rows[3]["topics"] == "billing"
    assert -1.0 <= float(rows[0]["score"]) <= 1.0


def test_a_gbk_tab_separated_file_without_labels_prints_a_summary(tmp_path: Path) -> None:
    comments = write(
        tmp_path / "gbk.tsv", [[*r[:2], ""] for r in ROWS[:2]], encoding="gbk", delimiter="\t"
    )

    proc = analyze("sentiment", comments, "--text-col", "comment")

    assert proc.returncode == 0, proc.stderr
    assert "Sentiment of 2 comments in gbk.tsv" in proc.stdout
    assert "zh 2" in proc.stdout


def test_without_labels_json_has_null_metrics(tmp_path: Path) -> None:
    comments = write(tmp_path / "c.csv", ROWS, encoding="utf-8-sig")

    summary = as_json(analyze("sentiment", comments, "--text-col", "comment", "--json"))

    assert summary["accuracy"] is None
    assert summary["macro_f1"] is None
    assert summary["n"] == 4


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    comments = write(tmp_path / "c.csv", ROWS)

    proc = analyze("sentiment", comments, "--text-col", "text", "--json")

    assert proc.returncode == 3
    error = as_json(proc)["error"]
    assert error["code"] == "column_missing"
    assert "'text'" in error["message"]


def test_an_unparseable_label_names_row_column_and_value(tmp_path: Path) -> None:
    comments = write(tmp_path / "c.csv", [*ROWS[:2], ["3", "还行", "maybe"]])

    proc = analyze("sentiment", comments, "--text-col", "comment", "--label-col", "truth")

    assert proc.returncode == 3
    assert "c.csv, row 4, column 'truth'" in proc.stderr
    assert "'maybe'" in proc.stderr
    assert proc.stdout == ""


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    proc = analyze("sentiment", tmp_path / "nope.csv", "--text-col", "comment", "--json")

    assert proc.returncode == 3
    assert as_json(proc)["error"]["code"] == "file_unreadable"
