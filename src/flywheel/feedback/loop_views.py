"""The closed-loop pages: the follow-up list (mine or everyone's, with the KPIs on top and a
call-back form on each row), one follow-up with the answer and its analysis, the topic
taxonomy editor and the suggested new topics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import FlywheelError, http_status_for
from flywheel.feedback import analysis, labels, loops
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.base import utcnow
from flywheel.models.collections import Dispute
from flywheel.models.customers import Customer, Touchpoint
from flywheel.models.enums import LoopOutcome, LoopReason, LoopStatus, Role, TextSource
from flywheel.models.feedback import (
    FeedbackLoop,
    FeedbackTopic,
    Survey,
    SurveyResponse,
    TextAnalysis,
)
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, selected, word
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

WorkFeedback = Annotated[Actor, Depends(require(Permission.WORK_FEEDBACK))]
ManageSurveys = Annotated[Actor, Depends(require(Permission.MANAGE_SURVEYS))]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=80)]
Keywords = Annotated[str, Form(max_length=20000)]
TopicCode = Annotated[str, Path(max_length=40)]

PAGE_SIZE = 50
MAX_PAGE = 100_000
KPI_DAYS = 30
Errors = dict[str, str]


def _labels() -> dict[str, Any]:
    return {
        "reason_labels": labels.LOOP_REASON_LABELS,
        "status_labels": labels.LOOP_STATUS_LABELS,
        "outcome_labels": labels.LOOP_OUTCOME_LABELS,
        "urgency_labels": labels.URGENCY_LABELS,
        "band_labels": labels.BAND_LABELS,
        "sentiment_labels": labels.SENTIMENT_LABELS,
        "source_labels": labels.SOURCE_LABELS,
        "kind_labels": labels.KIND_LABELS,
        "outcomes": list(LoopOutcome),
    }


def _render(
    request: Request,
    actor: Actor,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    return render(request, template, {**_labels(), **context}, actor=actor, status_code=status_code)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(wanted))
    ).all()
    return {int(i): d or u for i, d, u in rows}


def _duration(seconds: float) -> str:
    hours = int(abs(seconds) // 3600)
    if hours < 48:
        return _("%(hours)s h", hours=max(hours, 0))
    return _("%(days)s d", days=hours // 24)


def _utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Due:
    text: str
    overdue: bool


def due_of(loop: FeedbackLoop, now: datetime) -> Due:
    """ "due in 5 h" / "overdue by 3 d" for an open loop; closed ones say whether the SLA held."""
    due = _utc(loop.due_at)
    if loop.status != LoopStatus.OPEN:
        closed = _utc(loop.closed_at) if loop.closed_at else due
        return Due(_("closed within SLA") if closed <= due else _("closed after SLA"), False)
    left = (due - now).total_seconds()
    if left >= 0:
        return Due(_("due in %(time)s", time=_duration(left)), False)
    return Due(_("overdue by %(time)s", time=_duration(left)), True)


def topic_names(session: Session, language: str) -> dict[str, str]:
    rows = session.execute(
        select(FeedbackTopic.code, FeedbackTopic.name_zh, FeedbackTopic.name_en)
    ).all()
    return {c: (zh if language.startswith("zh") else en) for c, zh, en in rows}


def highlighted(text: str, spans: Mapping[str, Sequence[Sequence[int]]]) -> list[tuple[str, str]]:
    """The text cut into (piece, topic code or "") so the topics' words can be marked."""
    marks: list[tuple[int, int, str]] = []
    for code, places in (spans or {}).items():
        for place in places:
            start, end = int(place[0]), int(place[1])
            if 0 <= start < end <= len(text):
                marks.append((start, end, code))
    marks.sort()
    pieces: list[tuple[str, str]] = []
    at = 0
    for start, end, code in marks:
        if start < at:
            continue  # overlapping words: the first one wins
        if start > at:
            pieces.append((text[at:start], ""))
        pieces.append((text[start:end], code))
        at = end
    if at < len(text):
        pieces.append((text[at:], ""))
    return pieces


def _language(actor: Actor) -> str:
    return actor.language or "zh"


# ---------------------------------------------------------------- the follow-up list


def _filters(
    actor: Actor, status: str, reason: str, overdue: str, owner: str
) -> tuple[loops.LoopFilter, dict[str, str]]:
    chosen_owner = owner or ("me" if actor.role == Role.SALES else "all")
    owner_id: int | None = None
    if chosen_owner == "me":
        owner_id = actor.user_id or 0
    elif chosen_owner.isdigit():
        owner_id = int(chosen_owner)
    state = status if status in ("open", "closed", "all") else "open"
    why = reason if reason in {r.value for r in LoopReason} else ""
    filters = loops.LoopFilter(
        status=None if state == "all" else LoopStatus(state),
        reason=LoopReason(why) if why else None,
        overdue=overdue == "1",
        owner_id=owner_id,
        unassigned=chosen_owner == "none",
    )
    shown = {
        "status": state,
        "reason": why,
        "overdue": "1" if overdue == "1" else "",
        "owner": chosen_owner,
    }
    return filters, shown


