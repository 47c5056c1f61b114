"""The answers about follow-ups and topics, for the API and the CLI: a loop with its account,
owner and the feedback that opened it; a topic; a suggested topic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.models.customers import Customer
from flywheel.models.enums import LoopOutcome, LoopStatus
from flywheel.models.feedback import FeedbackLoop, FeedbackTopic, SurveyResponse, TextAnalysis
from flywheel.models.users import User


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {int(i): name for i, name in rows}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class LoopOut(BaseModel):
    id: int
    customer: str = Field(description="The account's code.")
    customer_name: str
    reason: str = Field(description="detractor, low_score, negative_comment or urgent.")
    urgency: list[str]
    summary: str | None = Field(description="The verbatim that opened it.")
    owner: str | None = Field(description="The owner's username.")
    status: str
    opened_at: datetime
    due_at: datetime
    overdue: bool = Field(description="Open and past its due time.")
    escalated_at: datetime | None
    escalated_to: str | None
    callback_at: datetime | None
    callback_note: str | None
    outcome: str | None
    closed_at: datetime | None
    closed_by: str | None
    closed_within_sla: bool | None
    response_id: int | None
    analysis_id: int | None

    @classmethod
    def of(
        cls, loop: FeedbackLoop, customer: Customer, users: dict[int, str], *, now: datetime
    ) -> LoopOut:
        due = _utc(loop.due_at)
        closed = _utc(loop.closed_at)
        assert due is not None
        return cls(
            id=loop.id,
            customer=customer.code,
            customer_name=customer.name,
            reason=loop.reason,
            urgency=list(loop.urgency or []),
            summary=loop.summary,
            owner=users.get(loop.owner_id) if loop.owner_id else None,
            status=loop.status,
            opened_at=_utc(loop.opened_at) or due,
            due_at=due,
            overdue=loop.status == LoopStatus.OPEN and due < now,
            escalated_at=_utc(loop.escalated_at),
            escalated_to=users.get(loop.escalated_to_id) if loop.escalated_to_id else None,
            callback_at=_utc(loop.callback_at),
            callback_note=loop.callback_note,
            outcome=loop.outcome,
            closed_at=closed,
            closed_by=users.get(loop.closed_by_id) if loop.closed_by_id else None,
            closed_within_sla=(closed <= due) if closed is not None else None,
            response_id=loop.response_id,
            analysis_id=loop.analysis_id,
        )


class ResponseOut(BaseModel):
    id: int
    kind: str
    score: int
    scale_min: int
    scale_max: int
    band: str
    answers: dict[str, Any]
    comment: str | None
    language: str
    touchpoint_kind: str | None
    answered_at: datetime

    @classmethod
    def of(cls, response: SurveyResponse) -> ResponseOut:
        return cls(
            id=response.id,
            kind=response.kind,
            score=response.score,
            scale_min=response.scale_min,
            scale_max=response.scale_max,
            band=response.band,
            answers=dict(response.answers or {}),
            comment=response.comment,
            language=response.language,
            touchpoint_kind=response.touchpoint_kind,
            answered_at=_utc(response.answered_at) or response.answered_at,
        )


class AnalysisOut(BaseModel):
    id: int
    source: str = Field(description="response, touchpoint or dispute.")
    source_id: int
    language: str
    sentiment: str
    sentiment_score: float = Field(description="-1 (negative) … 1 (positive).")
    topics: list[str]
    topic_spans: dict[str, list[list[int]]] = Field(
        description="Per topic, [start, end) character offsets of its words in the text."
    )
    urgency: list[str]
    model_version: str
    occurred_at: datetime
    analysed_at: datetime

    @classmethod
    def of(cls, analysis: TextAnalysis) -> AnalysisOut:
        return cls(
            id=analysis.id,
            source=analysis.source,
            source_id=analysis.source_id,
            language=analysis.language,
            sentiment=analysis.sentiment,
            sentiment_score=analysis.sentiment_score,
            topics=list(analysis.topics or []),
            topic_spans={k: [list(s) for s in v] for k, v in (analysis.topic_spans or {}).items()},
            urgency=list(analysis.urgency or []),
            model_version=analysis.model_version,
            occurred_at=_utc(analysis.occurred_at) or analysis.occurred_at,
            analysed_at=_utc(analysis.analysed_at) or analysis.analysed_at,
        )


class LoopDetailOut(LoopOut):
    response: ResponseOut | None
    analysis: AnalysisOut | None


class LoopPage(BaseModel):
    items: list[LoopOut]
    total: int
    page: int
    page_size: int


class LoopKpis(BaseModel):
    start: str
    end: str
    opened: int
    closed: int
    closed_within_sla: int
    closed_within_sla_rate: float | None = Field(description="Share of the closed, 0 … 1.")
    median_hours_to_close: float | None
    mean_hours_to_close: float | None
    open_overdue: int


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000, description="What the customer said.")
    outcome: LoopOutcome
    at: datetime | None = Field(default=None, description="When the call was (default: now).")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(max_length=64, description="A username; null: nobody.")


class TopicOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    keywords_zh: list[str]
    keywords_en: list[str]
    active: bool
    updated_at: datetime

    @classmethod
    def of(cls, topic: FeedbackTopic) -> TopicOut:
        return cls(
            code=topic.code,
            name_zh=topic.name_zh,
            name_en=topic.name_en,
            keywords_zh=list(topic.keywords_zh or []),
            keywords_en=list(topic.keywords_en or []),
            active=topic.active,
            updated_at=_utc(topic.updated_at) or topic.updated_at,
        )


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40, description="Lowercase letters, digits and _.")
    name_zh: str = Field(max_length=80)
    name_en: str = Field(max_length=80)
    keywords_zh: list[str] = Field(default_factory=list, max_length=200)
    keywords_en: list[str] = Field(default_factory=list, max_length=200)
    active: bool = True


class TopicPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = Field(default=None, max_length=80)
    name_en: str | None = Field(default=None, max_length=80)
    keywords_zh: list[str] | None = Field(default=None, max_length=200)
    keywords_en: list[str] | None = Field(default=None, max_length=200)
    active: bool | None = None


class TopicList(BaseModel):
    items: list[TopicOut]


class SuggestionOut(BaseModel):
    terms: list[str] = Field(description="The words that make the cluster, most telling first.")
    size: int = Field(description="How many untagged negative texts are in it.")
    examples: list[str]
    code: str = Field(description="A code to start from when creating the topic.")


class SuggestionList(BaseModel):
    texts: int = Field(description="Untagged negative texts that were clustered.")
    items: list[SuggestionOut]


def loop_outs(
    session: Session, rows: Sequence[tuple[FeedbackLoop, Customer]], *, now: datetime
) -> list[LoopOut]:
    users = usernames(
        session,
        [x for loop, _c in rows for x in (loop.owner_id, loop.escalated_to_id, loop.closed_by_id)],
    )
    return [LoopOut.of(loop, customer, users, now=now) for loop, customer in rows]


def loop_detail(session: Session, loop: FeedbackLoop, *, now: datetime) -> LoopDetailOut:
    customer = session.get(Customer, loop.customer_id)
    assert customer is not None
    [base] = loop_outs(session, [(loop, customer)], now=now)
    response = session.get(SurveyResponse, loop.response_id) if loop.response_id else None
    analysis = session.get(TextAnalysis, loop.analysis_id) if loop.analysis_id else None
    if analysis is None and response is not None:
        analysis = session.scalar(
            select(TextAnalysis).where(
                TextAnalysis.source == "response", TextAnalysis.source_id == response.id
            )
        )
    return LoopDetailOut(
        **base.model_dump(),
        response=ResponseOut.of(response) if response else None,
        analysis=AnalysisOut.of(analysis) if analysis else None,
    )
