"""The worker's clock work: send the outbox in batches, and run the daily cycle once a day at
``worker_run_at``.

PostgreSQL: any number of workers; each claims its own rows (``FOR UPDATE SKIP LOCKED``) and the
daily cycle runs on the one that locks its lease row. SQLite: one worker at a time, enforced by
the ``outbox-sender`` lease, which the worker renews while it runs and gives back when it stops.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from flywheel.collections import attachments, outbox
from flywheel.collections.delivery import Deliverer, Outcome
from flywheel.config import Settings
from flywheel.db import get_engine, unit_of_work
from flywheel.errors import WorkerAlreadyRunning
from flywheel.models.base import utcnow
from flywheel.models.collections import WorkerLease
from flywheel.models.enums import CollectionChannel, OutboxStatus

log = logging.getLogger("flywheel.worker")

SENDER_LEASE = "outbox-sender"
CYCLE_LEASE = "daily-cycle"
DEFAULT_BATCH = 50
DEFAULT_POLL_SECONDS = 5.0
# After a daily cycle that failed, the next try waits this long (the error is logged).
CYCLE_RETRY_SECONDS = 600.0

Clock = Callable[[], datetime]
CycleFunction = Callable[[date], dict[str, Any]]


def new_worker_id() -> str:
    """``host:pid:random``: unique per process, and says where to look for it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _holder_is_dead(holder: str) -> bool:
    """True when ``holder`` ran on this machine and its process is gone (killed, crashed): its
    lease need not be waited out. A holder on another machine is never judged."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# -------------------------------------------------------------------------- leases


def acquire_lease(engine: Engine, *, name: str, holder: str, now: datetime, seconds: float) -> None:
    """Take the lease ``name`` for ``seconds`` (or renew it when ``holder`` has it already);
    WorkerAlreadyRunning when someone else holds it and has not let it expire."""
    expires = now + timedelta(seconds=seconds)
    # A conditional UPDATE first: on SQLite the write lock is taken at once, so two workers
    # starting together cannot both read "free" and both take it.
    with unit_of_work(engine) as session:
        taken = session.execute(
            update(WorkerLease)
            .where(
                WorkerLease.name == name,
                (WorkerLease.holder == holder) | (WorkerLease.expires_at < now),
            )
            .values(holder=holder, expires_at=expires)
        )
        if getattr(taken, "rowcount", 0):
            return
        current = session.get(WorkerLease, name, with_for_update=True)
        if current is not None and _holder_is_dead(current.holder):
            log.warning(
                "lease %s: holder %s is no longer running; taken over", name, current.holder
            )
            current.holder = holder
            current.expires_at = expires
            return
    if current is not None:
        raise _already_running(name, current)
    try:
        with unit_of_work(engine) as session:
            session.execute(
                insert(WorkerLease).values(name=name, holder=holder, expires_at=expires)
            )
    except IntegrityError:
        with unit_of_work(engine) as session:
            current = session.get(WorkerLease, name)
        if current is None:  # pragma: no cover - inserted and deleted meanwhile
            raise
        raise _already_running(name, current) from None


def _already_running(name: str, lease: WorkerLease) -> WorkerAlreadyRunning:
    return WorkerAlreadyRunning(
        f"another worker ({lease.holder}) holds the {name} lease until "
        f"{lease.expires_at:%Y-%m-%d %H:%M:%S} UTC; SQLite takes one worker at a time "
        "(use PostgreSQL for several)",
        lease=name,
        holder=lease.holder,
        expires_at=lease.expires_at.isoformat(),
    )


def release_lease(engine: Engine, *, name: str, holder: str, now: datetime) -> None:
    """Give the lease back (expired at once) if ``holder`` still has it."""
    with unit_of_work(engine) as session:
        session.execute(
            update(WorkerLease)
            .where(WorkerLease.name == name, WorkerLease.holder == holder)
            .values(expires_at=now)
        )


# -------------------------------------------------------------------------- sending


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0  # will be tried again
    dead: int = 0  # given up (dead letter)
    released: int = 0  # claimed, then given back untried (stopping, or near the claim timeout)
    claimed: int = 0

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.released += other.released
        self.claimed += other.claimed


def sendable_channels(settings: Settings) -> list[str]:
    """E-mails wait in the outbox (pending) until an SMTP host is configured."""
    channels = [CollectionChannel.WEBHOOK.value]
    if settings.smtp_host:
        channels.insert(0, CollectionChannel.EMAIL.value)
    return channels


def send_due(
    engine: Engine,
    *,
    settings: Settings,
    worker_id: str,
    clock: Clock = utcnow,
    batch_size: int = DEFAULT_BATCH,
    keep_going: Callable[[], bool] = lambda: True,
    due_by: datetime | None = None,
) -> SendReport:
    """One pass: claim a batch of due messages, send each, record each result.

    The claim is one short transaction; each message is sent outside any transaction and its
    result recorded in a transaction of its own, so a crash loses at most the record of the
    message in flight. ``keep_going`` is asked before each message; when it says no, or when
    half the claim timeout has gone by, the rest of the batch is given back untried. An
    attempt is counted as it starts, so one cut short by a crash counts too.
    """
    report = SendReport()
    if not keep_going():
        return report
    with unit_of_work(engine) as session:
        claimed = outbox.claim_due(
            session,
            worker_id=worker_id,
            now=clock(),
            limit=batch_size,
            claim_timeout_seconds=settings.outbox_claim_timeout_seconds,
            max_attempts=settings.outbox_max_attempts,
            channels=sendable_channels(settings),
            due_by=due_by,
        )
        if claimed:
            outbox.mark_started(session, claimed[0].id, worker_id=worker_id)
    report.claimed = len(claimed)
    if not claimed:
        return report
    # Never start a send after half the claim timeout: another worker may take the row back
    # once the whole timeout has passed, and two sends of one message must not overlap.
    deadline = claimed[0].claimed_at + timedelta(seconds=settings.outbox_claim_timeout_seconds / 2)
    with Deliverer(settings) as deliverer:
        for position, message in enumerate(claimed):
            outcome = _deliver(engine, deliverer, message)
            rest = claimed[position + 1 :]
            go_on = bool(rest) and keep_going() and clock() < deadline
            # One transaction records this result and counts the next attempt (or gives the
            # rest back): a commit per message.
            with unit_of_work(engine) as session:
                status: OutboxStatus | None
                if outcome.ok:
                    recorded = outbox.mark_sent(
                        session, message, now=clock(), message_id=outcome.message_id
                    )
                    status = OutboxStatus.SENT if recorded else None
                else:
                    status = outbox.mark_failed(
                        session,
                        message,
                        worker_id=worker_id,
                        now=clock(),
                        error=outcome.error or "unknown error",
                        permanent=outcome.permanent,
                        max_attempts=settings.outbox_max_attempts,
                        backoff_seconds=settings.outbox_backoff_seconds,
                    )
                if go_on:
                    outbox.mark_started(session, rest[0].id, worker_id=worker_id)
                elif rest:
                    report.released += outbox.release(
                        session, [m.id for m in rest], worker_id=worker_id
                    )
            if status is OutboxStatus.SENT:
                report.sent += 1
            elif status is OutboxStatus.DEAD:
                report.dead += 1
                log.warning("outbox %s dead: %s", message.id, outcome.error)
            elif status is not None:
                report.failed += 1
                log.info("outbox %s failed, will retry: %s", message.id, outcome.error)
            if not go_on:
                break
    return report


def _deliver(engine: Engine, deliverer: Deliverer, message: outbox.ClaimedMessage) -> Outcome:
    """Send one message; its attachment, if it names one, is rendered first in a short
    transaction of its own."""
    if message.attachment is None:
        return deliverer.deliver(message)
    try:
        with unit_of_work(engine) as session:
            file = attachments.render(session, message.attachment)
    except attachments.AttachmentMissing as exc:
        return Outcome(ok=False, error=str(exc), permanent=True)
    except Exception as exc:  # a bug in a renderer: recorded, and tried again later
        log.exception("outbox %s: the attachment could not be rendered", message.id)
        return Outcome(ok=False, error=f"attachment not rendered: {type(exc).__name__}: {exc}")
    return deliverer.deliver(replace(message, files=(file,)))


# -------------------------------------------------------------------------- the daily cycle


def cycle_due_day(now_local: datetime, run_at: str) -> date | None:
    """The business day whose cycle may run now: today once the local time has passed
    ``run_at`` (HH:MM), else None."""
    hour, minute = (int(part) for part in run_at.split(":"))
    if (now_local.hour, now_local.minute) >= (hour, minute):
        return now_local.date()
    return None


def run_cycle_if_due(
    engine: Engine,
    *,
    settings: Settings,
    worker_id: str,
    now: datetime,
    cycle: CycleFunction,
) -> dict[str, Any] | None:
    """Run ``cycle(day)`` unless it already ran for today's day (or it is not time yet).

    The day is recorded on the ``daily-cycle`` lease row only after the cycle succeeded, so a
    cycle that failed runs again. On PostgreSQL the row stays locked (``FOR UPDATE SKIP
    LOCKED``) while the cycle runs: another worker skips it and finds the day done afterwards.
    On SQLite, which has a single worker, no lock is held (it would block the cycle's writes).
    """
    day = cycle_due_day(now.astimezone(), settings.worker_run_at)
    if day is None:
        return None
    with unit_of_work(engine) as session:
        lease = session.get(WorkerLease, CYCLE_LEASE)
        if lease is not None and lease.last_cycle_on is not None and lease.last_cycle_on >= day:
            return None
    if lease is None:
        try:
            with unit_of_work(engine) as session:
                session.execute(
                    insert(WorkerLease).values(name=CYCLE_LEASE, holder=worker_id, expires_at=now)
                )
        except IntegrityError:
            pass  # another worker made it first
    postgres = engine.dialect.name == "postgresql"
    with unit_of_work(engine) as session:
        locked = session.scalar(
            select(WorkerLease)
            .where(WorkerLease.name == CYCLE_LEASE)
            .with_for_update(skip_locked=True)
        )
        if locked is None or (locked.last_cycle_on is not None and locked.last_cycle_on >= day):
            return None
        if not postgres:
            session.commit()
        log.info("daily cycle for %s starting", day)
        started = time.perf_counter()
        result = cycle(day)
        finished = utcnow()
        if not postgres:
            outbox.lock_for_writing(session)
            locked = session.get(WorkerLease, CYCLE_LEASE)
            assert locked is not None
        locked.last_cycle_on = day
        locked.holder = worker_id
        locked.expires_at = finished
    log.info("daily cycle for %s done in %.1f s", day, time.perf_counter() - started)
    return {"day": day.isoformat(), "result": result}


def _round(
    engine: Engine,
    settings: Settings,
    report: WorkerReport,
    cycle_state: dict[str, float],
    cycle: CycleFunction | None,
    clock: Clock,
    batch_size: int,
    keep_going: Callable[[], bool],
    on_pass: Callable[[SendReport], None] | None,
    on_cycle: Callable[[dict[str, Any]], None] | None,
) -> None:
    """One round of the worker: the daily cycle if it is due, then every due message."""
    me = report.worker_id
    if cycle is not None and time.monotonic() >= cycle_state["retry_at"]:
        try:
            ran = run_cycle_if_due(
                engine, settings=settings, worker_id=me, now=clock(), cycle=cycle
            )
        except Exception as exc:  # the worker outlives a bad day; the error is logged
            log.exception("daily cycle failed")
            report.cycle_errors.append(f"{type(exc).__name__}: {exc}")
            cycle_state["retry_at"] = time.monotonic() + CYCLE_RETRY_SECONDS
            ran = None
        if ran is not None:
            report.cycles.append(ran)
            if on_cycle:
                on_cycle(ran)
    # Send batch after batch while there is work; rest when a batch comes back short. Only
    # what was due when the round began: a failure waits for the next round.
    round_start = clock()
    while True:
        sent = send_due(
            engine,
            settings=settings,
            worker_id=me,
            clock=clock,
            batch_size=batch_size,
            keep_going=keep_going,
            due_by=round_start,
        )
        report.passes += 1
        report.sent += sent.sent
        report.failed += sent.failed
        report.dead += sent.dead
        report.released += sent.released
        if on_pass and sent.claimed:
            on_pass(sent)
        if sent.claimed < batch_size or sent.released or not keep_going():
            break


def daily_cycle(day: date) -> dict[str, Any]:
    from flywheel.daily import run_daily_cycle

    return run_daily_cycle(day)


# -------------------------------------------------------------------------- the loop


@dataclass
class WorkerReport:
    worker_id: str
    sent: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0
    passes: int = 0
    cycles: list[dict[str, Any]] = field(default_factory=list)
    cycle_errors: list[str] = field(default_factory=list)


def run_worker(
    *,
    settings: Settings,
    engine: Engine | None = None,
    once: bool = False,
    stop_event: threading.Event | None = None,
    max_seconds: float | None = None,
    clock: Clock = utcnow,
    cycle: CycleFunction | None = daily_cycle,
    batch_size: int = DEFAULT_BATCH,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    worker_id: str | None = None,
    on_pass: Callable[[SendReport], None] | None = None,
    on_cycle: Callable[[dict[str, Any]], None] | None = None,
) -> WorkerReport:
    """Run the worker until ``stop_event`` is set or ``max_seconds`` have gone by; with
    ``once``, do one round (the daily cycle if it is due, then every due message) and return.
    ``cycle`` None leaves the daily cycle to someone else (``flywheel run`` from cron).

    On SQLite the sender lease is taken first (WorkerAlreadyRunning when another worker holds
    it), renewed as the worker runs, and given back when it stops.
    """
    engine = engine or get_engine(settings.database_url)
    stop = stop_event or threading.Event()
    report = WorkerReport(worker_id=worker_id or new_worker_id())
    me = report.worker_id
    single = engine.dialect.name != "postgresql"
    lease_seconds = float(settings.outbox_claim_timeout_seconds)
    started = time.monotonic()
    renewed = time.monotonic()
    cycle_state = {"retry_at": 0.0}

    def keep_going() -> bool:
        nonlocal renewed
        if stop.is_set():
            return False
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            return False
        if single and time.monotonic() - renewed >= lease_seconds / 3:
            acquire_lease(engine, name=SENDER_LEASE, holder=me, now=clock(), seconds=lease_seconds)
            renewed = time.monotonic()
        return True

    if single:
        acquire_lease(engine, name=SENDER_LEASE, holder=me, now=clock(), seconds=lease_seconds)
    log.info("worker %s started", me)
    try:
        while keep_going():
            try:
                _round(engine, settings, report, cycle_state, cycle, clock, batch_size,
                       keep_going, on_pass, on_cycle)  # fmt: skip
            except SQLAlchemyError:
                # The database went away or was busy for too long: a daemon waits and tries
                # again (its claims are taken back after the claim timeout if need be).
                if once:
                    raise
                log.exception("worker round failed; trying again in %.0f s", poll_seconds)
            if once:
                break
            wait = poll_seconds
            if max_seconds is not None:
                wait = min(wait, max(0.0, max_seconds - (time.monotonic() - started)))
            stop.wait(wait)
    finally:
        if single:
            release_lease(engine, name=SENDER_LEASE, holder=me, now=clock())
        log.info("worker %s stopped", me)
    return report
