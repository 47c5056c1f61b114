"""Recording a payment from a page: the form, customer suggestions, the live preview of what
the payment will settle (the API's preview, which writes nothing) and the recording itself
(the API's service); an error is shown at its field and nothing is written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.customers.labels import PAYMENT_METHOD_LABELS
from flywheel.customers.repository import CustomerFilter
from flywheel.errors import Conflict, CurrencyMismatch, FlywheelError, NotFound, ValidationFailed
from flywheel.kit import i18n
from flywheel.kit.i18n import gettext as _
from flywheel.models.customers import Customer
from flywheel.models.enums import PaymentMethod
from flywheel.models.receivables import ZERO, Invoice
from flywheel.receivables import service
from flywheel.receivables.page_kit import (
    amount_and_currency,
    customer_url,
    domain_error,
    field_errors,
    form_date,
    invoice_url,
    shared,
)
from flywheel.receivables.schemas import PaymentNew
from flywheel.web.auth import require
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

RecordPayments = Annotated[Actor, Depends(require(Permission.RECORD_PAYMENTS))]

SUGGESTIONS = 12


@dataclass(slots=True)
class PaymentForm:
    customer: str = ""
    reference: str = ""
    received_on: str = ""
    amount: str = ""
    currency: str = ""
    method: str = PaymentMethod.BANK_TRANSFER.value
    invoice: str = ""


@dataclass(frozen=True, slots=True)
class PreviewLine:
    invoice_number: str
    sequence: int
    due_date: date
    open_before: Decimal
    applied: Decimal

    @property
    def open_after(self) -> Decimal:
        return self.open_before - self.applied


@dataclass(frozen=True, slots=True)
class PreviewView:
    customer_code: str
    customer_name: str
    currency: str
    amount: Decimal
    lines: list[PreviewLine]
    applied: Decimal
    remainder: Decimal
    unpaid_invoice: str | None = None


@dataclass(slots=True)
class PaymentState:
    """What the payment page shows: the form as typed, errors by field, the preview."""

    form: PaymentForm
    errors: dict[str, str] = field(default_factory=dict)
    customer: Customer | None = None
    preview: PreviewView | None = None
    preview_problem: str | None = None


def _payment_form(
    customer: str = Form("", max_length=200),
    reference: str = Form("", max_length=200),
    received_on: str = Form("", max_length=40),
    amount: str = Form("", max_length=60),
    currency: str = Form("", max_length=20),
    method: str = Form(PaymentMethod.BANK_TRANSFER.value, max_length=40),
    invoice: str = Form("", max_length=200),
) -> PaymentForm:
    return PaymentForm(
        customer=customer,
        reference=reference,
        received_on=received_on,
        amount=amount,
        currency=currency,
        method=method,
        invoice=invoice,
    )


PaymentFormDep = Annotated[PaymentForm, Depends(_payment_form)]


@router.get("/payments/new", response_class=HTMLResponse)
def payment_form(
    request: Request,
    session: SessionDep,
    actor: RecordPayments,
    customer: Annotated[str, Query(max_length=64)] = "",
    invoice: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    form = PaymentForm(
        customer=customer.strip(), invoice=invoice.strip(), received_on=today().isoformat()
    )
    state = PaymentState(form=form)
    named = _named_invoice(session, actor, form.invoice)
    if named is not None and not form.customer:
        # Opened from an invoice only: its account is the payer.
        form.customer = customers.get_customer_for(session, named.customer_id, actor=actor).code
    if form.customer:
        state.customer = _visible_customer(session, form.customer, actor, state.errors)
    return _payment_page(request, session, actor, state)


def _named_invoice(session: Any, actor: Actor, number: str) -> Invoice | None:
    """The invoice typed in the form, if there is one the actor may see."""
    if not number.strip():
        return None
    try:
        return service.get_invoice_for(session, number.strip(), actor=actor)
    except NotFound:
        return None


@router.get("/payments/customers", response_class=HTMLResponse)
def customer_options(
    request: Request,
    session: SessionDep,
    actor: RecordPayments,
    customer: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Suggestions for the customer field: accounts in the actor's scope whose code, name or
    contact matches what was typed."""
    return render(
        request,
        "receivables/_customer_options.html",
        {"customer_options": _suggestions(session, actor, customer)},
        actor=actor,
    )


