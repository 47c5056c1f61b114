"""The negotiation pages: the list (mine or all, by status), opening one (from an account, a
deal or a contract), the workspace (sheet, issues with their ZOPA chart, concession plan and log
with the managers' approval, meetings, the close) and the printable preparation sheet."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.keyaccounts import negotiations
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import NegotiationOutcome, NegotiationStatus
from flywheel.models.keyaccounts import Contract, Deal, Negotiation
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, paged, word
from flywheel.web.forms import Errors, field_error, form_day
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

Negotiate = Annotated[Actor, Depends(require(Permission.NEGOTIATE))]
ApproveConcessions = Annotated[Actor, Depends(require(Permission.APPROVE_CONCESSIONS))]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=4000)]
Number = Annotated[str, Form(max_length=30)]

PAGE_SIZE = 50
MAX_PAGE = 100_000
STATUS_CHOICES = ("open", "all", *(s.value for s in NegotiationStatus))
STATUS_LABELS = {
    "preparing": N_("Preparing"),
    "in_progress": N_("In progress"),
    "closed": N_("Closed"),
}
OUTCOME_LABELS = {
    "agreed": N_("Agreed"),
    "won": N_("Won (at or above target)"),
    "no_deal": N_("No deal"),
    "lost": N_("Lost to a competitor"),
}
APPROVAL_LABELS = {
    "not_needed": N_("Within limits"),
    "pending": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
ISSUE_LABELS = {
    "price": N_("Price"),
    "volume": N_("Volume"),
    "payment_terms": N_("Payment terms"),
    "delivery": N_("Delivery"),
    "service_level": N_("Service level"),
    "contract_length": N_("Contract length"),
}
REASON_LABELS = {
    "discount": N_("discount above %(limit)s%%"),
    "payment_days": N_("payment terms above %(limit)s days"),
    "grade_terms": N_("terms beyond what grade %(grade)s allows (%(limit)s days)"),
}
ACTION_LABELS = {
    "negotiation.opened": N_("Negotiation opened"),
    "negotiation.updated": N_("Sheet changed"),
    "negotiation.issue_set": N_("Issue set"),
    "negotiation.issue_removed": N_("Issue removed"),
    "negotiation.meeting_added": N_("Meeting added"),
    "negotiation.closed": N_("Negotiation closed"),
    "concession.logged": N_("Concession logged"),
    "concession.approved": N_("Concession approved"),
    "concession.rejected": N_("Concession rejected"),
}
ISSUE_FIELDS = (
    "name",
    "unit",
    "direction",
    "our_opening",
    "our_target",
    "our_walkaway",
    "their_opening",
    "their_target",
    "their_walkaway",
)
CONCESSION_FIELDS = (
    "give",
    "get",
    "discount_percent",
    "payment_days",
    "kind",
    "meeting_id",
    "issue",
)
SHEET_FIELDS = ("title", "our_objectives", "their_interests", "our_batna", "their_batna")
MEETING_FIELDS = ("held_on", "attendees", "notes")
CLOSE_FIELDS = ("outcome", "outcome_notes", "post_mortem")


def _render(
    request: Request,
    actor: Actor,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    labels = {
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "approval_labels": APPROVAL_LABELS,
        "issue_labels": ISSUE_LABELS,
        "action_labels": ACTION_LABELS,
    }
    return render(request, template, {**labels, **context}, actor=actor, status_code=status_code)


def _whole(text: str, field: str, errors: Errors) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        errors[field] = _("A whole number, 0 or more.")
        return None
    return int(text)


# ---------------------------------------------------------------- the list


def _negotiation_filter(actor: Actor, status: str, scope: str) -> negotiations.NegotiationFilter:
    """The open negotiations unless another status is chosen; a rep's own work first, a
    manager looks across the team by default."""
    chosen = status if status in STATUS_CHOICES else "open"
    whose = scope if scope in ("mine", "all") else ("mine" if actor.role == "sales" else "all")
    return negotiations.NegotiationFilter(
        status=None if chosen == "all" else chosen, mine=whose == "mine"
    )


@router.get("/negotiations", response_class=HTMLResponse)
def negotiation_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[str, Query(max_length=16)] = "open",
    scope: Annotated[str, Query(max_length=8)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    flt = _negotiation_filter(actor, status, scope)
    chosen, whose = flt.status or "all", "mine" if flt.mine else "all"
    rows, total = negotiations.list_negotiations(
        session, actor, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    owners = dict(
        session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({n.owner_id for n, _c in rows if n.owner_id})
            )
        ).all()
    )
    return _render(
        request,
        actor,
        "keyaccounts/negotiation_list.html",
        {
            "rows": rows,
            "owners": owners,
            "total": total,
            "more": page * PAGE_SIZE < total,
            "page": page,
            "shown": {"status": chosen, "scope": whose},
            "statuses": STATUS_CHOICES,
        },
    )


@router.get("/negotiations/export.{format}")
def negotiation_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    status: Annotated[str, Query(max_length=16)] = "open",
    scope: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The filtered negotiations, every page, in the list's order; times in UTC."""
    flt = _negotiation_filter(actor, status, scope)
    rows = list(
        paged(
            lambda size, offset: negotiations.list_negotiations(
                session, actor, flt, limit=size, offset=offset
            )[0]
        )
    )
    owner_ids = {n.owner_id for n, _c in rows if n.owner_id}
    owners = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(owner_ids))).all()
    )
    return download(
        (
            N_("Negotiation"),
            N_("Title"),
            N_("Account code"),
            N_("Account"),
            N_("Owner"),
            N_("Status"),
            N_("Outcome"),
            N_("Changed (UTC)"),
            N_("Closed (UTC)"),
        ),
        (
            [
                n.id,
                n.title,
                c.code,
                c.name,
                owners.get(n.owner_id) if n.owner_id else None,
                word(STATUS_LABELS, n.status),
                word(OUTCOME_LABELS, n.outcome),
                n.updated_at,
                n.closed_at,
            ]
            for n, c in rows
        ),
        stem="negotiations",
        format=format,
        title=N_("Negotiations"),
    )


