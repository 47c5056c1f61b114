"""Test data for the closed loop: a sales rep's and a rival's accounts, a manager with an
e-mail, answers and text analyses written as the survey page and the analysis would leave them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.feedback import surveys
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Sentiment, SurveyKind, TextSource
from flywheel.models.feedback import Survey, SurveyResponse, TextAnalysis
from flywheel.models.users import User
from tests.factories import make_customer, make_user

SETTINGS = Settings(
    secret_key="flywheel-tests-only-session-key",
    public_url="http://flywheel.test",
    feedback_loop_sla_hours=48,
)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_seq = itertools.count(1)


@dataclass
class LoopWorld:
    rep: User
    rival: User
    manager: User
    viewer: User
    own: Customer  # the rep's account
    other: Customer  # the rival's


def build(session: Session) -> LoopWorld:
    n = next(_seq)
    rep = make_user(session, username=f"loop-rep-{n}", role=Role.SALES)
    rival = make_user(session, username=f"loop-rival-{n}", role=Role.SALES)
    manager = make_user(session, username=f"loop-manager-{n}", role=Role.MANAGER)
    manager.email = f"manager{n}@flywheel.test"
    manager.language = "en"
    viewer = make_user(session, username=f"loop-viewer-{n}", role=Role.VIEWER)
    own = make_customer(session, name="北风精密 Northwind", owner=rep)
    other = make_customer(session, name="南山机械 Nanshan", owner=rival)
    session.flush()
    return LoopWorld(rep, rival, manager, viewer, own, other)


def survey_of(session: Session, kind: SurveyKind) -> Survey:
    surveys.ensure_defaults(session)
    code = {
        SurveyKind.NPS: "nps-relationship",
        SurveyKind.CSAT: "csat-delivery",
        SurveyKind.CES: "ces-service",
    }[kind]
    survey = session.scalar(select(Survey).where(Survey.code == code))
    assert survey is not None
    return survey


def answer(
    session: Session,
    customer: Customer,
    *,
    kind: SurveyKind = SurveyKind.NPS,
    score: int,
    comment: str | None = None,
    at: datetime = NOW,
    answers: dict[str, Any] | None = None,
) -> SurveyResponse:
    survey = survey_of(session, kind)
    scale = surveys.scale(kind)
    response = SurveyResponse(
        survey_id=survey.id,
        customer_id=customer.id,
        kind=kind.value,
        score=score,
        scale_min=scale.low,
        scale_max=scale.high,
        band=surveys.band(kind, score).value,
        answers=answers or {},
        comment=comment,
        language="zh",
        answered_at=at,
    )
    session.add(response)
    session.flush()
    return response


def analysis_of(
    session: Session,
    *,
    customer: Customer,
    source: TextSource,
    source_id: int,
    sentiment: Sentiment,
    urgency: list[str] | None = None,
    at: datetime = NOW,
    topics: dict[str, list[list[int]]] | None = None,
) -> TextAnalysis:
    row = TextAnalysis(
        source=source.value,
        source_id=source_id,
        customer_id=customer.id,
        language="zh",
        sentiment=sentiment.value,
        sentiment_score={"negative": -0.8, "neutral": 0.0, "positive": 0.8}[sentiment.value],
        topics=list(topics or {}),
        topic_spans=topics or {},
        urgency=urgency or [],
        model_version="test",
        occurred_at=at,
        analysed_at=at,
    )
    session.add(row)
    session.flush()
    return row


def world_loop(session: Session, customer_code: str) -> int:
    """An open follow-up on a detractor's answer of the account ``customer_code``, for the
    shared API world (``tests/web/api_support.py``): the permission matrix and the schema
    checks name it as ``{loop}``."""
    customer = session.scalar(select(Customer).where(Customer.code == customer_code))
    assert customer is not None
    from flywheel.feedback import loops

    response = answer(session, customer, score=3, comment=f"{customer_code}：交货晚了一周")
    loop = loops.open_for_response(session, response, None, SETTINGS, now=NOW)
    assert loop is not None
    return loop.id
