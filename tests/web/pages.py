"""Helpers for page tests: users with a password, signing in through the form, CSRF tokens."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role
from flywheel.models.users import User
from flywheel.users import service as users

PASSWORD = "correct horse battery"
ADMIN = Actor.system("tests")


def make_person(
    session: Session, username: str = "li.wei", *, role: Role = Role.SALES, language: str = "en"
) -> User:
    """A user who can sign in with ``PASSWORD``; English pages unless ``language`` says not."""
    user = users.create_user(
        session,
        actor=ADMIN,
        username=username,
        display_name="Li Wei",
        role=role,
        language=language,
        password=PASSWORD,
    )
    session.flush()
    return user


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the sign-in form; returns the session's CSRF token for later posts."""
    form = client.get("/sign-in")
    answer = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/account").text)


def audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
