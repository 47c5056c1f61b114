"""Survey campaigns: who is asked which survey and when. Creating, changing and switching them
off (checked, audited), the campaigns the product ships with, the surveys' audited edits, and the
counts of their invitations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.auth.scope import OWNER_SCOPED_ROLES, visible_customers
from flywheel.errors import NotFound, ValidationFailed
from flywheel.feedback import surveys
from flywheel.models.base import utcnow
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import (
    BuyingRole,
    CampaignTrigger,
    InvitationStatus,
    Tier,
    TouchpointKind,
)
from flywheel.models.feedback import Survey, SurveyCampaign, SurveyInvitation

CAMPAIGN_FIELDS = (
    "name",
    "survey_id",
    "trigger",
    "touchpoint_kind",
    "delay_days",
    "every_months",
    "next_run_on",
    "tiers",
    "buying_roles",
    "sample_rate",
    "reminder_after_days",
    "expires_after_days",
    "active",
)
SURVEY_FIELDS = (
    "code",
    "kind",
    "name_zh",
    "name_en",
    "question_zh",
    "question_en",
    "comment_zh",
    "comment_en",
    "questions",
    "active",
)
MAX_DELAY_DAYS = 365
MAX_EVERY_MONTHS = 36
MAX_EXPIRY_DAYS = 365


# ---------------------------------------------------------------- checking a campaign


def _whole(value: Any, field: str, *, low: int, high: int, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"{field} is needed", field=field)
        return None
    if isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a whole number", field=field)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(
            f"{field} must be a whole number, not {value!r}", field=field
        ) from None
    if not low <= number <= high:
        raise ValidationFailed(f"{field} must be from {low} to {high}, not {number}", field=field)
    return number


def _choices(value: Any, field: str, allowed: Iterable[str]) -> list[str]:
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, str) else list(value)
    known = [str(a) for a in allowed]
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if text not in known:
            raise ValidationFailed(
                f"{field}: {text!r} is not one of {', '.join(known)}", field=field
            )
        if text not in out:
            out.append(text)
    return out


def _day(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(
            f"{field} must be a date like 2026-10-01, not {value!r}", field=field
        ) from None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "on", "true", "yes")
    return bool(value)


def check_campaign(
    session: Session, data: Mapping[str, Any], *, campaign_id: int | None = None
) -> dict[str, Any]:
    """The campaign's values, checked and normalised; the first problem raises
    ``ValidationFailed`` naming its field."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationFailed("name is needed", field="name")
    if len(name) > 200:
        raise ValidationFailed("name: at most 200 characters", field="name")
    clash = session.scalar(select(SurveyCampaign.id).where(SurveyCampaign.name == name))
    if clash is not None and clash != campaign_id:
        raise ValidationFailed(f"a campaign named {name!r} exists", field="name")
    survey_id = _whole(data.get("survey_id"), "survey_id", low=1, high=2**62)
    if session.get(Survey, survey_id) is None:
        raise ValidationFailed(f"survey_id: there is no survey {survey_id}", field="survey_id")
    trigger = str(data.get("trigger") or "").strip()
    if trigger not in {t.value for t in CampaignTrigger}:
        raise ValidationFailed(
            f"trigger must be one of {', '.join(t.value for t in CampaignTrigger)}",
            field="trigger",
        )
    values: dict[str, Any] = {
        "name": name,
        "survey_id": survey_id,
        "trigger": trigger,
        "touchpoint_kind": None,
        "delay_days": 0,
        "every_months": None,
        "next_run_on": None,
    }
    if trigger == CampaignTrigger.TOUCHPOINT:
        kind = str(data.get("touchpoint_kind") or "").strip()
        if kind not in {k.value for k in TouchpointKind}:
            raise ValidationFailed(
                "touchpoint_kind: a touchpoint campaign names the kind, one of "
                + ", ".join(k.value for k in TouchpointKind),
                field="touchpoint_kind",
            )
        values["touchpoint_kind"] = kind
    if trigger == CampaignTrigger.SCHEDULE:
        values["every_months"] = _whole(
            data.get("every_months"), "every_months", low=1, high=MAX_EVERY_MONTHS
        )
        next_run = _day(data.get("next_run_on"), "next_run_on")
        if next_run is None:
            raise ValidationFailed(
                "next_run_on: a scheduled campaign needs the day of its next run",
                field="next_run_on",
            )
        values["next_run_on"] = next_run
    else:
        values["delay_days"] = _whole(
            data.get("delay_days", 0), "delay_days", low=0, high=MAX_DELAY_DAYS
        )
    values["tiers"] = _choices(data.get("tiers"), "tiers", (t.value for t in Tier))
    values["buying_roles"] = _choices(
        data.get("buying_roles"), "buying_roles", (r.value for r in BuyingRole)
    )
    rate = data.get("sample_rate", 1.0)
    try:
        sample_rate = float(str(rate).strip().rstrip("%")) if rate not in (None, "") else 1.0
    except ValueError:
        raise ValidationFailed(
            f"sample_rate must be a number, not {rate!r}", field="sample_rate"
        ) from None
    if isinstance(rate, str) and rate.strip().endswith("%"):
        sample_rate /= 100
    if not 0 < sample_rate <= 1:
        raise ValidationFailed(
            f"sample_rate must be above 0 and at most 1 (1 = everyone), not {sample_rate}",
            field="sample_rate",
        )
    values["sample_rate"] = sample_rate
    expires = _whole(
        data.get("expires_after_days", 30), "expires_after_days", low=1, high=MAX_EXPIRY_DAYS
    )
    reminder = _whole(
        data.get("reminder_after_days"),
        "reminder_after_days",
        low=1,
        high=MAX_EXPIRY_DAYS,
        required=False,
    )
    assert expires is not None
    if reminder is not None and reminder >= expires:
        raise ValidationFailed(
            f"reminder_after_days ({reminder}) must come before the link expires ({expires} days)",
            field="reminder_after_days",
        )
    values["expires_after_days"] = expires
    values["reminder_after_days"] = reminder
    values["active"] = _flag(data.get("active", True))
    return values


