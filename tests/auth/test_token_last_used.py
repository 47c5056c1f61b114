"""Marking a token as used never fails the request it authenticates."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.tokens import authenticate_token, create_token
from flywheel.db import unit_of_work
from flywheel.models.auth import ApiToken
from flywheel.models.base import utcnow
from flywheel.models.enums import Role
from flywheel.models.users import User
from flywheel.users import service as users
from tests.databases import BACKENDS, fresh_engine


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request.param, tmp_path)


def api_token(engine: Engine) -> str:
    """The secret of a token of the manager "api", committed."""
    with unit_of_work(engine) as setup:
        user = users.create_user(
            setup, actor=Actor.system("tests"), username="api", role=Role.MANAGER
        )
        _row, secret = create_token(setup, actor=Actor.system("tests"), user=user, name="t")
    return secret


def test_a_concurrent_writer_does_not_turn_a_token_check_into_an_error(engine: Engine) -> None:
    # Given a token, and a request whose transaction has already read the database
    secret = api_token(engine)
    request = Session(engine)
    request.execute(ApiToken.__table__.select()).all()  # its read snapshot starts here
    # When another request of the same token writes and commits first
    with unit_of_work(engine) as other:
        other.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(days=1)))

    # Then this request still authenticates (SQLite refuses its own write at once)
    found = authenticate_token(request, secret, now=utcnow() + timedelta(days=2))

    assert found is not None
    assert found.username == "api"
    request.close()


def test_a_request_marking_the_token_does_not_hold_up_the_others(engine: Engine) -> None:
    # Given a request that has just marked the token as used and not finished (its
    # transaction still open: on PostgreSQL it holds the token's row)
    secret = api_token(engine)
    first = Session(engine)
    assert authenticate_token(first, secret, now=utcnow()) is not None
    second = Session(engine)
    found: list[User | None] = []

    # When another request of the same token comes a minute later
    later = threading.Thread(
        target=lambda: found.append(
            authenticate_token(second, secret, now=utcnow() + timedelta(minutes=2))
        )
    )
    later.start()
    later.join(timeout=20)
    waiting = later.is_alive()
    first.commit()  # lets a waiting request go on, so that the test ends either way
    later.join()

    # Then it authenticated without waiting for the first to finish
    assert not waiting, "the second request waited for the first one's transaction"
    assert [u.username if u else None for u in found] == ["api"]
    second.commit()
    first.close()
    second.close()
