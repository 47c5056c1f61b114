"""The users page (admins): who may sign in, with which role; create, change role, disable,
enable, reset a password. The same service as ``flywheel users …`` and /api/v1/users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import FlywheelError
from flywheel.kit.i18n import gettext as _
from flywheel.models.enums import Role
from flywheel.users import service as users
from flywheel.web.auth import require
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, redirect, render

router = APIRouter(prefix="/users", include_in_schema=False)

AdminActor = Annotated[Actor, Depends(require(Permission.MANAGE_USERS))]


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    shown_password: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "users/list.html",
        {
            "users": users.list_users(session),
            "roles": list(Role),
            "form": form or {"username": "", "display_name": "", "email": "", "role": "sales"},
            "error": error,
            "error_field": error_field,
            "shown_password": shown_password,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def list_page(request: Request, session: SessionDep, actor: AdminActor) -> Response:
    return _page(request, session, actor)


@router.post("", response_class=HTMLResponse)
def create(
    request: Request,
    session: SessionDep,
    actor: AdminActor,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=32)] = "sales",
    language: Annotated[str, Form(max_length=8)] = "zh",
) -> Response:
    """Creates the user with a generated password, shown once on the answer (never in a
    cookie or a URL): the admin passes it on; the user changes it on his account page."""
    form = {
        "username": username,
        "display_name": display_name,
        "email": email,
        "role": role,
        "language": language,
    }
    try:
        chosen_role = users.parse_role(role)
        chosen_language = users.parse_language(language)
        user = users.create_user(
            session,
            actor=actor,
            username=username.strip(),
            display_name=display_name.strip() or None,
            email=email.strip() or None,
            role=chosen_role,
            language=chosen_language.value,
        )
        password = users.reset_password(session, actor=actor, user=user)
    except FlywheelError as exc:
        # Every check runs before the first write, so a refusal has written nothing.
        field = exc.details.get("field") or ("username" if "username" in exc.details else None)
        return _page(
            request,
            session,
            actor,
            form=form,
            error=exc.message,
            error_field=field,
            status_code=409 if exc.kind == "conflict" else 422,
        )
    return _page(request, session, actor, shown_password=(user.username, password))


@router.post("/{username}/role")
def set_role(
    request: Request,
    session: SessionDep,
    actor: AdminActor,
    username: str,
    role: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    user = users.get_by_username(session, username)
    if users.set_role(session, actor=actor, user=user, role=users.parse_role(role)):
        flash(request, _("%(user)s is now %(role)s.", user=username, role=role))
    return redirect("/users")


@router.post("/{username}/disable")
def disable(request: Request, session: SessionDep, actor: AdminActor, username: str) -> Response:
    user = users.get_by_username(session, username)
    if users.disable_user(session, actor=actor, user=user):
        flash(request, _("%(user)s can no longer sign in.", user=username))
    return redirect("/users")


@router.post("/{username}/enable")
def enable(request: Request, session: SessionDep, actor: AdminActor, username: str) -> Response:
    user = users.get_by_username(session, username)
    if users.enable_user(session, actor=actor, user=user):
        flash(request, _("%(user)s can sign in again.", user=username))
    return redirect("/users")


@router.post("/{username}/reset-password", response_class=HTMLResponse)
def reset_password(
    request: Request, session: SessionDep, actor: AdminActor, username: str
) -> Response:
    user = users.get_by_username(session, username)
    password = users.reset_password(session, actor=actor, user=user)
    return _page(request, session, actor, shown_password=(user.username, password))
