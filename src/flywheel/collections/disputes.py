"""Disputes: a customer contests part or all of an installment. The disputed amount leaves
dunning while the dispute is open; the undisputed part stays in it. A dispute has an owner and an
SLA; past the SLA the daily cycle escalates it once; it is resolved by a credit note, an
adjustment or a rejection (then the amount is back in dunning)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.config import get_settings
from flywheel.errors import Conflict, InvalidAmount, NotFound, ValidationFailed
from flywheel.kit.money import ZERO as ZERO_MONEY
from flywheel.models.collections import CollectionAction, Dispute
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    ActionKind,
    ActionStatus,
    CollectionChannel,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
)
from flywheel.models.receivables import Installment, Invoice
from flywheel.models.users import User
from flywheel.receivables import service as receivables
from flywheel.receivables.schemas import CreditNoteCreate

AUDITED = (
    "reason",
    "amount",
    "currency",
    "status",
    "owner_id",
    "sla_due_on",
    "resolution",
    "resolution_note",
    "resolved_on",
    "credit_note_id",
)


def _snapshot(dispute: Dispute) -> dict[str, object]:
    return audit.snapshot(dispute, AUDITED)


def disputed_open(
    session: Session, installment_ids: Iterable[int] | None = None
) -> dict[int, Decimal]:
    """The amount under open disputes per installment (only installments that have some)."""
    stmt = (
        select(Dispute.installment_id, func.sum(Dispute.amount))
        .where(Dispute.status == DisputeStatus.OPEN.value, Dispute.installment_id.is_not(None))
        .group_by(Dispute.installment_id)
    )
    if installment_ids is not None:
        ids = list(installment_ids)
        if not ids:
            return {}
        stmt = stmt.where(Dispute.installment_id.in_(ids))
    return {int(i): Decimal(a) for i, a in session.execute(stmt).all() if i is not None}


def open_dispute(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    installment_id: int,
    reason: DisputeReason | str,
    as_of: date,
    amount: Decimal | None = None,
    description: str | None = None,
    source: str = "collector",
    owner_id: int | None = None,
) -> Dispute:
    """Open a dispute on ``installment_id`` of ``customer`` for ``amount`` (default: all that is
    open and not already disputed)."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    try:
        reason = DisputeReason(reason)
    except ValueError as exc:
        choices = ", ".join(r.value for r in DisputeReason)
        raise ValidationFailed(
            f"reason: {reason!r} is not a dispute reason (one of {choices})", field="reason"
        ) from exc
    installment = session.get(Installment, installment_id, with_for_update=True)
    if installment is None or installment.customer_id != customer.id:
        raise NotFound(
            f"installment {installment_id} of customer {customer.code} not found",
            installment_id=installment_id,
        )
    invoice = session.get(Invoice, installment.invoice_id)
    assert invoice is not None
    already = disputed_open(session, [installment.id]).get(installment.id, ZERO_MONEY)
    free = installment.open_amount - already
    if free <= 0:
        raise Conflict(
            f"installment {invoice.number}/{installment.sequence} has nothing left to dispute "
            f"(open {installment.open_amount:.2f}, already disputed {already:.2f})",
            installment_id=installment.id,
        )
    amount = free if amount is None else Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0 or amount > free:
        raise InvalidAmount(
            f"amount: {amount:.2f} must be more than 0 and at most {free:.2f}, the undisputed "
            f"open amount of {invoice.number}/{installment.sequence}",
            field="amount",
        )
    if owner_id is None:
        owner_id = actor.user_id if actor.user_id is not None else customer.owner_id
    dispute = Dispute(
        customer_id=customer.id,
        invoice_id=invoice.id,
        installment_id=installment.id,
        reason=reason.value,
        amount=amount,
        currency=invoice.currency,
        description=(description or "").strip() or None,
        owner_id=owner_id,
        status=DisputeStatus.OPEN.value,
        opened_on=as_of,
        sla_due_on=as_of + timedelta(days=get_settings().dispute_sla_days),
        source=source,
        created_by_id=actor.user_id,
    )
    session.add(dispute)
    session.flush()
    audit.record(
        session,
        actor,
        "dispute.opened",
        subject_type="dispute",
        subject_id=dispute.id,
        customer_id=customer.id,
        after={**_snapshot(dispute), "invoice": invoice.number, "sequence": installment.sequence},
    )
    return dispute


def get_dispute_for(session: Session, dispute_id: int, *, actor: Actor) -> Dispute:
    dispute = session.scalar(
        select(Dispute)
        .join(Customer, Customer.id == Dispute.customer_id)
        .where(Dispute.id == dispute_id, visible_customers(actor))
    )
    if dispute is None:
        raise NotFound(f"dispute {dispute_id} not found", dispute_id=dispute_id)
    return dispute


