"""Who is calling: the ``CurrentActor`` dependency (bearer API tokens) and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.tokens import authenticate_token
from flywheel.errors import Forbidden, Unauthenticated
from flywheel.models.base import utcnow
from flywheel.models.enums import Role
from flywheel.models.users import User
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


# Tried in order; the first that recognises the request wins. The signed session cookie of the
# HTML pages will be added here, so every route accepts either without changing.
_AUTHENTICATORS: tuple[Callable[[Request, Session], User | None], ...] = (_user_from_bearer,)


def get_current_actor(request: Request, session: SessionDep) -> Actor:
    """The signed-in user as an Actor; 401 ``unauthenticated`` when the request carries no
    valid credentials (the answer never says which check failed)."""
    for authenticate in _AUTHENTICATORS:
        user = authenticate(request, session)
        if user is not None:
            return Actor.for_user(user)
    raise Unauthenticated("a valid API token is required (Authorization: Bearer fw_…)")


CurrentActor = Annotated[Actor, Depends(get_current_actor)]


def require_role(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting only the given roles, e.g.
    ``AdminActor = Annotated[Actor, Depends(require_role(Role.ADMIN))]``; others get 403."""
    allowed = frozenset(roles)

    def check(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise Forbidden(
                f"this needs one of the roles: {', '.join(sorted(allowed))}",
                role=actor.role.value,
            )
        return actor

    return check
