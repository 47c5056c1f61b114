"""``flywheel accounts plan CODE`` and ``flywheel accounts list`` in process against the test
database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.keyaccounts import plan_cli, plans
from flywheel.web.contract import today
from tests.cli.in_process import in_session, one_json
from tests.keyaccounts.plan_support import PlanWorld, build


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, plan_cli, prefix=["accounts"])


@pytest.fixture
def world(session: Session) -> PlanWorld:
    world = build(session, as_of=today())
    plans.save_plan(
        session,
        actor=plans.SYSTEM,
        code="KA-001",
        values={"revenue_target": "1000000", "estimated_wallet": "2000000"},
        as_of=today(),
    )
    plans.add_objective(
        session, actor=plans.SYSTEM, code="KA-001", values={"title": "华南工厂试点"}
    )
    return world


def test_plan_as_json_and_as_a_table(run: Any, world: PlanWorld) -> None:
    shown = run("plan", "KA-001", "--json")
    assert shown.exit_code == 0, shown.output
    body = one_json(shown)
    assert (body["code"], body["health"], body["share_of_wallet"]) == ("KA-001", 100, 0.2)
    assert [o["title"] for o in body["objectives"]] == ["华南工厂试点"]

    table = run("plan", "KA-001")
    assert table.exit_code == 0, table.output
    assert "华南工厂试点" in table.output


def test_list_and_its_filters(run: Any, world: PlanWorld) -> None:
    listed = one_json(run("list", "--json"))
    assert [a["code"] for a in listed["accounts"]] == ["KA-001", "KA-002"]
    assert listed["accounts"][1]["flags"] == ["no_decision_maker", "single_threaded", "no_plan"]
    assert [a["code"] for a in one_json(run("list", "--band", "none", "--json"))["accounts"]] == [
        "KA-002"
    ]
    assert run("list").exit_code == 0


def test_errors_exit_with_the_error_code(run: Any, world: PlanWorld) -> None:
    missing = run("plan", "KA-002", "--json")
    bad = run("list", "--band", "purple", "--json")

    assert missing.exit_code != 0
    assert one_json(missing)["error"]["code"] == "not_found"
    assert one_json(bad)["error"]["details"]["field"] == "band"
