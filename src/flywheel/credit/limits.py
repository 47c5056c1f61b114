"""Credit limits: the daily cycle proposes a limit per customer, finance approves or edits it in
the review queue, and every new order or invoice is checked against the limit and the grade."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from flywheel.analytics.credit_limits import LimitPolicy, needs_review, recommended_limits
from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import holds
from flywheel.db import bulk_insert, bulk_update
from flywheel.errors import Conflict, CreditHold, NotFound, ValidationFailed
from flywheel.kit.money import CENT, from_float
from flywheel.models.base import utcnow
from flywheel.models.credit import CreditLimit, CreditLimitReview, CreditScore
from flywheel.models.customers import Customer
from flywheel.models.enums import OrderStatus
from flywheel.models.receivables import Installment, Invoice, still_open
from flywheel.models.sales import Order
from flywheel.receivables.ledger_columns import LedgerColumns

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
HOLD_GRADES = frozenset({"E"})
_PROPOSAL_COLUMNS = (
    "proposed_on",
    "grade",
    "current_limit",
    "recommended_limit",
    "monthly_invoiced",
    "terms_days",
)


@dataclass(frozen=True, slots=True)
class ProposalRun:
    proposed: int
    updated: int


def propose(
    session: Session,
    ledger: LedgerColumns,
    grades: list[str],
    *,
    as_of: date,
    policy: LimitPolicy | None = None,
) -> ProposalRun:
    """Recommend a limit for every customer of ``ledger`` (``grades`` in its customer order)
    and queue a review where the recommendation differs enough from the approved limit. A
    customer already waiting for a decision gets its proposal refreshed, not a second one."""
    policy = policy or LimitPolicy()
    customers = ledger.customers
    n = len(customers)
    inst = ledger.installments
    as_of_day = np.datetime64(as_of, "D")
    in_year = (inst.issue_day > as_of_day - np.timedelta64(365, "D")) & (
        inst.issue_day <= as_of_day
    )
    amount = inst.amount.astype(np.float64) / 100.0
    monthly = np.bincount(inst.customer[in_year], weights=amount[in_year], minlength=n) / 12.0
    terms = (inst.due_day - inst.issue_day).astype("timedelta64[D]").astype(np.float64)
    weight_sum = np.bincount(inst.customer[in_year], weights=amount[in_year], minlength=n)
    weighted_terms = np.bincount(
        inst.customer[in_year], weights=amount[in_year] * terms[in_year], minlength=n
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        terms_days = np.where(
            weight_sum > 0, weighted_terms / np.where(weight_sum > 0, weight_sum, 1), 30.0
        )
    recommended = recommended_limits(monthly, terms_days, grades, policy)

    ids = customers.id.tolist()
    limits = dict(session.execute(select(CreditLimit.customer_id, CreditLimit.amount)).all())
    current = np.array([float(limits[c]) if c in limits else np.nan for c in ids])
    currency = dict(session.execute(select(Customer.id, Customer.currency)).all())
    pending = dict(
        session.execute(
            select(CreditLimitReview.customer_id, CreditLimitReview.id).where(
                CreditLimitReview.status == PENDING
            )
        ).all()
    )
    review = needs_review(recommended, current, policy)
    now = utcnow()
    new_rows: list[tuple[Any, ...]] = []
    refreshed: list[tuple[Any, ...]] = []
    for row in np.flatnonzero(review).tolist():
        customer_id = ids[row]
        values = (
            as_of,
            grades[row],
            None if np.isnan(current[row]) else from_float(current[row]),
            from_float(recommended[row]),
            from_float(monthly[row]),
            round(float(terms_days[row])),
        )
        if customer_id in pending:
            refreshed.append((pending[customer_id], *values))
        else:
            new_rows.append((customer_id, currency.get(customer_id, "CNY"), PENDING, now, *values))
    # Plain executemany / COPY: tens of thousands of proposals a day on a big book.
    table = cast(Table, CreditLimitReview.__table__)
    new_columns = ("customer_id", "currency", "status", "created_at", *_PROPOSAL_COLUMNS)
    bulk_insert(session, table, new_columns, new_rows)
    bulk_update(session, table, "id", _PROPOSAL_COLUMNS, refreshed)
    return ProposalRun(proposed=len(new_rows), updated=len(refreshed))


# ---------------------------------------------------------------- the review queue


def pending_reviews(
    session: Session, *, limit: int = 50, offset: int = 0, grade: str | None = None
) -> tuple[list[tuple[CreditLimitReview, Customer]], int]:
    """Reviews waiting for a decision, biggest change first, with their customers."""
    stmt = (
        select(CreditLimitReview, Customer)
        .join(Customer, Customer.id == CreditLimitReview.customer_id)
        .where(CreditLimitReview.status == PENDING)
    )
    counting = (
        select(func.count())
        .select_from(CreditLimitReview)
        .where(CreditLimitReview.status == PENDING)
    )
    if grade:
        stmt = stmt.where(CreditLimitReview.grade == grade)
        counting = counting.where(CreditLimitReview.grade == grade)
    change = func.abs(
        CreditLimitReview.recommended_limit - func.coalesce(CreditLimitReview.current_limit, 0)
    )
    rows = session.execute(
        stmt.order_by(change.desc(), CreditLimitReview.id).limit(limit).offset(offset)
    ).all()
    return [(r, c) for r, c in rows], int(session.scalar(counting) or 0)


def decide(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    approve: bool,
    limit: Decimal | None = None,
    note: str | None = None,
    on: date,
) -> CreditLimitReview:
    """Approve (the recommended limit, or ``limit`` when finance edits it) or reject a review.
    An approval sets the customer's limit and is audited with the limit before and after."""
    permissions.check(actor, Permission.APPROVE_CREDIT_LIMITS)
    review = session.get(CreditLimitReview, review_id, with_for_update=True)
    if review is None:
        raise NotFound(f"credit limit review {review_id} not found")
    if review.status != PENDING:
        raise Conflict(
            f"credit limit review {review_id} is already {review.status}", status=review.status
        )
    if limit is not None and limit < 0:
        raise ValidationFailed("a credit limit cannot be negative", field="limit")
    review.status = APPROVED if approve else REJECTED
    review.decided_by_id = actor.user_id
    review.decided_at = utcnow()
    review.note = note
    if approve:
        amount = (limit if limit is not None else review.recommended_limit).quantize(CENT)
        review.approved_limit = amount
        existing = session.get(CreditLimit, review.customer_id, with_for_update=True)
        before = (
            None
            if existing is None
            else {"limit": f"{existing.amount:.2f}", "currency": existing.currency}
        )
        if existing is None:
            session.add(
                CreditLimit(
                    customer_id=review.customer_id,
                    amount=amount,
                    currency=review.currency,
                    approved_on=on,
                    approved_by_id=actor.user_id,
                )
            )
        else:
            existing.amount = amount
            existing.approved_on = on
            existing.approved_by_id = actor.user_id
        audit.record(
            session,
            actor,
            "credit.limit_changed",
            subject_type="customer",
            subject_id=review.customer_id,
            customer_id=review.customer_id,
            before=before,
            after={
                "limit": f"{amount:.2f}",
                "currency": review.currency,
                "recommended": f"{review.recommended_limit:.2f}",
                "grade": review.grade,
                "review": review.id,
                "note": note,
            },
        )
    else:
        audit.record(
            session,
            actor,
            "credit.limit_review_rejected",
            subject_type="customer",
            subject_id=review.customer_id,
            customer_id=review.customer_id,
            after={
                "recommended": f"{review.recommended_limit:.2f}",
                "review": review.id,
                "note": note,
            },
        )
    session.flush()
    return review


