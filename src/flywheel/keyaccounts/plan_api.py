"""JSON routes of account plans: the key-account list with plan health and coverage, one
account's plan (read, create or change), its objectives. Changes need EDIT_KEY_ACCOUNTS; reads
are scoped to the caller's accounts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import NotFound, ValidationFailed
from flywheel.keyaccounts import plan_figures, plans
from flywheel.keyaccounts.plan_schemas import (
    AccountPage,
    ObjectiveNew,
    ObjectiveOut,
    ObjectivePatch,
    PlanIn,
    PlanOut,
    account_out,
    objective_outs,
    plan_out,
)
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(tags=["key accounts"], responses=ERROR_RESPONSES)

EditKeyAccounts = Annotated[Actor, Depends(require(Permission.EDIT_KEY_ACCOUNTS))]
Code = Annotated[str, Path(min_length=1, max_length=64, description="The account's code.")]


class BandChoice(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NONE = "none"  # no plan yet


class FlagChoice(StrEnum):
    NO_PLAN = "no_plan"
    NO_DECISION_MAKER = "no_decision_maker"
    DECISION_MAKER_NOT_MET = "decision_maker_not_met"
    SINGLE_THREADED = "single_threaded"
    HIGH_INFLUENCE_OPPONENT = "high_influence_opponent"
    REVIEW_OVERDUE = "review_overdue"
    REVIEW_NOT_PLANNED = "review_not_planned"


def owner_filter(session: SessionDep, owner: str | None) -> int | None:
    if not owner:
        return None
    found = session.scalar(select(User.id).where(User.username == owner))
    return int(found) if found is not None else 0  # an unknown owner lists nothing


@router.get("/accounts", response_model=AccountPage, summary="Key accounts")
def list_accounts(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100, description="In code or name.")] = None,
    owner: Annotated[str | None, Query(max_length=64, description="The owner's username.")] = None,
    band: Annotated[BandChoice | None, Query(description="Plan health band.")] = None,
    flag: Annotated[FlagChoice | None, Query(description="Only accounts with this flag.")] = None,
    review_due: Annotated[bool, Query(description="Only plans due for review.")] = False,
) -> AccountPage:
    """Key-tier accounts and any account with a plan, in code order, with revenue, target
    progress, share of wallet, plan health and coverage flags."""
    rows, total = plan_figures.key_account_rows(
        session,
        actor,
        plan_figures.AccountFilter(
            search=q or None,
            owner_id=owner_filter(session, owner),
            band=band.value if band else None,
            flag=flag.value if flag else None,
            review_due=review_due,
        ),
        as_of=today(),
        limit=paging.limit,
        offset=paging.offset,
    )
    return AccountPage(
        items=[account_out(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def _plan(session: SessionDep, actor: Actor, code: str) -> PlanOut:
    customer = plans.account_for(session, code, actor=actor)
    row = plan_figures.account_row(session, actor, customer, as_of=today())
    if row.plan is None:
        raise NotFound(f"{code} has no account plan", code=code)
    return plan_out(session, row, as_of=today())


@router.get("/accounts/{code}/plan", response_model=PlanOut, summary="An account's plan")
def get_plan(code: Code, session: SessionDep, actor: CurrentActor) -> PlanOut:
    """With its figures, the health and its parts, and the objectives."""
    return _plan(session, actor, code)


@router.put("/accounts/{code}/plan", response_model=PlanOut, summary="Create or change a plan")
def put_plan(code: Code, body: PlanIn, session: SessionDep, actor: EditKeyAccounts) -> PlanOut:
    """Creates the plan when there is none; otherwise only the fields sent change."""
    day = today()
    if body.reviewed_on is not None and body.reviewed_on > day:
        raise ValidationFailed("reviewed_on: cannot be in the future", field="reviewed_on")
    plans.save_plan(session, actor=actor, code=code, values=body.values(), as_of=day)
    if body.reviewed_on is not None:
        plans.mark_reviewed(session, actor=actor, code=code, on=body.reviewed_on)
    return _plan(session, actor, code)


@router.post(
    "/accounts/{code}/plan/objectives",
    response_model=ObjectiveOut,
    status_code=201,
    summary="Add an objective to a plan",
)
def add_objective(
    code: Code, body: ObjectiveNew, session: SessionDep, actor: EditKeyAccounts
) -> ObjectiveOut:
    objective = plans.add_objective(session, actor=actor, code=code, values=body.values())
    [out] = objective_outs(session, [objective], as_of=today())
    return out


@router.patch(
    "/objectives/{objective_id}", response_model=ObjectiveOut, summary="Change an objective"
)
def change_objective(
    objective_id: Id, body: ObjectivePatch, session: SessionDep, actor: EditKeyAccounts
) -> ObjectiveOut:
    """Only the fields sent change; the status is on_track, at_risk, done or dropped."""
    objective = plans.update_objective(
        session, actor=actor, objective_id=objective_id, changes=body.values()
    )
    [out] = objective_outs(session, [objective], as_of=today())
    return out
