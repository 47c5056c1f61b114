"""An account's timeline: what was done to it (its audit events: who changed what, before and
after) and with it (its touchpoints), newest first, one page at a time.

A page costs a fixed number of statements: one per stream (audit events, touchpoints) and at
most one per kind of record the events name by id (people, accounts, contacts, invoices,
payments, orders). Pages are cut by a cursor, not an offset, so "load more" neither skips nor
repeats an entry when something new happens in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from flywheel.auth.actor import Actor
from flywheel.customers.service import get_customer_by_code
from flywheel.errors import ValidationFailed
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.receivables import Invoice, Payment
from flywheel.models.sales import Order
from flywheel.models.users import User

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# A touchpoint is on the timeline itself, with its contact and satisfaction; the audit event
# written when it was logged would only repeat it.
HIDDEN_ACTIONS = ("touchpoint.logged",)

# At the same moment a touchpoint comes before (above) an audit event.
_AUDIT, _TOUCHPOINT = 0, 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Snapshot fields holding the id of another record, by the kind of record.
_REFERENCES: dict[str, str] = {
    "owner_id": "user",
    "user_id": "user",
    "parent_id": "customer",
    "referred_by_id": "customer",
    "contact_id": "contact",
    "invoice_id": "invoice",
    "payment_id": "payment",
    "order_id": "order",
}
# Fields that only repeat which account the entry belongs to.
_OMITTED = frozenset({"customer_id"})


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """Where a page ends: entries strictly older (in timeline order) come next."""

    occurred_at: datetime
    rank: int
    id: int

    def token(self) -> str:
        micros = (self.occurred_at - _EPOCH) // _MICROSECOND
        return f"{micros}.{self.rank}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        try:
            micros, rank, row_id = (int(part) for part in token.split("."))
            if rank not in (_AUDIT, _TOUCHPOINT) or row_id < 0:
                raise ValueError(token)
            return cls(_EPOCH + micros * _MICROSECOND, rank, row_id)
        except (ValueError, OverflowError) as exc:
            raise ValidationFailed(f"not a timeline position: {token!r}", field="before") from exc


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an audit event: its value before and after (None when there was none).
    Ids of other records are replaced by what people call them (a name, a number)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    kind: Literal["audit", "touchpoint"]
    occurred_at: datetime
    cursor: Cursor
    who: str | None  # audit: the actor; touchpoint: our person who had it
    # audit events
    action: str | None = None
    subject_type: str | None = None
    change: Literal["create", "update", "remove"] | None = None  # what the event did
    changes: list[FieldChange] = field(default_factory=list)
    currency: str | None = None  # of the money in the changes
    # touchpoints
    touchpoint_kind: str | None = None
    contact: str | None = None
    summary: str | None = None
    satisfaction: int | None = None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: Cursor | None  # None: this was the last page


def timeline(
    session: Session,
    code: str,
    *,
    actor: Actor,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """A page of the timeline of the account ``code``, if ``actor`` may see it."""
    customer = get_customer_by_code(session, code, actor=actor)
    return timeline_of(session, customer, before=before, limit=limit)


def timeline_of(
    session: Session,
    customer: Customer,
    *,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """A page of the timeline of ``customer`` (loaded through a scoped getter)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    events = _audit_events(session, customer.id, before, limit + 1)
    touchpoints = _touchpoints(session, customer.id, before, limit + 1)
    names = _Names.load(session, (e.before for e in events), (e.after for e in events))
    entries = [_audit_entry(e, names, customer.currency) for e in events]
    entries += [_touchpoint_entry(*row) for row in touchpoints]
    entries.sort(key=lambda entry: entry.cursor, reverse=True)
    # Each stream gave up to limit + 1 rows, so the first ``limit`` merged are the right ones.
    page = entries[:limit]
    more = len(entries) > limit
    return TimelinePage(entries=page, next_cursor=page[-1].cursor if more and page else None)


def _older_than(
    moment: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[int],
    rank: int,
    cursor: Cursor | None,
) -> ColumnElement[bool]:
    if cursor is None:
        return true()
    if rank < cursor.rank:
        # Every row of this stream at the cursor's moment sorts after the cursor.
        return moment <= cursor.occurred_at
    if rank > cursor.rank:
        return moment < cursor.occurred_at
    return or_(moment < cursor.occurred_at, and_(moment == cursor.occurred_at, row_id < cursor.id))


def _audit_statement(cursor: Cursor | None) -> Select[AuditEvent]:
    return (
        select(AuditEvent)
        .where(
            AuditEvent.customer_id == bindparam("customer_id"),
            AuditEvent.action.not_in(HIDDEN_ACTIONS),
            _older_than(AuditEvent.occurred_at, AuditEvent.id, _AUDIT, cursor),
        )
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(bindparam("limit"))
    )


