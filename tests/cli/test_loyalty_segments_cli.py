"""``flywheel loyalty segments`` and ``flywheel loyalty retention``: tables and one JSON object,
in process against the test database, on the small company of ``tests.loyalty.retention_world``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.loyalty import score_cli
from tests.cli.in_process import in_session, one_json
from tests.loyalty.retention_world import build, with_scores


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, score_cli, prefix=["loyalty"])


def test_segments_as_json(run: Any, session: Session) -> None:
    with_scores(session, build(session))

    result = run("segments", "--as-of", "2026-03-31", "--json")

    assert result.exit_code == 0, result.output
    body = one_json(result)
    assert set(body) == {
        "as_of",
        "scores_day",
        "filters",
        "accounts",
        "segments",
        "by",
        "groups",
        "definitions",
    }
    assert (body["scores_day"], body["accounts"], body["by"]) == ("2026-03-31", 5, None)
    counts = {s["segment"]: s["accounts"] for s in body["segments"]}
    assert counts == {
        "champions": 1,
        "loyal": 1,
        "promising": 1,
        "needs_attention": 0,
        "at_risk": 1,
        "hibernating": 1,
        "lost": 0,
        "no_purchase": 0,
    }
    assert body["segments"][0]["clv"] == "50000.00"


def test_segments_by_region_as_a_table(run: Any, session: Session) -> None:
    with_scores(session, build(session))

    result = run("segments", "--as-of", "2026-03-31", "--by", "region")

    assert result.exit_code == 0, result.output
    assert "RFM segments on 2026-03-31 (CNY)" in result.stdout
    assert "champions" in result.stdout
    assert "50,000.00" in result.stdout
    assert "华东" in result.stdout
    assert "华南" in result.stdout


def test_segments_as_a_sales_rep(run: Any, session: Session) -> None:
    world = with_scores(session, build(session))

    body = one_json(
        run("segments", "--as-of", "2026-03-31", "--user", world.rep.username, "--json")
    )

    assert body["accounts"] == 2
    assert [s["segment"] for s in body["segments"] if s["accounts"]] == ["champions", "at_risk"]


def test_segments_before_the_first_cycle(run: Any, session: Session) -> None:
    build(session)

    table = run("segments", "--as-of", "2026-03-31")
    body = one_json(run("segments", "--as-of", "2026-03-31", "--json"))

    assert table.exit_code == 0
    assert "run `flywheel run` first" in table.stdout
    assert (body["scores_day"], body["segments"]) == (None, [])


def test_retention_per_month_as_json(run: Any, session: Session) -> None:
    build(session)

    result = run("retention", "--as-of", "2026-03-31", "--periods", "2", "--json")

    assert result.exit_code == 0, result.output
    body = one_json(result)
    assert set(body) == {"as_of", "period", "filters", "repeat_purchase", "periods", "definitions"}
    assert body["repeat_purchase"]["rate"] == 0.8
    assert [(p["period"], p["nrr"], p["grr"]) for p in body["periods"]] == [
        ("2026-02", 0.7143, 0.5714),
        ("2026-03", 0.697, 0.697),
    ]
    assert body["periods"][0]["churn"] == "500.00"


def test_retention_per_quarter_as_a_table(run: Any, session: Session) -> None:
    build(session)

    result = run("retention", "--as-of", "2026-03-31", "--period", "quarter", "--periods", "2")

    assert result.exit_code == 0, result.output
    assert "Repeat-purchase rate: 80.0% (4 of 5 buyers" in result.stdout
    assert "2026-Q1" in result.stdout
    assert "NRR = (start + expansion − contraction − churn) ÷ start" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retention", "--period", "week"], "period must be one of month, quarter, year"),
        (["retention", "--as-of", "31/03/2026"], "--as-of must be a date"),
        (["segments", "--as-of", "1800-01-01"], "as_of must be between"),
        (["segments", "--by", "colour"], "--by must be one of owner, region, tier"),
        (["segments", "--currency", "EURO"], "three letters"),
    ],
)
def test_bad_input_is_a_clear_error(
    run: Any, session: Session, args: list[str], message: str
) -> None:
    result = run(*args, "--json")

    assert result.exit_code != 0
    error = one_json(result)["error"]
    assert error["code"] == "validation_failed"
    assert message in error["message"]
