"""Users: creating and finding them, roles, enabling, passwords and password sign-in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import passwords
from flywheel.auth.actor import Actor
from flywheel.errors import Conflict, LastAdmin, NotFound, ValidationFailed, WrongPassword
from flywheel.models.enums import Language, Role
from flywheel.models.users import User
from flywheel.users.schemas import UserChanges, UserNew

# Sign-in throttling: this many failures in a row lock the account for LOCKOUT. While locked,
# no password is checked; once the lock ends, each further failure locks it again until a
# successful sign-in (or a password reset) resets the count.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def get_by_username(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"user {username} not found", username=username)
    return user


def find_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", user_id=user_id)
    return user


def list_users(session: Session, *, role: Role | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if role is not None:
        query = query.where(User.role == role.value)
    return list(session.scalars(query))


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationFailed(
            f"unknown role {value!r}; choose one of {choices}", field="role", value=value
        ) from None


def parse_language(value: str) -> Language:
    try:
        return Language(value.strip().lower())
    except ValueError:
        raise ValidationFailed(
            f"unknown language {value!r}; choose zh or en", field="language", value=value
        ) from None


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str | None = None,
    email: str | None = None,
    role: Role = Role.SALES,
    language: str = "zh",
    password: str | None = None,
) -> User:
    """A new active user; with ``password`` (checked against the policy) they can sign in."""
    if not username.strip() or len(username) > 64 or username != username.strip():
        raise ValidationFailed(
            "username must be 1 to 64 characters without surrounding spaces",
            field="username",
            username=username,
        )
    if find_by_username(session, username) is not None:
        raise Conflict(f"user {username} already exists", username=username)
    password_hash = None
    if password is not None:
        passwords.check_password_policy(password, username=username)
        password_hash = passwords.hash_password(password)
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        role=role.value,
        language=language,
        is_active=True,
        password_hash=password_hash,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    after: dict[str, Any] = {"username": username, "role": role.value}
    if password is not None:
        after["password_set"] = True
    _record(session, actor, "user.created", user, after=after)
    return user


def set_role(session: Session, *, actor: Actor, user: User, role: Role) -> bool:
    """Give ``user`` another role; returns whether it changed."""
    if user.role == role.value:
        return False
    if user.role == Role.ADMIN.value:
        _keep_an_admin(session, user)
    before = {"role": user.role}
    user.role = role.value
    session.flush()
    _record(session, actor, "user.role_changed", user, before=before, after={"role": role.value})
    return True


def set_language(session: Session, *, actor: Actor, user: User, language: Language) -> bool:
    """The language ``user`` reads Flywheel in (pages, e-mails); returns whether it changed."""
    if user.language == language.value:
        return False
    before = {"language": user.language}
    user.language = language.value
    session.flush()
    _record(
        session,
        actor,
        "user.language_changed",
        user,
        before=before,
        after={"language": language.value},
    )
    return True


def disable_user(session: Session, *, actor: Actor, user: User) -> bool:
    """Stop ``user`` from signing in or using API tokens; their history stays. Returns whether
    it changed."""
    if not user.is_active:
        return False
    if user.role == Role.ADMIN.value:
        _keep_an_admin(session, user)
    user.is_active = False
    session.flush()
    _record(
        session,
        actor,
        "user.disabled",
        user,
        before={"is_active": True},
        after={"is_active": False},
    )
    return True


def enable_user(session: Session, *, actor: Actor, user: User) -> bool:
    if user.is_active:
        return False
    user.is_active = True
    session.flush()
    _record(
        session, actor, "user.enabled", user, before={"is_active": False}, after={"is_active": True}
    )
    return True


def reset_password(
    session: Session, *, actor: Actor, user: User, new_password: str | None = None
) -> str:
    """Set ``new_password``, or a generated one; returns the password now in force. Clears any
    sign-in lock: an admin resetting a password is how a locked-out user gets back in."""
    password = new_password if new_password is not None else passwords.generate_password()
    passwords.check_password_policy(password, username=user.username)
    user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    _record(
        session,
        actor,
        "user.password_reset",
        user,
        after={"generated": new_password is None},
    )
    return password


def change_password(
    session: Session, *, actor: Actor, user: User, old_password: str, new_password: str
) -> None:
    """The user's own change: the old password must match. Raises ``WrongPassword``."""
    if not passwords.verify_password(user.password_hash, old_password):
        raise WrongPassword("the current password is not correct")
    passwords.check_password_policy(new_password, username=user.username)
    if passwords.verify_password(user.password_hash, new_password):
        raise ValidationFailed(
            "the new password must differ from the current one (rule: not_current)",
            rule="not_current",
        )
    user.password_hash = passwords.hash_password(new_password)
    session.flush()
    _record(session, actor, "user.password_changed", user, after={"password_set": True})