def _touchpoint_statement(cursor: Cursor | None) -> Select[Touchpoint, str, str]:
    return (
        select(Touchpoint, Contact.name, User.display_name)
        .outerjoin(Contact, Touchpoint.contact_id == Contact.id)
        .outerjoin(User, Touchpoint.user_id == User.id)
        .where(
            Touchpoint.customer_id == bindparam("customer_id"),
            _older_than(Touchpoint.occurred_at, Touchpoint.id, _TOUCHPOINT, cursor),
        )
        .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc())
        .limit(bindparam("limit"))
    )


# The first page, which every 360 shows, built once: building these costs more than running them.
_FIRST_AUDIT_PAGE = _audit_statement(None)
_FIRST_TOUCHPOINT_PAGE = _touchpoint_statement(None)


def _audit_events(
    session: Session, customer_id: int, before: Cursor | None, limit: int
) -> list[AuditEvent]:
    statement = _FIRST_AUDIT_PAGE if before is None else _audit_statement(before)
    return list(session.scalars(statement, {"customer_id": customer_id, "limit": limit}))


def _touchpoints(
    session: Session, customer_id: int, before: Cursor | None, limit: int
) -> list[tuple[Touchpoint, str | None, str | None]]:
    statement = _FIRST_TOUCHPOINT_PAGE if before is None else _touchpoint_statement(before)
    rows = session.execute(statement, {"customer_id": customer_id, "limit": limit}).all()
    return [(touchpoint, contact, person) for touchpoint, contact, person in rows]


def _touchpoint_entry(
    touchpoint: Touchpoint, contact: str | None, person: str | None
) -> TimelineEntry:
    return TimelineEntry(
        kind="touchpoint",
        occurred_at=touchpoint.occurred_at,
        cursor=Cursor(touchpoint.occurred_at, _TOUCHPOINT, touchpoint.id),
        who=person,
        touchpoint_kind=touchpoint.kind,
        contact=contact,
        summary=touchpoint.summary,
        satisfaction=touchpoint.satisfaction,
    )


def _audit_entry(event: AuditEvent, names: _Names, account_currency: str) -> TimelineEntry:
    before, after = event.before or {}, event.after or {}
    change: Literal["create", "update", "remove"] = (
        "update"
        if event.before is not None and event.after is not None
        else "remove"
        if event.after is None
        else "create"
    )
    if change == "update":
        fields = [k for k in after if k not in _OMITTED] + [
            k for k in before if k not in after and k not in _OMITTED
        ]
    else:
        # A creation (only "after") or a removal (only "before"): its non-empty fields.
        shown = after if event.after is not None else before
        fields = [k for k, v in shown.items() if k not in _OMITTED and v not in (None, "", [])]
    changes = [
        FieldChange(
            name,
            names.of(name, before.get(name)) if event.before is not None else None,
            names.of(name, after.get(name)) if event.after is not None else None,
        )
        for name in fields
    ]
    currency = after.get("currency") or before.get("currency") or account_currency
    return TimelineEntry(
        kind="audit",
        occurred_at=event.occurred_at,
        cursor=Cursor(event.occurred_at, _AUDIT, event.id),
        who=event.actor_name,
        action=event.action,
        subject_type=event.subject_type,
        change=change,
        changes=changes,
        currency=currency if isinstance(currency, str) else account_currency,
    )


class _Names:
    """What the ids in a page of audit snapshots stand for: one statement per kind."""

    def __init__(self, found: dict[str, dict[int, str]]) -> None:
        self._found = found

    @classmethod
    def load(cls, session: Session, *snapshots: Iterable[dict[str, Any] | None]) -> _Names:
        wanted: dict[str, set[int]] = {}
        for group in snapshots:
            for snapshot in group:
                for name, value in (snapshot or {}).items():
                    kind = _REFERENCES.get(name)
                    if kind is not None and isinstance(value, int) and not isinstance(value, bool):
                        wanted.setdefault(kind, set()).add(value)
        found = {kind: _LOOKUPS[kind](session, ids) for kind, ids in wanted.items()}
        return cls(found)

    def of(self, name: str, value: Any) -> Any:
        kind = _REFERENCES.get(name)
        if kind is None or not isinstance(value, int):
            return value
        return self._found.get(kind, {}).get(value, f"#{value}")


def _users(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    ).all()
    return {uid: display or username for uid, display, username in rows}


def _customers(session: Session, ids: set[int]) -> dict[int, str]:
    # An account outside the actor's scope is still named (being its parent or referrer is a
    # fact of this account), never linked: the rule of ``figures.RelatedAccount``.
    rows = session.execute(
        select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(ids))
    ).all()
    return {cid: f"{name} ({code})" for cid, code, name in rows}


def _contacts(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(ids))).all())


def _invoices(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(
        session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids))).all()
    )


def _payments(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(
        session.execute(select(Payment.id, Payment.reference).where(Payment.id.in_(ids))).all()
    )


def _orders(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(Order.id, Order.number).where(Order.id.in_(ids))).all())


_LOOKUPS = {
    "user": _users,
    "customer": _customers,
    "contact": _contacts,
    "invoice": _invoices,
    "payment": _payments,
    "order": _orders,
}
