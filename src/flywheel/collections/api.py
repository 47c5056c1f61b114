"""JSON routes for collections: the worklist, logged calls and the actions' outcomes, an
account's collections, disputes, strategies, credit holds and statements; promises to pay,
payment plans and extensions (plan_api) are mounted under the same router. Reads are scoped to
the caller's accounts; changes need their permission."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import (
    actions,
    arrangements,
    disputes,
    holds,
    plan_api,
    promises,
    statements,
    strategies,
    worklist,
)
from flywheel.collections.schemas import (
    ActionCancel,
    ActionDone,
    ActionOut,
    CallNew,
    CallOut,
    CreditHoldOut,
    CustomerCollectionsOut,
    DisputeNew,
    DisputeOut,
    DisputePage,
    DisputeReassign,
    DisputeResolve,
    HoldNew,
    StatementNew,
    StatementOut,
    StrategyList,
    StrategyOut,
    StrategySave,
    WorkChannel,
    WorkItemOut,
    WorklistPage,
)
from flywheel.collections.shapes import (
    action_out,
    arrangement_outs,
    customer_of,
    dispute_out,
    dispute_outs,
    hold_out,
    page_of,
    promise_out,
    promise_outs,
    usernames,
)
from flywheel.customers import service as customers
from flywheel.errors import ValidationFailed
from flywheel.models.collections import CollectionAction, Dispute, PaymentArrangement, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import DisputeReason, DisputeStatus, Tier
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(responses=ERROR_RESPONSES, tags=["collections"])

WorkCollections = Annotated[Actor, Depends(require(Permission.WORK_COLLECTIONS))]
ResolveDisputes = Annotated[Actor, Depends(require(Permission.RESOLVE_DISPUTES))]
ManageStrategies = Annotated[Actor, Depends(require(Permission.MANAGE_COLLECTION_STRATEGIES))]
OverrideHolds = Annotated[Actor, Depends(require(Permission.OVERRIDE_CREDIT_HOLD))]

CustomerCode = Annotated[str | None, Query(max_length=64, description="The account's code.")]
HISTORY = 50


# ---------------------------------------------------------------- reading the request


def user_id_of(session: Session, username: str | None, *, field: str) -> int | None:
    if username is None:
        return None
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise ValidationFailed(f"{field}: there is no user {username!r}", field=field)
    return int(found)


# ---------------------------------------------------------------- the worklist


@router.get(
    "/collections/worklist",
    response_model=WorklistPage,
    summary="Today's collection work, most valuable first",
)
def get_worklist(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    mine: Annotated[
        worklist.Mine, Query(description="mine: assigned to me or to nobody; all: everyone's.")
    ] = worklist.Mine.MINE,
    channel: Annotated[WorkChannel | None, Query(description="Only this kind of work.")] = None,
    grade: Annotated[str | None, Query(pattern="^[A-E]$", description="Credit grade.")] = None,
    q: Annotated[
        str | None, Query(max_length=64, description="Part of the account's code or name.")
    ] = None,
    as_of: Annotated[date | None, Query(description="The business day (default: today).")] = None,
) -> WorklistPage:
    """Promises due today or broken first, then disputes at or near their SLA, then open tasks
    and messages waiting for review by expected value of acting."""
    day = as_of or today()
    work = worklist.worklist(
        session,
        actor=actor,
        as_of=day,
        mine=mine,
        channel=channel.value if channel else None,
        grade=grade,
        q=q,
        limit=paging.limit,
        offset=paging.offset,
    )
    users = usernames(session, (i.assigned_to_id for i in work.items))
    return WorklistPage(
        as_of=day,
        items=[WorkItemOut.of(item, users) for item in work.items],
        total=work.total,
        page=paging.page,
        page_size=paging.page_size,
    )


# ---------------------------------------------------------------- actions and calls


def _call(
    session: Session, actor: Actor, customer: Customer, body: CallNew, action_id: int | None
) -> CallOut:
    logged = actions.log_call(
        session,
        actor=actor,
        customer=customer,
        outcome=body.outcome,
        as_of=today(),
        note=body.note,
        action_id=action_id,
        contact_id=body.contact_id,
        promise=actions.PromiseIn(
            amount=body.promise.amount,
            promised_on=body.promise.promised_on,
            installment_ids=tuple(body.promise.installment_ids),
        )
        if body.promise
        else None,
        dispute=actions.DisputeIn(
            installment_id=body.dispute.installment_id,
            reason=body.dispute.reason,
            amount=body.dispute.amount,
            description=body.dispute.description,
        )
        if body.dispute
        else None,
    )
    return CallOut(
        action=action_out(session, logged.action),
        promise=promise_out(session, logged.promise) if logged.promise else None,
        dispute=dispute_out(session, logged.dispute) if logged.dispute else None,
    )


@router.post(
    "/collections/actions/{action_id}/call",
    response_model=CallOut,
    summary="Log the call of a call task, and its outcome",
)
def log_task_call(
    action_id: Id, body: CallNew, session: SessionDep, actor: WorkCollections
) -> CallOut:
    """Finishes the task; ``promised`` records the promise, ``disputed`` opens the dispute;
    the call is a touchpoint on the account's timeline."""
    action = actions.get_action_for(session, action_id, actor=actor)
    return _call(session, actor, customer_of(session, action.customer_id), body, action_id)


