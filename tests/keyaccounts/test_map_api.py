"""The stakeholder map and needs routes of /api/v1: the map and coverage in scope, setting a
stakeholder (a circle refused with nothing written), the register, adding, changing and
promoting needs (twice gives the same need); each refused request writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.keyaccounts import Need, Stakeholder
from tests.factories import make_user
from tests.keyaccounts.map_support import MapWorld, audit_total, build
from tests.web.api_support import bearer

URL = "/api/v1/accounts/KA-MAP"


@pytest.fixture
def world(session: Session) -> MapWorld:
    return build(session)


def _state(session: Session) -> tuple[int, int, int]:
    session.flush()
    return (
        audit_total(session),
        session.scalar(select(func.count(Stakeholder.id))) or 0,
        session.scalar(select(func.count(Need.id))) or 0,
    )


def test_the_rep_sets_a_stakeholder_and_reads_the_map_and_coverage(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    rep = bearer(session, world.rep)

    put = client.put(
        f"{URL}/stakeholders/{world.finance.id}",
        json={"influence": 4, "attitude": "champion", "reports_to_contact_id": world.boss.id},
        headers=rep,
    )
    shown = client.get(f"{URL}/stakeholders", params={"as_of": "2026-06-30"}, headers=rep)
    coverage = client.get(f"{URL}/coverage", params={"as_of": "2026-06-30"}, headers=rep)

    assert put.status_code == 200, put.text
    assert put.json()["attitude"] == "champion"
    assert put.json()["reports_to_contact_id"] == world.boss.id
    assert put.json()["mapped"] is True
    body = shown.json()
    assert [i["name"] for i in body["items"]] == ["钱会计", "孙工", "赵总"]
    assert body["items"][0]["last_contact_on"] == "2026-06-10"
    assert body["items"][0]["last_contact_at"] == "2026-06-10T09:00:00+00:00"
    assert coverage.json() == {
        "customer": "KA-MAP",
        "as_of": "2026-06-30",
        "window_days": 90,
        "contacts": 3,
        "met_recently": 1,
        "warnings": [
            {"code": "decision_maker_not_met", "contact_ids": [world.boss.id]},
            {"code": "single_threaded", "contact_ids": [world.finance.id]},
        ],
    }


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("rival", {"trust": 4}, 404),
        ("viewer", {"trust": 4}, 403),
        ("rep", {"trust": 6}, 422),
        ("rep", {"attitude": "hostile"}, 422),
        ("rep", {"influence": None}, 422),
        ("rep", {"reports_to_contact_id": "self"}, 422),
    ],
)
def test_refused_puts_write_nothing(
    client: TestClient,
    session: Session,
    world: MapWorld,
    who: str,
    body: dict[str, Any],
    status: int,
) -> None:
    users = {"rep": world.rep, "rival": world.rival}
    user = users.get(who) or make_user(session, username="map.api.viewer", role=Role.VIEWER)
    if body.get("reports_to_contact_id") == "self":
        body = {"reports_to_contact_id": world.boss.id}
        target = world.boss.id
    else:
        target = world.boss.id
    headers = bearer(session, user)
    before = _state(session)

    answer = client.put(f"{URL}/stakeholders/{target}", json=body, headers=headers)

    assert answer.status_code == status, answer.text
    assert _state(session) == before


def test_a_circle_is_a_422_naming_the_field(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    rep = bearer(session, world.rep)
    client.put(
        f"{URL}/stakeholders/{world.finance.id}",
        json={"reports_to_contact_id": world.boss.id},
        headers=rep,
    )
    before = _state(session)

    circle = client.put(
        f"{URL}/stakeholders/{world.boss.id}",
        json={"reports_to_contact_id": world.finance.id},
        headers=rep,
    )

    assert circle.status_code == 422
    assert circle.json()["error"]["details"]["field"] == "reports_to_contact_id"
    assert _state(session) == before


def test_needs_add_list_patch_and_promote(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    rep = bearer(session, world.rep)

    made = client.post(
        f"{URL}/needs",
        json={"title": "缩短交货周期", "kind": "need", "source": "interview", "priority": 2},
        headers=rep,
    )
    need_id = made.json()["id"]
    refused = client.patch(f"/api/v1/needs/{need_id}", json={"status": "addressed"}, headers=rep)
    closed = client.patch(
        f"/api/v1/needs/{need_id}",
        json={"status": "addressed", "offer": "华东仓备货"},
        headers=rep,
    )
    first = client.post(f"{URL}/needs/promote", json={"response_id": world.comment.id}, headers=rep)
    again = client.post(f"{URL}/needs/promote", json={"response_id": world.comment.id}, headers=rep)
    listed = client.get(f"{URL}/needs", headers=rep)
    open_only = client.get(f"{URL}/needs", params={"status": "open"}, headers=rep)

    assert made.status_code == 201, made.text
    assert made.json()["customer"] == "KA-MAP"
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "offer"
    assert closed.status_code == 200
    assert closed.json()["status"] == "addressed"
    assert first.status_code == 200, first.text
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["source_ref"] == f"response:{world.comment.id}"
    assert listed.json()["total"] == 2
    assert listed.json()["open"] == 1
    assert [i["title"] for i in listed.json()["items"]] == ["交货总是延迟", "缩短交货周期"]
    assert [i["id"] for i in open_only.json()["items"]] == [first.json()["id"]]


def test_needs_of_another_rep_are_hidden_and_denied_writes_change_nothing(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    rep = bearer(session, world.rep)
    rival = bearer(session, world.rival)
    viewer = bearer(session, make_user(session, username="map.api.v2", role=Role.VIEWER))
    need_id = client.post(
        f"{URL}/needs", json={"title": "培训", "source": "interview"}, headers=rep
    ).json()["id"]
    before = _state(session)

    answers = [
        client.get(f"{URL}/needs", headers=rival).status_code,
        client.get(f"{URL}/stakeholders", headers=rival).status_code,
        client.get(f"{URL}/coverage", headers=rival).status_code,
        client.patch(f"/api/v1/needs/{need_id}", json={"priority": 1}, headers=rival).status_code,
        client.post(f"{URL}/needs", json={"title": "x"}, headers=rival).status_code,
        client.post(
            f"{URL}/needs/promote", json={"response_id": world.comment.id}, headers=rival
        ).status_code,
        client.post(f"{URL}/needs", json={"title": "x"}, headers=viewer).status_code,
        client.patch(f"/api/v1/needs/{need_id}", json={"priority": 1}, headers=viewer).status_code,
    ]

    assert answers == [404, 404, 404, 404, 404, 404, 403, 403]
    assert _state(session) == before
