"""What the receivables pages share: the labels of invoice states, links to documents, and
reading dates and amounts as people type them, with errors in the page's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from flywheel.customers.labels import PAYMENT_METHOD_LABELS
from flywheel.errors import FlywheelError
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.kit.parse import parse_amount_with_currency, parse_date
from flywheel.models.enums import OVERDUE, InvoiceStatus

SETTLEABLE = frozenset({InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value})

STATUS_LABELS: dict[str, str] = {
    InvoiceStatus.OPEN: N_("Open"),
    InvoiceStatus.PARTIALLY_PAID: N_("Partially paid"),
    InvoiceStatus.PAID: N_("Paid"),
    InvoiceStatus.CANCELLED: N_("Cancelled"),
    InvoiceStatus.WRITTEN_OFF: N_("Written off"),
    OVERDUE: N_("Overdue"),
}


def shared() -> dict[str, Any]:
    """What every receivables template may use."""
    return {"status_labels": STATUS_LABELS, "method_labels": PAYMENT_METHOD_LABELS}


def invoice_url(number: str) -> str:
    return "/invoices/" + quote(number, safe="/")


def customer_url(code: str) -> str:
    return "/customers/" + quote(code, safe="")


def day_or_none(text: str | None) -> date | None:
    """A date typed in a filter or a form (``2026-03-01``, ``2026/3/1``, ``2026年3月1日``…)."""
    text = (text or "").strip()
    if not text:
        return None
    return parse_date(text)


def form_date(text: str, name: str, errors: dict[str, str]) -> date | None:
    """The date in a required field, or None with the error at ``name``."""
    if not text.strip():
        errors[name] = _("Enter a date.")
        return None
    try:
        return day_or_none(text)
    except ValueError:
        errors[name] = _("Enter a date like 2026-03-01.")
        return None


def amount_and_currency(text: str, errors: dict[str, str]) -> tuple[Decimal | None, str | None]:
    """An amount as people type it: ``1,234.50``, ``¥1,234.50``, ``USD 100``, ``1.5万``."""
    plain = text.strip().replace(",", "")
    try:
        value = Decimal(plain)
    except InvalidOperation:
        pass
    else:
        if not value.is_finite():
            errors["amount"] = _("Enter the amount as a number, like 1,234.50.")
            return None, None
        problem = amount_problem(value)
        if problem:
            errors["amount"] = problem
            return None, None
        return value, None
    try:
        value, currency = parse_amount_with_currency(text)
    except ValueError:
        errors["amount"] = _("Enter the amount as a number, like 1,234.50.")
        return None, None
    problem = amount_problem(value)
    if problem:
        errors["amount"] = problem
        return None, None
    return value, currency


def form_amount(text: str, errors: dict[str, str], *, currency: str) -> Decimal | None:
    """A required amount of a document in ``currency`` (one written with another is refused)."""
    if not text.strip():
        errors["amount"] = _("Enter the amount.")
        return None
    value, written = amount_and_currency(text, errors)
    if written and written != currency:
        errors["amount"] = _("The amount must be in %(currency)s.") % {"currency": currency}
        return None
    return value


def amount_problem(value: Decimal) -> str | None:
    if value <= 0:
        return _("The amount must be greater than zero.")
    if value != value.quantize(Decimal("0.01")):
        return _("An amount has at most two decimals.")
    return None


def field_errors(exc: ValidationError, fields: Mapping[str, str]) -> dict[str, str]:
    """Pydantic's complaints, each at the form field it is about, in the page's language."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = fields.get(str(error["loc"][0]) if error["loc"] else "", "form")
        errors.setdefault(name, error_text(error))
    return errors


def error_text(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind in ("missing", "string_too_short"):
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": (error.get("ctx") or {}).get("max_length")}
    if kind == "string_pattern_mismatch":
        return _("A currency is three letters, like CNY or USD.")
    if kind == "enum":
        return _("Choose one of the options.")
    return str(error["msg"]).removeprefix("Value error, ")


def domain_error(exc: FlywheelError) -> dict[str, str]:
    """A service's refusal at the field it names, else at the top of the form."""
    name = exc.details.get("field")
    return {str(name) if name else "form": exc.message}
