"""The users API (admins only): list, create, change role / activity / name / language, reset
a password; the last active admin stays, and a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.auth import passwords
from flywheel.models.enums import Role
from flywheel.users import service as users
from tests.factories import TESTER
from tests.web.api_support import (
    CALLERS,
    SharedClient,
    audit_actions,
    audit_count,
    bearer,
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


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    """A token for a user of every role; the admin is the only active admin."""
    return {
        name: bearer(session, users.create_user(session, actor=TESTER, username=name, role=role))
        for name, role in CALLERS.items()
    }


def test_list_users_filtered_and_paged(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    admin = headers["admin"]

    def names(**params: str) -> list[str]:
        body = client.get(f"{API}/users", params=params, headers=admin).json()
        return [u["username"] for u in body["items"]]

    assert names() == ["admin", "collector", "finance", "manager", "rep", "rival", "viewer"]
    assert names(role="sales") == ["rep", "rival"]
    assert names(search="RI") == ["rival"]
    assert names(active="false") == []
    assert names(page="2", page_size="3") == ["manager", "rep", "rival"]


def test_create_a_user_who_can_sign_in(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    before = audit_count(session)

    response = client.post(
        f"{API}/users",
        json={
            "username": "zhang.san",
            "display_name": "张三",
            "email": "zhang@example.cn",
            "role": "collector",
            "language": "en",
            "password": " a long enough passphrase ",
        },
        headers=headers["admin"],
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "username": "zhang.san",
        "display_name": "张三",
        "email": "zhang@example.cn",
        "role": "collector",
        "language": "en",
        "active": True,
        "can_sign_in": True,
        "locked_until": None,
    }
    user = users.get_by_username(session, "zhang.san")
    assert passwords.verify_password(user.password_hash, " a long enough passphrase ")
    assert audit_actions(session, since=before) == ["user.created"]


def test_change_a_user(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    before = audit_count(session)

    response = client.patch(
        f"{API}/users/rep",
        json={"role": "manager", "active": False, "display_name": "李雷", "language": "en"},
        headers=headers["admin"],
    )

    body = response.json()
    assert (body["role"], body["active"], body["display_name"], body["language"]) == (
        "manager",
        False,
        "李雷",
        "en",
    )
    assert audit_actions(session, since=before) == [
        "user.role_changed",
        "user.disabled",
        "user.language_changed",
        "user.updated",
    ]
    assert client.get(f"{API}/customers", headers=headers["rep"]).status_code == 401


def test_reset_a_password(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    generated = client.post(f"{API}/users/viewer/reset-password", json={}, headers=headers["admin"])
    given = client.post(
        f"{API}/users/rep/reset-password",
        json={"password": "another long passphrase"},
        headers=headers["admin"],
    )

    password = generated.json()["generated_password"]
    assert passwords.verify_password(
        users.get_by_username(session, "viewer").password_hash, password
    )
    assert given.json() == {"username": "rep", "generated_password": None}
    assert passwords.verify_password(
        users.get_by_username(session, "rep").password_hash, "another long passphrase"
    )


@pytest.mark.parametrize(
    ("caller", "method", "path", "body", "status", "code"),
    [
        ("manager", "get", "/users", None, 403, "forbidden"),
        ("viewer", "post", "/users", {"username": "x"}, 403, "forbidden"),
        ("finance", "patch", "/users/rep", {"role": "admin"}, 403, "forbidden"),
        ("rep", "post", "/users/rep/reset-password", {}, 403, "forbidden"),
        ("admin", "patch", "/users/admin", {"role": "viewer"}, 409, "last_admin"),
        ("admin", "patch", "/users/admin", {"active": False}, 409, "last_admin"),
        ("admin", "patch", "/users/rep", {"role": None}, 422, "validation_failed"),
        ("admin", "patch", "/users/rep", {"role": "owner"}, 422, "validation_failed"),
        ("admin", "patch", "/users/nobody", {"role": "viewer"}, 404, "not_found"),
        ("admin", "post", "/users", {"username": "rep"}, 409, "conflict"),
        ("admin", "post", "/users", {"username": "x", "password": "short"}, 422, "weak_password"),
        ("admin", "post", "/users/rep/reset-password", {"password": "rep"}, 422, "weak_password"),
    ],
)
def test_a_refused_user_change_writes_nothing(
    client: TestClient,
    session: Session,
    headers: dict[str, dict[str, str]],
    caller: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    code: str,
) -> None:
    before = database_state(session)

    response = client.request(method, f"{API}{path}", json=body, headers=headers[caller])

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert database_state(session) == before


def test_a_second_admin_may_demote_the_first(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    users.set_role(
        session, actor=TESTER, user=users.get_by_username(session, "manager"), role=Role.ADMIN
    )

    response = client.patch(
        f"{API}/users/admin", json={"role": "viewer"}, headers=headers["manager"]
    )

    assert response.json()["role"] == "viewer"
