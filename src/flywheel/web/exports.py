"""List exports: what a list page shows, every page of it, as a CSV or XLSX download.

A page's export route reads the page's own filters and runs the page's own scoped query
without its pager (``paged`` / ``selected``), then hands the rows to ``download``, which
writes them with ``kit.tabular`` to a temporary file and sends it. Headers are English
message ids translated here, in the user's language; dates and Decimals stay real values
(numbers and dates in Excel, ISO text and plain numbers in CSV).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Literal, TypeVar, TypeVarTuple

from fastapi.responses import FileResponse
from sqlalchemy import Row, Select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from flywheel.kit.i18n import gettext as _
from flywheel.kit.tabular import write_csv, write_xlsx
from flywheel.web.contract import today

__all__ = [
    "EXPORT_LIMIT",
    "MEDIA_TYPES",
    "ExportFormat",
    "download",
    "paged",
    "selected",
    "word",
]

ExportFormat = Literal["csv", "xlsx"]

# An export holds at most this many rows; a longer list is cut there (narrow the filters).
EXPORT_LIMIT = 100_000
EXPORT_BATCH = 5_000
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Excel refuses these in a sheet's name, and a name longer than 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_LENGTH = 31

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def paged(
    fetch: Callable[[int, int], Sequence[T]],
    *,
    limit: int = EXPORT_LIMIT,
    batch: int = EXPORT_BATCH,
) -> Iterator[T]:
    """Every row of a paged read ``fetch(limit, offset)`` (the page's own service call), a
    batch at a time, up to ``limit`` rows, so memory stays flat however long the list."""
    taken = 0
    while taken < limit:
        size = min(batch, limit - taken)
        rows = fetch(size, taken)
        yield from rows
        taken += len(rows)
        if len(rows) < size:
            return


def selected(
    session: Session, statement: Select[*Ts], *, limit: int = EXPORT_LIMIT
) -> Iterator[Row[*Ts]]:
    """Every row of a page's scoped, ordered query, read a batch at a time up to ``limit``."""

    def fetch(size: int, offset: int) -> Sequence[Row[*Ts]]:
        return session.execute(statement.limit(size).offset(offset)).all()

    return paged(fetch, limit=limit)


def word(labels: Mapping[str, str], value: str | None) -> str | None:
    """A stored code in the user's words (its label translated); an unknown code as it is."""
    if value is None or value == "":
        return None
    label = labels.get(value)
    return _(label) if label else value


def _cell(value: object) -> object:
    # Excel has no time zones: a moment is written in UTC, without its zone, to the second.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0)
    if isinstance(value, Enum):
        return value.value
    return value


def _sheet_title(title: str) -> str:
    cleaned = _SHEET_FORBIDDEN.sub(" ", title).strip()[:_SHEET_TITLE_LENGTH]
    return cleaned or "Sheet1"


def download(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    stem: str,
    format: ExportFormat,
    title: str | None = None,
    day: date | None = None,
) -> FileResponse:
    """Write ``rows`` under ``headers`` (English message ids, translated here) as CSV (UTF-8
    with a byte order mark, for Excel) or XLSX, and answer with the file as an attachment named
    ``{stem}-{day}.{format}`` (``day``: the day the list is as of, today unless given); the
    XLSX sheet is named after ``title`` (a message id too).

    The rows are written inside the request, in its transaction and language, to a temporary
    file that is streamed and then deleted."""
    names = [_(header) for header in headers]
    cells = ([_cell(value) for value in row] for row in rows)
    handle, name = tempfile.mkstemp(prefix=f"flywheel-{stem}-", suffix=f".{format}")
    os.close(handle)
    path = Path(name)
    try:
        if format == "csv":
            write_csv(path, names, cells)
        else:
            write_xlsx(path, names, cells, sheet_title=_sheet_title(_(title or stem)))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[format],
        filename=f"{stem}-{(day or today()).isoformat()}.{format}",
        background=BackgroundTask(os.unlink, path),
    )
