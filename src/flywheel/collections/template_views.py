"""Template pages: the list of message templates, the editor with a live preview on sample
data, save and reset. Every staff role may read them; changing them needs
MANAGE_COLLECTION_STRATEGIES."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import templates as service
from flywheel.collections.template_defaults import KEYS, LANGUAGES
from flywheel.errors import FlywheelError, NotFound
from flywheel.kit.i18n import gettext as _
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, redirect, render

router = APIRouter()

ManageTemplates = Annotated[Actor, Depends(require(Permission.MANAGE_COLLECTION_STRATEGIES))]
KeyParam = Annotated[str, Path(max_length=64)]
LanguageParam = Annotated[str, Path(max_length=5)]
SubjectField = Annotated[str, Form(max_length=service.MAX_SUBJECT * 2)]
BodyField = Annotated[str, Form(max_length=service.MAX_BODY * 2)]


def _checked(key: str, language: str) -> tuple[str, str]:
    service.check_key(key)
    if language not in LANGUAGES:
        raise NotFound(f"no template language {language!r}", language=language)
    return key, language


@router.get("/collections/templates", response_class=HTMLResponse, include_in_schema=False)
def template_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    """Every template key in each language, saying which ones were edited."""
    by_key: dict[str, list[service.TemplateSource]] = {key: [] for key in KEYS}
    for source in service.list_templates(session):
        by_key[source.key].append(source)
    rows = [(key, service.KEY_LABELS[key], service.KEY_PURPOSES[key], by_key[key]) for key in KEYS]
    return render(
        request,
        "collections/templates_list.html",
        {
            "rows": rows,
            "template_languages": LANGUAGES,
            "editable": permissions.allows(actor, Permission.MANAGE_COLLECTION_STRATEGIES),
        },
        actor=actor,
    )


def _editor(
    request: Request,
    actor: Actor,
    source: service.TemplateSource,
    *,
    subject: str,
    body: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    rendered: service.Rendered | None = None
    preview_error: str | None = None
    try:
        rendered = service.preview(source.key, source.language, subject, body, as_of=today())
    except FlywheelError as exc:
        preview_error = exc.message
    context: dict[str, Any] = {
        "key": source.key,
        "language": source.language,
        "label": service.KEY_LABELS[source.key],
        "purpose": service.KEY_PURPOSES[source.key],
        "source": source,
        "subject": subject,
        "body": body,
        "rendered": rendered,
        "error": error,  # why saving failed
        "preview_error": preview_error,
        "template_languages": LANGUAGES,
        "editable": permissions.allows(actor, Permission.MANAGE_COLLECTION_STRATEGIES),
    }
    return render(
        request,
        "collections/templates_edit.html",
        context,
        actor=actor,
        status_code=status_code,
    )


@router.get(
    "/collections/templates/{key}/{language}", response_class=HTMLResponse, include_in_schema=False
)
def template_edit(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    key: KeyParam,
    language: LanguageParam,
) -> Response:
    """The editor (read-only for roles that may not change templates)."""
    key, language = _checked(key, language)
    source = service.source_of(session, key, language)
    return _editor(request, actor, source, subject=source.subject, body=source.body)


@router.post(
    "/collections/templates/{key}/{language}/preview",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def template_preview(
    request: Request,
    actor: CurrentActor,
    key: KeyParam,
    language: LanguageParam,
    subject: SubjectField = "",
    body: BodyField = "",
) -> Response:
    """The draft rendered on sample data (an HTMX fragment); nothing is saved."""
    key, language = _checked(key, language)
    rendered: service.Rendered | None = None
    error: str | None = None
    try:
        rendered = service.preview(key, language, subject, body, as_of=today())
    except FlywheelError as exc:
        error = exc.message
    return render(
        request,
        "collections/templates_preview.html",
        {"rendered": rendered, "error": error},
        actor=actor,
    )


@router.post("/collections/templates/{key}/{language}", include_in_schema=False)
def template_save(
    request: Request,
    session: SessionDep,
    actor: ManageTemplates,
    key: KeyParam,
    language: LanguageParam,
    subject: SubjectField = "",
    body: BodyField = "",
) -> Response:
    """Save the edit once it renders the sample data; otherwise show the editor with the
    problem and the text as typed (nothing saved)."""
    key, language = _checked(key, language)
    try:
        service.save(session, actor=actor, key=key, language=language, subject=subject, body=body)
    except FlywheelError as exc:
        source = service.source_of(session, key, language)
        return _editor(
            request, actor, source, subject=subject, body=body, error=exc.message, status_code=422
        )
    flash(request, _("Template saved."))
    return redirect(f"/collections/templates/{key}/{language}")


@router.post("/collections/templates/{key}/{language}/reset", include_in_schema=False)
def template_reset(
    request: Request,
    session: SessionDep,
    actor: ManageTemplates,
    key: KeyParam,
    language: LanguageParam,
) -> Response:
    """Back to the shipped default."""
    key, language = _checked(key, language)
    if service.reset(session, actor=actor, key=key, language=language):
        flash(request, _("Template reset to the default."))
    return redirect(f"/collections/templates/{key}/{language}")
