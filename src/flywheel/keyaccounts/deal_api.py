"""JSON routes of the deals pipeline: the scoped list and one deal, creating and changing one,
moving it, winning (with its contract and order) or losing it, the stages (changed with
MANAGE_DEAL_STAGES) and the pipeline figures. Changes need WORK_DEALS."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.errors import NotFound, ValidationFailed
from flywheel.keyaccounts import deal_figures, deals
from flywheel.keyaccounts.deal_schemas import (
    DealFigures,
    DealLose,
    DealMove,
    DealNew,
    DealOut,
    DealPage,
    DealPatch,
    DealWin,
    StageIn,
    StageList,
    StageOut,
    deal_outs,
)
from flywheel.models.keyaccounts import Deal
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(tags=["key accounts"], responses=ERROR_RESPONSES)

WorkDeals = Annotated[Actor, Depends(require(Permission.WORK_DEALS))]
ManageStages = Annotated[Actor, Depends(require(Permission.MANAGE_DEAL_STAGES))]
StageCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


def _out(session: Session, actor: Actor, deal: Deal) -> DealOut:
    [out] = deal_outs(session, [deals.deal_row(session, actor, deal)])
    return out


def _not_future(day: date | None, field: str) -> None:
    if day is not None and day > today():
        raise ValidationFailed(f"{field}: cannot be in the future", field=field)


@router.get("/deals", response_model=DealPage, summary="Deals")
def list_deals(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: Annotated[
        str, Query(pattern="^(all|open|won|lost)$", description="all (default), open, won, lost.")
    ] = "all",
    stage: Annotated[str | None, Query(max_length=32, description="A stage code.")] = None,
    owner_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    customer: Annotated[str | None, Query(max_length=64, description="An account code.")] = None,
    q: Annotated[str | None, Query(max_length=100, description="In titles and accounts.")] = None,
) -> DealPage:
    """Soonest expected close first, of the accounts the caller may see."""
    customer_id = None
    if customer:
        try:
            customer_id = customers.get_customer_by_code(session, customer, actor=actor).id
        except NotFound:
            customer_id = 0  # out of scope lists nothing, like an account with no deals
    rows, total = deals.list_deals(
        session,
        actor,
        deals.DealFilter(
            stage=stage, status=status, owner_id=owner_id, customer_id=customer_id, search=q
        ),
        limit=paging.limit,
        offset=paging.offset,
    )
    return DealPage(
        items=deal_outs(session, rows), total=total, page=paging.page, page_size=paging.page_size
    )


@router.post("/deals", response_model=DealOut, status_code=201, summary="Open a deal")
def create_deal(body: DealNew, session: SessionDep, actor: WorkDeals) -> DealOut:
    _not_future(body.opened_on, "opened_on")
    deal = deals.create_deal(
        session,
        actor=actor,
        customer=body.customer,
        title=body.title,
        value=body.value,
        opened_on=body.opened_on or today(),
        stage=body.stage,
        owner_id=body.owner_id,
        currency=body.currency,
        expected_close_on=body.expected_close_on,
        lines=[line.model_dump(mode="json") for line in body.lines],
        competitors=list(body.competitors),
    )
    return _out(session, actor, deal)


@router.get("/deals/stages", response_model=StageList, summary="Pipeline stages")
def list_stages(session: SessionDep, actor: CurrentActor) -> StageList:
    """In pipeline order, with their win probability."""
    return StageList(items=[StageOut.model_validate(s) for s in deals.list_stages(session)])


@router.put("/deals/stages/{stage_code}", response_model=StageOut, summary="Add or change a stage")
def save_stage(
    stage_code: StageCode, body: StageIn, session: SessionDep, actor: ManageStages
) -> StageOut:
    """What is left out keeps its value (or the default for a new stage). A won stage has
    probability 100, a lost one 0; a stage with open deals cannot be deactivated."""
    values = {k: v for k, v in body.model_dump().items() if v is not None}
    stage, _created = deals.save_stage(session, actor=actor, code=stage_code, values=values)
    return StageOut.model_validate(stage)


@router.get("/deals/figures", response_model=DealFigures, summary="Pipeline figures")
def figures(
    session: SessionDep,
    actor: CurrentActor,
    start: Annotated[date | None, Query(description="First day (default: a year ago).")] = None,
    end: Annotated[date | None, Query(description="Last day, included (default: today).")] = None,
    owner_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> DealFigures:
    """Open and weighted value per stage (per currency), the deals won and lost in the
    period, the win rate and the average sales cycle in days; the same per owner."""
    first, last = deal_figures.period(start, end, today=today())
    return DealFigures(
        **deal_figures.pipeline_figures(
            session, actor, as_of=last, start=first, end=last, owner_id=owner_id
        )
    )


@router.get("/deals/{deal_id}", response_model=DealOut, summary="One deal")
def get_deal(deal_id: Id, session: SessionDep, actor: CurrentActor) -> DealOut:
    return _out(session, actor, deals.get_deal_for(session, deal_id, actor=actor))


@router.patch("/deals/{deal_id}", response_model=DealOut, summary="Change a deal")
def change_deal(deal_id: Id, body: DealPatch, session: SessionDep, actor: WorkDeals) -> DealOut:
    """Title, owner, value, currency, expected close, lines, competitors; the stage changes
    with move, win and lose."""
    deal = deals.edit_deal(session, actor=actor, deal_id=deal_id, changes=body.service_changes())
    return _out(session, actor, deal)


@router.post("/deals/{deal_id}/move", response_model=DealOut, summary="Move a deal")
def move_deal(deal_id: Id, body: DealMove, session: SessionDep, actor: WorkDeals) -> DealOut:
    """To another open stage; a lost deal moved so is reopened, a won one stays won."""
    deal = deals.move_deal(session, actor=actor, deal_id=deal_id, stage=body.stage)
    return _out(session, actor, deal)


@router.post("/deals/{deal_id}/win", response_model=DealOut, summary="Win a deal")
def win_deal(deal_id: Id, body: DealWin, session: SessionDep, actor: WorkDeals) -> DealOut:
    """Optionally creates the contract (its number, title, value, term and payment terms
    default from the deal and the account) and the order (through the credit check)."""
    _not_future(body.closed_on, "closed_on")
    deal = deals.win_deal(
        session,
        actor=actor,
        deal_id=deal_id,
        on=body.closed_on or today(),
        contract=body.terms(),
        create_order=body.create_order,
        order_number=body.order_number,
    )
    return _out(session, actor, deal)


@router.post("/deals/{deal_id}/lose", response_model=DealOut, summary="Lose a deal")
def lose_deal(deal_id: Id, body: DealLose, session: SessionDep, actor: WorkDeals) -> DealOut:
    _not_future(body.closed_on, "closed_on")
    deal = deals.lose_deal(
        session,
        actor=actor,
        deal_id=deal_id,
        on=body.closed_on or today(),
        reason=body.lost_reason,
    )
    return _out(session, actor, deal)
