"""SessionDep in the test app is the test's own session: routes see its uncommitted rows."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.customers import service as customers
from flywheel.web.deps import SessionDep
from tests.factories import make_customer


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    router = APIRouter(prefix="/api/test")

    @router.get("/customers/{customer_id}")
    def show_customer(customer_id: int, session: SessionDep) -> dict[str, str]:
        customer = customers.get_customer(session, customer_id)
        return {"code": customer.code, "name": customer.name}

    app.include_router(router)
    return TestClient(app)


def test_route_reads_through_the_test_session(client: TestClient, session: Session) -> None:
    customer = make_customer(session, code="C-360", name="华东精密机械")

    response = client.get(f"/api/test/customers/{customer.id}")

    assert response.status_code == 200
    assert response.json() == {"code": "C-360", "name": "华东精密机械"}


def test_service_not_found_becomes_404(client: TestClient) -> None:
    response = client.get("/api/test/customers/987654")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
