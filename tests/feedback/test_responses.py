"""Recording answers: one answer per link, its edit within the window, refusals that change
nothing (window passed, link expired, contact opted out, bad follow-ups), and the opt-out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from flywheel.errors import NotFound, ValidationFailed
from flywheel.feedback import responses, tokens
from flywheel.feedback.responses import AnswerLocked, SurveyExpired, SurveyOptedOut
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import OutboxMessage
from flywheel.models.enums import InvitationStatus, SkipReason, SurveyKind
from flywheel.models.feedback import FeedbackLoop, SurveyOptOut, SurveyResponse
from tests.feedback.public_world import (
    IDEA_QUESTION,
    REASON_QUESTION,
    SENT_AT,
    SETTINGS,
    send_invitation,
)

ANSWERED_AT = SENT_AT + timedelta(days=1)
WINDOW = timedelta(hours=SETTINGS.survey_edit_hours)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def written(session: Session) -> dict[str, int]:
    """What an answer may write: compared before and after a refusal."""
    return {
        model.__name__: count(session, model)
        for model in (SurveyResponse, AuditEvent, FeedbackLoop, OutboxMessage, SurveyOptOut)
    }


def answer(session: Session, link: Any, score: int, **kw: Any) -> SurveyResponse:
    return responses.record(
        session,
        link.invitation,
        score=score,
        answers=kw.pop("answers", {}),
        comment=kw.pop("comment", None),
        now=kw.pop("now", ANSWERED_AT),
        settings=SETTINGS,
        **kw,
    )


# ---------------------------------------------------------------- the first answer


def test_the_first_answer_is_recorded_with_its_band_scale_and_context(session: Session) -> None:
    # Given a Chinese NPS invitation to a decision maker, sent after a delivery
    link = send_invitation(session, kind=SurveyKind.NPS, language="zh")

    # When he answers 3 with a comment
    response = answer(session, link, 3, comment="  交货又延迟了，客服也不回复  ")

    # Then the answer keeps the raw score, its scale and band, and where it came from
    assert (response.kind, response.score, response.scale_min, response.scale_max) == (
        "nps",
        3,
        0,
        10,
    )
    assert response.band == "detractor"
    assert response.comment == "交货又延迟了，客服也不回复"
    assert response.language == "zh"
    assert response.touchpoint_kind == "delivery"
    assert response.buying_role == "decision_maker"
    assert response.customer_id == link.customer.id
    assert response.contact_id == link.contact.id
    assert response.campaign_id == link.invitation.campaign_id
    assert response.answered_at == ANSWERED_AT
    # And the invitation is answered
    assert link.invitation.status == InvitationStatus.ANSWERED
    assert link.invitation.answered_at == ANSWERED_AT
    # And the answer is audited under the survey page's own actor
    event_ = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "survey_response.recorded")
    )
    assert event_ is not None
    assert (event_.actor_name, event_.actor_id, event_.subject_id) == (
        "survey_page",
        None,
        response.id,
    )
    assert event_.customer_id == link.customer.id
    assert event_.after is not None
    assert event_.after["score"] == 3
    assert event_.after["band"] == "detractor"


def test_a_detractor_opens_a_follow_up_for_the_account_owner(session: Session) -> None:
    link = send_invitation(session, language="zh")

    response = answer(session, link, 3, comment="交货又延迟了，客服也不回复")

    loop = session.scalar(select(FeedbackLoop).where(FeedbackLoop.response_id == response.id))
    assert loop is not None
    assert (loop.owner_id, loop.customer_id, loop.reason, loop.status) == (
        link.owner.id,
        link.customer.id,
        "detractor",
        "open",
    )


def test_a_promoter_is_thanked_once_through_the_outbox(session: Session) -> None:
    link = send_invitation(session, language="en")

    response = answer(session, link, 10, comment="Great partner, always on time.")
    answer(session, link, 9, comment="Great partner.", now=ANSWERED_AT + timedelta(hours=1))

    thanks = list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"survey-thanks:{response.id}")
        )
    )
    assert len(thanks) == 1
    assert thanks[0].recipient == link.contact.email
    assert response.thanked_at == ANSWERED_AT
    assert (
        session.scalar(select(FeedbackLoop).where(FeedbackLoop.response_id == response.id)) is None
    )


@pytest.mark.parametrize(
    ("kind", "score", "band", "scale"),
    [
        (SurveyKind.NPS, 0, "detractor", (0, 10)),
        (SurveyKind.NPS, 6, "detractor", (0, 10)),
        (SurveyKind.NPS, 7, "passive", (0, 10)),
        (SurveyKind.NPS, 8, "passive", (0, 10)),
        (SurveyKind.NPS, 9, "promoter", (0, 10)),
        (SurveyKind.NPS, 10, "promoter", (0, 10)),
        (SurveyKind.CSAT, 1, "negative", (1, 5)),
        (SurveyKind.CSAT, 2, "negative", (1, 5)),
        (SurveyKind.CSAT, 3, "neutral", (1, 5)),
        (SurveyKind.CSAT, 4, "positive", (1, 5)),
        (SurveyKind.CSAT, 5, "positive", (1, 5)),
        (SurveyKind.CES, 1, "negative", (1, 7)),
        (SurveyKind.CES, 3, "negative", (1, 7)),
        (SurveyKind.CES, 4, "neutral", (1, 7)),
        (SurveyKind.CES, 5, "positive", (1, 7)),
        (SurveyKind.CES, 7, "positive", (1, 7)),
    ],
)
def test_the_band_follows_the_kind_of_survey(
    session: Session, kind: str, score: int, band: str, scale: tuple[int, int]
) -> None:
    link = send_invitation(session, kind=kind, language="en")

    response = answer(session, link, score)

    assert (response.kind, response.band) == (kind, band)
    assert (response.scale_min, response.scale_max) == scale


@pytest.mark.parametrize(
    ("kind", "score"),
    [(SurveyKind.NPS, 11), (SurveyKind.NPS, -1), (SurveyKind.CSAT, 0), (SurveyKind.CES, 8)],
)
def test_a_score_off_the_scale_is_refused_and_nothing_is_written(
    session: Session, kind: str, score: int
) -> None:
    link = send_invitation(session, kind=kind)
    before = written(session)

    with pytest.raises(ValidationFailed) as refused:
        answer(session, link, score)

    assert refused.value.details["field"] == "score"
    assert written(session) == before
    assert link.invitation.status == InvitationStatus.SENT


# ---------------------------------------------------------------- follow-ups and the comment


def test_follow_up_answers_are_checked_and_kept(session: Session) -> None:
    link = send_invitation(session, questions=[REASON_QUESTION, IDEA_QUESTION])

    response = answer(
        session, link, 5, answers={"main_reason": "delivery", "idea": " 提前通知发货 ", "x": "y"}
    )

    assert response.answers == {"main_reason": "delivery", "idea": "提前通知发货"}


@pytest.mark.parametrize(
    ("answers", "comment", "field"),
    [
        ({}, None, "main_reason"),  # required and missing
        ({"main_reason": "weather"}, None, "main_reason"),  # not one of the choices
        ({"main_reason": "delivery"}, "长" * 2001, "comment"),
    ],
)
def test_a_bad_follow_up_or_comment_names_the_field_and_writes_nothing(
    session: Session, answers: dict[str, str], comment: str | None, field: str
) -> None:
    link = send_invitation(session, questions=[REASON_QUESTION, IDEA_QUESTION])
    before = written(session)

    with pytest.raises(ValidationFailed) as refused:
        answer(session, link, 4, answers=answers, comment=comment)

    assert refused.value.details["field"] == field
    assert written(session) == before
    assert link.invitation.status == InvitationStatus.SENT
    assert link.invitation.answered_at is None


# ---------------------------------------------------------------- the edit window


def test_a_second_answer_within_the_window_changes_the_first(session: Session) -> None:
    link = send_invitation(session, language="zh")
    first = answer(session, link, 3, comment="交货又延迟了")

    # When he comes back just before the window closes and changes his mind
    second = answer(
        session, link, 8, comment="问题已解决，谢谢", now=ANSWERED_AT + WINDOW, language="en"
    )

    # Then there is still one answer, changed; its first time stays
    assert second.id == first.id
    assert count(session, SurveyResponse) == 1
    assert (second.score, second.band, second.comment) == (8, "passive", "问题已解决，谢谢")
    assert second.language == "en"
    assert second.answered_at == ANSWERED_AT
    assert link.invitation.answered_at == ANSWERED_AT
    # And the change is audited with what it was and what it became
    edit = session.scalar(select(AuditEvent).where(AuditEvent.action == "survey_response.edited"))
    assert edit is not None
    assert edit.subject_id == first.id
    assert edit.before == {
        "score": 3,
        "band": "detractor",
        "comment": "交货又延迟了",
        "language": "zh",
    }
    assert edit.after == {
        "score": 8,
        "band": "passive",
        "comment": "问题已解决，谢谢",
        "language": "en",
    }


def test_an_answer_after_the_window_is_refused_and_nothing_changes(session: Session) -> None:
    link = send_invitation(session)
    first = answer(session, link, 3, comment="交货又延迟了")
    before = written(session)

    with pytest.raises(AnswerLocked) as refused:
        answer(session, link, 10, comment="好", now=ANSWERED_AT + WINDOW + timedelta(seconds=1))

    assert refused.value.code == "survey_answer_locked"
    assert "72 hours" in refused.value.message
    session.refresh(first)
    assert (first.score, first.band, first.comment) == (3, "detractor", "交货又延迟了")
    assert written(session) == before


# ---------------------------------------------------------------- expiry


def test_an_expired_link_takes_no_answer(session: Session) -> None:
    link = send_invitation(session, expires_at=ANSWERED_AT)
    before = written(session)

    with pytest.raises(SurveyExpired) as refused:
        answer(session, link, 9, now=ANSWERED_AT)

    assert refused.value.code == "survey_expired"
    assert written(session) == before
    assert link.invitation.status == InvitationStatus.SENT


def test_an_invitation_the_cycle_expired_takes_no_answer(session: Session) -> None:
    link = send_invitation(
        session,
        status=InvitationStatus.EXPIRED,
        expires_at=ANSWERED_AT + timedelta(days=5),
    )

    with pytest.raises(SurveyExpired):
        answer(session, link, 9)

    assert count(session, SurveyResponse) == 0


def test_an_answer_just_before_expiry_is_taken_and_may_be_changed_after_it(
    session: Session,
) -> None:
    link = send_invitation(session, expires_at=ANSWERED_AT + timedelta(minutes=1))
    answer(session, link, 6)

    changed = answer(session, link, 7, now=ANSWERED_AT + timedelta(hours=2))

    assert changed.score == 7


# ---------------------------------------------------------------- opt-out


def test_opting_out_skips_the_contacts_waiting_invitations_once(session: Session) -> None:
    # Given a contact with an answered invitation, the one he opens and another scheduled
    answered = send_invitation(session)
    answer(session, answered, 9)
    link = send_invitation(session, contact=answered.contact)
    waiting = send_invitation(session, contact=answered.contact, status=InvitationStatus.SCHEDULED)
    other_contact = send_invitation(session)

    # When he opts out (twice: a double click)
    opted = responses.opt_out(session, link.invitation, ANSWERED_AT)
    again = responses.opt_out(session, link.invitation, ANSWERED_AT + timedelta(hours=1))

    # Then one opt-out is kept and audited
    assert again.id == opted.id
    assert (opted.contact_id, opted.customer_id, opted.source) == (
        link.contact.id,
        link.customer.id,
        "survey_page",
    )
    assert count(session, SurveyOptOut) == 1
    audits = list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "survey.opted_out"))
    )
    assert len(audits) == 1
    assert audits[0].after is not None
    assert audits[0].after["skipped_invitations"] == [link.invitation.id, waiting.invitation.id]
    # And his waiting invitations are skipped as opted out; the answered one and other
    # contacts' are left alone
    for pending in (link, waiting):
        assert (pending.invitation.status, pending.invitation.skip_reason) == (
            InvitationStatus.SKIPPED,
            SkipReason.OPTED_OUT,
        )
    assert answered.invitation.status == InvitationStatus.ANSWERED
    assert other_contact.invitation.status == InvitationStatus.SENT


def test_an_opted_out_contacts_link_takes_no_answer_nor_edit(session: Session) -> None:
    answered = send_invitation(session)
    answer(session, answered, 9)
    link = send_invitation(session, contact=answered.contact)
    responses.opt_out(session, link.invitation, ANSWERED_AT)
    before = written(session)

    with pytest.raises(SurveyOptedOut):
        answer(session, link, 2)
    with pytest.raises(SurveyOptedOut):
        answer(session, answered, 2, now=ANSWERED_AT + timedelta(hours=1))

    assert written(session) == before


# ---------------------------------------------------------------- finding the invitation


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.mark.parametrize(
    "token", ["", "abc", "x" * 42, "x" * 44, "a" * 42 + "!", "../../etc/passwd", "ä" * 43]
)
def test_a_malformed_token_is_not_found_without_asking_the_database(
    session: Session, engine: Engine, token: str
) -> None:
    send_invitation(session)
    with statements_run(engine) as seen, pytest.raises(NotFound) as refused:
        responses.find_invitation(session, token)

    assert seen == []
    assert refused.value.message == "this survey link is not valid"


def test_a_link_is_found_by_its_token_only(session: Session) -> None:
    link = send_invitation(session)
    unknown = tokens.token_for(tokens.new_nonce(), SETTINGS)

    assert responses.find_invitation(session, link.token).id == link.invitation.id
    with pytest.raises(NotFound) as refused:
        responses.find_invitation(session, unknown)
    assert refused.value.message == "this survey link is not valid"


def test_a_link_that_was_never_sent_is_not_valid(session: Session) -> None:
    link = send_invitation(session, status=InvitationStatus.SKIPPED)
    link.invitation.skip_reason = SkipReason.RECENTLY_SURVEYED.value
    session.flush()

    with pytest.raises(NotFound):
        responses.find_invitation(session, link.token)
