"""Collections history for the demo company: promises to pay given in the last three months
(kept or broken by the ledger's real payments), promises still pending, and disputes, some of
them resolved, so the worklist, the 360, the KPIs and the credit score have something to show."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.collections import disputes, promises
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError
from flywheel.models.collections import PromiseItem, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import DisputeReason, DisputeResolution, PromiseStatus
from flywheel.models.receivables import Installment, Invoice, still_open

DEMO = Actor.system("demo")
PROMISE_SHARE = 0.04  # customers who gave a promise in the last three months
PENDING_SHARE = 0.01  # customers with a promise still running today
DISPUTE_SHARE = 0.015  # customers with a dispute opened in the last month
REASONS = [r.value for r in DisputeReason]
REASON_WEIGHTS = [0.25, 0.10, 0.20, 0.15, 0.15, 0.05, 0.10]
RESOLUTIONS = [
    DisputeResolution.CREDIT_NOTE,
    DisputeResolution.ADJUSTMENT,
    DisputeResolution.REJECTED,
]
RESOLUTION_WEIGHTS = [0.5, 0.2, 0.3]
GRACE_DAYS = 3


def seed_collections(engine: Engine, *, as_of: date, seed: int) -> dict[str, int]:
    """Write the demo's collections history; returns rows written per kind."""
    rng = np.random.default_rng(seed + 101)
    with Session(engine) as session:
        counts = {
            "promises_to_pay": _past_promises(session, rng, as_of=as_of),
        }
        counts["promises_to_pay"] += _pending_promises(session, rng, as_of=as_of)
        counts["disputes"] = _disputes(session, rng, as_of=as_of)
        session.commit()
    return counts


def _past_promises(session: Session, rng: np.random.Generator, *, as_of: date) -> int:
    """Promises made 10–90 days ago on items that were overdue then; the evaluation against the
    payments that really came decides which were kept."""
    rows = session.execute(
        select(
            Installment.id,
            Installment.customer_id,
            Installment.due_date,
            Installment.amount,
            Installment.settled_on,
            Invoice.currency,
        )
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(
            Installment.due_date >= as_of - timedelta(days=150),
            Installment.due_date <= as_of - timedelta(days=20),
        )
        .order_by(Installment.id)
    ).all()
    late = [
        r for r in rows if r.settled_on is None or r.settled_on > r.due_date + timedelta(days=5)
    ]
    by_customer: dict[int, list[Any]] = {}
    for row in late:
        by_customer.setdefault(row.customer_id, []).append(row)
    if not by_customer:
        return 0
    wanted = max(1, round(_customer_count(session) * PROMISE_SHARE))
    chosen = rng.choice(sorted(by_customer), size=min(wanted, len(by_customer)), replace=False)
    made = 0
    for customer_id in chosen.tolist():
        candidates = by_customer[customer_id]
        row = candidates[int(rng.integers(len(candidates)))]
        made_on = row.due_date + timedelta(days=int(rng.integers(5, 26)))
        if made_on >= as_of - timedelta(days=1):
            continue
        if row.settled_on is not None and row.settled_on <= made_on:
            continue
        promised_on = min(made_on + timedelta(days=int(rng.integers(3, 15))), as_of)
        promise = PromiseToPay(
            customer_id=customer_id,
            amount=row.amount,
            currency=row.currency,
            promised_on=promised_on,
            made_on=made_on,
            grace_days=GRACE_DAYS,
            channel="call",
            note="示例：电话中客户承诺付款",
            status=PromiseStatus.PENDING.value,
            paid_amount=Decimal("0.00"),
        )
        promise.items = [PromiseItem(installment_id=row.id)]
        session.add(promise)
        made += 1
    session.flush()
    promises.evaluate(session, as_of=as_of)
    return made


def _customer_count(session: Session) -> int:
    return int(session.scalar(select(func.count(Customer.id))) or 0)


def _open_overdue(session: Session, *, as_of: date) -> dict[int, list[Installment]]:
    items = session.scalars(
        select(Installment)
        .where(still_open(), Installment.due_date < as_of)
        .order_by(Installment.customer_id, Installment.due_date, Installment.id)
    ).all()
    by_customer: dict[int, list[Installment]] = {}
    for item in items:
        by_customer.setdefault(item.customer_id, []).append(item)
    return by_customer


def _pending_promises(session: Session, rng: np.random.Generator, *, as_of: date) -> int:
    overdue = _open_overdue(session, as_of=as_of)
    if not overdue:
        return 0
    wanted = max(1, round(_customer_count(session) * PENDING_SHARE))
    chosen = rng.choice(sorted(overdue), size=min(wanted, len(overdue)), replace=False)
    made = 0
    for customer_id in chosen.tolist():
        customer = customers.get_customer(session, customer_id)
        first = overdue[customer_id][0]
        try:
            promises.record_promise(
                session,
                actor=DEMO,
                customer=customer,
                amount=first.open_amount,
                promised_on=as_of + timedelta(days=int(rng.integers(1, 11))),
                as_of=as_of,
                channel="call",
                note="示例：客户承诺本周内安排付款",
                installment_ids=[first.id],
            )
        except FlywheelError:
            continue
        made += 1
    return made


def _disputes(session: Session, rng: np.random.Generator, *, as_of: date) -> int:
    overdue = _open_overdue(session, as_of=as_of)
    if not overdue:
        return 0
    wanted = max(1, round(_customer_count(session) * DISPUTE_SHARE))
    chosen = rng.choice(sorted(overdue), size=min(wanted, len(overdue)), replace=False)
    opened = 0
    for customer_id in chosen.tolist():
        customer = customers.get_customer(session, customer_id)
        item = overdue[customer_id][int(rng.integers(len(overdue[customer_id])))]
        opened_on = max(item.due_date, as_of - timedelta(days=int(rng.integers(0, 30))))
        part = (
            None
            if rng.random() < 0.6
            else (item.open_amount * Decimal(str(round(rng.uniform(0.3, 0.7), 2)))).quantize(
                Decimal("0.01")
            )
        )
        try:
            dispute = disputes.open_dispute(
                session,
                actor=DEMO,
                customer=customer,
                installment_id=item.id,
                reason=REASONS[int(rng.choice(len(REASONS), p=REASON_WEIGHTS))],
                as_of=opened_on,
                amount=part if part and part > 0 else None,
                description="示例争议",
                source="collector",
            )
        except FlywheelError:
            continue
        opened += 1
        if (as_of - opened_on).days > 7 and rng.random() < 0.4:
            resolution = RESOLUTIONS[int(rng.choice(len(RESOLUTIONS), p=RESOLUTION_WEIGHTS))]
            try:
                disputes.resolve_dispute(
                    session,
                    actor=DEMO,
                    dispute_id=dispute.id,
                    resolution=resolution,
                    as_of=min(as_of, opened_on + timedelta(days=int(rng.integers(2, 10)))),
                    note=None if resolution is DisputeResolution.CREDIT_NOTE else "示例：已处理",
                    credit_note_number=f"CN-DEMO-DSP-{dispute.id}",
                )
            except FlywheelError:
                continue
    return opened
