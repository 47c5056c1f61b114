"""Bulk writing of a generated demo company: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy import Table as SqlTable

from flywheel import models
from flywheel.demo.generator import ProgressFn
from flywheel.demo.tables import (
    Bools,
    Cents,
    Codes,
    Column,
    Dates,
    DemoCompany,
    Floats,
    Ints,
    Stamps,
    Table,
    Texts,
)
from flywheel.errors import Conflict

_SQLITE_CHUNK = 50_000
_POSTGRES_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class AuditNote:
    """The ``demo.generated`` audit event written in the same transaction as the rows."""

    occurred_at: datetime
    after: dict[str, Any]


def has_customers(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(text("SELECT 1 FROM customers LIMIT 1")).first() is not None


def refuse_existing() -> Conflict:
    return Conflict(
        "the database already holds customers; run `flywheel demo --replace` to delete them "
        "and every ledger row first",
        hint="--replace",
    )


def write_company(
    engine: Engine,
    company: DemoCompany,
    *,
    replace: bool,
    audit: AuditNote,
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """Write every table in one transaction; return the rows written per table."""
    report = progress or _silent
    backend: _Backend = _Sqlite() if engine.dialect.name == "sqlite" else _Postgres()
    raw = engine.raw_connection()
    try:
        backend.before(raw)
        try:
            cursor = raw.cursor()
            backend.lock(cursor)
            cursor.execute("SELECT 1 FROM customers LIMIT 1")
            if cursor.fetchone() is not None:
                if not replace:
                    raise refuse_existing()
                _delete_demo_rows(cursor, report)
            tables = _merge_users(cursor, company)
            backend.prepare(raw, [t.name for t in tables])
            counts: dict[str, int] = {}
            for table in tables:
                backend.write(raw, table, report)
                counts[table.name] = len(table)
            backend.finish(raw, [t.name for t in tables], report)
            _write_audit(cursor, backend.placeholder, audit)
            cursor.close()
            report("commit", 0, 1)
            raw.commit()
            report("commit", 1, 1)
        except BaseException:
            raw.rollback()
            raise
        finally:
            backend.after(raw)
    finally:
        raw.close()
    return counts


def append_tables(
    engine: Engine, tables: list[Table], *, progress: ProgressFn | None = None
) -> dict[str, int]:
    """Write more generated tables (rows that need the company in place) in one transaction."""
    report = progress or _silent
    backend: _Backend = _Sqlite() if engine.dialect.name == "sqlite" else _Postgres()
    raw = engine.raw_connection()
    try:
        backend.before(raw)
        try:
            backend.prepare(raw, [t.name for t in tables])
            for table in tables:
                backend.write(raw, table, report)
            backend.finish(raw, [t.name for t in tables], report)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            backend.after(raw)
    finally:
        raw.close()
    return {table.name: len(table) for table in tables}


def _silent(stage: str, done: int, total: int) -> None:
    """Progress sink when nobody watches."""


def _dependent_tables() -> tuple[list[SqlTable], list[tuple[SqlTable, list[str]]]]:
    """Tables whose rows cannot outlive the customers: all of them, or the rows that point there.

    Found from the models' foreign keys, so tables added by later domains are included.
    """
    metadata = models.Base.metadata
    doomed = {"customers"}
    partial: dict[str, list[str]] = {}
    changed = True
    while changed:
        changed = False
        for table in metadata.sorted_tables:
            if table.name in doomed:
                continue
            links = [fk for fk in table.foreign_keys if fk.column.table.name in doomed]
            if not links:
                continue
            columns = sorted({fk.parent.name for fk in links})
            if all(fk.parent.nullable for fk in links):
                if partial.get(table.name) != columns:
                    partial[table.name] = columns
                    changed = True
            else:
                doomed.add(table.name)
                partial.pop(table.name, None)
                changed = True
    full = [t for t in reversed(metadata.sorted_tables) if t.name in doomed]
    return full, [(metadata.tables[name], cols) for name, cols in partial.items()]


def _delete_demo_rows(cursor: Any, report: ProgressFn) -> None:
    full, partial = _dependent_tables()
    steps = len(full) + len(partial)
    report("delete old rows", 0, steps)
    done = 0
    for table, columns in partial:
        condition = " OR ".join(f"{column} IS NOT NULL" for column in columns)
        cursor.execute(f"DELETE FROM {table.name} WHERE {condition}")
        done += 1
        report("delete old rows", done, steps)
    # Self-references first, so that deleting customers never waits on a scan per row.
    cursor.execute("UPDATE customers SET parent_id = NULL, referred_by_id = NULL")
    for table in full:
        cursor.execute(f"DELETE FROM {table.name}")
        done += 1
        report("delete old rows", done, steps)


def _merge_users(cursor: Any, company: DemoCompany) -> list[Table]:
    """Keep users who already exist (matched by username) and give new ones the next ids."""
    cursor.execute("SELECT id, username FROM users")
    existing = {str(username): int(user_id) for user_id, username in cursor.fetchall()}
    tables = list(company.tables.values())
    users = company.tables["users"]
    usernames = _column(users, "username")
    assert isinstance(usernames, Texts)
    generated_ids = _ints(users, "id")
    next_id = max(existing.values(), default=0) + 1
    mapping = np.zeros(int(generated_ids.max()) + 1, dtype=np.int64)
    keep = np.zeros(len(users), dtype=bool)
    for row, username in enumerate(usernames.values.tolist()):
        if username in existing:
            mapping[generated_ids[row]] = existing[username]
        else:
            mapping[generated_ids[row]] = next_id
            next_id += 1
            keep[row] = True
    if not existing:
        return tables
    result: list[Table] = []
    for table in tables:
        if table.name == "users":
            columns = {name: _take(col, keep) for name, col in table}
            columns["id"] = Ints(mapping[generated_ids[keep]])
            result.append(Table("users", columns))
            continue
        columns = dict(table.columns)
        for name in ("owner_id", "user_id"):
            column = columns.get(name)
            if isinstance(column, Ints) and table.name in ("customers", "touchpoints"):
                values = column.values
                mapped = np.where(values > 0, mapping[np.maximum(values, 0)], values)
                columns[name] = Ints(mapped.astype(np.int64), nullable=column.nullable)
        result.append(Table(table.name, columns))
    return result


def _column(table: Table, name: str) -> Column:
    return table.columns[name]


def _ints(table: Table, name: str) -> np.typing.NDArray[np.int64]:
    column = table.columns[name]
    assert isinstance(column, Ints)
    return column.values


def _take(column: Column, rows: np.typing.NDArray[np.bool_]) -> Column:
    if isinstance(column, Codes):
        return Codes(column.prefix, column.width, column.numbers[rows])
    if isinstance(column, Ints):
        return Ints(column.values[rows], nullable=column.nullable)
    if isinstance(column, Cents):
        return Cents(column.values[rows])
    if isinstance(column, Dates):
        return Dates(column.values[rows])
    if isinstance(column, Stamps):
        return Stamps(column.values[rows])
    if isinstance(column, Floats):
        return Floats(column.values[rows])
    if isinstance(column, Bools):
        return Bools(column.values[rows])
    return Texts(column.values[rows])


def _write_audit(cursor: Any, placeholder: str, audit: AuditNote) -> None:
    marks = ", ".join([placeholder] * 6)
    cast = "::json" if placeholder == "%s" else ""
    occurred = audit.occurred_at.astimezone(UTC)
    stamp: Any = occurred.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if placeholder == "%s":
        stamp = occurred
    cursor.execute(
        "INSERT INTO audit_events (occurred_at, actor_name, action, subject_type, before, after) "
        f"VALUES ({marks}{cast})",
        (stamp, "demo", "demo.generated", "demo", None, json.dumps(audit.after)),
    )


# --- value conversion -------------------------------------------------------------------


def _stamp_strings(values: np.typing.NDArray[np.datetime64]) -> np.typing.NDArray[Any]:
    """``YYYY-MM-DD HH:MM:SS.ffffff``: SQLAlchemy's storage format for DateTime on SQLite."""
    text = np.datetime_as_string(values.astype("datetime64[us]"), unit="us")
    codes = text.view(np.uint32).reshape(len(text), -1)
    codes[:, 10] = ord(" ")
    return text


