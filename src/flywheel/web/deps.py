"""Request-scoped dependencies: the database session whose transaction the request owns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.db import session_factory


def get_engine(request: Request) -> Engine:
    """The app's engine, set by ``create_app`` (tests hand in their own)."""
    engine: Engine = request.app.state.engine
    return engine


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on any
    exception, including domain errors that become 4xx answers. Services only flush.

    Opening a session does no I/O (it connects on first use, in the endpoint's thread), so it
    happens here on the event loop; only the commit or rollback goes to a worker thread, and it
    runs to its end even when the client has gone away. One thread hop per request, not two.
    """
    # A request that may change something writes through a SQLite BEGIN IMMEDIATE.
    writes = request.method not in READ_ONLY_METHODS
    session = session_factory(get_engine(request), writes=writes)()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_finish, session, commit=False)
        raise
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(_finish, session, commit=True)


# scope="function": the commit runs once the endpoint has returned and its answer is serialised,
# but before the answer is sent, so a client never sees success for a transaction that then
# fails to commit. (FastAPI's default scope would commit after the response is sent.) A
# generator dependency that takes a SessionDep must use scope="function" too.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
