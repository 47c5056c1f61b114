"""Files uploaded for import and the runs of the importer on them, between the steps of the
import page (and of any API that takes uploads): where each file is kept and who owns it, the
preview of its columns, and each run's live progress and result.

Every upload gets a folder named by an unguessable id under ``Settings.upload_dir``:
``upload.json`` (owner, entity, column mapping), the file under its own name, the importer's
rejects file beside it, and ``run.json``, the state of the latest run, rewritten atomically as
the run advances so that any web process on the machine can report it. Small files are
imported within the request; larger ones in a thread of the process with its own database
session. Folders are removed a day after the upload. The rejects file of a committed import is
also kept for 30 days under the batch's id, for the list of batches and the API.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import openpyxl
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import get_settings
from flywheel.errors import (
    Conflict,
    FileUnreadable,
    FlywheelError,
    ImportFailed,
    ImportRejected,
    NotFound,
)
from flywheel.importers import service
from flywheel.importers.fields import ENTITIES, EntitySpec, FieldSpec
from flywheel.importers.runner import match_columns, parse_map_options, rejects_path
from flywheel.kit import tabular
from flywheel.kit.parse import normalize_header

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
UPLOAD_TTL = timedelta(hours=24)
BATCH_REJECTS_TTL = timedelta(days=30)
PREVIEW_ROWS = 10
# Files of up to this many rows are imported within the request (a few seconds at most);
# larger ones in a background thread whose progress the page polls.
INLINE_ROWS = 2_000
# Rejected rows kept in the run's state for the page; the rejects file has all of them.
STATE_ERRORS = 1_000
_PROGRESS_INTERVAL = 0.5  # seconds between two writes of the live state

_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_META = "upload.json"
_STATE = "run.json"
_BATCHES = "batches"

# A database session for a background run, closed when the block ends.
SessionScope = Callable[[], AbstractContextManager[Session]]


class UploadTooLarge(ImportFailed):
    code = "upload_too_large"


class UploadNotFound(NotFound):
    """Unknown, expired, or another user's upload: the answer does not say which."""

    code = "upload_not_found"


class ImportRunning(Conflict):
    code = "import_running"


# ------------------------------------------------------------------------------- uploads


@dataclass(slots=True)
class Upload:
    id: str
    owner_id: int | None
    owner_name: str
    entity: str
    file_name: str
    size: int
    created_at: datetime
    directory: Path
    mapping: list[str] = field(default_factory=list)  # ``--map`` options: COLUMN=field
    sheet: str | None = None

    @property
    def path(self) -> Path:
        return self.directory / self.file_name

    @property
    def rejects(self) -> Path:
        return rejects_path(self.path)

    @property
    def spec(self) -> EntitySpec:
        return ENTITIES[self.entity]

    def _meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner_id": self.owner_id,
            "owner_name": self.owner_name,
            "entity": self.entity,
            "file_name": self.file_name,
            "size": self.size,
            "created_at": self.created_at.isoformat(),
            "mapping": self.mapping,
            "sheet": self.sheet,
        }

    @classmethod
    def _from_meta(cls, directory: Path, meta: dict[str, Any]) -> Upload:
        return cls(
            id=str(meta["id"]),
            owner_id=meta.get("owner_id"),
            owner_name=str(meta.get("owner_name") or ""),
            entity=str(meta["entity"]),
            file_name=str(meta["file_name"]),
            size=int(meta.get("size") or 0),
            created_at=datetime.fromisoformat(meta["created_at"]),
            directory=directory,
            mapping=[str(m) for m in meta.get("mapping") or []],
            sheet=meta.get("sheet"),
        )


