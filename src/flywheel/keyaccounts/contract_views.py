"""The contract pages: the list with renewal dates and filters, the new-contract form, one
contract with its milestones (add one, mark one done, change the contract), and the
key-account tasks of the signed-in user with their done forms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.keyaccounts import contracts, tasks
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Customer
from flywheel.models.enums import AccountTaskStatus, ContractStatus, MilestoneKind
from flywheel.models.keyaccounts import Contract, ContractMilestone
from flywheel.models.receivables import Invoice
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, paged, word
from flywheel.web.forms import Errors, field_error, form_day
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

ManageContracts = Annotated[Actor, Depends(require(Permission.MANAGE_CONTRACTS))]
Short = Annotated[str, Form(max_length=200)]
Field20 = Annotated[str, Form(max_length=20)]
Text = Annotated[str, Form(max_length=4000)]

PAGE_SIZE = 50
MAX_PAGE = 100_000
STATUS_CHOICES = ("live", "all", *(s.value for s in ContractStatus))
RENEWING = (30, 60, 90, 180, 365)
CONTRACT_FORM = (
    "customer",
    "number",
    "title",
    "value",
    "currency",
    "start_on",
    "end_on",
    "renewal_on",
    "payment_terms",
    "status",
    "owner_id",
    "notes",
)
MILESTONE_FORM = ("title", "kind", "due_on", "amount", "invoice_id", "checkpoint")

STATUS_LABELS: dict[str, str] = {
    ContractStatus.DRAFT: N_("Draft"),
    ContractStatus.ACTIVE: N_("Active"),
    ContractStatus.EXPIRED: N_("Expired"),
    ContractStatus.RENEWED: N_("Renewed"),
    ContractStatus.TERMINATED: N_("Terminated"),
}
KIND_LABELS: dict[str, str] = {
    MilestoneKind.DELIVERABLE: N_("Deliverable"),
    MilestoneKind.ACCEPTANCE: N_("Acceptance"),
    MilestoneKind.PAYMENT: N_("Payment"),
    MilestoneKind.REVIEW: N_("Review"),
}
CHECKPOINT_LABELS: dict[str, str] = {
    "": N_("None"),
    "survey": N_("Survey the decision makers"),
    "task": N_("A task for the owner"),
}
TASK_KIND_LABELS: dict[str, str] = {
    "renewal": N_("Renewal"),
    "plan_review": N_("Plan review"),
    "milestone_checkpoint": N_("Milestone checkpoint"),
    "milestone_overdue": N_("Milestone overdue"),
}
TASK_STATUS_LABELS: dict[str, str] = {
    AccountTaskStatus.OPEN: N_("Open"),
    AccountTaskStatus.DONE: N_("Done"),
    AccountTaskStatus.CANCELLED: N_("Cancelled"),
}
ACTION_LABELS: dict[str, str] = {
    "contract.created": N_("Contract recorded"),
    "contract.updated": N_("Contract changed"),
    "contract.expired": N_("Contract expired"),
    "contract.milestone_added": N_("Milestone added"),
    "contract.milestone_done": N_("Milestone done"),
}


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
        "kind_labels": KIND_LABELS,
        "checkpoint_labels": CHECKPOINT_LABELS,
        "task_kind_labels": TASK_KIND_LABELS,
        "task_status_labels": TASK_STATUS_LABELS,
        "action_labels": ACTION_LABELS,
    }
    return render(request, template, {**labels, **context}, actor=actor, status_code=status_code)


def _users(session: Session) -> list[tuple[int, str]]:
    return [
        (uid, display or name)
        for uid, name, display in session.execute(
            select(User.id, User.username, User.display_name).order_by(User.username)
        )
    ]


# ---------------------------------------------------------------- the list


def _contract_filter(status: str, renewing: str, q: str, day: date) -> contracts.ContractFilter:
    """The list's filters: live contracts unless another status is chosen ("all": every one)."""
    chosen = status if status in STATUS_CHOICES else "live"
    return contracts.ContractFilter(
        status=None if chosen == "all" else chosen,
        renewing_within=int(renewing) if renewing.isdigit() and int(renewing) in RENEWING else None,
        search=q.strip() or None,
        as_of=day,
    )


