"""The outbox: messages written in the caller's transaction, sent after commit by the worker.

A message is identified by its ``dedupe_key``; queueing the same key again returns nothing and
writes nothing, so re-running a job never sends twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.collections.attachments import File
from flywheel.models.base import utcnow
from flywheel.models.collections import CollectionAction, OutboxMessage
from flywheel.models.enums import ActionStatus, CollectionChannel, OutboxStatus


def exists(session: Session, dedupe_key: str) -> bool:
    return (
        session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        is not None
    )


def enqueue_email(
    session: Session,
    *,
    dedupe_key: str,
    to: str,
    subject: str,
    body: str,
    body_html: str | None = None,
    language: str | None = None,
    customer_id: int | None = None,
    action_id: int | None = None,
    attachment: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """Queue an e-mail; None (and nothing written) when ``dedupe_key`` is already queued.
    ``attachment`` names a document the worker renders and attaches (``attachments``)."""
    return _enqueue(
        session,
        dedupe_key=dedupe_key,
        channel=CollectionChannel.EMAIL,
        recipient=to,
        subject=subject,
        body=body,
        body_html=body_html,
        language=language,
        customer_id=customer_id,
        action_id=action_id,
        attachment=attachment,
    )


def enqueue_webhook(
    session: Session,
    *,
    dedupe_key: str,
    url: str,
    payload: dict[str, Any],
    subject: str | None = None,
    language: str | None = None,
    customer_id: int | None = None,
    action_id: int | None = None,
) -> OutboxMessage | None:
    """Queue a JSON POST to ``url``; None when ``dedupe_key`` is already queued."""
    return _enqueue(
        session,
        dedupe_key=dedupe_key,
        channel=CollectionChannel.WEBHOOK,
        recipient=url,
        subject=subject,
        body=json.dumps(payload, ensure_ascii=False),
        body_html=None,
        language=language,
        customer_id=customer_id,
        action_id=action_id,
    )


def row(
    *,
    dedupe_key: str,
    channel: CollectionChannel,
    recipient: str,
    subject: str | None,
    body: str,
    body_html: str | None,
    language: str | None,
    customer_id: int | None,
    action_id: int | None = None,
) -> dict[str, Any]:
    """An outbox row for ``insert_many``: a pending message due now."""
    now = utcnow()
    return {
        "dedupe_key": dedupe_key,
        "action_id": action_id,
        "customer_id": customer_id,
        "channel": channel.value,
        "recipient": recipient,
        "subject": subject,
        "body": body,
        "body_html": body_html,
        "language": language,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def insert_many(session: Session, rows: list[dict[str, Any]], *, batch: int = 2000) -> int:
    """Queue many messages at once (the daily cycle); rows whose dedupe key is already queued
    are left out. Returns how many were queued."""
    if not rows:
        return 0
    keys = [r["dedupe_key"] for r in rows]
    taken: set[str] = set()
    for start in range(0, len(keys), batch):
        taken.update(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.in_(keys[start : start + batch])
                )
            )
        )
    fresh = [r for r in rows if r["dedupe_key"] not in taken]
    table = cast(Table, OutboxMessage.__table__)
    for start in range(0, len(fresh), batch):
        session.execute(insert(table), fresh[start : start + batch])
    return len(fresh)


def _enqueue(
    session: Session,
    *,
    dedupe_key: str,
    channel: CollectionChannel,
    recipient: str,
    subject: str | None,
    body: str,
    body_html: str | None,
    language: str | None,
    customer_id: int | None,
    action_id: int | None,
    attachment: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    if exists(session, dedupe_key):
        return None
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        action_id=action_id,
        customer_id=customer_id,
        channel=channel.value,
        recipient=recipient,
        subject=subject,
        body=body,
        body_html=body_html,
        attachment=attachment,
        language=language,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


# ------------------------------------------------------------------------ the sending side
#
# The worker claims due rows in one short transaction, sends each one outside any transaction,
# and records each result in a short transaction of its own. A row is "due" when it is pending
# and its next attempt time has come, or when it has been "sending" for longer than the claim
# timeout: the worker that claimed it stopped (killed, machine lost) before recording a result.

WORKER_ACTOR = Actor.system("flywheel worker")
# Longest wait between two attempts, whatever the backoff setting.
MAX_RETRY_DELAY_SECONDS = 3600.0
_ERROR_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """What the sender needs of a claimed row, detached from any session."""

    id: int
    dedupe_key: str
    channel: str
    recipient: str
    subject: str | None
    body: str
    body_html: str | None
    language: str | None
    action_id: int | None
    customer_id: int | None
    attempts: int  # attempts made before this one
    claimed_at: datetime
    attachment: dict[str, Any] | None = None  # the document to attach (``attachments``)
    files: tuple[File, ...] = ()  # the attachment rendered, just before sending


def lock_for_writing(session: Session) -> None:
    """On SQLite, take the database's write lock now, at the start of a transaction that reads
    before it writes. Otherwise the read pins a snapshot, and a write by anyone else before
    ours makes ours fail at once with "database is locked" instead of waiting its turn.
    (A no-op UPDATE takes the lock; PostgreSQL needs nothing of the kind.)"""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("UPDATE outbox SET attempts = attempts WHERE 1 = 0")


def retry_delay(attempts: int, backoff_seconds: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: backoff × 2^(attempts−1),
    at most an hour."""
    if attempts < 1 or backoff_seconds <= 0:
        return 0.0
    return min(backoff_seconds * 2.0 ** min(attempts - 1, 32), MAX_RETRY_DELAY_SECONDS)