def _with_nulls(values: list[Any], nulls: np.typing.NDArray[np.bool_]) -> list[Any]:
    for row in np.flatnonzero(nulls).tolist():
        values[row] = None
    return values


def _cents_text(cents: np.typing.NDArray[np.int64]) -> list[str]:
    """Exact decimal text of cent amounts (no float on the way)."""
    sign = np.where(cents < 0, "-", "")
    units, fraction = np.divmod(np.abs(cents), 100)
    whole = np.strings.add(
        sign.astype(np.dtypes.StringDType()), units.astype(np.dtypes.StringDType())
    )
    text = np.strings.add(
        np.strings.add(whole, "."), np.strings.zfill(fraction.astype(np.dtypes.StringDType()), 2)
    )
    result: list[str] = text.tolist()
    return result


def _sqlite_values(column: Column, start: int, stop: int) -> list[Any]:
    if isinstance(column, Codes):
        return column.format(start, stop)
    if isinstance(column, Ints):
        ints = column.values[start:stop]
        if column.nullable:
            return _with_nulls(ints.tolist(), ints < 0)
        return list(ints.tolist())
    if isinstance(column, Bools):
        return list(column.values[start:stop].astype(np.int64).tolist())
    if isinstance(column, Dates):
        days = column.values[start:stop]
        return _with_nulls(np.datetime_as_string(days, unit="D").tolist(), np.isnat(days))
    if isinstance(column, Stamps):
        stamps = column.values[start:stop]
        return _with_nulls(_stamp_strings(stamps).tolist(), np.isnat(stamps))
    # Cents (SQLite stores money as integer cents), floats and texts go as they are.
    return list(column.values[start:stop].tolist())


