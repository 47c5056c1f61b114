"""JSON routes of referrals and reward rules: the scoped list and one referral (with its revenue),
recording one, moving it on (PATCH), granting or declining its reward, the KPIs of a period,
and the reward rules. Changes need WORK_REFERRALS, GRANT_REFERRAL_REWARDS or
MANAGE_LOYALTY_RULES; reads are scoped to the caller's accounts."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.errors import NotFound, ValidationFailed
from flywheel.loyalty import referral_kpis, referral_rewards, referrals
from flywheel.loyalty.referral_schemas import (
    ReferralDetailOut,
    ReferralKpis,
    ReferralNew,
    ReferralPage,
    ReferralPatch,
    RewardDecision,
    RuleList,
    RuleNew,
    RuleOut,
    RulePatch,
    referral_outs,
)
from flywheel.models.enums import ReferralStatus, RewardStatus
from flywheel.models.loyalty import Referral
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/loyalty", tags=["loyalty"], responses=ERROR_RESPONSES)

WorkReferrals = Annotated[Actor, Depends(require(Permission.WORK_REFERRALS))]
GrantRewards = Annotated[Actor, Depends(require(Permission.GRANT_REFERRAL_REWARDS))]
ManageRules = Annotated[Actor, Depends(require(Permission.MANAGE_LOYALTY_RULES))]
KPI_DAYS = 90
DETAIL_FIELDS = set(referrals.DETAIL_FIELDS)
STATUS_CHOICES = ("open", "all", *(s.value for s in ReferralStatus))


class StatusChoice(StrEnum):
    ALL = "all"
    OPEN = "open"
    LEAD = "lead"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


def filters_for(
    status: StatusChoice | str | None,
    *,
    search: str | None = None,
    customer_id: int | None = None,
    reward_status: RewardStatus | None = None,
) -> referrals.ReferralFilter:
    chosen = str(status or "all")
    return referrals.ReferralFilter(
        status=ReferralStatus(chosen) if chosen in {s.value for s in ReferralStatus} else None,
        open_only=chosen == "open",
        search=search or None,
        customer_id=customer_id,
        reward_status=reward_status,
    )


def detail(session: Session, actor: Actor, referral: Referral) -> ReferralDetailOut:
    [out] = referral_outs(session, [referrals.referral_row(session, actor, referral)])
    revenue = (
        referral_kpis.revenue_attributed(
            session,
            actor,
            end=date(2999, 12, 31),
            attribution_days=get_settings().referral_attribution_days,
            referral_id=referral.id,
        )
        if referral.won_on
        else {}
    )
    return ReferralDetailOut(
        **out.model_dump(),
        revenue_attributed={c: f"{a:.2f}" for c, a in revenue.items()},
        allowed_statuses=sorted(
            s.value for s in referrals.TRANSITIONS[ReferralStatus(referral.status)]
        ),
    )


@router.get("/referrals", response_model=ReferralPage, summary="Referrals")
def list_referrals(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: Annotated[
        StatusChoice, Query(description="all (default), open, or one status.")
    ] = StatusChoice.ALL,
    q: Annotated[
        str | None,
        Query(max_length=100, description="In the referrer's code or name, the lead's names."),
    ] = None,
    customer: Annotated[
        str | None, Query(max_length=64, description="The referrer's account code.")
    ] = None,
    reward_status: Annotated[RewardStatus | None, Query(description="Only this reward.")] = None,
) -> ReferralPage:
    """Newest first, of the referrers the caller may see."""
    customer_id = None
    if customer:
        try:
            customer_id = customers.get_customer_by_code(session, customer, actor=actor).id
        except NotFound:
            customer_id = 0  # an account out of scope lists nothing, like an empty one
    rows, total = referrals.list_referrals(
        session,
        actor,
        filters_for(status, search=q, customer_id=customer_id, reward_status=reward_status),
        limit=paging.limit,
        offset=paging.offset,
    )
    return ReferralPage(
        items=referral_outs(session, rows),
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/referrals", response_model=ReferralDetailOut, status_code=201, summary="Record a referral"
)
def create_referral(
    body: ReferralNew, session: SessionDep, actor: WorkReferrals
) -> ReferralDetailOut:
    if body.referred_on is not None and body.referred_on > today():
        raise ValidationFailed("referred_on: cannot be in the future", field="referred_on")
    referral = referrals.record_referral(
        session,
        actor=actor,
        customer=body.customer,
        referrer_contact_id=body.referrer_contact_id,
        referred_customer=body.referred_customer,
        lead_company=body.lead_company,
        lead_contact=body.lead_contact,
        lead_email=body.lead_email,
        lead_phone=body.lead_phone,
        referred_on=body.referred_on or today(),
        source=body.source.value,
        notes=body.notes,
    )
    return detail(session, actor, referral)


@router.get("/referrals/kpis", response_model=ReferralKpis, summary="Referral KPIs of a period")
def referral_kpis_route(
    session: SessionDep,
    actor: CurrentActor,
    start: Annotated[date | None, Query(description="First day (default: 90 days ago).")] = None,
    end: Annotated[date | None, Query(description="Last day, included (default: today).")] = None,
    as_of: Annotated[date | None, Query(description="Known on this day (default: end).")] = None,
) -> ReferralKpis:
    """Referrals made and won, conversion, revenue attributed, rewards granted per currency,
    the referral rate among active customers and the referred share of new customers."""
    referral_kpis.check_days(start=start, end=end, as_of=as_of)
    last = end or today()
    first = start or last - timedelta(days=KPI_DAYS - 1)
    if first > last:
        raise ValidationFailed("start: the period starts after it ends", field="start")
    figures = referral_kpis.kpis(session, actor, start=first, end=last, as_of=as_of)
    return ReferralKpis(**figures)


@router.get("/referrals/rules", response_model=RuleList, summary="Referral reward rules")
def list_rules(session: SessionDep, actor: CurrentActor) -> RuleList:
    """The active rule first; a won referral earns by the active one."""
    return RuleList(items=[RuleOut.of(r) for r in referral_rewards.list_rules(session)])


@router.post(
    "/referrals/rules", response_model=RuleOut, status_code=201, summary="Add a reward rule"
)
def create_rule(body: RuleNew, session: SessionDep, actor: ManageRules) -> RuleOut:
    """An active new rule replaces the one active until now."""
    rule = referral_rewards.create_rule(session, actor=actor, values=body.model_dump())
    return RuleOut.of(rule)


@router.patch(
    "/referrals/rules/{rule_id}", response_model=RuleOut, summary="Change or deactivate a rule"
)
def change_rule(rule_id: Id, body: RulePatch, session: SessionDep, actor: ManageRules) -> RuleOut:
    rule = referral_rewards.update_rule(
        session, actor=actor, rule_id=rule_id, changes=body.changes()
    )
    return RuleOut.of(rule)


@router.get("/referrals/{referral_id}", response_model=ReferralDetailOut, summary="One referral")
def get_referral(referral_id: Id, session: SessionDep, actor: CurrentActor) -> ReferralDetailOut:
    """With the revenue its referred account brought within the attribution window."""
    return detail(session, actor, referrals.get_referral_for(session, referral_id, actor=actor))


@router.patch(
    "/referrals/{referral_id}",
    response_model=ReferralDetailOut,
    summary="Move a referral on, or change its lead details",
)
def change_referral(
    referral_id: Id, body: ReferralPatch, session: SessionDep, actor: WorkReferrals
) -> ReferralDetailOut:
    """``status``: lead → contacted → qualified → won / lost (a lost one may be reopened); won
    needs the referred account, lost a reason. A refused move changes nothing."""
    referral = referrals.get_referral_for(session, referral_id, actor=actor)
    if body.won_on is not None and body.won_on > today():
        raise ValidationFailed("won_on: cannot be in the future", field="won_on")
    changes = body.changes()
    details = {k: v for k, v in changes.items() if k in DETAIL_FIELDS}
    if details:
        referrals.edit_details(session, actor=actor, referral_id=referral.id, changes=details)
    if body.status is not None:
        referrals.change_status(
            session,
            actor=actor,
            referral_id=referral.id,
            status=body.status,
            on=body.won_on or today(),
            referred_customer=body.referred_customer,
            lost_reason=body.lost_reason,
        )
    elif {"won_on", "referred_customer", "lost_reason"} & changes.keys():
        raise ValidationFailed(
            "status: won_on, referred_customer and lost_reason go with a status change",
            field="status",
        )
    return detail(session, actor, referral)


@router.post(
    "/referrals/{referral_id}/reward",
    response_model=ReferralDetailOut,
    summary="Grant or decline a referral's reward",
)
def decide_reward(
    referral_id: Id, body: RewardDecision, session: SessionDep, actor: GrantRewards
) -> ReferralDetailOut:
    """Grant: a credit note is issued on the referrer's account (a discount is computed on the
    referrer's next order, which must exist); decline: with a reason."""
    referral = referrals.get_referral_for(session, referral_id, actor=actor)
    if body.decision == "grant":
        referral_rewards.grant_reward(
            session,
            actor=actor,
            referral_id=referral.id,
            on=body.on or today(),
            invoice=body.invoice,
        )
    else:
        referral_rewards.decline_reward(
            session, actor=actor, referral_id=referral.id, reason=body.reason or ""
        )
    return detail(session, actor, referral)
