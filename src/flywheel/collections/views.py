"""The collections pages: the collector's worklist with its one-click outcomes, logging a call,
releasing a credit hold, and the collections panel on the customer 360. Promises, plans and
extensions (plan_views), disputes (dispute_views) and the strategies per grade
(strategy_views) are pages of their own, mounted under this router. Thin: each form is read
here, the collections services decide; a refusal is shown at the field it names and nothing is
written."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import (
    actions,
    arrangements,
    dispute_views,
    disputes,
    forms,
    holds,
    labels,
    plan_views,
    promises,
    strategies,
    strategy_views,
)
from flywheel.collections import worklist as work
from flywheel.collections.page_kit import (
    MAX_PAGE,
    PAGE_SIZE,
    Short,
    Text,
    WorkCollections,
    contacts_of,
    customer_url,
    open_lines,
    refuse_hard,
    render_page,
    user_names,
)
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, http_status_for
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.collections import (
    CollectionAction,
    Dispute,
    PaymentArrangement,
    PromiseToPay,
)
from flywheel.models.customers import Customer
from flywheel.models.enums import CallOutcome, DisputeReason, DisputeStatus, PromiseStatus
from flywheel.models.receivables import Installment, still_open
from flywheel.web import panels
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import EXPORT_LIMIT, ExportFormat, download
from flywheel.web.pages import flash, redirect, safe_next

router = APIRouter(include_in_schema=False)

OverrideHold = Annotated[Actor, Depends(require(Permission.OVERRIDE_CREDIT_HOLD))]

PANEL_ACTIONS = 10
PANEL_RESOLVED_PROMISES = 5
PANEL_ARRANGEMENTS = 5


# ---------------------------------------------------------------- shared pieces


def _day(text: str) -> date:
    """The business day a page is asked for (``?as_of=``), else today."""
    errors: forms.Errors = {}
    return forms.day(text, "as_of", errors, required=False) or today()


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---------------------------------------------------------------- the worklist


@dataclass(frozen=True, slots=True)
class WorklistQuery:
    """The worklist's filters, read: what the page and its exports list."""

    day: date
    scope: work.Mine
    channel: str
    grade: str
    q: str

    def fetch(self, session: Session, actor: Actor, limit: int, offset: int) -> work.Worklist:
        return work.worklist(
            session,
            actor=actor,
            as_of=self.day,
            mine=self.scope,
            channel=self.channel or None,
            grade=self.grade or None,
            q=self.q.strip() or None,
            limit=limit,
            offset=offset,
        )


