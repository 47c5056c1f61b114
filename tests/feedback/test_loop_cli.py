"""``flywheel feedback loops`` in process against the test database (its unit of work is a
savepoint of the test's transaction)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.feedback import loop_cli, loops
from flywheel.models.base import utcnow
from tests.cli.in_process import in_session, one_json
from tests.feedback.loop_support import SETTINGS, LoopWorld, answer, build


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, loop_cli, prefix=["feedback"])


def payload(result: Any) -> dict[str, Any]:
    return one_json(result)


def test_loops_lists_a_reps_own_and_the_overdue_ones(run: Any, session: Session) -> None:
    world: LoopWorld = build(session)
    now = utcnow()
    late = loops.open_for_response(
        session,
        answer(session, world.own, score=1, comment="很差", at=now - timedelta(days=3)),
        None,
        SETTINGS,
        now=now - timedelta(days=3),
    )
    fresh = loops.open_for_response(
        session,
        answer(session, world.other, score=2, comment="不满意", at=now),
        None,
        SETTINGS,
        now=now,
    )
    assert late is not None
    assert fresh is not None

    everyone = run("loops", "--json")
    mine = run("loops", "--mine-as", world.rep.username, "--json")
    overdue = run("loops", "--overdue", "--json")
    unknown = run("loops", "--mine-as", "nobody-at-all", "--json")
    table = run("loops")

    assert everyone.exit_code == 0, everyone.output
    assert [i["id"] for i in payload(everyone)["loops"]] == [late.id, fresh.id]
    assert [i["id"] for i in payload(mine)["loops"]] == [late.id]
    assert payload(mine)["kpis"]["open_overdue"] == 1
    assert [i["id"] for i in payload(overdue)["loops"]] == [late.id]
    assert payload(overdue)["loops"][0]["overdue"] is True
    assert unknown.exit_code == 4
    assert payload(unknown)["error"]["code"] == "not_found"
    assert table.exit_code == 0
    assert "Follow-ups: 2" in table.stdout
