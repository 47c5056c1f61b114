"""Databases of their own for the demo tests: building a demo commits, so no shared database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from flywheel.demo.service import DemoSummary, build_demo
from tests.databases import BACKENDS, fresh_engine

PG_ENV = "FLYWHEEL_TEST_DATABASE_URL"
AS_OF = date(2025, 6, 30)


def build_small(engine: Engine, *, seed: int = 11, replace: bool = False) -> DemoSummary:
    """The small company the tests use: 200 customers, two years."""
    return build_demo(engine, customers=200, years=2, seed=seed, as_of=AS_OF, replace=replace)


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request.param, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, DemoSummary]]:
    """One small demo company per backend, shared by the read-only tests of a module."""
    for engine in fresh_engine(request.param, tmp_path_factory.mktemp("demo")):
        yield engine, build_small(engine)
