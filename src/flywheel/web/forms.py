"""What the HTML forms share: a domain error placed on the field it names, and a date field
read with a message the user can act on."""

from __future__ import annotations

from datetime import date
from typing import overload

from flywheel.errors import FlywheelError
from flywheel.kit.i18n import gettext as _
from flywheel.kit.parse import parse_date
from flywheel.kit.shapes import EARLIEST, LATEST

Errors = dict[str, str]


def field_error(exc: FlywheelError, fields: tuple[str, ...]) -> Errors:
    """The error under the field it names when the form has that field, else on the form."""
    name = str(exc.details.get("field") or "form")
    return {name if name in fields else "form": exc.message}


@overload
def form_day(
    text: str, field: str, errors: Errors, *, default: date, required: bool = False
) -> date: ...
@overload
def form_day(
    text: str, field: str, errors: Errors, *, default: None = None, required: bool = False
) -> date | None: ...
def form_day(
    text: str, field: str, errors: Errors, *, default: date | None = None, required: bool = False
) -> date | None:
    """The date in ``text``; blank gives ``default`` (or an error when ``required``), and a
    text that is no date — or one no ledger can hold — puts the reason under ``field``."""
    if not text.strip():
        if required:
            errors[field] = _("Enter a date.")
        return default
    try:
        day = parse_date(text.strip())
    except ValueError:
        errors[field] = _("Not a date; write it as 2026-03-31.")
        return default
    if not EARLIEST <= day <= LATEST:
        errors[field] = _("Not a date; write it as 2026-03-31.")
        return default
    return day
