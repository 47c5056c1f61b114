"""Marking a token as used never fails the request it authenticates."""

from __future__ import annotations

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
from flywheel.users import service as users
from tests.databases import fresh_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine("sqlite", tmp_path)


def test_a_concurrent_writer_does_not_turn_a_token_check_into_an_error(engine: Engine) -> None:
    # Given a token, and a request whose transaction has already read the database
    with unit_of_work(engine) as setup:
        user = users.create_user(
            setup, actor=Actor.system("tests"), username="api", role=Role.MANAGER
        )
        _row, secret = create_token(setup, actor=Actor.system("tests"), user=user, name="t")
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
