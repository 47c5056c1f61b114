"""Test databases: SQLite by default, PostgreSQL when FLYWHEEL_TEST_DATABASE_URL is set.

The schema is built once per run by the migrations; every test runs inside a transaction
that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
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


def worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker resets and migrates a database of its own on the same
    server (``flywheel_test_gw0`` …), created when missing: two workers on one schema would
    drop each other's tables."""
    base = make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        admin.dispose()
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get(PG_ENV)
    if url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return worker_database(url, worker) if worker else url
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
