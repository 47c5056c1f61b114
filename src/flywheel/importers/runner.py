"""The import loop shared by every entity: map the columns, parse each cell, hand valid
records to the entity's handler in batches, collect the rejects and write the rejects file.

The whole file is one transaction, owned by the caller: a crash half-way leaves the database
as it was before the file. With ``strict`` any rejected row raises ``ImportRejected`` after
the rejects file is written, and the caller rolls back.
"""

from __future__ import annotations

import gc
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.errors import FileUnreadable, ImportFailed, ImportRejected
from flywheel.importers.fields import ENTITIES, EntitySpec, FieldSpec
from flywheel.kit import tabular
from flywheel.kit.parse import normalize_header, parse_amount_with_currency
from flywheel.models.base import utcnow
from flywheel.models.importers import ImportBatch

ProgressCallback = Callable[[int, int | None], None]


class Outcome(StrEnum):
    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass(slots=True)
class Record:
    row: int
    values: dict[str, Any]
    raw: list[str | None]


@dataclass(slots=True)
class ImportContext:
    """What a handler needs besides the session: who acts, the business day, the columns."""

    actor: Actor
    today: date
    columns: dict[str, str]  # field name -> the file's column header
    expected_rows: int | None = None  # an estimate, for choosing bulk strategies
    notes: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)

    def column(self, field_name: str) -> str:
        return self.columns.get(field_name, field_name)

    def error(self, record: Record, field_name: str | None, reason: str) -> RowError:
        return RowError(record.row, self.column(field_name) if field_name else None, reason)


Result = Outcome | RowError


class Handler(Protocol):
    spec: EntitySpec
    group_by: str | None  # consecutive rows with the same value form one record group
    whole_file: bool  # handler needs every record at once (e.g. links between rows)

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]: ...

    def finish(self, session: Session) -> None: ...


@dataclass(slots=True)
class ImportResult:
    entity: str
    file: str
    encoding: str | None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    dry_run: bool = False
    strict: bool = False
    seconds: float = 0.0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    batch_id: int | None = None

    def to_dict(self, *, max_errors: int = 100) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "file": self.file,
            "encoding": self.encoding,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
            "dry_run": self.dry_run,
            "strict": self.strict,
            "committed": not self.dry_run and not (self.strict and self.rejected > 0),
            "seconds": round(self.seconds, 3),
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "users_created": self.users_created,
            "errors": [e.to_dict() for e in self.errors[:max_errors]],
            "batch_id": self.batch_id,
        }


# ---------------------------------------------------------------- column mapping


def parse_map_options(options: list[str]) -> dict[str, str]:
    """``["发票号=number", "备注=", ...]`` -> {normalized column: field}; an empty field
    (``备注=``) leaves the column out of the import even when its name is recognised."""
    mapping: dict[str, str] = {}
    for option in options:
        column, sep, field_name = option.rpartition("=")
        if not sep or not column.strip():
            raise ImportFailed(f"--map {option!r}: expected COLUMN=field (or COLUMN= to skip it)")
        mapping[normalize_header(column)] = field_name.strip()
    return mapping


def match_columns(
    spec: EntitySpec, headers: list[str], explicit: dict[str, str]
) -> tuple[dict[str, int], list[str]]:
    """Which column feeds each field; the columns no field uses. An explicit ``--map`` wins,
    then the best-ranked alias (a file with both "开票日期" and "日期" takes "开票日期").
    Required fields may be left without a column here: ``resolve_columns`` refuses that,
    the import page shows it."""
    for field_name in explicit.values():
        if field_name and field_name not in spec.by_name:
            known = ", ".join(spec.by_name)
            raise ImportFailed(
                f"--map names unknown field {field_name!r}; fields of {spec.entity}: {known}",
                field=field_name,
            )
    normalized = [normalize_header(h) for h in headers]
    for column in explicit:
        if column not in normalized:
            raise ImportFailed(
                f"--map names column {column!r}, which is not in the file; columns: {', '.join(headers)}",
                column=column,
            )
    chosen: dict[str, tuple[int, int]] = {}  # field -> (rank, column index)
    taken: set[int] = set()
    for index, key in enumerate(normalized):
        if key not in explicit:
            continue
        taken.add(index)
        field_name = explicit[key]
        if not field_name:
            continue
        if field_name in chosen:
            first = headers[chosen[field_name][1]]
            raise ImportFailed(
                f"--map names field {field_name!r} for two columns: {first!r} and "
                f"{headers[index]!r}",
                field=field_name,
            )
        chosen[field_name] = (-1, index)
    for spec_field in spec.fields:
        if spec_field.name in chosen:
            continue
        names = (spec_field.name, *spec_field.aliases)
        keys = [normalize_header(n) for n in names]
        for rank, key in enumerate(keys):
            hits = [i for i, h in enumerate(normalized) if h == key and i not in taken]
            if hits:
                chosen[spec_field.name] = (rank, hits[0])
                taken.add(hits[0])
                break
    used = {index for _, index in chosen.values()}
    ignored = [h for i, h in enumerate(headers) if h and i not in used]
    return {name: index for name, (_, index) in chosen.items()}, ignored


