"""Pages of one's own: sign in, sign out, the account page (password, language), the switcher."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed, WrongPassword
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.base import utcnow
from flywheel.models.enums import Language
from flywheel.users import service as users
from flywheel.web import sessions
from flywheel.web.auth import CurrentActor, current_user
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, page_language, redirect, render, safe_next

router = APIRouter(include_in_schema=False)

HOME = "/customers"

# The password policy's rules (``details["rule"]`` of the error), as the account page says them.
_PASSWORD_RULES = {
    "min_length": N_("The new password must be at least %(min_length)s characters long."),
    "max_length": N_("The new password must be at most %(max_length)s characters long."),
    "not_username": N_("The new password must not be your username."),
    "not_current": N_("The new password must differ from the current one."),
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    if current_user(request, session) is None:
        return redirect("/sign-in")
    return redirect(HOME)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, session: SessionDep, next: str | None = None) -> Response:
    if current_user(request, session) is not None:
        return redirect(safe_next(next, HOME))
    return render(request, "auth/sign_in.html", {"next": safe_next(next, HOME), "username": ""})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: SessionDep,
    _csrf: Annotated[None, Depends(sessions.require_csrf)],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    """One answer for every failure (unknown user, wrong password, disabled, locked), so the
    page reveals nothing; five failures lock the account for 15 minutes."""
    user = users.authenticate_password(session, username.strip(), password, now=utcnow())
    i18n.choose(page_language(request, None))
    if user is None:
        return render(
            request,
            "auth/sign_in.html",
            {
                "next": safe_next(next, HOME),
                "username": username,
                "error": _(
                    "Wrong username or password, or the account is locked after repeated "
                    "failures. Try again in 15 minutes or ask an administrator."
                ),
            },
            status_code=401,
        )
    sessions.start(request, user)
    return redirect(safe_next(next, HOME))


@router.post("/sign-out")
def sign_out(request: Request, actor: CurrentActor) -> Response:
    sessions.end(request)
    return redirect("/sign-in")


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, actor: CurrentActor) -> Response:
    return render(request, "auth/account.html", {}, actor=actor)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    user = users.get_user(session, actor.user_id) if actor.user_id else None
    if user is None:
        return redirect("/sign-in")
    error: str | None = None
    if new != confirm:
        error = _("The new password and its confirmation differ.")
    else:
        try:
            users.change_password(
                session, actor=actor, user=user, old_password=current, new_password=new
            )
        except WrongPassword:
            error = _("The current password is not correct.")
        except ValidationFailed as exc:
            rule = exc.details.get("rule")
            error = (
                _(_PASSWORD_RULES[rule]) % exc.details if rule in _PASSWORD_RULES else exc.message
            )
    if error is not None:
        return render(request, "auth/account.html", {"error": error}, actor=actor, status_code=422)
    sessions.refresh(request, user)
    flash(request, _("Your password was changed. Other sessions are signed out."))
    return redirect("/account")


@router.post("/language")
def switch_language(
    request: Request,
    session: SessionDep,
    _csrf: Annotated[None, Depends(sessions.verify_csrf)],
    language: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """A signed-in user's choice is his setting (kept across devices); before sign-in it is
    kept in the session."""
    code = i18n.normalize(language)
    if code is None:
        return redirect(safe_next(next))
    user = current_user(request, session)
    if user is not None:
        users.set_language(session, actor=Actor.for_user(user), user=user, language=Language(code))
    request.session["lang"] = code
    return redirect(safe_next(next))
