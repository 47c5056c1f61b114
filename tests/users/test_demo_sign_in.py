"""The demo's one-per-role users sign in with the demo password; nobody else gets one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.demo.accounts import DEMO_PASSWORD
from flywheel.demo.service import build_demo
from flywheel.models.enums import Role
from flywheel.models.users import User
from flywheel.users import service as users
from tests.databases import BACKENDS, fresh_engine

ROLE_USERS = ("admin", "manager", "sales", "collector", "finance", "viewer")
NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request.param, tmp_path)


def _build(engine: Engine, *, replace: bool = False) -> None:
    build_demo(engine, customers=30, years=1, seed=5, as_of=date(2025, 6, 30), replace=replace)


def test_role_users_share_one_hash_of_the_demo_password(engine: Engine) -> None:
    _build(engine)

    with Session(engine) as session:
        hashes = {u.username: u.password_hash for u in session.scalars(select(User))}
        for username in ROLE_USERS:
            found = users.authenticate_password(session, username, DEMO_PASSWORD, now=NOW)
            assert found is not None
            assert (found.username, found.role, found.failed_logins) == (username, username, 0)
        session.rollback()

    assert len({hashes[u] for u in ROLE_USERS}) == 1
    assert str(hashes["admin"]).startswith("$argon2id$")
    reps = [name for name in hashes if name not in ROLE_USERS]
    assert reps
    assert all(hashes[name] is None for name in reps)


def test_an_existing_users_password_is_never_overwritten(engine: Engine) -> None:
    with Session(engine) as session:
        users.create_user(
            session,
            actor=Actor.system("tests"),
            username="finance",
            role=Role.FINANCE,
            password="my-own-finance-password",
        )
        session.commit()

    _build(engine)
    _build(engine, replace=True)

    with Session(engine) as session:
        assert users.authenticate_password(session, "finance", DEMO_PASSWORD, now=NOW) is None
        session.rollback()
        own = users.authenticate_password(session, "finance", "my-own-finance-password", now=NOW)
        assert own is not None
        assert users.authenticate_password(session, "viewer", DEMO_PASSWORD, now=NOW) is not None
        session.rollback()
    with engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM users WHERE username = 'finance'"))
        assert count.scalar_one() == 1