def _row_context(
    session: Session, rows: Sequence[tuple[FeedbackLoop, Customer]], now: datetime
) -> dict[str, Any]:
    ids: set[int | None] = set()
    for loop, _c in rows:
        ids.update((loop.owner_id, loop.escalated_to_id, loop.closed_by_id))
    return {
        "names": _names(session, ids),
        "dues": {loop.id: due_of(loop, now) for loop, _c in rows},
    }


@router.get("/feedback/loops", response_class=HTMLResponse)
def loop_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[str, Query(max_length=16)] = "open",
    reason: Annotated[str, Query(max_length=24)] = "",
    overdue: Annotated[str, Query(max_length=2)] = "",
    owner: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    now = utcnow()
    filters, shown = _filters(actor, status, reason, overdue, owner)
    rows = [
        (row[0], row[1])
        for row in session.execute(
            loops.loops_query(actor, filters, now=now)
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        )
    ]
    figures = loops.kpis(
        session, actor, now.date() - timedelta(days=KPI_DAYS - 1), now.date(), now=now
    )
    staff = [(u.id, u.display_name or u.username) for u in loops.assignable_users(session)]
    return _render(
        request,
        actor,
        "feedback/loop_list.html",
        {
            "rows": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "shown": shown,
            "reasons": list(LoopReason),
            "staff": staff,
            "kpis": figures,
            "kpi_days": KPI_DAYS,
            "errors": {},
            "forms": {},
            **_row_context(session, rows, now),
        },
    )


@router.get("/feedback/loops/export.{format}")
def loop_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    status: Annotated[str, Query(max_length=16)] = "open",
    reason: Annotated[str, Query(max_length=24)] = "",
    overdue: Annotated[str, Query(max_length=2)] = "",
    owner: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The filtered follow-ups, every page, in the list's order; times in UTC."""
    now = utcnow()
    filters, _shown = _filters(actor, status, reason, overdue, owner)
    rows = [
        (row[0], row[1]) for row in selected(session, loops.loops_query(actor, filters, now=now))
    ]
    names = _names(
        session,
        {i for loop, _c in rows for i in (loop.owner_id, loop.escalated_to_id, loop.closed_by_id)},
    )
    return download(
        (
            N_("Follow-up"),
            N_("Customer code"),
            N_("Customer"),
            N_("Reason"),
            N_("Urgency"),
            N_("What they said"),
            N_("Status"),
            N_("Opened (UTC)"),
            N_("Due (UTC)"),
            N_("Overdue"),
            N_("Owner"),
            N_("Escalated to"),
            N_("Outcome"),
            N_("Closed (UTC)"),
            N_("Closed by"),
        ),
        (
            [
                loop.id,
                customer.code,
                customer.name,
                word(labels.LOOP_REASON_LABELS, loop.reason),
                "; ".join(word(labels.URGENCY_LABELS, f) or f for f in loop.urgency or []) or None,
                loop.summary,
                word(labels.LOOP_STATUS_LABELS, loop.status),
                loop.opened_at,
                loop.due_at,
                due_of(loop, now).overdue,
                names.get(loop.owner_id) if loop.owner_id else None,
                names.get(loop.escalated_to_id) if loop.escalated_to_id else None,
                word(labels.LOOP_OUTCOME_LABELS, loop.outcome),
                loop.closed_at,
                names.get(loop.closed_by_id) if loop.closed_by_id else None,
            ]
            for loop, customer in rows
        ),
        stem="follow-ups",
        format=format,
        title=N_("Follow-ups"),
    )


# ---------------------------------------------------------------- one follow-up


def _source_text(session: Session, analysed: TextAnalysis | None) -> str | None:
    if analysed is None:
        return None
    if analysed.source == TextSource.TOUCHPOINT:
        return session.scalar(select(Touchpoint.summary).where(Touchpoint.id == analysed.source_id))
    if analysed.source == TextSource.DISPUTE:
        return session.scalar(select(Dispute.description).where(Dispute.id == analysed.source_id))
    return session.scalar(
        select(SurveyResponse.comment).where(SurveyResponse.id == analysed.source_id)
    )


