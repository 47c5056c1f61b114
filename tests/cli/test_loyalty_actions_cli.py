"""``flywheel loyalty actions`` and ``flywheel loyalty rules list|show|set`` in process against
the test database (their unit of work is a savepoint of the test's transaction)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.loyalty import action_cli, next_actions
from flywheel.models.audit import AuditEvent
from flywheel.models.loyalty import NextActionRule
from tests.cli.in_process import in_session, one_json
from tests.loyalty.action_support import AS_OF, SETTINGS, book, noon


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, action_cli, prefix=["loyalty"])


def test_actions_lists_them_best_first_and_by_owner(run: Any, session: Session) -> None:
    world = book(session)
    next_actions.run(session, as_of=AS_OF, settings=SETTINGS, now=noon(AS_OF))

    everyone = run("actions", "--json")
    rivals = run("actions", "--owner", world.rival.username, "--json")
    upsells = run("actions", "--action", "upsell", "--json")
    unknown = run("actions", "--owner", "nobody-at-all", "--json")
    bad = run("actions", "--status", "later", "--json")
    table = run("actions")

    assert everyone.exit_code == 0, everyone.output
    items = one_json(everyone)["actions"]
    assert [i["action"] for i in items] == [
        "referral_ask",
        "rescue_detractor",
        "renewal",
        "re_engage",
        "upsell",
        "gentle_reminder",
    ]
    assert items[0]["reason_text"][0] == "latest NPS answer: promoter"
    assert [i["customer"] for i in one_json(rivals)["actions"]] == [world.detractor.code]
    assert one_json(upsells)["total"] == 1
    assert unknown.exit_code == 4
    assert one_json(unknown)["error"]["code"] == "not_found"
    assert one_json(bad)["error"]["code"] == "validation_failed"
    assert table.exit_code == 0
    assert "Next best actions: 6" in table.stdout


def test_rules_list_and_show(run: Any, session: Session) -> None:
    empty = run("rules", "list")
    next_actions.ensure_default_rules(session)

    listed = run("rules", "list", "--json")
    shown = run("rules", "show", "prepare_renewal", "--json")
    missing = run("rules", "show", "nope", "--json")
    table = run("rules", "show", "gentle_reminder_friendly")

    assert "No rule yet" in empty.stdout
    assert listed.exit_code == 0, listed.output
    body = one_json(listed)
    assert len(body["rules"]) == 6
    assert "credit_grade" in {f["name"] for f in body["fields"]}
    assert one_json(shown)["rule"]["action"] == "renewal"
    assert missing.exit_code == 4
    assert "(health band = green or latest NPS answer = promoter)" in table.stdout


def test_rules_set_changes_or_adds_a_rule_and_refuses_bad_input(run: Any, session: Session) -> None:
    changed = run("rules", "set", "upsell_growing", "--priority", "66", "--inactive", "--json")
    added = run(
        "rules",
        "set",
        "check_in_c",
        "--name-en",
        "Check in with a C account",
        "--name-zh",
        "回访C级客户",
        "--action",
        "check_in",
        "--conditions",
        json.dumps([{"field": "credit_grade", "op": "eq", "value": "C"}]),
        "--json",
    )
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    bad = run(
        "rules",
        "set",
        "upsell_growing",
        "--priority",
        "10",
        "--conditions",
        '[{"field": "health", "op": "in", "value": 5}]',
        "--json",
    )
    broken = run("rules", "set", "upsell_growing", "--conditions", "[{", "--json")

    assert changed.exit_code == 0, changed.output
    assert one_json(changed)["rule"]["priority"] == 66
    assert one_json(changed)["rule"]["active"] is False
    assert one_json(added)["created"] is True
    assert bad.exit_code != 0
    error = one_json(bad)["error"]
    assert error["message"] == "conditions[0] (health): in takes a list of 1 to 50 values"
    assert error["details"]["index"] == 0
    assert one_json(broken)["error"]["code"] == "validation_failed"
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == "upsell_growing"))
    assert rule is not None
    assert rule.priority == 66
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
