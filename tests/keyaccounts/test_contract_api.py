"""The contract routes of /api/v1: listing in scope with the renewal filter, recording and
changing a contract, adding a milestone and marking it done (the checkpoint's survey
invitations or task in the answer), and the key-account tasks; each denied request writes
nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.web.contract import today
from tests.keyaccounts.contract_support import ContractWorld, build, counts, milestone_campaign
from tests.web.api_support import bearer


@pytest.fixture
def world(session: Session) -> ContractWorld:
    return build(session)


def test_the_owner_records_lists_and_changes_a_contract(
    client: TestClient, session: Session, world: ContractWorld
) -> None:
    rep = bearer(session, world.owner)
    start = today()
    body = {
        "customer": world.account.code,
        "number": "HT-API-1",
        "title": "维保服务合同",
        "value": "88000.00",
        "start_on": start.isoformat(),
        "end_on": start.replace(year=start.year + 1).isoformat(),
        "payment_terms": "NET60",
    }

    made = client.post("/api/v1/contracts", json=body, headers=rep)
    contract_id = made.json()["id"]
    listed = client.get("/api/v1/contracts", params={"q": "维保"}, headers=rep)
    renewing = client.get("/api/v1/contracts", params={"renewing_within": 30}, headers=rep)
    changed = client.patch(
        f"/api/v1/contracts/{contract_id}",
        json={"value": "90000.00", "status": "draft"},
        headers=rep,
    )

    assert made.status_code == 201, made.text
    assert made.json()["renewal_on"] == body["end_on"]
    assert made.json()["payment_terms"] == "NET60"
    assert made.json()["milestones"] == []
    assert [i["number"] for i in listed.json()["items"]] == ["HT-API-1"]
    assert renewing.json()["total"] == 0
    assert changed.status_code == 200, changed.text
    assert (changed.json()["value"], changed.json()["status"]) == ("90000.00", "draft")


def test_a_milestone_is_added_and_done_with_its_survey(
    client: TestClient, session: Session, world: ContractWorld
) -> None:
    milestone_campaign(session)
    rep = bearer(session, world.owner)

    added = client.post(
        f"/api/v1/contracts/{world.contract.id}/milestones",
        json={
            "title": "季度业务回顾",
            "kind": "review",
            "due_on": today().isoformat(),
            "checkpoint": "survey",
        },
        headers=rep,
    )
    done = client.post(f"/api/v1/milestones/{added.json()['id']}/done", json={}, headers=rep)
    again = client.post(f"/api/v1/milestones/{added.json()['id']}/done", json={}, headers=rep)
    detail = client.get(f"/api/v1/contracts/{world.contract.id}", headers=rep)

    assert added.status_code == 201, added.text
    assert done.status_code == 200, done.text
    assert done.json()["checkpoint"] == "survey"
    assert done.json()["invitations"] == 2
    assert done.json()["milestone"]["done_on"] == today().isoformat()
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "milestone_already_done"
    assert [m["title"] for m in detail.json()["milestones"]] == [
        "首批交付验收",
        "二期付款",
        "季度业务回顾",
    ]


def test_a_task_checkpoint_shows_in_my_tasks_and_is_closed(
    client: TestClient, session: Session, world: ContractWorld
) -> None:
    rep = bearer(session, world.owner)
    manager = bearer(session, world.manager)

    done = client.post(
        f"/api/v1/milestones/{world.task_milestone.id}/done", json={}, headers=manager
    )
    task_id = done.json()["task_id"]
    mine = client.get("/api/v1/accounts/tasks", headers=rep)
    managers_own = client.get("/api/v1/accounts/tasks", headers=manager)
    everyone = client.get("/api/v1/accounts/tasks", params={"mine": "false"}, headers=manager)
    closed = client.post(
        f"/api/v1/accounts/tasks/{task_id}/done",
        json={"status": "done", "note": "客户已确认"},
        headers=rep,
    )
    twice = client.post(f"/api/v1/accounts/tasks/{task_id}/done", json={}, headers=rep)

    assert done.status_code == 200, done.text
    assert [t["id"] for t in mine.json()["items"]] == [task_id]
    assert managers_own.json()["total"] == 0
    assert everyone.json()["total"] == 1
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["note"]) == ("done", "客户已确认")
    assert twice.status_code == 409


def test_denied_requests_change_nothing(
    client: TestClient, session: Session, world: ContractWorld
) -> None:
    rival = bearer(session, world.rival)
    viewer = bearer(session, world.viewer)
    before = counts(session)
    contract = f"/api/v1/contracts/{world.contract.id}"

    answers = {
        "rival_get": client.get(contract, headers=rival),
        "rival_patch": client.patch(contract, json={"value": "1.00"}, headers=rival),
        "rival_milestone": client.post(
            f"{contract}/milestones",
            json={"title": "x", "kind": "review", "due_on": "2026-01-01"},
            headers=rival,
        ),
        "rival_done": client.post(
            f"/api/v1/milestones/{world.survey_milestone.id}/done", json={}, headers=rival
        ),
        "viewer_patch": client.patch(contract, json={"value": "1.00"}, headers=viewer),
        "viewer_done": client.post(
            f"/api/v1/milestones/{world.survey_milestone.id}/done", json={}, headers=viewer
        ),
        "bad_value": client.patch(
            contract, json={"end_on": "2020-01-01"}, headers=bearer(session, world.owner)
        ),
    }
    rival_list = client.get("/api/v1/contracts", headers=rival)

    assert {k: a.status_code for k, a in answers.items()} == {
        "rival_get": 404,
        "rival_patch": 404,
        "rival_milestone": 404,
        "rival_done": 404,
        "viewer_patch": 403,
        "viewer_done": 403,
        "bad_value": 422,
    }
    assert answers["bad_value"].json()["error"]["details"]["field"] == "end_on"
    assert rival_list.json()["total"] == 0
    after = counts(session)
    # Only the API tokens made for the requests were audited.
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
