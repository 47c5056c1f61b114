"""Answers to survey invitations: finding the invitation behind a link, recording the one answer
a link allows (and its edit within the edit window), and the contact's opt-out.

The respondent is not a user: changes are audited under the survey page's system actor, the
way a customer's answer on the public statement page is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.config import Settings
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.feedback import surveys, tokens
from flywheel.kit import i18n
from flywheel.models.customers import Contact
from flywheel.models.enums import InvitationStatus, SkipReason
from flywheel.models.feedback import Survey, SurveyInvitation, SurveyOptOut, SurveyResponse

RESPONDENT = Actor.system("survey_page")
COMMENT_MAX = 2000
OPT_OUT_SOURCE = "survey_page"
# Invitations still waiting for an answer: an opt-out skips them.
PENDING = (InvitationStatus.SCHEDULED.value, InvitationStatus.SENT.value)
_RESPONSE_FIELDS = ("score", "band", "answers", "comment", "language")


class SurveyExpired(Conflict):
    """The link's time ran out before it was answered."""

    code = "survey_expired"


class AnswerLocked(Conflict):
    """The answer is older than the edit window: it can no longer change."""

    code = "survey_answer_locked"


class SurveyOptedOut(Conflict):
    """The contact asked not to be surveyed: his links take no answer."""

    code = "survey_opted_out"


@dataclass(frozen=True, slots=True)
class LinkState:
    """What a link opens now, for the page to choose what to show."""

    invitation: SurveyInvitation
    survey: Survey
    response: SurveyResponse | None
    opted_out: bool
    expired: bool
    editable_until: datetime | None  # the answer may change until then (None: no answer)

    def can_edit(self, now: datetime) -> bool:
        return self.editable_until is not None and now <= self.editable_until and not self.opted_out


def _not_valid() -> NotFound:
    # One message for every failure, so the answer tells a guesser nothing.
    return NotFound("this survey link is not valid")


def find_invitation(session: Session, token: str) -> SurveyInvitation:
    """The invitation a link's token opens; ``NotFound`` for anything else. A malformed token
    is refused before any database work."""
    # isascii: looks_like_token's isalnum() lets non-ASCII letters and digits through.
    if not (token.isascii() and tokens.looks_like_token(token)):
        raise _not_valid()
    invitation = session.scalar(
        select(SurveyInvitation).where(SurveyInvitation.token_hash == tokens.hash_token(token))
    )
    # A skipped invitation was never sent (except when its contact opted out: that one's
    # link shows the opt-out), so its link cannot be in anyone's hands.
    if invitation is None or (
        invitation.status == InvitationStatus.SKIPPED.value
        and invitation.skip_reason != SkipReason.OPTED_OUT.value
    ):
        raise _not_valid()
    return invitation


def response_of(session: Session, invitation: SurveyInvitation) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
    )


def is_opted_out(session: Session, contact_id: int | None) -> bool:
    if contact_id is None:
        return False
    found = session.scalar(select(SurveyOptOut.id).where(SurveyOptOut.contact_id == contact_id))
    return found is not None


def _expired(invitation: SurveyInvitation, now: datetime) -> bool:
    if invitation.answered_at is not None:
        return False
    if invitation.status == InvitationStatus.EXPIRED.value:
        return True
    return invitation.expires_at is not None and now >= invitation.expires_at


def editable_until(response: SurveyResponse, settings: Settings) -> datetime:
    """The edit window runs from the first answer."""
    return response.answered_at + timedelta(hours=settings.survey_edit_hours)


def link_state(
    session: Session, invitation: SurveyInvitation, *, now: datetime, settings: Settings
) -> LinkState:
    survey = session.get(Survey, invitation.survey_id)
    if survey is None:  # the foreign key keeps it; a broken row opens nothing
        raise _not_valid()
    response = response_of(session, invitation)
    return LinkState(
        invitation=invitation,
        survey=survey,
        response=response,
        opted_out=is_opted_out(session, invitation.contact_id),
        expired=_expired(invitation, now),
        editable_until=editable_until(response, settings) if response is not None else None,
    )


def _lock(session: Session, invitation: SurveyInvitation) -> SurveyInvitation:
    """The invitation row locked: two submits of one link are recorded one after the other."""
    locked = session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise _not_valid()
    return locked


def _checked_comment(comment: str | None) -> str | None:
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise ValidationFailed(
            f"the comment has {len(text)} characters; at most {COMMENT_MAX} are allowed",
            field="comment",
            length=len(text),
            limit=COMMENT_MAX,
        )
    return text or None


