"""JSON routes of the closed loop and the topic taxonomy: follow-ups (list, one, log the
call-back, reassign, KPIs), topics (list, add, change) and suggested new topics. Reads are
scoped to the caller's accounts; loop changes need WORK_FEEDBACK, topic changes
MANAGE_SURVEYS."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import ValidationFailed
from flywheel.feedback import analysis, loops
from flywheel.feedback.loop_shapes import (
    AssignIn,
    CallbackIn,
    LoopDetailOut,
    LoopKpis,
    LoopPage,
    SuggestionList,
    SuggestionOut,
    TopicIn,
    TopicList,
    TopicOut,
    TopicPatch,
    loop_detail,
    loop_outs,
)
from flywheel.models.base import utcnow
from flywheel.models.customers import Customer
from flywheel.models.enums import LoopReason, LoopStatus
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(responses=ERROR_RESPONSES, tags=["feedback"])

WorkFeedback = Annotated[Actor, Depends(require(Permission.WORK_FEEDBACK))]
ManageSurveys = Annotated[Actor, Depends(require(Permission.MANAGE_SURVEYS))]
TopicCode = Annotated[str, Path(max_length=40, description="The topic's code.")]
KPI_DAYS = 30


class StatusChoice(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


def _user_id(session: Session, username: str, *, field: str) -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise ValidationFailed(f"{field}: there is no user {username!r}", field=field)
    return int(found)


@router.get("/feedback/loops", response_model=LoopPage, summary="Follow-ups on feedback")
def list_loops(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: Annotated[StatusChoice, Query(description="open (default), closed or all.")] = (
        StatusChoice.OPEN
    ),
    reason: Annotated[LoopReason | None, Query(description="Only this reason.")] = None,
    overdue: Annotated[bool, Query(description="Only open ones past their due time.")] = False,
    owner: Annotated[
        str | None,
        Query(max_length=64, description='A username; "me": mine; "none": nobody\'s.'),
    ] = None,
    customer: Annotated[str | None, Query(max_length=64, description="The account's code.")] = None,
) -> LoopPage:
    """Soonest due first (closed: latest closed first), in the caller's scope."""
    owner_id: int | None = None
    if owner == "me":
        owner_id = actor.user_id or 0
    elif owner not in (None, "", "none"):
        owner_id = _user_id(session, owner, field="owner")
    filters = loops.LoopFilter(
        status=None if status is StatusChoice.ALL else LoopStatus(status.value),
        reason=reason,
        overdue=overdue,
        owner_id=owner_id,
        unassigned=owner == "none",
    )
    now = utcnow()
    stmt = loops.loops_query(actor, filters, now=now)
    if customer:
        stmt = stmt.where(Customer.code == customer)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [
        (row[0], row[1]) for row in session.execute(stmt.limit(paging.limit).offset(paging.offset))
    ]
    return LoopPage(
        items=loop_outs(session, rows, now=now),
        total=int(total),
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get(
    "/feedback/loops/kpis", response_model=LoopKpis, summary="Closed-loop KPIs over a period"
)
def loop_kpis(
    session: SessionDep,
    actor: CurrentActor,
    start: Annotated[date | None, Query(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Query(description="Last day, included (default: today).")] = None,
) -> LoopKpis:
    """Loops opened and closed in the period, closed within the SLA (closed_at <= due_at) and
    its rate, median and mean hours to close; and the loops open and overdue now."""
    last = end or today()
    first = start or last - timedelta(days=KPI_DAYS - 1)
    if first > last:
        raise ValidationFailed("start: the period starts after it ends", field="start")
    figures = loops.kpis(session, actor, first, last)
    return LoopKpis(start=first.isoformat(), end=last.isoformat(), **figures)


@router.get("/feedback/loops/{loop_id}", response_model=LoopDetailOut, summary="One follow-up")
def get_loop(loop_id: Id, session: SessionDep, actor: CurrentActor) -> LoopDetailOut:
    """With the answer (score, band, answers) and the analysis of the text that opened it."""
    loop = loops.get_loop_for(session, loop_id, actor=actor)
    return loop_detail(session, loop, now=utcnow())


@router.post(
    "/feedback/loops/{loop_id}/callback",
    response_model=LoopDetailOut,
    summary="Log the call-back and its outcome (closes the follow-up)",
)
def log_callback(
    loop_id: Id, body: CallbackIn, session: SessionDep, actor: WorkFeedback
) -> LoopDetailOut:
    loop = loops.get_loop_for(session, loop_id, actor=actor)
    now = utcnow()
    if body.at is not None and body.at > now:
        raise ValidationFailed("at: the call-back cannot be in the future", field="at")
    loops.log_callback(
        session, loop, actor, note=body.note, outcome=body.outcome, at=body.at or now
    )
    return loop_detail(session, loop, now=now)


@router.post(
    "/feedback/loops/{loop_id}/assign",
    response_model=LoopDetailOut,
    summary="Give the follow-up to another user",
)
def assign_loop(
    loop_id: Id, body: AssignIn, session: SessionDep, actor: WorkFeedback
) -> LoopDetailOut:
    loop = loops.get_loop_for(session, loop_id, actor=actor)
    owner_id = _user_id(session, body.owner, field="owner") if body.owner else None
    loops.reassign(session, loop, actor, owner_id)
    return loop_detail(session, loop, now=utcnow())


# ---------------------------------------------------------------- topics


@router.get("/feedback/topics", response_model=TopicList, summary="The topic taxonomy")
def list_topics(session: SessionDep, actor: CurrentActor) -> TopicList:
    """Active topics first, then the deactivated ones, by code."""
    return TopicList(items=[TopicOut.of(t) for t in analysis.list_topics(session)])


@router.post("/feedback/topics", response_model=TopicOut, status_code=201, summary="Add a topic")
def create_topic(body: TopicIn, session: SessionDep, actor: ManageSurveys) -> TopicOut:
    return TopicOut.of(analysis.save_topic(session, actor, body.model_dump()))


@router.get(
    "/feedback/topics/suggestions",
    response_model=SuggestionList,
    summary="Suggested new topics: clusters of untagged negative texts",
)
def topic_suggestions(session: SessionDep, actor: CurrentActor) -> SuggestionList:
    """Of the caller's accounts' latest negative texts that no topic tagged."""
    texts, found = analysis.suggestions(session, actor)
    return SuggestionList(
        texts=texts,
        items=[
            SuggestionOut(terms=s.terms, size=s.size, examples=s.examples, code=s.code)
            for s in found
        ],
    )


@router.patch("/feedback/topics/{code}", response_model=TopicOut, summary="Change a topic")
def change_topic(
    code: TopicCode, body: TopicPatch, session: SessionDep, actor: ManageSurveys
) -> TopicOut:
    """Names, keywords, or ``active``: false stops tagging new texts with it."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    topic = analysis.save_topic(session, actor, {**changes, "code": code}, code=code)
    return TopicOut.of(topic)
