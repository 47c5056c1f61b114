"""Who is calling: the ``CurrentActor`` dependency (bearer API token or session cookie) and
role and permission checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.tokens import authenticate_token
from flywheel.errors import Forbidden, Unauthenticated
from flywheel.kit import i18n
from flywheel.models.base import utcnow
from flywheel.models.enums import Role
from flywheel.models.users import User
from flywheel.web import sessions
from flywheel.web.deps import SessionDep

BEARER = "bearer"


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None when there is none."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != BEARER or not credentials:
        return None
    return credentials


def _user_from_bearer(request: Request, session: Session) -> User | None:
    token = bearer_token(request)
    if token is None:
        return None
    return authenticate_token(session, token, now=utcnow())


def _user_from_session(request: Request, session: Session) -> User | None:
    """The user of a signed session cookie, while he is active and his password unchanged."""
    uid = sessions.session_user_id(request)
    if uid is None:
        return None
    user = session.get(User, uid)
    if user is None or not sessions.is_current(request, user):
        sessions.end(request)
        return None
    return user


# Tried in order; the first that recognises the request wins, so every route, page or API,
# accepts either a bearer token or the browser's session cookie.
_AUTHENTICATORS: tuple[Callable[[Request, Session], User | None], ...] = (
    _user_from_bearer,
    _user_from_session,
)


def current_user(request: Request, session: Session) -> User | None:
    """The authenticated user of the request, or None."""
    for authenticate in _AUTHENTICATORS:
        user = authenticate(request, session)
        if user is not None:
            return user
    return None


def get_current_actor(
    request: Request, session: SessionDep, _csrf: Annotated[None, Depends(sessions.verify_csrf)]
) -> Actor:
    """The signed-in user as an Actor; 401 ``unauthenticated`` when the request carries no
    valid credentials (the answer never says which check failed). A state-changing request
    signed in by cookie must carry the session's CSRF token."""
    user = current_user(request, session)
    if user is not None:
        # The actor, plain values, not the ORM row: an error page is rendered after the
        # request's transaction was rolled back, when the row can no longer be read.
        actor = Actor.for_user(user)
        request.state.actor = actor
        i18n.choose(user.language)
        return actor
    raise Unauthenticated("sign in, or send a valid API token (Authorization: Bearer fw_…)")


CurrentActor = Annotated[Actor, Depends(get_current_actor)]


def require_role(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency admitting only the given roles, e.g.
    ``AdminActor = Annotated[Actor, Depends(require_role(Role.ADMIN))]``; others get 403."""
    allowed = frozenset(roles)

    async def check(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise Forbidden(
                f"this needs one of the roles: {', '.join(sorted(allowed))}",
                role=actor.role.value,
            )
        return actor

    return check


def require(permission: Permission) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency admitting only roles granted ``permission`` in ``auth.permissions``, e.g.
    ``actor: Annotated[Actor, Depends(require(Permission.RECORD_PAYMENTS))]``; others get 403."""

    async def check(actor: CurrentActor) -> Actor:
        permissions.check(actor, permission)
        return actor

    return check
