"""Input and output shapes of surveys, campaigns and invitations in the API and the CLI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from flywheel.feedback.campaigns import CampaignCounts
from flywheel.kit.shapes import InputModel, OutputModel
from flywheel.models.enums import (
    BuyingRole,
    CampaignTrigger,
    InvitationStatus,
    SkipReason,
    SurveyKind,
    Tier,
    TouchpointKind,
)
from flywheel.models.feedback import Survey, SurveyCampaign

Line = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
OptionalText = Annotated[str | None, Field(max_length=2000)]
SurveyCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Days = Annotated[int, Field(ge=0, le=365)]
PositiveDays = Annotated[int, Field(ge=1, le=365)]
Months = Annotated[int, Field(ge=1, le=36)]
Rate = Annotated[float, Field(gt=0, le=1, description="Share of invitations sent, 0 < r <= 1.")]


# ---------------------------------------------------------------- surveys


class ChoiceIn(InputModel):
    value: Annotated[str, Field(min_length=1, max_length=40)]
    zh: Line
    en: Line


class QuestionIn(InputModel):
    """A follow-up question after the score: free text, or one of the choices."""

    key: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
    kind: Literal["text", "choice"]
    text_zh: Text
    text_en: Text
    required: bool = False
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=20)


class SurveyNew(InputModel):
    code: SurveyCode
    kind: SurveyKind
    name_zh: Line
    name_en: Line
    question_zh: Text
    question_en: Text
    comment_zh: OptionalText = Field(None, description="The free-text prompt after the score.")
    comment_en: OptionalText = None
    questions: list[QuestionIn] = Field(default_factory=list, max_length=20)
    active: bool = True


class SurveyChange(InputModel):
    """The fields to change; the others keep their values."""

    code: SurveyCode | None = None
    kind: SurveyKind | None = None
    name_zh: Line | None = None
    name_en: Line | None = None
    question_zh: Text | None = None
    question_en: Text | None = None
    comment_zh: OptionalText = None
    comment_en: OptionalText = None
    questions: list[QuestionIn] | None = Field(None, max_length=20)
    active: bool | None = None


class SurveyOut(OutputModel):
    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    question_zh: str
    question_en: str
    comment_zh: str | None
    comment_en: str | None
    questions: list[dict[str, Any]]
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, survey: Survey) -> SurveyOut:
        return cls.model_validate(survey)


# ---------------------------------------------------------------- campaigns


class CampaignNew(InputModel):
    name: Line
    survey_id: RecordId
    trigger: CampaignTrigger
    touchpoint_kind: TouchpointKind | None = Field(
        None, description="The touchpoint kind, for the touchpoint trigger."
    )
    delay_days: Days = Field(0, description="Days after the event the survey is sent.")
    every_months: Months | None = Field(None, description="For the schedule trigger.")
    next_run_on: date | None = Field(None, description="For the schedule trigger.")
    tiers: list[Tier] = Field(default_factory=list, description="Empty: every tier.")
    buying_roles: list[BuyingRole] = Field(
        default_factory=list, description="Empty: every contact."
    )
    sample_rate: Rate = 1.0
    reminder_after_days: PositiveDays | None = Field(5, description="None: no reminder.")
    expires_after_days: PositiveDays = 30
    active: bool = True


class CampaignChange(InputModel):
    """The fields to change; the others keep their values."""

    name: Line | None = None
    survey_id: RecordId | None = None
    trigger: CampaignTrigger | None = None
    touchpoint_kind: TouchpointKind | None = None
    delay_days: Days | None = None
    every_months: Months | None = None
    next_run_on: date | None = None
    tiers: list[Tier] | None = None
    buying_roles: list[BuyingRole] | None = None
    sample_rate: Rate | None = None
    reminder_after_days: PositiveDays | None = None
    expires_after_days: PositiveDays | None = None
    active: bool | None = None


class CountsOut(OutputModel):
    scheduled: int
    sent: int = Field(description="Went out: sent, answered or expired since.")
    answered: int
    expired: int
    skipped: int
    response_rate: float | None = Field(description="answered / sent; None before any is sent.")

    @classmethod
    def of(cls, counts: CampaignCounts) -> CountsOut:
        return cls.model_validate(counts.as_dict())


class CampaignOut(OutputModel):
    id: int
    name: str
    survey_id: int
    survey_code: str
    trigger: str
    touchpoint_kind: str | None
    delay_days: int
    every_months: int | None
    next_run_on: date | None
    tiers: list[str]
    buying_roles: list[str]
    sample_rate: float
    reminder_after_days: int | None
    expires_after_days: int
    active: bool
    counts: CountsOut

    @classmethod
    def of(
        cls, campaign: SurveyCampaign, *, survey_code: str, counts: CampaignCounts
    ) -> CampaignOut:
        return cls(
            id=campaign.id,
            name=campaign.name,
            survey_id=campaign.survey_id,
            survey_code=survey_code,
            trigger=campaign.trigger,
            touchpoint_kind=campaign.touchpoint_kind,
            delay_days=campaign.delay_days,
            every_months=campaign.every_months,
            next_run_on=campaign.next_run_on,
            tiers=list(campaign.tiers or []),
            buying_roles=list(campaign.buying_roles or []),
            sample_rate=campaign.sample_rate,
            reminder_after_days=campaign.reminder_after_days,
            expires_after_days=campaign.expires_after_days,
            active=campaign.active,
            counts=CountsOut.of(counts),
        )


# ---------------------------------------------------------------- invitations


class InvitationOut(OutputModel):
    id: int
    campaign_id: int
    campaign: str
    survey_id: int
    customer: str = Field(description="The account's code.")
    contact_id: int
    contact: str
    event_ref: str | None
    touchpoint_kind: str | None
    language: str
    status: InvitationStatus
    skip_reason: SkipReason | None
    send_on: date
    sent_at: datetime | None
    reminded_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None


class InvitationPage(OutputModel):
    items: list[InvitationOut]
    total: int
    page: int
    page_size: int