def is_locked(user: User, *, now: datetime) -> bool:
    """Whether sign-in is refused for now because of too many failures."""
    return user.locked_until is not None and user.locked_until > now


def authenticate_password(
    session: Session, username: str, password: str, *, now: datetime
) -> User | None:
    """The user, when the password is theirs and they may sign in; otherwise None.

    Unknown, disabled, password-less and locked users all get None, after the same work, so
    that the answer reveals nothing. A wrong password counts towards the lock (see
    ``MAX_FAILED_LOGINS``); a right one resets the count. The caller commits either way.
    """
    # The row lock makes concurrent failures count one by one (PostgreSQL; SQLite has a
    # single writer anyway), and populate_existing reads the count as committed.
    user = session.scalars(
        select(User)
        .where(User.username == username)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if user is None or not user.is_active or is_locked(user, now=now):
        passwords.verify_password(None, password)
        return None
    if not passwords.verify_password(user.password_hash, password):
        if user.password_hash is not None:
            _count_failure(session, user, now=now)
        return None
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins = 0
        user.locked_until = None
    if user.password_hash is not None and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.flush()
    return user


def _count_failure(session: Session, user: User, *, now: datetime) -> None:
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        session.flush()
        _record(
            session,
            Actor.system("sign-in"),
            "user.locked",
            user,
            after={
                "failed_logins": user.failed_logins,
                "locked_until": audit.jsonable(user.locked_until),
            },
        )
        return
    session.flush()


def _keep_an_admin(session: Session, leaving: User) -> None:
    """Refuse to demote or disable the last active admin: nobody could manage users then."""
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True), User.id != leaving.id)
    )
    if not others:
        raise LastAdmin(
            f"{leaving.username} is the last active admin; make another user admin first",
            username=leaving.username,
        )


def _record(
    session: Session,
    actor: Actor,
    action: str,
    user: User,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor,
        action,
        subject_type="user",
        subject_id=user.id,
        customer_id=None,
        before=before,
        after=after,
    )


# ---------------------------------------------------------------- the admin's API and pages


def find_users(
    session: Session,
    *,
    role: Role | None = None,
    active: bool | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[User], int]:
    """A page of users by username, filtered by role, active or not, and part of the username
    or display name; and the number matching."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role.value)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    text = search.strip() if search else ""
    if text:
        query = query.where(
            User.username.icontains(text, autoescape=True)
            | User.display_name.icontains(text, autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(User.username).limit(limit).offset(offset))
    return list(page), total


def register_user(session: Session, *, actor: Actor, data: UserNew) -> User:
    """A new user from the admin's API or page (``create_user`` with its checks)."""
    return create_user(
        session,
        actor=actor,
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        role=data.role,
        language=data.language.value,
        password=data.password,
    )


PROFILE_FIELDS = ("display_name", "email")


def update_user(
    session: Session, *, actor: Actor, username: str, data: UserChanges
) -> tuple[User, bool]:
    """Apply the fields sent in ``data`` to the user ``username``: role, active, language,
    display name, e-mail. Each kind of change is audited as its own event; the last active
    admin can be neither demoted nor disabled. Returns (user, changed)."""
    user = get_by_username(session, username)
    changes = data.changes()
    changed = False
    if "role" in changes:
        changed |= set_role(session, actor=actor, user=user, role=changes["role"])
    if "active" in changes:
        if changes["active"]:
            changed |= enable_user(session, actor=actor, user=user)
        else:
            changed |= disable_user(session, actor=actor, user=user)
    if "language" in changes:
        changed |= set_language(session, actor=actor, user=user, language=changes["language"])
    profile = {name: changes[name] for name in PROFILE_FIELDS if name in changes}
    if profile:
        changed |= audit.apply_update(
            session,
            actor,
            user,
            profile,
            action="user.updated",
            subject_type="user",
            customer_id=None,
            fields=PROFILE_FIELDS,
        )
    return user, changed