def record(
    session: Session,
    invitation: SurveyInvitation,
    *,
    score: int,
    answers: Mapping[str, Any],
    comment: str | None,
    now: datetime,
    settings: Settings,
    language: str | None = None,
) -> SurveyResponse:
    """Record the answer to ``invitation``: the first one creates the response and marks the
    invitation answered; another within ``settings.survey_edit_hours`` of the first changes it
    (audited before and after); later ones are refused. Expired links and opted-out contacts
    take no answer. ``language`` is the page's language when the respondent switched it.

    Then the comment is analysed, the closed loop opens for a bad answer and a good one is
    thanked. Nothing is written when anything is refused."""
    invitation = _lock(session, invitation)
    if is_opted_out(session, invitation.contact_id):
        raise SurveyOptedOut(
            "you asked not to receive our surveys, so this link takes no answer",
            invitation_id=invitation.id,
        )
    response = response_of(session, invitation)
    if response is not None:
        until = editable_until(response, settings)
        if now > until:
            raise AnswerLocked(
                f"this survey was answered on {response.answered_at:%Y-%m-%d %H:%M} UTC; an "
                f"answer can be changed for {settings.survey_edit_hours} hours only",
                invitation_id=invitation.id,
                editable_until=until.isoformat(),
            )
    elif _expired(invitation, now):
        raise SurveyExpired(
            "this survey link has expired",
            invitation_id=invitation.id,
            expires_at=invitation.expires_at.isoformat() if invitation.expires_at else None,
        )
    elif invitation.status not in PENDING:
        raise _not_valid()

    survey = session.get(Survey, invitation.survey_id)
    if survey is None:
        raise _not_valid()
    if isinstance(score, bool) or not isinstance(score, int):
        raise ValidationFailed("the score must be a whole number", field="score")
    band = surveys.band(survey.kind, score)
    checked_answers = surveys.check_answers(survey, answers)
    text = _checked_comment(comment)
    spoken = i18n.normalize(language) or i18n.normalize(invitation.language) or "zh"
    scale = surveys.scale(survey.kind)

    if response is None:
        contact = session.get(Contact, invitation.contact_id)
        response = SurveyResponse(
            invitation_id=invitation.id,
            survey_id=survey.id,
            campaign_id=invitation.campaign_id,
            customer_id=invitation.customer_id,
            contact_id=invitation.contact_id,
            kind=survey.kind,
            score=score,
            scale_min=scale.low,
            scale_max=scale.high,
            band=band.value,
            answers=checked_answers,
            comment=text,
            language=spoken,
            touchpoint_kind=invitation.touchpoint_kind,
            buying_role=contact.buying_role if contact else None,
            answered_at=now,
        )
        session.add(response)
        before_status = invitation.status
        invitation.status = InvitationStatus.ANSWERED.value
        invitation.answered_at = now
        session.flush()
        audit.record(
            session,
            RESPONDENT,
            "survey_response.recorded",
            subject_type="survey_response",
            subject_id=response.id,
            customer_id=invitation.customer_id,
            before={"invitation_status": before_status},
            after={
                "invitation_id": invitation.id,
                "invitation_status": invitation.status,
                **audit.snapshot(response, _RESPONSE_FIELDS),
            },
        )
    else:
        audit.apply_update(
            session,
            RESPONDENT,
            response,
            {
                "score": score,
                "band": band.value,
                "answers": checked_answers,
                "comment": text,
                "language": spoken,
            },
            action="survey_response.edited",
            subject_type="survey_response",
            customer_id=invitation.customer_id,
            fields=_RESPONSE_FIELDS,
        )
    _after_answer(session, response, settings, now)
    return response


def _after_answer(
    session: Session, response: SurveyResponse, settings: Settings, now: datetime
) -> None:
    """What an answer sets going: its comment analysed, the closed loop on a bad answer, the
    thank-you to a promoter. Each is idempotent, so an edit may run them again."""
    from flywheel.feedback import analysis, loops, messages

    analysed = analysis.analyse_response(session, response, settings, now=now)
    loops.open_for_response(session, response, analysed, settings, now=now)
    if surveys.is_good(response.band):
        messages.thank_promoter(session, response, settings, now=now)


def opt_out(session: Session, invitation: SurveyInvitation, now: datetime) -> SurveyOptOut:
    """The contact of ``invitation`` is never surveyed again: his invitations still waiting are
    skipped. Asking twice changes nothing more."""
    invitation = _lock(session, invitation)
    existing = session.scalar(
        select(SurveyOptOut).where(SurveyOptOut.contact_id == invitation.contact_id)
    )
    if existing is not None:
        return existing
    opted = SurveyOptOut(
        contact_id=invitation.contact_id,
        customer_id=invitation.customer_id,
        source=OPT_OUT_SOURCE,
        opted_out_at=now,
    )
    session.add(opted)
    pending = list(
        session.scalars(
            select(SurveyInvitation)
            .where(
                SurveyInvitation.contact_id == invitation.contact_id,
                SurveyInvitation.status.in_(PENDING),
            )
            .order_by(SurveyInvitation.id)
        )
    )
    for waiting in pending:
        waiting.status = InvitationStatus.SKIPPED.value
        waiting.skip_reason = SkipReason.OPTED_OUT.value
    session.flush()
    audit.record(
        session,
        RESPONDENT,
        "survey.opted_out",
        subject_type="contact",
        subject_id=invitation.contact_id,
        customer_id=invitation.customer_id,
        after={
            "source": OPT_OUT_SOURCE,
            "invitation_id": invitation.id,
            "skipped_invitations": [w.id for w in pending],
        },
    )
    return opted
