"""What every JSON route shares: page parameters, the documented error answer, id bounds, and
the guard that keeps text a database cannot store out of paths and queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field

from flywheel.errors import ValidationFailed
from flywheel.kit.shapes import MAX_ID

MAX_PAGE_SIZE = 200
# Far beyond any real list; keeps the offset a number every database takes.
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int
    page_size: int

    @property
    def limit(self) -> int:
        return self.page_size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def page_request(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageRequest:
    return PageRequest(page=page, page_size=page_size)


Paging = Annotated[PageRequest, Depends(page_request)]

# A database id in a path: larger numbers can name nothing (and SQLite cannot bind them).
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def today() -> date:
    """The business day a request means when it names none: today in UTC."""
    return datetime.now(UTC).date()


class ErrorDetail(BaseModel):
    code: str = Field(description='Stable, e.g. "not_found", "over_allocation".')
    message: str
    details: dict[str, Any]


class ErrorOut(BaseModel):
    """Every error answer: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Documented on every domain route, so clients (and the schema checks) know each answer.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The body cannot be read (not JSON, or a broken form)."),
    401: _error("No valid credentials (Authorization: Bearer fw_…)."),
    403: _error("The caller's role may not do this."),
    404: _error("No such record, or not one the caller may see."),
    409: _error("Conflicts with the current state (exists already, locked, over-allocated)."),
    422: _error("The request is not valid; details.errors lists each problem."),
}


async def storable_parameters(request: Request) -> None:
    """Refuse a NUL character in a path or query parameter with a 422: PostgreSQL cannot take
    one in text, and both databases must answer alike."""
    values = [*request.path_params.values(), *request.query_params.values()]
    if any("\x00" in str(value) for value in values):
        raise ValidationFailed("text cannot contain NUL characters")