def _answers(
    survey: Survey | None, response: SurveyResponse, language: str
) -> list[tuple[str, str]]:
    """The follow-up answers as (question, answer) in the reader's language."""
    zh = language.startswith("zh")
    questions = {q["key"]: q for q in (survey.questions if survey else []) or []}
    out: list[tuple[str, str]] = []
    for key, value in (response.answers or {}).items():
        question = questions.get(key)
        if question is None:
            out.append((key, str(value)))
            continue
        text = question["text_zh"] if zh else question["text_en"]
        shown = str(value)
        for choice in question.get("choices") or []:
            if choice["value"] == value:
                shown = choice["zh"] if zh else choice["en"]
        out.append((text, shown))
    return out


def _loop_page(
    request: Request,
    session: Session,
    actor: Actor,
    loop: FeedbackLoop,
    *,
    form: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    customer = session.get(Customer, loop.customer_id)
    response = session.get(SurveyResponse, loop.response_id) if loop.response_id else None
    analysed = session.get(TextAnalysis, loop.analysis_id) if loop.analysis_id else None
    if analysed is None and response is not None:
        analysed = session.scalar(
            select(TextAnalysis).where(
                TextAnalysis.source == TextSource.RESPONSE.value,
                TextAnalysis.source_id == response.id,
            )
        )
    survey = session.get(Survey, response.survey_id) if response else None
    text = response.comment if response else _source_text(session, analysed)
    language = _language(actor)
    staff = [
        (u.id, f"{u.display_name or u.username} ({u.username})")
        for u in loops.assignable_users(session)
    ]
    return _render(
        request,
        actor,
        "feedback/loop_detail.html",
        {
            "follow": loop,
            "customer": customer,
            "response": response,
            "survey": survey,
            "answers": _answers(survey, response, language) if response else [],
            "analysis": analysed,
            "pieces": highlighted(text or "", analysed.topic_spans if analysed else {}),
            "topic_names": topic_names(session, language),
            "due": due_of(loop, now),
            "names": _names(session, {loop.owner_id, loop.escalated_to_id, loop.closed_by_id}),
            "staff": staff,
            "form": {"note": "", "outcome": "", **(form or {})},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/feedback/loops/{loop_id}", response_class=HTMLResponse)
def loop_detail(
    request: Request, session: SessionDep, actor: CurrentActor, loop_id: Id
) -> Response:
    loop = loops.get_loop_for(session, loop_id, actor=actor)
    return _loop_page(request, session, actor, loop)


def _callback_errors(note: str, outcome: str) -> Errors:
    errors: Errors = {}
    if outcome not in {o.value for o in LoopOutcome}:
        errors["outcome"] = _("Choose the outcome of the call-back.")
    if not note.strip():
        errors["note"] = _("Say what the customer said on the call-back.")
    return errors


@router.post("/feedback/loops/{loop_id}/callback", response_class=HTMLResponse)
def loop_callback(
    request: Request,
    session: SessionDep,
    actor: WorkFeedback,
    loop_id: Id,
    note: Text = "",
    outcome: Short = "",
) -> Response:
    """Log the call-back; from the list (HTMX) the row is answered, else the follow-up page."""
    loop = loops.get_loop_for(session, loop_id, actor=actor)
    errors = _callback_errors(note, outcome)
    if not errors:
        try:
            with session.begin_nested():
                loops.log_callback(session, loop, actor, note=note, outcome=outcome, at=utcnow())
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404):
                raise
            name = str(exc.details.get("field") or "form")
            errors = {name if name in ("note", "outcome") else "form": exc.message}
    form = {"note": note, "outcome": outcome}
    if _is_htmx(request):
        now = utcnow()
        customer = session.get(Customer, loop.customer_id)
        assert customer is not None
        rows = [(loop, customer)]
        return _render(
            request,
            actor,
            "feedback/loop_row.html",
            {
                "follow": loop,
                "customer": customer,
                "errors": {loop.id: errors} if errors else {},
                "forms": {loop.id: form},
                "just_closed": not errors,
                **_row_context(session, rows, now),
            },
            status_code=422 if errors else 200,
        )
    if errors:
        return _loop_page(request, session, actor, loop, form=form, errors=errors, status_code=422)
    flash(request, _("Call-back logged; the follow-up is closed."))
    return redirect(f"/feedback/loops/{loop.id}")


@router.post("/feedback/loops/{loop_id}/assign")
def loop_assign(
    request: Request,
    session: SessionDep,
    actor: WorkFeedback,
    loop_id: Id,
    owner_id: Short = "",
) -> Response:
    loop = loops.get_loop_for(session, loop_id, actor=actor)
    chosen = int(owner_id) if owner_id.strip().isdigit() else None
    if owner_id.strip() and chosen is None:
        flash(request, _("Choose one of the options."), level="error")
        return redirect(f"/feedback/loops/{loop.id}")
    try:
        with session.begin_nested():
            loops.reassign(session, loop, actor, chosen)
    except FlywheelError as exc:
        if http_status_for(exc) in (403, 404):
            raise
        flash(request, exc.message, level="error")
    else:
        flash(request, _("Follow-up reassigned."))
    return redirect(f"/feedback/loops/{loop.id}")


# ---------------------------------------------------------------- topics


def _topic_form(topic: FeedbackTopic | None = None) -> dict[str, str]:
    if topic is None:
        return {"code": "", "name_zh": "", "name_en": "", "keywords_zh": "", "keywords_en": ""}
    return {
        "code": topic.code,
        "name_zh": topic.name_zh,
        "name_en": topic.name_en,
        "keywords_zh": "、".join(topic.keywords_zh or []),
        "keywords_en": ", ".join(topic.keywords_en or []),
    }


def _topics_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    editing: str | None = None,
    status_code: int = 200,
) -> Response:
    topics = analysis.list_topics(session)
    forms = {t.code: _topic_form(t) for t in topics}
    new_form = _topic_form()
    if editing is not None and form is not None:
        forms[editing] = {**forms.get(editing, new_form), **form}
    elif form is not None:
        new_form = {**new_form, **form}
    return _render(
        request,
        actor,
        "feedback/topic_list.html",
        {
            "topics": topics,
            "forms": forms,
            "new_form": new_form,
            "editing": editing,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/feedback/topics", response_class=HTMLResponse)
def topic_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    return _topics_page(request, session, actor)


def _topic_data(
    code: str, name_zh: str, name_en: str, keywords_zh: str, keywords_en: str
) -> dict[str, Any]:
    return {
        "code": code,
        "name_zh": name_zh,
        "name_en": name_en,
        "keywords_zh": keywords_zh,
        "keywords_en": keywords_en,
    }


def _topic_error(exc: FlywheelError) -> Errors:
    name = str(exc.details.get("field") or "form")
    fields = ("code", "name_zh", "name_en", "keywords_zh", "keywords_en")
    return {name if name in fields else "form": exc.message}


@router.post("/feedback/topics", response_class=HTMLResponse)
def topic_create(
    request: Request,
    session: SessionDep,
    actor: ManageSurveys,
    code: Short = "",
    name_zh: Short = "",
    name_en: Short = "",
    keywords_zh: Keywords = "",
    keywords_en: Keywords = "",
) -> Response:
    data = _topic_data(code, name_zh, name_en, keywords_zh, keywords_en)
    try:
        with session.begin_nested():
            topic = analysis.save_topic(session, actor, data)
    except FlywheelError as exc:
        if http_status_for(exc) == 403:
            raise
        return _topics_page(
            request, session, actor, form=data, errors=_topic_error(exc), status_code=422
        )
    flash(request, _("Topic %(code)s added.", code=topic.code))
    return redirect("/feedback/topics")


@router.post("/feedback/topics/{code}", response_class=HTMLResponse)
def topic_change(
    request: Request,
    session: SessionDep,
    actor: ManageSurveys,
    code: TopicCode,
    name_zh: Short = "",
    name_en: Short = "",
    keywords_zh: Keywords = "",
    keywords_en: Keywords = "",
    active: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    topic = analysis.get_topic(session, code)
    data = {
        **_topic_data(topic.code, name_zh, name_en, keywords_zh, keywords_en),
        "active": active == "1",
    }
    try:
        with session.begin_nested():
            analysis.save_topic(session, actor, data, code=topic.code)
    except FlywheelError as exc:
        if http_status_for(exc) in (403, 404):
            raise
        shown = {k: str(v) for k, v in data.items() if k != "active"}
        return _topics_page(
            request,
            session,
            actor,
            form=shown,
            errors=_topic_error(exc),
            editing=topic.code,
            status_code=422,
        )
    flash(request, _("Topic %(code)s saved.", code=topic.code))
    return redirect("/feedback/topics")


@router.post("/feedback/topics/{code}/deactivate")
def topic_deactivate(
    request: Request,
    session: SessionDep,
    actor: ManageSurveys,
    code: TopicCode,
) -> Response:
    with session.begin_nested():
        topic = analysis.deactivate_topic(session, actor, code)
    flash(request, _("Topic %(code)s no longer tags new texts.", code=topic.code))
    return redirect("/feedback/topics")


def _split_terms(terms: Sequence[str]) -> tuple[str, str]:
    chinese = [t for t in terms if any("\u4e00" <= ch <= "\u9fff" for ch in t)]
    other = [t for t in terms if t not in chinese]
    return "、".join(chinese), ", ".join(other)


@router.get("/feedback/topics/suggestions", response_class=HTMLResponse)
def topic_suggestions(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    texts, found = analysis.suggestions(session, actor)
    return _render(
        request,
        actor,
        "feedback/topic_suggestions.html",
        {
            "texts": texts,
            "suggestions": [(s, *_split_terms(s.terms)) for s in found],
        },
    )
