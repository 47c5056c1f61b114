"""What crosses the API boundary: the checks every input shape shares (text a database can
store, dates in a plausible range, money that fits ``NUMERIC(18, 2)``, so bad input is a 422 and
never a 500), and how money and moments are written in answers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
# NUMERIC(18, 2): sixteen digits before the point.
MAX_MONEY = Decimal("9999999999999999.99")
CENT = Decimal("0.01")
# Ids are 64-bit; a larger number in a path or a body can name nothing.
MAX_ID = 2**63 - 1


def storable_text(value: str) -> str:
    # PostgreSQL cannot store NUL in text; SQLite would, and the two must answer alike.
    if "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    return value


def plausible_date(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"dates run from {EARLIEST} to {LATEST}")
    return value


def plausible_moment(value: datetime) -> datetime:
    plausible_date(value)
    if value.tzinfo is not None:
        # Shifting 1900-01-01 00:00+08:00 to UTC must not leave the calendar.
        plausible_date(value.astimezone(UTC))
    return value


def money_in_range(value: Decimal) -> Decimal:
    """Finite, at most ``MAX_MONEY`` either way, and in whole cents; quantized to cents."""
    if not value.is_finite():
        raise ValueError("not an amount")
    if abs(value) > MAX_MONEY:
        raise ValueError(f"amounts are at most {MAX_MONEY}")
    if value != value.quantize(CENT):
        raise ValueError("amounts have at most two decimals")
    return value.quantize(CENT)


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("amount must be greater than zero")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("amount cannot be negative")
    return value


# Money goes in as it comes out: a decimal string ("1200.00"). A JSON number is taken too, but
# the document names the string, the exact form.
_MONEY_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "pattern": r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$",
        "examples": ["1200.00"],
    }
)
_AMOUNT_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^[0-9]{1,16}(\.[0-9]{1,2})?$", "examples": ["1200.00"]}
)
Money = Annotated[Decimal, AfterValidator(money_in_range), _MONEY_SCHEMA]
PositiveAmount = Annotated[
    Decimal, AfterValidator(money_in_range), AfterValidator(_positive), _AMOUNT_SCHEMA
]
NonNegativeAmount = Annotated[
    Decimal, AfterValidator(money_in_range), AfterValidator(_not_negative), _AMOUNT_SCHEMA
]

# The same ranges, written into the document so that clients (and generated tests) know them.
_YEAR = r"(19|2[0-9])[0-9]{2}"
_DAY = _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = f"^{_DAY}$"
MOMENT_PATTERN = (
    f"^{_DAY}T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{{1,6}})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def _document_ranges(schema: Any) -> None:
    if isinstance(schema, dict):
        if schema.get("format") == "date":
            schema.setdefault("pattern", DATE_PATTERN)
        elif schema.get("format") == "date-time":
            schema.setdefault("pattern", MOMENT_PATTERN)
        for value in schema.values():
            _document_ranges(value)
    elif isinstance(schema, list):
        for item in schema:
            _document_ranges(item)


def _input_schema(schema: dict[str, Any], model: type[Any]) -> None:
    _document_ranges(schema.get("properties", {}))


def _check(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, datetime):
        return plausible_moment(value)
    if isinstance(value, date):
        return plausible_date(value)
    if isinstance(value, list | tuple):
        for item in value:
            _check(item)
    return value


class InputModel(BaseModel):
    """Base of the API's and the pages' input shapes: stripped text, unknown fields refused,
    and every text, date and time field checked as above."""

    model_config = ConfigDict(
        frozen=True, str_strip_whitespace=True, extra="forbid", json_schema_extra=_input_schema
    )

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return _check(value)


class ChangesModel(InputModel):
    """A partial change (PATCH): only the fields sent change, and ``null`` clears an optional
    field. Subclasses name in ``required`` the fields that cannot be cleared."""

    required: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in sorted(self.required & self.model_fields_set):
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


# ---------------------------------------------------------------- answers

# Money leaves as a string with two decimals ("1200.00"): exact, and what scripts already parse.
MoneyText = Annotated[Decimal, PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str)]
# ISO 8601 with an explicit offset ("+00:00"), as the CLI has always printed it.
Moment = Annotated[datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str)]


class OutputModel(BaseModel):
    """Base of the answers: immutable, and readable straight from ORM rows."""

    model_config = ConfigDict(frozen=True, from_attributes=True)
