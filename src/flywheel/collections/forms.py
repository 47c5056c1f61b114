"""Reading the collections forms as people fill them in: amounts, dates, whole numbers and the
rows of a strategy's steps, each problem kept at the field it is about, in the page's
language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from flywheel.collections.strategies import StepIn
from flywheel.errors import FlywheelError
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.kit.parse import parse_date

Errors = dict[str, str]
STEP_FIELDS = ("day_offset", "channel", "template", "automatic", "target")
MAX_STEP_ROWS = 40


def amount(text: str, name: str, errors: Errors, *, required: bool = True) -> Decimal | None:
    """A positive amount with at most two decimals (``1,234.50``); None when empty."""
    plain = text.strip().replace(",", "").replace("，", "")
    if not plain:
        if required:
            errors[name] = _("Enter the amount.")
        return None
    try:
        value = Decimal(plain)
    except InvalidOperation:
        errors[name] = _("Enter the amount as a number, like 1,234.50.")
        return None
    if not value.is_finite() or value <= 0:
        errors[name] = _("The amount must be greater than zero.")
        return None
    if value != value.quantize(Decimal("0.01")):
        errors[name] = _("An amount has at most two decimals.")
        return None
    return value


def day(text: str, name: str, errors: Errors, *, required: bool = True) -> date | None:
    """A date like ``2026-03-01`` (or ``2026/3/1``, ``2026年3月1日``); None when empty."""
    text = text.strip()
    if not text:
        if required:
            errors[name] = _("Enter a date.")
        return None
    try:
        return parse_date(text)
    except ValueError:
        errors[name] = _("Enter a date like 2026-03-01.")
        return None


def whole(
    text: str, name: str, errors: Errors, *, required: bool = True, low: int, high: int
) -> int | None:
    """A whole number in [low, high]; None when empty."""
    text = text.strip()
    if not text:
        if required:
            errors[name] = _("This field is required.")
        return None
    try:
        value = int(text)
    except ValueError:
        errors[name] = _("Enter a whole number.")
        return None
    if not low <= value <= high:
        errors[name] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return value


def ident(text: str, name: str, errors: Errors, *, required: bool = False) -> int | None:
    """A record id chosen in a select; None when empty."""
    text = text.strip()
    if not text:
        if required:
            errors[name] = _("Choose one of the options.")
        return None
    if not text.isdigit() or len(text) > 18:
        errors[name] = _("Choose one of the options.")
        return None
    return int(text)


def percent(text: str, name: str, errors: Errors) -> float | None:
    """An annual rate typed in percent (``6`` or ``6.5``) as a fraction; None when empty."""
    text = text.strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[name] = _("Enter the rate in percent, like 6 or 6.5.")
        return None
    if not value.is_finite() or not 0 <= value <= 50:
        errors[name] = _("Enter a rate from 0 to 50 percent.")
        return None
    return float(value / 100)


def service_error(exc: FlywheelError, fields: Mapping[str, str] | None = None) -> Errors:
    """A service's refusal at the form field it names (``fields`` maps the service's field
    names to the form's), else at the top of the form."""
    name = str(exc.details.get("field") or "")
    if fields is not None:
        name = fields.get(name, "")
    return {name or "form": exc.message}


# ---------------------------------------------------------------- a strategy's steps


def step_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The rows of the step table as typed: ``steps-<n>-<field>``; rows left entirely empty
    and rows marked for removal are dropped."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        parts = key.split("-")
        if len(parts) != 3 or parts[0] != "steps" or not parts[1].isdigit():
            continue
        number, field = int(parts[1]), parts[2]
        if field in (*STEP_FIELDS, "remove") and number < MAX_STEP_ROWS:
            rows.setdefault(number, {})[field] = value.strip()
    shown: list[dict[str, str]] = []
    for number in sorted(rows):
        row = rows[number]
        if row.get("remove"):
            continue
        if not any(row.get(f) for f in ("day_offset", "channel", "template", "target")):
            continue
        shown.append({f: row.get(f, "") for f in STEP_FIELDS})
    return shown


def steps_of(rows: list[dict[str, str]], errors: Errors) -> list[StepIn]:
    """The rows as steps; a bad row puts "Step n, field: why" at ``steps-<i>`` and in
    ``errors["form"]``."""
    steps: list[StepIn] = []
    for index, row in enumerate(rows):
        number = index + 1
        offset_text = row.get("day_offset", "")
        try:
            offset = int(offset_text)
        except ValueError:
            _step_error(
                errors, index, _("Step %(n)s, day: enter a whole number of days.", n=number)
            )
            continue
        try:
            steps.append(
                StepIn(
                    day_offset=offset,
                    channel=row.get("channel", ""),
                    template=row.get("template") or None,
                    automatic=row.get("automatic") in ("1", "on", "true", "yes"),
                    target=row.get("target") or None,
                )
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = str(problem["loc"][0]) if problem["loc"] else _whole_step_field(problem["msg"])
            field = _(_STEP_FIELD_NAMES[where]) if where in _STEP_FIELD_NAMES else _("step")
            text = str(problem["msg"]).removeprefix("Value error, ")
            _step_error(
                errors,
                index,
                _("Step %(n)s, %(field)s: %(problem)s", n=number, field=field, problem=text),
            )
    return steps


_STEP_FIELD_NAMES = {
    "day_offset": N_("day"),
    "channel": N_("channel"),
    "template": N_("template"),
    "automatic": N_("automatic"),
    "target": N_("target"),
}


def _whole_step_field(message: str) -> str:
    """Which field a complaint about the whole step (its channel and what goes with it) is
    about."""
    if "template" in message:
        return "template"
    if "target" in message or "escalation" in message:
        return "target"
    return "channel"


def _step_error(errors: Errors, index: int, message: str) -> None:
    errors[f"steps-{index}"] = message
    errors.setdefault("form", message)
