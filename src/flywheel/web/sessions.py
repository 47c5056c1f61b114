"""The browser session: a signed ``HttpOnly``/``SameSite=Lax`` cookie, and its CSRF token.

The cookie holds the user id, a fingerprint of his password hash and the CSRF token; nothing
is stored on the server. Changing or resetting the password changes the fingerprint, which ends
every other session of that user; signing out clears the cookie. Starlette's SessionMiddleware
signs the cookie (itsdangerous) and re-issues it on every answer, so it expires after
``session_hours`` without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from flywheel.config import Settings
from flywheel.errors import CsrfFailed
from flywheel.models.users import User

SESSION_COOKIE = "flywheel_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def secret_key(settings: Settings) -> str:
    """The configured key, or the one kept in ``settings.secret_file`` (created on first use,
    readable by the owner only; concurrent workers agree on whichever file was written)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.secret_file)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        raise RuntimeError(f"{path} is empty: delete it to get a new session key") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def install_sessions(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.cookie_secure,
    )


def has_session(request: Request) -> bool:
    return "session" in request.scope


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does; a session signed before the change stops working."""
    return hashlib.sha256((user.password_hash or "").encode("utf-8")).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first need (also before sign-in: the sign-in form
    carries one too)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def start(request: Request, user: User) -> None:
    """Sign ``user`` in: a fresh session (and CSRF token), keeping only the chosen language."""
    language = request.session.get("lang")
    request.session.clear()
    request.session.update({"uid": user.id, "pv": password_fingerprint(user)})
    if language:
        request.session["lang"] = language
    csrf_token(request)


def refresh(request: Request, user: User) -> None:
    """Keep this session valid after the user changed his own password."""
    request.session["pv"] = password_fingerprint(user)


def end(request: Request) -> None:
    request.session.clear()


def session_user_id(request: Request) -> int | None:
    if not has_session(request):
        return None
    uid = request.session.get("uid")
    return uid if isinstance(uid, int) else None


def is_current(request: Request, user: User) -> bool:
    return bool(user.is_active) and request.session.get("pv") == password_fingerprint(user)


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing request that rides on the session cookie without the session's
    token (in the ``X-CSRF-Token`` header, as HTMX sends it, or the ``csrf_token`` form field).

    Requests with an ``Authorization`` header are not at risk (a browser never adds one by
    itself) and need no token; nor do requests without a signed-in session (they are refused
    as unauthenticated anyway).
    """
    if request.method in SAFE_METHODS or "authorization" in request.headers:
        return
    if session_user_id(request) is None:
        return
    await require_csrf(request)


async def require_csrf(request: Request) -> None:
    """The token check itself, for every unsafe request; the sign-in form calls it directly."""
    expected = request.session.get(CSRF_FIELD) if has_session(request) else None
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfFailed("the form has expired or did not come from this site; reload the page")
