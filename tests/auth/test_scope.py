"""The scoping rule: a sales rep sees only the accounts he owns; viewers only read."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import can_write, visible_customers
from flywheel.models.customers import Customer
from flywheel.models.enums import Role
from tests.factories import make_customer, make_user


def _visible_codes(session: Session, actor: Actor) -> list[str]:
    return list(
        session.scalars(
            select(Customer.code).where(visible_customers(actor)).order_by(Customer.code)
        )
    )


@pytest.fixture
def book(session: Session) -> dict[str, Actor]:
    """Two reps with one account each, and one account nobody owns."""
    alice = make_user(session, username="alice", role=Role.SALES)
    bob = make_user(session, username="bob", role=Role.SALES)
    make_customer(session, code="S-ALICE", owner=alice)
    make_customer(session, code="S-BOB", owner=bob)
    make_customer(session, code="S-NOBODY")
    return {"alice": Actor.for_user(alice), "bob": Actor.for_user(bob)}


def test_actor_for_user_carries_id_name_role_language_and_display_name(session: Session) -> None:
    user = make_user(session, username="carol", role=Role.COLLECTOR)

    assert Actor.for_user(user) == Actor(
        name="carol", role=Role.COLLECTOR, user_id=user.id, language="zh", display_name="carol"
    )


def test_a_sales_rep_sees_only_the_accounts_he_owns(
    session: Session, book: dict[str, Actor]
) -> None:
    assert _visible_codes(session, book["alice"]) == ["S-ALICE"]
    assert _visible_codes(session, book["bob"]) == ["S-BOB"]


def test_a_sales_actor_without_a_user_sees_nothing(
    session: Session, book: dict[str, Actor]
) -> None:
    assert _visible_codes(session, Actor(name="ghost", role=Role.SALES, user_id=None)) == []


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.MANAGER, Role.FINANCE, Role.COLLECTOR, Role.VIEWER]
)
def test_other_roles_see_every_account(
    session: Session, book: dict[str, Actor], role: Role
) -> None:
    user = make_user(session, role=role)

    assert _visible_codes(session, Actor.for_user(user)) == ["S-ALICE", "S-BOB", "S-NOBODY"]


def test_a_system_actor_sees_every_account(session: Session, book: dict[str, Actor]) -> None:
    assert _visible_codes(session, Actor.system("job")) == ["S-ALICE", "S-BOB", "S-NOBODY"]


@pytest.mark.parametrize(
    ("role", "writes"),
    [
        (Role.ADMIN, True),
        (Role.MANAGER, True),
        (Role.SALES, True),
        (Role.COLLECTOR, True),
        (Role.FINANCE, True),
        (Role.VIEWER, False),
    ],
)
def test_only_the_viewer_is_read_only(role: Role, writes: bool) -> None:
    assert can_write(Actor(name="someone", role=role, user_id=1)) is writes
