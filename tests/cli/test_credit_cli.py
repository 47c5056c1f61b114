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


def test_train_then_run_predicts_open_items_and_forecasts_13_weeks(
    db: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    from sqlalchemy import create_engine, text

    assert (
        flywheel(
            db,
            "demo",
            "--customers",
            "80",
            "--years",
            "2",
            "--seed",
            "9",
            "--as-of",
            "2026-06-30",
            "--json",
        ).returncode
        == 0
    )
    env = {
        **os.environ,
        "FLYWHEEL_DATABASE_URL": f"sqlite:///{db}",
        "FLYWHEEL_MODEL_DIR": str(tmp_path / "models"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flywheel", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=600,
        )

    before = as_json(run("run", "--as-of", "2026-06-30", "--json"))
    assert before["payments"] is None  # no model yet: scores only

    trained = run("credit", "train", "--as-of", "2026-06-30", "--json")
    assert trained.returncode == 0, trained.stderr
    report = as_json(trained)
    assert report["n_train"] > 0
    assert set(report["backtest"]["baselines"]) == {"customer_median", "customer_mean", "due_date"}
    assert (tmp_path / "models" / "payment_model.pkl").exists()
    card = report["scorecard"]
    # Either trained and validated out of time, or refused with its reason (a small demo may
    # have nobody going 90 days past due in a window): never silently half-done.
    assert ("validation" in card and set(card["validation"]) >= {"auc", "ks", "gini", "psi"}) or (
        card["used"] is False and card["reason"]
    )

    ran = as_json(run("run", "--as-of", "2026-06-30", "--json"))
    assert ran["payments"]["forecast_weeks"] == 13
    assert ran["credit"]["model"] == ("trained" if card["used"] else "expert")
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        predicted = conn.scalar(text("SELECT count(*) FROM payment_predictions"))
        open_items = conn.scalar(
            text(
                "SELECT count(*) FROM installments i JOIN invoices v ON v.id = i.invoice_id "
                "WHERE i.status IN ('open', 'partially_paid') AND v.issue_date <= '2026-06-30' "
                "AND v.issue_date >= '2023-07-01'"
            )
        )
        too_early = conn.scalar(
            text("SELECT count(*) FROM payment_predictions WHERE predicted_on <= '2026-06-30'")
        )
        weeks = conn.execute(
            text(
                "SELECT week_start, expected, low, high FROM cash_forecasts "
                "WHERE currency = 'CNY' ORDER BY week_start"
            )
        ).all()
        currencies = conn.scalars(
            text("SELECT DISTINCT currency FROM cash_forecasts ORDER BY currency")
        ).all()
        open_currencies = conn.scalars(
            text(
                "SELECT DISTINCT v.currency FROM installments i "
                "JOIN payment_predictions p ON p.installment_id = i.id "
                "JOIN invoices v ON v.id = i.invoice_id ORDER BY v.currency"
            )
        ).all()
        open_total = conn.scalar(
            text(
                "SELECT sum(i.amount - i.paid_amount - i.credited_amount - i.written_off_amount) "
                "FROM installments i JOIN payment_predictions p ON p.installment_id = i.id"
            )
        )
    engine.dispose()
    assert predicted == open_items == ran["payments"]["installments_predicted"]
    assert too_early == 0
    # one forecast per currency: amounts in different currencies are never added up
    assert currencies == sorted(set(open_currencies) | {"CNY"})
    assert len(weeks) == 13
    assert [str(w[0]) for w in weeks][:2] == ["2026-07-01", "2026-07-08"]
    assert all(float(low) <= float(exp) <= float(high) for _d, exp, low, high in weeks)
    assert sum(float(w[1]) for w in weeks) <= float(open_total) + 0.01
