"""The closed loop: which feedback opens a follow-up, for whom and by when; escalation past the
SLA, exactly once; the call-back that closes it; the KPIs; and a sales rep kept to his own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flywheel.feedback import loops
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import OutboxMessage
from flywheel.models.customers import Touchpoint
from flywheel.models.enums import (
    LoopOutcome,
    LoopReason,
    LoopStatus,
    Sentiment,
    SurveyKind,
    TextSource,
)
from flywheel.models.feedback import FeedbackLoop
from tests.feedback.loop_support import NOW, SETTINGS, LoopWorld, analysis_of, answer, build

SLA = timedelta(hours=48)


@pytest.fixture
def world(session: Session) -> LoopWorld:
    return build(session)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _audits(session: Session, action: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )
        or 0
    )


# ---------------------------------------------------------------- opening


def test_a_detractor_opens_a_follow_up_for_the_account_owner_due_after_the_sla(
    session: Session, world: LoopWorld
) -> None:
    response = answer(session, world.own, score=3, comment="交货总是晚，客服也不回电话")

    loop = loops.open_for_response(session, response, None, SETTINGS, now=NOW)

    assert loop is not None
    assert loop.reason == LoopReason.DETRACTOR
    assert loop.owner_id == world.rep.id
    assert loop.status == LoopStatus.OPEN
    assert loop.opened_at == NOW
    assert loop.due_at == NOW + SLA
    assert loop.summary == "交货总是晚，客服也不回电话"
    assert loop.dedupe_key == f"response:{response.id}"
    assert _audits(session, "feedback_loop.opened") == 1


def test_a_promoter_opens_nothing(session: Session, world: LoopWorld) -> None:
    response = answer(session, world.own, score=10, comment="非常满意，交货准时")
    analysed = analysis_of(
        session,
        customer=world.own,
        source=TextSource.RESPONSE,
        source_id=response.id,
        sentiment=Sentiment.POSITIVE,
    )

    assert loops.open_for_response(session, response, analysed, SETTINGS, now=NOW) is None
    assert _count(session, FeedbackLoop) == 0


def test_a_negative_comment_on_a_passive_opens_one(session: Session, world: LoopWorld) -> None:
    response = answer(session, world.own, score=8, comment="产品还行，但包装破损了两次")
    analysed = analysis_of(
        session,
        customer=world.own,
        source=TextSource.RESPONSE,
        source_id=response.id,
        sentiment=Sentiment.NEGATIVE,
    )

    loop = loops.open_for_response(session, response, analysed, SETTINGS, now=NOW)

    assert loop is not None
    assert loop.reason == LoopReason.NEGATIVE_COMMENT
    assert loop.analysis_id == analysed.id
    assert loop.urgency == []


def test_a_low_csat_opens_a_low_score_follow_up(session: Session, world: LoopWorld) -> None:
    response = answer(session, world.own, kind=SurveyKind.CSAT, score=2)

    loop = loops.open_for_response(session, response, None, SETTINGS, now=NOW)

    assert loop is not None
    assert loop.reason == LoopReason.LOW_SCORE
    assert loop.summary is None


def test_an_urgent_comment_opens_one_even_from_a_promoter(
    session: Session, world: LoopWorld
) -> None:
    response = answer(session, world.own, score=9, comment="再这样下去我们就换供应商")
    analysed = analysis_of(
        session,
        customer=world.own,
        source=TextSource.RESPONSE,
        source_id=response.id,
        sentiment=Sentiment.NEUTRAL,
        urgency=["churn_threat"],
    )

    loop = loops.open_for_response(session, response, analysed, SETTINGS, now=NOW)

    assert loop is not None
    assert loop.reason == LoopReason.URGENT
    assert loop.urgency == ["churn_threat"]


def test_opening_again_is_idempotent(session: Session, world: LoopWorld) -> None:
    response = answer(session, world.own, score=2, comment="很差")
    first = loops.open_for_response(session, response, None, SETTINGS, now=NOW)

    again = loops.open_for_response(session, response, None, SETTINGS, now=NOW + timedelta(hours=5))

    assert again is not None
    assert first is not None
    assert again.id == first.id
    assert again.due_at == NOW + SLA
    assert _count(session, FeedbackLoop) == 1
    assert _audits(session, "feedback_loop.opened") == 1


def test_an_urgent_negative_touchpoint_note_opens_one_a_plain_negative_does_not(
    session: Session, world: LoopWorld
) -> None:
    note = Touchpoint(
        reference="TP-LOOP-1",
        customer_id=world.own.id,
        kind="call",
        occurred_at=NOW,
        summary="客户说再出质量问题就要走法律程序",
    )
    plain = Touchpoint(
        reference="TP-LOOP-2",
        customer_id=world.own.id,
        kind="call",
        occurred_at=NOW,
        summary="客户抱怨价格偏高",
    )
    session.add_all([note, plain])
    session.flush()
    urgent = analysis_of(
        session,
        customer=world.own,
        source=TextSource.TOUCHPOINT,
        source_id=note.id,
        sentiment=Sentiment.NEGATIVE,
        urgency=["legal"],
    )
    grumble = analysis_of(
        session,
        customer=world.own,
        source=TextSource.TOUCHPOINT,
        source_id=plain.id,
        sentiment=Sentiment.NEGATIVE,
    )

    loop = loops.open_for_analysis(session, urgent, SETTINGS, now=NOW)

    assert loop is not None
    assert loop.reason == LoopReason.URGENT
    assert loop.dedupe_key == f"text:{urgent.id}"
    assert loop.summary == "客户说再出质量问题就要走法律程序"
    assert loop.owner_id == world.rep.id
    assert loops.open_for_analysis(session, grumble, SETTINGS, now=NOW) is None
    assert loops.open_for_analysis(session, urgent, SETTINGS, now=NOW) is loop
    assert _count(session, FeedbackLoop) == 1


# ---------------------------------------------------------------- escalating


def test_an_overdue_follow_up_escalates_to_a_manager_exactly_once(
    session: Session, world: LoopWorld
) -> None:
    response = answer(session, world.own, score=1, comment="非常失望")
    loop = loops.open_for_response(session, response, None, SETTINGS, now=NOW)
    assert loop is not None

    assert loops.escalate_overdue(session, NOW + SLA - timedelta(minutes=1), SETTINGS) == 0
    late = NOW + SLA + timedelta(hours=1)
    assert loops.escalate_overdue(session, late, SETTINGS) == 1
    assert loops.escalate_overdue(session, late + timedelta(days=1), SETTINGS) == 0

    assert loop.escalated_at == late
    assert loop.escalated_to_id == world.manager.id
    assert loop.status == LoopStatus.OPEN
    [message] = session.scalars(select(OutboxMessage)).all()
    assert message.dedupe_key == f"loop-escalate:{loop.id}"
    assert message.recipient == world.manager.email
    assert message.customer_id == world.own.id
    assert "Overdue follow-up" in (message.subject or "")
    assert f"http://flywheel.test/feedback/loops/{loop.id}" in message.body
    assert _audits(session, "feedback_loop.escalated") == 1


def test_a_closed_follow_up_never_escalates(session: Session, world: LoopWorld) -> None:
    response = answer(session, world.own, score=1, comment="非常失望")
    loop = loops.open_for_response(session, response, None, SETTINGS, now=NOW)
    assert loop is not None
    loops.log_callback(
        session,
        loop,
        Actor.for_user(world.rep),
        note="已致电道歉",
        outcome=LoopOutcome.RESOLVED,
        at=NOW + timedelta(hours=2),
    )

    assert loops.escalate_overdue(session, NOW + timedelta(days=10), SETTINGS) == 0
    assert _count(session, OutboxMessage) == 0


# ---------------------------------------------------------------- the call-back and the KPIs


def test_the_call_back_closes_it_and_the_kpis_count_it_within_the_sla(
    session: Session, world: LoopWorld
) -> None:
    rep = Actor.for_user(world.rep)
    quick = loops.open_for_response(
        session, answer(session, world.own, score=2, comment="差"), None, SETTINGS, now=NOW
    )
    slow = loops.open_for_response(
        session, answer(session, world.own, score=4, comment="慢"), None, SETTINGS, now=NOW
    )
    still_open = loops.open_for_response(
        session, answer(session, world.own, score=5, comment="一般"), None, SETTINGS, now=NOW
    )
    assert quick is not None
    assert slow is not None
    assert still_open is not None

    loops.log_callback(
        session,
        quick,
        rep,
        note="客户接受了补发方案",
        outcome=LoopOutcome.RESOLVED,
        at=NOW + timedelta(hours=6),
    )
    loops.log_callback(
        session,
        slow,
        rep,
        note="联系不上",
        outcome="no_contact",
        at=NOW + timedelta(hours=60),
    )

    assert quick.status == LoopStatus.CLOSED
    assert quick.outcome == LoopOutcome.RESOLVED
    assert quick.closed_by_id == world.rep.id
    assert quick.callback_note == "客户接受了补发方案"
    figures = loops.kpis(
        session, rep, NOW.date(), NOW.date() + timedelta(days=5), now=NOW + timedelta(days=5)
    )
    assert figures == {
        "opened": 3,
        "closed": 2,
        "closed_within_sla": 1,
        "closed_within_sla_rate": 0.5,
        "median_hours_to_close": 33.0,
        "mean_hours_to_close": 33.0,
        "open_overdue": 1,
    }
    assert _audits(session, "feedback_loop.closed") == 2


def test_a_call_back_needs_a_note_and_a_known_outcome_and_an_open_loop(
    session: Session, world: LoopWorld
) -> None:
    rep = Actor.for_user(world.rep)
    loop = loops.open_for_response(
        session, answer(session, world.own, score=2, comment="差"), None, SETTINGS, now=NOW
    )
    assert loop is not None

    with pytest.raises(ValidationFailed, match="note"):
        loops.log_callback(session, loop, rep, note="  ", outcome="resolved", at=NOW)
    with pytest.raises(ValidationFailed, match="outcome"):
        loops.log_callback(session, loop, rep, note="ok", outcome="happy", at=NOW)
    assert loop.status == LoopStatus.OPEN
    loops.log_callback(session, loop, rep, note="ok", outcome="resolved", at=NOW)
    with pytest.raises(Conflict):
        loops.log_callback(session, loop, rep, note="again", outcome="resolved", at=NOW)


# ---------------------------------------------------------------- scope


def test_a_sales_rep_can_neither_see_nor_close_another_reps_follow_up(
    session: Session, world: LoopWorld
) -> None:
    loop = loops.open_for_response(
        session, answer(session, world.own, score=0, comment="糟糕"), None, SETTINGS, now=NOW
    )
    assert loop is not None
    rival = Actor.for_user(world.rival)
    audits = _count(session, AuditEvent)

    with pytest.raises(NotFound):
        loops.get_loop_for(session, loop.id, actor=rival)
    with pytest.raises(NotFound):
        loops.log_callback(session, loop, rival, note="我来处理", outcome="resolved", at=NOW)
    with pytest.raises(NotFound):
        loops.reassign(session, loop, rival, world.rival.id)
    with pytest.raises(Forbidden):
        loops.log_callback(
            session, loop, Actor.for_user(world.viewer), note="x", outcome="resolved", at=NOW
        )

    session.refresh(loop)
    assert loop.status == LoopStatus.OPEN
    assert loop.owner_id == world.rep.id
    assert loop.callback_note is None
    assert _count(session, AuditEvent) == audits
    rows = session.execute(loops.loops_query(rival, loops.LoopFilter(status=None), now=NOW)).all()
    assert rows == []
    assert loops.kpis(session, rival, NOW.date(), NOW.date(), now=NOW)["opened"] == 0


def test_reassigning_takes_only_users_who_work_feedback(session: Session, world: LoopWorld) -> None:
    loop = loops.open_for_response(
        session, answer(session, world.own, score=0, comment="糟糕"), None, SETTINGS, now=NOW
    )
    assert loop is not None
    manager = Actor.for_user(world.manager)

    with pytest.raises(ValidationFailed, match="owner_id"):
        loops.reassign(session, loop, manager, world.viewer.id)
    loops.reassign(session, loop, manager, world.manager.id)

    assert loop.owner_id == world.manager.id
    assert _audits(session, "feedback_loop.reassigned") == 1


def test_the_list_is_filtered_by_owner_reason_and_overdue(
    session: Session, world: LoopWorld
) -> None:
    admin = Actor.system("tests")
    early = loops.open_for_response(
        session, answer(session, world.own, score=1, comment="a"), None, SETTINGS, now=NOW
    )
    later = loops.open_for_response(
        session,
        answer(session, world.other, kind=SurveyKind.CES, score=1),
        None,
        SETTINGS,
        now=NOW + timedelta(days=3),
    )
    assert early is not None
    assert later is not None
    at = NOW + timedelta(days=3, hours=1)

    def ids(**filters: object) -> list[int]:
        stmt = loops.loops_query(admin, loops.LoopFilter(**filters), now=at)  # type: ignore[arg-type]
        return [row[0].id for row in session.execute(stmt)]

    assert ids() == [early.id, later.id]
    assert ids(overdue=True) == [early.id]
    assert ids(owner_id=world.rival.id) == [later.id]
    assert ids(reason=LoopReason.LOW_SCORE) == [later.id]
