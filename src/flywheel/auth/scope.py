"""Which accounts an actor may see and change: the one rule every customer query starts from."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from flywheel.auth.actor import Actor
from flywheel.models.customers import Customer
from flywheel.models.enums import Role

# A sales rep works his own book of accounts; every other role looks across all of them.
OWNER_SCOPED_ROLES = frozenset({Role.SALES})
READ_ONLY_ROLES = frozenset({Role.VIEWER})


def visible_customers(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on ``Customer`` keeping the accounts ``actor`` may see.

    Applied inside the query, never after loading, so totals, pages and "not found" answers
    never count or reveal an account outside the actor's scope.
    """
    if actor.role in OWNER_SCOPED_ROLES:
        if actor.user_id is None:
            # An owner-scoped actor that is not a user owns nothing.
            return false()
        return Customer.owner_id == actor.user_id
    return true()


def can_write(actor: Actor) -> bool:
    """Whether ``actor`` may change anything at all (within his scope); viewers only read."""
    return actor.role not in READ_ONLY_ROLES