def resolve_dispute(
    session: Session,
    *,
    actor: Actor,
    dispute_id: int,
    resolution: DisputeResolution | str,
    as_of: date,
    note: str | None = None,
    credit_amount: Decimal | None = None,
    credit_note_number: str | None = None,
) -> Dispute:
    """Close a dispute. ``credit_note``: a credit note for ``credit_amount`` (default the
    disputed amount) reduces the invoice; ``adjustment``: settled outside the ledger (say how in
    the note); ``rejected``: the amount is due after all and back in dunning."""
    permissions.check(actor, Permission.RESOLVE_DISPUTES)
    try:
        resolution = DisputeResolution(resolution)
    except ValueError as exc:
        choices = ", ".join(r.value for r in DisputeResolution)
        raise ValidationFailed(
            f"resolution: {resolution!r} is not one of {choices}", field="resolution"
        ) from exc
    dispute = get_dispute_for(session, dispute_id, actor=actor)
    if dispute.status != DisputeStatus.OPEN.value:
        raise Conflict(f"dispute {dispute.id} is already {dispute.status}", dispute_id=dispute.id)
    text = (note or "").strip() or None
    if resolution is not DisputeResolution.CREDIT_NOTE and text is None:
        raise ValidationFailed("note: say how the dispute was settled", field="note")
    before = _snapshot(dispute)
    if resolution is DisputeResolution.CREDIT_NOTE:
        amount = dispute.amount if credit_amount is None else Decimal(credit_amount)
        credit = receivables.issue_credit_note(
            session,
            actor=actor,
            data=CreditNoteCreate(
                number=credit_note_number or f"CN-DSP-{dispute.id}",
                invoice_id=dispute.invoice_id,
                issue_date=as_of,
                amount=amount,
                reason=text or f"dispute {dispute.id}: {dispute.reason}",
            ),
        )
        dispute.credit_note_id = credit.id
    dispute.status = DisputeStatus.RESOLVED.value
    dispute.resolution = resolution.value
    dispute.resolution_note = text
    dispute.resolved_on = as_of
    session.flush()
    audit.record(
        session,
        actor,
        "dispute.resolved",
        subject_type="dispute",
        subject_id=dispute.id,
        customer_id=dispute.customer_id,
        before=before,
        after=_snapshot(dispute),
    )
    return dispute


def reassign(session: Session, *, actor: Actor, dispute_id: int, owner_id: int | None) -> Dispute:
    permissions.check(actor, Permission.RESOLVE_DISPUTES)
    dispute = get_dispute_for(session, dispute_id, actor=actor)
    if owner_id is not None and session.get(User, owner_id) is None:
        raise ValidationFailed(f"owner_id: there is no user {owner_id}", field="owner_id")
    before = _snapshot(dispute)
    dispute.owner_id = owner_id
    session.flush()
    audit.record(
        session,
        actor,
        "dispute.reassigned",
        subject_type="dispute",
        subject_id=dispute.id,
        customer_id=dispute.customer_id,
        before=before,
        after=_snapshot(dispute),
    )
    return dispute


def escalate_past_sla(session: Session, *, actor: Actor, as_of: date) -> int:
    """Open an escalation task, once, for every open dispute past its SLA."""
    late = session.scalars(
        select(Dispute).where(
            Dispute.status == DisputeStatus.OPEN.value,
            Dispute.sla_due_on < as_of,
            Dispute.escalated_on.is_(None),
        )
    ).all()
    for dispute in late:
        dispute.escalated_on = as_of
        session.add(
            CollectionAction(
                customer_id=dispute.customer_id,
                due_on=as_of,
                kind=ActionKind.DISPUTE_SLA.value,
                channel=CollectionChannel.ESCALATION.value,
                status=ActionStatus.OPEN.value,
                automatic=False,
                dedupe_key=f"dispute-sla:{dispute.id}",
                assigned_to_id=dispute.owner_id,
                amount=dispute.amount,
                currency=dispute.currency,
                note=f"dispute {dispute.id} ({dispute.reason}) is past its SLA of "
                f"{dispute.sla_due_on.isoformat()}",
            )
        )
        audit.record(
            session,
            actor,
            "dispute.escalated",
            subject_type="dispute",
            subject_id=dispute.id,
            customer_id=dispute.customer_id,
            after={"sla_due_on": dispute.sla_due_on.isoformat(), "escalated_on": as_of.isoformat()},
        )
    session.flush()
    return len(late)


def disputes_query(
    actor: Actor,
    *,
    status: DisputeStatus | None = None,
    customer_id: int | None = None,
    owner_id: int | None = None,
    reason: DisputeReason | None = None,
) -> Select[Dispute, Customer]:
    """Disputes the actor may see, oldest SLA first."""
    stmt = (
        select(Dispute, Customer)
        .join(Customer, Customer.id == Dispute.customer_id)
        .where(visible_customers(actor))
        .order_by(Dispute.sla_due_on, Dispute.id)
    )
    if status is not None:
        stmt = stmt.where(Dispute.status == status.value)
    if customer_id is not None:
        stmt = stmt.where(Dispute.customer_id == customer_id)
    if owner_id is not None:
        stmt = stmt.where(Dispute.owner_id == owner_id)
    if reason is not None:
        stmt = stmt.where(Dispute.reason == reason.value)
    return stmt


@dataclass(frozen=True, slots=True)
class Friction:
    reason: str
    opened: int
    amount: Decimal
    still_open: int


def friction_by_reason(session: Session, *, since: date, until: date) -> list[Friction]:
    """Disputes opened in [since, until] by reason: the friction the flywheel dashboard and the
    feedback side show next to complaints."""
    rows = session.execute(
        select(
            Dispute.reason,
            func.count(Dispute.id),
            func.coalesce(func.sum(Dispute.amount), 0),
            func.count(Dispute.id).filter(Dispute.status == DisputeStatus.OPEN.value),
        )
        .where(Dispute.opened_on >= since, Dispute.opened_on <= until)
        .group_by(Dispute.reason)
        .order_by(func.count(Dispute.id).desc())
    ).all()
    return [
        Friction(r, int(n), Decimal(a).quantize(Decimal("0.01")), int(o)) for r, n, a, o in rows
    ]


def open_counts(session: Session, *, as_of: date) -> dict[int, int]:
    """Open disputes per customer on ``as_of`` (opened by then, not resolved by then): the
    credit score's "open disputes" factor."""
    rows = session.execute(
        select(Dispute.customer_id, func.count(Dispute.id))
        .where(
            Dispute.opened_on <= as_of,
            (Dispute.resolved_on.is_(None)) | (Dispute.resolved_on > as_of),
        )
        .group_by(Dispute.customer_id)
    ).all()
    return {int(c): int(n) for c, n in rows}
