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

from sqlalchemy import case, func, or_, select
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
    items: list[WorkItem] = []
    # Promises and disputes due are few: read whole, filtered here; their customers' grades are
    # read for them alone, and the open actions below are filtered and paged in SQL.
    few_ids = set(
        session.scalars(
            select(PromiseToPay.customer_id).where(
                PromiseToPay.status == PromiseStatus.PENDING.value,
                PromiseToPay.promised_on <= as_of,
            )
        )
    ) | set(
        session.scalars(
            select(Dispute.customer_id).where(
                Dispute.status == DisputeStatus.OPEN.value,
                Dispute.sla_due_on <= as_of + timedelta(days=SLA_WARNING_DAYS),
            )
        )
    )
    grades = credit.grades_of(session, as_of=as_of, customer_ids=few_ids)

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
    total = len(items)
    if channel not in ("promise", "dispute"):
        # Open actions can run to tens of thousands at scale: they are counted and paged in SQL
        # (only the first ``offset + limit`` in value order are read) and merged with the few
        # promises and disputes above.
        conditions = [
            visible_customers(actor),
            CollectionAction.status == ActionStatus.OPEN.value,
            CollectionAction.due_on <= as_of,
        ]
        if mine is Mine.MINE:
            conditions.append(
                or_(
                    CollectionAction.assigned_to_id.is_(None),
                    CollectionAction.assigned_to_id == actor.user_id,
                )
            )
        if channel:
            conditions.append(CollectionAction.channel == channel)
        if customer_id is not None:
            conditions.append(CollectionAction.customer_id == customer_id)
        if grade is not None:
            conditions.append(CollectionAction.customer_id.in_(credit.graded(as_of, grade)))
        if q:
            needle = f"%{q.strip().lower()}%"
            conditions.append(
                or_(func.lower(Customer.code).like(needle), func.lower(Customer.name).like(needle))
            )
        priority = case(
            (CollectionAction.kind == ActionKind.BROKEN_PROMISE.value, 0),
            (CollectionAction.kind == ActionKind.DISPUTE_SLA.value, 1),
            else_=2,
        )
        total += (
            session.scalar(
                select(func.count())
                .select_from(CollectionAction)
                .join(Customer, Customer.id == CollectionAction.customer_id)
                .where(*conditions)
            )
            or 0
        )
        stmt = (
            select(CollectionAction, Customer)
            .join(Customer, Customer.id == CollectionAction.customer_id)
            .where(*conditions)
            .order_by(
                priority,
                func.coalesce(CollectionAction.expected_value, 0.0).desc(),
                CollectionAction.due_on,
                Customer.code,
                CollectionAction.id,
            )
            .limit(offset + limit)
        )
        rows = session.execute(stmt).all()
        grades.update(
            credit.grades_of(
                session,
                as_of=as_of,
                customer_ids={customer.id for _, customer in rows} - set(grades),
            )
        )
        for action, customer in rows:
            broken = action.kind == ActionKind.BROKEN_PROMISE.value
            action_grade = grades.get(customer.id)
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
                        LATE_BY_GRADE.get(action_grade or "C", 0.35),
                        action.max_days_overdue or 0,
                    ),
                    customer_id=customer.id,
                    customer_code=customer.code,
                    customer_name=customer.name,
                    grade=action_grade,
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
    return Worklist(items=items[offset : offset + limit], total=total)
