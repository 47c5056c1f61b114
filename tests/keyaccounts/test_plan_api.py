"""The plan routes of /api/v1: the key-account list in scope with its filters, creating and
changing a plan (PUT), adding and changing objectives; denied or bad requests write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.keyaccounts import AccountPlan, PlanObjective
from flywheel.web.contract import today
from tests.factories import make_user
from tests.keyaccounts.plan_support import PlanWorld, audit_total, build
from tests.web.api_support import bearer


@pytest.fixture
def world(session: Session) -> PlanWorld:
    return build(session, as_of=today())


@pytest.fixture
def headers(session: Session, world: PlanWorld) -> dict[str, str]:
    return bearer(session, world.rep)


PLAN = {
    "year": 2026,
    "revenue_target": "1000000.00",
    "estimated_wallet": "2000000.00",
    "review_every_days": 60,
    "whitespace": [{"item": "华南工厂", "potential": "500000"}],
    "risks": [{"risk": "竞争对手降价", "likelihood": 4, "impact": 5}],
}


def test_put_creates_then_changes_a_plan_and_get_reads_it(
    client: TestClient, headers: dict[str, str], world: PlanWorld
) -> None:
    made = client.put("/api/v1/accounts/KA-001/plan", json=PLAN, headers=headers)
    assert made.status_code == 200, made.text
    body = made.json()
    assert (body["code"], body["revenue_target"], body["revenue_12m"]) == (
        "KA-001",
        "1000000.00",
        "400000.00",
    )
    assert body["share_of_wallet"] == 0.2
    assert body["next_review_on"] == (today() + timedelta(days=60)).isoformat()
    assert body["whitespace"] == [{"item": "华南工厂", "note": None, "potential": "500000.00"}]
    assert [p["name"] for p in body["health_parts"]["parts"]] == [
        "objectives",
        "coverage",
        "executive_contact",
        "review",
    ]
    assert body["health"] == 70  # no objectives yet: 0 of 30

    changed = client.put(
        "/api/v1/accounts/KA-001/plan",
        json={"revenue_target": "1200000", "reviewed_on": today().isoformat()},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["revenue_target"] == "1200000.00"
    assert changed.json()["last_reviewed_on"] == today().isoformat()
    assert changed.json()["whitespace"] == body["whitespace"]  # not sent, not changed
    read = client.get("/api/v1/accounts/KA-001/plan", headers=headers)
    assert read.status_code == 200
    assert read.json()["revenue_target"] == "1200000.00"


def test_objectives_are_added_and_patched(
    client: TestClient, headers: dict[str, str], world: PlanWorld
) -> None:
    client.put("/api/v1/accounts/KA-001/plan", json=PLAN, headers=headers)

    added = client.post(
        "/api/v1/accounts/KA-001/plan/objectives",
        json={"title": "华南工厂试点", "target_value": 3, "owner": "ka.rep"},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    objective_id = added.json()["id"]
    patched = client.patch(
        f"/api/v1/objectives/{objective_id}", json={"status": "done"}, headers=headers
    )

    assert patched.status_code == 200, patched.text
    assert (patched.json()["status"], patched.json()["owner"]) == ("done", "ka.rep")
    plan = client.get("/api/v1/accounts/KA-001/plan", headers=headers).json()
    assert plan["health"] == 100
    assert [o["title"] for o in plan["objectives"]] == ["华南工厂试点"]


def test_the_list_is_scoped_and_filtered(
    client: TestClient, headers: dict[str, str], world: PlanWorld
) -> None:
    client.put("/api/v1/accounts/KA-001/plan", json=PLAN, headers=headers)

    mine = client.get("/api/v1/accounts", headers=headers).json()
    green = client.get("/api/v1/accounts?band=green", headers=headers).json()
    none = client.get("/api/v1/accounts?band=none", headers=headers).json()

    assert [i["code"] for i in mine["items"]] == ["KA-001"]
    assert mine["items"][0]["health_band"] == "green"
    assert mine["total"] == 1
    assert [i["code"] for i in green["items"]] == ["KA-001"]
    assert none["items"] == []


def test_out_of_scope_missing_denied_and_bad_requests_write_nothing(
    client: TestClient, session: Session, headers: dict[str, str], world: PlanWorld
) -> None:
    viewer = make_user(session, username="viewer.one", role=Role.VIEWER)
    viewer_headers = bearer(session, viewer)
    before = audit_total(session)

    other = client.put("/api/v1/accounts/KA-002/plan", json=PLAN, headers=headers)
    missing = client.get("/api/v1/accounts/KA-001/plan", headers=headers)
    denied = client.put("/api/v1/accounts/KA-001/plan", json=PLAN, headers=viewer_headers)
    bad = client.put("/api/v1/accounts/KA-001/plan", json={"revenue_target": "-1"}, headers=headers)
    unknown_owner = client.put(
        "/api/v1/accounts/KA-001/plan", json={"owner": "nobody"}, headers=headers
    )
    no_plan_objective = client.post(
        "/api/v1/accounts/KA-001/plan/objectives", json={"title": "x"}, headers=headers
    )

    assert [
        r.status_code for r in (other, missing, denied, bad, unknown_owner, no_plan_objective)
    ] == [404, 404, 403, 422, 422, 404]
    assert unknown_owner.json()["error"]["details"]["field"] == "owner"
    assert audit_total(session) == before
    assert session.scalar(select(AccountPlan)) is None
    assert session.scalar(select(PlanObjective)) is None
