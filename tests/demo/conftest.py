"""Databases of their own for the demo tests: building a demo commits, so no shared database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from flywheel.db import make_engine, upgrade_database
from flywheel.demo.service import DemoSummary, build_demo

PG_ENV = "FLYWHEEL_TEST_DATABASE_URL"
AS_OF = date(2025, 6, 30)
BACKENDS = ["sqlite", "postgresql"]


def build_small(engine: Engine, *, seed: int = 11, replace: bool = False) -> DemoSummary:
    """The small company the tests use: 200 customers, two years."""
    return build_demo(engine, customers=200, years=2, seed=seed, as_of=AS_OF, replace=replace)


def _fresh_engine(backend: str, directory: Path) -> Iterator[Engine]:
    """An empty, migrated database that is thrown away afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{directory / 'demo.db'}")
        upgrade_database(engine)
        yield engine
        engine.dispose()
        return
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"flywheel_demo_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from _fresh_engine(request.param, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, DemoSummary]]:
    """One small demo company per backend, shared by the read-only tests of a module."""
    for engine in _fresh_engine(request.param, tmp_path_factory.mktemp("demo")):
        yield engine, build_small(engine)
