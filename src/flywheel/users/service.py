"""Creating and finding users (sign-in and roles arrive with the web application)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.errors import Conflict, NotFound
from flywheel.models.enums import Role
from flywheel.models.users import User


def get_by_username(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"user {username} not found", username=username)
    return user


def find_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str | None = None,
    email: str | None = None,
    role: Role = Role.SALES,
    language: str = "zh",
) -> User:
    if find_by_username(session, username) is not None:
        raise Conflict(f"user {username} already exists", username=username)
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        role=role.value,
        language=language,
        is_active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.created",
        subject_type="user",
        subject_id=user.id,
        customer_id=None,
        after={"username": username, "role": role.value},
    )
    return user
