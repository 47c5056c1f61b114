"""Test databases: SQLite by default, PostgreSQL when FLYWHEEL_TEST_DATABASE_URL is set.

The schema is built once per run by the migrations; every test runs inside a transaction
that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from flywheel.db import make_engine, upgrade_database

PG_ENV = "FLYWHEEL_TEST_DATABASE_URL"
# Session cookies in tests are signed with a fixed key, never a file in the working directory.
os.environ.setdefault("FLYWHEEL_SECRET_KEY", "flywheel-tests-only-session-key")


def pytest_report_header() -> str:
    return f"flywheel test database: {os.environ.get(PG_ENV) or 'SQLite (temporary file)'}"


def reset_postgres(engine: Engine) -> None:
    """Start from an empty schema: the test database belongs to the tests."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    path: Path = tmp_path_factory.mktemp("db") / "flywheel-test.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    if eng.dialect.name == "postgresql":
        reset_postgres(eng)
    upgrade_database(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every commit stays inside an outer transaction rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()
