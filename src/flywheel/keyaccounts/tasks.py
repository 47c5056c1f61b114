"""Key-account tasks (renewal reminders, milestone checkpoints, overdue milestones): opening one
once per dedupe key, the scoped lists, and closing one as done or cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.models.base import utcnow
from flywheel.models.customers import Customer
from flywheel.models.enums import AccountTaskStatus
from flywheel.models.keyaccounts import AccountTask

AUDITED = ("customer_id", "owner_id", "kind", "title", "due_on", "status", "note")
KINDS = ("renewal", "plan_review", "milestone_checkpoint", "milestone_overdue")
NOTE_MAX = 4000
CHUNK = 1000


class TaskNotOpen(Conflict):
    """The task is already done or cancelled."""

    code = "account_task_not_open"


def open_task(
    session: Session,
    actor: Actor,
    *,
    customer_id: int,
    owner_id: int | None,
    kind: str,
    title: str,
    due_on: date,
    dedupe_key: str,
    created_on: date,
) -> tuple[AccountTask, bool]:
    """The task of ``dedupe_key``: the one already opened (of any status), else a new one,
    audited. Returns it and whether it is new."""
    existing = session.scalar(select(AccountTask).where(AccountTask.dedupe_key == dedupe_key))
    if existing is not None:
        return existing, False
    task = AccountTask(
        customer_id=customer_id,
        owner_id=owner_id,
        kind=kind,
        title=title[:200],
        due_on=due_on,
        dedupe_key=dedupe_key,
        status=AccountTaskStatus.OPEN.value,
        created_on=created_on,
    )
    session.add(task)
    session.flush()
    audit.record(
        session,
        actor,
        "account_task.opened",
        subject_type="account_task",
        subject_id=task.id,
        customer_id=customer_id,
        after={**audit.snapshot(task, AUDITED), "dedupe_key": dedupe_key},
    )
    return task, True


def open_many(
    session: Session, actor: Actor, rows: Sequence[dict[str, Any]], *, created_on: date
) -> int:
    """Bulk form for the daily cycle: each row has customer_id, owner_id, kind, title, due_on
    and dedupe_key. Keys already used are skipped, so a rerun opens nothing. Returns how many
    were opened."""
    wanted: dict[str, dict[str, Any]] = {}
    for row in rows:
        wanted.setdefault(row["dedupe_key"], row)
    if not wanted:
        return 0
    keys = sorted(wanted)
    taken: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        taken.update(
            session.scalars(select(AccountTask.dedupe_key).where(AccountTask.dedupe_key.in_(chunk)))
        )
    fresh = [
        {
            **wanted[k],
            "title": str(wanted[k]["title"])[:200],
            "status": AccountTaskStatus.OPEN.value,
            "created_on": created_on,
        }
        for k in keys
        if k not in taken
    ]
    if not fresh:
        return 0
    ids: dict[str, int] = {}
    for start in range(0, len(fresh), CHUNK):
        written = session.execute(
            insert(AccountTask).returning(AccountTask.dedupe_key, AccountTask.id),
            fresh[start : start + CHUNK],
        )
        ids.update((str(key), int(task_id)) for key, task_id in written)
    audit.record_many(
        session,
        actor,
        [
            {
                "action": "account_task.opened",
                "subject_type": "account_task",
                "subject_id": ids.get(r["dedupe_key"]),
                "customer_id": r["customer_id"],
                "before": None,
                "after": {
                    **{k: audit.jsonable(r.get(k)) for k in AUDITED},
                    "dedupe_key": r["dedupe_key"],
                },
            }
            for r in fresh
        ],
    )
    return len(fresh)


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class TaskFilter:
    mine: bool = True  # only the actor's own tasks
    status: AccountTaskStatus | None = AccountTaskStatus.OPEN
    customer_id: int | None = None
    due_by: date | None = None


def tasks_query(actor: Actor, filters: TaskFilter) -> Select[AccountTask, Customer]:
    """(task, account) rows of the accounts the actor may see, soonest due first."""
    stmt = (
        select(AccountTask, Customer)
        .join(Customer, Customer.id == AccountTask.customer_id)
        .where(visible_customers(actor))
    )
    if filters.mine:
        stmt = stmt.where(AccountTask.owner_id == (actor.user_id or 0))
    if filters.status is not None:
        stmt = stmt.where(AccountTask.status == filters.status.value)
    if filters.customer_id is not None:
        stmt = stmt.where(AccountTask.customer_id == filters.customer_id)
    if filters.due_by is not None:
        stmt = stmt.where(AccountTask.due_on <= filters.due_by)
    return stmt.order_by(AccountTask.due_on, AccountTask.id)


def list_tasks(
    session: Session, actor: Actor, filters: TaskFilter, *, limit: int, offset: int
) -> tuple[list[tuple[AccountTask, Customer]], int]:
    stmt = tasks_query(actor, filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [(r[0], r[1]) for r in session.execute(stmt.limit(limit).offset(offset))]
    return rows, int(total)


def get_task_for(session: Session, task_id: int, *, actor: Actor) -> AccountTask:
    """A task of an account the actor may see; NotFound, like a missing one, otherwise."""
    task = session.scalar(
        select(AccountTask)
        .join(Customer, Customer.id == AccountTask.customer_id)
        .where(AccountTask.id == task_id, visible_customers(actor))
    )
    if task is None:
        raise NotFound(f"task {task_id} not found", task_id=task_id)
    return task


def open_count(session: Session, customer_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                AccountTask.customer_id == customer_id,
                AccountTask.status == AccountTaskStatus.OPEN.value,
            )
        )
        or 0
    )


# ----------------------------------------------------------------------------- closing


def close_task(
    session: Session,
    *,
    actor: Actor,
    task_id: int,
    status: AccountTaskStatus | str = AccountTaskStatus.DONE,
    note: str | None = None,
) -> AccountTask:
    """Mark an open task done or cancelled, with an optional note; audited. A closed task
    stays closed (its dedupe key keeps the daily cycle from opening it again)."""
    permissions.check(actor, Permission.MANAGE_CONTRACTS)
    task = get_task_for(session, task_id, actor=actor)
    try:
        target = AccountTaskStatus(status)
    except ValueError:
        raise ValidationFailed(
            f"status: {status!r} is not one of done, cancelled", field="status"
        ) from None
    if target == AccountTaskStatus.OPEN:
        raise ValidationFailed("status: a task is closed as done or cancelled", field="status")
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"note: at most {NOTE_MAX} characters", field="note")
    if task.status != AccountTaskStatus.OPEN.value:
        raise TaskNotOpen(
            f"status: task {task.id} is already {task.status}", field="status", task_id=task.id
        )
    audit.apply_update(
        session,
        actor,
        task,
        {"status": target.value, "note": text or task.note},
        action="account_task.closed",
        subject_type="account_task",
        customer_id=task.customer_id,
        fields=AUDITED,
    )
    task.done_at = utcnow()
    task.done_by_id = actor.user_id
    session.flush()
    return task
