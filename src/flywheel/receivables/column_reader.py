"""Integer columns read through the ADBC drivers, which hand back Arrow columns: no Python
object per value, so a read of millions of rows takes a fraction of the time the database
driver's tuples take (``ledger_columns.read_ledger(committed=True)``).

A reader has a connection of its own, so it sees only what is committed, and reads every
statement in one transaction (one consistent snapshot).

* PostgreSQL: the ADBC driver (libpq, binary COPY into Arrow) in this process.
* SQLite: the ADBC driver carries a SQLite library of its own. Two SQLite libraries in one
  process do not see each other's file locks (POSIX locks belong to the process, and each
  library tracks only its own), so closing one's file can drop the other's locks and
  corrupt the database. The reads therefore run in a child process started for them
  (``python -m flywheel.receivables.column_reader``), an ordinary second client of the
  file; the rows come back through a pipe as raw int64 bytes.

This module imports nothing of Flywheel's, so the child starts quickly.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def _arrays(cursor: Any, sql: str, width: int) -> IntArray:
    cursor.execute(sql)
    table = cursor.fetch_arrow_table()
    if table.num_columns != width:
        raise RuntimeError(f"expected {width} columns, the read gave {table.num_columns}")
    if not table.num_rows:
        return np.empty((0, width), dtype=np.int64)
    if any(column.null_count for column in table.columns):
        raise RuntimeError("a column of an integer read was NULL")
    return np.stack(
        [column.to_numpy().astype(np.int64, copy=False) for column in table.columns], axis=1
    )


class _Reader:
    """Runs integer SQL on an ADBC connection inside one read transaction."""

    def __init__(self, connection: Any, begin: str = "BEGIN") -> None:
        self.connection = connection
        self.cursor = connection.cursor()
        self.cursor.execute(begin)

    def ints(self, sql: str, width: int) -> IntArray:
        return _arrays(self.cursor, sql, width)

    def close(self) -> None:
        try:
            self.cursor.execute("ROLLBACK")
        finally:
            self.cursor.close()
            self.connection.close()


@contextmanager
def postgresql_reader(uri: str) -> Iterator[_Reader]:
    """Integer reads of a PostgreSQL database (a libpq URI) in one snapshot."""
    import adbc_driver_postgresql.dbapi as adbc_postgresql  # type: ignore[import-untyped]

    connection = adbc_postgresql.connect(uri, autocommit=True)
    reader = _Reader(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield reader
    finally:
        reader.close()


def _serve(path: str) -> None:
    """The child (``python -m flywheel.receivables.column_reader PATH``): for each request
    line on stdin (JSON: sql, width) answer ``ok ROWS`` and the rows as native int64 bytes
    (row after row) on stdout, or ``error`` and the reason; stop when stdin closes."""
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    out = sys.stdout.buffer
    # autocommit: the driver's own transaction handling would write to the file; the reader
    # opens a read transaction itself.
    reader = _Reader(adbc_sqlite.connect(path, autocommit=True))
    try:
        out.write(b"ready\n")
        out.flush()
        for line in sys.stdin.buffer:
            request = json.loads(line)
            try:
                rows = reader.ints(request["sql"], int(request["width"]))
            except Exception as exc:  # told to the parent, which raises it
                reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
                out.write(b"error " + reason.encode() + b"\n")
            else:
                rows = np.ascontiguousarray(rows, dtype=np.int64)
                out.write(f"ok {rows.shape[0]}\n".encode())
                if rows.size:
                    out.write(rows.reshape(-1).view(np.uint8).data)
            out.flush()
    finally:
        reader.close()


class _ChildReader:
    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child

    def _line(self) -> str:
        assert self.child.stdout is not None
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError("the SQLite reader process ended unexpectedly")
        return line.decode().rstrip("\n")

    def ints(self, sql: str, width: int) -> IntArray:
        assert self.child.stdin is not None
        assert self.child.stdout is not None
        self.child.stdin.write(json.dumps({"sql": sql, "width": width}).encode() + b"\n")
        self.child.stdin.flush()
        status = self._line()
        if not status.startswith("ok "):
            raise RuntimeError(f"reading the SQLite file failed: {status.removeprefix('error ')}")
        rows: IntArray = np.empty((int(status[3:]), width), dtype=np.int64)
        if not rows.size:
            return rows
        into, done = rows.reshape(-1).view(np.uint8).data, 0
        stdout = cast(io.BufferedReader, self.child.stdout)
        while done < len(into):
            got = stdout.readinto(into[done:])
            if not got:
                raise RuntimeError("the SQLite reader process ended unexpectedly")
            done += got
        return rows


@contextmanager
def sqlite_reader(path: str) -> Iterator[_ChildReader]:
    """Integer reads of a SQLite file, in a child process, in one snapshot."""
    child = subprocess.Popen(
        [sys.executable, "-m", "flywheel.receivables.column_reader", path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        reader = _ChildReader(child)
        ready = reader._line()
        if ready != "ready":
            raise RuntimeError(f"the SQLite reader did not start: {ready}")
        yield reader
    finally:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.close()
        child.stdout.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    _serve(sys.argv[1])
