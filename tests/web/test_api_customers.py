"""The accounts API beyond the list and the 360: opening and changing accounts, contacts and
touchpoints; a sales rep works only his own book, and a refused change writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flywheel.models.customers import Customer
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


def _customer(session: Session, code: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.code == code)).one()


# ---------------------------------------------------------------- opening an account


def test_a_manager_opens_an_account_for_a_rep(
    client: TestClient, session: Session, world: World
) -> None:
    before = audit_count(session)

    response = client.post(
        f"{API}/customers",
        json={
            "code": "NEW-1",
            "name": "  苏州新材料有限公司 ",
            "tier": "key",
            "owner": "rep",
            "parent": "OTHER-1",
            "payment_terms": "月结60天",
            "created_on": "2026-05-01",
        },
        headers=world.headers["manager"],
    )

    assert response.status_code == 201, response.text
    assert response.json() == {
        "code": "NEW-1",
        "name": "苏州新材料有限公司",
        "tier": "key",
        "industry": None,
        "region": None,
        "status": "active",
        "currency": "CNY",
        "payment_terms": "EOM60",
        "created_on": "2026-05-01",
        "owner": "rep",
        "parent": "OTHER-1",
        "referred_by": None,
    }
    assert audit_actions(session, since=before) == ["customer.created"]
    listed = client.get(
        f"{API}/customers", params={"search": "NEW-1"}, headers=world.headers["rep"]
    )
    assert [c["code"] for c in listed.json()["items"]] == ["NEW-1"]


def test_a_sales_reps_new_account_is_his_own(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/customers",
        json={"code": "MINE-1", "name": "我的新客户"},
        headers=world.headers["rep"],
    )

    assert response.status_code == 201
    assert response.json()["owner"] == "rep"
    assert client.get(f"{API}/customers/MINE-1", headers=world.headers["rep"]).status_code == 200
    assert client.get(f"{API}/customers/MINE-1", headers=world.headers["rival"]).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"owner": "rival"}, 422, "validation_failed", "owner_id"),
        ({"parent": "OTHER-1"}, 404, "not_found", "parent"),
        ({"referred_by": "OTHER-1"}, 404, "not_found", "referred_by"),
        ({"code": "OWN-1"}, 409, "conflict", None),
    ],
)
def test_what_a_sales_rep_may_not_do_when_opening_an_account(
    client: TestClient,
    session: Session,
    world: World,
    body: dict[str, str],
    status: int,
    code: str,
    field: str | None,
) -> None:
    before = database_state(session)

    response = client.post(
        f"{API}/customers",
        json={"code": "MINE-1", "name": "我的新客户", **body},
        headers=world.headers["rep"],
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert response.json()["error"]["details"].get("field") == field
    assert database_state(session) == before


@pytest.mark.parametrize(
    "body",
    [
        {"code": "", "name": "x"},
        {"code": "X", "name": "x", "tier": "gold"},
        {"code": "X", "name": "x", "currency": "RMB1"},
        {"code": "X", "name": "x", "payment_terms": "some day"},
        {"code": "X", "name": "x", "owner": "nobody"},
        {"code": "X", "name": "x" * 201},
        {"code": "X", "name": "x", "created_on": "3000-01-01"},
        {"code": "X\u0000", "name": "x"},
        {"code": "X", "name": "x", "id": 5},
    ],
)
def test_a_bad_new_account_writes_nothing(
    client: TestClient, session: Session, world: World, body: dict[str, Any]
) -> None:
    before = database_state(session)

    response = client.post(f"{API}/customers", json=body, headers=world.headers["admin"])

    assert response.status_code in {404, 422}
    assert database_state(session) == before


# ---------------------------------------------------------------- changing an account


def test_change_only_the_fields_sent(client: TestClient, session: Session, world: World) -> None:
    before = audit_count(session)

    response = client.patch(
        f"{API}/customers/OWN-1",
        json={"tier": "growth", "region": None, "industry": "机械"},
        headers=world.headers["rep"],
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["tier"], body["region"], body["industry"], body["name"], body["owner"]) == (
        "growth",
        None,
        "机械",
        "OWN 客户",
        "rep",
    )
    assert audit_actions(session, since=before) == ["customer.updated"]


def test_an_unchanged_patch_writes_no_audit_event(
    client: TestClient, session: Session, world: World
) -> None:
    before = database_state(session)

    response = client.patch(
        f"{API}/customers/OWN-1", json={"name": "OWN 客户"}, headers=world.headers["manager"]
    )

    assert response.status_code == 200
    assert database_state(session) == before


def test_a_manager_hands_an_account_to_another_rep(
    client: TestClient, session: Session, world: World
) -> None:
    response = client.patch(
        f"{API}/customers/OWN-1",
        json={"owner": "rival", "parent": "OTHER-1"},
        headers=world.headers["manager"],
    )

    assert (response.json()["owner"], response.json()["parent"]) == ("rival", "OTHER-1")
    assert client.get(f"{API}/customers/OWN-1", headers=world.headers["rep"]).status_code == 404


def test_renaming_a_code_to_one_in_use_is_a_conflict(
    client: TestClient, session: Session, world: World
) -> None:
    before = database_state(session)

    response = client.patch(
        f"{API}/customers/OWN-1", json={"code": "OTHER-1"}, headers=world.headers["admin"]
    )

    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert database_state(session) == before


@pytest.mark.parametrize(
    ("caller", "code", "body", "status"),
    [
        ("rep", "OTHER-1", {"name": "改名"}, 404),
        ("rep", "OWN-1", {"owner": "rival"}, 422),
        ("rep", "OWN-1", {"owner": None}, 422),
        ("viewer", "OWN-1", {"name": "改名"}, 403),
        ("collector", "OWN-1", {"name": "改名"}, 403),
        ("finance", "OWN-1", {"name": "改名"}, 403),
        ("admin", "OWN-1", {"name": None}, 422),
        ("admin", "OWN-1", {"parent": "OWN-1"}, 422),
        ("admin", "NO-SUCH", {"name": "改名"}, 404),
    ],
)
def test_a_refused_change_writes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    caller: str,
    code: str,
    body: dict[str, Any],
    status: int,
) -> None:
    before = database_state(session)

    response = client.patch(f"{API}/customers/{code}", json=body, headers=world.headers[caller])

    assert response.status_code == status
    assert database_state(session) == before


def test_a_rep_keeps_a_parent_he_cannot_see(
    client: TestClient, session: Session, world: World
) -> None:
    _customer(session, "OWN-1").parent_id = _customer(session, "OTHER-1").id
    session.flush()

    response = client.patch(
        f"{API}/customers/OWN-1", json={"name": "新名字"}, headers=world.headers["rep"]
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["parent"]) == ("新名字", "OTHER-1")


# ---------------------------------------------------------------- contacts


def test_contacts_of_an_account(client: TestClient, world: World) -> None:
    response = client.get(f"{API}/customers/OWN-1/contacts", headers=world.headers["rep"])

    assert response.json() == {
        "items": [
            {
                "id": world.own.contact,
                "customer": "OWN-1",
                "name": "OWN 王经理",
                "title": None,
                "buying_role": None,
                "email": None,
                "phone": None,
                "language": "zh",
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 50,
    }


def test_add_and_change_a_contact(client: TestClient, session: Session, world: World) -> None:
    headers = world.headers["rep"]
    before = audit_count(session)

    added = client.post(
        f"{API}/customers/OWN-1/contacts",
        json={
            "name": "Li Na",
            "title": "CFO",
            "buying_role": "finance",
            "email": "Li.Na@Example.CN",
        },
        headers=headers,
    )
    contact_id = added.json()["id"]
    changed = client.patch(
        f"{API}/contacts/{contact_id}",
        json={"phone": "+86 21 5555 0000", "email": None, "language": "en"},
        headers=headers,
    )

    assert added.status_code == 201
    assert added.json()["email"] == "li.na@example.cn"
    assert changed.status_code == 200
    assert changed.json() == {
        "id": contact_id,
        "customer": "OWN-1",
        "name": "Li Na",
        "title": "CFO",
        "buying_role": "finance",
        "email": None,
        "phone": "+86 21 5555 0000",
        "language": "en",
    }
    assert client.get(f"{API}/contacts/{contact_id}", headers=headers).json() == changed.json()
    assert audit_actions(session, since=before) == ["contact.created", "contact.updated"]
    contacts = client.get(
        f"{API}/customers/OWN-1/contacts", params={"page_size": 1, "page": 2}, headers=headers
    )
    assert [c["name"] for c in contacts.json()["items"]] == ["Li Na"]
    assert contacts.json()["total"] == 2


@pytest.mark.parametrize(
    ("caller", "method", "path", "body", "status"),
    [
        ("rep", "get", "/customers/OTHER-1/contacts", None, 404),
        ("rep", "post", "/customers/OTHER-1/contacts", {"name": "x"}, 404),
        ("rep", "get", "/contacts/{other}", None, 404),
        ("rep", "patch", "/contacts/{other}", {"name": "x"}, 404),
        ("viewer", "post", "/customers/OWN-1/contacts", {"name": "x"}, 403),
        ("collector", "patch", "/contacts/{own}", {"name": "x"}, 403),
        (
            "admin",
            "post",
            "/customers/OWN-1/contacts",
            {"name": "x", "email": "not-an-address"},
            422,
        ),
        ("admin", "patch", "/contacts/{own}", {"name": None}, 422),
        ("admin", "get", "/contacts/999999", None, 404),
        ("admin", "get", "/contacts/0", None, 422),
        ("admin", "get", "/contacts/99999999999999999999", None, 422),
    ],
)
def test_contact_denials_write_nothing(
    client: TestClient,
    session: Session,
    world: World,
    caller: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    url = API + path.format(own=world.own.contact, other=world.other.contact)
    before = database_state(session)

    response = client.request(method, url, json=body, headers=world.headers[caller])

    assert response.status_code == status
    assert database_state(session) == before


# ---------------------------------------------------------------- touchpoints


def test_log_a_touchpoint(client: TestClient, session: Session, world: World) -> None:
    before = audit_count(session)

    response = client.post(
        f"{API}/customers/OWN-1/touchpoints",
        json={
            "kind": "call",
            "occurred_at": "2026-05-03T10:00:00+08:00",
            "summary": "确认交期",
            "satisfaction": 5,
            "contact_id": world.own.contact,
        },
        headers=world.headers["rep"],
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k not in {"id", "reference"}} == {
        "customer": "OWN-1",
        "kind": "call",
        "occurred_at": "2026-05-03T02:00:00+00:00",
        "summary": "确认交期",
        "satisfaction": 5,
        "contact_id": world.own.contact,
        "contact": "OWN 王经理",
        "user": "rep",
    }
    assert body["reference"].startswith("TP-")
    assert audit_actions(session, since=before) == ["touchpoint.logged"]


def test_a_collector_logs_a_call_on_any_account(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/customers/OTHER-1/touchpoints",
        json={"kind": "call", "occurred_at": "2026-05-03T10:00:00Z", "user": "rival"},
        headers=world.headers["collector"],
    )

    assert response.status_code == 201
    assert response.json()["user"] == "rival"


@pytest.mark.parametrize(
    ("caller", "code", "body", "status"),
    [
        ("rep", "OTHER-1", {}, 404),
        ("viewer", "OWN-1", {}, 403),
        ("finance", "OWN-1", {}, 403),
        ("rep", "OWN-1", {"contact_id": "{other}"}, 422),
        ("rep", "OWN-1", {"occurred_at": "2026-05-03T10:00:00"}, 422),
        ("rep", "OWN-1", {"satisfaction": 6}, 422),
        ("rep", "OWN-1", {"kind": "lunch"}, 422),
        ("rep", "OWN-1", {"user": "nobody"}, 404),
        ("rep", "OWN-1", {"occurred_at": "0001-01-01T00:30:00+01:00"}, 422),
    ],
)
def test_a_refused_touchpoint_writes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    caller: str,
    code: str,
    body: dict[str, Any],
    status: int,
) -> None:
    fields: dict[str, Any] = {"kind": "visit", "occurred_at": "2026-05-03T10:00:00+08:00", **body}
    if fields.get("contact_id") == "{other}":
        fields["contact_id"] = world.other.contact
    before = database_state(session)

    response = client.post(
        f"{API}/customers/{code}/touchpoints", json=fields, headers=world.headers[caller]
    )

    assert response.status_code == status
    assert database_state(session) == before


def test_a_second_touchpoint_with_the_same_reference_is_a_conflict(
    client: TestClient, session: Session, world: World
) -> None:
    body = {"kind": "visit", "occurred_at": "2026-05-03T10:00:00Z", "reference": "VISIT-7"}
    client.post(f"{API}/customers/OWN-1/touchpoints", json=body, headers=world.headers["rep"])
    before = database_state(session)

    again = client.post(
        f"{API}/customers/OWN-1/touchpoints", json=body, headers=world.headers["rep"]
    )

    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    assert database_state(session) == before


def test_touchpoint_lists_and_filters(client: TestClient, world: World) -> None:
    headers = world.headers["manager"]
    client.post(
        f"{API}/customers/OWN-1/touchpoints",
        json={"kind": "qbr", "occurred_at": "2026-03-31T23:30:00Z"},
        headers=headers,
    )

    def summaries(path: str, caller: str = "manager", **params: str) -> list[tuple[str, str]]:
        body = client.get(f"{API}{path}", params=params, headers=world.headers[caller]).json()
        return [(t["customer"], t["kind"]) for t in body["items"]]

    assert summaries("/touchpoints") == [("OWN-1", "qbr"), ("OTHER-1", "visit"), ("OWN-1", "visit")]
    assert summaries("/touchpoints", caller="rep") == [("OWN-1", "qbr"), ("OWN-1", "visit")]
    assert summaries("/touchpoints", customer="OTHER-1") == [("OTHER-1", "visit")]
    assert summaries("/touchpoints", kind="qbr") == [("OWN-1", "qbr")]
    assert summaries("/touchpoints", since="2026-03-01") == [("OWN-1", "qbr")]
    assert summaries("/touchpoints", until="2026-03-30") == [
        ("OTHER-1", "visit"),
        ("OWN-1", "visit"),
    ]
    assert summaries("/touchpoints", since="2026-03-31", until="2026-03-31") == [("OWN-1", "qbr")]
    assert summaries("/customers/OWN-1/touchpoints", kind="visit") == [("OWN-1", "visit")]
    assert (
        client.get(f"{API}/customers/OTHER-1/touchpoints", headers=world.headers["rep"]).status_code
        == 404
    )
    bad = client.get(
        f"{API}/touchpoints", params={"since": "2026-04-01", "until": "2026-03-01"}, headers=headers
    )
    assert bad.status_code == 422


def test_a_nul_character_in_a_path_or_query_is_refused(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]

    assert client.get(f"{API}/customers/OWN%00", headers=headers).status_code == 422
    assert (
        client.get(f"{API}/customers", params={"search": "a\x00"}, headers=headers).status_code
        == 422
    )
