"""Exact values and clear refusals for the text parsers that every importer stands on."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flywheel.kit.parse import (
    clean_text,
    normalize_header,
    parse_amount,
    parse_amount_with_currency,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
)

# Timings are never asserted in tests; hypothesis' per-example deadline would be one.
PROPERTY = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


# ---------------------------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", date(2026, 3, 1)),
        ("2026/3/1", date(2026, 3, 1)),
        ("2026/03/01", date(2026, 3, 1)),
        ("2026.3.1", date(2026, 3, 1)),
        ("2026-3-1", date(2026, 3, 1)),
        ("20260301", date(2026, 3, 1)),
        ("2026年3月1日", date(2026, 3, 1)),
        ("2026年03月01日", date(2026, 3, 1)),
        ("2026 年 3 月 1 日", date(2026, 3, 1)),
        ("2026年3月1号", date(2026, 3, 1)),
        ("２０２６年３月１日", date(2026, 3, 1)),
        ("２０２６－０３－０１", date(2026, 3, 1)),
        ("\u3000２０２６年　３月　１日\u3000", date(2026, 3, 1)),
        ("  2026-03-01  ", date(2026, 3, 1)),
        ("\ufeff2026-03-01\u200b", date(2026, 3, 1)),
        ("2026-03-01 00:00:00", date(2026, 3, 1)),
        ("2026-03-01T10:20:00", date(2026, 3, 1)),
        ("2026-03-01T23:59:59+08:00", date(2026, 3, 1)),
        ("2026/3/1 9:05", date(2026, 3, 1)),
        ("2024-02-29", date(2024, 2, 29)),
        ("46082", date(2026, 3, 1)),
        ("46082.0", date(2026, 3, 1)),
        ("46082.75", date(2026, 3, 1)),
        ("46090", date(2026, 3, 9)),
        ("20000", date(1954, 10, 3)),
        ("80000", date(2119, 1, 11)),
        ("25/3/2026", date(2026, 3, 25)),
        ("13.03.2026", date(2026, 3, 13)),
        ("31-12-2026", date(2026, 12, 31)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the date is empty"),
        ("   ", "the date is empty"),
        ("明天", "'明天' is not a date; expected YYYY-MM-DD"),
        ("2026-02-30", "'2026-02-30' is not a real date: February 2026 has 28 days"),
        ("2025-02-29", "February 2025 has 28 days"),
        ("2026-04-31", "April 2026 has 30 days"),
        ("2026-13-01", "there is no month 13"),
        ("2026-00-10", "there is no month 0"),
        ("0000-01-01", "there is no year 0"),
        ("20261301", "there is no month 13"),
        ("3/1/2026", "'3/1/2026' is ambiguous"),
        ("12/12/2026", "is ambiguous"),
        ("3/25/2026", "looks month-first (M/D/YYYY)"),
        ("32/1/2026", "January 2026 has 31 days"),
        ("31/2/2026", "February 2026 has 28 days"),
        ("2026-3/1", "is not a date"),
        ("26-03-01", "is not a date"),
        ("2026-03", "is not a date"),
        ("19999", "outside the accepted range 20000..80000"),
        ("80001", "outside the accepted range"),
        ("12", "outside the accepted range"),
        ("-46082", "is not a date"),
        ("2026-03-01 25:00", "impossible time of day"),
        ("2026-03-01 10:60", "impossible time of day"),
        ("2026-03-01T10:00+25:00", "impossible UTC offset"),
        ("٢٠٢٦-٠٣-٠١", "is not a date"),
        ("2026-03-01 noon", "is not a date"),
    ],
)
def test_parse_date_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_date(text)


def test_parse_date_treats_a_missing_cell_as_empty() -> None:
    with pytest.raises(ValueError, match="the date is empty"):
        parse_date(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", datetime(2026, 2, 28, 16, 0, tzinfo=UTC)),
        ("2026-03-01 10:20", datetime(2026, 3, 1, 2, 20, tzinfo=UTC)),
        ("2026-03-01 10:20:30", datetime(2026, 3, 1, 2, 20, 30, tzinfo=UTC)),
        ("2026-03-01 10:20:30.5", datetime(2026, 3, 1, 2, 20, 30, 500000, tzinfo=UTC)),
        ("2026/3/1 08:00", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
        ("2026年3月1日 08:00", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
        ("2026-03-01T10:20:00", datetime(2026, 3, 1, 2, 20, tzinfo=UTC)),
        ("2026-03-01T10:20:00Z", datetime(2026, 3, 1, 10, 20, tzinfo=UTC)),
        ("2026-03-01T10:20:00+00:00", datetime(2026, 3, 1, 10, 20, tzinfo=UTC)),
        ("2026-03-01T10:20:00-05:00", datetime(2026, 3, 1, 15, 20, tzinfo=UTC)),
        ("2026-03-01T10:20:00+0530", datetime(2026, 3, 1, 4, 50, tzinfo=UTC)),
        ("46082", datetime(2026, 2, 28, 16, 0, tzinfo=UTC)),
        ("46082.5", datetime(2026, 3, 1, 4, 0, tzinfo=UTC)),
        ("25/3/2026 12:00", datetime(2026, 3, 25, 4, 0, tzinfo=UTC)),
    ],
)
def test_parse_datetime_reads_local_shanghai_time_and_returns_utc(
    text: str, expected: datetime
) -> None:
    parsed = parse_datetime(text)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_parse_datetime_uses_the_given_time_zone_for_naive_text() -> None:
    berlin = ZoneInfo("Europe/Berlin")

    assert parse_datetime("2026-07-01 12:00", tz=berlin) == datetime(2026, 7, 1, 10, tzinfo=UTC)
    assert parse_datetime("2026-01-15", tz=berlin) == datetime(2026, 1, 14, 23, tzinfo=UTC)
    # An explicit offset wins over the zone.
    assert parse_datetime("2026-07-01T12:00:00Z", tz=berlin) == datetime(2026, 7, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the date is empty"),
        ("明天", "'明天' is not a date"),
        ("2026-02-30 10:00", "February 2026 has 28 days"),
        ("10:20", "'10:20' is not a date"),
        ("3/1/2026 10:00", "is ambiguous"),
        ("2026-03-01 24:00", "impossible time of day"),
    ],
)
def test_parse_datetime_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_datetime(text)


# --------------------------------------------------------------------------------- parse_amount


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("1234.5", "1234.50", None),
        ("1234", "1234.00", None),
        ("1,234.50", "1234.50", None),
        ("1,23,456.00", "123456.00", None),
        ("¥1,234.50", "1234.50", "CNY"),
        ("￥1,234.50", "1234.50", "CNY"),
        ("RMB 1,234.50", "1234.50", "CNY"),
        ("rmb1234.5", "1234.50", "CNY"),
        ("CNY1234.50", "1234.50", "CNY"),
        ("人民币1,234.50", "1234.50", "CNY"),
        ("$1,234.50", "1234.50", "USD"),
        ("＄1,234.50", "1234.50", "USD"),
        ("US$1,234.50", "1234.50", "USD"),
        ("USD 1,234.50", "1234.50", "USD"),
        ("1,234.50 USD", "1234.50", "USD"),
        ("1,234.50美元", "1234.50", "USD"),
        ("HK$1,000", "1000.00", "HKD"),
        ("HKD 1,000", "1000.00", "HKD"),
        ("1000港币", "1000.00", "HKD"),
        ("£12", "12.00", "GBP"),
        ("１，２３４．５０", "1234.50", None),
        ("￥１，２３４．５０", "1234.50", "CNY"),
        ("(1,234.50)", "-1234.50", None),
        ("（1,234.50）", "-1234.50", None),
        ("(¥1,234.50)", "-1234.50", "CNY"),
        ("¥(1,234.50)", "-1234.50", "CNY"),
        ("-1,234.50", "-1234.50", None),
        ("−1,234.50", "-1234.50", None),
        ("-¥1,234.50", "-1234.50", "CNY"),
        ("¥-1,234.50", "-1234.50", "CNY"),
        ("1,234.50-", "-1234.50", None),
        ("+1,234.50", "1234.50", None),
        ("1.2345e3", "1234.50", None),
        ("1.2345E+03", "1234.50", None),
        ("100元", "100.00", "CNY"),
        ("100 元", "100.00", "CNY"),
        ("¥100元", "100.00", "CNY"),
        ("1.5万", "15000.00", None),
        ("1.5万元", "15000.00", "CNY"),
        ("￥1.5万", "15000.00", "CNY"),
        ("2亿", "200000000.00", None),
        (".5", "0.50", None),
        ("0", "0.00", None),
    ],
)
def test_parse_amount_accepts(text: str, amount: str, currency: str | None) -> None:
    assert parse_amount_with_currency(text) == (Decimal(amount), currency)
    assert parse_amount(text) == Decimal(amount)


def test_parse_amount_never_shows_a_negative_zero() -> None:
    assert str(parse_amount("-0.00")) == "0.00"
    assert str(parse_amount("(0)")) == "0.00"


def test_trailing_zeros_beyond_the_cents_are_not_decimals() -> None:
    assert parse_amount("1,234.500") == Decimal("1234.50")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the amount is empty"),
        ("  ", "the amount is empty"),
        ("abc", "'abc' is not an amount"),
        ("12a34", "'12a34' is not an amount"),
        ("1.2.3", "'1.2.3' has more than one decimal point"),
        ("1,234.5.6", "has more than one decimal point"),
        ("NaN", "is not an amount"),
        ("nan", "is not an amount"),
        ("inf", "is not an amount"),
        ("-Infinity", "is not an amount"),
        ("1234,50", "looks like it uses a decimal comma"),
        ("1.234,50", "looks like it uses a decimal comma"),
        ("1,23,4.5", "has a comma in an odd place"),
        (",5", "has a comma in an odd place"),
        ("1 234.50", "is not an amount"),
        ("--5", "has more than one sign"),
        ("-(5)", "has more than one sign"),
        ("(5", "is not an amount"),
        ("$100元", "names two currencies, USD and CNY"),
        ("USD 5 EUR", "names two currencies, USD and EUR"),
        ("1万万", "has more than one multiplier"),
        ("¥", "is not an amount"),
        ("万", "is not an amount"),
        ("1e99999", "is not an amount"),
        ("1e20", "is too large to be an amount"),
        ("1" * 16, "is too large to be an amount"),
        ("ABC 12", "is not an amount"),
        ("12 34", "is not an amount"),
        ("0x1F", "is not an amount"),
        ("1,234,567.891", "has more than two decimals"),
        ("€1.234", "has more than two decimals"),
        ("EUR 99.999", "has more than two decimals"),
        ("1.5E-2", "has more than two decimals"),
        ("0.005", "has more than two decimals"),
        ("-2.675", "has more than two decimals"),
    ],
)
def test_parse_amount_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_amount(text)


def test_parse_amount_treats_a_missing_cell_as_empty() -> None:
    with pytest.raises(ValueError, match="the amount is empty"):
        parse_amount(None)  # type: ignore[arg-type]


AMOUNT_ALPHABET = "0123456789,.-+()eE ¥￥$元万亿RMBUSDCNYHK€ａ１，．（）\u200b\u3000"


@PROPERTY
@given(st.one_of(st.text(), st.text(alphabet=AMOUNT_ALPHABET, max_size=20)))
def test_parse_amount_on_any_text_returns_cents_or_raises_value_error(text: str) -> None:
    try:
        amount, _ = parse_amount_with_currency(text)
    except ValueError:
        return
    assert amount == amount.quantize(Decimal("0.01"))
    assert amount.as_tuple().exponent == -2


@PROPERTY
@given(
    st.decimals(
        min_value=Decimal("-999999999999.99"),
        max_value=Decimal("999999999999.99"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_parse_amount_reads_back_what_format_writes(amount: Decimal) -> None:
    assert parse_amount(format(amount, ",.2f")) == amount
    assert parse_amount(f"¥{amount:,.2f}") == amount
    assert parse_amount(format(amount, ".2f")) == amount


# ------------------------------------------------------------------------------ property: dates

DATE_FORMATS: list[Callable[[date], str]] = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}-{d.month}-{d.day}",
    lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH_DIGITS),
    lambda d: f"{d.isoformat()} 00:00:00",
    lambda d: f"{d.isoformat()}T10:20:00",
]


@PROPERTY
@given(
    st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(DATE_FORMATS),
)
def test_parse_date_reads_every_supported_format(day: date, write: Callable[[date], str]) -> None:
    assert parse_date(write(day)) == day


@PROPERTY
@given(st.dates(min_value=date(1954, 10, 3), max_value=date(2119, 1, 11)), st.booleans())
def test_parse_date_reads_excel_day_numbers(day: date, with_fraction: bool) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert parse_date(f"{serial}.0" if with_fraction else str(serial)) == day


@PROPERTY
@given(
    st.dates(min_value=date(1000, 1, 13), max_value=date(9999, 12, 31)).filter(lambda d: d.day > 12)
)
def test_parse_date_reads_day_first_when_the_day_is_above_twelve(day: date) -> None:
    assert parse_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_date(f"{day.day:02d}.{day.month:02d}.{day.year}") == day


@PROPERTY
@given(st.one_of(st.text(), st.text(alphabet="0123456789-/.年月日T: +Z", max_size=25)))
def test_date_parsers_on_any_text_raise_only_value_error(text: str) -> None:
    for parse in (parse_date, parse_datetime):
        with contextlib.suppress(ValueError):
            parse(text)


@PROPERTY
@given(st.text())
def test_other_parsers_on_any_text_raise_only_value_error(text: str) -> None:
    for parse in (parse_int, parse_bool):
        with contextlib.suppress(ValueError):
            parse(text)
    assert clean_text(text) != ""
    assert isinstance(normalize_header(text), str)


# ------------------------------------------------------------------------------ int, bool, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        (" 42 ", 42),
        ("-7", -7),
        ("+7", 7),
        ("1,234", 1234),
        ("1,234,567", 1234567),
        ("12.0", 12),
        ("12.00", 12),
        ("４２", 42),
        ("0", 0),
    ],
)
def test_parse_int_accepts(text: str, expected: int) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the number is empty"),
        ("12.5", "'12.5' is not a whole number"),
        ("abc", "is not a whole number"),
        ("1,23", "is not a whole number"),
        ("1e3", "is not a whole number"),
        ("9" * 31, "has too many digits"),
    ],
)
def test_parse_int_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_int(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("YES", True),
        ("Y", True),
        ("y", True),
        ("true", True),
        ("True", True),
        ("1", True),
        ("是", True),
        (" 是 ", True),
        ("no", False),
        ("No", False),
        ("N", False),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("否", False),
        ("ｙｅｓ", True),
    ],
)
def test_parse_bool_accepts(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["", "maybe", "2", "是否", "yess"])
def test_parse_bool_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="yes or no"):
        parse_bool(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("\u3000", None),
        ("\ufeff\u200b", None),
        ("  Acme  Ltd ", "Acme Ltd"),
        ("上海\u3000飞轮\u3000有限公司", "上海 飞轮 有限公司"),
        ("line one\nline two\tend", "line one line two end"),
        ("\ufeffC000001", "C000001"),
        ("C000\u200b001", "C000001"),
        ("a\u00a0b", "a b"),
        ("ＡＢＣ", "ＡＢＣ"),
    ],
)
def test_clean_text(value: str | None, expected: str | None) -> None:
    assert clean_text(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Invoice No.", "invoiceno"),
        ("invoice_no", "invoiceno"),
        ("INVOICE-NO", "invoiceno"),
        (" Invoice  No ", "invoiceno"),
        ("发票号", "发票号"),
        ("发票号（必填）", "发票号"),
        ("发票号(必填)", "发票号"),
        ("发票号*", "发票号"),
        ("【必填】发票号", "发票号"),
        ("金额(元)", "金额"),
        ("金额（元）", "金额"),
        ("Amount [USD]", "amount"),
        ("ＡＭＯＵＮＴ", "amount"),
        ("\ufeff客户编号", "客户编号"),
        ("Due Date (yyyy-mm-dd)", "duedate"),
        ("（元）", "元"),
        ("", ""),
    ],
)
def test_normalize_header(text: str, expected: str) -> None:
    assert normalize_header(text) == expected


def test_a_moment_with_an_offset_falls_on_the_local_business_day() -> None:
    assert parse_date("2026-03-01T23:30:00Z") == date(2026, 3, 2)
    assert parse_date("2026-03-01T23:30:00+08:00") == date(2026, 3, 1)
    assert parse_date("2026-03-01 23:30") == date(2026, 3, 1)
