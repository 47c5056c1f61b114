"""Promises to pay: recorded from a call, the 360 or the API; the covered items leave dunning
until the promised day plus a grace period; payments keep the promise, the passing of the grace
period without them breaks it. Broken promises count against the credit score."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
from flywheel.kit.money import ZERO
from flywheel.models.collections import PromiseItem, PromiseToPay
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import PromiseStatus
from flywheel.models.receivables import Allocation, Installment, Invoice, still_open

SYSTEM = Actor.system("collections")
LONGEST_PROMISE_DAYS = 180
AUDITED = ("amount", "currency", "promised_on", "status", "paid_amount", "resolved_on")


def _snapshot(promise: PromiseToPay) -> dict[str, object]:
    return audit.snapshot(promise, AUDITED)


def _open_items(session: Session, customer: Customer, currency: str) -> list[Installment]:
    return list(
        session.scalars(
            select(Installment)
            .join(Invoice, Invoice.id == Installment.invoice_id)
            .where(
                Installment.customer_id == customer.id,
                still_open(),
                Invoice.currency == currency,
            )
            .order_by(Installment.due_date, Installment.id)
        ).all()
    )


def record_promise(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    amount: Decimal,
    promised_on: date,
    as_of: date,
    currency: str | None = None,
    contact_id: int | None = None,
    channel: str | None = None,
    note: str | None = None,
    installment_ids: Sequence[int] | None = None,
    action_id: int | None = None,
) -> PromiseToPay:
    """Record that ``customer`` promised to pay ``amount`` by ``promised_on``. It covers the
    given installments, or else the oldest open ones until ``amount`` is reached."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    currency = currency or customer.currency
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0:
        raise InvalidAmount("amount: a promise to pay is for more than 0", field="amount")
    if promised_on < as_of:
        raise ValidationFailed(
            f"promised_on: {promised_on.isoformat()} is before today ({as_of.isoformat()})",
            field="promised_on",
        )
    if promised_on > as_of + timedelta(days=LONGEST_PROMISE_DAYS):
        raise ValidationFailed(
            f"promised_on: more than {LONGEST_PROMISE_DAYS} days ahead; propose a payment plan "
            "instead",
            field="promised_on",
        )
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.customer_id != customer.id:
            raise ValidationFailed(
                f"contact_id: contact {contact_id} is not a contact of {customer.code}",
                field="contact_id",
            )
    items = _open_items(session, customer, currency)
    if installment_ids:
        wanted = set(installment_ids)
        chosen = [i for i in items if i.id in wanted]
        missing = wanted - {i.id for i in chosen}
        if missing:
            raise ValidationFailed(
                f"installment_ids: {', '.join(str(i) for i in sorted(missing))} are not open "
                f"items of {customer.code} in {currency}",
                field="installment_ids",
            )
    else:
        chosen, covered = [], ZERO
        for item in items:
            if covered >= amount:
                break
            chosen.append(item)
            covered += item.open_amount
    open_total = sum((i.open_amount for i in (chosen if installment_ids else items)), ZERO)
    if not chosen or amount > open_total:
        raise InvalidAmount(
            f"amount: {amount:.2f} is more than "
            + (
                "the open amount of the chosen items"
                if installment_ids
                else f"{customer.code} owes in {currency}"
            )
            + f" ({open_total:.2f})",
            field="amount",
        )
    promise = PromiseToPay(
        customer_id=customer.id,
        amount=amount,
        currency=currency,
        promised_on=promised_on,
        made_on=as_of,
        grace_days=get_settings().promise_grace_days,
        contact_id=contact_id,
        channel=channel,
        note=(note or "").strip() or None,
        status=PromiseStatus.PENDING.value,
        paid_amount=ZERO,
        action_id=action_id,
        created_by_id=actor.user_id,
    )
    promise.items = [PromiseItem(installment_id=i.id) for i in chosen]
    session.add(promise)
    session.flush()
    audit.record(
        session,
        actor,
        "promise.recorded",
        subject_type="promise",
        subject_id=promise.id,
        customer_id=customer.id,
        after={**_snapshot(promise), "installments": [i.id for i in chosen]},
    )
    return promise


def get_promise_for(session: Session, promise_id: int, *, actor: Actor) -> PromiseToPay:
    promise = session.scalar(
        select(PromiseToPay)
        .join(Customer, Customer.id == PromiseToPay.customer_id)
        .where(PromiseToPay.id == promise_id, visible_customers(actor))
    )
    if promise is None:
        raise NotFound(f"promise {promise_id} not found", promise_id=promise_id)
    return promise


