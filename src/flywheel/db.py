"""Engine, session factory and the unit of work used by the CLI and jobs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from flywheel.config import get_settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the pragmas and pool settings Flywheel relies on."""
    if is_sqlite(url):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when a transaction begins: pysqlite's
            # implicit BEGIN breaks SAVEPOINTs and delays locks until the first write.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # A 64 MiB page cache keeps the indexes of million-row imports in memory.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
            connection.exec_driver_sql(f"BEGIN {mode}".rstrip())

        return engine
    # Up to 16 connections stay open per process, so a web worker under a few dozen concurrent
    # requests reuses them instead of opening and closing one per request; 16 more may open
    # for a burst. (Two workers hold at most 64 of PostgreSQL's default 100.)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=16, max_overflow=16)


SQLITE_BEGIN = "flywheel_sqlite_begin"


def for_writing(engine: Engine) -> Engine:
    """``engine`` for transactions that will write. On SQLite their BEGIN takes the write lock
    at once (BEGIN IMMEDIATE, waiting up to the busy timeout for another writer): a deferred
    transaction that read first fails at its first write, without waiting, when another
    connection committed in between (the outbox worker commits once per message)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    settings = get_settings()
    return make_engine(url or settings.database_url, echo=settings.echo_sql)


def session_factory(engine: Engine | None = None, *, writes: bool = False) -> sessionmaker[Session]:
    bind = engine or get_engine()
    return sessionmaker(bind=for_writing(bind) if writes else bind, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction (of a command or a job, which write): commit when the block ends
    normally, roll back on any error."""
    session = session_factory(engine, writes=True)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None) -> Any:
    """The Alembic config for the migrations shipped in the package."""
    from pathlib import Path

    from alembic.config import Config

    here = Path(__file__).resolve().parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    if url:
        cfg.attributes["url"] = url
    return cfg


def upgrade_database(engine: Engine | None = None) -> None:
    """Create or upgrade the schema to the newest migration (``flywheel init``)."""
    from alembic import command

    engine = engine or get_engine()
    with engine.begin() as connection:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def schema_revision(engine: Engine | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = engine or get_engine()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` new primary keys for a bulk insert with explicit ids.

    PostgreSQL draws them from the table's sequence (safe with concurrent writers). SQLite has
    one writer at a time: once this transaction has written, max(id) cannot move under it, so
    the caller must have written something in the transaction before calling this.
    """
    from sqlalchemy import text

    if count <= 0:
        return []
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": count},
        )
        return [int(r[0]) for r in rows]
    start = int(session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one())
    return list(range(start + 1, start + count + 1))


def _convert_column(values: list[Any], process: Any) -> list[Any]:
    """Bind-process one column. Constant columns (zero amounts, a status, a timestamp) are
    converted once; columns of few distinct values (dates) once per value."""
    if not values:
        return values
    first = values[0]
    if values.count(first) == len(values):
        return [None if first is None else process(first)] * len(values)
    try:
        distinct = set(values)
    except TypeError:  # JSON documents (lists, dicts) are not hashable: each is its own
        return [None if v is None else process(v) for v in values]
    if len(distinct) * 4 < len(values):
        table = {v: (None if v is None else process(v)) for v in distinct}
        return [table[v] for v in values]
    return [None if v is None else process(v) for v in values]


def storage_converters(session: Session, table: Any, columns: Sequence[str]) -> list[Any]:
    """The bind processors of ``columns`` on this session's database (None: stored as given)."""
    dialect = session.get_bind().dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


def to_storage(values: list[Any], process: Any, memo: dict[Any, Any] | None = None) -> list[Any]:
    """One column of values in the form the database driver takes. A ``memo`` kept by the
    caller across batches converts each repeated value (a date, say) only once."""
    if process is None:
        return values
    if memo is None:
        return _convert_column(values, process)
    get = memo.get
    stored = [get(value, _MISSING) for value in values]
    for position, found in enumerate(stored):
        if found is _MISSING:
            value = values[position]
            found = stored[position] = None if value is None else process(value)
            if len(memo) < 100_000:
                memo[value] = found
    return stored


_MISSING = object()


def _stored(processors: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """The rows with each column converted by its bind processor (None: as given)."""
    data: list[list[Any]] = [list(col) for col in zip(*rows, strict=True)]
    for index, process in enumerate(processors):
        if process is not None:
            data[index] = _convert_column(data[index], process)
    return list(zip(*data, strict=True))


def bulk_insert(
    session: Session,
    table: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    converted: bool = False,
) -> None:
    """Insert many rows with one DBAPI executemany (COPY on PostgreSQL), converting each value
    with the column type's own bind processor (Money to cents on SQLite, dates to text …) but
    without the per-row statement machinery, which costs more than the database itself for
    millions of rows. With ``converted`` the rows already hold driver values (``to_storage``).
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    stored = list(rows) if converted else _stored(processors, rows)
    if dialect.name == "postgresql":
        # COPY is several times faster than any INSERT on PostgreSQL.
        driver = connection.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in stored:
                copy.write_row(row)
        return
    connection.exec_driver_sql(statement, stored)


def bulk_update(
    session: Session,
    table: Any,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Set ``columns`` of many rows, each found by its ``key`` (the row's first value, then
    one value per column), converting values as ``bulk_insert`` does. SQLite: one
    executemany of the UPDATE. PostgreSQL: the rows are copied into a temporary table and
    applied by one UPDATE … FROM, instead of a round trip per row."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = [key, *columns]
    stored = _stored(
        [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names], rows
    )
    if dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        staging = f"_bulk_{table.name}"
        with driver.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {staging}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
                f"SELECT {', '.join(names)} FROM {table.name} WITH NO DATA"
            )
            with cursor.copy(f"COPY {staging} ({', '.join(names)}) FROM STDIN") as copy:
                for row in stored:
                    copy.write_row(row)
            assignments = ", ".join(f"{name} = s.{name}" for name in columns)
            cursor.execute(
                f"UPDATE {table.name} AS t SET {assignments} FROM {staging} AS s "
                f"WHERE t.{key} = s.{key}"
            )
        return
    assignments = ", ".join(f"{name} = ?" for name in columns)
    connection.exec_driver_sql(
        f"UPDATE {table.name} SET {assignments} WHERE {key} = ?",
        [(*row[1:], row[0]) for row in stored],
    )


def defer_indexes(session: Session, tables: Sequence[Any]) -> list[Any]:
    """Drop the non-unique indexes of ``tables`` inside the current transaction (SQLite bulk
    loads); give the result to :func:`restore_indexes` before the transaction ends."""
    from sqlalchemy.schema import DropIndex

    dropped = [index for table in tables for index in table.indexes if not index.unique]
    connection = session.connection()
    for index in dropped:
        connection.execute(DropIndex(index))
    return dropped


def restore_indexes(session: Session, indexes: Sequence[Any]) -> None:
    from sqlalchemy.schema import CreateIndex

    connection = session.connection()
    for index in indexes:
        connection.execute(CreateIndex(index))