def safe_file_name(name: str | None, default: str = "upload.csv") -> str:
    """The file's own name without any folder (browsers on Windows may send a full path) and
    without characters a file system refuses; kept recognisable, Chinese included."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    if not base:
        return default
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    limit = 150 - len(suffix)
    return (stem[:limit] + ("." + suffix if suffix else "")) if stem else default


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` at once: a reader sees the old state or the new one, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, default=str)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class UploadStore:
    """The uploads folder. Every method takes the acting user where an upload is looked up:
    only the user who uploaded a file can see it, preview it or import it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def default(cls) -> UploadStore:
        configured = get_settings().upload_dir
        return cls(configured or Path(tempfile.gettempdir()) / "flywheel-uploads")

    def _ensure_root(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def create(
        self,
        *,
        owner: Actor,
        entity: str,
        file_name: str | None,
        source: IO[bytes],
        max_bytes: int | None = None,
    ) -> Upload:
        """Keep the uploaded ``source`` (read in chunks, refused past ``max_bytes``) and check
        that it opens as a table; the upload is gone again when either fails."""
        limit = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
        if entity not in ENTITIES:
            raise ImportFailed(f"unknown import {entity!r}; one of: {', '.join(ENTITIES)}")
        self._ensure_root()
        upload_id = secrets.token_urlsafe(24)
        directory = self.root / upload_id
        directory.mkdir(mode=0o700)
        upload = Upload(
            id=upload_id,
            owner_id=owner.user_id,
            owner_name=owner.name,
            entity=entity,
            file_name=safe_file_name(file_name),
            size=0,
            created_at=datetime.now(UTC),
            directory=directory,
        )
        try:
            with upload.path.open("wb") as out:
                while chunk := source.read(1 << 20):
                    upload.size += len(chunk)
                    if upload.size > limit:
                        raise UploadTooLarge(
                            f"the file is larger than {limit // (1024 * 1024)} MB",
                            limit_bytes=limit,
                        )
                    out.write(chunk)
            if upload.size == 0:
                raise ImportFailed(f"{upload.file_name} is empty", file=upload.file_name)
            with _open_table(upload):
                pass
            _write_json(directory / _META, upload._meta())
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return upload

    def _load(self, upload_id: str) -> Upload | None:
        if not _ID.match(upload_id):
            return None
        directory = self.root / upload_id
        meta = _read_json(directory / _META)
        if meta is None or meta.get("id") != upload_id:
            return None
        try:
            return Upload._from_meta(directory, meta)
        except (KeyError, TypeError, ValueError):
            return None

    def get(self, upload_id: str, *, owner: Actor) -> Upload:
        upload = self._load(upload_id)
        if upload is None or owner.user_id is None or upload.owner_id != owner.user_id:
            raise UploadNotFound("no such upload: it may have expired (after 24 hours)")
        return upload

    def save(self, upload: Upload) -> None:
        _write_json(upload.directory / _META, upload._meta())

    def delete(self, upload: Upload) -> None:
        if is_running(upload):
            raise ImportRunning("the file is being imported; wait until the import ends")
        shutil.rmtree(upload.directory, ignore_errors=True)

    def uploads_of(self, owner: Actor) -> list[tuple[Upload, RunState | None]]:
        """The user's uploads still kept, newest first, with their latest run."""
        found = []
        for upload in self._all():
            if owner.user_id is not None and upload.owner_id == owner.user_id:
                found.append((upload, read_state(upload)))
        return sorted(found, key=lambda pair: pair[0].created_at, reverse=True)

    def running_imports(self) -> list[tuple[Upload, RunState]]:
        """Imports (not dry runs) running now, everyone's: the list of batches shows them."""
        found = []
        for upload in self._all():
            state = read_state(upload)
            if state is not None and not state.dry_run and not state.finished:
                found.append((upload, state))
        return found

    def _all(self) -> Iterator[Upload]:
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if entry.is_dir() and _ID.match(entry.name):
                upload = self._load(entry.name)
                if upload is not None:
                    yield upload

    # ------------------------------------------------------------ rejects of imported batches

    def _batch_rejects_path(self, batch_id: int) -> Path:
        return self.root / _BATCHES / f"{int(batch_id)}.rejects.csv"

    def batch_rejects(self, batch_id: int) -> Path | None:
        """The kept rejects file of import batch ``batch_id``, if there is one."""
        path = self._batch_rejects_path(batch_id)
        return path if path.is_file() else None

    def keep_batch_rejects(self, batch_id: int, source: Path | None) -> None:
        """Keep a committed import's rejects file under its batch id, for the list of batches
        and the API, after its upload is gone; ``None`` removes a file a batch id left behind
        when its transaction did not commit."""
        target = self._batch_rejects_path(batch_id)
        if source is None or not source.is_file():
            target.unlink(missing_ok=True)
            return
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    # ---------------------------------------------------------------------- cleaning up

    def clean_up(self, *, now: datetime | None = None) -> int:
        """Remove uploads older than a day (unless being imported right now) and batch rejects
        files older than 30 days; returns how many uploads went. Cheap enough to call on every
        visit of the import page."""
        now = now or datetime.now(UTC)
        if not self.root.is_dir():
            return 0
        removed = 0
        for entry in self.root.iterdir():
            if not entry.is_dir() or not _ID.match(entry.name):
                continue
            upload = self._load(entry.name)
            if upload is None:
                # Half-created (the process died while receiving it): go by the folder's age.
                born = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                if now - born > UPLOAD_TTL:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
                continue
            if now - upload.created_at > UPLOAD_TTL and not is_running(upload):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        batches = self.root / _BATCHES
        if batches.is_dir():
            for kept in batches.iterdir():
                born = datetime.fromtimestamp(kept.stat().st_mtime, UTC)
                if now - born > BATCH_REJECTS_TTL:
                    kept.unlink(missing_ok=True)
        return removed


# ------------------------------------------------------------------------------- preview


@dataclass(slots=True)
class ColumnPreview:
    index: int
    header: str
    field: str | None  # the field the column feeds, None when it is not imported
    recognised: str | None  # the field its name alone would feed
    samples: list[str]

    @property
    def changed(self) -> bool:
        """Mapped by the user to something else than its name says."""
        return self.field != self.recognised

    @property
    def skipped(self) -> bool:
        return self.field is None


@dataclass(slots=True)
class Preview:
    upload: Upload
    spec: EntitySpec
    headers: list[str]
    columns: list[ColumnPreview]
    missing: list[FieldSpec]  # required fields no column feeds
    rows: list[tuple[int, list[str | None]]]
    total_rows_hint: int | None
    encoding: str | None
    delimiter: str | None
    format: str
    sheets: list[str]
    sheet: str | None

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def skipped(self) -> list[ColumnPreview]:
        return [c for c in self.columns if c.skipped and c.header]

    @property
    def field_of_index(self) -> dict[int, str]:
        return {c.index: c.field for c in self.columns if c.field}

    @property
    def unused_fields(self) -> list[FieldSpec]:
        used = {c.field for c in self.columns}
        return [f for f in self.spec.fields if f.name not in used]


def _open_table(upload: Upload) -> tabular.Table:
    try:
        return tabular.open_table(upload.path, sheet=upload.sheet)
    except (OSError, ValueError) as exc:
        raise FileUnreadable(str(exc), file=upload.file_name) from exc


def sheet_names(upload: Upload) -> list[str]:
    if tabular.SUPPORTED_EXTENSIONS.get(upload.path.suffix.lower()) != "xlsx":
        return []
    try:
        workbook = openpyxl.load_workbook(upload.path, read_only=True)
    except Exception:  # opening the table reports an unreadable workbook
        return []
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def preview(upload: Upload, *, rows: int = PREVIEW_ROWS) -> Preview:
    """The file's columns with the field each one feeds (the importer's own matching, with the
    upload's ``--map`` options), the required fields left without a column, the first rows."""
    spec = upload.spec
    with _open_table(upload) as table:
        headers = list(table.headers)
        recognised, _ = match_columns(spec, headers, {})
        columns, _ = match_columns(spec, headers, parse_map_options(upload.mapping))
        first: list[tuple[int, list[str | None]]] = []
        try:
            for numbered in table.rows():
                first.append(numbered)
                if len(first) >= rows:
                    break
        except ValueError as exc:
            raise FileUnreadable(str(exc), file=upload.file_name) from exc
        total = table.total_rows_hint
        encoding, delimiter, kind = table.encoding, table.delimiter, table.format
    field_at = {index: name for name, index in columns.items()}
    recognised_at = {index: name for name, index in recognised.items()}
    previews = []
    for index, header in enumerate(headers):
        samples = [
            str(values[index]) for _, values in first if index < len(values) and values[index]
        ]
        previews.append(
            ColumnPreview(
                index=index,
                header=header,
                field=field_at.get(index),
                recognised=recognised_at.get(index),
                samples=samples[:3],
            )
        )
    return Preview(
        upload=upload,
        spec=spec,
        headers=headers,
        columns=previews,
        missing=[f for f in spec.fields if f.required and f.name not in columns],
        rows=first,
        total_rows_hint=total,
        encoding=encoding,
        delimiter=delimiter,
        format=kind,
        sheets=sheet_names(upload),
        sheet=upload.sheet,
    )


class MappingConflict(ImportFailed):
    """Two columns chosen for one field."""

    code = "mapping_conflict"


def mapping_from_choices(
    spec: EntitySpec,
    headers: list[str],
    choices: dict[int, str],
    *,
    changed: int | None = None,
) -> list[str]:
    """The ``--map`` options that make the importer read the file as chosen: ``choices`` gives
    a field name (or "" for "not imported") per column index. When two columns name one field
    and one of them is ``changed`` (the select the user just moved), that one keeps the field
    and the other goes back to what its name says, or to nothing; otherwise it is an error
    naming the field. Only columns that differ from what their names say are written, unless
    that would read the file differently from the choices: then every chosen column is."""
    valid = {index: name for index, name in choices.items() if 0 <= index < len(headers)}
    for name in valid.values():
        if name and name not in spec.by_name:
            raise MappingConflict(f"unknown field {name!r}", field=name)
    by_field: dict[str, list[int]] = {}
    for index, name in sorted(valid.items()):
        if name:
            by_field.setdefault(name, []).append(index)
    for name, indexes in by_field.items():
        if len(indexes) < 2:
            continue
        if changed in indexes:
            for index in indexes:
                if index != changed:
                    del valid[index]
            continue
        raise MappingConflict(
            f"{name} is chosen for more than one column: "
            + ", ".join(headers[i] or f"#{i + 1}" for i in indexes),
            field=name,
            columns=[headers[i] for i in indexes],
        )
    recognised, _ = match_columns(spec, headers, {})
    recognised_at = {index: name for name, index in recognised.items()}

    def options(indexes: list[int]) -> list[str]:
        return [f"{headers[i]}={valid[i]}" for i in indexes]

    def reads(mapping: list[str]) -> bool:
        columns, _ = match_columns(spec, headers, parse_map_options(mapping))
        at = {index: name for name, index in columns.items()}
        return all((at.get(i) or "") == name for i, name in valid.items())

    differing = [i for i in sorted(valid) if valid[i] != (recognised_at.get(i) or "")]
    _check_distinct_keys(headers, [i for i in sorted(valid) if headers[i]])
    mapping = options([i for i in differing if headers[i]])
    if not reads(mapping):
        mapping = options([i for i in sorted(valid) if headers[i]])
    return mapping


def _check_distinct_keys(headers: list[str], indexes: list[int]) -> None:
    seen: dict[str, int] = {}
    for index in indexes:
        key = normalize_header(headers[index])
        if key in seen:
            raise MappingConflict(
                f"the columns {headers[seen[key]]!r} and {headers[index]!r} have names that "
                "cannot be told apart; rename one of them in the file",
                columns=[headers[seen[key]], headers[index]],
            )
        seen[key] = index


# ---------------------------------------------------------------------------------- runs

RUNNING_PHASES = ("queued", "importing", "saving")


@dataclass(slots=True)
class RunState:
    """One run of the importer on an upload, as ``run.json`` keeps it."""

    dry_run: bool
    strict: bool
    phase: str  # queued, importing, saving, finished, failed
    started_at: str
    updated_at: str
    pid: int
    actor_name: str = ""
    rows_done: int = 0
    rows_total: int | None = None
    finished_at: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.phase not in RUNNING_PHASES

    @property
    def failed(self) -> bool:
        return self.phase == "failed"

    @property
    def committed(self) -> bool:
        return bool(self.result and self.result.get("committed"))

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.rows_total:
            return 0
        return max(0, min(99, int(self.rows_done * 100 / self.rows_total)))

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    @property
    def ended(self) -> datetime | None:
        return datetime.fromisoformat(self.finished_at) if self.finished_at else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now_text() -> str:
    return datetime.now(UTC).isoformat()


def write_state(upload: Upload, state: RunState) -> None:
    state.updated_at = _now_text()
    _write_json(upload.directory / _STATE, state.to_dict())


# Runs going on in this process: upload id -> the thread doing it.
_active: dict[str, threading.Thread] = {}
_active_lock = threading.RLock()


def _alive(state: RunState, upload: Upload) -> bool:
    if state.pid == os.getpid():
        with _active_lock:
            thread = _active.get(upload.id)
        return thread is not None and thread.is_alive()
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(upload: Upload) -> RunState | None:
    """The latest run of ``upload``; a run whose process is gone is reported as failed."""
    data = _read_json(upload.directory / _STATE)
    if data is None:
        return None
    try:
        state = RunState(**data)
    except TypeError:
        return None
    if not state.finished and not _alive(state, upload):
        saving = state.phase == "saving"
        state.phase = "failed"
        state.error = {
            "code": "interrupted_while_saving" if saving else "interrupted",
            "message": (
                "the server stopped while saving the import; see the list of imports "
                "whether it was saved"
                if saving
                else "the server stopped during the run; nothing was written"
            ),
        }
    return state


def is_running(upload: Upload) -> bool:
    state = read_state(upload)
    return state is not None and not state.finished


def forget_run(upload: Upload) -> None:
    """Drop the latest run's state when it no longer says anything about the upload as it now
    is (after its mapping changed): a dry run or a failure. A committed import stays shown."""
    state = read_state(upload)
    if state is not None and state.finished and not state.committed:
        (upload.directory / _STATE).unlink(missing_ok=True)


def estimated_rows(upload: Upload) -> int | None:
    with _open_table(upload) as table:
        return table.total_rows_hint


def _result_dict(upload: Upload, report: dict[str, Any], *, committed: bool) -> dict[str, Any]:
    """The importer's report without the server's paths, for the page and the state file."""
    kept = {
        key: report.get(key)
        for key in (
            "entity",
            "encoding",
            "rows",
            "inserted",
            "updated",
            "unchanged",
            "rejected",
            "dry_run",
            "strict",
            "seconds",
            "columns",
            "ignored_columns",
            "users_created",
            "errors",
            "batch_id",
        )
    }
    kept["file"] = upload.file_name
    kept["committed"] = committed
    kept["has_rejects"] = bool(report.get("rejected")) and upload.rejects.is_file()
    return kept


class _Reporter:
    """The importer's progress hook (the CLI's progress bar) writing the live state."""

    def __init__(self, upload: Upload, state: RunState) -> None:
        self.upload, self.state = upload, state
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        self.state.rows_done = done
        self.state.rows_total = total if total is not None else self.state.rows_total
        now = time.monotonic()
        if now - self.last >= _PROGRESS_INTERVAL:
            self.last = now
            write_state(self.upload, self.state)


def _new_state(
    *, actor: Actor, dry_run: bool, strict: bool, rows_total: int | None = None
) -> RunState:
    now = _now_text()
    return RunState(
        dry_run=dry_run,
        strict=strict,
        phase="queued",
        started_at=now,
        updated_at=now,
        pid=os.getpid(),
        actor_name=actor.name,
        rows_total=rows_total,
    )


def _claim(upload: Upload, state: RunState, thread: threading.Thread) -> None:
    with _active_lock:
        if is_running(upload):
            raise ImportRunning("this file is being imported already; wait until it ends")
        _active[upload.id] = thread
        write_state(upload, state)


def _release(upload: Upload, thread: threading.Thread) -> None:
    with _active_lock:
        if _active.get(upload.id) is thread:
            del _active[upload.id]


def run_upload(
    session: Session,
    store: UploadStore,
    upload: Upload,
    *,
    actor: Actor,
    today: date,
    dry_run: bool,
    strict: bool = False,
) -> RunState:
    """Import ``upload`` in ``session`` now and end its transaction: commit, or roll back for a
    dry run, a ``strict`` run with rejected rows, or an error. The state (and, for a committed
    import with rejected rows, the batch's rejects file) is kept in the store; the returned
    state says how it ended. The run works in a savepoint, so that undoing it leaves the
    session's other work alone."""
    state = _new_state(actor=actor, dry_run=dry_run, strict=strict)
    _claim(upload, state, threading.current_thread())
    try:
        _run(session, store, upload, state, actor=actor, today=today)
    finally:
        _release(upload, threading.current_thread())
    return state


def _run(
    session: Session,
    store: UploadStore,
    upload: Upload,
    state: RunState,
    *,
    actor: Actor,
    today: date,
) -> None:
    state.phase = "importing"
    write_state(upload, state)
    savepoint = session.begin_nested()

    def undo() -> None:
        if savepoint.is_active:
            savepoint.rollback()

    try:
        result = service.import_file(
            session,
            entity=upload.entity,
            path=upload.path,
            actor=actor,
            today=today,
            mapping=upload.mapping,
            strict=state.strict,
            dry_run=state.dry_run,
            progress=_Reporter(upload, state),
            sheet=upload.sheet,
        )
        if state.dry_run:
            undo()
        else:
            state.phase = "saving"
            write_state(upload, state)
            savepoint.commit()
            session.commit()
    except ImportRejected as exc:
        undo()
        report = dict(exc.details.get("result") or {})
        state.result = _result_dict(upload, report, committed=False)
        state.phase = "finished"
    except FlywheelError as exc:
        undo()
        state.phase = "failed"
        state.error = {"code": exc.code, "message": exc.message}
    except Exception:
        logger.exception("import of upload %s (%s) failed", upload.id, upload.entity)
        undo()
        if not session.is_active:  # a failed flush or commit leaves the session to roll back
            session.rollback()
        state.phase = "failed"
        state.error = {
            "code": "internal_error",
            "message": "an unexpected error stopped the import; nothing was written",
        }
    else:
        report = result.to_dict(max_errors=STATE_ERRORS)
        state.result = _result_dict(upload, report, committed=not state.dry_run)
        state.rows_done = result.rows
        state.rows_total = result.rows
        state.phase = "finished"
        if state.dry_run:
            state.result["batch_id"] = None  # its batch was undone with the rest
        elif result.batch_id is not None:
            store.keep_batch_rejects(result.batch_id, upload.rejects if result.rejected else None)
    state.finished_at = _now_text()
    write_state(upload, state)


def start_upload_run(
    store: UploadStore,
    upload: Upload,
    *,
    actor: Actor,
    today: date,
    dry_run: bool,
    strict: bool = False,
    sessions: SessionScope,
) -> RunState:
    """Run the import of ``upload`` in a background thread with its own session from
    ``sessions``; the returned state is the queued run, ``read_state`` follows it."""
    state = _new_state(
        actor=actor, dry_run=dry_run, strict=strict, rows_total=estimated_rows(upload)
    )

    def work() -> None:
        try:
            with sessions() as session:
                _run(session, store, upload, state, actor=actor, today=today)
        except Exception:
            logger.exception("background import of upload %s failed", upload.id)
            if not state.finished:
                state.phase = "failed"
                state.error = {"code": "internal_error", "message": "the import stopped"}
                state.finished_at = _now_text()
                write_state(upload, state)
        finally:
            _release(upload, thread)

    thread = threading.Thread(target=work, name=f"import-{upload.id[:8]}", daemon=True)
    _claim(upload, state, thread)
    thread.start()
    return state


def run_or_start(
    session: Session,
    store: UploadStore,
    upload: Upload,
    *,
    actor: Actor,
    today: date,
    dry_run: bool,
    strict: bool = False,
    sessions: SessionScope,
    inline_rows: int | None = None,
) -> RunState:
    """A file of up to ``inline_rows`` rows is imported at once in ``session``
    (``run_upload``); a larger one in the background (``start_upload_run``)."""
    limit = INLINE_ROWS if inline_rows is None else inline_rows
    rows = estimated_rows(upload)
    if rows is not None and rows <= limit:
        return run_upload(
            session, store, upload, actor=actor, today=today, dry_run=dry_run, strict=strict
        )
    return start_upload_run(
        store, upload, actor=actor, today=today, dry_run=dry_run, strict=strict, sessions=sessions
    )


def wait_for(upload: Upload, timeout: float = 60.0) -> None:
    """Until the background run of ``upload`` in this process has ended (for tests and
    scripts that start a run and want its end)."""
    with _active_lock:
        thread = _active.get(upload.id)
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)
