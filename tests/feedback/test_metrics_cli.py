"""``flywheel feedback nps``: the figures of a period and a breakdown, as a table and as JSON,
in process against the test database (the command's unit of work is a savepoint)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.feedback import nps_cli
from tests.cli.in_process import in_session, one_json
from tests.feedback.metrics_world import build


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, nps_cli, prefix=["feedback", "nps"])


def payload(result: Any) -> dict[str, Any]:
    return one_json(result)


def test_nps_by_month_as_json(run: Any, session: Session) -> None:
    build(session)

    result = run("--from", "2026-01-01", "--to", "2026-03-31", "--by", "month", "--json")

    assert result.exit_code == 0, result.output
    body = payload(result)
    assert (body["start"], body["end"], body["by"]) == ("2026-01-01", "2026-03-31", "month")
    assert (body["nps"]["score"], body["nps"]["n"]) == (20.0, 10)
    assert body["csat"]["percent"] == 50.0
    assert [(g["key"], g["nps"]["score"]) for g in body["groups"]] == [
        ("2026-01", 33.33),
        ("2026-02", -50.0),
        ("2026-03", 100.0),
    ]


def test_nps_as_a_user_counts_his_accounts(run: Any, session: Session) -> None:
    world = build(session)

    body = payload(
        run("--from", "2026-01-01", "--to", "2026-03-31", "--user", world.rep.username, "--json")
    )

    assert (body["nps"]["n"], body["nps"]["score"]) == (7, -14.29)


def test_nps_table(run: Any, session: Session) -> None:
    world = build(session)

    result = run("--from", "2026-01-01", "--to", "2026-03-31", "--by", "owner")

    assert result.exit_code == 0, result.output
    assert world.rep.username in result.stdout
    assert "20.0" in result.stdout
    assert "fewer than 30 answers" in result.stdout


def test_a_backwards_period_is_refused(run: Any, session: Session) -> None:
    result = run("--from", "2026-03-01", "--to", "2026-01-01", "--json")

    assert result.exit_code != 0
    assert payload(result)["error"]["code"] == "validation_failed"
