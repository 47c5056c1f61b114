"""Error pages on an app with its own sessions (as in production): the page is drawn after the
request's transaction was rolled back, so it must not read rows loaded during the request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from flywheel.app import create_app
from flywheel.db import unit_of_work
from flywheel.errors import NotFound
from flywheel.models.enums import Role
from flywheel.web.auth import CurrentActor
from tests.databases import fresh_engine
from tests.web.pages import make_person, sign_in


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine("sqlite", tmp_path)


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    with unit_of_work(engine) as session:
        make_person(session, "rep", role=Role.SALES)
        make_person(session, "zhang", role=Role.SALES, language="zh")
    application = create_app(engine=engine)
    probe = APIRouter()

    @probe.get("/probe/missing")
    def missing(actor: CurrentActor) -> None:
        raise NotFound("customer X not found")

    @probe.get("/probe/crash")
    def crash(actor: CurrentActor) -> None:
        raise RuntimeError("boom")

    application.include_router(probe)
    return application


def test_a_domain_error_for_a_signed_in_user_is_a_page_in_his_language(app: FastAPI) -> None:
    with TestClient(app) as client:
        sign_in(client, "zhang")

        answer = client.get("/probe/missing")

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in answer.text
    assert "customer X not found" in answer.text
    assert "Li Wei" in answer.text  # the header still names who is signed in


def test_an_unexpected_error_on_a_page_is_a_page_with_the_request_id(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        sign_in(client, "rep")

        answer = client.get("/probe/crash", headers={"X-Request-ID": "req-500-page"})

    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    assert "req-500-page" in answer.text
