"""Turning the text people type into spreadsheets into dates, times, amounts, numbers and flags."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_TZ",
    "clean_text",
    "normalize_header",
    "parse_amount",
    "parse_amount_with_currency",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_int",
]

try:
    DEFAULT_TZ: tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover - only on hosts without a tz database
    # China has had no daylight saving time since 1991, so a fixed offset gives the same answers.
    DEFAULT_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")

# Invisible characters that survive copy-paste from web pages, WeChat and Excel: zero-width
# space/joiners, word joiner and the byte order mark. They would make "C000001" != "C000001".
_INVISIBLE: dict[int, str | None] = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# NFKC leaves the typographic minus sign alone; spreadsheets and PDFs use it for negatives.
_INVISIBLE_AND_MINUS: dict[int, str | None] = {**_INVISIBLE, ord("\u2212"): "-"}


def _normalize(text: str | None, what: str) -> str:
    """Full-width to half-width (NFKC), invisible characters removed, outer whitespace stripped.

    ``None`` (an empty spreadsheet cell) counts as empty text so callers get a ValueError, not a
    TypeError, for a missing value.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not {what}: expected text")
    if text.isascii():
        # Most cells are plain ASCII, which NFKC and the table above leave unchanged.
        return text.strip()
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE_AND_MINUS).strip()


# --------------------------------------------------------------------------------------- dates

_DATE_FORMATS = (
    "YYYY-MM-DD (also YYYY/M/D, YYYY.M.D, YYYY-M-D, YYYYMMDD, YYYY年M月D日, "
    "D/M/YYYY when the day is above 12, or an Excel day number)"
)
_TIME_PART = (
    r"(?:(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
# Every pattern is matched against the whole NFKC-normalised text; re.ASCII keeps \d to 0-9 so
# that digits from other scripts are refused rather than silently read.
_YMD_SEPARATED = re.compile(
    r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})" + _TIME_PART,
    re.ASCII,
)
_YMD_COMPACT = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})" + _TIME_PART, re.ASCII)
_YMD_CHINESE = re.compile(
    r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]?" + _TIME_PART,
    re.ASCII,
)
_DMY = re.compile(
    r"(?P<leading>\d{1,2})(?P<sep>[-/.])(?P<middle>\d{1,2})(?P=sep)(?P<year>\d{4})" + _TIME_PART,
    re.ASCII,
)
_EXCEL_SERIAL = re.compile(r"(?P<days>\d{1,7})(?:\.(?P<fraction>\d*))?", re.ASCII)

# Excel's 1900 date system counts 1900-01-01 as day 1 and wrongly believes 1900 was a leap year,
# so for every serial after 60 the real epoch is 1899-12-30. The accepted window (1954..2119)
# keeps ordinary numbers such as quantities or customer codes from being taken for dates.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_MIN = 20000
_EXCEL_SERIAL_MAX = 80000
_SECONDS_PER_DAY = 86400


_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _calendar_date(text: str, year: int, month: int, day: int) -> date:
    if year < 1:
        raise ValueError(f"{text!r} is not a real date: there is no year 0")
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a real date: there is no month {month}")
    try:
        return date(year, month, day)
    except ValueError:
        last_day = calendar.monthrange(year, month)[1]
        raise ValueError(
            f"{text!r} is not a real date: {_MONTH_NAMES[month - 1]} {year} has {last_day} days"
        ) from None


def _time_of_day(text: str, match: re.Match[str]) -> tuple[time | None, tzinfo | None]:
    if match.group("hour") is None:
        return None, None
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    second = int(match.group("second") or 0)
    microsecond = int((match.group("fraction") or "0")[:6].ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} has an impossible time of day; expected HH:MM or HH:MM:SS")
    offset = match.group("offset")
    zone: tzinfo | None = None
    if offset == "Z":
        zone = UTC
    elif offset is not None:
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"{text!r} has an impossible UTC offset {offset}")
        delta = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-delta if offset[0] == "-" else delta)
    return time(hour, minute, second, microsecond), zone


