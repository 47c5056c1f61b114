"""The contracts part of the daily cycle: renewal reminders at the configured offsets before a
contract's renewal date, one task per overdue milestone, and contracts past their end expired.

Set-based (one query per step, tasks written in bulk) and idempotent: every task has a dedupe
key ("renewal:<contract>:<offset>", "overdue:<milestone>"), so a rerun for the same day, or the
next day, opens nothing twice. A reminder whose day was missed (no run that day) is still opened
while the renewal is ahead, at most one per offset."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, cast, func, literal, select, update
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.config import Settings
from flywheel.keyaccounts import plans, tasks
from flywheel.keyaccounts.contracts import LIVE
from flywheel.models.customers import Customer
from flywheel.models.enums import ContractStatus
from flywheel.models.keyaccounts import AccountTask, Contract, ContractMilestone

SYSTEM = Actor.system("contracts")


def _renewal_rows(session: Session, as_of: date, offsets: list[int]) -> list[dict[str, Any]]:
    if not offsets:
        return []
    renewal = func.coalesce(Contract.renewal_on, Contract.end_on)
    found = session.execute(
        select(
            Contract.id,
            Contract.customer_id,
            Contract.number,
            renewal,
            func.coalesce(Contract.owner_id, Customer.owner_id),
        )
        .join(Customer, Customer.id == Contract.customer_id)
        .where(
            Contract.status == ContractStatus.ACTIVE.value,
            renewal > as_of,
            renewal <= as_of + timedelta(days=max(offsets)),
        )
    ).all()
    rows = []
    for contract_id, customer_id, number, renewal_on, owner_id in found:
        days_left = (renewal_on - as_of).days
        # Only the nearest offset reached: a contract first seen 20 days out gets the 30-day
        # reminder, not the 90- and 60-day ones as well.
        reached = [o for o in offsets if o >= days_left]
        if not reached:
            continue
        offset = min(reached)
        rows.append(
            {
                "customer_id": customer_id,
                "owner_id": owner_id,
                "kind": "renewal",
                "title": f"Renewal of {number} on {renewal_on.isoformat()} ({offset} days)",
                "due_on": renewal_on,
                "dedupe_key": f"renewal:{contract_id}:{offset}",
            }
        )
    return rows


def _review_rows(session: Session, as_of: date) -> list[dict[str, Any]]:
    """A task for each account plan whose review is due: one per plan and review date."""
    return [
        {
            "customer_id": due.customer_id,
            "owner_id": due.owner_id,
            "kind": "plan_review",
            "title": f"Review the account plan of {due.code} (due {due.next_review_on.isoformat()})",
            "due_on": due.next_review_on,
            "dedupe_key": f"plan_review:{due.plan_id}:{due.next_review_on.isoformat()}",
        }
        for due in plans.plan_reviews_due(session, as_of=as_of)
    ]


def _overdue_rows(session: Session, as_of: date) -> list[dict[str, Any]]:
    found = session.execute(
        select(
            ContractMilestone.id,
            ContractMilestone.customer_id,
            ContractMilestone.title,
            ContractMilestone.due_on,
            Contract.number,
            func.coalesce(Contract.owner_id, Customer.owner_id),
        )
        .join(Contract, Contract.id == ContractMilestone.contract_id)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(
            ContractMilestone.done_on.is_(None),
            ContractMilestone.due_on < as_of,
            Contract.status.in_(LIVE),
            # Flagged before: its task's key is taken (an index probe per milestone), so a
            # daily run reads only the milestones that became overdue since.
            ~select(AccountTask.id)
            .where(
                AccountTask.dedupe_key == literal("overdue:") + cast(ContractMilestone.id, String)
            )
            .exists(),
        )
    ).all()
    return [
        {
            "customer_id": customer_id,
            "owner_id": owner_id,
            "kind": "milestone_overdue",
            "title": f"Milestone {title} of {number} was due on {due_on.isoformat()}",
            "due_on": as_of,
            "dedupe_key": f"overdue:{milestone_id}",
        }
        for milestone_id, customer_id, title, due_on, number, owner_id in found
    ]


def _expire(session: Session, as_of: date) -> int:
    ending = session.execute(
        select(Contract.id, Contract.customer_id, Contract.status).where(
            Contract.status.in_(LIVE), Contract.end_on < as_of
        )
    ).all()
    if not ending:
        return 0
    ids = [cid for cid, _c, _s in ending]
    for start in range(0, len(ids), tasks.CHUNK):
        session.execute(
            update(Contract)
            .where(Contract.id.in_(ids[start : start + tasks.CHUNK]))
            .values(status=ContractStatus.EXPIRED.value)
            .execution_options(synchronize_session=False)
        )
    audit.record_many(
        session,
        SYSTEM,
        [
            {
                "action": "contract.expired",
                "subject_type": "contract",
                "subject_id": cid,
                "customer_id": customer_id,
                "before": {"status": status},
                "after": {"status": ContractStatus.EXPIRED.value},
            }
            for cid, customer_id, status in ending
        ],
    )
    return len(ending)


def run(session: Session, *, as_of: date, settings: Settings) -> dict[str, Any]:
    """Expire, remind and flag for ``as_of``; flushes, the caller commits."""
    clock = time.perf_counter()
    session.flush()
    expired = _expire(session, as_of)
    offsets = sorted({int(d) for d in settings.renewal_reminder_days if int(d) > 0})
    renewals = tasks.open_many(
        session, SYSTEM, _renewal_rows(session, as_of, offsets), created_on=as_of
    )
    overdue = tasks.open_many(session, SYSTEM, _overdue_rows(session, as_of), created_on=as_of)
    reviews = tasks.open_many(session, SYSTEM, _review_rows(session, as_of), created_on=as_of)
    session.flush()
    # Bulk statements went past the identity map: what the caller holds is read again.
    session.expire_all()
    return {
        "as_of": as_of.isoformat(),
        "contracts_expired": expired,
        "renewal_tasks": renewals,
        "overdue_milestone_tasks": overdue,
        "plan_review_tasks": reviews,
        "seconds": round(time.perf_counter() - clock, 3),
    }
