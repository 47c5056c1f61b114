"""Delight: the NPS and CSAT answers of the month and the closed loops opened and closed in it.

The definitions are the feedback domain's own. ``feedback.metrics.summary`` counts every answer
by its ``answered_at`` (UTC days): a promoter scored 9–10, a detractor 0–6, a satisfied CSAT
answer 4–5 (``feedback.surveys.SCALES``), CSAT being the share of satisfied answers.
``feedback.loops.kpis`` counts the loops opened by ``opened_at`` and closed by ``closed_at``, a
loop closed within its SLA when ``closed_at <= due_at``, and the time to close in hours from
``opened_at`` to ``closed_at``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from flywheel.feedback.surveys import SCALES
from flywheel.insights.cube import Accounts, Contribution, Month, contribution
from flywheel.insights.sources.grouped import columns, hours_between
from flywheel.models.enums import SurveyKind
from flywheel.models.feedback import FeedbackLoop, SurveyResponse

NPS = SCALES[SurveyKind.NPS]
CSAT = SCALES[SurveyKind.CSAT]


def moments(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in UTC, as the feedback figures count days."""
    return (
        datetime.combine(first, time(), tzinfo=UTC),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC),
    )


def is_nps() -> ColumnElement[bool]:
    return SurveyResponse.kind == SurveyKind.NPS.value


def is_csat() -> ColumnElement[bool]:
    return SurveyResponse.kind == SurveyKind.CSAT.value


def promoter() -> ColumnElement[bool]:
    return and_(is_nps(), SurveyResponse.score >= NPS.good)


def detractor() -> ColumnElement[bool]:
    return and_(is_nps(), SurveyResponse.score <= NPS.bad)


def satisfied() -> ColumnElement[bool]:
    return and_(is_csat(), SurveyResponse.score >= CSAT.good)


def within_sla() -> ColumnElement[bool]:
    return FeedbackLoop.closed_at <= FeedbackLoop.due_at


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def measures(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    begin, finish = moments(month.first, month.last)
    answers = session.execute(
        select(
            SurveyResponse.customer_id,
            _count_if(is_nps()),
            _count_if(promoter()),
            _count_if(detractor()),
            _count_if(is_csat()),
            _count_if(satisfied()),
            func.sum(case((is_csat(), SurveyResponse.score), else_=0)),
        )
        .where(
            SurveyResponse.kind.in_((SurveyKind.NPS.value, SurveyKind.CSAT.value)),
            SurveyResponse.answered_at >= begin,
            SurveyResponse.answered_at < finish,
        )
        .group_by(SurveyResponse.customer_id)
    ).all()
    ids, nps, promoters, detractors, csat, csat_good, csat_sum = columns(answers, 7)
    opened = session.execute(
        select(FeedbackLoop.customer_id, func.count(FeedbackLoop.id))
        .where(FeedbackLoop.opened_at >= begin, FeedbackLoop.opened_at < finish)
        .group_by(FeedbackLoop.customer_id)
    ).all()
    opened_ids, n_opened = columns(opened, 2)
    closed = session.execute(
        select(
            FeedbackLoop.customer_id,
            func.count(FeedbackLoop.id),
            _count_if(within_sla()),
            func.sum(hours_between(FeedbackLoop.opened_at, FeedbackLoop.closed_at)),
        )
        .where(
            FeedbackLoop.closed_at.is_not(None),
            FeedbackLoop.closed_at >= begin,
            FeedbackLoop.closed_at < finish,
        )
        .group_by(FeedbackLoop.customer_id)
    ).all()
    closed_ids, n_closed, in_sla, hours = columns(closed, 4)
    return {
        "nps_responses": contribution(accounts, ids, nps),
        "nps_promoters": contribution(accounts, ids, promoters),
        "nps_detractors": contribution(accounts, ids, detractors),
        "csat_responses": contribution(accounts, ids, csat),
        "csat_satisfied": contribution(accounts, ids, csat_good),
        "csat_sum": contribution(accounts, ids, csat_sum),
        "loops_opened": contribution(accounts, opened_ids, n_opened),
        "loops_closed": contribution(accounts, closed_ids, n_closed),
        "loops_closed_in_sla": contribution(accounts, closed_ids, in_sla),
        "loop_close_hours": contribution(accounts, closed_ids, hours),
    }
