"""The collections pages about paying later: promises to pay, and payment plans and
extensions with their approval."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.collections import arrangements, forms, labels, promises
from flywheel.collections.page_kit import (
    MAX_PAGE,
    PAGE_SIZE,
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
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.customers import Customer
from flywheel.models.enums import ArrangementKind, ArrangementStatus, PromiseStatus
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, selected, word
from flywheel.web.pages import flash, redirect, safe_next

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- promises


def promise_status(
    status: Annotated[str, Query(max_length=16)] = "pending",
) -> PromiseStatus | None:
    """The list's status filter; "all" (or anything else) lists every promise."""
    return PromiseStatus(status) if status in {s.value for s in PromiseStatus} else None


PromiseStatusParam = Annotated[PromiseStatus | None, Depends(promise_status)]


@router.get("/collections/promises", response_class=HTMLResponse)
def promise_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    chosen: PromiseStatusParam,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    rows = session.execute(
        promises.promises_query(actor, status=chosen)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_page(
        request,
        actor,
        "collections/promises.html",
        {
            "rows": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "status": chosen.value if chosen else "",
            "statuses": list(PromiseStatus),
            "as_of": today(),
        },
    )


@router.get("/collections/promises/export.{format}")
def promise_export(
    session: SessionDep, actor: CurrentActor, chosen: PromiseStatusParam, format: ExportFormat
) -> Response:
    """The filtered promises, every page, soonest promised day first."""
    return download(
        (
            N_("Customer code"),
            N_("Customer"),
            N_("Currency"),
            N_("Amount"),
            N_("Paid since"),
            N_("Pays by"),
            N_("Given on"),
            N_("Status"),
            N_("Note"),
        ),
        (
            [
                customer.code,
                customer.name,
                promise.currency,
                promise.amount,
                promise.paid_amount,
                promise.promised_on,
                promise.made_on,
                word(labels.PROMISE_STATUS_LABELS, promise.status),
                promise.note,
            ]
            for promise, customer in selected(
                session, promises.promises_query(actor, status=chosen)
            )
        ),
        stem="promises",
        format=format,
        title=N_("Promises to pay"),
    )


@router.post("/collections/promises/{promise_id}/cancel")
def promise_cancel(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    promise_id: Id,
    reason: Text = "",
    next: Annotated[str, Form(max_length=500)] = "/collections/promises",
) -> Response:
    try:
        with session.begin_nested():
            promises.cancel_promise(
                session, actor=actor, promise_id=promise_id, reason=reason, as_of=today()
            )
    except FlywheelError as exc:
        refuse_hard(exc)
        flash(request, exc.message, level="error")
    else:
        flash(request, _("Promise withdrawn; its items are back in dunning."))
    return redirect(safe_next(next, "/collections/promises"))


@router.get("/customers/{code}/promises/new", response_class=HTMLResponse)
def promise_form(
    request: Request, session: SessionDep, actor: WorkCollections, code: str
) -> Response:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    return _promise_page(request, session, actor, customer, {}, {})


def _promise_page(
    request: Request,
    session: Session,
    actor: Actor,
    customer: Customer,
    form: Mapping[str, str],
    errors: forms.Errors,
    *,
    status_code: int = 200,
) -> Response:
    day = today()
    return render_page(
        request,
        actor,
        "collections/promise_new.html",
        {
            "customer": customer,
            "form": {
                "amount": "",
                "promised_on": "",
                "contact_id": "",
                "channel": "call",
                "note": "",
                "items": [],
                **form,
            },
            "errors": errors,
            "lines": open_lines(session, customer, day),
            "contacts": contacts_of(session, customer),
            "as_of": day,
        },
        status_code=status_code,
    )


async def _multi_form(request: Request) -> dict[str, Any]:
    """A posted form with its repeated fields (checkboxes) as lists."""
    form = await request.form()
    values: dict[str, Any] = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    values["items"] = [str(v) for v in form.getlist("items")]
    return values


MultiForm = Annotated[dict[str, Any], Depends(_multi_form)]


def _chosen_items(form: Mapping[str, Any], errors: forms.Errors) -> list[int]:
    chosen: list[int] = []
    for raw in form.get("items", []):
        if not str(raw).isdigit() or len(str(raw)) > 18:
            errors["items"] = _("Choose one of the options.")
            return []
        chosen.append(int(raw))
    return chosen


@router.post("/customers/{code}/promises", response_class=HTMLResponse)
def promise_record(
    request: Request, session: SessionDep, actor: WorkCollections, code: str, form: MultiForm
) -> Response:
    """Record a promise to pay (from the 360): amount, day, the items it covers."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    errors: forms.Errors = {}
    value = forms.amount(form.get("amount", ""), "amount", errors)
    when = forms.day(form.get("promised_on", ""), "promised_on", errors)
    contact = forms.ident(form.get("contact_id", ""), "contact_id", errors)
    items = _chosen_items(form, errors)
    if not errors and value is not None and when is not None:
        try:
            with session.begin_nested():
                promises.record_promise(
                    session,
                    actor=actor,
                    customer=customer,
                    amount=value,
                    promised_on=when,
                    as_of=today(),
                    contact_id=contact,
                    channel=(form.get("channel") or "").strip()[:16] or None,
                    note=form.get("note"),
                    installment_ids=items or None,
                )
        except FlywheelError as exc:
            refuse_hard(exc)
            errors = forms.service_error(
                exc,
                {
                    "amount": "amount",
                    "promised_on": "promised_on",
                    "contact_id": "contact_id",
                    "installment_ids": "items",
                },
            )
        else:
            flash(
                request,
                _(
                    "Promise to pay %(amount)s by %(day)s recorded; dunning of its items pauses.",
                    amount=i18n.money(value, customer.currency),
                    day=i18n.day(when),
                ),
            )
            return redirect(customer_url(customer.code))
    shown = {k: v for k, v in form.items() if k != "csrf_token"}
    shown["items"] = [str(i) for i in items]
    return _promise_page(request, session, actor, customer, shown, errors, status_code=422)


# ---------------------------------------------------------------- plans and extensions


@dataclass(frozen=True, slots=True)
class PlanFilter:
    status: ArrangementStatus | None
    kind: ArrangementKind | None


def plan_filter(
    status: Annotated[str, Query(max_length=16)] = "proposed",
    kind: Annotated[str, Query(max_length=16)] = "",
) -> PlanFilter:
    """The list's filters; "all" (or anything else) lists every status or kind."""
    return PlanFilter(
        status=ArrangementStatus(status)
        if status in {s.value for s in ArrangementStatus}
        else None,
        kind=ArrangementKind(kind) if kind in {k.value for k in ArrangementKind} else None,
    )


PlanFilterParam = Annotated[PlanFilter, Depends(plan_filter)]


@router.get("/collections/plans", response_class=HTMLResponse)
def plan_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    flt: PlanFilterParam,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    chosen, sort = flt.status, flt.kind
    rows = session.execute(
        arrangements.arrangements_query(actor, status=chosen, kind=sort)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    may_approve, limit = arrangements.approval_limit(actor)
    return render_page(
        request,
        actor,
        "collections/plans.html",
        {
            "rows": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "status": chosen.value if chosen else "",
            "kind": sort.value if sort else "",
            "statuses": list(ArrangementStatus),
            "kinds": list(ArrangementKind),
            "may_approve": may_approve,
            "limit": limit,
            "names": user_names(
                session,
                {i for a, _c in rows for i in (a.requested_by_id, a.decided_by_id) if i},
            ),
            "as_of": today(),
        },
    )


@router.get("/collections/plans/export.{format}")
def plan_export(
    session: SessionDep, actor: CurrentActor, flt: PlanFilterParam, format: ExportFormat
) -> Response:
    """The filtered plans and extensions, every page, newest first; the schedule as
    "due on amount" parts separated by semicolons."""
    rows = list(
        selected(session, arrangements.arrangements_query(actor, status=flt.status, kind=flt.kind))
    )
    names = user_names(
        session, {i for a, _c in rows for i in (a.requested_by_id, a.decided_by_id) if i}
    )
    return download(
        (
            N_("Customer code"),
            N_("Customer"),
            N_("Kind"),
            N_("Currency"),
            N_("Amount"),
            N_("Interest"),
            N_("Schedule"),
            N_("Reason"),
            N_("Requested by"),
            N_("Status"),
            N_("Decided by"),
            N_("Decision note"),
            N_("Customer confirmed"),
        ),
        (
            [
                customer.code,
                customer.name,
                word(labels.ARRANGEMENT_KIND_LABELS, a.kind),
                a.currency,
                a.amount,
                a.interest_amount,
                "; ".join(f"{part['due_on']} {part['amount']}" for part in a.schedule or []),
                a.reason,
                names.get(a.requested_by_id) if a.requested_by_id else None,
                word(labels.ARRANGEMENT_STATUS_LABELS, a.status),
                names.get(a.decided_by_id) if a.decided_by_id else None,
                a.decision_note,
                a.customer_confirmed_on,
            ]
            for a, customer in rows
        ),
        stem="arrangements",
        format=format,
        title=N_("Plans and extensions"),
    )


@router.post("/collections/plans/{arrangement_id}/{decision}")
def plan_decide(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    arrangement_id: Id,
    decision: str,
    note: Text = "",
    confirmation: Text = "",
    next: Annotated[str, Form(max_length=500)] = "/collections/plans",
) -> Response:
    """Approve, reject or withdraw a proposal, or record the customer's confirmation."""
    day = today()
    try:
        with session.begin_nested():
            if decision == "approve":
                arrangements.approve(
                    session, actor=actor, arrangement_id=arrangement_id, as_of=day, note=note
                )
                message = _("Arrangement approved; the new schedule is in the ledger.")
            elif decision == "reject":
                arrangements.reject(session, actor=actor, arrangement_id=arrangement_id, note=note)
                message = _("Arrangement rejected.")
            elif decision == "cancel":
                arrangements.cancel(session, actor=actor, arrangement_id=arrangement_id, note=note)
                message = _("Proposal withdrawn.")
            elif decision == "confirm":
                arrangements.confirm_by_customer(
                    session,
                    actor=actor,
                    arrangement_id=arrangement_id,
                    confirmed_on=day,
                    confirmation=confirmation,
                )
                message = _("The customer's confirmation is recorded.")
            else:
                raise NotFound(f"no decision {decision!r}", decision=decision)
    except FlywheelError as exc:
        if http_status_for(exc) in (403, 404):
            raise
        flash(request, exc.message, level="error")
    else:
        flash(request, message)
    return redirect(safe_next(next, "/collections/plans"))


def _plan_page(
    request: Request,
    session: Session,
    actor: Actor,
    customer: Customer,
    *,
    plan: Mapping[str, Any] | None = None,
    extension: Mapping[str, str] | None = None,
    errors: forms.Errors | None = None,
    status_code: int = 200,
) -> Response:
    day = today()
    lines = open_lines(session, customer, day)
    return render_page(
        request,
        actor,
        "collections/plan_new.html",
        {
            "customer": customer,
            "lines": lines,
            "plan": {
                "count": "3",
                "first_due_on": "",
                "frequency_days": "30",
                "interest": "",
                "reason": "",
                # The overdue items by default; the ones not yet due when nothing is overdue.
                "items": [str(line.id) for line in lines if line.days_overdue > 0]
                or [str(line.id) for line in lines],
                **(plan or {}),
            },
            "extension": {
                "installment_id": "",
                "new_due_on": "",
                "reason": "",
                **(extension or {}),
            },
            "errors": errors or {},
            "frequencies": labels.FREQUENCIES,
            "as_of": day,
        },
        status_code=status_code,
    )


@router.get("/customers/{code}/plans/new", response_class=HTMLResponse)
def plan_form(request: Request, session: SessionDep, actor: WorkCollections, code: str) -> Response:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    return _plan_page(request, session, actor, customer)


@router.post("/customers/{code}/plans/new", response_class=HTMLResponse)
def plan_propose(
    request: Request, session: SessionDep, actor: WorkCollections, code: str, form: MultiForm
) -> Response:
    """Propose an installment plan (``kind=plan``) or an extension (``kind=extension``)."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    errors: forms.Errors = {}
    day = today()
    if form.get("kind") == "extension":
        line = forms.ident(
            form.get("installment_id", ""), "ext_installment_id", errors, required=True
        )
        when = forms.day(form.get("new_due_on", ""), "ext_new_due_on", errors)
        if not errors and line is not None and when is not None:
            try:
                with session.begin_nested():
                    arrangements.propose_extension(
                        session,
                        actor=actor,
                        customer=customer,
                        installment_id=line,
                        new_due_on=when,
                        reason=form.get("reason", ""),
                        as_of=day,
                    )
            except FlywheelError as exc:
                if http_status_for(exc) == 403:
                    raise
                errors = forms.service_error(
                    exc, {"new_due_on": "ext_new_due_on", "reason": "ext_reason"}
                )
                if isinstance(exc, NotFound):
                    errors = {"ext_installment_id": exc.message}
            else:
                flash(request, _("Extension proposed; it waits for approval."))
                return redirect("/collections/plans")
        extension = {k: form.get(k, "") for k in ("installment_id", "new_due_on", "reason")}
        return _plan_page(
            request, session, actor, customer, extension=extension, errors=errors, status_code=422
        )
    count = forms.whole(
        form.get("count", ""), "count", errors, low=2, high=arrangements.MAX_INSTALLMENTS
    )
    first = forms.day(form.get("first_due_on", ""), "first_due_on", errors)
    frequency = forms.whole(
        form.get("frequency_days", ""), "frequency_days", errors, low=7, high=92
    )
    rate = forms.percent(form.get("interest", ""), "interest", errors)
    items = _chosen_items(form, errors)
    if not items and "items" not in errors:
        errors["items"] = _("Choose the items the plan restructures.")
    if not errors and count is not None and first is not None and frequency is not None:
        try:
            with session.begin_nested():
                arrangements.propose_plan(
                    session,
                    actor=actor,
                    customer=customer,
                    count=count,
                    first_due_on=first,
                    frequency_days=frequency,
                    reason=form.get("reason", ""),
                    as_of=day,
                    installment_ids=items,
                    annual_interest_rate=rate,
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = forms.service_error(
                exc,
                {
                    "installments": "count",
                    "frequency_days": "frequency_days",
                    "first_due_on": "first_due_on",
                    "annual_interest_rate": "interest",
                    "reason": "reason",
                    "installment_ids": "items",
                },
            )
        else:
            flash(request, _("Installment plan proposed; it waits for approval."))
            return redirect("/collections/plans")
    plan = {
        k: form.get(k, "")
        for k in ("count", "first_due_on", "frequency_days", "interest", "reason")
    }
    plan["items"] = [str(i) for i in items]
    return _plan_page(request, session, actor, customer, plan=plan, errors=errors, status_code=422)