def resolve_columns(
    spec: EntitySpec, headers: list[str], explicit: dict[str, str]
) -> tuple[dict[str, int], list[str]]:
    """``match_columns``, refusing a file in which a required field has no column."""
    columns, ignored = match_columns(spec, headers, explicit)
    missing = [f for f in spec.fields if f.required and f.name not in columns]
    if missing:
        wanted = "; ".join(f"{f.name} ({' / '.join(f.aliases[:4])})" for f in missing)
        raise ImportFailed(
            f"required column missing: {wanted}. Columns in the file: {', '.join(headers)}. "
            "Name the column with --map COLUMN=field.",
            missing=[f.name for f in missing],
        )
    return columns, ignored


# ---------------------------------------------------------------- parsing rows


_MEMO_LIMIT = 20_000


class _Cell:
    """How one field is read from its column. Parsed values are remembered per cell text:
    customer codes, dates, currencies and terms repeat across millions of rows."""

    __slots__ = ("header", "index", "memo", "name", "parser", "required")

    def __init__(self, spec_field: FieldSpec, index: int, header: str) -> None:
        self.name = spec_field.name
        self.parser = spec_field.parser
        self.required = spec_field.required
        self.index = index
        self.header = header
        self.memo: dict[str, Any] = {}


def _parse_row(row: int, raw: list[str | None], plan: list[_Cell], width: int) -> Record | RowError:
    if len(raw) > width:
        return RowError(row, None, f"the row has {len(raw) - width} more cells than the header")
    values: dict[str, Any] = {}
    for cell in plan:
        text = raw[cell.index]
        if text is not None:
            text = text.strip()
        if not text:
            if cell.required:
                return RowError(row, cell.header, f"{cell.name} is required but empty")
            continue
        memo = cell.memo
        value = memo.get(text, _UNPARSED)
        if value is _UNPARSED:
            try:
                value = cell.parser(text)
            except ValueError as exc:
                return RowError(row, cell.header, str(exc))
            if len(memo) < _MEMO_LIMIT:
                memo[text] = value
        values[cell.name] = value
    if "amount" in values:
        for cell in plan:
            text = raw[cell.index]
            # Plain numbers, the common case, name no currency.
            if cell.name == "amount" and text and not _PLAIN_NUMBER.match(text):
                problem = _amount_currency(values, text)
                if problem:
                    return RowError(row, cell.header, problem)
    return Record(row, values, raw)


def _amount_currency(values: dict[str, Any], text: str) -> str | None:
    """A currency written in the amount cell ("USD 1,000") fills an empty currency column
    and must agree with a filled one. Returns the reason when they disagree."""
    try:
        _, written = parse_amount_with_currency(text)
    except ValueError:
        return None
    if written is None:
        return None
    stated = values.get("currency")
    if stated is None:
        values["currency"] = written
        return None
    if stated != written:
        return f"the amount is in {written} but the currency column says {stated}"
    return None


_PLAIN_NUMBER = re.compile(r"^[\d.,\s+-]*$")


_UNPARSED = object()