def _snapshot(campaign: SurveyCampaign) -> dict[str, Any]:
    return audit.snapshot(campaign, CAMPAIGN_FIELDS)


def get_campaign(session: Session, campaign_id: int) -> SurveyCampaign:
    campaign = session.get(SurveyCampaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}", campaign_id=campaign_id)
    return campaign


def create_campaign(session: Session, *, actor: Actor, data: Mapping[str, Any]) -> SurveyCampaign:
    values = check_campaign(session, data)
    campaign = SurveyCampaign(**values)
    session.add(campaign)
    session.flush()
    if values["reminder_after_days"] is None:
        # An INSERT of None would take the column's default (a reminder after 5 days).
        campaign.reminder_after_days = None
        session.flush()
    audit.record(
        session,
        actor,
        "feedback.campaign_created",
        subject_type="survey_campaign",
        subject_id=campaign.id,
        customer_id=None,
        after=_snapshot(campaign),
    )
    return campaign


def update_campaign(
    session: Session, *, actor: Actor, campaign_id: int, changes: Mapping[str, Any]
) -> SurveyCampaign:
    """Change some of a campaign's fields (the others keep their values)."""
    campaign = get_campaign(session, campaign_id)
    unknown = set(changes) - set(CAMPAIGN_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"{field} is not a campaign field", field=field)
    merged = {**_snapshot(campaign), **changes}
    values = check_campaign(session, merged, campaign_id=campaign.id)
    audit.apply_update(
        session,
        actor,
        campaign,
        values,
        action="feedback.campaign_changed",
        subject_type="survey_campaign",
        customer_id=None,
        fields=CAMPAIGN_FIELDS,
    )
    return campaign


def deactivate_campaign(session: Session, *, actor: Actor, campaign_id: int) -> SurveyCampaign:
    """Switch a campaign off: it plans nothing more, and what it had scheduled is not sent."""
    return update_campaign(session, actor=actor, campaign_id=campaign_id, changes={"active": False})


# ---------------------------------------------------------------- surveys, audited


def get_survey(session: Session, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id}", survey_id=survey_id)
    return survey


def save_survey(
    session: Session, *, actor: Actor, data: Mapping[str, Any], survey_id: int | None = None
) -> Survey:
    """Create a survey, or change some fields of one (the others keep their values)."""
    if survey_id is None:
        survey = surveys.save(session, data)
        audit.record(
            session,
            actor,
            "feedback.survey_created",
            subject_type="survey",
            subject_id=survey.id,
            customer_id=None,
            after=audit.snapshot(survey, SURVEY_FIELDS),
        )
        return survey
    survey = get_survey(session, survey_id)
    unknown = set(data) - set(SURVEY_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"{field} is not a survey field", field=field)
    before = audit.snapshot(survey, SURVEY_FIELDS)
    surveys.save(session, {**before, **data}, survey)
    after = audit.snapshot(survey, SURVEY_FIELDS)
    difference = audit.changed(before, after)
    if difference:
        audit.record(
            session,
            actor,
            "feedback.survey_changed",
            subject_type="survey",
            subject_id=survey.id,
            customer_id=None,
            before={k: before[k] for k in difference},
            after=difference,
        )
    return survey