def _postgres_values(column: Column, start: int, stop: int) -> list[Any]:
    if isinstance(column, Cents):
        return _cents_text(column.values[start:stop])
    if isinstance(column, Bools):
        return list(column.values[start:stop].tolist())
    if isinstance(column, Stamps):
        stamps = column.values[start:stop]
        text = np.strings.add(_stamp_strings(stamps).astype(np.dtypes.StringDType()), "+00")
        return _with_nulls(text.tolist(), np.isnat(stamps))
    return _sqlite_values(column, start, stop)


def _rows(
    table: Table, chunk: int, convert: Callable[[Column, int, int], list[Any]]
) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    total = len(table)
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        columns = [convert(column, start, stop) for _, column in table]
        yield stop, list(zip(*columns, strict=True))


# --- backends ---------------------------------------------------------------------------


class _Backend(ABC):
    placeholder = "?"

    def before(self, raw: Any) -> None:  # noqa: B027 (optional hook)
        """Connection settings that must be made outside a transaction."""

    def lock(self, cursor: Any) -> None:  # noqa: B027 (optional hook)
        """Keep a second demo build (or an import) out until this one commits."""

    def prepare(self, raw: Any, tables: list[str]) -> None:  # noqa: B027 (optional hook)
        """Work inside the transaction before the first row is written."""

    @abstractmethod
    def write(self, raw: Any, table: Table, report: ProgressFn) -> None:
        """Write every row of ``table``; each backend has its fastest way."""

    def finish(self, raw: Any, tables: list[str], report: ProgressFn) -> None:  # noqa: B027 (optional hook)
        """Work inside the transaction after the last row is written."""

    def after(self, raw: Any) -> None:  # noqa: B027 (optional hook)
        """Undo ``before``."""


