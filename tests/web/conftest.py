"""An app bound to the test database; every request shares the test's rolled-back session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.app import create_app
from flywheel.web.deps import get_session


@pytest.fixture
def app(engine: Engine, session: Session) -> FastAPI:
    application = create_app(engine=engine)

    def test_session() -> Iterator[Session]:
        yield session

    application.dependency_overrides[get_session] = test_session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