def claim_due(
    session: Session,
    *,
    worker_id: str,
    now: datetime,
    limit: int,
    claim_timeout_seconds: float,
    max_attempts: int,
    channels: Iterable[str] = (CollectionChannel.EMAIL.value, CollectionChannel.WEBHOOK.value),
    due_by: datetime | None = None,
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` due rows for ``worker_id`` (the caller commits at once).

    On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``, so concurrent workers claim
    disjoint batches. A row taken back from a worker that stopped has its interrupted send
    counted already (:func:`mark_started`); when that made ``max_attempts`` the row is
    dead-lettered instead of sent again, so a message that kills every worker that tries it
    cannot loop for ever. ``due_by`` (default
    ``now``) leaves out pending rows due later: a round of the worker does not retry at once a
    message that failed in the same round.
    """
    wanted = list(channels)
    if limit <= 0 or not wanted:
        return []
    lock_for_writing(session)
    stale_before = now - timedelta(seconds=claim_timeout_seconds)
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel.in_(wanted),
            or_(
                and_(
                    OutboxMessage.status == OutboxStatus.PENDING.value,
                    OutboxMessage.next_attempt_at <= (due_by or now),
                ),
                and_(
                    OutboxMessage.status == OutboxStatus.SENDING.value,
                    OutboxMessage.claimed_at < stale_before,
                ),
            ),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed: list[ClaimedMessage] = []
    for row in rows:
        if row.status == OutboxStatus.SENDING.value:
            row.last_error = _clip(
                f"worker {row.claimed_by} stopped without recording a result (claimed at "
                f"{row.claimed_at:%Y-%m-%d %H:%M:%S} UTC); if it was sending, the message may "
                "have gone out"
            )
            if row.attempts >= max_attempts:
                _finish(session, row, status=OutboxStatus.DEAD, now=now, message_id=None)
                continue
        row.status = OutboxStatus.SENDING.value
        row.claimed_by = worker_id
        row.claimed_at = now
        claimed.append(_detached(row))
    session.flush()
    return claimed


def mark_started(session: Session, outbox_id: int, *, worker_id: str) -> None:
    """Count the attempt about to be made on a claimed row, before it is made: a worker killed
    in the middle of it leaves the attempt counted. (The worker writes this in the transaction
    that records the previous message's result, so it costs no commit of its own.)"""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status == OutboxStatus.SENDING.value,
            OutboxMessage.claimed_by == worker_id,
        )
        .values(attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, ids: Iterable[int], *, worker_id: str) -> int:
    """Give claimed rows back untried (a worker stopping, or near its claim timeout)."""
    wanted = list(ids)
    if not wanted:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(wanted),
            OutboxMessage.status == OutboxStatus.SENDING.value,
            OutboxMessage.claimed_by == worker_id,
        )
        .values(status=OutboxStatus.PENDING.value, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_sent(
    session: Session, message: ClaimedMessage, *, now: datetime, message_id: str | None
) -> bool:
    """Record that ``message`` went out. Recorded even when the claim was lost meanwhile (the
    message did go out, and saying so stops another retry). False when it was already sent."""
    lock_for_writing(session)
    row = session.get(OutboxMessage, message.id, with_for_update=True)
    if row is None or row.status == OutboxStatus.SENT.value:
        return False
    _finish(session, row, status=OutboxStatus.SENT, now=now, message_id=message_id)
    session.flush()
    return True


def mark_failed(
    session: Session,
    message: ClaimedMessage,
    *,
    worker_id: str,
    now: datetime,
    error: str,
    permanent: bool,
    max_attempts: int,
    backoff_seconds: float,
) -> OutboxStatus | None:
    """Record a failed attempt (counted by :func:`mark_started`): back to pending with a later
    next attempt, or dead after
    ``max_attempts`` (at once when the failure is permanent). None when the claim was lost: the
    row belongs to another worker now, which records its own result."""
    lock_for_writing(session)
    row = session.get(OutboxMessage, message.id, with_for_update=True)
    if row is None or row.status != OutboxStatus.SENDING.value or row.claimed_by != worker_id:
        return None
    row.last_error = _clip(error)
    if permanent or row.attempts >= max_attempts:
        _finish(session, row, status=OutboxStatus.DEAD, now=now, message_id=None)
    else:
        row.status = OutboxStatus.PENDING.value
        row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts, backoff_seconds))
        _record_on_action(session, row, message_id=None)
    session.flush()
    return OutboxStatus(row.status)


def status_counts(session: Session) -> dict[str, int]:
    """How many rows the outbox holds in each status (every status listed, zeros included)."""
    found = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return {status.value: int(found.get(status.value, 0)) for status in OutboxStatus}


def retry_dead(session: Session, *, actor: Actor, outbox_id: int, now: datetime) -> bool:
    """Put a dead-lettered message back in the queue (after the cause was fixed): pending, due
    now, its attempts counted afresh. False when the row is not dead."""
    lock_for_writing(session)
    row = session.get(OutboxMessage, outbox_id, with_for_update=True)
    if row is None or row.status != OutboxStatus.DEAD.value:
        return False
    before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
    row.status = OutboxStatus.PENDING.value
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_by = None
    row.claimed_at = None
    action = session.get(CollectionAction, row.action_id) if row.action_id else None
    if action is not None and action.status == ActionStatus.FAILED.value:
        action.status = ActionStatus.QUEUED.value
    audit.record(
        session,
        actor,
        "collections.message_requeued",
        subject_type="outbox_message",
        subject_id=row.id,
        customer_id=row.customer_id,
        before=before,
        after={"status": row.status, "attempts": 0},
    )
    session.flush()
    return True


def _finish(
    session: Session,
    row: OutboxMessage,
    *,
    status: OutboxStatus,
    now: datetime,
    message_id: str | None,
) -> None:
    """A final state: sent or dead. Written on the action and in the audit trail."""
    row.status = status.value
    if status is OutboxStatus.SENT:
        row.sent_at = now
    _record_on_action(session, row, message_id=message_id)
    sent = status is OutboxStatus.SENT
    audit.record(
        session,
        WORKER_ACTOR,
        "collections.message_sent" if sent else "collections.message_failed",
        subject_type="collection_action" if row.action_id else "outbox_message",
        subject_id=row.action_id or row.id,
        customer_id=row.customer_id,
        after={
            "outbox_id": row.id,
            "channel": row.channel,
            "recipient": row.recipient,
            "subject": row.subject,
            "attempts": row.attempts,
            "error": None if sent else row.last_error,
            "message_id": message_id,
        },
    )


# The action statuses the outbox may move on: a message cancelled or completed by a person
# keeps its status, and only its delivery record changes.
_MESSAGE_STATUSES = {ActionStatus.QUEUED.value, ActionStatus.SENT.value, ActionStatus.FAILED.value}


def _record_on_action(session: Session, row: OutboxMessage, *, message_id: str | None) -> None:
    if row.action_id is None:
        return
    action = session.get(CollectionAction, row.action_id)
    if action is None:
        return
    sent = row.status == OutboxStatus.SENT.value
    action.delivery = {
        "status": row.status,
        "attempts": row.attempts,
        "error": None if sent else row.last_error,
        "sent_at": row.sent_at.isoformat() if sent and row.sent_at else None,
        "message_id": message_id,
        "next_attempt_at": row.next_attempt_at.isoformat()
        if row.status == OutboxStatus.PENDING.value
        else None,
    }
    if action.status in _MESSAGE_STATUSES:
        if sent:
            action.status = ActionStatus.SENT.value
        elif row.status == OutboxStatus.DEAD.value:
            action.status = ActionStatus.FAILED.value


def _detached(row: OutboxMessage) -> ClaimedMessage:
    assert row.claimed_at is not None
    return ClaimedMessage(
        id=row.id,
        dedupe_key=row.dedupe_key,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        body_html=row.body_html,
        language=row.language,
        action_id=row.action_id,
        customer_id=row.customer_id,
        attempts=row.attempts,
        claimed_at=row.claimed_at,
        attachment=dict(row.attachment) if row.attachment else None,
    )


def _clip(text: str) -> str:
    return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 1] + "…"