@router.post(
    "/customers/{code}/calls",
    response_model=CallOut,
    status_code=201,
    summary="Log a call with an account (no task)",
)
def log_call(code: str, body: CallNew, session: SessionDep, actor: WorkCollections) -> CallOut:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    return _call(session, actor, customer, body, None)


@router.post(
    "/collections/actions/{action_id}/done",
    response_model=ActionOut,
    summary="Mark a task done",
)
def complete_action(
    action_id: Id, body: ActionDone, session: SessionDep, actor: WorkCollections
) -> ActionOut:
    """A letter posted, an escalation handled, a legal hand-over made. A credit-hold task
    places the hold (which needs the right to override credit holds)."""
    action = actions.complete(session, actor=actor, action_id=action_id, note=body.note)
    return action_out(session, action)


@router.post(
    "/collections/actions/{action_id}/cancel",
    response_model=ActionOut,
    summary="Cancel an open action, saying why",
)
def cancel_action(
    action_id: Id, body: ActionCancel, session: SessionDep, actor: WorkCollections
) -> ActionOut:
    action = actions.cancel(session, actor=actor, action_id=action_id, reason=body.reason)
    return action_out(session, action)


@router.post(
    "/collections/actions/{action_id}/send",
    response_model=ActionOut,
    summary="Send a message the strategy left for review",
)
def send_action(action_id: Id, session: SessionDep, actor: WorkCollections) -> ActionOut:
    """Queues the e-mail (to the account's contact, in his language) or the chat-robot post;
    the worker sends it after commit."""
    action = actions.send(session, actor=actor, action_id=action_id)
    return action_out(session, action)


# ---------------------------------------------------------------- an account's collections