@router.post("/payments/preview", response_class=HTMLResponse)
def payment_preview(
    request: Request, session: SessionDep, actor: RecordPayments, form: PaymentFormDep
) -> Response:
    """The allocation the form's payment would make; writes nothing. Only fields already
    filled in are judged, so typing does not flash errors at fields not reached yet."""
    state = _previewed(session, actor, form, quiet=True)
    return render(
        request,
        "receivables/_payment_preview.html",
        {"preview": state.preview, "preview_problem": state.preview_problem},
        actor=actor,
    )


@router.post("/payments", response_class=HTMLResponse)
def record_payment(
    request: Request, session: SessionDep, actor: RecordPayments, form: PaymentFormDep
) -> Response:
    state = PaymentState(form=form)
    data = _payment_input(session, actor, state, for_preview=False)
    if data is not None:
        try:
            with session.begin_nested():
                service.check_named_invoice(session, actor=actor, data=data)
                payment = service.receive_payment(session, actor=actor, data=data)
                detail = service.payment_detail_of(session, payment)
        except FlywheelError as exc:
            state.errors.update(_payment_error(exc, data))
        else:
            flash(request, _recorded_message(detail))
            if data.invoice:
                return redirect(invoice_url(data.invoice))
            return redirect(customer_url(detail.customer_code))
    if state.customer is not None and not state.errors.keys() & {"amount", "currency"}:
        _fill_preview(session, actor, state)
    return _payment_page(request, session, actor, state, status_code=422)


def _recorded_message(detail: service.PaymentDetail) -> str:
    payment = detail.payment
    cur = payment.currency
    if detail.allocations:
        targets = ", ".join(
            f"{line.invoice_number} #{line.installment} ({i18n.money(line.allocation.amount, cur)})"
            for line in detail.allocations
        )
        applied = _("%(amount)s applied to %(targets)s") % {
            "amount": i18n.money(payment.allocated_amount, cur),
            "targets": targets,
        }
    else:
        applied = _("nothing applied")
    message = _("Payment %(reference)s of %(amount)s recorded: %(applied)s.") % {
        "reference": payment.reference,
        "amount": i18n.money(payment.amount, cur),
        "applied": applied,
    }
    if payment.unallocated_amount > ZERO:
        message += " " + _("%(amount)s is kept as customer credit.") % {
            "amount": i18n.money(payment.unallocated_amount, cur)
        }
    return message


def _payment_page(
    request: Request,
    session: Any,
    actor: Actor,
    state: PaymentState,
    *,
    status_code: int = 200,
) -> Response:
    form = state.form
    if form.invoice:
        back = invoice_url(form.invoice)
    elif state.customer is not None:
        back = customer_url(state.customer.code)
    else:
        back = "/invoices"
    return render(
        request,
        "receivables/payment_form.html",
        {
            **shared(),
            "form": form,
            "errors": state.errors,
            "preview": state.preview,
            "preview_problem": state.preview_problem,
            "customer_currency": state.customer.currency if state.customer else "",
            "customer_options": _suggestions(session, actor, form.customer)
            if form.customer
            else [],
            "methods": [(m.value, PAYMENT_METHOD_LABELS[m]) for m in PaymentMethod],
            "back_url": back,
            "named_invoice": _named_invoice(session, actor, form.invoice),
        },
        actor=actor,
        status_code=status_code,
    )


def _suggestions(session: Any, actor: Actor, typed: str) -> list[Customer]:
    typed = typed.strip()
    if not typed:
        return []
    rows, _total = customers.list_customers(
        session, CustomerFilter(search=typed), actor=actor, limit=SUGGESTIONS
    )
    return [customer for customer, _owner in rows]


def _visible_customer(
    session: Any, code: str, actor: Actor, errors: dict[str, str]
) -> Customer | None:
    try:
        return customers.get_customer_by_code(session, code, actor=actor)
    except NotFound:
        errors["customer"] = _("There is no customer with the code %(code)s.") % {"code": code}
        return None


def _previewed(session: Any, actor: Actor, form: PaymentForm, *, quiet: bool) -> PaymentState:
    state = PaymentState(form=form)
    data = _payment_input(session, actor, state, for_preview=True, quiet=quiet)
    if data is None:
        state.preview_problem = next(iter(state.errors.values()), None)
        return state
    _fill_preview(session, actor, state, data)
    return state


