"""Databases of their own, for tests whose code commits (demo builds, two-process imports)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from flywheel.db import make_engine, upgrade_database

PG_ENV = "FLYWHEEL_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]


def fresh_engine(backend: str, directory: Path) -> Iterator[Engine]:
    """An empty, migrated database that is thrown away afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{directory / 'fresh.db'}")
        upgrade_database(engine)
        yield engine
        engine.dispose()
        return
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"flywheel_t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(server_url).set(database=name).render_as_string(False))
    try:
        upgrade_database(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
