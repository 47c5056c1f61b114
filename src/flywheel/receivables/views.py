"""The receivables pages: the invoice list and one invoice (installments, what settled them,
credit notes, history) and issuing a credit note; payment entry is in ``payment_views``. The
same services as /api/v1/invoices and /credit-notes; a form's error is shown at its field and
nothing is written."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.customers.labels import ACTION_LABELS, FIELD_LABELS
from flywheel.errors import (
    Conflict,
    FlywheelError,
    InvalidAmount,
    InvoiceNotOpen,
)
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Customer
from flywheel.models.enums import InvoiceStatus
from flywheel.models.receivables import ZERO, Invoice
from flywheel.receivables import history, payment_views, service
from flywheel.receivables.page_kit import (
    SETTLEABLE,
    STATUS_LABELS,
    day_or_none,
    domain_error,
    field_errors,
    form_amount,
    form_date,
    invoice_url,
    shared,
)
from flywheel.receivables.schemas import CreditNoteNew
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, paged, word
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

IssueCreditNotes = Annotated[Actor, Depends(require(Permission.ISSUE_CREDIT_NOTES))]

PAGE_SIZE = 50
MAX_PAGE = 100_000
_FILTER_STATUSES = [(s.value, STATUS_LABELS[s]) for s in InvoiceStatus]

# The list's sort keys: the service's sorts, by the name the page's links carry.
_SORTS: dict[str, service.InvoiceSort] = {
    "issue_date": service.InvoiceSort.ISSUE_DATE,
    "number": service.InvoiceSort.NUMBER,
    "amount": service.InvoiceSort.AMOUNT,
    "due_date": service.InvoiceSort.DUE_DATE,
    "days_overdue": service.InvoiceSort.DAYS_OVERDUE,
}
_DEFAULT_SORT = "issue_date"


# ---------------------------------------------------------------- the invoice list


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    """The invoice list's query string, read: what the page and its exports list."""

    flt: service.InvoiceFilter
    day: date
    sort: str
    order: str
    filters: dict[str, Any]  # what the form, the sort links and the pager carry
    problems: list[str]


def invoice_query(
    q: Annotated[str, Query(max_length=64)] = "",
    customer: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    overdue: Annotated[str, Query(max_length=5)] = "",
    due_from: Annotated[str, Query(max_length=20)] = "",
    due_to: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=20)] = _DEFAULT_SORT,
    order: Annotated[str, Query(max_length=4)] = "",
    as_of: Annotated[str, Query(max_length=20)] = "",
) -> InvoiceQuery:
    """The filters; a value that cannot be read is named in ``problems`` and ignored."""
    problems: list[str] = []

    def checked_day(text: str, label: str) -> date | None:
        try:
            return day_or_none(text)
        except ValueError:
            problems.append(_("%(field)s is not a date; it was ignored.") % {"field": label})
            return None

    day = checked_day(as_of, _("As of")) or today()
    start, end = checked_day(due_from, _("Due from")), checked_day(due_to, _("Due to"))
    if start is not None and end is not None and end < start:
        problems.append(_("The due date range ends before it starts."))
    if status and status not in InvoiceStatus.__members__.values():
        problems.append(_("Unknown status %(status)s; it was ignored.") % {"status": status})
        status = ""
    if sort not in _SORTS:
        sort = _DEFAULT_SORT
    if order not in ("asc", "desc"):
        order = "asc" if sort == "number" else "desc"
    flt = service.InvoiceFilter(
        customer=customer.strip() or None,
        status=status or None,
        overdue=True if overdue else None,
        due_from=start,
        due_to=end,
        search=q.strip() or None,
    )
    filters = {
        "q": q,
        "customer": customer,
        "status": status,
        "overdue": bool(overdue),
        "due_from": start.isoformat() if start else "",
        "due_to": end.isoformat() if end else "",
        "sort": sort,
        "order": order,
        "as_of": as_of.strip() if as_of.strip() and day != today() else "",
    }
    return InvoiceQuery(flt, day, sort, order, filters, problems)


InvoiceParams = Annotated[InvoiceQuery, Depends(invoice_query)]


def _invoices(
    session: Session, actor: Actor, params: InvoiceQuery, limit: int, offset: int
) -> tuple[list[service.InvoiceRow], int]:
    return service.list_invoices(
        session,
        params.flt,
        actor=actor,
        as_of=params.day,
        limit=limit,
        offset=offset,
        sort=_SORTS[params.sort],
        descending=params.order == "desc",
    )


