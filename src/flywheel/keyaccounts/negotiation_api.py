"""JSON routes of negotiations: the scoped list, one workspace, opening one, the sheet (PATCH),
an issue's positions (PUT), concessions and their approval, meetings, the close. Changes need
NEGOTIATE (approvals APPROVE_CONCESSIONS); reads are scoped to the caller's accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.errors import NotFound
from flywheel.keyaccounts import negotiations
from flywheel.keyaccounts.negotiation_schemas import (
    CloseIn,
    ConcessionDecision,
    ConcessionNew,
    IssueIn,
    MeetingNew,
    NegotiationDetailOut,
    NegotiationNew,
    NegotiationPage,
    SheetPatch,
    StatusChoice,
    detail_out,
    negotiation_outs,
)
from flywheel.models.keyaccounts import Negotiation
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(tags=["key accounts"], responses=ERROR_RESPONSES)

Negotiate = Annotated[Actor, Depends(require(Permission.NEGOTIATE))]
ApproveConcessions = Annotated[Actor, Depends(require(Permission.APPROVE_CONCESSIONS))]
IssueName = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$", description="e.g. price.")
]


def filters_for(
    status: str | None, *, mine: bool = False, customer_id: int | None = None
) -> negotiations.NegotiationFilter:
    chosen = status or "all"
    return negotiations.NegotiationFilter(
        status=None if chosen == "all" else chosen, mine=mine, customer_id=customer_id
    )


def detail(session: Session, actor: Actor, negotiation: Negotiation) -> NegotiationDetailOut:
    session.refresh(negotiation)
    customer = customers.get_customer_for(session, negotiation.customer_id, actor=actor)
    return detail_out(session, negotiation, customer, as_of=today())


@router.get("/negotiations", response_model=NegotiationPage, summary="Negotiations")
def list_negotiations(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: Annotated[
        StatusChoice, Query(description="all (default), open, or one status.")
    ] = StatusChoice.ALL,
    mine: Annotated[bool, Query(description="Only the caller's own.")] = False,
    customer: Annotated[str | None, Query(max_length=64, description="An account code.")] = None,
) -> NegotiationPage:
    """Most recently changed first, on the accounts the caller may see."""
    customer_id = None
    if customer:
        try:
            customer_id = customers.get_customer_by_code(session, customer, actor=actor).id
        except NotFound:
            customer_id = 0
    rows, total = negotiations.list_negotiations(
        session,
        actor,
        filters_for(status.value, mine=mine, customer_id=customer_id),
        limit=paging.limit,
        offset=paging.offset,
    )
    return NegotiationPage(
        items=negotiation_outs(session, rows),
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/negotiations",
    response_model=NegotiationDetailOut,
    status_code=201,
    summary="Open a negotiation",
)
def create_negotiation(
    body: NegotiationNew, session: SessionDep, actor: Negotiate
) -> NegotiationDetailOut:
    """For a deal (``deal_id``), a renewal (``contract_id``) or just an account (``customer``)."""
    negotiation = negotiations.open_negotiation(
        session,
        actor=actor,
        customer=body.customer,
        deal_id=body.deal_id,
        contract_id=body.contract_id,
        title=body.title,
    )
    return detail(session, actor, negotiation)


@router.get(
    "/negotiations/{negotiation_id}",
    response_model=NegotiationDetailOut,
    summary="One negotiation",
)
def get_negotiation(
    negotiation_id: Id, session: SessionDep, actor: CurrentActor
) -> NegotiationDetailOut:
    """The sheet, the issues with their ZOPA, the concessions with their approval, meetings."""
    return detail(
        session, actor, negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    )


@router.patch(
    "/negotiations/{negotiation_id}",
    response_model=NegotiationDetailOut,
    summary="Change the preparation sheet",
)
def change_negotiation(
    negotiation_id: Id, body: SheetPatch, session: SessionDep, actor: Negotiate
) -> NegotiationDetailOut:
    changes = body.changes()
    if changes.get("status") is not None:
        changes["status"] = changes["status"].value
    negotiation = negotiations.update_sheet(
        session, actor=actor, negotiation_id=negotiation_id, changes=changes
    )
    return detail(session, actor, negotiation)


@router.put(
    "/negotiations/{negotiation_id}/issues/{issue_name}",
    response_model=NegotiationDetailOut,
    summary="Set an issue's positions",
)
def put_issue(
    negotiation_id: Id,
    issue_name: IssueName,
    body: IssueIn,
    session: SessionDep,
    actor: Negotiate,
) -> NegotiationDetailOut:
    """Creates the issue or changes the fields sent; each side's opening, target and walk-away
    must run from its best to its worst."""
    negotiations.set_issue(
        session,
        actor=actor,
        negotiation_id=negotiation_id,
        name=issue_name,
        values=body.changes(),
    )
    return detail(
        session, actor, negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    )


@router.post(
    "/negotiations/{negotiation_id}/concessions",
    response_model=NegotiationDetailOut,
    status_code=201,
    summary="Plan or log a concession",
)
def create_concession(
    negotiation_id: Id, body: ConcessionNew, session: SessionDep, actor: Negotiate
) -> NegotiationDetailOut:
    """Beyond the discount or payment-days thresholds, or the terms the customer's credit grade
    allows, it is ``pending`` until a manager decides."""
    negotiations.log_concession(
        session,
        actor=actor,
        negotiation_id=negotiation_id,
        give=body.give,
        get=body.get,
        discount_percent=body.discount_percent,
        payment_days=body.payment_days,
        planned=body.planned,
        meeting_id=body.meeting_id,
        issue=body.issue,
        as_of=today(),
    )
    return detail(
        session, actor, negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    )


def _decide(
    session: Session, actor: Actor, concession_id: int, *, approve: bool, note: str | None
) -> NegotiationDetailOut:
    concession = negotiations.decide_concession(
        session, actor=actor, concession_id=concession_id, approve=approve, note=note
    )
    return detail(
        session,
        actor,
        negotiations.get_negotiation_for(session, concession.negotiation_id, actor=actor),
    )


@router.post(
    "/concessions/{concession_id}/approve",
    response_model=NegotiationDetailOut,
    summary="Approve a pending concession",
)
def approve_concession(
    concession_id: Id, body: ConcessionDecision, session: SessionDep, actor: ApproveConcessions
) -> NegotiationDetailOut:
    return _decide(session, actor, concession_id, approve=True, note=body.note)


@router.post(
    "/concessions/{concession_id}/reject",
    response_model=NegotiationDetailOut,
    summary="Reject a pending concession",
)
def reject_concession(
    concession_id: Id, body: ConcessionDecision, session: SessionDep, actor: ApproveConcessions
) -> NegotiationDetailOut:
    """The note says why."""
    return _decide(session, actor, concession_id, approve=False, note=body.note)


@router.post(
    "/negotiations/{negotiation_id}/meetings",
    response_model=NegotiationDetailOut,
    status_code=201,
    summary="Add a meeting",
)
def create_meeting(
    negotiation_id: Id, body: MeetingNew, session: SessionDep, actor: Negotiate
) -> NegotiationDetailOut:
    negotiations.add_meeting(
        session,
        actor=actor,
        negotiation_id=negotiation_id,
        held_on=body.held_on or today(),
        attendees=body.attendees,
        notes=body.notes,
    )
    return detail(
        session, actor, negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    )


@router.post(
    "/negotiations/{negotiation_id}/close",
    response_model=NegotiationDetailOut,
    summary="Close with an outcome",
)
def close_negotiation(
    negotiation_id: Id, body: CloseIn, session: SessionDep, actor: Negotiate
) -> NegotiationDetailOut:
    """Refused (409) while a concession waits for a manager; a closed one cannot change."""
    negotiation = negotiations.close_negotiation(
        session,
        actor=actor,
        negotiation_id=negotiation_id,
        outcome=body.outcome.value,
        outcome_notes=body.outcome_notes,
        post_mortem=body.post_mortem,
        agreed=body.agreed,
    )
    return detail(session, actor, negotiation)