# ---------------------------------------------------------------- the credit check


@dataclass(frozen=True, slots=True)
class CreditCheck:
    """Where a customer stands if a new document of ``amount`` is added."""

    grade: str | None
    limit: Decimal | None
    open_receivables: Decimal
    unbilled_orders: Decimal
    amount: Decimal
    reasons: tuple[str, ...]

    @property
    def exposure(self) -> Decimal:
        return self.open_receivables + self.unbilled_orders + self.amount

    @property
    def passes(self) -> bool:
        return not self.reasons

    def details(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "limit": None if self.limit is None else f"{self.limit:.2f}",
            "open_receivables": f"{self.open_receivables:.2f}",
            "unbilled_orders": f"{self.unbilled_orders:.2f}",
            "new_document": f"{self.amount:.2f}",
            "exposure": f"{self.exposure:.2f}",
            "reasons": list(self.reasons),
        }


def check(session: Session, customer: Customer, amount: Decimal, *, as_of: date) -> CreditCheck:
    """Exposure = open receivables + orders not yet invoiced + the new document, against the
    approved limit; grade E (the newest score on or before ``as_of``) holds new business."""
    open_receivables = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    Installment.amount
                    - Installment.paid_amount
                    - Installment.credited_amount
                    - Installment.written_off_amount
                ),
                0,
            )
        )
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(
            Installment.customer_id == customer.id,
            still_open(),
            Invoice.currency == customer.currency,
        )
    )
    invoiced_orders = select(Invoice.order_id).where(
        Invoice.customer_id == customer.id, Invoice.order_id.is_not(None)
    )
    unbilled = session.scalar(
        select(func.coalesce(func.sum(Order.amount), 0)).where(
            Order.customer_id == customer.id,
            Order.currency == customer.currency,
            Order.status.in_(
                [OrderStatus.OPEN.value, OrderStatus.CONFIRMED.value, OrderStatus.DELIVERED.value]
            ),
            Order.id.not_in(invoiced_orders),
        )
    )
    grade = session.scalar(
        select(CreditScore.grade)
        .where(CreditScore.customer_id == customer.id, CreditScore.as_of <= as_of)
        .order_by(CreditScore.as_of.desc())
        .limit(1)
    )
    limit_row = session.get(CreditLimit, customer.id)
    limit = limit_row.amount if limit_row is not None else None
    result = CreditCheck(
        grade=grade,
        limit=limit,
        open_receivables=Decimal(open_receivables or 0).quantize(CENT),
        unbilled_orders=Decimal(unbilled or 0).quantize(CENT),
        amount=amount,
        reasons=(),
    )
    reasons: list[str] = []
    placed = holds.hold_of(session, customer.id)
    if placed is not None:
        reasons.append(f"on credit hold since {placed.placed_on.isoformat()}: {placed.reason}")
    if grade in HOLD_GRADES:
        reasons.append(f"credit grade {grade} holds new business")
    if limit is not None and result.exposure > limit:
        reasons.append(f"exposure {result.exposure:.2f} would exceed the credit limit {limit:.2f}")
    return CreditCheck(**{**_fields(result), "reasons": tuple(reasons)})


def _fields(result: CreditCheck) -> dict[str, Any]:
    return {name: getattr(result, name) for name in CreditCheck.__slots__}


def enforce(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    amount: Decimal,
    as_of: date,
    document: str,
    override_reason: str | None,
) -> CreditCheck:
    """Refuse a new ``document`` ("order PO-1", "invoice INV-9") that fails the credit check,
    unless the actor may override and gives a reason; an override is audited."""
    result = check(session, customer, amount, as_of=as_of)
    if result.passes:
        return result
    reason = (override_reason or "").strip()
    if not reason or not permissions.allows(actor, Permission.OVERRIDE_CREDIT_HOLD):
        who = (
            "give a reason to override"
            if permissions.allows(actor, Permission.OVERRIDE_CREDIT_HOLD)
            else "ask a credit controller or finance to override"
        )
        raise CreditHold(
            f"credit hold on {customer.code}: {'; '.join(result.reasons)} ({who})",
            **result.details(),
        )
    audit.record(
        session,
        actor,
        "credit.override",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        after={"document": document, "reason": reason, **result.details()},
    )
    return result


def limit_of(session: Session, customer_id: int) -> CreditLimit | None:
    return session.get(CreditLimit, customer_id)
