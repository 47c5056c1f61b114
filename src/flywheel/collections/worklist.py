"""The collector's worklist: what to do today, most valuable first.

Order: promises due today or broken first, then disputes at or near their SLA, then every open
task and message waiting for review by its expected value of acting (amount × probability of
paying late × urgency, worked out by the daily cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.collections.cycle import LATE_BY_GRADE, expected_value
from flywheel.credit import service as credit
from flywheel.models.collections import CollectionAction, Dispute, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import ActionKind, ActionStatus, DisputeStatus, PromiseStatus

SLA_WARNING_DAYS = 2


class Mine(StrEnum):
    MINE = "mine"  # assigned to me, or to nobody
    ALL = "all"


class Source(StrEnum):
    ACTION = "action"
    PROMISE = "promise"
    DISPUTE = "dispute"


@dataclass(frozen=True, slots=True)
class WorkItem:
    source: Source
    id: int  # the action, promise or dispute
    priority: int  # 0 promises, 1 disputes near SLA, 2 the rest
    value: float
    customer_id: int
    customer_code: str
    customer_name: str
    grade: str | None
    kind: str  # action kind, "promise_due" or "dispute_sla"
    channel: str | None
    amount: Decimal | None
    currency: str | None
    days_overdue: int | None
    due_on: date
    assigned_to_id: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Worklist:
    items: list[WorkItem]
    total: int


def worklist(
    session: Session,
    *,
    actor: Actor,
    as_of: date,
    mine: Mine = Mine.MINE,
    channel: str | None = None,
    grade: str | None = None,
    q: str | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Worklist:
    """Today's work for ``actor`` (within his scope), highest priority and value first."""
    grades = credit.grades_of(session, as_of=as_of)
    items: list[WorkItem] = []

    def keep(customer: Customer) -> bool:
        if customer_id is not None and customer.id != customer_id:
            return False
        if grade is not None and grades.get(customer.id) != grade:
            return False
        if q:
            needle = q.strip().lower()
            return needle in customer.code.lower() or needle in customer.name.lower()
        return True

    if channel in (None, "", "promise"):
        promises = session.execute(
            select(PromiseToPay, Customer)
            .join(Customer, Customer.id == PromiseToPay.customer_id)
            .where(
                visible_customers(actor),
                PromiseToPay.status == PromiseStatus.PENDING.value,
                PromiseToPay.promised_on <= as_of,
            )
        ).all()
        for promise, customer in promises:
            if not keep(customer):
                continue
            if mine is Mine.MINE and promise.created_by_id not in (None, actor.user_id):
                continue
            items.append(
                WorkItem(
                    source=Source.PROMISE,
                    id=promise.id,
                    priority=0,
                    value=float(promise.amount - promise.paid_amount),
                    customer_id=customer.id,
                    customer_code=customer.code,
                    customer_name=customer.name,
                    grade=grades.get(customer.id),
                    kind="promise_due",
                    channel=None,
                    amount=promise.amount - promise.paid_amount,
                    currency=promise.currency,
                    days_overdue=(as_of - promise.promised_on).days,
                    due_on=promise.promised_on,
                    assigned_to_id=promise.created_by_id,
                    note=promise.note,
                )
            )
    if channel in (None, "", "dispute"):
        disputes = session.execute(
            select(Dispute, Customer)
            .join(Customer, Customer.id == Dispute.customer_id)
            .where(
                visible_customers(actor),
                Dispute.status == DisputeStatus.OPEN.value,
                Dispute.sla_due_on <= as_of + timedelta(days=SLA_WARNING_DAYS),
            )
        ).all()
        for dispute, customer in disputes:
            if not keep(customer):
                continue
            if mine is Mine.MINE and dispute.owner_id not in (None, actor.user_id):
                continue
            items.append(
                WorkItem(
                    source=Source.DISPUTE,
                    id=dispute.id,
                    priority=1,
                    value=float(dispute.amount),
                    customer_id=customer.id,
                    customer_code=customer.code,
                    customer_name=customer.name,
                    grade=grades.get(customer.id),
                    kind="dispute_sla",
                    channel=None,
                    amount=dispute.amount,
                    currency=dispute.currency,
                    days_overdue=(as_of - dispute.sla_due_on).days,
                    due_on=dispute.sla_due_on,
                    assigned_to_id=dispute.owner_id,
                    note=dispute.description,
                )
            )
    if channel not in ("promise", "dispute"):
        stmt = (
            select(CollectionAction, Customer)
            .join(Customer, Customer.id == CollectionAction.customer_id)
            .where(
                visible_customers(actor),
                CollectionAction.status == ActionStatus.OPEN.value,
                CollectionAction.due_on <= as_of,
            )
        )
        if mine is Mine.MINE:
            stmt = stmt.where(
                or_(
                    CollectionAction.assigned_to_id.is_(None),
                    CollectionAction.assigned_to_id == actor.user_id,
                )
            )
        if channel:
            stmt = stmt.where(CollectionAction.channel == channel)
        if customer_id is not None:
            stmt = stmt.where(CollectionAction.customer_id == customer_id)
        for action, customer in session.execute(stmt).all():
            if not keep(customer):
                continue
            broken = action.kind == ActionKind.BROKEN_PROMISE.value
            items.append(
                WorkItem(
                    source=Source.ACTION,
                    id=action.id,
                    priority=0
                    if broken
                    else 1
                    if action.kind == ActionKind.DISPUTE_SLA.value
                    else 2,
                    value=action.expected_value
                    if action.expected_value is not None
                    else expected_value(
                        action.amount or Decimal(0),
                        LATE_BY_GRADE.get(grades.get(customer.id, "C"), 0.35),
                        action.max_days_overdue or 0,
                    ),
                    customer_id=customer.id,
                    customer_code=customer.code,
                    customer_name=customer.name,
                    grade=grades.get(customer.id),
                    kind=action.kind,
                    channel=action.channel,
                    amount=action.amount,
                    currency=action.currency,
                    days_overdue=action.max_days_overdue,
                    due_on=action.due_on,
                    assigned_to_id=action.assigned_to_id,
                    note=action.note,
                )
            )
    items.sort(key=lambda i: (i.priority, -i.value, i.due_on, i.customer_code, i.id))
    return Worklist(items=items[offset : offset + limit], total=len(items))
