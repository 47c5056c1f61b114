"""``flywheel accounts contracts`` and ``flywheel accounts tasks`` in process against the test
database: the renewal filter, the JSON shapes and a bad option's error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.keyaccounts import contract_cli, daily
from tests.cli.in_process import in_session, one_json
from tests.keyaccounts.contract_support import AS_OF, END, SETTINGS, build


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, contract_cli, prefix=["accounts"])


def test_contracts_renewing_within_and_tasks(run: Any, session: Session) -> None:
    world = build(session)
    daily.run(session, as_of=AS_OF, settings=SETTINGS)
    as_of = (END - timedelta(days=40)).isoformat()

    soon = run("contracts", "--renewing-within", "45", "--as-of", as_of, "--json")
    none = run("contracts", "--renewing-within", "30", "--as-of", as_of, "--json")
    table = run("contracts")
    open_tasks = run("tasks", "--json")
    bad = run("tasks", "--status", "later", "--json")

    assert soon.exit_code == 0, soon.output
    [item] = one_json(soon)["contracts"]
    assert item["number"] == world.contract.number
    assert item["renewal_in_days"] == 40
    assert item["value"] == "1200000.00"
    assert one_json(none)["total"] == 0
    assert table.exit_code == 0
    assert "Contracts: 1" in table.stdout
    tasks = one_json(open_tasks)["tasks"]
    assert [t["kind"] for t in tasks] == ["milestone_overdue"]
    assert tasks[0]["customer"] == world.account.code
    assert bad.exit_code != 0
    assert one_json(bad)["error"]["code"] == "validation_failed"
