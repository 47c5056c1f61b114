"""Entry to the importers: which handler reads which entity, and one call to import a file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import get_settings
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
