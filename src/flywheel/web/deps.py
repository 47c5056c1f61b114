"""Request-scoped dependencies: the database session whose transaction the request owns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.db import unit_of_work


def get_engine(request: Request) -> Engine:
    """The app's engine, set by ``create_app`` (tests hand in their own)."""
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on any
    exception, including domain errors that become 4xx answers. Services only flush."""
    with unit_of_work(get_engine(request)) as session:
        yield session


# scope="function": the commit runs once the endpoint has returned and its answer is serialised,
# but before the answer is sent, so a client never sees success for a transaction that then
# fails to commit. (FastAPI's default scope would commit after the response is sent.) A
# generator dependency that takes a SessionDep must use scope="function" too.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
