"""The import page: upload a CSV/TSV/XLSX file, check how its columns map to fields (and change
that, as ``--map`` does), dry-run it, import it with live progress, download the rejected rows;
and the list of import batches. The same importer as ``flywheel import`` and the API."""

from __future__ import annotations

import csv
import io
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.db import session_factory
from flywheel.errors import FlywheelError, ImportFailed, NotFound
from flywheel.importers import service, uploads
from flywheel.importers.fields import ENTITIES
from flywheel.importers.labels import ENTITY_LABELS, field_label
from flywheel.importers.uploads import (
    ImportRunning,
    MappingConflict,
    RunState,
    SessionScope,
    Upload,
    UploadStore,
    UploadTooLarge,
)
from flywheel.kit.i18n import current_language
from flywheel.kit.i18n import gettext as _
from flywheel.web.auth import require
from flywheel.web.deps import SessionDep, get_engine
from flywheel.web.pages import flash, redirect, render

router = APIRouter(prefix="/imports", include_in_schema=False)

ImporterActor = Annotated[Actor, Depends(require(Permission.IMPORT_DATA))]
BATCHES_PER_PAGE = 20
ERRORS_SHOWN = 200  # rejected rows listed on the page; the CSV has every one


def upload_store() -> UploadStore:
    return UploadStore.default()


def background_sessions(request: Request) -> SessionScope:
    """Sessions for imports run in a background thread: their own, on the app's engine."""
    return session_factory(get_engine(request))


Store = Annotated[UploadStore, Depends(upload_store)]
BackgroundSessions = Annotated[SessionScope, Depends(background_sessions)]


@dataclass(slots=True)
class MappingForm:
    """The mapping form as posted: what the file holds, its worksheet, and per column the
    field chosen ("" for not imported); ``choices`` is None when no column was posted."""

    entity: str | None = None
    sheet: str | None = None
    choices: dict[int, str] | None = None
    changed: int | None = None  # the column whose select the user just moved
    strict: bool = False


async def mapping_form(request: Request) -> MappingForm:
    form = await request.form()
    posted = MappingForm(strict=form.get("strict") in ("1", "on", "true"))
    entity, sheet, changed = form.get("entity"), form.get("sheet"), form.get("changed")
    if isinstance(entity, str) and entity:
        posted.entity = entity
    if isinstance(sheet, str):
        posted.sheet = sheet
    if isinstance(changed, str) and changed.isdigit():
        posted.changed = int(changed)
    for key, value in form.multi_items():
        if key.startswith("col-") and key[4:].isdigit() and isinstance(value, str):
            if posted.choices is None:
                posted.choices = {}
            posted.choices[int(key[4:])] = value.strip()
    return posted


PostedMapping = Annotated[MappingForm, Depends(mapping_form)]


def _today() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------- the list


