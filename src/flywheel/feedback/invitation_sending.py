"""Sending survey invitations on their day, after the rules that protect customers; the one
reminder to who has not answered; expiry of links past their day. E-mails are rows of the
collections outbox, written in the same transaction as the invitation's change."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from flywheel.collections import outbox
from flywheel.config import Settings
from flywheel.feedback import messages, tokens
from flywheel.models.customers import Contact
from flywheel.models.enums import CollectionChannel, InvitationStatus, SkipReason
from flywheel.models.feedback import Survey, SurveyCampaign, SurveyInvitation, SurveyOptOut

CHUNK = 2000


@dataclass
class Sent:
    sent: int = 0  # invitations queued in the outbox
    skipped: dict[str, int] = field(default_factory=dict)  # by SkipReason
    deferred: int = 0  # a second survey for a contact in one run, left for the next run


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def in_sample(dedupe_key: str, rate: float) -> bool:
    """Whether an invitation is in its campaign's sample: a hash of its dedupe key, so the same
    invitation is always chosen the same way."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


# ---------------------------------------------------------------- sending


def _opted_out(session: Session, contact_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(set(contact_ids))):
        found.update(
            session.scalars(
                select(SurveyOptOut.contact_id).where(SurveyOptOut.contact_id.in_(chunk))
            )
        )
    return found


def _surveyed_since(session: Session, contact_ids: Sequence[int], since: datetime) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(set(contact_ids))):
        found.update(
            session.scalars(
                select(SurveyInvitation.contact_id)
                .where(
                    SurveyInvitation.contact_id.in_(chunk),
                    SurveyInvitation.sent_at.is_not(None),
                    SurveyInvitation.sent_at > since,
                )
                .distinct()
            )
        )
    return found


def _surveys(session: Session) -> dict[int, Survey]:
    return {s.id: s for s in session.scalars(select(Survey))}


def _email_row(
    *,
    key: str,
    email: messages.Email,
    to: str,
    language: str,
    customer_id: int,
) -> dict[str, Any]:
    return outbox.row(
        dedupe_key=key,
        channel=CollectionChannel.EMAIL,
        recipient=to,
        subject=email.subject,
        body=email.text,
        body_html=email.html,
        language=language,
        customer_id=customer_id,
    )


def invite_key(invitation_id: int) -> str:
    return f"survey-invite:{invitation_id}"


def remind_key(invitation_id: int) -> str:
    return f"survey-remind:{invitation_id}"


def _email_for(
    survey: Survey,
    *,
    language: str,
    contact_name: str | None,
    nonce: str,
    expires_at: datetime | None,
    settings: Settings,
    reminder: bool,
) -> messages.Email:
    zh = language == "zh"
    return messages.invitation(
        language=language,
        company=settings.company_name,
        contact_name=contact_name,
        survey_name=survey.name_zh if zh else survey.name_en,
        question=survey.question_zh if zh else survey.question_en,
        url=tokens.survey_url(tokens.token_for(nonce, settings), settings),
        expires_at=expires_at,
        reminder=reminder,
    )


