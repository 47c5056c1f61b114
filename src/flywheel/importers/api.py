"""JSON routes for imports: upload a CSV/XLSX file and import it (or try it: dry run), the
batches imported so far, and the rejected rows of one as a CSV download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.importers import service
from flywheel.importers.schemas import ImportBatchOut, ImportBatchPage, ImportEntity, ImportReport
from flywheel.models.importers import ImportBatch
from flywheel.web.auth import require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/imports", tags=["imports"], responses=ERROR_RESPONSES)

# Import batches name files and carry rows of every account, so even reading them is for the
# roles that import.
ImportData = Annotated[Actor, Depends(require(Permission.IMPORT_DATA))]


def _rejects_url(request: Request, batch_id: int | None, rejected: int) -> str | None:
    if batch_id is None or rejected == 0:
        return None
    return str(request.url_for("download_rejects", batch_id=batch_id).path)


def _batch_out(request: Request, batch: ImportBatch) -> ImportBatchOut:
    return ImportBatchOut.of(batch, rejects_url=_rejects_url(request, batch.id, batch.rejected))


@router.get("", response_model=ImportBatchPage, summary="Import batches, newest first")
def list_batches(
    request: Request,
    session: SessionDep,
    actor: ImportData,
    paging: Paging,
    entity: Annotated[ImportEntity | None, Query(description="What was imported.")] = None,
) -> ImportBatchPage:
    batches, total = service.list_batches(
        session,
        entity=entity.value if entity else None,
        limit=paging.limit,
        offset=paging.offset,
    )
    return ImportBatchPage(
        items=[_batch_out(request, batch) for batch in batches],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get("/{batch_id}", response_model=ImportBatchOut, summary="One import batch")
def get_batch(
    batch_id: Id, request: Request, session: SessionDep, actor: ImportData
) -> ImportBatchOut:
    return _batch_out(request, service.get_batch(session, batch_id))


@router.get(
    "/{batch_id}/rejects",
    response_class=FileResponse,
    name="download_rejects",
    summary="The rejected rows of a batch, as CSV",
    responses={200: {"content": {"text/csv": {}}, "description": "row, column, reason, cells…"}},
)
def download_rejects(batch_id: Id, session: SessionDep, actor: ImportData) -> FileResponse:
    """Each rejected row with its row number, column and reason, then the file's own cells;
    UTF-8 with a byte order mark, so Excel shows Chinese text."""
    batch, path = service.rejects_of(session, batch_id)
    stem = batch.file_name.rsplit(".", 1)[0] or "import"
    return FileResponse(path, media_type="text/csv", filename=f"{stem}.rejects.csv")


@router.post("/{entity}", response_model=ImportReport, summary="Import a CSV or XLSX file")
def import_file(
    entity: ImportEntity,
    request: Request,
    session: SessionDep,
    actor: ImportData,
    file: Annotated[UploadFile, File(description="CSV (UTF-8, UTF-8 BOM or GBK) or XLSX.")],
    dry_run: Annotated[bool, Form(description="Check and report; write nothing.")] = False,
    strict: Annotated[bool, Form(description="Import nothing if any row is rejected.")] = False,
    mapping: Annotated[
        list[str] | None,
        Form(max_length=200, description='"COLUMN=field" for a column whose name is not known.'),
    ] = None,
    sheet: Annotated[str | None, Form(max_length=100, description="XLSX worksheet.")] = None,
) -> ImportReport:
    """Runs the importer on the file now, as ``flywheel import`` does: idempotent, every row
    checked, rejected rows reported with their row, column and reason. With ``strict`` any
    rejected row makes it a 422 that imports nothing (the report is in ``details.result``)."""
    result = service.import_upload(
        session,
        entity=entity.value,
        file_name=file.filename,
        content=file.file,
        actor=actor,
        today=today(),
        dry_run=dry_run,
        strict=strict,
        mapping=mapping,
        sheet=sheet,
    )
    return ImportReport.of(
        result, rejects_url=_rejects_url(request, result.batch_id, result.rejected)
    )
