"""JSON routes of contracts, their milestones and key-account tasks: the scoped lists, one
contract with its milestones, creating and changing one, adding a milestone, marking one done
(its feedback checkpoint runs), and closing a task. Changes need MANAGE_CONTRACTS; reads are
scoped to the caller's accounts."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.errors import NotFound
from flywheel.keyaccounts import contracts, tasks
from flywheel.keyaccounts.contract_schemas import (
    ContractDetailOut,
    ContractNew,
    ContractOut,
    ContractPage,
    ContractPatch,
    MilestoneDone,
    MilestoneDoneOut,
    MilestoneNew,
    MilestoneOut,
    TaskDone,
    TaskOut,
    TaskPage,
)
from flywheel.models.customers import Customer
from flywheel.models.enums import AccountTaskStatus
from flywheel.models.keyaccounts import Contract
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(tags=["key accounts"], responses=ERROR_RESPONSES)

ManageContracts = Annotated[Actor, Depends(require(Permission.MANAGE_CONTRACTS))]


class StatusChoice(StrEnum):
    ALL = "all"
    LIVE = "live"
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    RENEWED = "renewed"
    TERMINATED = "terminated"


class TaskStatusChoice(StrEnum):
    ALL = "all"
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


def detail(session: Session, actor: Actor, contract: Contract) -> ContractDetailOut:
    customer = customers.get_customer_for(session, contract.customer_id, actor=actor)
    out = ContractOut.of(contract, customer, as_of=today())
    return ContractDetailOut(
        **out.model_dump(),
        milestones=[MilestoneOut.of(m) for m in contracts.milestones_of(session, contract.id)],
    )


def customer_id_of(session: Session, actor: Actor, code: str | None) -> int | None:
    if not code:
        return None
    try:
        return customers.get_customer_by_code(session, code, actor=actor).id
    except NotFound:
        return 0  # an account out of scope lists nothing, like an empty one


@router.get("/contracts", response_model=ContractPage, summary="Contracts")
def list_contracts(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: Annotated[
        StatusChoice, Query(description="all (default), live (draft or active), or one status.")
    ] = StatusChoice.ALL,
    renewing_within: Annotated[
        int | None, Query(ge=0, le=3660, description="Live contracts renewing within N days.")
    ] = None,
    customer: Annotated[str | None, Query(max_length=64, description="An account code.")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="In the number, title, account.")
    ] = None,
    as_of: Annotated[
        date | None, Query(description="Renewals counted from (default today).")
    ] = None,
) -> ContractPage:
    """Soonest renewal first, of the accounts the caller may see."""
    day = as_of or today()
    filters = contracts.ContractFilter(
        status=None if status == StatusChoice.ALL else status.value,
        renewing_within=renewing_within,
        customer_id=customer_id_of(session, actor, customer),
        search=q or None,
        as_of=day,
    )
    rows, total = contracts.list_contracts(
        session, actor, filters, limit=paging.limit, offset=paging.offset
    )
    return ContractPage(
        items=[ContractOut.of(c, a, as_of=day) for c, a in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/contracts", response_model=ContractDetailOut, status_code=201, summary="Record a contract"
)
def create_contract(
    body: ContractNew, session: SessionDep, actor: ManageContracts
) -> ContractDetailOut:
    data = body.model_dump(exclude={"customer"})
    data["status"] = body.status.value
    contract = contracts.create_contract(session, actor=actor, customer=body.customer, data=data)
    return detail(session, actor, contract)


@router.get("/contracts/{contract_id}", response_model=ContractDetailOut, summary="A contract")
def get_contract(contract_id: Id, session: SessionDep, actor: CurrentActor) -> ContractDetailOut:
    """With its milestones, soonest due first."""
    return detail(session, actor, contracts.get_contract_for(session, contract_id, actor=actor))


@router.patch(
    "/contracts/{contract_id}", response_model=ContractDetailOut, summary="Change a contract"
)
def change_contract(
    contract_id: Id, body: ContractPatch, session: SessionDep, actor: ManageContracts
) -> ContractDetailOut:
    """Only the fields sent change; a renewal date sent as null goes back to the end date."""
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes and body.status is not None:
        changes["status"] = body.status.value
    contract = contracts.edit_contract(
        session, actor=actor, contract_id=contract_id, changes=changes
    )
    return detail(session, actor, contract)


@router.post(
    "/contracts/{contract_id}/milestones",
    response_model=MilestoneOut,
    status_code=201,
    summary="Add a milestone",
)
def add_milestone(
    contract_id: Id, body: MilestoneNew, session: SessionDep, actor: ManageContracts
) -> MilestoneOut:
    data = body.model_dump()
    data["kind"] = body.kind.value
    milestone = contracts.add_milestone(session, actor=actor, contract_id=contract_id, data=data)
    return MilestoneOut.of(milestone)


@router.post(
    "/milestones/{milestone_id}/done",
    response_model=MilestoneDoneOut,
    summary="Mark a milestone done",
)
def milestone_done(
    milestone_id: Id, body: MilestoneDone, session: SessionDep, actor: ManageContracts
) -> MilestoneDoneOut:
    """Runs its feedback checkpoint: a survey to the account's decision makers (through the
    active "contract milestone done" campaigns) or a task for the contract's owner."""
    milestone, checkpoint = contracts.complete_milestone(
        session,
        actor=actor,
        milestone_id=milestone_id,
        on=body.done_on or today(),
        settings=get_settings(),
    )
    return MilestoneDoneOut(
        milestone=MilestoneOut.of(milestone),
        checkpoint=checkpoint.kind,
        invitations=checkpoint.invitations,
        task_id=checkpoint.task_id,
    )


@router.get("/accounts/tasks", response_model=TaskPage, summary="Key-account tasks")
def list_tasks(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    mine: Annotated[bool, Query(description="Only the caller's own (default).")] = True,
    status: Annotated[TaskStatusChoice, Query(description="open (default), all, …")] = (
        TaskStatusChoice.OPEN
    ),
    customer: Annotated[str | None, Query(max_length=64, description="An account code.")] = None,
) -> TaskPage:
    """Soonest due first, of the accounts the caller may see."""
    filters = tasks.TaskFilter(
        mine=mine,
        status=None if status == TaskStatusChoice.ALL else AccountTaskStatus(status.value),
        customer_id=customer_id_of(session, actor, customer),
    )
    rows, total = tasks.list_tasks(
        session, actor, filters, limit=paging.limit, offset=paging.offset
    )
    return TaskPage(
        items=[TaskOut.of(t, c) for t, c in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/accounts/tasks/{task_id}/done", response_model=TaskOut, summary="Close a key-account task"
)
def task_done(task_id: Id, body: TaskDone, session: SessionDep, actor: ManageContracts) -> TaskOut:
    task = tasks.close_task(
        session, actor=actor, task_id=task_id, status=body.status, note=body.note
    )
    customer: Customer = customers.get_customer_for(session, task.customer_id, actor=actor)
    return TaskOut.of(task, customer)
