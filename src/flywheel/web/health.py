"""Liveness and readiness: is the database reachable and on the schema this code expects?"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from flywheel import __version__
from flywheel.db import alembic_config, schema_revision
from flywheel.web.deps import get_engine

logger = logging.getLogger(__name__)


class DatabaseCheck(NamedTuple):
    state: str  # "ok", "unreachable", "no_schema" or "outdated"
    revision: str | None
    reason: str | None  # for people; None when ok
    error: str | None = None  # the driver's message: for logs and the CLI, not for HTTP

    @property
    def ok(self) -> bool:
        return self.state == "ok"


@lru_cache(maxsize=1)
def newest_revision() -> str | None:
    """The newest migration shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_database(engine: Engine) -> DatabaseCheck:
    try:
        revision = schema_revision(engine)
    except SQLAlchemyError as exc:
        return DatabaseCheck(
            "unreachable", None, "the database cannot be reached", str(exc).splitlines()[0]
        )
    if revision is None:
        return DatabaseCheck(
            "no_schema", None, "the database has no Flywheel schema; run `flywheel init`"
        )
    newest = newest_revision()
    if revision != newest:
        return DatabaseCheck(
            "outdated",
            revision,
            f"the database schema is {revision} but this version expects {newest}; "
            "run `flywheel init`",
        )
    return DatabaseCheck("ok", revision, None)


class Health(BaseModel):
    status: str = Field(description='"ok", or "unavailable" with a reason (HTTP 503).')
    database: str = Field(description='"ok", "unreachable", "no_schema" or "outdated".')
    schema_revision: str | None = Field(
        serialization_alias="schema", description="The database's Alembic revision."
    )
    version: str
    reason: str | None = None


def health(request: Request) -> JSONResponse:
    """Ready when the database answers and carries the newest schema; 503 otherwise."""
    check = check_database(get_engine(request))
    if not check.ok:
        logger.warning("not ready: %s", check.reason, extra={"db_error": check.error})
    body = Health(
        status="ok" if check.ok else "unavailable",
        database=check.state,
        schema_revision=check.revision,
        version=__version__,
        reason=check.reason,
    )
    return JSONResponse(
        body.model_dump(by_alias=True, exclude_none=check.ok),
        status_code=200 if check.ok else 503,
    )


_RESPONSES: dict[int | str, dict[str, object]] = {503: {"model": Health}}

# /healthz for load balancers and orchestrators, /api/v1/health for API clients.
router = APIRouter(tags=["health"])
router.add_api_route(
    "/healthz", health, methods=["GET"], response_model=Health, responses=_RESPONSES
)

api_router = APIRouter(tags=["health"])
api_router.add_api_route(
    "/health", health, methods=["GET"], response_model=Health, responses=_RESPONSES
)
