"""The demo company's feedback: surveys and campaigns, invitations and answers drawn from the
latent satisfaction, comments in both languages, valid survey links, follow-ups, --replace."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from flywheel.config import get_settings
from flywheel.demo.service import DemoSummary
from flywheel.errors import Conflict
from flywheel.feedback import surveys, tokens
from flywheel.models.enums import InvitationStatus, LoopStatus, SkipReason
from flywheel.models.feedback import (
    FeedbackLoop,
    Survey,
    SurveyCampaign,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
    TextAnalysis,
)
from tests.demo.conftest import AS_OF, build_small


def _nps(scores: list[int]) -> float:
    return 100.0 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


def test_surveys_campaigns_and_history_are_written(built: tuple[Engine, DemoSummary]) -> None:
    engine, summary = built
    with Session(engine) as session:
        codes = set(session.scalars(select(Survey.code)))
        assert {spec["code"] for spec in surveys.DEFAULT_SURVEYS} <= codes
        assert session.scalar(select(func.count(SurveyCampaign.id))) >= 4
        invitations = session.scalar(select(func.count(SurveyInvitation.id)))
        responses = session.scalar(select(func.count(SurveyResponse.id)))
        assert invitations == summary.counts["survey_invitations"] > 0
        assert responses == summary.counts["survey_responses"] > 0
        status = Counter(session.scalars(select(SurveyInvitation.status)))
        assert set(status) <= {s.value for s in InvitationStatus}
        asked = invitations - status[InvitationStatus.SKIPPED.value]
        assert 0.2 <= status[InvitationStatus.ANSWERED.value] / asked <= 0.45
        assert status[InvitationStatus.EXPIRED.value] > 0
        reasons = set(
            session.scalars(
                select(SurveyInvitation.skip_reason).where(
                    SurveyInvitation.status == InvitationStatus.SKIPPED.value
                )
            )
        )
        assert SkipReason.RECENTLY_SURVEYED.value in reasons
        opted = session.scalars(select(SurveyOptOut.contact_id)).all()
        assert opted
        # Nobody opted out is asked again after his opt-out.
        late = session.scalar(
            select(func.count(SurveyInvitation.id))
            .join(SurveyOptOut, SurveyOptOut.contact_id == SurveyInvitation.contact_id)
            .where(
                SurveyInvitation.sent_at > SurveyOptOut.opted_out_at,
                SurveyInvitation.status != InvitationStatus.SKIPPED.value,
            )
        )
        assert late == 0
        # Answers never come after the demo's last day, nor before their invitation.
        last = session.scalar(select(func.max(SurveyResponse.answered_at)))
        assert last is not None
        assert last.date() <= AS_OF
        early = session.scalar(
            select(func.count(SurveyResponse.id))
            .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
            .where(SurveyResponse.answered_at < SurveyInvitation.sent_at)
        )
        assert early == 0


def test_protection_rule_one_survey_per_contact_in_90_days(
    built: tuple[Engine, DemoSummary],
) -> None:
    engine, _ = built
    with Session(engine) as session:
        rows = session.execute(
            select(SurveyInvitation.contact_id, SurveyInvitation.send_on)
            .where(SurveyInvitation.sent_at.is_not(None))
            .order_by(SurveyInvitation.contact_id, SurveyInvitation.send_on)
        ).all()
    gaps = [
        (b.send_on - a.send_on).days
        for a, b in itertools.pairwise(rows)
        if a.contact_id == b.contact_id
    ]
    assert gaps
    assert min(gaps) >= get_settings().survey_min_days_between


def test_bands_match_scores_and_comments_speak_both_languages(
    built: tuple[Engine, DemoSummary],
) -> None:
    engine, _ = built
    with Session(engine) as session:
        answers = session.scalars(select(SurveyResponse)).all()
    for answer in answers:
        assert answer.band == surveys.band(answer.kind, answer.score)
        scale = surveys.scale(answer.kind)
        assert (answer.scale_min, answer.scale_max) == (scale.low, scale.high)
    kinds = Counter(a.kind for a in answers)
    assert kinds["nps"] > 0
    assert kinds["csat"] > 0
    commented = [a for a in answers if a.comment]
    assert 0.3 <= len(commented) / len(answers) <= 0.5
    by_language = Counter(a.language for a in commented)
    assert by_language["zh"] > 0
    assert by_language["en"] > 0
    zh = [a.comment for a in commented if a.language == "zh"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c) for c in zh if c)
    # Detractors are the most likely to write, and what they write is not praise.
    bad = [a for a in answers if surveys.is_bad(a.band)]
    good = [a for a in answers if surveys.is_good(a.band)]
    assert sum(bool(a.comment) for a in bad) / len(bad) > sum(bool(a.comment) for a in good) / len(
        good
    )
    assert any(a.answers.get("main_reason") for a in answers if a.kind == "nps")


def test_nps_follows_the_latent_satisfaction(built: tuple[Engine, DemoSummary]) -> None:
    engine, _ = built
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT r.score, t.satisfaction_propensity, c.tier FROM survey_responses r "
                "JOIN demo_customer_traits t ON t.customer_id = r.customer_id "
                "JOIN customers c ON c.id = r.customer_id WHERE r.kind = 'nps'"
            )
        ).all()
    propensity = sorted(r[1] for r in rows)
    median = propensity[len(propensity) // 2]
    happy = [r[0] for r in rows if r[1] >= median]
    unhappy = [r[0] for r in rows if r[1] < median]
    assert _nps(happy) - _nps(unhappy) > 30
    # Key accounts get the most attention: their NPS is above the standard accounts' when both
    # have enough answers to tell.
    key = [r[0] for r in rows if r[2] == "key"]
    standard = [r[0] for r in rows if r[2] == "standard"]
    if len(key) >= 30 and len(standard) >= 30:
        assert _nps(key) > _nps(standard) - 10


def test_every_token_verifies_and_a_link_is_open(built: tuple[Engine, DemoSummary]) -> None:
    engine, summary = built
    settings = get_settings()
    with Session(engine) as session:
        invitations = session.scalars(select(SurveyInvitation)).all()
    assert len({i.token_hash for i in invitations}) == len(invitations)
    for invitation in invitations:
        token = tokens.token_for(invitation.token_nonce, settings)
        assert tokens.looks_like_token(token)
        assert tokens.hash_token(token) == invitation.token_hash
    assert summary.survey_link is not None
    token = summary.survey_link.rsplit("/", 1)[1]
    opened = next(i for i in invitations if i.token_hash == tokens.hash_token(token))
    assert opened.status == InvitationStatus.SENT.value
    assert opened.expires_at is not None
    now = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 10, tzinfo=UTC)
    assert opened.expires_at > now


def test_follow_ups_of_detractors(built: tuple[Engine, DemoSummary]) -> None:
    engine, _ = built
    with Session(engine) as session:
        loops = session.scalars(select(FeedbackLoop)).all()
        bad = session.scalar(
            select(func.count(SurveyResponse.id)).where(
                SurveyResponse.band.in_(["detractor", "negative"])
            )
        )
    assert loops
    assert bad
    closed = [loop for loop in loops if loop.status == LoopStatus.CLOSED.value]
    still_open = [loop for loop in loops if loop.status == LoopStatus.OPEN.value]
    assert closed
    assert still_open
    assert all(loop.outcome and loop.closed_at for loop in closed)
    assert all(loop.closed_at >= loop.opened_at for loop in closed if loop.closed_at)
    within = sum(loop.closed_at <= loop.due_at for loop in closed if loop.closed_at)
    assert 0.5 < within / len(closed) < 1.0
    assert len({loop.dedupe_key for loop in loops}) == len(loops)


def test_dispute_descriptions_carry_a_sentence(built: tuple[Engine, DemoSummary]) -> None:
    engine, _ = built
    with engine.connect() as connection:
        notes = connection.execute(text("SELECT description FROM disputes")).scalars().all()
    assert notes
    assert all(note and note != "示例争议" and len(note) > 8 for note in notes)


def test_replace_rebuilds_the_same_feedback(empty_engine: Engine) -> None:
    first = build_small(empty_engine)
    with Session(empty_engine) as session:
        campaigns = session.scalar(select(func.count(SurveyCampaign.id)))
    again = build_small(empty_engine, replace=True)
    for name in ("survey_invitations", "survey_responses", "survey_opt_outs", "feedback_loops"):
        assert again.counts[name] == first.counts[name]
    with Session(empty_engine) as session:
        assert session.scalar(select(func.count(SurveyCampaign.id))) == campaigns
        assert (
            session.scalar(select(func.count(SurveyInvitation.id)))
            == (first.counts["survey_invitations"])
        )
        assert session.scalar(select(func.count(FeedbackLoop.id))) == first.counts["feedback_loops"]


def test_a_second_build_without_replace_writes_no_feedback(empty_engine: Engine) -> None:
    first = build_small(empty_engine)
    with pytest.raises(Conflict):
        build_small(empty_engine)
    with Session(empty_engine) as session:
        assert (
            session.scalar(select(func.count(SurveyResponse.id)))
            == (first.counts["survey_responses"])
        )


def test_comments_notes_and_disputes_are_analysed(built: tuple[Engine, DemoSummary]) -> None:
    pytest.importorskip("flywheel.feedback.text.sentiment")
    engine, summary = built
    with Session(engine) as session:
        commented = session.execute(
            select(SurveyResponse.id, SurveyResponse.band).where(
                SurveyResponse.comment.is_not(None)
            )
        ).all()
        analyses = {
            a.source_id: a
            for a in session.scalars(select(TextAnalysis).where(TextAnalysis.source == "response"))
        }
        sources = set(session.scalars(select(TextAnalysis.source)))
    assert summary.counts["text_analyses"] >= len(commented)
    assert {row.id for row in commented} <= set(analyses)
    assert sources == {"response", "touchpoint", "dispute"}
    tagged = [a for a in analyses.values() if a.topics]
    assert len(tagged) / len(analyses) > 0.5
    # The model reads the comments the way their scores say, mostly.
    bad = [analyses[r.id].sentiment for r in commented if r.band in ("detractor", "negative")]
    good = [analyses[r.id].sentiment for r in commented if r.band in ("promoter", "positive")]
    assert bad.count("negative") / len(bad) > good.count("negative") / len(good) + 0.3
