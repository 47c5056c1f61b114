"""Writes audit events in the caller's transaction; snapshots turn rows into JSON-safe dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.kit.context import current_request_id
from flywheel.models.audit import AuditEvent
from flywheel.models.base import utcnow


def jsonable(value: Any) -> Any:
    """Money as a string (exact), dates ISO, enums by value: what an auditor reads back."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The keys whose value differs, with the new value."""
    return {k: v for k, v in after.items() if before.get(k) != v}


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_id: int | None,
    customer_id: int | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        actor_name=actor.name,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        customer_id=customer_id,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        request_id=request_id or current_request_id(),
    )
    session.add(event)
    return event


def record_many(session: Session, actor: Actor, events: list[dict[str, Any]]) -> int:
    """Bulk form for imports: each dict has action, subject_type, subject_id, customer_id,
    before and after. Written with one executemany in the caller's transaction."""
    if not events:
        return 0
    now = utcnow()
    rows = [
        {
            "occurred_at": now,
            "actor_id": actor.user_id,
            "actor_name": actor.name,
            "request_id": current_request_id(),
            **event,
        }
        for event in events
    ]
    session.execute(insert(AuditEvent), rows)
    return len(rows)


def apply_update(
    session: Session,
    actor: Actor,
    obj: Any,
    values: Mapping[str, Any],
    *,
    action: str,
    subject_type: str,
    customer_id: int | None,
    fields: Iterable[str],
) -> bool:
    """Set ``values`` on ``obj``; when anything changed, flush and record the changed fields
    before and after. Returns whether anything changed."""
    fields = tuple(fields)
    if all(getattr(obj, k) == v for k, v in values.items()):
        return False
    before = snapshot(obj, fields)
    for key, value in values.items():
        setattr(obj, key, value)
    session.flush()
    after = snapshot(obj, fields)
    difference = changed(before, after)
    record(
        session,
        actor,
        action,
        subject_type=subject_type,
        subject_id=obj.id,
        customer_id=customer_id,
        before={k: before[k] for k in difference},
        after=difference,
    )
    return True
