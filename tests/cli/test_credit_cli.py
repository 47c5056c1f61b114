"""``flywheel run`` and ``flywheel credit …`` end to end: a real process on a small demo."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_commands import as_json, db, flywheel  # noqa: F401  (the fixture "db")


def test_run_scores_every_customer_and_credit_scores_lists_them(db: Path) -> None:  # noqa: F811
    built = flywheel(
        db,
        "demo",
        "--customers",
        "60",
        "--years",
        "2",
        "--seed",
        "5",
        "--as-of",
        "2026-06-30",
        "--json",
    )
    assert built.returncode == 0, built.stderr

    ran = flywheel(db, "run", "--as-of", "2026-06-30", "--json")
    assert ran.returncode == 0, ran.stderr
    result = as_json(ran)
    assert result["as_of"] == "2026-06-30"
    credit = result["credit"]
    assert credit["customers"] == 60
    assert sum(credit["grades"].values()) == 60
    assert set(credit["grades"]) <= set("ABCDE")
    assert set(credit["seconds"]) >= {"read", "compute", "write"}

    # Again on the same day: replaced, not added.
    again = as_json(flywheel(db, "run", "--as-of", "2026-06-30", "--json"))
    assert again["credit"]["grades"] == credit["grades"]
    assert again["credit"]["grade_changes"] == 0

    listed = as_json(
        flywheel(db, "credit", "scores", "--as-of", "2026-07-01", "--limit", "100", "--json")
    )
    assert listed["as_of"] == "2026-06-30"
    scores = [row["score"] for row in listed["scores"]]
    assert len(scores) == 60
    assert scores == sorted(scores)
    worst = listed["scores"][0]
    assert len(worst["reasons"]) == 3

    one = as_json(flywheel(db, "credit", "scores", "--code", worst["code"], "--json"))
    assert [row["code"] for row in one["scores"]] == [worst["code"]]
    assert len(one["scores"][0]["reasons"]) == 10


def test_scorecard_prints_the_card_and_a_bad_card_file_is_refused(db: Path, tmp_path: Path) -> None:  # noqa: F811
    card = as_json(flywheel(db, "credit", "scorecard", "--json"))
    assert card["base"] == 600
    assert [g for g, _ in card["grades"]] == ["A", "B", "C", "D", "E"]

    bad = tmp_path / "card.json"
    bad.write_text('{"base": "x"}', encoding="utf-8")
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "FLYWHEEL_DATABASE_URL": f"sqlite:///{db}",
        "FLYWHEEL_CREDIT_SCORECARD": str(bad),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "flywheel", "run", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "card.json is not valid" in as_json(proc)["error"]["message"]
