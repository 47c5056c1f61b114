"""Entry to the importers: which handler reads which entity, one call to import a file, uploads
from the API and the pages, and the batches imported so far."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import get_settings
from flywheel.errors import FlywheelError, ImportFailed, NotFound
from flywheel.importers.accounts import (
    ContactsHandler,
    CustomersHandler,
    OrdersHandler,
    TouchpointsHandler,
)
from flywheel.importers.invoices import InvoicesHandler
from flywheel.importers.ledger import CreditNotesHandler, PaymentsHandler
from flywheel.importers.runner import (
    Handler,
    ImportContext,
    ImportResult,
    ProgressCallback,
    run_import,
)
from flywheel.models.importers import ImportBatch

HANDLERS: dict[str, Callable[[ImportContext], Handler]] = {
    "customers": CustomersHandler,
    "contacts": ContactsHandler,
    "orders": OrdersHandler,
    "invoices": InvoicesHandler,
    "payments": PaymentsHandler,
    "credit-notes": CreditNotesHandler,
    "touchpoints": TouchpointsHandler,
}


def import_file(
    session: Session,
    *,
    entity: str,
    path: Path,
    actor: Actor,
    today: date,
    mapping: list[str] | None = None,
    strict: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    sheet: str | None = None,
    batch_size: int | None = None,
) -> ImportResult:
    """Import one file in the caller's transaction. The caller commits, or rolls back for a
    dry run and when ``ImportRejected`` (strict) or any other error is raised."""
    return run_import(
        session,
        entity=entity,
        path=path,
        handler_factory=HANDLERS[entity],
        actor=actor,
        today=today,
        mapping=mapping,
        strict=strict,
        dry_run=dry_run,
        batch_size=batch_size or get_settings().import_batch_size,
        progress=progress,
        sheet=sheet,
    )


# ---------------------------------------------------------------- uploads through the API

# The API takes a file of at most this size in one request.
MAX_API_UPLOAD_BYTES = 100 * 1024 * 1024


def import_upload(
    session: Session,
    *,
    entity: str,
    file_name: str | None,
    content: BinaryIO,
    actor: Actor,
    today: date,
    dry_run: bool = False,
    strict: bool = False,
    mapping: list[str] | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_API_UPLOAD_BYTES,
) -> ImportResult:
    """Import an uploaded file in the caller's transaction, as ``flywheel import`` does.

    The file is copied to a temporary folder under its own name (the batch records it). A dry
    run is undone before returning: its report stands, no batch is kept. The rejected rows of a
    real run are kept where the import page keeps them (``uploads.UploadStore``), so that
    ``rejects_of`` finds them for either.
    """
    from flywheel.importers.uploads import UploadStore, safe_file_name

    if entity not in HANDLERS:
        raise NotFound(f"unknown import {entity!r}; one of: {', '.join(HANDLERS)}")
    name = safe_file_name(file_name, default="upload.csv")
    if not Path(name).suffix:
        name += ".csv"  # a file sent without a name or extension: most often a CSV export
    with tempfile.TemporaryDirectory(prefix="flywheel-upload-") as folder:
        path = Path(folder) / name
        _copy(content, path, max_bytes=max_bytes)

        def run() -> ImportResult:
            return import_file(
                session,
                entity=entity,
                path=path,
                actor=actor,
                today=today,
                mapping=mapping,
                strict=strict,
                dry_run=dry_run,
                sheet=sheet,
            )

        # A savepoint of its own: a refused file (strict, unreadable, a bad mapping) and a
        # dry run leave the caller's transaction exactly as it was.
        attempt = session.begin_nested()
        try:
            try:
                result = run()
            except BaseException:
                attempt.rollback()
                raise
            if dry_run:
                attempt.rollback()
                result.batch_id = None
            else:
                # Releases the savepoint only; the request (or job) commits the transaction.
                attempt.commit()
                if result.batch_id is not None and result.rejects_file:
                    UploadStore.default().keep_batch_rejects(
                        result.batch_id, Path(result.rejects_file)
                    )
        except FlywheelError as exc:
            # Errors name the uploaded file, not the temporary copy that is gone.
            _name_upload(exc, folder=folder, name=name)
            raise
    result.file = name
    result.rejects_file = None
    return result


def _name_upload(error: FlywheelError, *, folder: str, name: str) -> None:
    temporary = str(Path(folder) / name)
    error.message = error.message.replace(temporary, name).replace(folder, "")
    error.args = (error.message,)
    if error.details.get("file") == temporary:
        error.details["file"] = name
    report = error.details.get("result")
    if isinstance(report, dict):
        report.update(file=name, rejects_file=None)


def _copy(content: BinaryIO, path: Path, *, max_bytes: int) -> None:
    size = 0
    with path.open("wb") as target:
        while chunk := content.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise ImportFailed(
                    f"the file is larger than {max_bytes // (1024 * 1024)} MB",
                    limit_bytes=max_bytes,
                )
            target.write(chunk)


def list_batches(
    session: Session, *, entity: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[ImportBatch], int]:
    """A page of import batches, newest first, and the number matching."""
    query = select(ImportBatch)
    if entity:
        query = query.where(ImportBatch.entity == entity)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ImportBatch.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def get_batch(session: Session, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound(f"import batch {batch_id} not found", batch_id=batch_id)
    return batch


def rejects_of(session: Session, batch_id: int) -> tuple[ImportBatch, Path]:
    """The batch and its kept rejects file; "not found" when it had no rejected rows or its
    file is no longer kept (imported from the command line, or older than the store keeps)."""
    from flywheel.importers.uploads import UploadStore

    batch = get_batch(session, batch_id)
    if batch.rejected == 0:
        raise NotFound(f"import batch {batch_id} had no rejected rows", batch_id=batch_id)
    path = UploadStore.default().batch_rejects(batch_id)
    if path is None:
        raise NotFound(
            f"the rejects file of import batch {batch_id} is not kept on this server",
            batch_id=batch_id,
        )
    return batch, path
