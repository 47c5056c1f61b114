"""Output shapes of imports: the report of one file and the batches imported so far."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field

from flywheel.kit.shapes import Moment, OutputModel

if TYPE_CHECKING:
    from flywheel.importers.runner import ImportResult
    from flywheel.models.importers import ImportBatch


class ImportEntity(StrEnum):
    """What a file can hold (``importers.service.HANDLERS``)."""

    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    ORDERS = "orders"
    INVOICES = "invoices"
    PAYMENTS = "payments"
    CREDIT_NOTES = "credit-notes"
    TOUCHPOINTS = "touchpoints"


# How many rejected rows an answer lists; all of them are in the rejects file.
MAX_ERRORS_SHOWN = 1000


class RejectedRow(OutputModel):
    row: int = Field(description="The row number in the file (the header is row 1).")
    column: str | None = Field(description="The file's column header, when one cell is at fault.")
    reason: str


class ImportReport(OutputModel):
    entity: str
    file: str = Field(description="The uploaded file's name.")
    encoding: str | None
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Rows rejected (each reason is in errors).")
    dry_run: bool
    committed: bool = Field(description="False for a dry run: nothing was written.")
    seconds: float
    columns: dict[str, str] = Field(description="Field name -> the file's column header.")
    ignored_columns: list[str]
    users_created: list[str]
    errors: list[RejectedRow]
    errors_truncated: bool = Field(description=f"More than {MAX_ERRORS_SHOWN} rows rejected.")
    batch_id: int | None = Field(description="The import batch; null for a dry run.")
    rejects_url: str | None = Field(description="Where to download the rejected rows as CSV.")

    @classmethod
    def of(cls, result: ImportResult, *, rejects_url: str | None) -> ImportReport:
        return cls(
            entity=result.entity,
            file=result.file,
            encoding=result.encoding,
            rows=result.rows,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            dry_run=result.dry_run,
            committed=not result.dry_run,
            seconds=round(result.seconds, 3),
            columns=result.columns,
            ignored_columns=result.ignored_columns,
            users_created=result.users_created,
            errors=[
                RejectedRow(row=e.row, column=e.column, reason=e.reason)
                for e in result.errors[:MAX_ERRORS_SHOWN]
            ],
            errors_truncated=len(result.errors) > MAX_ERRORS_SHOWN,
            batch_id=result.batch_id,
            rejects_url=rejects_url,
        )


class ImportBatchOut(OutputModel):
    id: int
    entity: str
    file: str = Field(description="The imported file's name.")
    sha256: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    imported_by: str = Field(description="The user (or process) that imported it.")
    finished_at: Moment
    rejects_url: str | None = Field(description="Where to download the rejected rows as CSV.")

    @classmethod
    def of(cls, batch: ImportBatch, *, rejects_url: str | None) -> ImportBatchOut:
        return cls(
            id=batch.id,
            entity=batch.entity,
            file=batch.file_name,
            sha256=batch.file_sha256,
            rows=batch.rows,
            inserted=batch.inserted,
            updated=batch.updated,
            unchanged=batch.unchanged,
            rejected=batch.rejected,
            imported_by=batch.actor_name,
            finished_at=batch.finished_at,
            rejects_url=rejects_url,
        )


class ImportBatchPage(OutputModel):
    items: list[ImportBatchOut]
    total: int
    page: int
    page_size: int
