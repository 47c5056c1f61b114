"""The API router turns away paths outside /api/v1 before trying its routes, and only those."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import Match
from starlette.types import Scope

from flywheel.app import create_app
from flywheel.web import api
from flywheel.web.api import API_PREFIX, PrefixedRouter, route_path


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/api/v1/customers", "", "/api/v1/customers"),
        ("/flywheel/api/v1/customers", "/flywheel", "/api/v1/customers"),
        ("/flywheel", "/flywheel", ""),
        # A root path that is only the start of a longer segment is not the mount point.
        ("/flywheelx/api/v1", "/flywheel", "/flywheelx/api/v1"),
        ("/customers", "/elsewhere", "/customers"),
    ],
)
def test_route_path_drops_the_mount_point(path: str, root_path: str, expected: str) -> None:
    assert route_path({"path": path, "root_path": root_path}) == expected


def _tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths for which the API's routes were tried (not turned away at the prefix)."""
    tried: list[str] = []
    inner = APIRouter.matches

    def counting(self: APIRouter, scope: Scope) -> tuple[Match, Scope]:
        if isinstance(self, PrefixedRouter):
            tried.append(str(scope["path"]))
        return inner(self, scope)

    monkeypatch.setattr(APIRouter, "matches", counting)
    return tried


def test_page_requests_skip_the_api_routes(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    tried = _tried(monkeypatch)
    with TestClient(create_app(engine=engine)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/sign-in").status_code == 200
        api_answer = client.get(f"{API_PREFIX}/health")
        # Unknown under the prefix: still the API's own JSON error, after trying its routes.
        missing = client.get(f"{API_PREFIX}/no-such-thing")

    assert api_answer.status_code == 200
    assert missing.status_code == 404
    assert "/healthz" not in tried
    assert "/sign-in" not in tried
    assert f"{API_PREFIX}/health" in tried
    assert f"{API_PREFIX}/no-such-thing" in tried


def test_the_api_router_is_prefixed() -> None:
    router = api.build_api_router()
    assert isinstance(router, PrefixedRouter)
    assert router.prefix == API_PREFIX


def test_a_prefixed_router_without_the_gate_would_try_every_path(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: with the plain router's matching, pages try the API too."""
    tried = _tried(monkeypatch)
    monkeypatch.setattr(
        PrefixedRouter, "matches", lambda self, scope: APIRouter.matches(self, scope)
    )
    with TestClient(create_app(engine=engine)) as client:
        assert client.get("/sign-in").status_code == 200
    assert "/sign-in" in tried