def _fill_preview(
    session: Any, actor: Actor, state: PaymentState, data: PaymentNew | None = None
) -> None:
    """Compute the preview of ``data`` (or of the state's form) with the API's preview."""
    if data is None:
        # The reference is left out: a taken one is the form's error, not the preview's.
        probe = PaymentState(form=replace(state.form, reference=""))
        data = _payment_input(session, actor, probe, for_preview=True)
        if data is None:
            return
    try:
        service.check_named_invoice(session, actor=actor, data=data)
        planned = service.preview_payment(session, actor=actor, data=data)
    except FlywheelError as exc:
        problems = _payment_error(exc, data)
        state.preview_problem = next(iter(problems.values()), None)
        return
    customer = state.customer
    assert customer is not None
    lines = [
        PreviewLine(
            invoice_number=step.invoice_number,
            sequence=step.installment,
            due_date=step.due_date,
            open_before=step.open_before,
            applied=step.amount,
        )
        for step in planned.allocations
    ]
    state.preview = PreviewView(
        customer_code=customer.code,
        customer_name=customer.name,
        currency=planned.currency,
        amount=planned.amount,
        lines=lines,
        applied=sum((line.applied for line in lines), ZERO),
        remainder=planned.unallocated,
        # A named invoice with nothing open (paid already): the money goes elsewhere.
        unpaid_invoice=data.invoice
        if data.invoice and all(line.invoice_number != data.invoice for line in lines)
        else None,
    )


def _payment_input(
    session: Any,
    actor: Actor,
    state: PaymentState,
    *,
    for_preview: bool,
    quiet: bool = False,
) -> PaymentNew | None:
    """The form as the service's input, or None with ``state.errors`` saying why. For a
    preview the reference may still be empty; ``quiet`` leaves empty fields unjudged."""
    form, errors = state.form, state.errors
    code = form.customer.strip()
    if code:
        state.customer = _visible_customer(session, code, actor, errors)
    elif not quiet:
        errors["customer"] = _("Enter the customer's code.")
    if not form.amount.strip():
        if not quiet:
            errors["amount"] = _("Enter the amount received.")
        amount, written = None, None
    else:
        amount, written = amount_and_currency(form.amount, errors)
    currency = form.currency.strip().upper() or None
    if written and currency and written != currency:
        errors["amount"] = _(
            "The amount is written in %(written)s but the currency is %(currency)s."
        ) % {
            "written": written,
            "currency": currency,
        }
    currency = currency or written
    if quiet and not form.received_on.strip():
        received: date | None = today()
    else:
        received = form_date(form.received_on, "received_on", errors)
    if form.method not in PaymentMethod.__members__.values():
        errors["method"] = _("Choose how the money was paid.")
    reference = form.reference.strip()
    if not reference and for_preview:
        # Any reference nobody uses: the preview checks a real one is not taken yet.
        reference = f"preview-{uuid.uuid4().hex}"
    elif not reference:
        errors["reference"] = _("Enter the payment's reference (bank slip or bill number).")
    if errors or state.customer is None or amount is None or received is None:
        return None
    try:
        return PaymentNew(
            reference=reference,
            customer=state.customer.code,
            received_on=received,
            amount=amount,
            currency=currency,
            method=PaymentMethod(form.method),
            invoice=form.invoice.strip() or None,
        )
    except ValidationError as exc:
        errors.update(field_errors(exc, _PAYMENT_FIELDS))
        return None


_PAYMENT_FIELDS = {
    "reference": "reference",
    "customer": "customer",
    "received_on": "received_on",
    "amount": "amount",
    "currency": "currency",
    "method": "method",
    "invoice": "invoice",
}


def _payment_error(exc: FlywheelError, data: PaymentNew) -> dict[str, str]:
    named = {"number": data.invoice, "customer": data.customer}
    if isinstance(exc, NotFound) and exc.details.get("field") == "invoice":
        return {"invoice": _("There is no invoice %(number)s.") % named}
    if isinstance(exc, CurrencyMismatch) and "invoice_currency" in exc.details:
        return {
            "currency": _("Invoice %(number)s is in %(invoice)s; the payment is in %(payment)s.")
            % {
                "number": data.invoice,
                "invoice": exc.details["invoice_currency"],
                "payment": exc.details["payment_currency"],
            }
        }
    if isinstance(exc, ValidationFailed) and exc.details.get("field") == "invoice":
        return {"invoice": _("Invoice %(number)s is not an invoice of %(customer)s.") % named}
    if isinstance(exc, NotFound) and exc.details.get("code") == data.customer:
        return {
            "customer": _("There is no customer with the code %(code)s.") % {"code": data.customer}
        }
    if isinstance(exc, Conflict) and "reference" in exc.details:
        return {
            "reference": _("A payment with the reference %(reference)s is already recorded.")
            % {"reference": data.reference}
        }
    if isinstance(exc, CurrencyMismatch):
        return {
            "currency": _("The currency does not match: %(message)s") % {"message": exc.message}
        }
    return domain_error(exc)
