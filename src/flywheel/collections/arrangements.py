"""Payment arrangements: an installment plan restructures a customer's open items into N
installments; an extension moves one installment's due date. Proposed by anyone who works
collections, approved by a role within its limit, confirmed by the customer. Approval changes
the schedule in the ledger (aging, DSO and the credit score follow it); the arrangement's items
keep the original due dates and amounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.config import get_settings
from flywheel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flywheel.kit.money import ZERO
from flywheel.models.base import utcnow
from flywheel.models.collections import ArrangementItem, PaymentArrangement
from flywheel.models.customers import Customer
from flywheel.models.enums import ArrangementKind, ArrangementStatus, InvoiceStatus
from flywheel.models.receivables import Installment, Invoice, still_open
from flywheel.receivables import service as receivables
from flywheel.receivables.allocation import refresh_installment
from flywheel.receivables.schemas import InstallmentIn, InvoiceCreate

CENT = Decimal("0.01")
MAX_INSTALLMENTS = 36
LONGEST_EXTENSION_DAYS = 365
AUDITED = (
    "kind",
    "status",
    "amount",
    "currency",
    "installments",
    "first_due_on",
    "frequency_days",
    "annual_interest_rate",
    "interest_amount",
    "customer_confirmed_on",
)


def _snapshot(arrangement: PaymentArrangement) -> dict[str, object]:
    return {**audit.snapshot(arrangement, AUDITED), "schedule": arrangement.schedule}


def plan_dates(first_due_on: date, count: int, frequency_days: int) -> list[date]:
    """The due dates of a plan: every ``frequency_days`` from the first; a frequency of 30
    means the same day of each month (the month's last day when it is shorter)."""
    if frequency_days != 30:
        return [first_due_on + timedelta(days=frequency_days * k) for k in range(count)]
    dates = []
    for k in range(count):
        month = first_due_on.month - 1 + k
        year, month = first_due_on.year + month // 12, month % 12 + 1
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        dates.append(date(year, month, min(first_due_on.day, last)))
    return dates


def split_even(total: Decimal, count: int) -> list[Decimal]:
    """``total`` in ``count`` equal parts to the cent; the last part takes the rounding."""
    part = (total / count).quantize(CENT, rounding=ROUND_HALF_UP)
    parts = [part] * (count - 1)
    return [*parts, total - sum(parts, ZERO)]


def plan_interest(
    amounts: Sequence[Decimal], dates: Sequence[date], *, as_of: date, annual_rate: float
) -> list[Decimal]:
    """Simple interest on each part for the days from ``as_of`` to its due date."""
    rate = Decimal(str(annual_rate))
    return [
        (amount * rate * Decimal(max((day - as_of).days, 0)) / Decimal(365)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        for amount, day in zip(amounts, dates, strict=True)
    ]


def _open_items(
    session: Session, customer: Customer, currency: str, ids: Sequence[int] | None
) -> list[Installment]:
    stmt = (
        select(Installment)
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(Installment.customer_id == customer.id, still_open(), Invoice.currency == currency)
        .order_by(Installment.due_date, Installment.id)
    )
    items = list(session.scalars(stmt).all())
    if ids:
        wanted = set(ids)
        chosen = [i for i in items if i.id in wanted]
        missing = wanted - {i.id for i in chosen}
        if missing:
            raise ValidationFailed(
                f"installment_ids: {', '.join(str(i) for i in sorted(missing))} are not open "
                f"items of {customer.code} in {currency}",
                field="installment_ids",
            )
        return chosen
    return items


def _pending_for(session: Session, installment_ids: Sequence[int]) -> int | None:
    return session.scalar(
        select(ArrangementItem.arrangement_id)
        .join(PaymentArrangement, PaymentArrangement.id == ArrangementItem.arrangement_id)
        .where(
            ArrangementItem.installment_id.in_(list(installment_ids)),
            PaymentArrangement.status == ArrangementStatus.PROPOSED.value,
        )
        .limit(1)
    )


def _refuse_double(session: Session, items: Sequence[Installment]) -> None:
    other = _pending_for(session, [i.id for i in items])
    if other is not None:
        raise Conflict(
            f"arrangement {other} already proposes a new schedule for some of these items; "
            "decide it first",
            arrangement_id=other,
        )


def propose_plan(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    count: int,
    first_due_on: date,
    frequency_days: int,
    reason: str,
    as_of: date,
    installment_ids: Sequence[int] | None = None,
    annual_interest_rate: float | None = None,
    currency: str | None = None,
) -> PaymentArrangement:
    """Propose to pay the open items (all of them in the currency, or ``installment_ids``) in
    ``count`` parts, the first on ``first_due_on``, then every ``frequency_days``."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    if not 2 <= count <= MAX_INSTALLMENTS:
        raise ValidationFailed(
            f"installments: a plan has 2 to {MAX_INSTALLMENTS} installments", field="installments"
        )
    if not 7 <= frequency_days <= 92:
        raise ValidationFailed(
            "frequency_days: from 7 (weekly) to 92 (quarterly); 30 means monthly",
            field="frequency_days",
        )
    if first_due_on < as_of:
        raise ValidationFailed(
            "first_due_on: the first installment is today or later", field="first_due_on"
        )
    if annual_interest_rate is not None and not 0 <= annual_interest_rate <= 0.5:
        raise ValidationFailed(
            "annual_interest_rate: from 0 to 0.5 (50 % a year)", field="annual_interest_rate"
        )
    _require_reason(reason)
    currency = currency or customer.currency
    items = _open_items(session, customer, currency, installment_ids)
    if not items:
        raise ValidationFailed(f"{customer.code} has no open items in {currency} to restructure")
    _refuse_double(session, items)
    total = sum((i.open_amount for i in items), ZERO)
    dates = plan_dates(first_due_on, count, frequency_days)
    amounts = split_even(total, count)
    interest = (
        plan_interest(amounts, dates, as_of=as_of, annual_rate=annual_interest_rate)
        if annual_interest_rate
        else [ZERO] * count
    )
    arrangement = PaymentArrangement(
        customer_id=customer.id,
        kind=ArrangementKind.PLAN.value,
        status=ArrangementStatus.PROPOSED.value,
        reason=reason.strip(),
        amount=total,
        currency=currency,
        installments=count,
        first_due_on=first_due_on,
        frequency_days=frequency_days,
        annual_interest_rate=annual_interest_rate or None,
        interest_amount=sum(interest, ZERO) if annual_interest_rate else None,
        schedule=[
            {"due_on": d.isoformat(), "amount": f"{a:.2f}", "interest": f"{i:.2f}"}
            for d, a, i in zip(dates, amounts, interest, strict=True)
        ],
        requested_by_id=actor.user_id,
    )
    arrangement.items = [_item(i) for i in items]
    session.add(arrangement)
    session.flush()
    _audit(session, actor, "arrangement.proposed", arrangement, before=None)
    return arrangement


def propose_extension(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    installment_id: int,
    new_due_on: date,
    reason: str,
    as_of: date,
) -> PaymentArrangement:
    """Propose to move one open installment's due date to ``new_due_on``."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    _require_reason(reason)
    installment = session.get(Installment, installment_id)
    if (
        installment is None
        or installment.customer_id != customer.id
        or installment.status not in (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value)
    ):
        raise NotFound(
            f"open installment {installment_id} of {customer.code} not found",
            installment_id=installment_id,
        )
    if new_due_on <= installment.due_date or new_due_on < as_of:
        raise ValidationFailed(
            f"new_due_on: {new_due_on.isoformat()} must be after the current due date "
            f"{installment.due_date.isoformat()} and not before today",
            field="new_due_on",
        )
    if new_due_on > as_of + timedelta(days=LONGEST_EXTENSION_DAYS):
        raise ValidationFailed(
            f"new_due_on: more than {LONGEST_EXTENSION_DAYS} days ahead; propose a plan instead",
            field="new_due_on",
        )
    _refuse_double(session, [installment])
    invoice = session.get(Invoice, installment.invoice_id)
    assert invoice is not None
    arrangement = PaymentArrangement(
        customer_id=customer.id,
        kind=ArrangementKind.EXTENSION.value,
        status=ArrangementStatus.PROPOSED.value,
        reason=reason.strip(),
        amount=installment.open_amount,
        currency=invoice.currency,
        installments=1,
        first_due_on=new_due_on,
        schedule=[{"due_on": new_due_on.isoformat(), "amount": f"{installment.open_amount:.2f}"}],
        requested_by_id=actor.user_id,
    )
    arrangement.items = [_item(installment)]
    session.add(arrangement)
    session.flush()
    _audit(session, actor, "arrangement.proposed", arrangement, before=None)
    return arrangement


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ValidationFailed("reason: say why the customer needs it", field="reason")


def _item(installment: Installment) -> ArrangementItem:
    return ArrangementItem(
        installment_id=installment.id,
        original_due_on=installment.due_date,
        original_amount=installment.amount,
        open_amount=installment.open_amount,
    )


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    arrangement: PaymentArrangement,
    *,
    before: dict[str, object] | None,
    extra: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        actor,
        action,
        subject_type="arrangement",
        subject_id=arrangement.id,
        customer_id=arrangement.customer_id,
        before=before,
        after={**_snapshot(arrangement), **(extra or {})},
    )


def approval_limit(actor: Actor) -> tuple[bool, Decimal | None]:
    """Whether ``actor``'s role may approve at all, and up to which amount (None: any)."""
    limits = get_settings().arrangement_approval_limits
    if (
        not permissions.allows(actor, Permission.APPROVE_ARRANGEMENTS)
        or actor.role.value not in limits
    ):
        return False, None
    return True, limits[actor.role.value]


def get_arrangement_for(
    session: Session, arrangement_id: int, *, actor: Actor
) -> PaymentArrangement:
    arrangement = session.scalar(
        select(PaymentArrangement)
        .join(Customer, Customer.id == PaymentArrangement.customer_id)
        .where(PaymentArrangement.id == arrangement_id, visible_customers(actor))
        .options(selectinload(PaymentArrangement.items))
    )
    if arrangement is None:
        raise NotFound(f"arrangement {arrangement_id} not found", arrangement_id=arrangement_id)
    return arrangement


def _proposed(session: Session, arrangement_id: int, actor: Actor) -> PaymentArrangement:
    arrangement = get_arrangement_for(session, arrangement_id, actor=actor)
    if arrangement.status != ArrangementStatus.PROPOSED.value:
        raise Conflict(
            f"arrangement {arrangement.id} is already {arrangement.status}",
            arrangement_id=arrangement.id,
        )
    return arrangement


def approve(
    session: Session, *, actor: Actor, arrangement_id: int, as_of: date, note: str | None = None
) -> PaymentArrangement:
    """Approve a proposed arrangement and apply its schedule to the ledger."""
    may, limit = approval_limit(actor)
    if not may:
        raise Forbidden(
            f"the role {actor.role.value} may not approve payment arrangements",
            role=actor.role.value,
        )
    arrangement = _proposed(session, arrangement_id, actor)
    if limit is not None and arrangement.amount > limit:
        raise Forbidden(
            f"arrangement {arrangement.id} is for {arrangement.amount:.2f} {arrangement.currency}; "
            f"the role {actor.role.value} approves up to {limit:.2f}",
            role=actor.role.value,
            limit=f"{limit:.2f}",
        )
    before = _snapshot(arrangement)
    installments = {
        i.id: i
        for i in session.scalars(
            select(Installment)
            .where(Installment.id.in_([it.installment_id for it in arrangement.items]))
            .with_for_update()
        )
    }
    for item in arrangement.items:
        current = installments[item.installment_id]
        if current.open_amount != item.open_amount or current.due_date != item.original_due_on:
            raise Conflict(
                f"installment {current.id} changed since the arrangement was proposed (open "
                f"{current.open_amount:.2f}, was {item.open_amount:.2f}); propose again",
                installment_id=current.id,
            )
    if arrangement.kind == ArrangementKind.EXTENSION.value:
        item = arrangement.items[0]
        item.new_due_on = arrangement.first_due_on
        installments[item.installment_id].due_date = arrangement.first_due_on
    else:
        _apply_plan(session, actor, arrangement, installments, as_of=as_of)
    arrangement.status = ArrangementStatus.APPROVED.value
    arrangement.decided_by_id = actor.user_id
    arrangement.decided_at = utcnow()
    arrangement.decision_note = (note or "").strip() or None
    session.flush()
    _audit(
        session,
        actor,
        "arrangement.approved",
        arrangement,
        before=before,
        extra={
            "items": [
                {
                    "installment_id": it.installment_id,
                    "original_due_on": it.original_due_on.isoformat(),
                    "original_amount": f"{it.original_amount:.2f}",
                    "new_due_on": it.new_due_on.isoformat() if it.new_due_on else None,
                    "created": it.created,
                }
                for it in arrangement.items
            ]
        },
    )
    return arrangement


def _apply_plan(
    session: Session,
    actor: Actor,
    arrangement: PaymentArrangement,
    installments: dict[int, Installment],
    *,
    as_of: date,
) -> None:
    """Cut the covered items along the plan's schedule, oldest item into the first part: each
    item keeps its row for its first piece and gets a new installment of the same invoice for
    each further piece."""
    slots = [(date.fromisoformat(s["due_on"]), Decimal(s["amount"])) for s in arrangement.schedule]
    originals = sorted(arrangement.items, key=lambda it: (it.original_due_on, it.installment_id))
    next_sequence: dict[int, int] = {}
    slot, room = 0, slots[0][1]
    created: list[ArrangementItem] = []
    for item in originals:
        installment = installments[item.installment_id]
        left = item.open_amount
        pieces: list[tuple[date, Decimal]] = []
        while left > ZERO:
            if room == ZERO:
                slot += 1
                room = slots[slot][1]
            take = min(left, room)
            pieces.append((slots[slot][0], take))
            left -= take
            room -= take
        settled = installment.amount - item.open_amount
        first_day, first_amount = pieces[0]
        installment.amount = settled + first_amount
        installment.due_date = first_day
        refresh_installment(installment, settled_on=None)
        item.new_due_on = first_day
        if len(pieces) > 1:
            invoice_id = installment.invoice_id
            if invoice_id not in next_sequence:
                next_sequence[invoice_id] = (
                    session.scalar(
                        select(func.max(Installment.sequence)).where(
                            Installment.invoice_id == invoice_id
                        )
                    )
                    or 0
                ) + 1
            for day, amount in pieces[1:]:
                new = Installment(
                    invoice_id=invoice_id,
                    customer_id=installment.customer_id,
                    sequence=next_sequence[invoice_id],
                    due_date=day,
                    amount=amount,
                    paid_amount=ZERO,
                    credited_amount=ZERO,
                    written_off_amount=ZERO,
                    status=InvoiceStatus.OPEN.value,
                )
                next_sequence[invoice_id] += 1
                session.add(new)
                session.flush()
                created.append(
                    ArrangementItem(
                        installment_id=new.id,
                        original_due_on=item.original_due_on,
                        original_amount=ZERO,
                        open_amount=ZERO,
                        new_due_on=day,
                        created=True,
                    )
                )
    arrangement.items.extend(created)
    interest = [Decimal(s.get("interest", "0")) for s in arrangement.schedule]
    if sum(interest, ZERO) > ZERO:
        parts = [
            InstallmentIn(due_date=day, amount=amount)
            for (day, _), amount in zip(slots, interest, strict=True)
            if amount > ZERO
        ]
        invoice = receivables.create_invoice(
            session,
            actor=actor,
            data=InvoiceCreate(
                number=f"INT-PLAN-{arrangement.id}",
                customer_id=arrangement.customer_id,
                issue_date=as_of,
                amount=sum((p.amount for p in parts), ZERO),
                currency=arrangement.currency,
                installments=parts,
            ),
        )
        arrangement.interest_invoice_id = invoice.id


def reject(session: Session, *, actor: Actor, arrangement_id: int, note: str) -> PaymentArrangement:
    may, _ = approval_limit(actor)
    if not may:
        raise Forbidden(
            f"the role {actor.role.value} may not decide payment arrangements",
            role=actor.role.value,
        )
    if not note or not note.strip():
        raise ValidationFailed("note: say why the arrangement is rejected", field="note")
    arrangement = _proposed(session, arrangement_id, actor)
    before = _snapshot(arrangement)
    arrangement.status = ArrangementStatus.REJECTED.value
    arrangement.decided_by_id = actor.user_id
    arrangement.decided_at = utcnow()
    arrangement.decision_note = note.strip()
    session.flush()
    _audit(session, actor, "arrangement.rejected", arrangement, before=before)
    return arrangement


def cancel(session: Session, *, actor: Actor, arrangement_id: int, note: str) -> PaymentArrangement:
    """Withdraw a proposal that was not decided yet."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    arrangement = _proposed(session, arrangement_id, actor)
    before = _snapshot(arrangement)
    arrangement.status = ArrangementStatus.CANCELLED.value
    arrangement.decision_note = (note or "").strip() or None
    session.flush()
    _audit(session, actor, "arrangement.cancelled", arrangement, before=before)
    return arrangement


def confirm_by_customer(
    session: Session,
    *,
    actor: Actor,
    arrangement_id: int,
    confirmed_on: date,
    confirmation: str,
) -> PaymentArrangement:
    """Record that the customer agreed to the arrangement (who, how: a signed letter, an
    e-mail, a call)."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    arrangement = get_arrangement_for(session, arrangement_id, actor=actor)
    if arrangement.status in (ArrangementStatus.REJECTED.value, ArrangementStatus.CANCELLED.value):
        raise Conflict(f"arrangement {arrangement.id} is {arrangement.status}")
    if not confirmation or not confirmation.strip():
        raise ValidationFailed(
            "confirmation: who confirmed it and how (e-mail, signed letter, call)",
            field="confirmation",
        )
    before = _snapshot(arrangement)
    arrangement.customer_confirmed_on = confirmed_on
    arrangement.customer_confirmation = confirmation.strip()
    session.flush()
    _audit(session, actor, "arrangement.confirmed_by_customer", arrangement, before=before)
    return arrangement


def extended_installments(session: Session, *, as_of: date) -> set[int]:
    """Installments of approved extensions whose new due date has not come on ``as_of``: the
    customer was just given time, so no reminder goes out before the new date."""
    rows = session.execute(
        select(ArrangementItem.installment_id)
        .join(PaymentArrangement, PaymentArrangement.id == ArrangementItem.arrangement_id)
        .where(
            PaymentArrangement.status == ArrangementStatus.APPROVED.value,
            PaymentArrangement.kind == ArrangementKind.EXTENSION.value,
            ArrangementItem.new_due_on > as_of,
        )
    ).all()
    return {r[0] for r in rows}


def arrangements_query(
    actor: Actor,
    *,
    status: ArrangementStatus | None = None,
    kind: ArrangementKind | None = None,
    customer_id: int | None = None,
) -> Select[PaymentArrangement, Customer]:
    stmt = (
        select(PaymentArrangement, Customer)
        .join(Customer, Customer.id == PaymentArrangement.customer_id)
        .where(visible_customers(actor))
        .order_by(PaymentArrangement.created_at.desc(), PaymentArrangement.id.desc())
    )
    if status is not None:
        stmt = stmt.where(PaymentArrangement.status == status.value)
    if kind is not None:
        stmt = stmt.where(PaymentArrangement.kind == kind.value)
    if customer_id is not None:
        stmt = stmt.where(PaymentArrangement.customer_id == customer_id)
    return stmt
