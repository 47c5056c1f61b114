"""The audit trail of one invoice: its own events and those of the payments, allocations and
credit notes that touched it, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.models.audit import AuditEvent
from flywheel.models.receivables import Allocation, CreditNote, Invoice
from flywheel.receivables.browse import get_invoice_for

HISTORY_LIMIT = 200


def invoice_history(
    session: Session, number: str, *, actor: Actor, limit: int = HISTORY_LIMIT
) -> list[AuditEvent]:
    """The audit events about the invoice ``number`` (if ``actor`` may see it)."""
    return invoice_history_of(session, get_invoice_for(session, number, actor=actor), limit=limit)


def invoice_history_of(
    session: Session, invoice: Invoice, *, limit: int = HISTORY_LIMIT
) -> list[AuditEvent]:
    """The audit events about ``invoice`` (loaded through a scoped getter), newest first.

    An undone allocation's row is gone, so allocation events are matched by what they name
    (the invoice's id or number) rather than by their subject id.
    """
    sources = session.execute(
        select(Allocation.payment_id, Allocation.credit_note_id).where(
            Allocation.invoice_id == invoice.id
        )
    ).all()
    payment_ids = {p for p, _ in sources if p is not None}
    note_ids = set(
        session.scalars(select(CreditNote.id).where(CreditNote.invoice_id == invoice.id))
    )
    subjects = [and_(AuditEvent.subject_type == "invoice", AuditEvent.subject_id == invoice.id)]
    if payment_ids:
        subjects.append(
            and_(AuditEvent.subject_type == "payment", AuditEvent.subject_id.in_(payment_ids))
        )
    if note_ids:
        subjects.append(
            and_(AuditEvent.subject_type == "credit_note", AuditEvent.subject_id.in_(note_ids))
        )
    subjects.append(
        and_(
            AuditEvent.subject_type == "allocation",
            AuditEvent.customer_id == invoice.customer_id,
        )
    )
    events: Sequence[AuditEvent] = session.scalars(
        select(AuditEvent)
        .where(or_(*subjects))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    ).all()
    kept = [e for e in events if e.subject_type != "allocation" or _names_invoice(e, invoice)]
    return kept[:limit]


def _names_invoice(event: AuditEvent, invoice: Invoice) -> bool:
    snapshots: list[dict[str, Any]] = [s for s in (event.before, event.after) if s]
    return any(
        s.get("invoice_id") == invoice.id or s.get("invoice") == invoice.number for s in snapshots
    )
