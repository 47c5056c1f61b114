"""Feedback: surveys and their campaigns, invitations with their token links, answers, the text
analysis of every free text, the editable topic taxonomy, opt-outs and the closed-loop
follow-ups a detractor or a complaint opens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, BigId, IdPk, utcnow


class Survey(Base):
    """A questionnaire: one scored question (NPS 0–10, CSAT 1–5 or CES 1–7) in zh-CN and en,
    then optional follow-ups (``questions``: ``[{"key", "kind": "text"|"choice", "text_zh",
    "text_en", "choices": [{"value", "zh", "en"}], "required"}]``)."""

    __tablename__ = "surveys"

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # enums.SurveyKind
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    question_zh: Mapped[str] = mapped_column(Text)
    question_en: Mapped[str] = mapped_column(Text)
    comment_zh: Mapped[str | None] = mapped_column(Text)  # the free-text prompt after the score
    comment_en: Mapped[str | None] = mapped_column(Text)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SurveyCampaign(Base):
    """Who gets a survey and when: after an event (``trigger``, ``delay_days`` later) or on a
    schedule (``trigger`` = "schedule", every ``every_months`` months from ``next_run_on``)."""

    __tablename__ = "survey_campaigns"
    __table_args__ = (
        CheckConstraint("sample_rate > 0 AND sample_rate <= 1", name="sample_rate_0_1"),
        CheckConstraint("delay_days >= 0", name="delay_not_negative"),
    )

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(24))  # enums.CampaignTrigger
    touchpoint_kind: Mapped[str | None] = mapped_column(String(16))  # for the touchpoint trigger
    delay_days: Mapped[int] = mapped_column(Integer, default=0)
    every_months: Mapped[int | None] = mapped_column(Integer)  # for the schedule trigger
    next_run_on: Mapped[date | None] = mapped_column(Date)
    # Audience: empty lists mean everyone. Tiers of the account, buying roles of the contact.
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    buying_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    sample_rate: Mapped[float] = mapped_column(Float, default=1.0)
    reminder_after_days: Mapped[int | None] = mapped_column(Integer, default=5)
    expires_after_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SurveyInvitation(Base):
    """One contact asked one survey once. The link carries a random token; the table keeps only
    its SHA-256 (``token_hash``) and a ``token_nonce`` from which the server, with its secret
    key, derives the same token again for the reminder."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        Index("ix_survey_invitations_status_send", "status", "send_on"),
        Index("ix_survey_invitations_contact_sent", "contact_id", "sent_at"),
    )

    id: Mapped[IdPk]
    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("survey_campaigns.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id"))
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    # "<campaign>:<event ref>:<contact>": the same event never invites the same contact twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    event_ref: Mapped[str | None] = mapped_column(String(80))  # "order:12", "schedule:2026-10-01"
    touchpoint_kind: Mapped[str | None] = mapped_column(String(16))  # the journey stage asked about
    language: Mapped[str] = mapped_column(String(5))
    token_nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # enums.InvitationStatus
    skip_reason: Mapped[str | None] = mapped_column(String(24))  # enums.SkipReason
    send_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """An answer: the raw score on the survey's own scale, its band, the follow-up answers and
    the comment. One per invitation; it may be edited within the edit window."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_customer_answered", "customer_id", "answered_at"),
        Index("ix_survey_responses_kind_answered", "kind", "answered_at"),
    )

    id: Mapped[IdPk]
    invitation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("survey_invitations.id", ondelete="CASCADE"), unique=True
    )
    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id"))
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("survey_campaigns.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # enums.SurveyKind
    score: Mapped[int] = mapped_column(SmallInteger)  # on the raw scale
    scale_min: Mapped[int] = mapped_column(SmallInteger)
    scale_max: Mapped[int] = mapped_column(SmallInteger)
    band: Mapped[str] = mapped_column(String(12))  # enums.ScoreBand
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    touchpoint_kind: Mapped[str | None] = mapped_column(String(16))
    buying_role: Mapped[str | None] = mapped_column(String(20))  # the contact's, when answered
    answered_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # A promoter's thank-you (with the referral ask when the rules allow it) was queued.
    thanked_at: Mapped[datetime | None] = mapped_column()
    referral_asked: Mapped[bool] = mapped_column(Boolean, default=False)


class TextAnalysis(Base):
    """Sentiment, topics and urgency of one free text: a survey comment, a touchpoint note or a
    dispute description (``source`` + ``source_id``)."""

    __tablename__ = "text_analyses"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_text_analyses_source"),
        # A customer's earlier complaints (urgency: repeated) are found through this index.
        Index("ix_text_analyses_customer_occurred", "customer_id", "occurred_at"),
        Index("ix_text_analyses_sentiment", "sentiment"),
    )

    id: Mapped[IdPk]
    source: Mapped[str] = mapped_column(String(12))  # enums.TextSource
    source_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(5))
    sentiment: Mapped[str] = mapped_column(String(8))  # enums.Sentiment
    sentiment_score: Mapped[float] = mapped_column(Float)  # −1 … 1
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)  # topic codes
    # {code: [[start, end], ...]}: where each topic's words are, to highlight them
    topic_spans: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    urgency: Mapped[list[str]] = mapped_column(JSON, default=list)  # enums.UrgencyFlag codes
    model_version: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column()  # when the text was written
    analysed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackTopic(Base):
    """One topic of the taxonomy: its names and the keywords that tag a text with it."""

    __tablename__ = "feedback_topics"

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    keywords_zh: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords_en: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SurveyOptOut(Base):
    """A contact who asked never to be surveyed again."""

    __tablename__ = "survey_opt_outs"

    id: Mapped[IdPk]
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # "survey_page", "user", "import"
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackLoop(Base):
    """The closed loop on one piece of feedback: a detractor, a negative comment or an urgent
    flag opens it for the account owner with an SLA; past it, it escalates to the manager; the
    owner logs the call-back and the outcome, which closes it."""

    __tablename__ = "feedback_loops"
    __table_args__ = (
        Index("ix_feedback_loops_status_due", "status", "due_at"),
        Index("ix_feedback_loops_owner_status", "owner_id", "status"),
        # One account's open loops by due time (the 360's feedback panel).
        Index("ix_feedback_loops_customer_status_due", "customer_id", "status", "due_at"),
    )

    id: Mapped[IdPk]
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # "response:<id>" or "text:<analysis id>": one loop per piece of feedback.
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    response_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    analysis_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("text_analyses.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(16))  # enums.LoopReason
    urgency: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)  # the verbatim that opened it
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12))  # enums.LoopStatus
    opened_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    escalated_to_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    callback_at: Mapped[datetime | None] = mapped_column()
    callback_note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # enums.LoopOutcome
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