def cancel_promise(
    session: Session, *, actor: Actor, promise_id: int, reason: str, as_of: date
) -> PromiseToPay:
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    promise = get_promise_for(session, promise_id, actor=actor)
    if promise.status != PromiseStatus.PENDING.value:
        raise Conflict(f"promise {promise.id} is already {promise.status}", promise_id=promise.id)
    if not reason.strip():
        raise ValidationFailed("reason: say why the promise is withdrawn", field="reason")
    before = _snapshot(promise)
    promise.status = PromiseStatus.CANCELLED.value
    promise.resolved_on = as_of
    promise.note = "\n".join(filter(None, [promise.note, reason.strip()]))
    session.flush()
    audit.record(
        session,
        actor,
        "promise.cancelled",
        subject_type="promise",
        subject_id=promise.id,
        customer_id=promise.customer_id,
        before=before,
        after={**_snapshot(promise), "reason": reason.strip()},
    )
    return promise


def _paid_since(
    session: Session, promises: Sequence[PromiseToPay], as_of: date
) -> dict[int, Decimal]:
    """Per promise: payments in its currency applied to the customer's items from the day it
    was made up to ``as_of`` (no later than the end of its grace period). A payment counts once:
    promises of one customer take from the payments in the order they fall due."""
    if not promises:
        return {}
    customers = {p.customer_id for p in promises}
    earliest = min(p.made_on for p in promises)
    rows = session.execute(
        select(
            Allocation.customer_id,
            Invoice.currency,
            Allocation.applied_on,
            func.sum(Allocation.amount),
        )
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(
            Allocation.customer_id.in_(customers),
            Allocation.payment_id.is_not(None),
            Allocation.applied_on >= earliest,
            Allocation.applied_on <= as_of,
        )
        .group_by(Allocation.customer_id, Invoice.currency, Allocation.applied_on)
        .order_by(Allocation.customer_id, Invoice.currency, Allocation.applied_on)
    ).all()
    # (customer, currency) → the days and the amounts not yet counted for a promise
    pools: dict[tuple[int, str], tuple[list[date], list[Decimal]]] = {}
    for customer_id, currency, applied_on, amount in rows:
        days, amounts = pools.setdefault((customer_id, currency), ([], []))
        days.append(applied_on)
        amounts.append(Decimal(amount))
    # What promises kept earlier already counted is not counted again.
    kept_before = session.scalars(
        select(PromiseToPay).where(
            PromiseToPay.customer_id.in_(customers),
            PromiseToPay.status == PromiseStatus.KEPT.value,
            PromiseToPay.resolved_on >= earliest,
        )
    ).all()
    for k in sorted(kept_before, key=lambda k: (k.promised_on, k.made_on, k.id)):
        _take(pools, k, k.paid_amount, until=k.resolved_on or as_of)
    paid: dict[int, Decimal] = {}
    for p in sorted(promises, key=lambda p: (p.promised_on, p.made_on, p.id)):
        until = min(as_of, p.promised_on + timedelta(days=p.grace_days))
        got = _take(pools, p, p.amount, until=until)
        paid[p.id] = got.quantize(Decimal("0.01"))
    return paid


def _take(
    pools: dict[tuple[int, str], tuple[list[date], list[Decimal]]],
    promise: PromiseToPay,
    need: Decimal,
    *,
    until: date,
) -> Decimal:
    """Count up to ``need`` of the customer's payments from the day ``promise`` was made to
    ``until`` for it; what is counted leaves the pool."""
    got = ZERO
    days, amounts = pools.get((promise.customer_id, promise.currency), ([], []))
    for k, day in enumerate(days):
        if got >= need:
            break
        if not promise.made_on <= day <= until or amounts[k] <= 0:
            continue
        take = min(amounts[k], need - got)
        amounts[k] -= take
        got += take
    return got


@dataclass(frozen=True, slots=True)
class PromiseCheck:
    kept: list[PromiseToPay]
    broken: list[PromiseToPay]


