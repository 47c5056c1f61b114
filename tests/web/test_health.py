"""/healthz and /api/v1/health: ready only with a reachable database on the newest schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from flywheel import __version__
from flywheel.app import create_app
from flywheel.db import make_engine, schema_revision


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/health"])
def test_health_ok_reports_schema_and_version(engine: Engine, path: str) -> None:
    with TestClient(create_app(engine=engine)) as client:
        response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "schema": schema_revision(engine),
        "version": __version__,
    }


def test_health_unavailable_without_schema(tmp_path: Path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with TestClient(create_app(engine=empty)) as client:
            response = client.get("/healthz")
    finally:
        empty.dispose()

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "no_schema",
        "schema": None,
        "version": __version__,
        "reason": "the database has no Flywheel schema; run `flywheel init`",
    }


def test_health_unavailable_when_database_unreachable(tmp_path: Path) -> None:
    unreachable = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'flywheel.db'}")
    try:
        with TestClient(create_app(engine=unreachable)) as client:
            response = client.get("/api/v1/health")
    finally:
        unreachable.dispose()

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable"
    assert body["reason"] == "the database cannot be reached"
    assert "missing-dir" not in response.text  # driver messages stay in the log