def send_due(
    session: Session,
    *,
    as_of: date,
    moment: datetime,
    settings: Settings,
) -> Sent:
    """Send (queue in the outbox) every scheduled invitation due by ``as_of`` that the rules
    let through; the others are marked skipped with their reason."""
    due = session.execute(
        select(
            SurveyInvitation.id,
            SurveyInvitation.survey_id,
            SurveyInvitation.customer_id,
            SurveyInvitation.contact_id,
            SurveyInvitation.dedupe_key,
            SurveyInvitation.token_nonce,
            SurveyInvitation.language.label("invited_in"),
            SurveyCampaign.active,
            SurveyCampaign.sample_rate,
            SurveyCampaign.expires_after_days,
            Contact.email,
            Contact.name,
            Contact.language,
        )
        .join(SurveyCampaign, SurveyCampaign.id == SurveyInvitation.campaign_id)
        .join(Contact, Contact.id == SurveyInvitation.contact_id)
        .where(
            SurveyInvitation.status == InvitationStatus.SCHEDULED.value,
            SurveyInvitation.send_on <= as_of,
        )
        .order_by(SurveyInvitation.send_on, SurveyInvitation.id)
    ).all()
    outcome = Sent()
    if not due:
        return outcome
    contact_ids = [row.contact_id for row in due]
    opted_out = _opted_out(session, contact_ids)
    min_days = settings.survey_min_days_between
    recent = (
        _surveyed_since(session, contact_ids, moment - timedelta(days=min_days))
        if min_days > 0
        else set()
    )
    survey_of = _surveys(session)
    sent_now: set[int] = set()
    changes: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    for row in due:
        reason: SkipReason | None = None
        address = (row.email or "").strip()
        if not row.active:
            reason = SkipReason.INACTIVE
        elif row.contact_id in opted_out:
            reason = SkipReason.OPTED_OUT
        elif not address:
            reason = SkipReason.NO_EMAIL
        elif not in_sample(row.dedupe_key, row.sample_rate):
            reason = SkipReason.SAMPLED_OUT
        elif row.contact_id in sent_now:
            if min_days == 0:
                outcome.deferred += 1
                continue
            reason = SkipReason.RECENTLY_SURVEYED
        elif row.contact_id in recent:
            reason = SkipReason.RECENTLY_SURVEYED
        if reason is not None:
            outcome.skipped[reason.value] = outcome.skipped.get(reason.value, 0) + 1
            changes.append(
                {
                    "id": row.id,
                    "status": InvitationStatus.SKIPPED.value,
                    "skip_reason": reason.value,
                    "sent_at": None,
                    "expires_at": None,
                    "language": row.invited_in,
                }
            )
            continue
        sent_now.add(row.contact_id)
        expires_at = moment + timedelta(days=row.expires_after_days)
        language = messages.language_of(row.language)
        email = _email_for(
            survey_of[row.survey_id],
            language=language,
            contact_name=row.name,
            nonce=row.token_nonce,
            expires_at=expires_at,
            settings=settings,
            reminder=False,
        )
        emails.append(
            _email_row(
                key=invite_key(row.id),
                email=email,
                to=address,
                language=language,
                customer_id=row.customer_id,
            )
        )
        changes.append(
            {
                "id": row.id,
                "status": InvitationStatus.SENT.value,
                "skip_reason": None,
                "sent_at": moment,
                "expires_at": expires_at,
                "language": language,  # the contact's language now: the page opens in it
            }
        )
    for chunk in _chunks(changes):
        session.execute(update(SurveyInvitation), list(chunk))
    outcome.sent = outbox.insert_many(session, emails)
    return outcome


def remind(session: Session, *, as_of: date, moment: datetime, settings: Settings) -> int:
    """One reminder to each contact who has not answered ``reminder_after_days`` after the
    invitation went out, while the link still works and he has not opted out."""
    survey_of: dict[int, Survey] | None = None
    count = 0
    campaigns = session.execute(
        select(SurveyCampaign.id, SurveyCampaign.reminder_after_days).where(
            SurveyCampaign.active.is_(True), SurveyCampaign.reminder_after_days.is_not(None)
        )
    ).all()
    for campaign_id, days in campaigns:
        if days is None:
            continue
        sent_before = datetime.combine(
            as_of - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC
        )
        rows = session.execute(
            select(
                SurveyInvitation.id,
                SurveyInvitation.survey_id,
                SurveyInvitation.customer_id,
                SurveyInvitation.contact_id,
                SurveyInvitation.token_nonce,
                SurveyInvitation.expires_at,
                Contact.email,
                Contact.name,
                Contact.language,
            )
            .join(Contact, Contact.id == SurveyInvitation.contact_id)
            .where(
                SurveyInvitation.campaign_id == campaign_id,
                SurveyInvitation.status == InvitationStatus.SENT.value,
                SurveyInvitation.answered_at.is_(None),
                SurveyInvitation.reminded_at.is_(None),
                SurveyInvitation.sent_at < sent_before,
                SurveyInvitation.expires_at > moment,
            )
        ).all()
        if not rows:
            continue
        opted_out = _opted_out(session, [r.contact_id for r in rows])
        survey_of = survey_of or _surveys(session)
        emails: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for row in rows:
            address = (row.email or "").strip()
            if row.contact_id in opted_out or not address:
                continue
            language = messages.language_of(row.language)
            email = _email_for(
                survey_of[row.survey_id],
                language=language,
                contact_name=row.name,
                nonce=row.token_nonce,
                expires_at=row.expires_at,
                settings=settings,
                reminder=True,
            )
            emails.append(
                _email_row(
                    key=remind_key(row.id),
                    email=email,
                    to=address,
                    language=language,
                    customer_id=row.customer_id,
                )
            )
            changes.append({"id": row.id, "reminded_at": moment})
        for chunk in _chunks(changes):
            session.execute(update(SurveyInvitation), list(chunk))
        count += outbox.insert_many(session, emails)
    return count


def expire(session: Session, moment: datetime) -> int:
    """Invitations sent and not answered whose link is past its day."""
    outcome = session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.status == InvitationStatus.SENT.value,
            SurveyInvitation.expires_at <= moment,
        )
        .values(status=InvitationStatus.EXPIRED.value)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(outcome, "rowcount", 0) or 0)
