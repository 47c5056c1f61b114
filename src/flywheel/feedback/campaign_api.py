"""JSON routes for surveys, campaigns and their invitations. Every role reads (invitations only
of the accounts in the caller's scope); changes need MANAGE_SURVEYS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.feedback import campaigns
from flywheel.feedback.campaign_schemas import (
    CampaignChange,
    CampaignNew,
    CampaignOut,
    InvitationOut,
    InvitationPage,
    SurveyChange,
    SurveyNew,
    SurveyOut,
)
from flywheel.models.enums import InvitationStatus
from flywheel.models.feedback import Survey, SurveyCampaign
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging
from flywheel.web.deps import SessionDep

router = APIRouter(responses=ERROR_RESPONSES, tags=["feedback"])

ManageSurveys = Annotated[Actor, Depends(require(Permission.MANAGE_SURVEYS))]


# ---------------------------------------------------------------- surveys


@router.get("/feedback/surveys", response_model=list[SurveyOut], summary="Every survey")
def get_surveys(session: SessionDep, actor: CurrentActor) -> list[SurveyOut]:
    return [SurveyOut.of(s) for s in campaigns.list_surveys(session)]


@router.post(
    "/feedback/surveys", response_model=SurveyOut, status_code=201, summary="Create a survey"
)
def post_survey(body: SurveyNew, session: SessionDep, actor: ManageSurveys) -> SurveyOut:
    """A scored question (NPS 0–10, CSAT 1–5 or CES 1–7) in Chinese and English, with an
    optional comment prompt and follow-up questions."""
    survey = campaigns.save_survey(session, actor=actor, data=body.model_dump(mode="json"))
    return SurveyOut.of(survey)


@router.get("/feedback/surveys/{survey_id}", response_model=SurveyOut, summary="One survey")
def get_survey(survey_id: Id, session: SessionDep, actor: CurrentActor) -> SurveyOut:
    return SurveyOut.of(campaigns.get_survey(session, survey_id))


@router.patch("/feedback/surveys/{survey_id}", response_model=SurveyOut, summary="Change a survey")
def patch_survey(
    survey_id: Id, body: SurveyChange, session: SessionDep, actor: ManageSurveys
) -> SurveyOut:
    """Only the fields sent change. The kind of a survey that has answers cannot change."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    survey = campaigns.save_survey(session, actor=actor, data=changes, survey_id=survey_id)
    return SurveyOut.of(survey)


# ---------------------------------------------------------------- campaigns


def _campaign_outs(
    session: Session, actor: Actor, found: list[SurveyCampaign]
) -> list[CampaignOut]:
    codes: dict[int, str] = {}
    for survey_id, code in session.execute(select(Survey.id, Survey.code)):
        codes[survey_id] = code
    counts = campaigns.counts_by_campaign(session, actor=actor)
    return [
        CampaignOut.of(
            c, survey_code=codes[c.survey_id], counts=counts.get(c.id, campaigns.CampaignCounts())
        )
        for c in found
    ]


@router.get(
    "/feedback/campaigns",
    response_model=list[CampaignOut],
    summary="Every campaign with its invitations counted",
)
def get_campaigns(session: SessionDep, actor: CurrentActor) -> list[CampaignOut]:
    """The counts are of the invitations in the caller's scope."""
    return _campaign_outs(session, actor, campaigns.list_campaigns(session))


@router.post(
    "/feedback/campaigns", response_model=CampaignOut, status_code=201, summary="Create a campaign"
)
def post_campaign(body: CampaignNew, session: SessionDep, actor: ManageSurveys) -> CampaignOut:
    """After an event (``trigger`` and ``delay_days``) or on a schedule (``every_months`` from
    ``next_run_on``), to the contacts of the accounts in ``tiers`` with ``buying_roles``."""
    campaign = campaigns.create_campaign(session, actor=actor, data=body.model_dump(mode="json"))
    return _campaign_outs(session, actor, [campaign])[0]


@router.get("/feedback/campaigns/{campaign_id}", response_model=CampaignOut, summary="One campaign")
def get_campaign(campaign_id: Id, session: SessionDep, actor: CurrentActor) -> CampaignOut:
    return _campaign_outs(session, actor, [campaigns.get_campaign(session, campaign_id)])[0]


@router.patch(
    "/feedback/campaigns/{campaign_id}", response_model=CampaignOut, summary="Change a campaign"
)
def patch_campaign(
    campaign_id: Id, body: CampaignChange, session: SessionDep, actor: ManageSurveys
) -> CampaignOut:
    """Only the fields sent change; ``"active": false`` switches it off (what it had
    scheduled is then not sent)."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    campaign = campaigns.update_campaign(
        session, actor=actor, campaign_id=campaign_id, changes=changes
    )
    return _campaign_outs(session, actor, [campaign])[0]


# ---------------------------------------------------------------- invitations


@router.get(
    "/feedback/invitations",
    response_model=InvitationPage,
    summary="Survey invitations, newest first",
)
def get_invitations(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: Annotated[InvitationStatus | None, Query(description="Only this status.")] = None,
    campaign: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Campaign id.")] = None,
    customer: Annotated[str | None, Query(max_length=64, description="The account's code.")] = None,
) -> InvitationPage:
    """Of the accounts in the caller's scope only (a sales rep: his own)."""
    rows, total = campaigns.list_invitations(
        session,
        actor=actor,
        status=status.value if status else None,
        campaign_id=campaign,
        customer_code=customer,
        limit=paging.limit,
        offset=paging.offset,
    )
    return InvitationPage(
        items=[InvitationOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )
