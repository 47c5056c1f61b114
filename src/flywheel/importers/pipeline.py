"""Large imports on two cores: a reader process parses, groups and prepares each batch (reads
only) while this process writes the previous one in the import's single transaction.

The reader has its own connection and sees the committed database, which is all ``prepare``
needs: the rows this import writes are never looked up again (a key that comes back in the file
is rejected while grouping). Only data crosses between the processes, in the database driver's
form, so that moving it costs little.
"""

from __future__ import annotations

import gc
import json
import pickle
import subprocess
import sys
import traceback
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ImportFailed
from flywheel.importers.runner import (
    Handler,
    ImportContext,
    ProgressCallback,
    Record,
    RowError,
    _Tally,
    read_groups,
    resolve_columns,
)
from flywheel.kit import tabular


def run(
    session: Session,
    handler: Handler,
    tally: _Tally,
    *,
    entity: str,
    path: Path,
    sheet: str | None,
    explicit: dict[str, str],
    today: date,
    batch_size: int,
    progress: ProgressCallback | None,
) -> int:
    """Apply every batch the reader prepares; return the number of rows read."""
    job = {
        "url": session.get_bind().engine.url.render_as_string(hide_password=False),
        "entity": entity,
        "path": str(path),
        "sheet": sheet,
        "explicit": explicit,
        "today": today.isoformat(),
        "batch_size": batch_size,
    }
    # A fresh interpreter, not a fork: this process may hold threads and open connections.
    reader = subprocess.Popen(
        [sys.executable, "-m", "flywheel.importers.pipeline"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert reader.stdin is not None
    assert reader.stdout is not None
    # The job (with the database URL and its password) goes through a pipe, never argv.
    try:
        reader.stdin.write(json.dumps(job).encode("utf-8") + b"\n")
        reader.stdin.close()
    except BrokenPipeError:
        pass  # the reader died at once; reading its output below reports it
    apply = getattr(handler, "apply")  # noqa: B009 (the Handler protocol leaves it optional)
    try:
        while True:
            try:
                kind, rows_read, total, errors, raw, prepared = pickle.load(reader.stdout)
            except EOFError:
                raise ImportFailed("the import's reader process stopped unexpectedly") from None
            if kind == "error":
                raise ImportFailed(f"reading {path.name} failed: {errors}")
            tally.parse_errors(errors, raw)
            if prepared is not None:
                outcomes = apply(session, prepared)
                tally.outcomes(prepared.rows, outcomes, prepared.raw.get)
            if progress is not None:
                progress(rows_read, total)
            if kind == "done":
                return int(rows_read)
    finally:
        reader.stdout.close()
        if reader.poll() is None:
            reader.terminate()
        reader.wait(timeout=30)


def _read(job: dict[str, Any], out: BinaryIO) -> None:
    """The reader process: parse, group and prepare batches; send each to the writer."""
    from flywheel.db import make_engine
    from flywheel.importers.service import HANDLERS

    def send(*message: Any) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        engine = make_engine(job["url"])
        path = Path(job["path"])
        with tabular.open_table(path, sheet=job["sheet"]) as table, Session(engine) as session:
            handler: Any = HANDLERS[job["entity"]](
                ImportContext(
                    actor=Actor.system("import-reader"),
                    today=date.fromisoformat(job["today"]),
                    columns={},
                    expected_rows=table.total_rows_hint,
                )
            )
            columns, _ = resolve_columns(handler.spec, table.headers, job["explicit"])
            handler.ctx.columns = {f: table.headers[i] for f, i in columns.items()}
            total = table.total_rows_hint
            counter = [0]
            errors: list[RowError] = []
            raw: dict[int, list[str | None]] = {}
            pending: list[list[Record]] = []
            pending_rows = 0
            groups = read_groups(
                table, columns, handler.spec, handler.group_by, errors, raw, counter
            )
            for group in groups:
                pending.append(group)
                pending_rows += len(group)
                if pending_rows >= job["batch_size"]:
                    prepared = handler.prepare(session, pending)
                    session.rollback()  # end the read transaction: see what others commit
                    send("batch", counter[0], total, errors, raw, prepared)
                    # The grouping generator holds these two: empty them, do not replace them.
                    errors.clear()
                    raw.clear()
                    pending, pending_rows = [], 0
            prepared = handler.prepare(session, pending) if pending else None
            send("done", counter[0], total, errors, raw, prepared)
        engine.dispose()
    except BaseException:
        send("error", 0, None, traceback.format_exc(limit=5), {}, None)


if __name__ == "__main__":
    gc.disable()  # as in the writer: millions of short-lived objects, no cycles worth chasing
    _read(json.loads(sys.stdin.buffer.readline()), sys.stdout.buffer)
