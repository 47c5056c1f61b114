"""JSON routes of next best actions and their rules: the ranked list (mine or everyone's, in
the caller's scope), done, dismissed, reassigned; the rules with the facts they may test, and
changing or adding one. Working actions needs WORK_NEXT_ACTIONS, rules MANAGE_LOYALTY_RULES."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import ValidationFailed
from flywheel.kit import i18n
from flywheel.loyalty import action_service as service
from flywheel.loyalty.action_schemas import (
    ActionOut,
    ActionPage,
    AssignIn,
    DismissIn,
    DoneIn,
    RuleIn,
    RuleList,
    RuleOut,
    RulePatch,
    action_outs,
    field_outs,
)
from flywheel.models.base import utcnow
from flywheel.models.customers import Customer
from flywheel.models.enums import NextActionKind, NextActionStatus
from flywheel.models.loyalty import NextActionRule
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/loyalty", tags=["loyalty"], responses=ERROR_RESPONSES)

WorkActions = Annotated[Actor, Depends(require(Permission.WORK_NEXT_ACTIONS))]
ManageRules = Annotated[Actor, Depends(require(Permission.MANAGE_LOYALTY_RULES))]
RuleCode = Annotated[str, Path(max_length=40, description="The rule's code.")]


class StatusChoice(StrEnum):
    OPEN = "open"
    DONE = "done"
    DISMISSED = "dismissed"
    EXPIRED = "expired"
    ALL = "all"


def _language(actor: Actor) -> str:
    return i18n.normalize(actor.language) or i18n.DEFAULT_LANGUAGE


def _user_id(session: Session, username: str, *, field: str) -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise ValidationFailed(f"{field}: there is no user {username!r}", field=field)
    return int(found)


def _one(session: Session, action_id: int, actor: Actor) -> ActionOut:
    action = service.get_action_for(session, action_id, actor=actor)
    customer = session.get(Customer, action.customer_id)
    rule = session.get(NextActionRule, action.rule_id)
    assert customer is not None
    assert rule is not None
    [out] = action_outs(
        session, [(action, customer, rule)], today=today(), language=_language(actor)
    )
    return out


@router.get("/actions", response_model=ActionPage, summary="Next best actions, best ranked first")
def list_actions(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: Annotated[
        StatusChoice, Query(description="open (default), done, dismissed, expired or all.")
    ] = (StatusChoice.OPEN),
    action: Annotated[NextActionKind | None, Query(description="Only this kind.")] = None,
    owner: Annotated[
        str | None,
        Query(max_length=64, description='A username; "me": mine; "none": nobody\'s.'),
    ] = None,
    customer: Annotated[str | None, Query(max_length=64, description="The account's code.")] = None,
) -> ActionPage:
    """In the caller's scope (a sales rep: his own accounts). Open ones by rank (the rule's
    priority × the account's value at stake), the others latest closed first."""
    owner_id: int | None = None
    if owner == "me":
        owner_id = actor.user_id or 0
    elif owner not in (None, "", "none"):
        owner_id = _user_id(session, owner, field="owner")
    filters = service.ActionFilter(
        status=None if status is StatusChoice.ALL else NextActionStatus(status.value),
        action=action,
        owner_id=owner_id,
        unassigned=owner == "none",
    )
    stmt = service.actions_query(actor, filters)
    if customer:
        stmt = stmt.where(Customer.code == customer)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [
        (row[0], row[1], row[2])
        for row in session.execute(stmt.limit(paging.limit).offset(paging.offset))
    ]
    return ActionPage(
        items=action_outs(session, rows, today=today(), language=_language(actor)),
        total=int(total),
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get("/actions/{next_action_id}", response_model=ActionOut, summary="One next best action")
def get_action(next_action_id: Id, session: SessionDep, actor: CurrentActor) -> ActionOut:
    return _one(session, next_action_id, actor)


@router.post(
    "/actions/{next_action_id}/done",
    response_model=ActionOut,
    summary="Mark a next best action done, with what came of it",
)
def action_done(
    next_action_id: Id, body: DoneIn, session: SessionDep, actor: WorkActions
) -> ActionOut:
    service.mark_done(session, next_action_id, actor, note=body.note, at=utcnow())
    return _one(session, next_action_id, actor)


@router.post(
    "/actions/{next_action_id}/dismiss",
    response_model=ActionOut,
    summary="Dismiss a next best action, with the reason",
)
def action_dismiss(
    next_action_id: Id, body: DismissIn, session: SessionDep, actor: WorkActions
) -> ActionOut:
    """Its rule's cooldown still runs, so the same action is not proposed again at once."""
    service.dismiss(session, next_action_id, actor, reason=body.reason, at=utcnow())
    return _one(session, next_action_id, actor)


@router.post(
    "/actions/{next_action_id}/assign",
    response_model=ActionOut,
    summary="Give an open next best action to another user",
)
def action_assign(
    next_action_id: Id, body: AssignIn, session: SessionDep, actor: WorkActions
) -> ActionOut:
    owner_id = _user_id(session, body.owner, field="owner") if body.owner else None
    service.reassign(session, next_action_id, actor, owner_id)
    return _one(session, next_action_id, actor)


@router.get("/rules", response_model=RuleList, summary="Next-best-action rules and their facts")
def list_rules(session: SessionDep, actor: CurrentActor) -> RuleList:
    """Active rules first, by priority; ``fields`` lists the facts conditions may test, with
    their operators and choices."""
    rules = service.list_rules(session)
    users = service.usernames(session, {r.updated_by_id for r in rules})
    return RuleList(items=[RuleOut.of(r, users) for r in rules], fields=field_outs())


@router.get("/rules/{rule_code}", response_model=RuleOut, summary="One next-best-action rule")
def get_rule(rule_code: RuleCode, session: SessionDep, actor: CurrentActor) -> RuleOut:
    rule = service.get_rule(session, rule_code)
    return RuleOut.of(rule, service.usernames(session, {rule.updated_by_id}))


def _rule_out(session: Session, rule: NextActionRule) -> RuleOut:
    return RuleOut.of(rule, service.usernames(session, {rule.updated_by_id}))


@router.put("/rules/{rule_code}", response_model=RuleOut, summary="Replace or add a rule")
def put_rule(rule_code: RuleCode, body: RuleIn, session: SessionDep, actor: ManageRules) -> RuleOut:
    """The whole rule; a bad condition is answered with its place, field and reason
    (``details.index``, ``details.condition_field``, ``details.problem``) and changes nothing."""
    rule, _created = service.save_rule(session, actor, rule_code, body.model_dump(mode="json"))
    return _rule_out(session, rule)


@router.patch("/rules/{rule_code}", response_model=RuleOut, summary="Change part of a rule")
def patch_rule(
    rule_code: RuleCode, body: RulePatch, session: SessionDep, actor: ManageRules
) -> RuleOut:
    """Only the fields given; ``active``: false stops the rule opening new actions."""
    service.get_rule(session, rule_code)
    changes = {
        k: v for k, v in body.model_dump(mode="json", exclude_unset=True).items() if v is not None
    }
    rule, _created = service.save_rule(session, actor, rule_code, changes)
    return _rule_out(session, rule)