def evaluate(
    session: Session,
    *,
    as_of: date,
    customer_ids: Iterable[int] | None = None,
    only_kept: bool = False,
) -> PromiseCheck:
    """Mark pending promises kept (paid in full since they were made) or broken (their grace
    period has passed on ``as_of`` without it; not with ``only_kept``)."""
    stmt = select(PromiseToPay).where(
        PromiseToPay.status == PromiseStatus.PENDING.value, PromiseToPay.made_on <= as_of
    )
    if customer_ids is not None:
        stmt = stmt.where(PromiseToPay.customer_id.in_(list(customer_ids)))
    pending = list(session.scalars(stmt).all())
    if not pending:
        return PromiseCheck(kept=[], broken=[])
    paid = _paid_since(session, pending, as_of)
    kept: list[PromiseToPay] = []
    broken: list[PromiseToPay] = []
    for promise in pending:
        before = _snapshot(promise)
        promise.paid_amount = paid[promise.id]
        if promise.paid_amount >= promise.amount:
            promise.status = PromiseStatus.KEPT.value
            kept.append(promise)
        elif not only_kept and as_of > promise.promised_on + timedelta(days=promise.grace_days):
            promise.status = PromiseStatus.BROKEN.value
            broken.append(promise)
        else:
            continue
        promise.resolved_on = as_of
        audit.record(
            session,
            SYSTEM,
            f"promise.{promise.status}",
            subject_type="promise",
            subject_id=promise.id,
            customer_id=promise.customer_id,
            before=before,
            after=_snapshot(promise),
        )
    session.flush()
    return PromiseCheck(kept=kept, broken=broken)


def paused_installments(session: Session, *, as_of: date) -> set[int]:
    """Installments under a pending promise whose grace period has not passed on ``as_of``."""
    rows = session.execute(
        select(PromiseItem.installment_id, PromiseToPay.promised_on, PromiseToPay.grace_days)
        .join(PromiseToPay, PromiseToPay.id == PromiseItem.promise_id)
        .where(PromiseToPay.status == PromiseStatus.PENDING.value, PromiseToPay.made_on <= as_of)
    ).all()
    return {i for i, day, grace in rows if as_of <= day + timedelta(days=grace)}


def promises_query(
    actor: Actor,
    *,
    status: PromiseStatus | None = None,
    customer_id: int | None = None,
    due_by: date | None = None,
) -> Select[PromiseToPay, Customer]:
    """Promises the actor may see, soonest promised day first."""
    stmt = (
        select(PromiseToPay, Customer)
        .join(Customer, Customer.id == PromiseToPay.customer_id)
        .where(visible_customers(actor))
        .order_by(PromiseToPay.promised_on, PromiseToPay.id)
    )
    if status is not None:
        stmt = stmt.where(PromiseToPay.status == status.value)
    if customer_id is not None:
        stmt = stmt.where(PromiseToPay.customer_id == customer_id)
    if due_by is not None:
        stmt = stmt.where(PromiseToPay.promised_on <= due_by)
    return stmt


def broken_counts(session: Session, *, as_of: date, since: date) -> dict[int, int]:
    """Promises broken per customer in (since, as_of]: the credit score's factor."""
    rows = session.execute(
        select(PromiseToPay.customer_id, func.count(PromiseToPay.id))
        .where(
            PromiseToPay.status == PromiseStatus.BROKEN.value,
            PromiseToPay.resolved_on > since,
            PromiseToPay.resolved_on <= as_of,
        )
        .group_by(PromiseToPay.customer_id)
    ).all()
    return {int(c): int(n) for c, n in rows}


@dataclass(frozen=True, slots=True)
class KeepingRate:
    kept: int
    broken: int

    @property
    def rate(self) -> float | None:
        """Kept ÷ (kept + broken); None when no promise came due."""
        total = self.kept + self.broken
        return None if total == 0 else self.kept / total


def keeping_rate(
    session: Session,
    *,
    since: date,
    until: date,
    actor: Actor | None = None,
    currency: str | None = None,
) -> KeepingRate:
    """The promise-keeping rate of the promises resolved in [since, until] (of the accounts
    ``actor`` may see, in ``currency`` when given)."""
    stmt = (
        select(PromiseToPay.status, func.count(PromiseToPay.id))
        .where(
            PromiseToPay.status.in_([PromiseStatus.KEPT.value, PromiseStatus.BROKEN.value]),
            PromiseToPay.resolved_on >= since,
            PromiseToPay.resolved_on <= until,
        )
        .group_by(PromiseToPay.status)
    )
    if actor is not None:
        stmt = stmt.join(Customer, Customer.id == PromiseToPay.customer_id).where(
            visible_customers(actor)
        )
    if currency is not None:
        stmt = stmt.where(PromiseToPay.currency == currency)
    counts: dict[str, int] = {}
    for status, n in session.execute(stmt).all():
        counts[status] = int(n)
    return KeepingRate(
        kept=int(counts.get(PromiseStatus.KEPT.value, 0)),
        broken=int(counts.get(PromiseStatus.BROKEN.value, 0)),
    )
