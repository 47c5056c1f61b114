"""The next-best-action routes of /api/v1: the ranked list in the caller's scope with its
filters, done / dismiss / reassign, the rules with their facts, and changing them; a denied
or bad request changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.loyalty import next_actions
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import NextActionStatus, Role
from flywheel.models.loyalty import NextAction, NextActionRule
from tests.factories import make_user
from tests.loyalty.action_support import AS_OF, SETTINGS, Book, book, noon, opened
from tests.web.api_support import bearer


@pytest.fixture
def world(session: Session) -> Book:
    world = book(session)
    next_actions.run(session, as_of=AS_OF, settings=SETTINGS, now=noon(AS_OF))
    return world


def _of(session: Session, kind: str) -> NextAction:
    [found] = [a for a in opened(session) if a.action == kind]
    return found


def _audits(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_rep_lists_his_accounts_actions_best_first(
    client: TestClient, session: Session, world: Book
) -> None:
    answer = client.get("/api/v1/loyalty/actions", headers=bearer(session, world.rep))

    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 5
    assert [i["action"] for i in body["items"]] == [
        "referral_ask",
        "renewal",
        "re_engage",
        "upsell",
        "gentle_reminder",
    ]
    first = body["items"][0]
    assert first["customer"] == world.promoter.code
    assert first["owner"] == world.rep.username
    assert first["rule"] == "referral_ask_promoter"
    assert first["score"] == 60 * 900000.0
    assert first["reason"][0] == ["nps_band", "promoter"]
    assert first["status"] == "open"
    assert first["due_on"] == "2026-03-16"
    assert first["overdue"] is True  # 2026-03-16 is long past


def test_the_filters_and_a_managers_view_of_everyone(
    client: TestClient, session: Session, world: Book
) -> None:
    manager = bearer(session, world.manager)

    everyone = client.get("/api/v1/loyalty/actions", headers=manager).json()
    rivals = client.get(
        "/api/v1/loyalty/actions", params={"owner": world.rival.username}, headers=manager
    ).json()
    upsells = client.get(
        "/api/v1/loyalty/actions", params={"action": "upsell"}, headers=manager
    ).json()
    one_account = client.get(
        "/api/v1/loyalty/actions", params={"customer": world.overdue.code}, headers=manager
    ).json()
    paged = client.get(
        "/api/v1/loyalty/actions", params={"page": 2, "page_size": 4}, headers=manager
    ).json()
    nobody = client.get(
        "/api/v1/loyalty/actions", params={"owner": "no-such-user"}, headers=manager
    )

    assert everyone["total"] == 6
    assert [i["action"] for i in rivals["items"]] == ["rescue_detractor"]
    assert [i["customer"] for i in upsells["items"]] == [world.growing.code]
    assert [i["action"] for i in one_account["items"]] == ["gentle_reminder"]
    assert (paged["total"], len(paged["items"]), paged["page"]) == (6, 2, 2)
    assert nobody.status_code == 422


def test_done_and_dismiss_close_an_action_with_the_note(
    client: TestClient, session: Session, world: Book
) -> None:
    headers = bearer(session, world.rep)
    ask, upsell = _of(session, "referral_ask"), _of(session, "upsell")

    done = client.post(
        f"/api/v1/loyalty/actions/{ask.id}/done", json={"note": "介绍了两家"}, headers=headers
    )
    dismissed = client.post(
        f"/api/v1/loyalty/actions/{upsell.id}/dismiss", json={"reason": "预算冻结"}, headers=headers
    )
    again = client.post(
        f"/api/v1/loyalty/actions/{ask.id}/done", json={"note": "again"}, headers=headers
    )
    history = client.get(
        "/api/v1/loyalty/actions", params={"status": "all"}, headers=headers
    ).json()

    assert done.status_code == 200
    assert done.json()["status"] == "done"
    assert done.json()["outcome_note"] == "介绍了两家"
    assert done.json()["closed_by"] == world.rep.username
    assert dismissed.json()["status"] == "dismissed"
    assert again.status_code == 409
    assert history["total"] == 5
    session.refresh(ask)
    assert ask.status == NextActionStatus.DONE


def test_a_rival_gets_404_and_a_viewer_403_and_nothing_changes(
    client: TestClient, session: Session, world: Book
) -> None:
    ask = _of(session, "referral_ask")
    viewer = make_user(session, username="nba-viewer", role=Role.VIEWER)
    rival, as_viewer, rep = (bearer(session, u) for u in (world.rival, viewer, world.rep))
    audits = _audits(session)

    hidden = client.post(
        f"/api/v1/loyalty/actions/{ask.id}/done", json={"note": "x"}, headers=rival
    )
    seen = client.get(f"/api/v1/loyalty/actions/{ask.id}", headers=rival)
    refused = client.post(
        f"/api/v1/loyalty/actions/{ask.id}/dismiss", json={"reason": "x"}, headers=as_viewer
    )
    empty = client.post(f"/api/v1/loyalty/actions/{ask.id}/done", json={"note": ""}, headers=rep)

    assert hidden.status_code == 404
    assert seen.status_code == 404
    assert refused.status_code == 403
    assert empty.status_code == 422
    session.refresh(ask)
    assert ask.status == NextActionStatus.OPEN
    assert _audits(session) == audits


def test_a_manager_reassigns_an_action(client: TestClient, session: Session, world: Book) -> None:
    ask = _of(session, "referral_ask")

    moved = client.post(
        f"/api/v1/loyalty/actions/{ask.id}/assign",
        json={"owner": world.manager.username},
        headers=bearer(session, world.manager),
    )

    assert moved.status_code == 200
    assert moved.json()["owner"] == world.manager.username


def test_the_rules_come_with_the_facts_they_may_test(
    client: TestClient, session: Session, world: Book
) -> None:
    answer = client.get("/api/v1/loyalty/rules", headers=bearer(session, world.rep))
    one = client.get("/api/v1/loyalty/rules/prepare_renewal", headers=bearer(session, world.rep))
    missing = client.get("/api/v1/loyalty/rules/nope", headers=bearer(session, world.rep))

    assert answer.status_code == 200
    body = answer.json()
    assert [r["code"] for r in body["items"]][:2] == ["rescue_detractor", "re_engage_at_risk"]
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["credit_grade"]["choices"] == ["A", "B", "C", "D", "E"]
    assert fields["credit_grade"]["ordered"] is True
    assert fields["segment"]["operators"] == ["eq", "ne", "in", "not_in"]
    assert fields["clv"]["unit"] == "money"
    assert one.json()["conditions"] == [
        {"field": "contract", "op": "eq", "value": True},
        {"field": "health_trend", "op": "eq", "value": "down"},
    ]
    assert missing.status_code == 404


def test_a_manager_patches_and_puts_rules(
    client: TestClient, session: Session, world: Book
) -> None:
    headers = bearer(session, world.manager)

    patched = client.patch(
        "/api/v1/loyalty/rules/upsell_growing",
        json={"priority": 65, "active": False},
        headers=headers,
    )
    added = client.put(
        "/api/v1/loyalty/rules/check_in_yellow",
        json={
            "name_en": "Check in with a yellow account",
            "name_zh": "回访黄色客户",
            "action": "check_in",
            "conditions": [{"field": "health_band", "op": "eq", "value": "yellow"}],
        },
        headers=headers,
    )
    missing = client.patch("/api/v1/loyalty/rules/nope", json={"priority": 1}, headers=headers)

    assert patched.status_code == 200
    assert (patched.json()["priority"], patched.json()["active"]) == (65, False)
    assert patched.json()["updated_by"] == world.manager.username
    assert added.status_code == 200
    assert added.json()["cooldown_days"] == 90
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "who", "status"),
    [
        ({"priority": 70}, "rep", 403),
        ({"conditions": [{"field": "health", "op": "gt", "value": "x"}]}, "manager", 422),
        ({"conditions": []}, "manager", 422),
        ({"priority": 0}, "manager", 422),
        ({"colour": "red"}, "manager", 422),
    ],
)
def test_a_denied_or_bad_rule_change_writes_nothing(
    client: TestClient, session: Session, world: Book, body: dict[str, Any], who: str, status: int
) -> None:
    user = world.rep if who == "rep" else world.manager
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == "upsell_growing"))
    assert rule is not None
    before = (rule.priority, list(rule.conditions), rule.active)
    headers = bearer(session, user)
    audits = _audits(session)

    answer = client.patch("/api/v1/loyalty/rules/upsell_growing", json=body, headers=headers)

    assert answer.status_code == status
    session.refresh(rule)
    assert (rule.priority, list(rule.conditions), rule.active) == before
    assert _audits(session) == audits


def test_a_bad_condition_is_answered_with_its_place(
    client: TestClient, session: Session, world: Book
) -> None:
    answer = client.patch(
        "/api/v1/loyalty/rules/upsell_growing",
        json={
            "conditions": [
                {"field": "health", "op": "ge", "value": 60},
                {"field": "segment", "op": "ge", "value": "loyal"},
            ]
        },
        headers=bearer(session, world.manager),
    )

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"].startswith("conditions[1] (segment): operator 'ge' does not apply")
    assert error["details"]["index"] == 1
    assert error["details"]["condition_field"] == "segment"
    assert error["details"]["problem"] == "op"
