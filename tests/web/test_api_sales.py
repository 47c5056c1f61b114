"""The orders API: the scoped list and its filters, one order with its invoices, placing and
replacing orders; a sales rep only on his own accounts, and a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.web.api_support import (
    Company,
    SharedClient,
    World,
    audit_actions,
    audit_count,
    company_for_module,
    database_state,
    shared_client,
)

API = "/api/v1"


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[SharedClient]:
    yield from shared_client(engine)


@pytest.fixture
def client(shared: SharedClient, session: Session) -> TestClient:
    return shared.using(session)


NEW_ORDER = {
    "number": "ORD-NEW",
    "customer": "OWN-1",
    "order_date": "2026-05-01",
    "amount": "2500.00",
}
REPLACEMENT = {k: v for k, v in NEW_ORDER.items() if k != "number"}


@pytest.fixture(scope="module")
def company(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    yield from company_for_module(engine, tmp_path_factory.mktemp("uploads"))


@pytest.fixture
def session(company: Company) -> Iterator[Session]:
    """The module's company, in a savepoint rolled back after the test."""
    yield from company.test_session()


@pytest.fixture
def world(company: Company, session: Session) -> World:
    return company.world


def _numbers(client: TestClient, headers: dict[str, str], **params: str) -> list[str]:
    response = client.get(f"{API}/orders", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [order["number"] for order in response.json()["items"]]


def test_place_an_order(client: TestClient, session: Session, world: World) -> None:
    before = audit_count(session)

    response = client.post(f"{API}/orders", json=NEW_ORDER, headers=world.headers["rep"])

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "number": "ORD-NEW",
        "customer": "OWN-1",
        "order_date": "2026-05-01",
        "amount": "2500.00",
        "currency": "CNY",
        "status": "open",
        "delivered_on": None,
        "invoices": [],
    }
    assert audit_actions(session, since=before) == ["order.created"]


def test_one_order_lists_its_invoices(client: TestClient, world: World) -> None:
    body = client.get(f"{API}/orders/ORD-OWN-1", headers=world.headers["viewer"]).json()

    assert body["invoices"] == [
        {
            "number": "INV-OWN-A",
            "issue_date": "2026-01-01",
            "amount": "1000.00",
            "open_amount": "0.00",
            "currency": "CNY",
            "status": "paid",
        }
    ]


def test_replace_an_order(client: TestClient, session: Session, world: World) -> None:
    before = audit_count(session)

    response = client.put(
        f"{API}/orders/ORD-OWN-1",
        json={
            "customer": "OWN-1",
            "order_date": "2025-12-20",
            "amount": "1100.00",
            "status": "delivered",
            "delivered_on": "2026-01-05",
        },
        headers=world.headers["finance"],
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["status"], body["delivered_on"]) == (
        "1100.00",
        "delivered",
        "2026-01-05",
    )
    assert audit_actions(session, since=before) == ["order.updated"]


@pytest.mark.parametrize(
    ("caller", "method", "path", "body", "status"),
    [
        ("rep", "post", "/orders", {**NEW_ORDER, "customer": "OTHER-1"}, 404),
        ("rep", "put", "/orders/ORD-OTHER-1", {**REPLACEMENT, "customer": "OTHER-1"}, 404),
        ("rep", "put", "/orders/ORD-OWN-1", {**REPLACEMENT, "customer": "OTHER-1"}, 404),
        ("rep", "get", "/orders/ORD-OTHER-1", None, 404),
        ("viewer", "post", "/orders", NEW_ORDER, 403),
        ("collector", "put", "/orders/ORD-OWN-1", REPLACEMENT, 403),
        ("admin", "post", "/orders", {**NEW_ORDER, "number": "ORD-OWN-1"}, 409),
        ("admin", "post", "/orders", {**NEW_ORDER, "amount": "-1.00"}, 422),
        ("admin", "post", "/orders", {**NEW_ORDER, "delivered_on": "2026-04-30"}, 422),
        ("admin", "post", "/orders", {**NEW_ORDER, "status": "lost"}, 422),
        ("admin", "put", "/orders/NO-SUCH", NEW_ORDER, 422),
        (
            "admin",
            "put",
            "/orders/NO-SUCH",
            {k: v for k, v in NEW_ORDER.items() if k != "number"},
            404,
        ),
    ],
)
def test_a_refused_order_writes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    caller: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    before = database_state(session)

    response = client.request(method, f"{API}{path}", json=body, headers=world.headers[caller])

    assert response.status_code == status, response.text
    assert database_state(session) == before


def test_order_list_filters(client: TestClient, world: World) -> None:
    client.post(
        f"{API}/orders", json={**NEW_ORDER, "status": "confirmed"}, headers=world.headers["admin"]
    )
    headers = world.headers["manager"]

    assert _numbers(client, headers) == ["ORD-NEW", "ORD-OWN-1", "ORD-OTHER-1"]
    assert _numbers(client, world.headers["rival"]) == ["ORD-OTHER-1"]
    assert _numbers(client, headers, customer="OWN-1") == ["ORD-NEW", "ORD-OWN-1"]
    assert _numbers(client, headers, status="confirmed") == ["ORD-NEW"]
    assert _numbers(client, headers, ordered_from="2026-01-01") == ["ORD-NEW"]
    assert _numbers(client, headers, ordered_to="2025-12-31") == ["ORD-OWN-1", "ORD-OTHER-1"]
    assert _numbers(client, headers, search="other") == ["ORD-OTHER-1"]
    page = client.get(f"{API}/orders", params={"page": 2, "page_size": 2}, headers=headers).json()
    assert ([o["number"] for o in page["items"]], page["total"]) == (["ORD-OTHER-1"], 3)
