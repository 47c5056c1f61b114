"""What a person does with collection actions: log a call and its outcome (a promise, a
dispute, "paid"), send a message the strategy left for review, place a hold, finish or cancel a
task. Each change is audited; a logged call is also a touchpoint on the account's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.collections import disputes, holds, outbox, promises
from flywheel.collections.messages import contacts_for, webhook_payload
from flywheel.collections.templates import Renderer
from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import TouchpointIn
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.models.base import utcnow
from flywheel.models.collections import (
    CollectionAction,
    CollectionActionItem,
    CollectionStep,
    Dispute,
    PromiseToPay,
)
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    ActionKind,
    ActionStatus,
    CallOutcome,
    CollectionChannel,
    DisputeReason,
    TouchpointKind,
)
from flywheel.models.receivables import Installment

AUDITED = ("status", "outcome", "note", "assigned_to_id")


def _snapshot(action: CollectionAction) -> dict[str, object]:
    return audit.snapshot(action, AUDITED)


def get_action_for(session: Session, action_id: int, *, actor: Actor) -> CollectionAction:
    action = session.scalar(
        select(CollectionAction)
        .join(Customer, Customer.id == CollectionAction.customer_id)
        .where(CollectionAction.id == action_id, visible_customers(actor))
    )
    if action is None:
        raise NotFound(f"collection action {action_id} not found", action_id=action_id)
    return action


def _open_action(session: Session, action_id: int, actor: Actor) -> CollectionAction:
    action = get_action_for(session, action_id, actor=actor)
    if action.status != ActionStatus.OPEN.value:
        raise Conflict(f"action {action.id} is already {action.status}", action_id=action.id)
    return action


@dataclass(frozen=True, slots=True)
class PromiseIn:
    amount: Decimal
    promised_on: date
    installment_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DisputeIn:
    installment_id: int
    reason: DisputeReason
    amount: Decimal | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CallLogged:
    action: CollectionAction
    promise: PromiseToPay | None
    dispute: Dispute | None


def log_call(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    outcome: CallOutcome | str,
    as_of: date,
    note: str | None = None,
    action_id: int | None = None,
    contact_id: int | None = None,
    promise: PromiseIn | None = None,
    dispute: DisputeIn | None = None,
) -> CallLogged:
    """Log a call with ``customer``: finishes the call task ``action_id`` when given, records
    the promise or the dispute the outcome names, and adds a touchpoint to the timeline."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    try:
        outcome = CallOutcome(outcome)
    except ValueError as exc:
        choices = ", ".join(o.value for o in CallOutcome)
        raise ValidationFailed(
            f"outcome: {outcome!r} is not one of {choices}", field="outcome"
        ) from exc
    if outcome is CallOutcome.PROMISED and promise is None:
        raise ValidationFailed(
            "promise: a promised call needs the amount and the day", field="promise"
        )
    if outcome is CallOutcome.DISPUTED and dispute is None:
        raise ValidationFailed(
            "dispute: a disputed call needs the item and the reason", field="dispute"
        )
    # A refused promise or dispute leaves no trace of the call either.
    with session.begin_nested():
        return _log_call(
            session,
            actor=actor,
            customer=customer,
            outcome=outcome,
            as_of=as_of,
            note=note,
            action_id=action_id,
            contact_id=contact_id,
            promise=promise,
            dispute=dispute,
        )


def _log_call(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    outcome: CallOutcome,
    as_of: date,
    note: str | None,
    action_id: int | None,
    contact_id: int | None,
    promise: PromiseIn | None,
    dispute: DisputeIn | None,
) -> CallLogged:
    text = (note or "").strip() or None
    if action_id is not None:
        action = _open_action(session, action_id, actor)
        if action.customer_id != customer.id:
            raise ValidationFailed(
                f"action_id: action {action_id} is not about {customer.code}", field="action_id"
            )
        before = _snapshot(action)
    else:
        action = CollectionAction(
            customer_id=customer.id,
            due_on=as_of,
            kind=ActionKind.CALL_LOG.value,
            channel=CollectionChannel.CALL.value,
            status=ActionStatus.OPEN.value,
            automatic=False,
            dedupe_key=f"call:{customer.id}:{utcnow().isoformat()}:{actor.name}",
            assigned_to_id=actor.user_id,
        )
        session.add(action)
        session.flush()
        before = None
    made: PromiseToPay | None = None
    opened: Dispute | None = None
    if outcome is CallOutcome.PROMISED and promise is not None:
        made = promises.record_promise(
            session,
            actor=actor,
            customer=customer,
            amount=promise.amount,
            promised_on=promise.promised_on,
            as_of=as_of,
            contact_id=contact_id,
            channel="call",
            note=text,
            installment_ids=list(promise.installment_ids) or None,
            action_id=action.id,
        )
    if outcome is CallOutcome.DISPUTED and dispute is not None:
        opened = disputes.open_dispute(
            session,
            actor=actor,
            customer=customer,
            installment_id=dispute.installment_id,
            reason=dispute.reason,
            as_of=as_of,
            amount=dispute.amount,
            description=dispute.description or text,
        )
    action.outcome = outcome.value
    action.note = text
    action.status = ActionStatus.DONE.value
    action.completed_at = utcnow()
    action.completed_by_id = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "collections.call_logged",
        subject_type="collection_action",
        subject_id=action.id,
        customer_id=customer.id,
        before=before,
        after=_snapshot(action),
    )
    customers.log_touchpoint(
        session,
        actor=actor,
        data=TouchpointIn(
            reference=f"COLL-CALL-{action.id}",
            customer_id=customer.id,
            contact_id=contact_id,
            user_id=actor.user_id,
            kind=TouchpointKind.CALL,
            occurred_at=datetime.combine(as_of, time(12), tzinfo=UTC)
            if as_of != utcnow().date()
            else utcnow(),
            summary=f"[{outcome.value}] {text}" if text else f"[{outcome.value}]",
        ),
    )
    return CallLogged(action=action, promise=made, dispute=opened)