def worklist_query(
    mine: Annotated[str, Query(max_length=8)] = "mine",
    channel: Annotated[str, Query(max_length=16)] = "",
    grade: Annotated[str, Query(max_length=2)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    as_of: Annotated[str, Query(max_length=20)] = "",
) -> WorklistQuery:
    return WorklistQuery(
        day=_day(as_of),
        scope=work.Mine.ALL if mine == "all" else work.Mine.MINE,
        channel=channel if channel in labels.WORKLIST_CHANNELS else "",
        grade=grade.upper() if grade.upper() in strategies.GRADES else "",
        q=q,
    )


WorklistParams = Annotated[WorklistQuery, Depends(worklist_query)]


@router.get("/collections", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    params: WorklistParams,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Today's work, most valuable first: promises due, disputes near their SLA, then every open
    task and message waiting for review."""
    listed = params.fetch(session, actor, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    context = {
        "items": listed.items,
        "total": listed.total,
        "page": page,
        "pages": _pages(listed.total),
        "filters": {
            "mine": params.scope.value,
            "channel": params.channel,
            "grade": params.grade,
            "q": params.q,
        },
        "grades": strategies.GRADES,
        "as_of": params.day,
        "may_work": permissions.allows(actor, Permission.WORK_COLLECTIONS),
    }
    if _is_htmx(request) and request.headers.get("HX-Target") == "worklist-rows":
        return render_page(request, actor, "collections/_worklist_rows.html", context)
    return render_page(request, actor, "collections/worklist.html", context)


_WORKLIST_HEADERS = (
    N_("Customer code"),
    N_("Customer"),
    N_("Grade"),
    N_("What"),
    N_("Detail"),
    N_("Due"),
    N_("Currency"),
    N_("Amount"),
    N_("Days overdue"),
    N_("Value"),
    N_("Assigned to"),
    N_("Note"),
)


def _worklist_row(item: work.WorkItem, names: Mapping[int, str]) -> list[object]:
    if item.source is work.Source.ACTION:
        what = labels.label(labels.CHANNEL_LABELS, item.channel)
        detail = labels.label(labels.KIND_LABELS, item.kind)
    elif item.source is work.Source.PROMISE:
        what, detail = _("Promise due"), None
    else:
        what, detail = _("Dispute"), None
    note = labels.label(labels.NOTE_LABELS, item.note) if item.note else None
    return [
        item.customer_code,
        item.customer_name,
        item.grade,
        what,
        detail,
        item.due_on,
        item.currency,
        item.amount,
        item.days_overdue,
        round(item.value, 2),
        names.get(item.assigned_to_id) if item.assigned_to_id else None,
        note,
    ]


@router.get("/collections/export.{format}")
def worklist_export(
    session: SessionDep, actor: CurrentActor, params: WorklistParams, format: ExportFormat
) -> Response:
    """The filtered worklist, every page, in the worklist's order. Read in one go: the
    worklist reads the first ``offset + limit`` actions whatever the offset."""
    items = params.fetch(session, actor, EXPORT_LIMIT, 0).items
    names = user_names(session, {i.assigned_to_id for i in items if i.assigned_to_id})
    return download(
        _WORKLIST_HEADERS,
        (_worklist_row(item, names) for item in items),
        stem="worklist",
        format=format,
        title=N_("Collections worklist"),
        day=params.day,
    )


def _row_result(
    request: Request,
    actor: Actor,
    *,
    message: str,
    ok: bool,
    back: str,
) -> Response:
    """After a one-click outcome: the row's new state for HTMX, else a note and the list."""
    if _is_htmx(request):
        return render_page(
            request,
            actor,
            "collections/_row_result.html",
            {"message": message, "ok": ok},
            status_code=200 if ok else 422,
        )
    flash(request, message, level="success" if ok else "error")
    return redirect(safe_next(back, "/collections"))


@router.post("/collections/actions/{action_id}/done")
def action_done(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    action_id: Id,
    note: Text = "",
    next: Annotated[str, Form(max_length=500)] = "/collections",
) -> Response:
    """The task was done (a letter posted, an escalation handled, a hold placed)."""
    try:
        with session.begin_nested():
            action = actions.complete(session, actor=actor, action_id=action_id, note=note)
    except FlywheelError as exc:
        refuse_hard(exc, statuses=(404,))
        return _row_result(request, actor, message=exc.message, ok=False, back=next)
    return _row_result(
        request,
        actor,
        message=_(
            "%(what)s marked done.", what=labels.label(labels.CHANNEL_LABELS, action.channel)
        ),
        ok=True,
        back=next,
    )


@router.post("/collections/actions/{action_id}/skip")
def action_skip(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    action_id: Id,
    reason: Text = "",
    next: Annotated[str, Form(max_length=500)] = "/collections",
) -> Response:
    """Not taken, with the reason."""
    try:
        with session.begin_nested():
            action = actions.cancel(session, actor=actor, action_id=action_id, reason=reason)
    except FlywheelError as exc:
        refuse_hard(exc, statuses=(404,))
        return _row_result(request, actor, message=exc.message, ok=False, back=next)
    return _row_result(
        request,
        actor,
        message=_(
            "%(what)s skipped: %(reason)s",
            what=labels.label(labels.CHANNEL_LABELS, action.channel),
            reason=reason.strip(),
        ),
        ok=True,
        back=next,
    )


@router.post("/collections/actions/{action_id}/send")
def action_send(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    action_id: Id,
    next: Annotated[str, Form(max_length=500)] = "/collections",
) -> Response:
    """Send a message the strategy left for review: it goes to the outbox."""
    try:
        with session.begin_nested():
            action = actions.send(session, actor=actor, action_id=action_id)
    except FlywheelError as exc:
        refuse_hard(exc, statuses=(404,))
        return _row_result(request, actor, message=exc.message, ok=False, back=next)
    return _row_result(
        request,
        actor,
        message=_(
            "%(what)s queued for sending.",
            what=labels.label(labels.CHANNEL_LABELS, action.channel),
        ),
        ok=True,
        back=next,
    )


# ---------------------------------------------------------------- logging a call


@dataclass(slots=True)
class CallForm:
    outcome: str = CallOutcome.REACHED.value
    note: str = ""
    contact_id: str = ""
    promise_amount: str = ""
    promise_date: str = ""
    dispute_installment: str = ""
    dispute_reason: str = ""
    dispute_amount: str = ""
    action_id: str = ""
    next: str = ""


def _call_context(
    session: Session,
    customer: Customer,
    form: CallForm,
    errors: forms.Errors,
    *,
    action: CollectionAction | None,
    as_of: date,
) -> dict[str, Any]:
    return {
        "customer": customer,
        "action": action,
        "form": form,
        "errors": errors,
        "lines": open_lines(session, customer, as_of),
        "contacts": contacts_of(session, customer),
        "outcomes": list(CallOutcome),
        "reasons": list(DisputeReason),
        "as_of": as_of,
    }


@router.get("/collections/actions/{action_id}/call", response_class=HTMLResponse)
def call_form_for_action(
    request: Request, session: SessionDep, actor: WorkCollections, action_id: Id
) -> Response:
    """The call form of one worklist task: inline under its row (HTMX) or as a page."""
    action = actions.get_action_for(session, action_id, actor=actor)
    customer = customers.get_customer_for(session, action.customer_id, actor=actor)
    form = CallForm(action_id=str(action.id), next="/collections")
    context = _call_context(session, customer, form, {}, action=action, as_of=today())
    if _is_htmx(request):
        return render_page(request, actor, "collections/_call_row.html", context)
    return render_page(request, actor, "collections/call.html", context)


@router.get("/customers/{code}/call", response_class=HTMLResponse)
def call_form(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    code: str,
    outcome: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Log a call with the account from its 360."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    form = CallForm(next=customer_url(customer.code))
    if outcome in {o.value for o in CallOutcome}:
        form.outcome = outcome
    context = _call_context(session, customer, form, {}, action=None, as_of=today())
    return render_page(request, actor, "collections/call.html", context)


@router.post("/customers/{code}/call", response_class=HTMLResponse)
def log_call(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    code: str,
    outcome: Short = "",
    note: Text = "",
    contact_id: Short = "",
    promise_amount: Short = "",
    promise_date: Short = "",
    dispute_installment: Short = "",
    dispute_reason: Short = "",
    dispute_amount: Short = "",
    action_id: Short = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Log the call and what came of it: a promise, a dispute, or just the note."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    form = CallForm(
        outcome=outcome,
        note=note,
        contact_id=contact_id,
        promise_amount=promise_amount,
        promise_date=promise_date,
        dispute_installment=dispute_installment,
        dispute_reason=dispute_reason,
        dispute_amount=dispute_amount,
        action_id=action_id,
        next=next,
    )
    day = today()
    errors: forms.Errors = {}
    if outcome not in {o.value for o in CallOutcome}:
        errors["outcome"] = _("Choose what came of the call.")
    task = forms.ident(action_id, "form", errors)
    contact = forms.ident(contact_id, "contact_id", errors)
    promise: actions.PromiseIn | None = None
    dispute: actions.DisputeIn | None = None
    if outcome == CallOutcome.PROMISED.value:
        value = forms.amount(promise_amount, "promise_amount", errors)
        when = forms.day(promise_date, "promise_date", errors)
        if value is not None and when is not None:
            promise = actions.PromiseIn(amount=value, promised_on=when)
    if outcome == CallOutcome.DISPUTED.value:
        line = forms.ident(dispute_installment, "dispute_installment", errors, required=True)
        if dispute_reason not in {r.value for r in DisputeReason}:
            errors["dispute_reason"] = _("Choose the reason of the dispute.")
        disputed = forms.amount(dispute_amount, "dispute_amount", errors, required=False)
        if line is not None and "dispute_reason" not in errors:
            dispute = actions.DisputeIn(
                installment_id=line,
                reason=DisputeReason(dispute_reason),
                amount=disputed,
                description=note.strip() or None,
            )
    action = None
    if task is not None:
        action = actions.get_action_for(session, task, actor=actor)
    if not errors:
        try:
            with session.begin_nested():
                actions.log_call(
                    session,
                    actor=actor,
                    customer=customer,
                    outcome=outcome,
                    as_of=day,
                    note=note,
                    action_id=task,
                    contact_id=contact,
                    promise=promise,
                    dispute=dispute,
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            fields = dict(_CALL_FIELDS)
            if outcome == CallOutcome.DISPUTED.value:
                fields.update(amount="dispute_amount", installment_id="dispute_installment")
            errors = forms.service_error(exc, fields)
        else:
            flash(request, _call_note(outcome, customer, promise, dispute))
            return redirect(safe_next(next, customer_url(customer.code)))
    context = _call_context(session, customer, form, errors, action=action, as_of=day)
    return render_page(request, actor, "collections/call.html", context, status_code=422)


_CALL_FIELDS = {
    "outcome": "outcome",
    "promise": "promise_amount",
    "amount": "promise_amount",
    "promised_on": "promise_date",
    "contact_id": "contact_id",
    "installment_ids": "form",
    "reason": "dispute_reason",
    "dispute": "dispute_installment",
}


def _call_note(
    outcome: str,
    customer: Customer,
    promise: actions.PromiseIn | None,
    dispute: actions.DisputeIn | None,
) -> str:
    if promise is not None:
        return _(
            "Call with %(code)s logged: a promise to pay %(amount)s by %(day)s.",
            code=customer.code,
            amount=i18n.money(promise.amount, customer.currency),
            day=i18n.day(promise.promised_on),
        )
    if dispute is not None:
        return _("Call with %(code)s logged and a dispute opened.", code=customer.code)
    return _(
        "Call with %(code)s logged: %(outcome)s.",
        code=customer.code,
        outcome=labels.label(labels.OUTCOME_LABELS, outcome),
    )


# ---------------------------------------------------------------- credit hold


@router.post("/customers/{code}/hold/release")
def hold_release(
    request: Request,
    session: SessionDep,
    actor: OverrideHold,
    code: str,
    reason: Text = "",
) -> Response:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    if not reason.strip():
        flash(request, _("Say why the hold is released."), level="error")
    else:
        with session.begin_nested():
            released = holds.release(
                session, actor=actor, customer_id=customer.id, reason=reason.strip()
            )
        flash(
            request,
            _("Credit hold released.") if released else _("The account was not on hold."),
        )
    return redirect(customer_url(customer.code) + "#collections")


# ---------------------------------------------------------------- the 360 panel


# Built once with bound parameters: every 360 runs them.
_RECENT_ACTIONS = (
    select(CollectionAction)
    .where(CollectionAction.customer_id == bindparam("customer_id"))
    .order_by(CollectionAction.created_at.desc(), CollectionAction.id.desc())
    .limit(PANEL_ACTIONS)
)
# Whether the account has any promise, dispute or arrangement at all (most have none): one
# statement instead of one per kind.
_PRESENCE = select(
    select(PromiseToPay.id).where(PromiseToPay.customer_id == bindparam("customer_id")).exists(),
    select(Dispute.id).where(Dispute.customer_id == bindparam("customer_id")).exists(),
    select(PaymentArrangement.id)
    .where(PaymentArrangement.customer_id == bindparam("customer_id"))
    .exists(),
)
_ANY_OPEN_ITEM = (
    select(Installment.id)
    .where(Installment.customer_id == bindparam("customer_id"), still_open())
    .limit(1)
)


def _load_panel(
    session: Session, actor: Actor, customer: Customer, as_of: date
) -> Mapping[str, Any] | None:
    hold = holds.hold_of(session, customer.id)
    has_promises, has_disputes, has_plans = session.execute(
        _PRESENCE, {"customer_id": customer.id}
    ).one()
    promise_rows = (
        [
            p
            for p, _c in session.execute(
                promises.promises_query(actor, customer_id=customer.id)
            ).all()
        ]
        if has_promises
        else []
    )
    pending = [p for p in promise_rows if p.status == PromiseStatus.PENDING.value]
    resolved = sorted(
        (p for p in promise_rows if p.status != PromiseStatus.PENDING.value),
        key=lambda p: (p.resolved_on or p.made_on, p.id),
        reverse=True,
    )[:PANEL_RESOLVED_PROMISES]
    open_disputes = (
        [
            d
            for d, _c in session.execute(
                disputes.disputes_query(actor, status=DisputeStatus.OPEN, customer_id=customer.id)
            ).all()
        ]
        if has_disputes
        else []
    )
    plans = (
        [
            a
            for a, _c in session.execute(
                arrangements.arrangements_query(actor, customer_id=customer.id).limit(
                    PANEL_ARRANGEMENTS
                )
            ).all()
        ]
        if has_plans
        else []
    )
    recent = list(session.scalars(_RECENT_ACTIONS, {"customer_id": customer.id}).all())
    open_items = session.scalar(_ANY_OPEN_ITEM, {"customer_id": customer.id})
    if not (hold or promise_rows or open_disputes or plans or recent or open_items):
        return None
    return {
        "customer": customer,
        "hold": hold,
        "pending": pending,
        "resolved": resolved,
        "disputes": open_disputes,
        "plans": plans,
        "actions": recent,
        "names": user_names(session, {a.completed_by_id for a in recent if a.completed_by_id}),
        "as_of": as_of,
        **labels.all_labels(),
    }


panels.register(
    "collections",
    panels.Panel(
        name="collections.activity",
        label=N_("Collections"),
        template="collections/_panel.html",
        loader=_load_panel,
    ),
)


# The other collections pages, under the same router (web/views.py mounts this one only).
router.include_router(plan_views.router)
router.include_router(dispute_views.router)
router.include_router(strategy_views.router)