# ---------------------------------------------------------------- a new negotiation


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: Mapping[str, str],
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    deal = contract = None
    if form.get("deal", "").isdigit():
        deal = session.get(Deal, int(form["deal"]))
    if form.get("contract", "").isdigit():
        contract = session.get(Contract, int(form["contract"]))
    return _render(
        request,
        actor,
        "keyaccounts/negotiation_new.html",
        {"form": form, "deal": deal, "contract": contract, "errors": errors or {}},
        status_code=status_code,
    )


def _visible_code(session: Session, actor: Actor, customer_id: int) -> str | None:
    try:
        return customers.get_customer_for(session, customer_id, actor=actor).code
    except NotFound:
        return None


@router.get("/negotiations/new", response_class=HTMLResponse)
def negotiation_new(
    request: Request,
    session: SessionDep,
    actor: Negotiate,
    customer: Annotated[str, Query(max_length=64)] = "",
    deal: Annotated[str, Query(max_length=20)] = "",
    contract: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    form = {"customer": customer.strip(), "deal": "", "contract": "", "title": ""}
    # A deal or contract the actor may not see is ignored, like a missing one.
    if deal.strip().isdigit():
        row = session.get(Deal, int(deal))
        code = _visible_code(session, actor, row.customer_id) if row else None
        if row is not None and code is not None:
            form.update(deal=str(row.id), customer=code, title=row.title)
    if contract.strip().isdigit():
        found = session.get(Contract, int(contract))
        code = _visible_code(session, actor, found.customer_id) if found else None
        if found is not None and code is not None:
            form.update(
                contract=str(found.id),
                customer=code,
                title=_("Renewal of %(number)s", number=found.number),
            )
    return _new_page(request, session, actor, form=form)


@router.post("/negotiations", response_class=HTMLResponse)
def negotiation_create(
    request: Request,
    session: SessionDep,
    actor: Negotiate,
    customer: Annotated[str, Form(max_length=64)] = "",
    deal: Annotated[str, Form(max_length=20)] = "",
    contract: Annotated[str, Form(max_length=20)] = "",
    title: Short = "",
) -> Response:
    form = {"customer": customer, "deal": deal, "contract": contract, "title": title}
    errors: Errors = {}
    deal_id = _whole(deal, "deal", errors)
    contract_id = _whole(contract, "contract", errors)
    if not (customer.strip() or deal_id or contract_id):
        errors["customer"] = _("Name the account.")
    if not errors:
        try:
            with session.begin_nested():
                negotiation = negotiations.open_negotiation(
                    session,
                    actor=actor,
                    customer=customer.strip() or None,
                    deal_id=deal_id or None,
                    contract_id=contract_id or None,
                    title=title,
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            names = {"deal_id": "deal", "contract_id": "contract"}
            field = str(exc.details.get("field") or "form")
            errors = {names.get(field, field) if field in (*form, *names) else "form": exc.message}
        else:
            flash(request, _("Negotiation opened."))
            return redirect(f"/negotiations/{negotiation.id}")
    return _new_page(request, session, actor, form=form, errors=errors, status_code=422)


# ---------------------------------------------------------------- the workspace


def _reason_texts(reasons: list[str], grade: str | None) -> list[str]:
    settings = get_settings()
    out = []
    for reason in reasons:
        if reason == "discount":
            limit: Any = settings.concession_max_discount_percent
            out.append(_(REASON_LABELS[reason], limit=f"{limit:g}"))
        elif reason == "payment_days":
            out.append(_(REASON_LABELS[reason], limit=settings.concession_max_payment_days))
        else:
            limit = settings.max_terms_by_grade.get(grade or "", "")
            out.append(_(REASON_LABELS[reason], grade=grade or "", limit=limit))
    return out


def _workspace(session: Session, actor: Actor, negotiation: Negotiation) -> dict[str, Any]:
    customer = customers.get_customer_for(session, negotiation.customer_id, actor=actor)
    issues = negotiations.issues_of(session, negotiation.id)
    concessions = negotiations.concessions_of(session, negotiation.id)
    meetings = negotiations.meetings_of(session, negotiation.id)
    settings = get_settings()
    grade = negotiations.grade_of(session, customer.id, as_of=today())
    issue_names = {i.id: i.name for i in issues}
    users = dict(
        session.execute(
            select(User.id, User.display_name).where(
                User.id.in_(
                    {
                        u
                        for u in (
                            negotiation.owner_id,
                            *(c.approved_by_id for c in concessions),
                            *(c.logged_by_id for c in concessions),
                        )
                        if u
                    }
                )
            )
        ).all()
    )
    rows: list[dict[str, Any]] = []
    for concession in concessions:
        reasons = negotiations.approval_reasons(
            concession.discount_percent,
            concession.payment_days,
            settings=settings,
            grade=grade,
        )
        rows.append(
            {
                "c": concession,
                "issue": issue_names.get(concession.issue_id or 0),
                "reasons": _reason_texts(reasons, grade),
                "by": users.get(concession.logged_by_id or 0),
                "decided_by": users.get(concession.approved_by_id or 0),
            }
        )
    chart = negotiations.chart_data(issues)
    return {
        "negotiation": negotiation,
        "customer": customer,
        "deal": session.get(Deal, negotiation.deal_id) if negotiation.deal_id else None,
        "contract": (
            session.get(Contract, negotiation.contract_id) if negotiation.contract_id else None
        ),
        "owner": users.get(negotiation.owner_id or 0),
        "issues": [(i, negotiations.zopa_of(i)) for i in issues],
        "plan": [r for r in rows if r["c"].planned],
        "log": [r for r in rows if not r["c"].planned],
        "pending": sum(1 for r in rows if r["c"].approval_status == "pending"),
        "meetings": meetings,
        "grade": grade,
        "thresholds": {
            "discount": f"{settings.concession_max_discount_percent:g}",
            "days": settings.concession_max_payment_days,
            "grade_days": settings.max_terms_by_grade.get(grade) if grade else None,
        },
        "chart": {
            "issues": [
                {
                    **item,
                    "label": _(ISSUE_LABELS[item["name"]])
                    if item["name"] in ISSUE_LABELS
                    else item["name"],
                }
                for item in chart
            ],
            "labels": {
                "ours": _("Our range"),
                "theirs": _("Their range (our estimate)"),
                "zopa": _("ZOPA"),
                "agreed": _("Agreed"),
                "target": _("Our target"),
            },
        },
        "closed": negotiation.status == NegotiationStatus.CLOSED,
        "outcomes": [o.value for o in NegotiationOutcome],
        "standard_issues": negotiations.STANDARD_ISSUES,
    }


def _events(session: Session, negotiation: Negotiation) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.subject_type == "negotiation", AuditEvent.subject_id == negotiation.id
            )
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    negotiation: Negotiation,
    *,
    forms: Mapping[str, Mapping[str, str]] | None = None,
    errors: Mapping[str, Errors] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = _workspace(session, actor, negotiation)
    meetings = context["meetings"]
    defaults: dict[str, dict[str, str]] = {
        "sheet": {name: getattr(negotiation, name) or "" for name in SHEET_FIELDS},
        "issue": dict.fromkeys(ISSUE_FIELDS, "") | {"direction": ""},
        "concession": dict.fromkeys(CONCESSION_FIELDS, "")
        | {"kind": "logged", "meeting_id": str(meetings[-1].id) if meetings else ""},
        "meeting": {"held_on": today().isoformat(), "attendees": "", "notes": ""},
        "close": dict.fromkeys(CLOSE_FIELDS, ""),
        "decision": {"concession": "", "note": ""},
    }
    for name, form in (forms or {}).items():
        defaults[name] = {**defaults[name], **form}
    return _render(
        request,
        actor,
        "keyaccounts/negotiation_detail.html",
        {
            **context,
            "forms": defaults,
            "errors": {name: dict((errors or {}).get(name, {})) for name in defaults},
            "events": _events(session, negotiation),
        },
        status_code=status_code,
    )


@router.get("/negotiations/{negotiation_id}", response_class=HTMLResponse)
def negotiation_detail(
    request: Request, session: SessionDep, actor: CurrentActor, negotiation_id: Id
) -> Response:
    negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    return _detail_page(request, session, actor, negotiation)


@router.get("/negotiations/{negotiation_id}/print", response_class=HTMLResponse)
def negotiation_print(
    request: Request, session: SessionDep, actor: CurrentActor, negotiation_id: Id
) -> Response:
    negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    return _render(
        request,
        actor,
        "keyaccounts/negotiation_print.html",
        {**_workspace(session, actor, negotiation), "printed_on": today()},
    )


def _attempt(
    request: Request,
    session: Session,
    actor: Actor,
    negotiation: Negotiation,
    *,
    section: str,
    form: Mapping[str, str],
    errors: Errors,
    fields: tuple[str, ...],
    action: Any,
    done: str,
) -> Response:
    """Run ``action`` unless the form already has errors; redirect on success, else show the
    workspace again with the section's errors (nothing written)."""
    if not errors:
        try:
            with session.begin_nested():
                action()
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404) and not exc.details.get("field"):
                raise
            errors = field_error(exc, fields)
        else:
            flash(request, done)
            return redirect(f"/negotiations/{negotiation.id}#{section}")
    session.refresh(negotiation)
    return _detail_page(
        request,
        session,
        actor,
        negotiation,
        forms={section: form},
        errors={section: errors},
        status_code=422,
    )


