"""Rows the health score reads, straight into their tables: survey answers, touchpoints,
follow-ups, disputes and credit scores; and CLV scores built by hand for a frame."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from flywheel.loyalty.frame import LoyaltyFrame
from flywheel.loyalty.lifetime import ClvScores
from flywheel.models.collections import Dispute
from flywheel.models.credit import CreditScore
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import DisputeReason, DisputeStatus, LoopReason, LoopStatus, SurveyKind
from flywheel.models.feedback import FeedbackLoop, Survey, SurveyResponse
from tests.factories import make_invoice

_seq = itertools.count(1)
_SCALES = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5), SurveyKind.CES: (1, 7)}


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def make_survey(session: Session, kind: SurveyKind) -> Survey:
    survey = Survey(
        code=f"hs-{kind.value}-{next(_seq)}",
        kind=kind.value,
        name_zh="调查",
        name_en="Survey",
        question_zh="问题",
        question_en="Question",
    )
    session.add(survey)
    session.flush()
    return survey


def make_answer(
    session: Session,
    *,
    customer: Customer,
    kind: SurveyKind,
    score: int,
    on: date,
    contact: Contact | None = None,
    role: str | None = None,
) -> SurveyResponse:
    low, high = _SCALES[kind]
    response = SurveyResponse(
        survey_id=make_survey(session, kind).id,
        customer_id=customer.id,
        contact_id=contact.id if contact else None,
        kind=kind.value,
        score=score,
        scale_min=low,
        scale_max=high,
        band="passive",
        language="en",
        buying_role=role,
        answered_at=noon(on),
    )
    session.add(response)
    session.flush()
    return response


def make_stakeholder(session: Session, *, customer: Customer, name: str, role: str) -> Contact:
    contact = Contact(customer_id=customer.id, name=name, buying_role=role)
    session.add(contact)
    session.flush()
    return contact


def make_touchpoint(
    session: Session, *, customer: Customer, kind: str, on: date, satisfaction: int | None = None
) -> Touchpoint:
    touchpoint = Touchpoint(
        reference=f"hs-tp-{next(_seq)}",
        customer_id=customer.id,
        kind=kind,
        occurred_at=noon(on),
        satisfaction=satisfaction,
    )
    session.add(touchpoint)
    session.flush()
    return touchpoint


def make_loop(
    session: Session, *, customer: Customer, opened: date, closed: date | None = None
) -> FeedbackLoop:
    loop = FeedbackLoop(
        customer_id=customer.id,
        dedupe_key=f"hs-loop-{next(_seq)}",
        reason=LoopReason.DETRACTOR.value,
        status=(LoopStatus.CLOSED if closed else LoopStatus.OPEN).value,
        opened_at=noon(opened),
        due_at=noon(opened + timedelta(days=2)),
        closed_at=noon(closed) if closed else None,
    )
    session.add(loop)
    session.flush()
    return loop


def make_dispute(
    session: Session, *, customer: Customer, opened: date, resolved: date | None = None
) -> Dispute:
    invoice = make_invoice(session, customer=customer, issued=opened - timedelta(days=30))
    dispute = Dispute(
        customer_id=customer.id,
        invoice_id=invoice.id,
        reason=DisputeReason.PRICE.value,
        amount=Decimal("100.00"),
        currency=customer.currency,
        status=(DisputeStatus.RESOLVED if resolved else DisputeStatus.OPEN).value,
        opened_on=opened,
        sla_due_on=opened + timedelta(days=14),
        resolved_on=resolved,
    )
    session.add(dispute)
    session.flush()
    return dispute


def make_credit_score(
    session: Session,
    *,
    customer: Customer,
    as_of: date,
    grade: str = "B",
    days_beyond_terms: float | None = 6.0,
) -> CreditScore:
    score = CreditScore(
        customer_id=customer.id,
        as_of=as_of,
        score=660,
        grade=grade,
        model="expert",
        factors=[["late_share", 0.1, 30], ["days_beyond_terms", days_beyond_terms, 40]],
    )
    session.add(score)
    session.flush()
    return score


def clv_for(frame: LoyaltyFrame, **by_customer: dict[int, float]) -> ClvScores:
    """CLV scores of a frame: NaN everywhere but the given ``{field: {customer id: value}}``."""
    n = len(frame)
    arrays: dict[str, Any] = {}
    for name in (
        "frequency",
        "recency",
        "age",
        "p_alive",
        "expected_90",
        "expected_365",
        "expected_order_value",
        "clv",
        "expected_rate",
    ):
        values = np.full(n, np.nan)
        for customer_id, value in by_customer.get(name, {}).items():
            values[int(frame.rows_of(np.asarray([customer_id]))[0])] = value
        arrays[name] = values
    return ClvScores(**arrays)
