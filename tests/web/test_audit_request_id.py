"""An audit event written while a request is handled carries that request's id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.app import create_app
from flywheel.models.audit import AuditEvent
from flywheel.web.deps import SessionDep, get_session
from tests.factories import make_customer


@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    app = create_app(engine=session.get_bind().engine)
    router = APIRouter()

    @router.post("/test-only/customers")
    def create(db: SessionDep) -> dict[str, int]:
        return {"id": make_customer(db, code="REQ-1").id}

    app.include_router(router)

    def test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = test_session
    with TestClient(app) as test_client:
        yield test_client


def test_audit_event_carries_the_request_id(client: TestClient, session: Session) -> None:
    response = client.post("/test-only/customers", headers={"X-Request-ID": "req-audit-42"})

    assert response.status_code == 200
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "customer.created", AuditEvent.customer_id == response.json()["id"]
        )
    ).one()
    assert event.request_id == "req-audit-42"


def test_audit_event_outside_a_request_has_none(session: Session) -> None:
    customer = make_customer(session, code="REQ-2")

    event = session.scalars(select(AuditEvent).where(AuditEvent.customer_id == customer.id)).one()
    assert event.request_id is None
