"""The closed loop: a detractor, a low score, a negative comment or an urgent text opens a
follow-up for the account's owner with an SLA; past it, it escalates to a manager (with an
e-mail through the outbox); the owner logs the call-back and its outcome, which closes it.
Its KPIs: loops closed within the SLA, and the time to close."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.collections import outbox
from flywheel.config import Settings
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.feedback import surveys
from flywheel.kit import i18n
from flywheel.models.base import utcnow
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    LoopOutcome,
    LoopReason,
    LoopStatus,
    Role,
    ScoreBand,
    Sentiment,
    SurveyKind,
    TextSource,
)
from flywheel.models.feedback import FeedbackLoop, SurveyResponse, TextAnalysis
from flywheel.models.users import User

SYSTEM = Actor.system("feedback")
AUDITED = (
    "reason",
    "urgency",
    "owner_id",
    "status",
    "due_at",
    "escalated_at",
    "escalated_to_id",
    "callback_at",
    "callback_note",
    "outcome",
    "closed_at",
    "closed_by_id",
)
SUMMARY_MAX = 2000
NOTE_MAX = 4000


def _snapshot(loop: FeedbackLoop) -> dict[str, Any]:
    return audit.snapshot(loop, AUDITED)


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ----------------------------------------------------------------------------- opening


def reason_for_response(
    response: SurveyResponse, analysis: TextAnalysis | None
) -> LoopReason | None:
    """Why an answer needs a follow-up, or None: a bad score first (detractor, or a low CSAT/CES),
    then an urgent comment, then a negative one."""
    if surveys.is_bad(response.band):
        if response.band == ScoreBand.DETRACTOR or response.kind == SurveyKind.NPS:
            return LoopReason.DETRACTOR
        return LoopReason.LOW_SCORE
    if analysis is not None and analysis.urgency:
        return LoopReason.URGENT
    if analysis is not None and analysis.sentiment == Sentiment.NEGATIVE:
        return LoopReason.NEGATIVE_COMMENT
    return None


def _open(
    session: Session,
    *,
    dedupe_key: str,
    customer_id: int,
    reason: LoopReason,
    urgency: Sequence[str],
    summary: str | None,
    settings: Settings,
    now: datetime,
    response_id: int | None = None,
    analysis_id: int | None = None,
) -> FeedbackLoop:
    existing = session.scalar(select(FeedbackLoop).where(FeedbackLoop.dedupe_key == dedupe_key))
    if existing is not None:
        if existing.status == LoopStatus.OPEN and (
            list(existing.urgency or []) != list(urgency) or existing.summary != summary
        ):
            # An edited answer: the owner calls back about what it says now.
            audit.apply_update(
                session,
                SYSTEM,
                existing,
                {"urgency": list(urgency), "summary": summary, "analysis_id": analysis_id},
                action="feedback_loop.updated",
                subject_type="feedback_loop",
                customer_id=existing.customer_id,
                fields=("urgency", "summary"),
            )
        return existing
    owner_id = session.scalar(select(Customer.owner_id).where(Customer.id == customer_id))
    loop = FeedbackLoop(
        customer_id=customer_id,
        dedupe_key=dedupe_key,
        response_id=response_id,
        analysis_id=analysis_id,
        reason=reason.value,
        urgency=list(urgency),
        summary=summary,
        owner_id=owner_id,
        status=LoopStatus.OPEN.value,
        opened_at=now,
        due_at=now + timedelta(hours=settings.feedback_loop_sla_hours),
    )
    session.add(loop)
    session.flush()
    audit.record(
        session,
        SYSTEM,
        "feedback_loop.opened",
        subject_type="feedback_loop",
        subject_id=loop.id,
        customer_id=customer_id,
        after={**_snapshot(loop), "dedupe_key": dedupe_key},
    )
    return loop


def _summary(text: str | None) -> str | None:
    text = (text or "").strip()
    return text[:SUMMARY_MAX] or None


def open_for_response(
    session: Session,
    response: SurveyResponse,
    analysis: TextAnalysis | None,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> FeedbackLoop | None:
    """Open the follow-up an answer needs (see ``reason_for_response``) for the account's
    owner, due ``settings.feedback_loop_sla_hours`` later; one per answer (an edited answer
    updates its open loop). None when the answer needs none."""
    reason = reason_for_response(response, analysis)
    if reason is None:
        return None
    return _open(
        session,
        dedupe_key=f"response:{response.id}",
        customer_id=response.customer_id,
        reason=reason,
        urgency=list(analysis.urgency or []) if analysis is not None else [],
        summary=_summary(response.comment),
        settings=settings,
        now=now or utcnow(),
        response_id=response.id,
        analysis_id=analysis.id if analysis is not None else None,
    )


def open_for_analysis(
    session: Session,
    analysis: TextAnalysis,
    settings: Settings,
    *,
    text: str | None = None,
    now: datetime | None = None,
) -> FeedbackLoop | None:
    """A touchpoint note or a dispute description opens a follow-up only when it is negative
    and urgent, so the list is not flooded with every grumble."""
    if analysis.source == TextSource.RESPONSE:
        return None
    if analysis.sentiment != Sentiment.NEGATIVE or not analysis.urgency:
        return None
    return _open(
        session,
        dedupe_key=f"text:{analysis.id}",
        customer_id=analysis.customer_id,
        reason=LoopReason.URGENT,
        urgency=list(analysis.urgency),
        summary=_summary(text if text is not None else _text_of(session, analysis)),
        settings=settings,
        now=now or utcnow(),
        analysis_id=analysis.id,
    )


def _text_of(session: Session, analysis: TextAnalysis) -> str | None:
    from flywheel.models.collections import Dispute
    from flywheel.models.customers import Touchpoint

    if analysis.source == TextSource.TOUCHPOINT:
        return session.scalar(select(Touchpoint.summary).where(Touchpoint.id == analysis.source_id))
    if analysis.source == TextSource.DISPUTE:
        return session.scalar(select(Dispute.description).where(Dispute.id == analysis.source_id))
    return session.scalar(
        select(SurveyResponse.comment).where(SurveyResponse.id == analysis.source_id)
    )


def open_for_new_analyses(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    settings: Settings,
    *,
    since: datetime,
    now: datetime,
) -> int:
    """After a batch of analyses (``analysis.analyse_pending``): open the follow-ups of those
    written since ``since``. Answers open theirs as of the moment they were given."""
    recent = [r for r in rows if _as_utc(r["occurred_at"]) >= since]
    candidates = [
        r
        for r in recent
        if r["source"] == TextSource.RESPONSE
        or (r["sentiment"] == Sentiment.NEGATIVE and r["urgency"])
    ]
    if not candidates:
        return 0
    wanted: dict[str, list[int]] = {}
    for row in candidates:
        wanted.setdefault(row["source"], []).append(int(row["source_id"]))
    analyses = {
        (a.source, a.source_id): a
        for source, ids in wanted.items()
        for a in session.scalars(
            select(TextAnalysis).where(
                TextAnalysis.source == source, TextAnalysis.source_id.in_(ids)
            )
        )
    }
    responses = {
        r.id: r
        for r in session.scalars(
            select(SurveyResponse).where(
                SurveyResponse.id.in_(wanted.get(TextSource.RESPONSE.value, []))
            )
        )
    }

    def key(analysis: TextAnalysis) -> str:
        if analysis.source == TextSource.RESPONSE:
            return f"response:{analysis.source_id}"
        return f"text:{analysis.id}"

    taken = set(
        session.scalars(
            select(FeedbackLoop.dedupe_key).where(
                FeedbackLoop.dedupe_key.in_([key(a) for a in analyses.values()])
            )
        )
    )
    opened = 0
    for row in candidates:
        analysis = analyses.get((row["source"], int(row["source_id"])))
        if analysis is None or key(analysis) in taken:
            continue
        loop: FeedbackLoop | None
        if analysis.source == TextSource.RESPONSE:
            response = responses.get(analysis.source_id)
            if response is None:
                continue
            loop = open_for_response(
                session, response, analysis, settings, now=min(_as_utc(response.answered_at), now)
            )
        else:
            loop = open_for_analysis(
                session, analysis, settings, now=min(_as_utc(analysis.occurred_at), now)
            )
        opened += loop is not None
    return opened


# ----------------------------------------------------------------------------- escalating


def manager_for(session: Session, owner_id: int | None) -> User | None:
    """Who an overdue loop escalates to. Users have no manager of their own in Flywheel, so it
    is the first active manager (by id), else the first active administrator."""
    for role in (Role.MANAGER, Role.ADMIN):
        user = session.scalar(
            select(User)
            .where(User.role == role.value, User.is_active.is_(True), User.id != (owner_id or 0))
            .order_by(User.id)
            .limit(1)
        )
        if user is not None:
            return user
    return None


def _escalation_email(
    loop: FeedbackLoop, customer: Customer, owner: str | None, settings: Settings, language: str
) -> tuple[str, str]:
    _ = i18n.gettext
    with i18n.use_language(language):
        subject = _(
            "Overdue follow-up: %(customer)s (%(code)s)", customer=customer.name, code=customer.code
        )
        lines = [
            _(
                "The follow-up on feedback from %(customer)s was due on %(due)s and is not "
                "closed yet.",
                customer=customer.name,
                due=_as_utc(loop.due_at).strftime("%Y-%m-%d %H:%M UTC"),
            ),
            _("Owner: %(owner)s", owner=owner or "–"),
            _("What the customer said: %(text)s", text=loop.summary or "–"),
            f"{settings.public_url.rstrip('/')}/feedback/loops/{loop.id}",
        ]
    return subject, "\n\n".join(lines)


def escalate_overdue(session: Session, now: datetime, settings: Settings) -> int:
    """Escalate, once, every open loop past its due time: to a manager (``manager_for``), with
    an e-mail to him through the outbox when he has an address. Returns how many escalated."""
    late = session.scalars(
        select(FeedbackLoop)
        .where(
            FeedbackLoop.status == LoopStatus.OPEN.value,
            FeedbackLoop.due_at < now,
            FeedbackLoop.escalated_at.is_(None),
        )
        .order_by(FeedbackLoop.due_at, FeedbackLoop.id)
    ).all()
    managers: dict[int | None, User | None] = {}
    for loop in late:
        if loop.owner_id not in managers:
            managers[loop.owner_id] = manager_for(session, loop.owner_id)
        manager = managers[loop.owner_id]
        before = _snapshot(loop)
        loop.escalated_at = now
        loop.escalated_to_id = manager.id if manager is not None else None
        session.flush()
        queued = None
        if manager is not None and manager.email:
            customer = session.get(Customer, loop.customer_id)
            assert customer is not None
            owner = session.get(User, loop.owner_id) if loop.owner_id else None
            subject, body = _escalation_email(
                loop,
                customer,
                (owner.display_name or owner.username) if owner else None,
                settings,
                manager.language,
            )
            queued = outbox.enqueue_email(
                session,
                dedupe_key=f"loop-escalate:{loop.id}",
                to=manager.email,
                subject=subject,
                body=body,
                language=manager.language,
                customer_id=loop.customer_id,
            )
        audit.record(
            session,
            SYSTEM,
            "feedback_loop.escalated",
            subject_type="feedback_loop",
            subject_id=loop.id,
            customer_id=loop.customer_id,
            before=before,
            after={**_snapshot(loop), "emailed": queued is not None},
        )
    session.flush()
    return len(late)


# ----------------------------------------------------------------------------- working it


def get_loop_for(session: Session, loop_id: int, *, actor: Actor) -> FeedbackLoop:
    """A loop the actor may see; NotFound, exactly like a missing one, otherwise."""
    loop = session.scalar(
        select(FeedbackLoop)
        .join(Customer, Customer.id == FeedbackLoop.customer_id)
        .where(FeedbackLoop.id == loop_id, visible_customers(actor))
    )
    if loop is None:
        raise NotFound(f"follow-up {loop_id} not found", loop_id=loop_id)
    return loop


def _in_scope(session: Session, loop: FeedbackLoop, actor: Actor) -> FeedbackLoop:
    return get_loop_for(session, loop.id, actor=actor)


def log_callback(
    session: Session,
    loop: FeedbackLoop,
    actor: Actor,
    *,
    note: str,
    outcome: LoopOutcome | str,
    at: datetime,
) -> FeedbackLoop:
    """The owner called the customer back: the note and the outcome close the loop."""
    permissions.check(actor, Permission.WORK_FEEDBACK)
    loop = _in_scope(session, loop, actor)
    try:
        outcome = LoopOutcome(outcome)
    except ValueError as exc:
        choices = ", ".join(o.value for o in LoopOutcome)
        raise ValidationFailed(
            f"outcome: {outcome!r} is not one of {choices}", field="outcome"
        ) from exc
    text = (note or "").strip()
    if not text:
        raise ValidationFailed("note: say what the customer said on the call-back", field="note")
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"note: at most {NOTE_MAX} characters", field="note")
    if loop.status != LoopStatus.OPEN:
        raise Conflict(f"follow-up {loop.id} is already closed", loop_id=loop.id)
    if _as_utc(at) < _as_utc(loop.opened_at):
        raise ValidationFailed("at: the call-back cannot be before the loop opened", field="at")
    before = _snapshot(loop)
    loop.callback_at = at
    loop.callback_note = text
    loop.outcome = outcome.value
    loop.status = LoopStatus.CLOSED.value
    loop.closed_at = at
    loop.closed_by_id = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "feedback_loop.closed",
        subject_type="feedback_loop",
        subject_id=loop.id,
        customer_id=loop.customer_id,
        before=before,
        after={**_snapshot(loop), "within_sla": _as_utc(at) <= _as_utc(loop.due_at)},
    )
    return loop


def assignable_users(session: Session) -> list[User]:
    """Who may own a follow-up: active users of the roles that work feedback."""
    roles = [r.value for r in permissions.GRANTS[Permission.WORK_FEEDBACK]]
    return list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role.in_(roles))
            .order_by(User.username)
        )
    )


def reassign(
    session: Session, loop: FeedbackLoop, actor: Actor, owner_id: int | None
) -> FeedbackLoop:
    """Give the follow-up to another user (one who works feedback)."""
    permissions.check(actor, Permission.WORK_FEEDBACK)
    loop = _in_scope(session, loop, actor)
    if owner_id is not None and owner_id not in {u.id for u in assignable_users(session)}:
        raise ValidationFailed(
            f"owner_id: user {owner_id} is not an active user who works feedback",
            field="owner_id",
        )
    if loop.status != LoopStatus.OPEN:
        raise Conflict(f"follow-up {loop.id} is already closed", loop_id=loop.id)
    audit.apply_update(
        session,
        actor,
        loop,
        {"owner_id": owner_id},
        action="feedback_loop.reassigned",
        subject_type="feedback_loop",
        customer_id=loop.customer_id,
        fields=("owner_id",),
    )
    return loop


# ----------------------------------------------------------------------------- lists and KPIs


@dataclass(frozen=True, slots=True)
class LoopFilter:
    status: LoopStatus | None = LoopStatus.OPEN
    reason: LoopReason | None = None
    overdue: bool = False
    owner_id: int | None = None
    unassigned: bool = False
    customer_id: int | None = None


def loops_query(
    actor: Actor, filters: LoopFilter, *, now: datetime
) -> Select[FeedbackLoop, Customer]:
    """The loops the actor may see, soonest due first (closed ones: latest closed first)."""
    stmt = (
        select(FeedbackLoop, Customer)
        .join(Customer, Customer.id == FeedbackLoop.customer_id)
        .where(visible_customers(actor))
    )
    if filters.status is not None:
        stmt = stmt.where(FeedbackLoop.status == filters.status.value)
    if filters.reason is not None:
        stmt = stmt.where(FeedbackLoop.reason == filters.reason.value)
    if filters.overdue:
        stmt = stmt.where(FeedbackLoop.status == LoopStatus.OPEN.value, FeedbackLoop.due_at < now)
    if filters.unassigned:
        stmt = stmt.where(FeedbackLoop.owner_id.is_(None))
    elif filters.owner_id is not None:
        stmt = stmt.where(FeedbackLoop.owner_id == filters.owner_id)
    if filters.customer_id is not None:
        stmt = stmt.where(FeedbackLoop.customer_id == filters.customer_id)
    if filters.status == LoopStatus.CLOSED:
        return stmt.order_by(FeedbackLoop.closed_at.desc(), FeedbackLoop.id.desc())
    return stmt.order_by(FeedbackLoop.due_at, FeedbackLoop.id)


def _moment(value: date | datetime, *, end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return _as_utc(value)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time.min, tzinfo=UTC)


def kpis(
    session: Session,
    actor: Actor,
    start: date | datetime,
    end: date | datetime,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The closed loop's KPIs over [start, end) (dates: both days included), in the actor's
    scope: loops opened and closed in the period, closed within their SLA (closed_at <= due_at)
    and its rate among the closed, the median and mean hours from opening to closing, and the
    loops open and overdue now."""
    begin, finish = _moment(start), _moment(end, end=True)
    now = now or utcnow()

    def scoped(*columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(FeedbackLoop)
            .join(Customer, Customer.id == FeedbackLoop.customer_id)
            .where(visible_customers(actor))
        )

    opened = session.scalar(
        scoped(func.count(FeedbackLoop.id)).where(
            FeedbackLoop.opened_at >= begin, FeedbackLoop.opened_at < finish
        )
    )
    closed_rows = session.execute(
        scoped(FeedbackLoop.opened_at, FeedbackLoop.closed_at, FeedbackLoop.due_at).where(
            FeedbackLoop.closed_at.is_not(None),
            FeedbackLoop.closed_at >= begin,
            FeedbackLoop.closed_at < finish,
        )
    ).all()
    overdue = session.scalar(
        scoped(func.count(FeedbackLoop.id)).where(
            FeedbackLoop.status == LoopStatus.OPEN.value, FeedbackLoop.due_at < now
        )
    )
    hours = [(_as_utc(c) - _as_utc(o)).total_seconds() / 3600 for o, c, _d in closed_rows]
    within = sum(_as_utc(c) <= _as_utc(d) for _o, c, d in closed_rows)
    closed = len(closed_rows)
    return {
        "opened": int(opened or 0),
        "closed": closed,
        "closed_within_sla": within,
        "closed_within_sla_rate": round(within / closed, 4) if closed else None,
        "median_hours_to_close": round(statistics.median(hours), 2) if hours else None,
        "mean_hours_to_close": round(statistics.fmean(hours), 2) if hours else None,
        "open_overdue": int(overdue or 0),
    }
