"""``flywheel insights build|dashboard|drill``: in process against the test database, on the
small company of ``tests.insights.cube_world`` (its cube built with the hand-set source)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.insights import dashboard_cli as insights_cli
from flywheel.insights import snapshot
from flywheel.models.insights import InsightMonth
from tests.cli.in_process import in_session, one_json
from tests.insights.cube_world import AS_OF, build, build_cube


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, insights_cli, prefix=["insights"])


def test_build_as_json(run: Any, session: Session) -> None:
    build(session)

    result = run("build", "--as-of", "2026-12-04", "--history", "3", "--json")

    assert result.exit_code == 0, result.output
    body = one_json(result)
    assert [m["month"] for m in body["months"]] == ["2026-10", "2026-11", "2026-12"]
    assert body["months"][-1]["as_of"] == "2026-12-04"
    assert session.scalar(select(func.count()).select_from(InsightMonth)) == 3


def test_build_as_a_table_then_only_what_changed(run: Any, session: Session) -> None:
    build(session)
    assert run("build", "--as-of", "2026-12-04", "--history", "4").exit_code == 0

    again = run("build", "--as-of", "2026-12-04", "--history", "4")

    assert again.exit_code == 0, again.output
    assert "2026-11" in again.stdout
    assert "2026-12" in again.stdout
    assert "2026-09" not in again.stdout


def test_dashboard_as_json_and_as_a_table(run: Any, session: Session) -> None:
    build(session)
    build_cube(session)

    body = one_json(run("dashboard", "--month", "2026-11", "--json"))
    figures = {f["code"]: f for f in body["figures"]}
    assert figures["pipeline_created"]["value"] == 350.0
    assert figures["pipeline_created"]["previous"] == 1000.0

    table = run("dashboard", "--month", "2026-11", "--currency", "USD")
    assert table.exit_code == 0, table.output
    assert "2026-11…2026-11 vs 2026-10…2026-10 (USD)" in table.stdout
    assert "70.00" in table.stdout


def test_a_rep_sees_his_own_book(run: Any, session: Session) -> None:
    world = build(session)
    build_cube(session)

    body = one_json(
        run("dashboard", "--month", "2026-11", "--user", world.other_rep.username, "--json")
    )

    assert {f["code"]: f["value"] for f in body["figures"]}["pipeline_created"] == 50.0


def test_bad_options_are_named(run: Any, session: Session) -> None:
    build(session)

    result = run("dashboard", "--period", "5m", "--json")
    assert result.exit_code != 0
    assert "period" in result.output
    month = run("dashboard", "--month", "11/2026")
    assert month.exit_code != 0
    assert "YYYY-MM" in month.output
    drill = run("drill", "no_such_list")
    assert drill.exit_code != 0
    assert "no_such_list" in drill.output


def test_missing_months_are_pointed_out(run: Any, session: Session) -> None:
    build(session)
    snapshot.run(session, as_of=AS_OF, history=2, sources=[])

    table = run("dashboard", "--month", "2026-09")

    assert table.exit_code == 0, table.output
    assert "2026-09" in table.stdout
    assert "flywheel run" in table.stdout
