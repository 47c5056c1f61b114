"""JSON routes for paying later: promises to pay, and payment plans and extensions with their
approval. Mounted under the collections API router (api.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import selectinload

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import arrangements, promises
from flywheel.collections.schemas import (
    ArrangementConfirm,
    ArrangementDecision,
    ArrangementOut,
    ArrangementPage,
    ExtensionNew,
    PlanNew,
    PromiseCancel,
    PromiseNew,
    PromiseOut,
    PromisePage,
)
from flywheel.collections.shapes import (
    arrangement_out,
    arrangement_outs,
    page_of,
    promise_out,
    promise_outs,
)
from flywheel.customers import service as customers
from flywheel.models.collections import PaymentArrangement, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import ArrangementKind, ArrangementStatus, PromiseStatus
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter()

WorkCollections = Annotated[Actor, Depends(require(Permission.WORK_COLLECTIONS))]
ApproveArrangements = Annotated[Actor, Depends(require(Permission.APPROVE_ARRANGEMENTS))]

CustomerCode = Annotated[str | None, Query(max_length=64, description="The account's code.")]


# ---------------------------------------------------------------- promises to pay


@router.get(
    "/collections/promises", response_model=PromisePage, summary="Promises to pay, soonest first"
)
def list_promises(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: PromiseStatus | None = None,
    customer: CustomerCode = None,
    due_by: Annotated[date | None, Query(description="Promised on or before.")] = None,
) -> PromisePage:
    stmt = promises.promises_query(actor, status=status, due_by=due_by).options(
        selectinload(PromiseToPay.items)
    )
    if customer is not None:
        stmt = stmt.where(Customer.code == customer)
    rows, total = page_of(session, stmt, paging)
    return PromisePage(
        items=promise_outs(session, rows),
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/customers/{code}/promises",
    response_model=PromiseOut,
    status_code=201,
    summary="Record a promise to pay",
)
def record_promise(
    code: str, body: PromiseNew, session: SessionDep, actor: WorkCollections
) -> PromiseOut:
    """The covered items (those given, or the oldest open ones up to the amount) leave dunning
    until the promised day plus the grace period; payments keep the promise."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    promise = promises.record_promise(
        session,
        actor=actor,
        customer=customer,
        amount=body.amount,
        promised_on=body.promised_on,
        as_of=today(),
        currency=body.currency,
        contact_id=body.contact_id,
        channel=body.channel,
        note=body.note,
        installment_ids=body.installment_ids or None,
    )
    return promise_out(session, promise)


@router.post(
    "/collections/promises/{promise_id}/cancel",
    response_model=PromiseOut,
    summary="Withdraw a pending promise, saying why",
)
def cancel_promise(
    promise_id: Id, body: PromiseCancel, session: SessionDep, actor: WorkCollections
) -> PromiseOut:
    promise = promises.cancel_promise(
        session, actor=actor, promise_id=promise_id, reason=body.reason, as_of=today()
    )
    return promise_out(session, promise)


# ---------------------------------------------------------------- plans and extensions


@router.get(
    "/collections/arrangements",
    response_model=ArrangementPage,
    summary="Payment plans and extensions, newest first",
)
def list_arrangements(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: ArrangementStatus | None = None,
    kind: ArrangementKind | None = None,
    customer: CustomerCode = None,
) -> ArrangementPage:
    stmt = arrangements.arrangements_query(actor, status=status, kind=kind).options(
        selectinload(PaymentArrangement.items)
    )
    if customer is not None:
        stmt = stmt.where(Customer.code == customer)
    rows, total = page_of(session, stmt, paging)
    return ArrangementPage(
        items=arrangement_outs(session, rows),
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/customers/{code}/plans",
    response_model=ArrangementOut,
    status_code=201,
    summary="Propose an installment plan",
)
def propose_plan(
    code: str, body: PlanNew, session: SessionDep, actor: WorkCollections
) -> ArrangementOut:
    """The open items (all in the currency, or those given) in equal parts, the first on
    ``first_due_on``, then every ``frequency_days``; approval applies it to the ledger."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    arrangement = arrangements.propose_plan(
        session,
        actor=actor,
        customer=customer,
        count=body.installments,
        first_due_on=body.first_due_on,
        frequency_days=body.frequency_days,
        reason=body.reason,
        as_of=today(),
        installment_ids=body.installment_ids or None,
        annual_interest_rate=body.annual_interest_rate,
        currency=body.currency,
    )
    return arrangement_out(session, arrangement)


@router.post(
    "/customers/{code}/extensions",
    response_model=ArrangementOut,
    status_code=201,
    summary="Propose to move an installment's due date",
)
def propose_extension(
    code: str, body: ExtensionNew, session: SessionDep, actor: WorkCollections
) -> ArrangementOut:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    arrangement = arrangements.propose_extension(
        session,
        actor=actor,
        customer=customer,
        installment_id=body.installment_id,
        new_due_on=body.new_due_on,
        reason=body.reason,
        as_of=today(),
    )
    return arrangement_out(session, arrangement)


@router.post(
    "/collections/arrangements/{arrangement_id}/approve",
    response_model=ArrangementOut,
    summary="Approve a plan or an extension (within the role's limit)",
)
def approve_arrangement(
    arrangement_id: Id, body: ArrangementDecision, session: SessionDep, actor: ApproveArrangements
) -> ArrangementOut:
    """Applies the new schedule to the ledger; the arrangement keeps the original one. Above
    the role's limit (FLYWHEEL_ARRANGEMENT_APPROVAL_LIMITS) the answer is 403."""
    arrangement = arrangements.approve(
        session, actor=actor, arrangement_id=arrangement_id, as_of=today(), note=body.note
    )
    return arrangement_out(session, arrangement)


@router.post(
    "/collections/arrangements/{arrangement_id}/reject",
    response_model=ArrangementOut,
    summary="Reject a plan or an extension, saying why",
)
def reject_arrangement(
    arrangement_id: Id, body: ArrangementDecision, session: SessionDep, actor: ApproveArrangements
) -> ArrangementOut:
    arrangement = arrangements.reject(
        session, actor=actor, arrangement_id=arrangement_id, note=body.note or ""
    )
    return arrangement_out(session, arrangement)


@router.post(
    "/collections/arrangements/{arrangement_id}/cancel",
    response_model=ArrangementOut,
    summary="Withdraw a proposal not decided yet",
)
def cancel_arrangement(
    arrangement_id: Id, body: ArrangementDecision, session: SessionDep, actor: WorkCollections
) -> ArrangementOut:
    arrangement = arrangements.cancel(
        session, actor=actor, arrangement_id=arrangement_id, note=body.note or ""
    )
    return arrangement_out(session, arrangement)


@router.post(
    "/collections/arrangements/{arrangement_id}/confirm",
    response_model=ArrangementOut,
    summary="Record the customer's agreement",
)
def confirm_arrangement(
    arrangement_id: Id, body: ArrangementConfirm, session: SessionDep, actor: WorkCollections
) -> ArrangementOut:
    arrangement = arrangements.confirm_by_customer(
        session,
        actor=actor,
        arrangement_id=arrangement_id,
        confirmed_on=body.confirmed_on or today(),
        confirmation=body.confirmation,
    )
    return arrangement_out(session, arrangement)
