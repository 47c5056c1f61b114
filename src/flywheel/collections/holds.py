"""Credit holds placed by collections (a strategy step or a person): the credit check refuses
new orders and invoices of a customer on hold until the hold is released."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.models.base import utcnow
from flywheel.models.collections import CreditHoldPlacement


def hold_of(session: Session, customer_id: int) -> CreditHoldPlacement | None:
    return session.get(CreditHoldPlacement, customer_id)


def held_customers(session: Session, customer_ids: Iterable[int] | None = None) -> set[int]:
    stmt = select(CreditHoldPlacement.customer_id)
    if customer_ids is not None:
        stmt = stmt.where(CreditHoldPlacement.customer_id.in_(list(customer_ids)))
    return set(session.scalars(stmt))


def place(
    session: Session,
    *,
    actor: Actor,
    customer_id: int,
    as_of: date,
    reason: str,
    action_id: int | None = None,
) -> CreditHoldPlacement | None:
    """Put the customer on hold; None when it already is. A person needs the right to override
    credit holds (the daily cycle acts as the system)."""
    if actor.user_id is not None:
        permissions.check(actor, Permission.OVERRIDE_CREDIT_HOLD)
    if hold_of(session, customer_id) is not None:
        return None
    hold = CreditHoldPlacement(
        customer_id=customer_id,
        placed_on=as_of,
        reason=reason,
        action_id=action_id,
        placed_by_id=actor.user_id,
    )
    session.add(hold)
    session.flush()
    audit.record(
        session,
        actor,
        "credit.hold_placed",
        subject_type="customer",
        subject_id=customer_id,
        customer_id=customer_id,
        after={"placed_on": as_of.isoformat(), "reason": reason},
    )
    return hold


def place_many(
    session: Session, *, actor: Actor, as_of: date, holds: list[tuple[int, int | None, str]]
) -> int:
    """The daily cycle's holds at once: (customer, action, reason) for each; customers already
    on hold are left as they are. Returns how many were placed."""
    held = held_customers(session, [customer_id for customer_id, _, _ in holds])
    now = utcnow()
    rows: list[dict[str, object]] = []
    for customer_id, action_id, reason in holds:
        if customer_id in held:
            continue
        held.add(customer_id)
        rows.append(
            {
                "customer_id": customer_id,
                "placed_on": as_of,
                "reason": reason,
                "action_id": action_id,
                "placed_by_id": actor.user_id,
                "created_at": now,
            }
        )
    if not rows:
        return 0
    session.execute(insert(cast(Table, CreditHoldPlacement.__table__)), rows)
    audit.record_many(
        session,
        actor,
        [
            {
                "action": "credit.hold_placed",
                "subject_type": "customer",
                "subject_id": row["customer_id"],
                "customer_id": row["customer_id"],
                "before": None,
                "after": {"placed_on": as_of.isoformat(), "reason": row["reason"]},
            }
            for row in rows
        ],
    )
    return len(rows)


def release(session: Session, *, actor: Actor, customer_id: int, reason: str) -> bool:
    """Lift the customer's hold; False when there was none. A person needs the right to
    override credit holds; the daily cycle releases a hold once nothing is overdue."""
    if actor.user_id is not None:
        permissions.check(actor, Permission.OVERRIDE_CREDIT_HOLD)
    hold = hold_of(session, customer_id)
    if hold is None:
        return False
    audit.record(
        session,
        actor,
        "credit.hold_released",
        subject_type="customer",
        subject_id=customer_id,
        customer_id=customer_id,
        before={"placed_on": hold.placed_on.isoformat(), "reason": hold.reason},
        after={"reason": reason},
    )
    session.delete(hold)
    session.flush()
    return True