@router.get("/invoices", response_class=HTMLResponse)
def invoice_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    params: InvoiceParams,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """The invoices of the accounts the actor may see, as they stand on ``as_of`` (today)."""
    rows, total = _invoices(session, actor, params, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    filters = params.filters
    return render(
        request,
        "receivables/invoices.html",
        {
            **shared(),
            "rows": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "first": (page - 1) * PAGE_SIZE + 1 if rows else 0,
            "last": (page - 1) * PAGE_SIZE + len(rows),
            "filters": filters,
            "filtered": any(
                filters[k] for k in ("q", "customer", "status", "overdue", "due_from", "due_to")
            ),
            "statuses": _FILTER_STATUSES,
            "problems": params.problems,
            "as_of": params.day,
        },
        actor=actor,
    )


_INVOICE_HEADERS = (
    N_("Number"),
    N_("Customer code"),
    N_("Customer"),
    N_("Issued"),
    N_("Due"),
    N_("Next due"),
    N_("Currency"),
    N_("Amount"),
    N_("Open"),
    N_("Days overdue"),
    N_("Status"),
)


@router.get("/invoices/export.{format}")
def invoice_export(
    session: SessionDep, actor: CurrentActor, params: InvoiceParams, format: ExportFormat
) -> Response:
    """The filtered list, every page, in the list's order, as CSV or XLSX."""
    rows = paged(lambda size, offset: _invoices(session, actor, params, size, offset)[0])
    return download(
        _INVOICE_HEADERS,
        (
            [
                row.invoice.number,
                row.customer_code,
                row.customer_name,
                row.invoice.issue_date,
                row.due_date,
                row.next_due_date,
                row.invoice.currency,
                row.invoice.amount,
                row.invoice.open_amount,
                row.days_overdue,
                word(STATUS_LABELS, row.state),
            ]
            for row in rows
        ),
        stem="invoices",
        format=format,
        title=N_("Invoices"),
        day=params.day,
    )


# ---------------------------------------------------------------- one invoice


@dataclass(frozen=True, slots=True)
class HistoryLine:
    occurred_at: datetime
    actor_name: str
    action: str
    summary: str


def _money_text(value: Any, currency: str) -> str:
    try:
        return i18n.money(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError):
        return str(value)


def _history_line(event: AuditEvent, invoice: Invoice) -> HistoryLine:
    """One audit event as the invoice's history says it: what happened, in a few words."""
    after: Mapping[str, Any] = event.after or {}
    before: Mapping[str, Any] = event.before or {}
    cur = invoice.currency
    parts: list[str] = []
    if event.subject_type == "payment":
        cur = str(after.get("currency") or cur)
        here = [a for a in after.get("allocations") or [] if a.get("invoice") == invoice.number]
        if after.get("reference"):
            parts.append(str(after["reference"]))
        if after.get("amount"):
            parts.append(_money_text(after["amount"], cur))
        if here:
            applied = sum((Decimal(str(a.get("amount", "0"))) for a in here), ZERO)
            parts.append(
                _("%(amount)s applied to this invoice") % {"amount": i18n.money(applied, cur)}
            )
    elif event.subject_type == "allocation":
        snapshot = after or before
        if snapshot.get("payment"):
            parts.append(str(snapshot["payment"]))
        if snapshot.get("installment"):
            parts.append(_("installment %(n)s") % {"n": snapshot["installment"]})
        if snapshot.get("amount"):
            parts.append(_money_text(snapshot["amount"], cur))
    elif event.subject_type == "credit_note":
        parts += [str(after.get("number") or "")]
        if after.get("amount"):
            parts.append(_money_text(after["amount"], cur))
        if after.get("reason"):
            parts.append(str(after["reason"]))
    else:
        if event.action == "invoice.created" and after.get("amount"):
            parts.append(_money_text(after["amount"], str(after.get("currency") or cur)))
        if after.get("written_off"):
            parts.append(_money_text(after["written_off"], cur))
        if after.get("reason"):
            parts.append(str(after["reason"]))
        if event.action == "invoice.updated":
            fields = [k for k in after if k != "installments" and before.get(k) != after.get(k)]
            parts += [
                f"{_(FIELD_LABELS.get(k, k))}: {before.get(k)} → {after.get(k)}" for k in fields
            ]
    return HistoryLine(
        occurred_at=event.occurred_at,
        actor_name=event.actor_name,
        action=event.action,
        summary=" · ".join(p for p in parts if p),
    )


@router.get("/invoices/{number:path}/credit-notes/new", response_class=HTMLResponse)
def credit_note_form(
    request: Request, number: str, session: SessionDep, actor: IssueCreditNotes
) -> Response:
    invoice, customer = _invoice_and_customer(session, number, actor)
    form = CreditNoteForm(issue_date=today().isoformat())
    return _credit_note_page(request, actor, invoice, customer, form, {})


@router.post("/invoices/{number:path}/credit-notes/new", response_class=HTMLResponse)
def issue_credit_note(
    request: Request,
    number: str,
    session: SessionDep,
    actor: IssueCreditNotes,
    note_number: Annotated[str, Form(alias="number", max_length=200)] = "",
    issue_date: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=60)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    invoice, customer = _invoice_and_customer(session, number, actor)
    form = CreditNoteForm(number=note_number, issue_date=issue_date, amount=amount, reason=reason)
    data, errors = _credit_note_input(form, invoice)
    if data is not None:
        try:
            with session.begin_nested():
                note = service.credit_invoice(session, actor=actor, data=data)
        except FlywheelError as exc:
            errors = _credit_note_error(exc, invoice)
        else:
            flash(
                request,
                _("Credit note %(number)s of %(amount)s issued; %(open)s is still open.")
                % {
                    "number": note.number,
                    "amount": i18n.money(note.amount, note.currency),
                    "open": i18n.money(invoice.open_amount, invoice.currency),
                },
            )
            return redirect(invoice_url(invoice.number))
    return _credit_note_page(request, actor, invoice, customer, form, errors, status_code=422)


@router.get("/invoices/{number:path}", response_class=HTMLResponse)
def invoice_page(
    request: Request,
    number: str,
    session: SessionDep,
    actor: CurrentActor,
    as_of: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One invoice as it stands on ``as_of`` (today): installments, what settled them, its
    credit notes and its history."""
    try:
        day = day_or_none(as_of) or today()
    except ValueError:
        day = today()
    detail = service.invoice_detail(session, number, actor=actor, as_of=day)
    invoice = detail.row.invoice
    events = history.invoice_history_of(session, invoice)
    return render(
        request,
        "receivables/invoice.html",
        {
            **shared(),
            "detail": detail,
            "invoice": invoice,
            "row": detail.row,
            "state": detail.row.state,
            "days_overdue": max((days for _i, days in detail.installments), default=0),
            "invoice_open": invoice.status in SETTLEABLE,
            "history": [_history_line(e, invoice) for e in events],
            "action_labels": ACTION_LABELS,
            "as_of": day,
        },
        actor=actor,
    )


# ---------------------------------------------------------------- credit notes


@dataclass(slots=True)
class CreditNoteForm:
    number: str = ""
    issue_date: str = ""
    amount: str = ""
    reason: str = ""


def _invoice_and_customer(session: Any, number: str, actor: Actor) -> tuple[Invoice, Customer]:
    invoice = service.get_invoice_for(session, number, actor=actor)
    return invoice, customers.get_customer_for(session, invoice.customer_id, actor=actor)


def _credit_note_page(
    request: Request,
    actor: Actor,
    invoice: Invoice,
    customer: Customer,
    form: CreditNoteForm,
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "receivables/credit_note_form.html",
        {
            **shared(),
            "invoice": invoice,
            "customer": customer,
            "invoice_open": invoice.status in SETTLEABLE,
            "form": form,
            "errors": errors,
        },
        actor=actor,
        status_code=status_code,
    )


def _credit_note_input(
    form: CreditNoteForm, invoice: Invoice
) -> tuple[CreditNoteNew | None, dict[str, str]]:
    errors: dict[str, str] = {}
    day = form_date(form.issue_date, "issue_date", errors)
    value = form_amount(form.amount, errors, currency=invoice.currency)
    if errors or day is None or value is None:
        return None, errors
    try:
        data = CreditNoteNew(
            number=form.number,
            invoice=invoice.number,
            issue_date=day,
            amount=value,
            reason=form.reason.strip() or None,
        )
    except ValidationError as exc:
        return None, field_errors(exc, _CREDIT_NOTE_FIELDS)
    return data, {}


_CREDIT_NOTE_FIELDS = {
    "number": "number",
    "issue_date": "issue_date",
    "amount": "amount",
    "reason": "reason",
}


def _credit_note_error(exc: FlywheelError, invoice: Invoice) -> dict[str, str]:
    if isinstance(exc, Conflict) and not isinstance(exc, InvoiceNotOpen):
        return {"number": _("A credit note with this number already exists.")}
    if isinstance(exc, InvalidAmount):
        return {
            "amount": _("A credit note can be at most the open amount, %(open)s.")
            % {"open": i18n.money(invoice.open_amount, invoice.currency)}
        }
    if isinstance(exc, InvoiceNotOpen):
        return {"form": _("This invoice is no longer open; a credit note needs an open invoice.")}
    return domain_error(exc)


# Payment entry lives in a module of its own; its routes are mounted with these.
router.include_router(payment_views.router)