@router.get("/contracts", response_class=HTMLResponse)
def contract_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[str, Query(max_length=16)] = "live",
    renewing: Annotated[str, Query(max_length=5)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    day = today()
    flt = _contract_filter(status, renewing, q, day)
    chosen, within = flt.status or "all", flt.renewing_within
    rows, total = contracts.list_contracts(
        session, actor, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return _render(
        request,
        actor,
        "keyaccounts/contract_list.html",
        {
            "rows": [(c, a, contracts.days_to_renewal(c, day)) for c, a in rows],
            "total": total,
            "more": page * PAGE_SIZE < total,
            "page": page,
            "shown": {"status": chosen, "renewing": within, "q": q},
            "statuses": STATUS_CHOICES,
            "renewing_choices": RENEWING,
        },
    )


@router.get("/contracts/export.{format}")
def contract_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    status: Annotated[str, Query(max_length=16)] = "live",
    renewing: Annotated[str, Query(max_length=5)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The filtered contracts, every page, soonest renewal first."""
    day = today()
    flt = _contract_filter(status, renewing, q, day)
    rows = list(
        paged(
            lambda size, offset: contracts.list_contracts(
                session, actor, flt, limit=size, offset=offset
            )[0]
        )
    )
    names = dict(_users(session))
    return download(
        (
            N_("Number"),
            N_("Account code"),
            N_("Account"),
            N_("Title"),
            N_("Currency"),
            N_("Value"),
            N_("Starts"),
            N_("Ends"),
            N_("Renewal"),
            N_("Days to renewal"),
            N_("Payment terms"),
            N_("Owner"),
            N_("Status"),
        ),
        (
            [
                contract.number,
                account.code,
                account.name,
                contract.title,
                contract.currency,
                contract.value,
                contract.start_on,
                contract.end_on,
                contract.renewal_on or contract.end_on,
                contracts.days_to_renewal(contract, day),
                contract.payment_terms,
                names.get(contract.owner_id) if contract.owner_id else None,
                word(STATUS_LABELS, contract.status),
            ]
            for contract, account in rows
        ),
        stem="contracts",
        format=format,
        title=N_("Contracts"),
    )


# ---------------------------------------------------------------- a new contract


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: Mapping[str, str],
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        actor,
        "keyaccounts/contract_form.html",
        {
            "form": form,
            "errors": errors or {},
            "users": _users(session),
            "statuses": [s.value for s in ContractStatus],
        },
        status_code=status_code,
    )


@router.get("/contracts/new", response_class=HTMLResponse)
def contract_new(
    request: Request,
    session: SessionDep,
    actor: ManageContracts,
    customer: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    account: Customer | None = None
    if customer.strip():
        try:
            account = customers.get_customer_by_code(session, customer.strip(), actor=actor)
        except NotFound:
            account = None
    form = dict.fromkeys(CONTRACT_FORM, "")
    form.update(
        {
            "customer": account.code if account else "",
            "currency": account.currency if account else "",
            "payment_terms": account.payment_terms if account else "",
            "status": ContractStatus.ACTIVE.value,
            "start_on": today().isoformat(),
        }
    )
    return _new_page(request, session, actor, form=form)


@router.post("/contracts", response_class=HTMLResponse)
def contract_create(
    request: Request,
    session: SessionDep,
    actor: ManageContracts,
    customer: Annotated[str, Form(max_length=64)] = "",
    number: Annotated[str, Form(max_length=64)] = "",
    title: Short = "",
    value: Annotated[str, Form(max_length=30)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    start_on: Field20 = "",
    end_on: Field20 = "",
    renewal_on: Field20 = "",
    payment_terms: Field20 = "",
    status: Field20 = "active",
    owner_id: Field20 = "",
    notes: Text = "",
) -> Response:
    form = {
        "customer": customer,
        "number": number,
        "title": title,
        "value": value,
        "currency": currency,
        "start_on": start_on,
        "end_on": end_on,
        "renewal_on": renewal_on,
        "payment_terms": payment_terms,
        "status": status,
        "owner_id": owner_id,
        "notes": notes,
    }
    errors: Errors = {}
    if not customer.strip():
        errors["customer"] = _("Name the account (its code).")
    start = form_day(start_on, "start_on", errors, required=True)
    end = form_day(end_on, "end_on", errors, required=True)
    renewal = form_day(renewal_on, "renewal_on", errors)
    if not errors:
        try:
            with session.begin_nested():
                contract = contracts.create_contract(
                    session,
                    actor=actor,
                    customer=customer.strip(),
                    data={
                        "number": number,
                        "title": title,
                        "value": value,
                        "currency": currency or None,
                        "start_on": start,
                        "end_on": end,
                        "renewal_on": renewal,
                        "payment_terms": payment_terms or None,
                        "status": status or None,
                        "owner_id": owner_id or None,
                        "notes": notes,
                    },
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = field_error(exc, CONTRACT_FORM)
        else:
            flash(request, _("Contract %(number)s recorded.", number=contract.number))
            return redirect(f"/contracts/{contract.id}")
    return _new_page(request, session, actor, form=form, errors=errors, status_code=422)


# ---------------------------------------------------------------- one contract


def _timeline(session: Session, contract: Contract) -> list[AuditEvent]:
    milestone_ids = select(ContractMilestone.id).where(ContractMilestone.contract_id == contract.id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    and_(
                        AuditEvent.subject_type == "contract",
                        AuditEvent.subject_id == contract.id,
                    ),
                    and_(
                        AuditEvent.subject_type == "contract_milestone",
                        AuditEvent.subject_id.in_(milestone_ids),
                    ),
                )
            )
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
            .limit(200)
        )
    )


def _contract_form(contract: Contract) -> dict[str, str]:
    return {
        "title": contract.title,
        "value": f"{contract.value:.2f}",
        "currency": contract.currency,
        "start_on": contract.start_on.isoformat(),
        "end_on": contract.end_on.isoformat(),
        # Left empty while it follows the end, so changing the end moves it too.
        "renewal_on": (
            contract.renewal_on.isoformat()
            if contract.renewal_on and contract.renewal_on != contract.end_on
            else ""
        ),
        "payment_terms": contract.payment_terms,
        "status": contract.status,
        "owner_id": str(contract.owner_id or ""),
        "notes": contract.notes or "",
    }


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    contract: Contract,
    *,
    edit_form: Mapping[str, str] | None = None,
    milestone_form: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    account = customers.get_customer_for(session, contract.customer_id, actor=actor)
    day = today()
    invoices = list(
        session.execute(
            select(Invoice.id, Invoice.number, Invoice.amount, Invoice.currency)
            .where(Invoice.customer_id == account.id)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
            .limit(100)
        )
    )
    owner = session.get(User, contract.owner_id or 0)
    return _render(
        request,
        actor,
        "keyaccounts/contract_detail.html",
        {
            "contract": contract,
            "account": account,
            "owner": owner,
            "renewal_on": contract.renewal_on or contract.end_on,
            "renewal_in": contracts.days_to_renewal(contract, day),
            "milestones": contracts.milestones_of(session, contract.id),
            "invoices": invoices,
            "today": day,
            "users": _users(session),
            "statuses": [s.value for s in ContractStatus],
            "kinds": [k.value for k in MilestoneKind],
            "edit_form": {**_contract_form(contract), **(edit_form or {})},
            "milestone_form": {
                **dict.fromkeys(MILESTONE_FORM, ""),
                "kind": MilestoneKind.DELIVERABLE.value,
                **(milestone_form or {}),
            },
            "events": _timeline(session, contract),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_detail(
    request: Request, session: SessionDep, actor: CurrentActor, contract_id: Id
) -> Response:
    contract = contracts.get_contract_for(session, contract_id, actor=actor)
    return _detail_page(request, session, actor, contract)


@router.post("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_change(
    request: Request,
    session: SessionDep,
    actor: ManageContracts,
    contract_id: Id,
    title: Short = "",
    value: Annotated[str, Form(max_length=30)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    start_on: Field20 = "",
    end_on: Field20 = "",
    renewal_on: Field20 = "",
    payment_terms: Field20 = "",
    status: Field20 = "",
    owner_id: Field20 = "",
    notes: Text = "",
) -> Response:
    contract = contracts.get_contract_for(session, contract_id, actor=actor)
    form = {
        "title": title,
        "value": value,
        "currency": currency,
        "start_on": start_on,
        "end_on": end_on,
        "renewal_on": renewal_on,
        "payment_terms": payment_terms,
        "status": status,
        "owner_id": owner_id,
        "notes": notes,
    }
    errors: Errors = {}
    start = form_day(start_on, "start_on", errors, required=True)
    end = form_day(end_on, "end_on", errors, required=True)
    renewal = form_day(renewal_on, "renewal_on", errors)
    if not errors:
        try:
            with session.begin_nested():
                contracts.edit_contract(
                    session,
                    actor=actor,
                    contract_id=contract.id,
                    changes={
                        "title": title,
                        "value": value,
                        "currency": currency,
                        "start_on": start,
                        "end_on": end,
                        "renewal_on": renewal,
                        "payment_terms": payment_terms,
                        "status": status,
                        "owner_id": owner_id or None,
                        "notes": notes,
                    },
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = field_error(exc, CONTRACT_FORM)
        else:
            flash(request, _("Contract saved."))
            return redirect(f"/contracts/{contract.id}")
    session.refresh(contract)
    return _detail_page(
        request, session, actor, contract, edit_form=form, errors=errors, status_code=422
    )


@router.post("/contracts/{contract_id}/milestones", response_class=HTMLResponse)
def milestone_add(
    request: Request,
    session: SessionDep,
    actor: ManageContracts,
    contract_id: Id,
    title: Short = "",
    kind: Field20 = "",
    due_on: Field20 = "",
    amount: Annotated[str, Form(max_length=30)] = "",
    invoice_id: Field20 = "",
    checkpoint: Field20 = "",
) -> Response:
    contract = contracts.get_contract_for(session, contract_id, actor=actor)
    form = {
        "title": title,
        "kind": kind,
        "due_on": due_on,
        "amount": amount,
        "invoice_id": invoice_id,
        "checkpoint": checkpoint,
    }
    errors: Errors = {}
    due = form_day(due_on, "due_on", errors, required=True)
    if not errors:
        try:
            with session.begin_nested():
                contracts.add_milestone(
                    session,
                    actor=actor,
                    contract_id=contract.id,
                    data={**form, "due_on": due},
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = {f"milestone_{k}": v for k, v in field_error(exc, MILESTONE_FORM).items()}
        else:
            flash(request, _("Milestone added."))
            return redirect(f"/contracts/{contract.id}")
    else:
        errors = {f"milestone_{k}": v for k, v in errors.items()}
    return _detail_page(
        request, session, actor, contract, milestone_form=form, errors=errors, status_code=422
    )


@router.post("/milestones/{milestone_id}/done", response_class=HTMLResponse)
def milestone_done(
    request: Request,
    session: SessionDep,
    actor: ManageContracts,
    milestone_id: Id,
    done_on: Field20 = "",
) -> Response:
    milestone = contracts.get_milestone_for(session, milestone_id, actor=actor)
    errors: Errors = {}
    day = form_day(done_on, "done_on", errors) or today()
    if day > today():
        errors["done_on"] = _("A milestone cannot be done in the future.")
    if not errors:
        try:
            with session.begin_nested():
                _m, checkpoint = contracts.complete_milestone(
                    session,
                    actor=actor,
                    milestone_id=milestone.id,
                    on=day,
                    settings=get_settings(),
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = {"form": exc.message}
        else:
            if checkpoint.invitations:
                flash(
                    request,
                    _(
                        "Milestone done; %(num)s survey invitations planned.",
                        num=checkpoint.invitations,
                    ),
                )
            elif checkpoint.task_id:
                flash(request, _("Milestone done; a follow-up task was opened."))
            else:
                flash(request, _("Milestone done."))
            return redirect(f"/contracts/{milestone.contract_id}")
    contract = contracts.get_contract_for(session, milestone.contract_id, actor=actor)
    session.refresh(milestone)
    return _detail_page(
        request,
        session,
        actor,
        contract,
        errors={f"done_{milestone.id}": next(iter(errors.values()))},
        status_code=422,
    )


# ---------------------------------------------------------------- tasks


def _task_filter(scope: str, status: str) -> tasks.TaskFilter:
    """My tasks unless "all" is asked for; the open ones unless another status is."""
    chosen = status if status in ("open", "done", "cancelled", "all") else "open"
    return tasks.TaskFilter(
        mine=scope != "all",
        status=None if chosen == "all" else AccountTaskStatus(chosen),
    )


@router.get("/accounts/tasks", response_class=HTMLResponse)
def task_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    scope: Annotated[str, Query(max_length=8)] = "mine",
    status: Annotated[str, Query(max_length=12)] = "open",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    flt = _task_filter(scope, status)
    mine, chosen = flt.mine, flt.status.value if flt.status else "all"
    rows, total = tasks.list_tasks(
        session, actor, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return _render(
        request,
        actor,
        "keyaccounts/task_list.html",
        {
            "rows": rows,
            "total": total,
            "more": page * PAGE_SIZE < total,
            "page": page,
            "today": today(),
            "shown": {"scope": "mine" if mine else "all", "status": chosen},
        },
    )


@router.get("/accounts/tasks/export.{format}")
def task_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    scope: Annotated[str, Query(max_length=8)] = "mine",
    status: Annotated[str, Query(max_length=12)] = "open",
) -> Response:
    """The filtered tasks, every page, soonest due first."""
    flt = _task_filter(scope, status)
    rows = list(
        paged(
            lambda size, offset: tasks.list_tasks(session, actor, flt, limit=size, offset=offset)[0]
        )
    )
    names = dict(_users(session))
    return download(
        (
            N_("Due"),
            N_("Account code"),
            N_("Account"),
            N_("Kind"),
            N_("Task"),
            N_("Note"),
            N_("Owner"),
            N_("Status"),
            N_("Created on"),
        ),
        (
            [
                task.due_on,
                account.code,
                account.name,
                word(TASK_KIND_LABELS, task.kind),
                task.title,
                task.note,
                names.get(task.owner_id) if task.owner_id else None,
                word(TASK_STATUS_LABELS, task.status),
                task.created_on,
            ]
            for task, account in rows
        ),
        stem="key-account-tasks",
        format=format,
        title=N_("Key-account tasks"),
    )


@router.post("/accounts/tasks/{task_id}/done", response_class=HTMLResponse)
def task_done(
    request: Request,
    session: SessionDep,
    actor: ManageContracts,
    task_id: Id,
    status: Field20 = "done",
    note: Text = "",
) -> Response:
    tasks.get_task_for(session, task_id, actor=actor)
    try:
        with session.begin_nested():
            tasks.close_task(session, actor=actor, task_id=task_id, status=status, note=note)
    except FlywheelError as exc:
        if http_status_for(exc) in (403, 404):
            raise
        flash(request, exc.message, level="error")
    else:
        flash(request, _("Task closed."))
    return redirect("/accounts/tasks")
