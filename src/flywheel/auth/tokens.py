"""API tokens: create (shown once), authenticate a bearer token, list and revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.errors import NotFound, TokenExpiryInPast, ValidationFailed
from flywheel.models.auth import ApiToken
from flywheel.models.base import utcnow
from flywheel.models.users import User

TOKEN_PREFIX = "fw_"
PREFIX_LENGTH = 8
NAME_MAX_LENGTH = 120
# Recording every use would turn each API read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(plaintext: str) -> str:
    """The SHA-256 hex digest stored instead of the token (tokens carry 256 random bits, so a
    fast hash is enough: there is nothing to guess)."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def expiry_moment(expires_on: date) -> datetime:
    """A token set to expire on a day stops working when that day begins (UTC)."""
    return datetime.combine(expires_on, time.min, tzinfo=UTC)


def create_token(
    session: Session,
    *,
    actor: Actor,
    user: User,
    name: str,
    expires_on: date | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the plaintext, which is never kept."""
    moment = now or utcnow()
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(
            f"token name must be 1 to {NAME_MAX_LENGTH} characters", field="name"
        )
    expires_at = expiry_moment(expires_on) if expires_on is not None else None
    if expires_at is not None and expires_at <= moment:
        raise TokenExpiryInPast(
            f"expiry date {expires_on} is not in the future", expires_on=expires_on
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=plaintext[:PREFIX_LENGTH],
        token_hash=token_digest(plaintext),
        created_at=moment,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "api_token.created",
        subject_type="api_token",
        subject_id=token.id,
        customer_id=None,
        after={"user": user.username, "name": name, "expires_at": audit.jsonable(expires_at)},
    )
    return token, plaintext


def authenticate_token(session: Session, plaintext: str, *, now: datetime) -> User | None:
    """The active user behind a bearer token, or None when the token is unknown, revoked,
    expired, or belongs to a disabled user. Records when the token was last used."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    digest = token_digest(plaintext)
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).one_or_none()
    # The lookup is by digest; comparing again in constant time costs nothing and keeps the
    # check independent of how the database compares strings.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    user = token.user
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        _mark_used(session, token, now)
    return user


def _mark_used(session: Session, token: ApiToken, now: datetime) -> None:
    """Best effort, in a savepoint: when concurrent requests of one token all try this write,
    SQLite refuses all but one at once ("database is locked" for a read transaction that
    would become a writer); the mark is not worth failing those requests for.

    On PostgreSQL the row is locked with SKIP LOCKED: a request that finds another one marking
    the token goes on without waiting. Waiting would hold up every request of the token until
    that one's transaction ends, and could wait forever: the marking request may itself be
    waiting for one of the server's threads, all taken by requests waiting for its lock."""
    try:
        with session.begin_nested():
            free = session.scalar(
                select(ApiToken.id).where(ApiToken.id == token.id).with_for_update(skip_locked=True)
            )
            if free is not None:
                token.last_used_at = now
    except OperationalError:
        # The savepoint is rolled back; the request goes on with what it has read.
        return


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"API token {token_id} not found", token_id=token_id)
    return token


def list_tokens(session: Session, *, user: User | None = None) -> list[ApiToken]:
    """Tokens, newest first; revoked and expired ones included (the list is a record)."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(
    session: Session, *, actor: Actor, token_id: int, now: datetime | None = None
) -> tuple[ApiToken, bool]:
    """Revoke a token for good; returns it and whether this call revoked it (a second revoke
    changes nothing)."""
    token = get_token(session, token_id)
    if token.revoked_at is not None:
        return token, False
    token.revoked_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "api_token.revoked",
        subject_type="api_token",
        subject_id=token.id,
        customer_id=None,
        before={"revoked_at": None},
        after={
            "user": token.user.username,
            "name": token.name,
            "revoked_at": audit.jsonable(token.revoked_at),
        },
    )
    return token, True
