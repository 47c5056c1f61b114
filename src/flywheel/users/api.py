"""JSON routes for managing users (admins only): list, create, change role, activity, name and
language, and reset a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.models.enums import Role
from flywheel.users import service
from flywheel.users.schemas import (
    PasswordReset,
    PasswordResetOut,
    UserChanges,
    UserNew,
    UserOut,
    UserPage,
)
from flywheel.web.auth import require
from flywheel.web.contract import ERROR_RESPONSES, Paging
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/users", tags=["users"], responses=ERROR_RESPONSES)

ManageUsers = Annotated[Actor, Depends(require(Permission.MANAGE_USERS))]


@router.get("", response_model=UserPage, summary="List users")
def list_users(
    session: SessionDep,
    actor: ManageUsers,
    paging: Paging,
    role: Role | None = None,
    active: bool | None = None,
    search: Annotated[
        str | None, Query(max_length=120, description="Part of the username or display name.")
    ] = None,
) -> UserPage:
    users, total = service.find_users(
        session,
        role=role,
        active=active,
        search=search,
        limit=paging.limit,
        offset=paging.offset,
    )
    return UserPage(
        items=[UserOut.of(user) for user in users],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post("", response_model=UserOut, status_code=201, summary="Create a user")
def create_user(body: UserNew, session: SessionDep, actor: ManageUsers) -> UserOut:
    """Without a password the user cannot sign in until one is set (reset-password)."""
    return UserOut.of(service.register_user(session, actor=actor, data=body))


@router.patch("/{username}", response_model=UserOut, summary="Change a user")
def change_user(
    username: str, body: UserChanges, session: SessionDep, actor: ManageUsers
) -> UserOut:
    """Role, active, display name, e-mail, language: only the fields sent change. The last
    active admin can be neither demoted nor disabled (409 last_admin)."""
    user, _ = service.update_user(session, actor=actor, username=username, data=body)
    return UserOut.of(user)


@router.post(
    "/{username}/reset-password",
    response_model=PasswordResetOut,
    summary="Reset a user's password",
)
def reset_password(
    username: str, body: PasswordReset, session: SessionDep, actor: ManageUsers
) -> PasswordResetOut:
    """Sets the password given, or generates one (shown in this answer only); clears a
    sign-in lock."""
    user = service.get_by_username(session, username)
    password = service.reset_password(session, actor=actor, user=user, new_password=body.password)
    return PasswordResetOut(
        username=user.username, generated_password=None if body.password else password
    )