def list_surveys(session: Session) -> list[Survey]:
    return list(session.scalars(select(Survey).order_by(Survey.active.desc(), Survey.code)))


# ---------------------------------------------------------------- what ships


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it is shorter (Jan 31 + 1 →
    Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = (following - date.resolution).day
    return date(year, month, min(day.day, last))


def _next_quarter(day: date) -> date:
    start_month = ((day.month - 1) // 3) * 3 + 1
    return add_months(date(day.year, start_month, 1), 3)


DEFAULT_CAMPAIGNS: list[dict[str, Any]] = [
    {
        "name": "CSAT after delivery",
        "survey": "csat-delivery",
        "trigger": CampaignTrigger.ORDER_DELIVERED.value,
        "delay_days": 2,
        "reminder_after_days": 5,
        "expires_after_days": 30,
    },
    {
        "name": "CES after a dispute is resolved",
        "survey": "ces-service",
        "trigger": CampaignTrigger.DISPUTE_RESOLVED.value,
        "delay_days": 1,
        "buying_roles": [BuyingRole.FINANCE.value],
        "reminder_after_days": 5,
        "expires_after_days": 30,
    },
    {
        "name": "NPS after support touchpoints",
        "survey": "nps-relationship",
        "trigger": CampaignTrigger.TOUCHPOINT.value,
        "touchpoint_kind": TouchpointKind.SUPPORT.value,
        "delay_days": 1,
        "reminder_after_days": 5,
        "expires_after_days": 30,
    },
    {
        "name": "Quarterly relationship NPS of key accounts",
        "survey": "nps-relationship",
        "trigger": CampaignTrigger.SCHEDULE.value,
        "every_months": 3,
        "tiers": [Tier.KEY.value],
        "buying_roles": [
            BuyingRole.DECISION_MAKER.value,
            BuyingRole.INFLUENCER.value,
            BuyingRole.FINANCE.value,
        ],
        "reminder_after_days": 7,
        "expires_after_days": 30,
    },
    {
        "name": "Decision makers' NPS after a contract milestone",
        "survey": "nps-relationship",
        "trigger": CampaignTrigger.MILESTONE_DONE.value,
        "delay_days": 1,
        "buying_roles": [BuyingRole.DECISION_MAKER.value],
        "reminder_after_days": 5,
        "expires_after_days": 30,
    },
]

SYSTEM = Actor.system("feedback")


def ensure_default_campaigns(
    session: Session, *, as_of: date | None = None, actor: Actor = SYSTEM
) -> list[SurveyCampaign]:
    """Create the shipped surveys and campaigns that are missing (campaigns by name); existing
    ones, switched off or changed, are left alone. A scheduled one first runs at the start of
    the next quarter after ``as_of``."""
    surveys.ensure_defaults(session)
    have = set(session.scalars(select(SurveyCampaign.name)))
    wanted = [spec for spec in DEFAULT_CAMPAIGNS if spec["name"] not in have]
    if not wanted:
        return []
    by_code: dict[str, int] = {}
    for code, sid in session.execute(select(Survey.code, Survey.id)):
        by_code[code] = sid
    day = as_of or utcnow().date()
    made = []
    for spec in wanted:
        data = {k: v for k, v in spec.items() if k != "survey"}
        data["survey_id"] = by_code[spec["survey"]]
        if spec["trigger"] == CampaignTrigger.SCHEDULE:
            data["next_run_on"] = _next_quarter(day)
        made.append(create_campaign(session, actor=actor, data=data))
    return made


# ---------------------------------------------------------------- counts


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    scheduled: int = 0
    sent: int = 0  # went out: sent, answered or expired since
    answered: int = 0
    expired: int = 0
    skipped: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "scheduled": self.scheduled,
            "sent": self.sent,
            "answered": self.answered,
            "expired": self.expired,
            "skipped": self.skipped,
            "response_rate": None if self.response_rate is None else round(self.response_rate, 4),
        }


def scoped_invitations(actor: Actor | None) -> Any:
    """A WHERE clause on ``SurveyInvitation`` keeping the invitations ``actor`` may see."""
    if actor is None or actor.role not in OWNER_SCOPED_ROLES:
        return SurveyInvitation.id.is_not(None)
    return SurveyInvitation.customer_id.in_(select(Customer.id).where(visible_customers(actor)))


def counts_by_campaign(
    session: Session, *, actor: Actor | None = None
) -> dict[int, CampaignCounts]:
    """Each campaign's invitations by status (one grouped query), in ``actor``'s scope."""
    rows = session.execute(
        select(SurveyInvitation.campaign_id, SurveyInvitation.status, func.count())
        .where(scoped_invitations(actor))
        .group_by(SurveyInvitation.campaign_id, SurveyInvitation.status)
    ).all()
    raw: dict[int, dict[str, int]] = {}
    for campaign_id, status, count in rows:
        raw.setdefault(int(campaign_id), {})[status] = int(count)
    out: dict[int, CampaignCounts] = {}
    for campaign_id, by_status in raw.items():
        answered = by_status.get(InvitationStatus.ANSWERED.value, 0)
        expired = by_status.get(InvitationStatus.EXPIRED.value, 0)
        out[campaign_id] = CampaignCounts(
            scheduled=by_status.get(InvitationStatus.SCHEDULED.value, 0),
            sent=by_status.get(InvitationStatus.SENT.value, 0) + answered + expired,
            answered=answered,
            expired=expired,
            skipped=by_status.get(InvitationStatus.SKIPPED.value, 0),
        )
    return out


def list_campaigns(session: Session) -> list[SurveyCampaign]:
    return list(
        session.scalars(
            select(SurveyCampaign).order_by(SurveyCampaign.active.desc(), SurveyCampaign.name)
        )
    )


# ---------------------------------------------------------------- invitations


@dataclass(frozen=True, slots=True)
class InvitationRow:
    id: int
    campaign_id: int
    campaign: str
    survey_id: int
    customer_id: int
    customer: str  # the account's code
    customer_name: str
    contact_id: int
    contact: str
    event_ref: str | None
    touchpoint_kind: str | None
    language: str
    status: str
    skip_reason: str | None
    send_on: date
    sent_at: datetime | None
    reminded_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None


def list_invitations(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    campaign_id: int | None = None,
    customer_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[InvitationRow], int]:
    """Invitations in ``actor``'s scope, newest first, and how many match."""
    where = [scoped_invitations(actor)]
    if status:
        if status not in {s.value for s in InvitationStatus}:
            raise ValidationFailed(
                f"status must be one of {', '.join(s.value for s in InvitationStatus)}",
                field="status",
            )
        where.append(SurveyInvitation.status == status)
    if campaign_id is not None:
        where.append(SurveyInvitation.campaign_id == campaign_id)
    if customer_code is not None:
        where.append(
            SurveyInvitation.customer_id.in_(
                select(Customer.id).where(Customer.code == customer_code)
            )
        )
    total = session.scalar(select(func.count()).select_from(SurveyInvitation).where(*where)) or 0
    rows = session.execute(
        select(
            SurveyInvitation,
            SurveyCampaign.name,
            Customer.code,
            Customer.name,
            Contact.name,
        )
        .join(SurveyCampaign, SurveyCampaign.id == SurveyInvitation.campaign_id)
        .join(Customer, Customer.id == SurveyInvitation.customer_id)
        .join(Contact, Contact.id == SurveyInvitation.contact_id)
        .where(*where)
        .order_by(SurveyInvitation.send_on.desc(), SurveyInvitation.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        InvitationRow(
            id=i.id,
            campaign_id=i.campaign_id,
            campaign=campaign_name,
            survey_id=i.survey_id,
            customer_id=i.customer_id,
            customer=code,
            customer_name=customer_name,
            contact_id=i.contact_id,
            contact=contact_name,
            event_ref=i.event_ref,
            touchpoint_kind=i.touchpoint_kind,
            language=i.language,
            status=i.status,
            skip_reason=i.skip_reason,
            send_on=i.send_on,
            sent_at=i.sent_at,
            reminded_at=i.reminded_at,
            expires_at=i.expires_at,
            answered_at=i.answered_at,
        )
        for i, campaign_name, code, customer_name, contact_name in rows
    ], int(total)