def _groups(
    records: Iterator[Record | RowError],
    group_by: str | None,
    errors: list[RowError],
    raw_by_row: dict[int, list[str | None]],
    key_header: str | None = None,
) -> Iterator[list[Record]]:
    """Consecutive records with the same key form a group; a key that comes back later is
    a duplicate and rejected, since the same natural key must not mean two things."""
    if group_by is None:
        for item in records:
            if isinstance(item, RowError):
                errors.append(item)
            else:
                yield [item]
        return
    seen: dict[Any, int] = {}
    current: list[Record] = []
    current_key: Any = None
    for item in records:
        if isinstance(item, RowError):
            errors.append(item)
            continue
        key = item.values.get(group_by)
        if current and key == current_key:
            current.append(item)
            continue
        if current:
            yield current
        if key in seen:
            errors.append(
                RowError(
                    item.row,
                    key_header or group_by,
                    f"{key} already appeared on row {seen[key]}; rows of one "
                    f"{group_by} must be consecutive",
                )
            )
            raw_by_row[item.row] = item.raw
            current = []
            current_key = None
            continue
        seen[key] = item.row
        current, current_key = [item], key
    if current:
        yield current


# ---------------------------------------------------------------- the run


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def run_import(
    session: Session,
    **options: Any,
) -> ImportResult:
    """Import one file (see ``_run_import`` for the options) with the cyclic garbage collector
    paused: a million-row file allocates millions of short-lived objects, and the collector's
    repeated full passes over them cost more than the import itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_import(session, **options)
    finally:
        if was_enabled:
            gc.enable()


def _run_import(
    session: Session,
    *,
    entity: str,
    path: Path,
    handler_factory: Callable[[ImportContext], Handler],
    actor: Actor,
    today: date,
    mapping: list[str] | None = None,
    strict: bool = False,
    dry_run: bool = False,
    batch_size: int = 5000,
    progress: ProgressCallback | None = None,
    sheet: str | None = None,
) -> ImportResult:
    spec = ENTITIES[entity]
    started = time.perf_counter()
    explicit = parse_map_options(mapping or [])
    table = _open(path, sheet)
    with table:
        columns, ignored = resolve_columns(spec, table.headers, explicit)
        ctx = ImportContext(
            actor=actor,
            today=today,
            columns={f: table.headers[i] for f, i in columns.items()},
            expected_rows=table.total_rows_hint,
        )
        handler = handler_factory(ctx)
        result = ImportResult(
            entity=entity,
            file=str(path),
            encoding=table.encoding,
            dry_run=dry_run,
            strict=strict,
            columns=ctx.columns,
            ignored_columns=ignored,
        )
        batch = _open_batch(session, actor, entity, path)
        tally = _Tally(result)
        try:
            if _use_pipeline(session, handler, ctx):
                from flywheel.importers import pipeline

                result.rows = pipeline.run(
                    session,
                    handler,
                    tally,
                    entity=entity,
                    path=path,
                    sheet=sheet,
                    explicit=explicit,
                    today=today,
                    batch_size=batch_size,
                    progress=progress,
                )
            else:
                result.rows = _run_inline(
                    session, handler, table, columns, tally, batch_size, progress
                )
            handler.finish(session)
        finally:
            close = getattr(handler, "close", None)
            if close is not None:
                close()
        if progress is not None:
            progress(result.rows, result.rows)

    errors = sorted(tally.errors, key=lambda e: e.row)
    result.errors = errors
    result.rejected = len({e.row for e in errors})
    result.users_created = ctx.users_created
    target = rejects_path(path)
    if errors:
        _write_rejects(target, table.headers, errors, tally.raw)
        result.rejects_file = str(target)
    elif target.exists():
        target.unlink()  # a stale rejects file from an earlier run would mislead
    result.seconds = time.perf_counter() - started
    if strict and errors:
        raise ImportRejected(
            f"{result.rejected} row(s) rejected; with --strict nothing was imported "
            f"(see {result.rejects_file})",
            result=result.to_dict(),
        )
    result.batch_id = _close_batch(session, actor, batch, result)
    return result


# Files from this many rows on are read and checked in a second process (``pipeline``) while
# this one writes, when the handler splits its work into ``prepare`` and ``apply``.
PIPELINE_ROWS = 200_000


def _use_pipeline(session: Session, handler: Handler, ctx: ImportContext) -> bool:
    if not hasattr(handler, "prepare") or (ctx.expected_rows or 0) < PIPELINE_ROWS:
        return False
    url = session.get_bind().engine.url
    # A second process cannot see an in-memory database.
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def _open(path: Path, sheet: str | None) -> tabular.Table:
    try:
        return tabular.open_table(path, sheet=sheet)
    except (OSError, ValueError) as exc:
        raise FileUnreadable(f"{path}: {exc}", file=str(path)) from exc


class _Tally:
    """Counts the outcome of every row and keeps the errors with their raw cells."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.errors: list[RowError] = []
        self.raw: dict[int, list[str | None]] = {}

    def parse_errors(self, errors: list[RowError], raw: dict[int, list[str | None]]) -> None:
        self.errors.extend(errors)
        self.raw.update(raw)

    def outcomes(
        self,
        rows: list[list[int]],
        outcomes: list[list[Result]],
        raw: Callable[[int], list[str | None] | None],
    ) -> None:
        result = self.result
        for group_rows, group_outcomes in zip(rows, outcomes, strict=True):
            for row, outcome in zip(group_rows, group_outcomes, strict=True):
                if isinstance(outcome, RowError):
                    self.errors.append(outcome)
                    self.raw[row] = raw(row) or []
                elif outcome is Outcome.INSERTED:
                    result.inserted += 1
                elif outcome is Outcome.UPDATED:
                    result.updated += 1
                else:
                    result.unchanged += 1