@router.post("/negotiations/{negotiation_id}/sheet", response_class=HTMLResponse)
def negotiation_sheet(
    request: Request,
    session: SessionDep,
    actor: Negotiate,
    negotiation_id: Id,
    title: Short = "",
    our_objectives: Text = "",
    their_interests: Text = "",
    our_batna: Text = "",
    their_batna: Text = "",
) -> Response:
    negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    form = {
        "title": title,
        "our_objectives": our_objectives,
        "their_interests": their_interests,
        "our_batna": our_batna,
        "their_batna": their_batna,
    }
    errors: Errors = {}
    if not title.strip():
        errors["title"] = _("A negotiation needs a title.")
    return _attempt(
        request,
        session,
        actor,
        negotiation,
        section="sheet",
        form=form,
        errors=errors,
        fields=SHEET_FIELDS,
        action=lambda: negotiations.update_sheet(
            session, actor=actor, negotiation_id=negotiation.id, changes=form
        ),
        done=_("Preparation sheet saved."),
    )


@router.post("/negotiations/{negotiation_id}/issues", response_class=HTMLResponse)
def negotiation_issue(
    request: Request,
    session: SessionDep,
    actor: Negotiate,
    negotiation_id: Id,
    name: Annotated[str, Form(max_length=40)] = "",
    unit: Annotated[str, Form(max_length=20)] = "",
    direction: Annotated[str, Form(max_length=8)] = "",
    our_opening: Number = "",
    our_target: Number = "",
    our_walkaway: Number = "",
    their_opening: Number = "",
    their_target: Number = "",
    their_walkaway: Number = "",
) -> Response:
    negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    form = {
        "name": name,
        "unit": unit,
        "direction": direction,
        "our_opening": our_opening,
        "our_target": our_target,
        "our_walkaway": our_walkaway,
        "their_opening": their_opening,
        "their_target": their_target,
        "their_walkaway": their_walkaway,
    }
    errors: Errors = {}
    key = name.strip().lower().replace(" ", "_")
    if not key:
        errors["name"] = _("Name the issue.")
    # A blank position keeps what the issue has: the form changes only what is typed in.
    values: dict[str, Any] = {
        f: form[f] for f in form if f.startswith(("our_", "their_")) and form[f].strip()
    }
    if unit.strip():
        values["unit"] = unit
    if direction in ("higher", "lower"):
        values["higher_is_better"] = direction == "higher"
    return _attempt(
        request,
        session,
        actor,
        negotiation,
        section="issue",
        form=form,
        errors=errors,
        fields=ISSUE_FIELDS,
        action=lambda: negotiations.set_issue(
            session, actor=actor, negotiation_id=negotiation.id, name=key, values=values
        ),
        done=_("Issue saved."),
    )