def _parse_moment(text: str) -> tuple[date, time | None, tzinfo | None]:
    """The date, the time of day (if written) and the UTC offset (if written) in ``text``."""
    cleaned = _normalize(text, "a date")
    if not cleaned:
        raise ValueError(f"the date is empty; expected {_DATE_FORMATS}")

    for pattern in (_YMD_SEPARATED, _YMD_COMPACT, _YMD_CHINESE):
        match = pattern.fullmatch(cleaned)
        if match:
            day = _calendar_date(
                text, int(match.group("year")), int(match.group("month")), int(match.group("day"))
            )
            return (day, *_time_of_day(text, match))

    match = _DMY.fullmatch(cleaned)
    if match:
        first, second = int(match.group("leading")), int(match.group("middle"))
        if first <= 12 and second <= 12:
            raise ValueError(
                f"{text!r} is ambiguous: it could be day/month/year or month/day/year; "
                "write it as YYYY-MM-DD"
            )
        if first <= 12:
            # Only day-first is ever read; accepting month-first when the day happens to be
            # above 12 would read one file's dates in two different orders.
            raise ValueError(
                f"{text!r} looks month-first (M/D/YYYY), which is not accepted; "
                "write it as YYYY-MM-DD"
            )
        day = _calendar_date(text, int(match.group("year")), second, first)
        return (day, *_time_of_day(text, match))

    match = _EXCEL_SERIAL.fullmatch(cleaned)
    if match:
        days = int(match.group("days"))
        if not _EXCEL_SERIAL_MIN <= days <= _EXCEL_SERIAL_MAX:
            raise ValueError(
                f"{text!r} is not a date: as an Excel day number it is outside the accepted "
                f"range {_EXCEL_SERIAL_MIN}..{_EXCEL_SERIAL_MAX} (1954..2119); "
                f"expected {_DATE_FORMATS}"
            )
        seconds = (Decimal("0." + (match.group("fraction") or "0")) * _SECONDS_PER_DAY).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        moment = datetime.combine(_EXCEL_EPOCH, time()) + timedelta(days=days, seconds=int(seconds))
        return moment.date(), (moment.time() if match.group("fraction") else None), None

    raise ValueError(f"{text!r} is not a date; expected {_DATE_FORMATS}")


def parse_date(text: str) -> date:
    """The calendar date written in ``text``; a time of day after it is ignored, unless it
    carries a UTC offset: then the date is the one in Asia/Shanghai at that moment.

    Accepts ``2026-03-01``, ``2026/3/1``, ``2026.3.1``, ``2026-3-1``, ``20260301``,
    ``2026年3月1日`` (full-width digits and spaces too), ``2026-03-01 10:20:00``,
    ``2026-03-01T10:20:00+08:00``, Excel day numbers 20000..80000 (``46082`` or ``46082.0``
    is 2026-03-01) and ``D/M/YYYY`` only when the day is above 12 (``25/3/2026``).
    Raises ``ValueError`` naming the value and the accepted formats.
    """
    day, time_of_day, offset = _parse_moment(text)
    if time_of_day is not None and offset is not None:
        # A moment with its own offset falls on the business day of the local time zone.
        return datetime.combine(day, time_of_day, tzinfo=offset).astimezone(DEFAULT_TZ).date()
    return day


def parse_datetime(text: str, *, tz: tzinfo = DEFAULT_TZ) -> datetime:
    """The moment written in ``text`` as an aware UTC datetime.

    Accepts every :func:`parse_date` format, a bare date meaning midnight, optionally followed
    by ``HH:MM`` or ``HH:MM:SS[.ffffff]`` and a UTC offset (``Z``, ``+08:00``, ``+0800``).
    Text without an offset is local time in ``tz`` (default Asia/Shanghai).
    """
    day, time_of_day, offset = _parse_moment(text)
    local = datetime.combine(day, time_of_day or time(), tzinfo=offset or tz)
    return local.astimezone(UTC)


# ------------------------------------------------------------------------------------- amounts