class _Sqlite(_Backend):
    """executemany in large chunks; secondary indexes are rebuilt once at the end."""

    def __init__(self) -> None:
        self._indexes: list[str] = []

    def before(self, raw: Any) -> None:
        connection = raw.driver_connection
        if connection.in_transaction:
            connection.commit()
        # The generator guarantees the references; checking 10M rows one by one would
        # double the time. Turned back on in ``after``.
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute("PRAGMA temp_store=MEMORY")
        connection.execute("BEGIN IMMEDIATE")

    def prepare(self, raw: Any, tables: list[str]) -> None:
        connection = raw.driver_connection
        marks = ", ".join("?" for _ in tables)
        found = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            tables,
        ).fetchall()
        for name, sql in found:
            connection.execute(f'DROP INDEX "{name}"')
            self._indexes.append(sql)

    def write(self, raw: Any, table: Table, report: ProgressFn) -> None:
        connection = raw.driver_connection
        names = list(table.columns)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        stage = f"write {table.name}"
        report(stage, 0, len(table))
        for done, rows in _rows(table, _SQLITE_CHUNK, _sqlite_values):
            connection.executemany(sql, rows)
            report(stage, done, len(table))

    def finish(self, raw: Any, tables: list[str], report: ProgressFn) -> None:
        connection = raw.driver_connection
        report("build indexes", 0, len(self._indexes))
        for done, sql in enumerate(self._indexes, start=1):
            connection.execute(sql)
            report("build indexes", done, len(self._indexes))

    def after(self, raw: Any) -> None:
        connection = raw.driver_connection
        if connection.in_transaction:
            connection.rollback()
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA cache_size=-2000")
        # Give the disk back: the write-ahead log grew as large as everything written.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class _Postgres(_Backend):
    """COPY … FROM STDIN with foreign keys and secondary indexes set aside until the end.

    Checked row by row, the foreign keys would cost more than the copy itself; re-adding them
    validates every reference in one pass. Then each id sequence moves past the explicit ids.
    """

    placeholder = "%s"

    def __init__(self) -> None:
        self._foreign_keys: list[tuple[str, str, str]] = []
        self._indexes: list[tuple[str, str]] = []

    def lock(self, cursor: Any) -> None:
        cursor.execute("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE")

    def prepare(self, raw: Any, tables: list[str]) -> None:
        connection = raw.driver_connection
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'f' "
                "AND c.conrelid::regclass::text = ANY(%s)",
                (tables,),
            )
            self._foreign_keys = [(t, name, sql) for t, name, sql in cursor.fetchall()]
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                (tables,),
            )
            self._indexes = [(name, sql) for name, sql in cursor.fetchall()]
            for table, name, _ in self._foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in self._indexes:
                cursor.execute(f'DROP INDEX "{name}"')

    def write(self, raw: Any, table: Table, report: ProgressFn) -> None:
        connection = raw.driver_connection
        names = list(table.columns)
        stage = f"write {table.name}"
        report(stage, 0, len(table))
        with connection.cursor() as cursor:
            statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for done, rows in _rows(table, _POSTGRES_CHUNK, _postgres_values):
                    for row in rows:
                        copy.write_row(row)
                    report(stage, done, len(table))

    def finish(self, raw: Any, tables: list[str], report: ProgressFn) -> None:
        connection = raw.driver_connection
        steps = len(self._indexes) + len(self._foreign_keys)
        report("build indexes", 0, steps)
        with connection.cursor() as cursor:
            for done, (_, sql) in enumerate(self._indexes, start=1):
                cursor.execute(sql)
                report("build indexes", done, steps)
            for done, (table, name, sql) in enumerate(self._foreign_keys, len(self._indexes) + 1):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}')
                report("build indexes", done, steps)
            for name in tables:
                if "id" not in models.Base.metadata.tables[name].c:
                    continue
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", (name,))
                found = cursor.fetchone()
                if found is None or found[0] is None:
                    continue
                cursor.execute(
                    f"SELECT setval(%s, COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)",
                    (found[0],),
                )
