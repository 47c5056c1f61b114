"""Key-account pages (terms): the terms-cost calculator and the fragment other pages embed."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from flywheel.analytics.terms_cost import MAX_TERMS_DAYS, STANDARD_TERMS
from flywheel.auth.actor import Actor
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.keyaccounts import terms
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Query(max_length=40)]
DELAY_SOURCE_LABELS: dict[str, str] = {
    "predictions": N_("predicted for its open invoices by the payment model"),
    "history": N_("its mean delay over the last year's payments"),
    "none": N_("no payment history: none assumed"),
}
Errors = dict[str, str]


def _amount(text: str, field: str, errors: Errors, *, required: bool) -> Decimal | None:
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        if required:
            errors[field] = _("Enter an amount.")
        return None
    try:
        return terms.check_amount(Decimal(cleaned), field=field)
    except (InvalidOperation, FlywheelError):
        errors[field] = _("Enter an amount above 0 with at most two decimals.")
        return None


def _days(text: str, errors: Errors) -> int | None:
    cleaned = text.strip()
    if not cleaned:
        errors["terms"] = _("Enter the payment terms in days.")
        return None
    if not (cleaned.isascii() and cleaned.isdigit()) or int(cleaned) > MAX_TERMS_DAYS:
        errors["terms"] = _("Payment terms are 0 to %(max)s days.", max=MAX_TERMS_DAYS)
        return None
    return int(cleaned)


def _quote(
    session: Session,
    actor: Actor,
    code: str,
    form: dict[str, str],
    errors: Errors,
    *,
    blank_is_error: bool,
) -> terms.TermsQuote | None:
    """The quote for the form's values, or None with the problems in ``errors``. A blank amount
    or terms takes the account's typical order and current terms; when the account has none,
    the calculator page waits for them (``blank_is_error`` False) instead of complaining."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    as_of = today()
    if not form["amount"].strip():
        typical = terms.typical_order(session, customer, as_of=as_of)
        form["amount"] = "" if typical is None else f"{typical:.2f}"
    if not form["terms"].strip():
        current = terms.effective_terms_days(customer.payment_terms)
        form["terms"] = "" if current is None else str(current)
    if not blank_is_error and not (form["amount"].strip() and form["terms"].strip()):
        return None
    amount = _amount(form["amount"], "amount", errors, required=True)
    days = _days(form["terms"], errors)
    price = _amount(form["price"], "price", errors, required=False)
    if errors or amount is None or days is None:
        return None
    return terms.quote(
        session,
        actor,
        code=customer.code,
        amount=amount,
        terms_days=days,
        price=price,
        compare=STANDARD_TERMS,
        as_of=as_of,
    )


def _context(quote: terms.TermsQuote | None) -> dict[str, Any]:
    return {"quote": quote, "delay_labels": DELAY_SOURCE_LABELS}


@router.get("/accounts/terms-cost", response_class=HTMLResponse)
def terms_cost_page(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    code: Annotated[str, Query(max_length=64)] = "",
    amount: Text = "",
    terms_days: Annotated[str, Query(alias="terms", max_length=40)] = "",
    price: Text = "",
) -> Response:
    """Pick a customer, an amount and terms: the cost of the credit, the other terms, the
    policy's verdict."""
    form = {"code": code.strip(), "amount": amount, "terms": terms_days, "price": price}
    errors: Errors = {}
    quote = None
    if form["code"]:
        try:
            quote = _quote(session, actor, form["code"], form, errors, blank_is_error=False)
        except NotFound:
            errors["code"] = _("No customer with this code.")
    return render(
        request,
        "keyaccounts/terms_cost.html",
        {"form": form, "errors": errors, **_context(quote)},
        actor=actor,
        status_code=422 if errors else 200,
    )


@router.get("/accounts/{code}/terms-cost", response_class=HTMLResponse)
def terms_cost_fragment(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    code: str,
    amount: Text = "",
    terms_days: Annotated[str, Query(alias="terms", max_length=40)] = "",
    price: Text = "",
) -> Response:
    """The cost breakdown alone (HTMX), for the negotiation page and the 360: a blank amount
    or terms takes the account's typical order and current terms. Out of scope: 404."""
    form = {"code": code, "amount": amount, "terms": terms_days, "price": price}
    errors: Errors = {}
    try:
        quote = _quote(session, actor, code, form, errors, blank_is_error=True)
    except FlywheelError as exc:
        if http_status_for(exc) in (403, 404):
            raise
        errors["form"] = exc.message
        quote = None
    return render(
        request,
        "keyaccounts/_terms_cost.html",
        {"form": form, "errors": errors, "fragment": True, **_context(quote)},
        actor=actor,
        status_code=422 if errors else 200,
    )