_CURRENCY_WORDS: dict[str, str] = {
    "HK$": "HKD",
    "US$": "USD",
    "NT$": "TWD",
    "S$": "SGD",
    "RMB": "CNY",
    "人民币": "CNY",
    "美元": "USD",
    "港元": "HKD",
    "港币": "HKD",
    "欧元": "EUR",
    "英镑": "GBP",
    "日元": "JPY",
    "元": "CNY",
    # In a Chinese business file ¥ is the yuan; yen amounts come with JPY or 日元.
    "¥": "CNY",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
}
_CURRENCY_CODES = (
    "CNY",
    "USD",
    "EUR",
    "HKD",
    "GBP",
    "JPY",
    "TWD",
    "SGD",
    "AUD",
    "CAD",
    "CHF",
    "KRW",
    "MOP",
)
# Longest first so that "HK$" wins over "$" and "美元" over "元".
_CURRENCY_ALTERNATIVES = "|".join(
    re.escape(word) for word in sorted([*_CURRENCY_WORDS, *_CURRENCY_CODES], key=len, reverse=True)
)
_CURRENCY_PREFIX = re.compile(rf"(?:{_CURRENCY_ALTERNATIVES})", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(rf"(?:{_CURRENCY_ALTERNATIVES})$", re.IGNORECASE)
_MULTIPLIERS = {"万": 4, "亿": 8}
_NUMBER_ENDS = frozenset("0123456789.")
_AMOUNT_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)
# Thousands groups may be loose ("1,23,456" as in India) but the last group must have exactly
# three digits: "1234,50" is a decimal comma in much of Europe, and reading it as 123450 would
# be a silent hundredfold error.
_NUMBER = re.compile(
    r"(?:\d+(?:,\d+)*,\d{3}|\d+)(?:\.\d*)?(?:[eE][-+]?\d{1,4})?|\.\d+(?:[eE][-+]?\d{1,4})?",
    re.ASCII,
)
_DECIMAL_COMMA = re.compile(r"\d,\d{1,2}$", re.ASCII)
_LOOSE_GROUPING = re.compile(r"[\d,]+(?:\.\d*)?", re.ASCII)
_MAX_INTEGER_DIGITS = 15  # a thousand trillion: far beyond any invoice, far below float trouble
_AMOUNT_FORMATS = "a number like 1,234.50, optionally with ¥/$/RMB/USD…, 元 or 万"


def _currency_code(word: str) -> str:
    upper = word.upper()
    return _CURRENCY_WORDS.get(upper, upper)


def parse_amount_with_currency(text: str) -> tuple[Decimal, str | None]:
    """The amount in ``text`` rounded half-up to cents, and the ISO currency code written with it.

    Accepts ``1234.5``, ``1,234.50``, ``¥1,234.50``/``￥1,234.50``, ``RMB 1,234.50``,
    ``CNY1234.50``, ``$1,234.50``, ``USD 1,234.50``, ``HK$100``, ``100 EUR``, full-width digits
    and punctuation, negatives as ``-1,234.50``, ``(1,234.50)`` or ``1,234.50-``, scientific
    notation as Excel writes it (``1.2345E+03``), ``元`` and the ``万``/``亿`` multipliers
    (``1.5万元`` is 15000.00 CNY). The currency is ``None`` when none is written; ¥/RMB/元 are CNY.
    Raises ``ValueError`` for anything else, naming the value.
    """
    rest = _normalize(text, "an amount")
    if not rest:
        raise ValueError(f"the amount is empty; expected {_AMOUNT_FORMATS}")

    negative = False
    sign_seen = False
    currency: str | None = None
    exponent_shift = 0

    def note_sign(is_negative: bool) -> None:
        nonlocal negative, sign_seen
        if sign_seen:
            raise ValueError(f"{text!r} has more than one sign; write a negative as -1,234.50")
        sign_seen, negative = True, is_negative

    def note_currency(word: str) -> None:
        nonlocal currency
        code = _currency_code(word)
        if currency is not None and currency != code:
            raise ValueError(f"{text!r} names two currencies, {currency} and {code}")
        currency = code

    # Peel signs, brackets, currencies and multipliers off both ends until only the number is
    # left; real files combine them in every order ("-¥1,234.50", "(1,234.50)元", "¥1.5万").
    while rest:
        if rest[0] in _NUMBER_ENDS and rest[-1] in _NUMBER_ENDS:
            break  # nothing left to peel: the common case, and it spares the searches below
        if rest[0] == "(" and rest[-1] == ")":
            note_sign(True)
            rest = rest[1:-1].strip()
        elif rest[0] in "+-":
            note_sign(rest[0] == "-")
            rest = rest[1:].lstrip()
        elif rest[-1] == "-":
            note_sign(True)
            rest = rest[:-1].rstrip()
        elif match := _CURRENCY_PREFIX.match(rest):
            note_currency(match.group())
            rest = rest[match.end() :].lstrip()
        elif match := _CURRENCY_SUFFIX.search(rest):
            note_currency(match.group())
            rest = rest[: match.start()].rstrip()
        elif rest[-1] in _MULTIPLIERS:
            if exponent_shift:
                raise ValueError(f"{text!r} has more than one multiplier (万/亿)")
            exponent_shift = _MULTIPLIERS[rest[-1]]
            rest = rest[:-1].rstrip()
        else:
            break

    if not _NUMBER.fullmatch(rest):
        if _DECIMAL_COMMA.search(rest):
            raise ValueError(
                f"{text!r} looks like it uses a decimal comma; "
                "write decimals with a point (1234.50) and commas only between thousands"
            )
        if rest.count(".") > 1:
            raise ValueError(f"{text!r} has more than one decimal point")
        if _LOOSE_GROUPING.fullmatch(rest):
            raise ValueError(
                f"{text!r} has a comma in an odd place; commas may only separate thousands"
            )
        raise ValueError(f"{text!r} is not an amount; expected {_AMOUNT_FORMATS}")

    # The pattern guarantees Decimal() can read it, exactly; only the 万/亿 shift and the final
    # rounding need a context, and a wide one keeps long inputs from being rounded twice.
    value = Decimal(rest.replace(",", ""))
    if exponent_shift:
        value = value.scaleb(exponent_shift, context=_AMOUNT_CONTEXT)
    if value and value.adjusted() >= _MAX_INTEGER_DIGITS:
        raise ValueError(f"{text!r} is too large to be an amount")
    amount = value.quantize(_CENT, context=_AMOUNT_CONTEXT)
    if amount != value:
        # Rounding would hide a mistake: "1.234" is often a European 1,234.
        raise ValueError(f"{text!r} has more than two decimals; money is kept in cents")
    if negative:
        amount = amount.copy_negate()
    # "-0.00" compares equal to zero but prints with a sign; nobody wants to see that.
    return (amount if amount else _ZERO), currency


