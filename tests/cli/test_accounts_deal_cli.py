"""``flywheel accounts deals`` and ``flywheel accounts deal-figures`` in process against the test
database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.keyaccounts import deal_cli, deals
from tests.cli.in_process import in_session, one_json
from tests.factories import TESTER
from tests.keyaccounts.deal_support import DealWorld, build, open_deal


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, deal_cli, prefix=["accounts"])


@pytest.fixture
def world(session: Session) -> DealWorld:
    return build(session)


def test_deals_by_stage_and_owner(run: Any, session: Session, world: DealWorld) -> None:
    mine = open_deal(session, world.account, stage="proposal", value="40000")
    open_deal(session, world.foreign, stage="lead")

    by_stage = run("deals", "--stage", "proposal", "--json")
    by_owner = run("deals", "--owner", world.rival.username, "--json")
    table = run("deals")
    bad = run("deals", "--status", "maybe", "--json")

    assert by_stage.exit_code == 0, by_stage.output
    body = one_json(by_stage)
    assert body["total"] == 1
    assert (body["deals"][0]["id"], body["deals"][0]["weighted_value"]) == (mine.id, "20000.00")
    assert [d["customer"] for d in one_json(by_owner)["deals"]] == [world.foreign.code]
    assert table.exit_code == 0
    assert "proposal" in table.output
    assert bad.exit_code != 0


def test_deal_figures(run: Any, session: Session, world: DealWorld) -> None:
    open_deal(session, world.account, stage="negotiation", value="80000")
    won = open_deal(session, world.account, value="50000")
    deals.win_deal(session, actor=TESTER, deal_id=won.id, on=date(2026, 2, 4))

    result = run("deal-figures", "--start", "2026-01-01", "--end", "2026-03-31", "--json")
    text = run("deal-figures", "--start", "2026-01-01", "--end", "2026-03-31")

    assert result.exit_code == 0, result.output
    figures = one_json(result)
    assert figures["weighted_value"] == {"CNY": "60000.00"}
    assert (figures["won"], figures["win_rate"], figures["average_cycle_days"]) == (1, 1.0, 30.0)
    assert text.exit_code == 0
    assert "negotiation" in text.output
