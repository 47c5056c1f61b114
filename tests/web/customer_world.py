"""People for the customer page tests: an admin, two sales reps, a viewer and a collector,
each able to sign in with ``PASSWORD`` and reading English pages."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.passwords import hash_password
from flywheel.models.enums import Role
from flywheel.models.users import User
from flywheel.users import service as users
from tests.factories import TESTER
from tests.web.pages import PASSWORD


@dataclass
class World:
    admin: User
    rep: User
    other_rep: User
    viewer: User
    collector: User


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def person(session: Session, username: str, display_name: str, role: Role) -> User:
    """A user who signs in with ``PASSWORD`` and reads English pages (hashed once per run:
    argon2 is slow on purpose)."""
    user = users.create_user(
        session,
        actor=TESTER,
        username=username,
        display_name=display_name,
        role=role,
        language="en",
    )
    user.password_hash = _password_hash()
    session.flush()
    return user


@pytest.fixture(name="world")
def world_fixture(session: Session) -> World:
    """Import ``world_fixture`` into a test module to use the fixture ``world``."""
    return World(
        admin=person(session, "admin.li", "Li Min", Role.ADMIN),
        rep=person(session, "wang.rep", "Wang Wei", Role.SALES),
        other_rep=person(session, "zhao.rep", "Zhao Lei", Role.SALES),
        viewer=person(session, "viewer.chen", "Chen Jing", Role.VIEWER),
        collector=person(session, "collector.sun", "Sun Li", Role.COLLECTOR),
    )