def _index(
    request: Request,
    session: Session,
    actor: Actor,
    store: UploadStore,
    *,
    entity: str = "",
    page: int = 1,
    error: str | None = None,
    error_field: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    batches, total = service.list_batches(
        session, limit=BATCHES_PER_PAGE, offset=(page - 1) * BATCHES_PER_PAGE
    )
    with_rejects = {b.id for b in batches if b.rejected and store.batch_rejects(b.id) is not None}
    return render(
        request,
        "imports/index.html",
        {
            "entities": list(ENTITY_LABELS.items()),
            "specs": ENTITIES,
            "field_label": field_label,
            "entity": entity if entity in ENTITIES else "",
            "error": error,
            "error_field": error_field,
            "max_mb": uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
            "batches": batches,
            "batches_total": total,
            "with_rejects": with_rejects,
            "page": page,
            "pages": max(1, -(-total // BATCHES_PER_PAGE)),
            "running": store.running_imports() if page == 1 else [],
            "my_uploads": store.uploads_of(actor),
            "entity_labels": ENTITY_LABELS,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def index(
    request: Request,
    session: SessionDep,
    actor: ImporterActor,
    store: Store,
    entity: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    store.clean_up()
    return _index(request, session, actor, store, entity=entity, page=page)


@router.post("", response_class=HTMLResponse)
def upload(
    request: Request,
    session: SessionDep,
    actor: ImporterActor,
    store: Store,
    entity: Annotated[str, Form(max_length=32)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    store.clean_up()

    def refused(message: str, field: str, status_code: int = 422) -> HTMLResponse:
        return _index(
            request,
            session,
            actor,
            store,
            entity=entity,
            error=message,
            error_field=field,
            status_code=status_code,
        )

    if entity not in ENTITIES:
        return refused(_("Choose what the file holds."), "entity")
    if file is None or not file.filename:
        return refused(_("Choose a file to upload."), "file")
    try:
        created = store.create(
            owner=actor, entity=entity, file_name=file.filename, source=file.file
        )
    except UploadTooLarge:
        return refused(
            _(
                "The file is larger than %(mb)s MB. Split it into smaller files, or import it "
                "on the server with the command line (flywheel import).",
                mb=uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
            ),
            "file",
            status_code=413,
        )
    except ImportFailed as exc:
        return refused(_("The file cannot be read: %(reason)s", reason=exc.message), "file")
    return redirect(f"/imports/{created.id}")


@router.get("/template/{entity}.csv")
def template(entity: str, actor: ImporterActor) -> Response:
    """An empty file with the columns of ``entity``, in the user's language."""
    spec = ENTITIES.get(entity)
    if spec is None:
        raise NotFound(f"unknown import {entity!r}; one of: {', '.join(ENTITIES)}")
    chinese = current_language() == "zh"
    headers = []
    for spec_field in spec.fields:
        name = spec_field.name
        if chinese:
            name = next((a for a in spec_field.aliases if not a.isascii()), name)
        headers.append(name)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(headers)
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{entity}-template.csv"'},
    )


@router.get("/batches/{batch_id}/rejects.csv")
def batch_rejects(batch_id: int, session: SessionDep, actor: ImporterActor) -> Response:
    batch, path = service.rejects_of(session, batch_id)
    name = f"{batch.file_name}.rejects.csv"
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=name)


# ---------------------------------------------------------------------------- one upload


def _cli_command(upload: Upload) -> str:
    words = ["flywheel", "import", upload.entity, upload.file_name]
    for option in upload.mapping:
        words += ["--map", option]
    if upload.sheet:
        words += ["--sheet", upload.sheet]
    return " ".join(shlex.quote(w) for w in words)


def _upload_context(
    upload: Upload,
    *,
    choices: dict[int, str] | None = None,
    error: str | None = None,
) -> dict[str, object]:
    state = uploads.read_state(upload)
    context: dict[str, object] = {
        "upload": upload,
        "entities": list(ENTITY_LABELS.items()),
        "field_label": lambda name: field_label(upload.entity, name),
        "state": state,
        "running": state is not None and not state.finished,
        "choices": choices or {},
        "error": error,
        "preview": None,
        "preview_error": None,
        "cli": _cli_command(upload),
        "errors_shown": ERRORS_SHOWN,
    }
    try:
        context["preview"] = uploads.preview(upload)
    except FlywheelError as exc:
        context["preview_error"] = exc.message
    return context


def _upload_page(
    request: Request,
    actor: Actor,
    upload: Upload,
    *,
    choices: dict[int, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    template = "imports/upload.html"
    context = _upload_context(upload, choices=choices, error=error)
    if request.headers.get("HX-Request") == "true" and context["preview"] is not None:
        template = "imports/_mapping.html"
    return render(request, template, context, actor=actor, status_code=status_code)


@router.get("/{upload_id}", response_class=HTMLResponse)
def upload_page(request: Request, actor: ImporterActor, store: Store, upload_id: str) -> Response:
    found = store.get(upload_id, owner=actor)
    return render(request, "imports/upload.html", _upload_context(found), actor=actor)


def _refusal(*, upload: Upload, error: FlywheelError) -> str:
    """A refused mapping or run, said in the user's language."""
    if isinstance(error, ImportRunning):
        return _("The file is being imported; wait until the import ends.")
    field, columns = error.details.get("field"), error.details.get("columns")
    if isinstance(error, MappingConflict) and field in upload.spec.by_name and columns:
        label = _(field_label(upload.entity, field)) + f" ({field})"
        return _(
            "%(field)s is chosen for more than one column: %(columns)s. Keep it for one "
            "column and choose another field, or “not imported”, for the others.",
            field=label,
            columns=", ".join(columns),
        )
    if isinstance(error, MappingConflict) and columns:
        return _(
            "The columns %(columns)s have names that cannot be told apart; rename one of "
            "them in the file.",
            columns=", ".join(columns),
        )
    return error.message


def _apply_mapping(store: UploadStore, upload: Upload, posted: MappingForm) -> bool:
    """Take the posted form into the upload: another entity or worksheet starts the mapping
    afresh; otherwise the chosen fields become ``--map`` options. True when it changed."""
    before = (upload.entity, upload.sheet, list(upload.mapping))
    if posted.entity is not None and posted.entity != upload.entity:
        if posted.entity not in ENTITIES:
            raise MappingConflict(f"unknown import {posted.entity!r}", field="entity")
        upload.entity, upload.mapping = posted.entity, []
    elif posted.sheet is not None and (posted.sheet or None) != upload.sheet:
        sheets = uploads.sheet_names(upload)
        if posted.sheet and posted.sheet not in sheets:
            raise MappingConflict(f"the workbook has no worksheet {posted.sheet!r}")
        upload.sheet, upload.mapping = posted.sheet or None, []
    elif posted.choices is not None:
        headers = uploads.preview(upload, rows=0).headers
        upload.mapping = uploads.mapping_from_choices(
            upload.spec, headers, posted.choices, changed=posted.changed
        )
    if (upload.entity, upload.sheet, upload.mapping) == before:
        return False
    if uploads.is_running(upload):
        raise ImportRunning("the file is being imported; wait until the import ends")
    store.save(upload)
    uploads.forget_run(upload)
    return True


@router.post("/{upload_id}/mapping", response_class=HTMLResponse)
def change_mapping(
    request: Request,
    actor: ImporterActor,
    store: Store,
    posted: PostedMapping,
    upload_id: str,
) -> Response:
    found = store.get(upload_id, owner=actor)
    try:
        _apply_mapping(store, found, posted)
    except (MappingConflict, ImportRunning) as exc:
        return _upload_page(
            request,
            actor,
            found,
            choices=posted.choices,
            error=_refusal(upload=found, error=exc),
            status_code=409 if isinstance(exc, ImportRunning) else 422,
        )
    if request.headers.get("HX-Request") == "true":
        return _upload_page(request, actor, found)
    return redirect(f"/imports/{found.id}")


def _start(
    request: Request,
    session: Session,
    actor: Actor,
    store: UploadStore,
    background: SessionScope,
    upload_id: str,
    posted: MappingForm,
    *,
    dry_run: bool,
) -> Response:
    found = store.get(upload_id, owner=actor)
    try:
        _apply_mapping(store, found, posted)
        uploads.run_or_start(
            session,
            store,
            found,
            actor=actor,
            today=_today().date(),
            dry_run=dry_run,
            strict=posted.strict,
            sessions=background,
        )
    except (MappingConflict, ImportRunning) as exc:
        return _upload_page(
            request,
            actor,
            found,
            choices=posted.choices,
            error=_refusal(upload=found, error=exc),
            status_code=409 if isinstance(exc, ImportRunning) else 422,
        )
    except FlywheelError as exc:  # the file cannot be opened any more
        return _upload_page(request, actor, found, error=exc.message, status_code=422)
    return redirect(f"/imports/{found.id}#run")


@router.post("/{upload_id}/dry-run")
def dry_run(
    request: Request,
    session: SessionDep,
    actor: ImporterActor,
    store: Store,
    background: BackgroundSessions,
    posted: PostedMapping,
    upload_id: str,
) -> Response:
    return _start(request, session, actor, store, background, upload_id, posted, dry_run=True)


@router.post("/{upload_id}/import")
def run_import(
    request: Request,
    session: SessionDep,
    actor: ImporterActor,
    store: Store,
    background: BackgroundSessions,
    posted: PostedMapping,
    upload_id: str,
) -> Response:
    return _start(request, session, actor, store, background, upload_id, posted, dry_run=False)


@router.get("/{upload_id}/progress", response_class=HTMLResponse)
def progress(request: Request, actor: ImporterActor, store: Store, upload_id: str) -> Response:
    """The run's state as the page shows it; polled every second while the run goes on."""
    found = store.get(upload_id, owner=actor)
    state: RunState | None = uploads.read_state(found)
    return render(
        request,
        "imports/_run.html",
        {"upload": found, "state": state, "errors_shown": ERRORS_SHOWN},
        actor=actor,
    )


@router.get("/{upload_id}/rejects.csv")
def rejects(actor: ImporterActor, store: Store, upload_id: str) -> Response:
    found = store.get(upload_id, owner=actor)
    if not found.rejects.is_file():
        raise NotFound("this upload has no rejected rows")
    return FileResponse(
        found.rejects,
        media_type="text/csv; charset=utf-8",
        filename=f"{found.file_name}.rejects.csv",
    )


@router.post("/{upload_id}/discard")
def discard(request: Request, actor: ImporterActor, store: Store, upload_id: str) -> Response:
    found = store.get(upload_id, owner=actor)
    store.delete(found)
    flash(request, _("The uploaded file %(name)s was removed.", name=found.file_name))
    return redirect("/imports")