def parse_amount(text: str) -> Decimal:
    """The amount in ``text`` as a Decimal rounded half-up to cents; see
    :func:`parse_amount_with_currency` for the accepted forms."""
    return parse_amount_with_currency(text)[0]


# --------------------------------------------------------------------- integers, flags, text

_INTEGER = re.compile(r"[-+]?(?:\d+(?:,\d+)*,\d{3}|\d+)(?:\.0*)?", re.ASCII)
_MAX_INT_DIGITS = 30


def parse_int(text: str) -> int:
    """A whole number: ``42``, ``-7``, ``1,234``, full-width digits, and ``12.0`` as Excel writes
    whole numbers. Raises ``ValueError`` for fractions, words and empty text."""
    cleaned = _normalize(text, "a whole number")
    if not cleaned:
        raise ValueError("the number is empty; expected a whole number like 42")
    if not _INTEGER.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not a whole number; expected something like 42 or 1,234")
    digits = cleaned.split(".")[0].replace(",", "")
    if len(digits.lstrip("+-")) > _MAX_INT_DIGITS:
        raise ValueError(f"{text!r} has too many digits to be a whole number we can use")
    return int(digits)


_TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "是", "对", "on"})
_FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "否", "不", "off"})


def parse_bool(text: str) -> bool:
    """Yes or no: ``yes/no``, ``y/n``, ``true/false``, ``1/0``, ``是/否`` in any letter case."""
    word = _normalize(text, "yes or no").casefold()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not yes or no; expected yes/no, true/false, y/n, 1/0 or 是/否")


def clean_text(value: str | None) -> str | None:
    """``value`` without zero-width characters or BOM, with every run of whitespace (full-width
    and no-break spaces included) turned into one space and the ends stripped; ``None`` when
    nothing is left. Letters are not otherwise changed: a name keeps its full-width characters.
    """
    if value is None:
        return None
    cleaned = " ".join(value.translate(_INVISIBLE).split())
    return cleaned or None


_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|【[^【】]*】|〔[^〔〕]*〕")


def normalize_header(text: str) -> str:
    """A comparison key for a column header.

    The rule, in order: NFKC (full-width to half-width, so "（" is "("), zero-width characters
    and BOM removed, case folded, bracketed notes removed with their brackets — ``(...)``,
    ``[...]``, ``{...}``, ``【...】``, ``〔...〕`` — and then every character that is not a
    letter or digit (spaces, ``_``, ``-``, ``.``, ``*``, ``#``, ``:``…) dropped. If the whole
    header was a bracketed note, the note itself is used. So "Invoice No.", "invoice_no" and
    "INVOICE-NO" all give "invoiceno"; "发票号（必填）" and "发票号*" give "发票号";
    "金额(元)" gives "金额".
    """
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    without_notes = folded
    while True:
        shorter = _BRACKETED.sub("", without_notes)
        if shorter == without_notes:
            break
        without_notes = shorter
    key = "".join(char for char in without_notes if char.isalnum())
    return key or "".join(char for char in folded if char.isalnum())