def complete(
    session: Session, *, actor: Actor, action_id: int, note: str | None = None
) -> CollectionAction:
    """Mark a task done (a letter printed and posted, an escalation handled, a legal hand-over
    made). A credit-hold task places the hold."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    action = _open_action(session, action_id, actor)
    before = _snapshot(action)
    if action.channel == CollectionChannel.CREDIT_HOLD.value:
        permissions.check(actor, Permission.OVERRIDE_CREDIT_HOLD)
        holds.place(
            session,
            actor=actor,
            customer_id=action.customer_id,
            as_of=action.due_on,
            reason=(note or "").strip() or "collection strategy step",
            action_id=action.id,
        )
    if action.channel in (CollectionChannel.EMAIL.value, CollectionChannel.WEBHOOK.value):
        raise ValidationFailed(
            "a message waiting for review is sent or cancelled, not marked done", field="action_id"
        )
    action.status = ActionStatus.DONE.value
    action.note = "\n".join(filter(None, [action.note, (note or "").strip() or None])) or None
    action.completed_at = utcnow()
    action.completed_by_id = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "collections.action_done",
        subject_type="collection_action",
        subject_id=action.id,
        customer_id=action.customer_id,
        before=before,
        after=_snapshot(action),
    )
    return action


def cancel(session: Session, *, actor: Actor, action_id: int, reason: str) -> CollectionAction:
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    if not reason or not reason.strip():
        raise ValidationFailed("reason: say why the action is not taken", field="reason")
    action = _open_action(session, action_id, actor)
    before = _snapshot(action)
    action.status = ActionStatus.CANCELLED.value
    action.note = "\n".join(filter(None, [action.note, reason.strip()]))
    action.completed_at = utcnow()
    action.completed_by_id = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "collections.action_cancelled",
        subject_type="collection_action",
        subject_id=action.id,
        customer_id=action.customer_id,
        before=before,
        after=_snapshot(action),
    )
    return action


def send(session: Session, *, actor: Actor, action_id: int) -> CollectionAction:
    """Send a message the strategy left for review (a step that is not automatic)."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    action = _open_action(session, action_id, actor)
    if action.channel not in (CollectionChannel.EMAIL.value, CollectionChannel.WEBHOOK.value):
        raise ValidationFailed(
            f"action {action.id} is a {action.channel} task, not a message", field="action_id"
        )
    settings = get_settings()
    party = contacts_for(session, [action.customer_id]).get(action.customer_id)
    context = message_context_of(session, action)
    renderer = Renderer(session)
    before = _snapshot(action)
    if action.channel == CollectionChannel.EMAIL.value:
        if party is None or not party.email:
            raise ValidationFailed(
                "the customer has no contact with an e-mail address; add one first",
                field="contact",
            )
        rendered = renderer.render(action.template or "due_reminder", party.language, context)
        outbox.enqueue_email(
            session,
            dedupe_key=action.dedupe_key,
            to=party.email,
            subject=rendered.subject,
            body=rendered.text,
            body_html=rendered.html,
            language=party.language,
            customer_id=action.customer_id,
            action_id=action.id,
        )
    else:
        step = session.get(CollectionStep, action.step_id) if action.step_id else None
        url = (step.target if step else None) or settings.webhook_url
        if not url:
            raise ValidationFailed("no webhook URL is configured (FLYWHEEL_WEBHOOK_URL)")
        language = party.team_language if party else "zh"
        rendered = renderer.render(action.template or "team_alert", language, context)
        outbox.enqueue_webhook(
            session,
            dedupe_key=action.dedupe_key,
            url=url,
            payload=webhook_payload(settings.webhook_style, rendered, context),
            subject=rendered.subject,
            language=language,
            customer_id=action.customer_id,
            action_id=action.id,
        )
    action.status = ActionStatus.QUEUED.value
    action.completed_by_id = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "collections.message_sent",
        subject_type="collection_action",
        subject_id=action.id,
        customer_id=action.customer_id,
        before=before,
        after=_snapshot(action),
    )
    return action


def message_context_of(session: Session, action: CollectionAction) -> dict[str, Any]:
    """The template context of an existing action: its items as they are now."""
    from flywheel.collections.cycle import message_context, open_item_rows

    settings = get_settings()
    party = contacts_for(session, [action.customer_id]).get(action.customer_id)
    items = [
        item
        for item in open_item_rows(
            session,
            lambda stmt: (
                stmt.join(
                    CollectionActionItem, CollectionActionItem.installment_id == Installment.id
                )
                .where(CollectionActionItem.action_id == action.id)
                .distinct()
            ),
        )
        if item.open_amount > 0
    ]
    return message_context(
        party,
        items,
        as_of=action.due_on,
        settings=settings,
        currency=action.currency or (party.currency if party else "CNY"),
    )
