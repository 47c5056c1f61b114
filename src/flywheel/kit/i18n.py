"""Languages: gettext catalogs and locale-aware formatting of money, numbers and dates.

Source strings are English; ``src/flywheel/locale/<locale>/LC_MESSAGES/messages.po`` holds
each translation, read and compiled in memory on first use (no build step, nothing to forget).
The language of the code running now is a context variable, set around each page render with
``use_language``; ``gettext`` and the formatters read it.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "zh"
# Our language codes (stored on the user) and the Babel locale each one formats with.
LANGUAGES: dict[str, str] = {"zh": "zh_CN", "en": "en"}
LANGUAGE_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}

# Set inside ``use_language`` blocks; outside them the request's language applies.
_current: ContextVar[str | None] = ContextVar("flywheel_language", default=None)


class _RequestLanguage:
    """The language of one web request, a box shared by the request's event-loop code and the
    threads its dependencies and endpoint run in (each gets a copy of the context, but the
    same box): the sign-in dependency sets it, the endpoint's ``gettext`` reads it."""

    __slots__ = ("language",)

    def __init__(self) -> None:
        self.language: str | None = None


_request: ContextVar[_RequestLanguage | None] = ContextVar(
    "flywheel_request_language", default=None
)


def N_(message: str) -> str:
    """Marks a string for the catalog without translating it now (module-level labels)."""
    return message


def normalize(language: str | None) -> str | None:
    """``zh-CN``, ``zh_Hans``, ``en-US`` … → ``zh`` / ``en``; None when it is neither."""
    if not language:
        return None
    base = language.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def best_match(accept_language: str | None) -> str | None:
    """The first of our languages named in an ``Accept-Language`` header, by weight."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        code = normalize(tag)
        if code and weight > 0:
            ranked.append((-weight, position, code))
    return min(ranked)[2] if ranked else None


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The catalog of ``language`` (English is the source and needs none)."""
    locale = LANGUAGES.get(language)
    if locale is None or language == "en":
        return _gettext.NullTranslations()
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def begin_request() -> object:
    """Open a request's language box (the request middleware); returns the reset token."""
    return _request.set(_RequestLanguage())


def end_request(token: object) -> None:
    _request.reset(token)  # type: ignore[arg-type]


def choose(language: str | None) -> None:
    """Set the current request's language (its user's setting, once known)."""
    box = _request.get()
    if box is not None:
        box.language = normalize(language) or DEFAULT_LANGUAGE


def current_language() -> str:
    """``use_language``'s language inside such a block; else the request's; else ours."""
    explicit = _current.get()
    if explicit:
        return explicit
    box = _request.get()
    return box.language if box is not None and box.language else DEFAULT_LANGUAGE


@cache
def _locale_of(language: str) -> Locale:
    return Locale.parse(LANGUAGES[language])


def locale() -> Locale:
    return _locale_of(current_language())


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Run the block in ``language`` (our default when None or unknown)."""
    chosen = normalize(language) or DEFAULT_LANGUAGE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def gettext(message: str, **params: object) -> str:
    """``message`` in the current language; ``%(name)s`` placeholders filled from ``params``
    (as the templates' ``_()`` does)."""
    text = translations(current_language()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


_ = gettext


# ---------------------------------------------------------------- formatting


@dataclass(frozen=True, slots=True)
class _MoneyStyle:
    """How one language writes one currency, read from Babel's locale data once. A page shows
    dozens of amounts; Babel re-reads the pattern for each, this writes them directly."""

    prefix: str
    negative_prefix: str
    group: str
    decimal: str
    digits: int
    exponent: Decimal

    def write(self, value: Decimal) -> str:
        rounded = value.quantize(self.exponent, rounding=ROUND_HALF_EVEN)
        text = f"{abs(rounded):,.{self.digits}f}"
        if self.group != "," or self.decimal != ".":
            text = text.translate({ord(","): self.group, ord("."): self.decimal})
        return (self.negative_prefix if rounded.is_signed() else self.prefix) + text


@cache
def _money_style(language: str, currency: str) -> _MoneyStyle | None:
    """The direct style, or None when the locale's pattern is one this does not cover (then
    Babel formats every amount itself)."""
    where = _locale_of(language)
    pattern = where.currency_formats["standard"]
    positive, negative = pattern.prefix
    if (
        pattern.suffix != ("", "")
        or positive != "¤"
        or negative != "-¤"
        or pattern.grouping != (3, 3)
        or pattern.scale != 0
        or get_minus_sign_symbol(where) != "-"
    ):
        return None
    digits = get_currency_precision(currency)
    symbol = get_currency_symbol(currency, where)
    return _MoneyStyle(
        prefix=symbol,
        negative_prefix="-" + symbol,
        group=get_group_symbol(where),
        decimal=get_decimal_symbol(where),
        digits=digits,
        exponent=Decimal(1).scaleb(-digits),
    )


def money(value: Decimal | int | None, currency: str) -> str:
    """``¥1,234.50`` in Chinese, ``CN¥1,234.50`` in English; empty for None. Exactly what
    Babel's ``format_currency`` writes (a test compares the two on random amounts)."""
    if value is None:
        return ""
    language = current_language()
    style = _money_style(language, currency)
    if style is None:
        return str(format_currency(value, currency, locale=_locale_of(language)))
    return style.write(value if isinstance(value, Decimal) else Decimal(value))


def number(value: Decimal | int | float | None, *, decimals: int | None = None) -> str:
    if value is None:
        return ""
    pattern = None if decimals is None else "#,##0." + "0" * decimals if decimals else "#,##0"
    return str(format_decimal(value, format=pattern, locale=locale()))


def percent(value: Decimal | float | None, *, decimals: int = 0) -> str:
    if value is None:
        return ""
    pattern = "#,##0%" if decimals == 0 else "#,##0." + "0" * decimals + "%"
    return str(format_percent(value, format=pattern, locale=locale()))


def day(value: date | None, *, style: str = "medium") -> str:
    """A date for prose (``2026年3月1日`` / ``Mar 1, 2026``); ``style="iso"`` for table
    columns (``2026-03-01`` in every language, sortable and unambiguous)."""
    if value is None:
        return ""
    if style == "iso":
        return value.isoformat()
    return str(_format_date(value, format=style, locale=locale()))


def moment(value: datetime | None, *, style: str = "medium") -> str:
    if value is None:
        return ""
    return str(_format_datetime(value, format=style, locale=locale()))