def read_groups(
    table: tabular.Table,
    columns: dict[str, int],
    spec: EntitySpec,
    group_by: str | None,
    errors: list[RowError],
    raw_by_row: dict[int, list[str | None]],
    counter: list[int],
) -> Iterator[list[Record]]:
    """The file's records, grouped; rows that fail to parse go to ``errors`` with their cells.
    ``counter[0]`` counts the rows read (a list so the caller sees it move)."""
    plan = [
        _Cell(spec.by_name[name], index, table.headers[index]) for name, index in columns.items()
    ]
    width = len(table.headers)

    def parsed() -> Iterator[Record | RowError]:
        for row_number, raw in table.rows():
            counter[0] += 1
            item = _parse_row(row_number, raw, plan, width)
            if isinstance(item, RowError):
                raw_by_row[row_number] = raw
            yield item

    key_header = table.headers[columns[group_by]] if group_by in columns else None
    return _groups(parsed(), group_by, errors, raw_by_row, key_header)


def _run_inline(
    session: Session,
    handler: Handler,
    table: tabular.Table,
    columns: dict[str, int],
    tally: _Tally,
    batch_size: int,
    progress: ProgressCallback | None,
) -> int:
    counter = [0]
    errors: list[RowError] = []
    raw_by_row: dict[int, list[str | None]] = {}
    pending: list[list[Record]] = []
    pending_rows = 0
    total = table.total_rows_hint

    def flush() -> None:
        nonlocal pending, pending_rows
        if pending:
            by_row = {r.row: r.raw for g in pending for r in g}
            outcomes = handler.process(session, pending)
            tally.outcomes([[r.row for r in g] for g in pending], outcomes, by_row.get)
        pending, pending_rows = [], 0
        if progress is not None:
            progress(counter[0], total)

    for group in read_groups(
        table, columns, handler.spec, handler.group_by, errors, raw_by_row, counter
    ):
        pending.append(group)
        pending_rows += len(group)
        if not handler.whole_file and pending_rows >= batch_size:
            flush()
    flush()
    tally.parse_errors(errors, raw_by_row)
    return counter[0]


def _write_rejects(
    target: Path, headers: list[str], errors: list[RowError], raw: dict[int, list[str | None]]
) -> None:
    rows: list[list[Any]] = []
    for error in errors:
        cells = list(raw.get(error.row) or [])
        cells += [None] * max(0, len(headers) - len(cells))
        rows.append([error.row, error.column or "", error.reason, *cells])
    tabular.write_csv(target, ["row", "column", "reason", *headers], rows)


def _open_batch(session: Session, actor: Actor, entity: str, path: Path) -> ImportBatch:
    batch = ImportBatch(
        entity=entity,
        file_name=path.name,
        file_sha256=_file_digest(path),
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
        rejected=0,
        actor_name=actor.name,
        actor_id=actor.user_id,
        finished_at=utcnow(),
    )
    session.add(batch)
    session.flush()
    return batch


def _close_batch(session: Session, actor: Actor, batch: ImportBatch, result: ImportResult) -> int:
    batch.rows = result.rows
    batch.inserted = result.inserted
    batch.updated = result.updated
    batch.unchanged = result.unchanged
    batch.rejected = result.rejected
    batch.finished_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "import.completed",
        subject_type="import_batch",
        subject_id=batch.id,
        customer_id=None,
        after={
            "entity": result.entity,
            "file": batch.file_name,
            "sha256": batch.file_sha256,
            "rows": result.rows,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
        },
    )
    return batch.id