@router.get(
    "/customers/{code}/collections",
    response_model=CustomerCollectionsOut,
    summary="An account's collections: actions, promises, disputes, plans, hold, statements",
)
def customer_collections(
    code: str, session: SessionDep, actor: CurrentActor
) -> CustomerCollectionsOut:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    history = list(
        session.scalars(
            select(CollectionAction)
            .where(CollectionAction.customer_id == customer.id)
            .order_by(CollectionAction.due_on.desc(), CollectionAction.id.desc())
            .limit(HISTORY)
        )
    )
    users = usernames(session, (a.assigned_to_id for a in history))
    promise_rows = session.execute(
        promises.promises_query(actor, customer_id=customer.id).options(
            selectinload(PromiseToPay.items)
        )
    ).all()
    dispute_rows = session.execute(disputes.disputes_query(actor, customer_id=customer.id)).all()
    arrangement_rows = session.execute(
        arrangements.arrangements_query(actor, customer_id=customer.id).options(
            selectinload(PaymentArrangement.items)
        )
    ).all()
    return CustomerCollectionsOut(
        customer=customer.code,
        customer_name=customer.name,
        hold=hold_out(session, customer),
        actions=[ActionOut.of(a, customer.code, users) for a in history],
        promises=promise_outs(session, [tuple(r) for r in promise_rows]),  # type: ignore[misc]
        disputes=dispute_outs(session, [tuple(r) for r in dispute_rows]),  # type: ignore[misc]
        arrangements=arrangement_outs(session, [tuple(r) for r in arrangement_rows]),  # type: ignore[misc]
        statements=[
            StatementOut.of(s, customer.code)
            for s in statements.recent_statements(session, customer.id)
        ],
    )


# ---------------------------------------------------------------- disputes


