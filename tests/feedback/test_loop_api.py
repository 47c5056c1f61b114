"""The closed-loop and topic routes of /api/v1: scoped lists, the call-back, reassigning, the
KPIs, and the taxonomy editor; a denied request changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.app import create_app
from flywheel.feedback import loops
from flywheel.models.base import utcnow
from flywheel.models.enums import Role
from flywheel.models.feedback import FeedbackLoop, FeedbackTopic
from flywheel.web.deps import get_session
from tests.factories import make_user
from tests.feedback.loop_support import SETTINGS, LoopWorld, answer, build
from tests.web.api_support import bearer, database_state


@pytest.fixture
def app(engine: Engine, session: Session) -> FastAPI:
    application = create_app(engine=engine)

    def test_session() -> Iterator[Session]:
        yield session

    application.dependency_overrides[get_session] = test_session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(session: Session) -> LoopWorld:
    return build(session)


def _loop(session: Session, world: LoopWorld, *, hours_ago: float = 1) -> FeedbackLoop:
    now = utcnow()
    response = answer(
        session,
        world.own,
        score=2,
        comment="交货晚了一周",
        at=now - timedelta(hours=hours_ago),
        answers={"main_reason": "delivery"},
    )
    loop = loops.open_for_response(
        session, response, None, SETTINGS, now=now - timedelta(hours=hours_ago)
    )
    assert loop is not None
    session.flush()
    return loop


def test_the_owner_sees_his_follow_up_and_a_rival_does_not(
    client: TestClient, session: Session, world: LoopWorld
) -> None:
    loop = _loop(session, world)

    mine = client.get("/api/v1/feedback/loops", headers=bearer(session, world.rep))
    theirs = client.get("/api/v1/feedback/loops", headers=bearer(session, world.rival))
    one = client.get(f"/api/v1/feedback/loops/{loop.id}", headers=bearer(session, world.rep))
    hidden = client.get(f"/api/v1/feedback/loops/{loop.id}", headers=bearer(session, world.rival))

    assert mine.status_code == 200
    [item] = mine.json()["items"]
    assert item["id"] == loop.id
    assert item["customer"] == world.own.code
    assert item["owner"] == world.rep.username
    assert item["reason"] == "detractor"
    assert item["overdue"] is False
    assert theirs.json()["items"] == []
    assert one.json()["response"]["score"] == 2
    assert one.json()["response"]["answers"] == {"main_reason": "delivery"}
    assert hidden.status_code == 404


def test_a_rival_cannot_close_it_and_the_denial_changes_nothing(
    client: TestClient, session: Session, world: LoopWorld
) -> None:
    loop = _loop(session, world)
    headers = {
        name: bearer(session, user)
        for name, user in (("rival", world.rival), ("viewer", world.viewer))
    }
    before = database_state(session)

    denied = client.post(
        f"/api/v1/feedback/loops/{loop.id}/callback",
        json={"note": "我来", "outcome": "resolved"},
        headers=headers["rival"],
    )
    forbidden = client.post(
        f"/api/v1/feedback/loops/{loop.id}/callback",
        json={"note": "我来", "outcome": "resolved"},
        headers=headers["viewer"],
    )

    assert denied.status_code == 404
    assert forbidden.status_code == 403
    assert database_state(session) == before


def test_the_call_back_closes_it_and_the_kpis_count_it(
    client: TestClient, session: Session, world: LoopWorld
) -> None:
    loop = _loop(session, world, hours_ago=3)
    headers = bearer(session, world.rep)

    missing_note = client.post(
        f"/api/v1/feedback/loops/{loop.id}/callback",
        json={"note": "", "outcome": "resolved"},
        headers=headers,
    )
    closed = client.post(
        f"/api/v1/feedback/loops/{loop.id}/callback",
        json={"note": "已电话沟通，补发配件", "outcome": "resolved"},
        headers=headers,
    )
    again = client.post(
        f"/api/v1/feedback/loops/{loop.id}/callback",
        json={"note": "再次", "outcome": "resolved"},
        headers=headers,
    )
    figures = client.get("/api/v1/feedback/loops/kpis", headers=headers)

    assert missing_note.status_code == 422
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed"
    assert body["outcome"] == "resolved"
    assert body["closed_by"] == world.rep.username
    assert body["closed_within_sla"] is True
    assert again.status_code == 409
    assert figures.status_code == 200
    kpis = figures.json()
    assert kpis["opened"] == 1
    assert kpis["closed"] == 1
    assert kpis["closed_within_sla"] == 1
    assert kpis["closed_within_sla_rate"] == 1.0
    assert kpis["open_overdue"] == 0


def test_assigning_names_a_user_by_username(
    client: TestClient, session: Session, world: LoopWorld
) -> None:
    loop = _loop(session, world)
    headers = bearer(session, world.manager)

    unknown = client.post(
        f"/api/v1/feedback/loops/{loop.id}/assign", json={"owner": "nobody"}, headers=headers
    )
    moved = client.post(
        f"/api/v1/feedback/loops/{loop.id}/assign",
        json={"owner": world.manager.username},
        headers=headers,
    )
    overdue = client.get(
        "/api/v1/feedback/loops", params={"owner": "me", "overdue": "true"}, headers=headers
    )

    assert unknown.status_code == 422
    assert moved.status_code == 200
    assert moved.json()["owner"] == world.manager.username
    assert overdue.json()["total"] == 0


def test_topics_are_changed_only_by_those_who_manage_surveys(
    client: TestClient, session: Session, world: LoopWorld
) -> None:
    topic = {
        "code": "after_sales",
        "name_zh": "售后",
        "name_en": "After-sales",
        "keywords_zh": ["售后", "维修"],
        "keywords_en": ["after-sales", "repair"],
    }
    rep, manager = bearer(session, world.rep), bearer(session, world.manager)
    before = database_state(session)

    refused = client.post("/api/v1/feedback/topics", json=topic, headers=rep)
    assert refused.status_code == 403
    assert database_state(session) == before

    made = client.post("/api/v1/feedback/topics", json=topic, headers=manager)
    twice = client.post("/api/v1/feedback/topics", json=topic, headers=manager)
    bad = client.post(
        "/api/v1/feedback/topics",
        json={**topic, "code": "Bad Code!", "keywords_zh": [], "keywords_en": []},
        headers=manager,
    )
    changed = client.patch(
        "/api/v1/feedback/topics/after_sales",
        json={"keywords_en": ["after sales", "repair", "spare parts"], "active": False},
        headers=manager,
    )
    listed = client.get("/api/v1/feedback/topics", headers=rep)

    assert made.status_code == 201, made.text
    assert made.json()["keywords_zh"] == ["售后", "维修"]
    assert twice.status_code == 422
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "code"
    assert changed.status_code == 200
    assert changed.json()["keywords_en"] == ["after sales", "repair", "spare parts"]
    assert changed.json()["active"] is False
    assert "after_sales" in [t["code"] for t in listed.json()["items"]]
    stored = session.query(FeedbackTopic).filter_by(code="after_sales").one()
    assert stored.active is False
    assert stored.name_zh == "售后"


def test_a_collector_may_work_follow_ups(
    client: TestClient, session: Session, world: LoopWorld
) -> None:
    loop = _loop(session, world)
    collector = make_user(session, username="loop-collector", role=Role.COLLECTOR)

    closed = client.post(
        f"/api/v1/feedback/loops/{loop.id}/callback",
        json={"note": "客户已确认", "outcome": "partly_resolved"},
        headers=bearer(session, collector),
    )

    assert closed.status_code == 200
    assert closed.json()["outcome"] == "partly_resolved"
