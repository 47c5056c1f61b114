"""The users page: admins only; create with a one-time password, change role, disable."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.users import User
from flywheel.users import service as users
from flywheel.web.sessions import SESSION_COOKIE
from tests.web.pages import audit_count, make_person, sign_in


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def test_an_admin_creates_a_user_who_can_sign_in_with_the_password_shown_once(
    client: TestClient, session: Session, app: object
) -> None:
    make_person(session, "boss", role=Role.ADMIN)
    csrf = sign_in(client, "boss")

    answer = client.post(
        "/users",
        data={
            "username": "wang.fang",
            "display_name": "王芳",
            "email": "wang@example.cn",
            "role": "collector",
            "language": "zh",
            "csrf_token": csrf,
        },
    )

    assert answer.status_code == 200
    shown = re.search(r'data-testid="new-password">.*?<code>([^<]+)</code>', answer.text, re.S)
    assert shown is not None
    created = users.get_by_username(session, "wang.fang")
    assert (created.role, created.language, created.display_name) == ("collector", "zh", "王芳")
    with TestClient(app) as newcomer:  # type: ignore[arg-type]
        sign_in(newcomer, "wang.fang", shown.group(1))
        assert newcomer.cookies.get(SESSION_COOKIE)


def test_a_duplicate_username_is_said_and_nothing_is_written(
    client: TestClient, session: Session
) -> None:
    make_person(session, "boss", role=Role.ADMIN)
    csrf = sign_in(client, "boss")
    before = (user_count(session), audit_count(session))

    answer = client.post("/users", data={"username": "boss", "role": "sales", "csrf_token": csrf})

    assert answer.status_code == 409
    assert "already exists" in answer.text
    assert (user_count(session), audit_count(session)) == before


def test_an_admin_changes_a_role_and_disables_a_user(client: TestClient, session: Session) -> None:
    make_person(session, "boss", role=Role.ADMIN)
    rep = make_person(session, "rep", role=Role.SALES)
    csrf = sign_in(client, "boss")

    client.post("/users/rep/role", data={"role": "manager", "csrf_token": csrf})
    answer = client.post("/users/rep/disable", data={"csrf_token": csrf})

    assert answer.status_code == 200
    assert (rep.role, rep.is_active) == ("manager", False)
    assert "rep can no longer sign in." in answer.text


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_other_roles_may_neither_see_nor_change_users(
    client: TestClient, session: Session, role: Role
) -> None:
    make_person(session, "someone", role=role)
    victim = make_person(session, "victim", role=Role.SALES)
    csrf = sign_in(client, "someone")
    before = (user_count(session), audit_count(session), victim.role)

    page = client.get("/users")
    created = client.post("/users", data={"username": "x", "role": "admin", "csrf_token": csrf})
    promoted = client.post("/users/victim/role", data={"role": "admin", "csrf_token": csrf})

    assert (page.status_code, created.status_code, promoted.status_code) == (403, 403, 403)
    assert (user_count(session), audit_count(session), victim.role) == before
    assert 'href="/users"' not in client.get("/account").text
