"""``flywheel accounts map|needs CODE`` in process against the test database: the map as a tree
with its warnings, and the register, as a table and as one JSON object."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.keyaccounts import map_cli, needs, stakeholders
from tests.cli.in_process import in_session, one_json
from tests.factories import TESTER
from tests.keyaccounts.map_support import MapWorld, build


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, map_cli, prefix=["accounts"])


@pytest.fixture
def world(session: Session) -> MapWorld:
    return build(session)


def test_map_prints_the_tree_and_the_warnings(run: Any, session: Session, world: MapWorld) -> None:
    stakeholders.set_stakeholder(
        session,
        actor=TESTER,
        code="KA-MAP",
        contact_id=world.finance.id,
        changes={"reports_to_contact_id": world.boss.id, "attitude": "opponent", "influence": 5},
    )

    shown = run("map", "KA-MAP", "--as-of", "2026-06-30", "--json")
    table = run("map", "KA-MAP", "--as-of", "2026-06-30")
    missing = run("map", "NOPE", "--json")
    bad_day = run("map", "KA-MAP", "--as-of", "someday")

    assert shown.exit_code == 0, shown.output
    body = one_json(shown)
    assert [w["code"] for w in body["warnings"]] == [
        "decision_maker_not_met",
        "single_threaded",
        "high_influence_opponent",
    ]
    assert body["items"][0]["name"] == "钱会计"
    assert table.exit_code == 0, table.output
    assert "钱会计" in table.output
    assert "high_influence_opponent" in table.output
    assert missing.exit_code != 0
    assert one_json(missing)["error"]["code"] == "not_found"
    assert bad_day.exit_code != 0


def test_needs_lists_the_register(run: Any, session: Session, world: MapWorld) -> None:
    needs.add_need(session, actor=TESTER, code="KA-MAP", title="缩短交货周期", source="interview")
    needs.promote(session, actor=TESTER, code="KA-MAP", response_id=world.comment.id)

    listed = run("needs", "KA-MAP", "--json")
    open_only = run("needs", "KA-MAP", "--status", "addressed", "--json")
    table = run("needs", "KA-MAP")

    assert listed.exit_code == 0, listed.output
    body = one_json(listed)
    assert (body["customer"], body["total"], body["open"]) == ("KA-MAP", 2, 2)
    assert {i["source"] for i in body["items"]} == {"interview", "survey_comment"}
    assert one_json(open_only)["total"] == 0
    assert "缩短交货周期" in table.output
