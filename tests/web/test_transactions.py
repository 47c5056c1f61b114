"""The request owns the transaction: commit when the endpoint returns, roll back on any error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text

from flywheel.app import create_app
from flywheel.db import make_engine
from flywheel.errors import Conflict
from flywheel.web.deps import SessionDep


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Engine]:
    """A throwaway SQLite file, so a second connection can see what was really committed."""
    engine = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    engine.dispose()


@pytest.fixture
def client(scratch: Engine) -> TestClient:
    app = create_app(engine=scratch)
    router = APIRouter(prefix="/api/test")

    def write(session: SessionDep, body: str) -> None:
        session.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": body})
        session.flush()

    @router.post("/notes/{body}")
    def write_and_return(body: str, session: SessionDep) -> dict[str, str]:
        write(session, body)
        return {"written": body}

    @router.post("/notes/{body}/conflict")
    def write_then_domain_error(body: str, session: SessionDep) -> None:
        write(session, body)
        raise Conflict("changed my mind")

    @router.post("/notes/{body}/crash")
    def write_then_crash(body: str, session: SessionDep) -> None:
        write(session, body)
        raise RuntimeError("boom")

    app.include_router(router)
    return TestClient(app)


def committed_notes(database: Engine) -> list[str]:
    # A separate engine: its own connection, outside anything the app holds open.
    observer = make_engine(database.url.render_as_string(hide_password=False))
    try:
        with observer.connect() as connection:
            return list(connection.scalars(text("SELECT body FROM note ORDER BY id")))
    finally:
        observer.dispose()


def test_write_then_return_is_committed(client: TestClient, scratch: Engine) -> None:
    response = client.post("/api/test/notes/kept")

    assert response.status_code == 200
    assert committed_notes(scratch) == ["kept"]


def test_write_then_domain_error_is_rolled_back(client: TestClient, scratch: Engine) -> None:
    response = client.post("/api/test/notes/lost/conflict")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert committed_notes(scratch) == []


def test_write_then_crash_is_rolled_back(client: TestClient, scratch: Engine) -> None:
    response = client.post("/api/test/notes/lost/crash")

    assert response.status_code == 500
    assert committed_notes(scratch) == []


def test_failed_request_does_not_affect_the_next(client: TestClient, scratch: Engine) -> None:
    client.post("/api/test/notes/first")
    client.post("/api/test/notes/second/conflict")
    client.post("/api/test/notes/third")

    assert committed_notes(scratch) == ["first", "third"]


def test_failed_commit_answers_500_not_success(client: TestClient, scratch: Engine) -> None:
    def refuse_commit(_connection: Connection) -> None:
        raise RuntimeError("disk full")

    event.listen(scratch, "commit", refuse_commit)
    try:
        response = client.post("/api/test/notes/unsaved")
    finally:
        event.remove(scratch, "commit", refuse_commit)

    # The commit runs before the answer is sent, so the client learns that it failed.
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert committed_notes(scratch) == []