@router.get(
    "/collections/disputes", response_model=DisputePage, summary="Disputes, oldest SLA first"
)
def list_disputes(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: DisputeStatus | None = None,
    reason: DisputeReason | None = None,
    customer: CustomerCode = None,
    owner: Annotated[str | None, Query(max_length=64, description="The owner's username.")] = None,
) -> DisputePage:
    stmt = disputes.disputes_query(actor, status=status, reason=reason)
    if customer is not None:
        stmt = stmt.where(Customer.code == customer)
    if owner is not None:
        stmt = stmt.join(User, User.id == Dispute.owner_id).where(User.username == owner)
    rows, total = page_of(session, stmt, paging)
    return DisputePage(
        items=dispute_outs(session, rows),
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get("/collections/disputes/{dispute_id}", response_model=DisputeOut, summary="One dispute")
def get_dispute(dispute_id: Id, session: SessionDep, actor: CurrentActor) -> DisputeOut:
    return dispute_out(session, disputes.get_dispute_for(session, dispute_id, actor=actor))


@router.post(
    "/customers/{code}/disputes",
    response_model=DisputeOut,
    status_code=201,
    summary="Open a dispute on an installment",
)
def open_dispute(
    code: str, body: DisputeNew, session: SessionDep, actor: WorkCollections
) -> DisputeOut:
    """The disputed amount leaves dunning while the dispute is open; the rest stays in it. The
    SLA runs from today (FLYWHEEL_DISPUTE_SLA_DAYS)."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    owner_id = user_id_of(session, body.owner, field="owner")
    dispute = disputes.open_dispute(
        session,
        actor=actor,
        customer=customer,
        installment_id=body.installment_id,
        reason=body.reason,
        as_of=today(),
        amount=body.amount,
        description=body.description,
        source="api",
        owner_id=owner_id,
    )
    return dispute_out(session, dispute)


@router.post(
    "/collections/disputes/{dispute_id}/resolve",
    response_model=DisputeOut,
    summary="Resolve a dispute: credit note, adjustment or rejected",
)
def resolve_dispute(
    dispute_id: Id, body: DisputeResolve, session: SessionDep, actor: ResolveDisputes
) -> DisputeOut:
    """``credit_note`` issues a credit note (default: the disputed amount); ``adjustment`` and
    ``rejected`` need a note; after ``rejected`` the amount is back in dunning."""
    dispute = disputes.resolve_dispute(
        session,
        actor=actor,
        dispute_id=dispute_id,
        resolution=body.resolution,
        as_of=today(),
        note=body.note,
        credit_amount=body.credit_amount,
        credit_note_number=body.credit_note_number,
    )
    return dispute_out(session, dispute)


@router.post(
    "/collections/disputes/{dispute_id}/reassign",
    response_model=DisputeOut,
    summary="Give a dispute to another owner",
)
def reassign_dispute(
    dispute_id: Id, body: DisputeReassign, session: SessionDep, actor: ResolveDisputes
) -> DisputeOut:
    owner_id = user_id_of(session, body.owner, field="owner")
    dispute = disputes.reassign(session, actor=actor, dispute_id=dispute_id, owner_id=owner_id)
    return dispute_out(session, dispute)


# ---------------------------------------------------------------- strategies


@router.get(
    "/collections/strategies",
    response_model=StrategyList,
    summary="The dunning strategy of every grade (and tier)",
)
def list_strategies(session: SessionDep, actor: CurrentActor) -> StrategyList:
    """By grade, the grade's general strategy before its tier-specific ones."""
    return StrategyList(items=[StrategyOut.of(s) for s in strategies.list_strategies(session)])


@router.put(
    "/collections/strategies/{grade}",
    response_model=StrategyOut,
    summary="Create or replace a grade's (or a grade and tier's) strategy",
)
def save_strategy(
    grade: Annotated[str, Path(pattern="^[A-E]$", description="Credit grade A–E.")],
    body: StrategySave,
    session: SessionDep,
    actor: ManageStrategies,
    tier: Annotated[
        Tier | None, Query(description="Only for this tier (it wins over the grade's).")
    ] = None,
) -> StrategyOut:
    """The steps become those given; a step kept at the same day and channel keeps its
    identity, so it does not fire again for items it has already fired for."""
    strategy = strategies.save_strategy(
        session,
        actor=actor,
        grade=grade,
        tier=tier.value if tier else None,
        name=body.name,
        steps=[step.as_step() for step in body.steps],
        active=body.active,
    )
    return StrategyOut.of(strategy)


@router.delete(
    "/collections/strategies/{strategy_id}",
    status_code=204,
    response_class=Response,
    summary="Remove a tier-specific strategy",
)
def delete_strategy(strategy_id: Id, session: SessionDep, actor: ManageStrategies) -> Response:
    """The grade's general strategy applies to the tier again. A general strategy cannot be
    removed (422): edit it or make it inactive."""
    strategies.delete_strategy(session, actor=actor, strategy_id=strategy_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- credit holds


@router.post(
    "/customers/{code}/credit-hold",
    response_model=CreditHoldOut,
    summary="Put an account on credit hold",
)
def place_hold(
    code: str, body: HoldNew, session: SessionDep, actor: OverrideHolds
) -> CreditHoldOut:
    """New orders and invoices fail the credit check until the hold is released. An account
    already on hold keeps its hold (and its reason)."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    holds.place(session, actor=actor, customer_id=customer.id, as_of=today(), reason=body.reason)
    return hold_out(session, customer)


@router.delete(
    "/customers/{code}/credit-hold",
    response_model=CreditHoldOut,
    summary="Release an account's credit hold",
)
def release_hold(
    code: str,
    session: SessionDep,
    actor: OverrideHolds,
    reason: Annotated[
        str | None, Query(max_length=500, description="Why, for the audit trail.")
    ] = None,
) -> CreditHoldOut:
    """Answers the account's hold state afterwards; an account not on hold is left as it is."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    holds.release(
        session,
        actor=actor,
        customer_id=customer.id,
        reason=(reason or "").strip() or f"released by {actor.name}",
    )
    return hold_out(session, customer)


# ---------------------------------------------------------------- statements


@router.post(
    "/customers/{code}/statements",
    response_model=StatementOut,
    status_code=201,
    summary="Send a customer statement (对账单)",
)
def send_statement(
    code: str, body: StatementNew, session: SessionDep, actor: WorkCollections
) -> StatementOut:
    """The open items as of today with their aging, e-mailed in the contact's language with a
    link where the customer confirms the balance or disputes a line."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    statement, _token = statements.create_statement(
        session,
        actor=actor,
        customer=customer,
        as_of=today(),
        contact_id=body.contact_id,
        send=body.send,
    )
    return StatementOut.of(statement, customer.code)


# Promises, plans and extensions, under the same router (web/api.py mounts this one only).
router.include_router(plan_api.router)