@router.post("/negotiations/{negotiation_id}/concessions", response_class=HTMLResponse)
def negotiation_concession(
    request: Request,
    session: SessionDep,
    actor: Negotiate,
    negotiation_id: Id,
    give: Text = "",
    get: Text = "",
    discount_percent: Number = "",
    payment_days: Number = "",
    kind: Annotated[str, Form(max_length=8)] = "logged",
    meeting_id: Annotated[str, Form(max_length=20)] = "",
    issue: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    form = {
        "give": give,
        "get": get,
        "discount_percent": discount_percent,
        "payment_days": payment_days,
        "kind": kind,
        "meeting_id": meeting_id,
        "issue": issue,
    }
    errors: Errors = {}
    if not give.strip():
        errors["give"] = _("Say what we give.")
    discount: Decimal | None = None
    if discount_percent.strip():
        try:
            discount = Decimal(discount_percent.strip().rstrip("%"))
        except InvalidOperation:
            discount = None
        if discount is None or not discount.is_finite() or not 0 <= discount <= 100:
            errors["discount_percent"] = _("A percentage between 0 and 100.")
            discount = None
    days = _whole(payment_days, "payment_days", errors)
    meeting = _whole(meeting_id, "meeting_id", errors)
    return _attempt(
        request,
        session,
        actor,
        negotiation,
        section="concession",
        form=form,
        errors=errors,
        fields=CONCESSION_FIELDS,
        action=lambda: negotiations.log_concession(
            session,
            actor=actor,
            negotiation_id=negotiation.id,
            give=give,
            get=get,
            discount_percent=discount,
            payment_days=days,
            planned=kind == "planned",
            meeting_id=meeting if kind != "planned" else None,
            issue=issue.strip() or None,
            as_of=today(),
        ),
        done=_("Concession recorded."),
    )


@router.post("/concessions/{concession_id}/decision", response_class=HTMLResponse)
def concession_decision(
    request: Request,
    session: SessionDep,
    actor: ApproveConcessions,
    concession_id: Id,
    decision: Annotated[str, Form(max_length=8)] = "",
    note: Text = "",
) -> Response:
    concession = negotiations.get_concession_for(session, concession_id, actor=actor)
    negotiation = negotiations.get_negotiation_for(session, concession.negotiation_id, actor=actor)
    form = {"concession": str(concession.id), "note": note}
    errors: Errors = {}
    if decision not in ("approve", "reject"):
        errors["form"] = _("Choose to approve or to reject.")
    elif decision == "reject" and not note.strip():
        errors["note"] = _("Say why the concession is rejected.")
    return _attempt(
        request,
        session,
        actor,
        negotiation,
        section="decision",
        form=form,
        errors=errors,
        fields=("note",),
        action=lambda: negotiations.decide_concession(
            session,
            actor=actor,
            concession_id=concession.id,
            approve=decision == "approve",
            note=note,
        ),
        done=_("Concession approved.") if decision == "approve" else _("Concession rejected."),
    )


@router.post("/negotiations/{negotiation_id}/meetings", response_class=HTMLResponse)
def negotiation_meeting(
    request: Request,
    session: SessionDep,
    actor: Negotiate,
    negotiation_id: Id,
    held_on: Annotated[str, Form(max_length=20)] = "",
    attendees: Text = "",
    notes: Text = "",
) -> Response:
    negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    form = {"held_on": held_on, "attendees": attendees, "notes": notes}
    errors: Errors = {}
    day = form_day(held_on, "held_on", errors, default=today())
    return _attempt(
        request,
        session,
        actor,
        negotiation,
        section="meeting",
        form=form,
        errors=errors,
        fields=MEETING_FIELDS,
        action=lambda: negotiations.add_meeting(
            session,
            actor=actor,
            negotiation_id=negotiation.id,
            held_on=day,
            attendees=attendees,
            notes=notes,
        ),
        done=_("Meeting added."),
    )


@router.post("/negotiations/{negotiation_id}/close", response_class=HTMLResponse)
def negotiation_close(
    request: Request,
    session: SessionDep,
    actor: Negotiate,
    negotiation_id: Id,
    outcome: Annotated[str, Form(max_length=12)] = "",
    outcome_notes: Text = "",
    post_mortem: Text = "",
) -> Response:
    negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=actor)
    form = {"outcome": outcome, "outcome_notes": outcome_notes, "post_mortem": post_mortem}
    errors: Errors = {}
    if outcome not in {o.value for o in NegotiationOutcome}:
        errors["outcome"] = _("Choose the outcome.")
    return _attempt(
        request,
        session,
        actor,
        negotiation,
        section="close",
        form=form,
        errors=errors,
        fields=CLOSE_FIELDS,
        action=lambda: negotiations.close_negotiation(
            session,
            actor=actor,
            negotiation_id=negotiation.id,
            outcome=outcome,
            outcome_notes=outcome_notes,
            post_mortem=post_mortem,
        ),
        done=_("Negotiation closed."),
    )
