"""Languages: the Chinese catalog is complete, and formatting follows the language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from flywheel.kit import i18n

SOURCE = Path(i18n.__file__).resolve().parent.parent
BABEL_CFG = SOURCE.parent.parent / "babel.cfg"


def source_messages() -> set[str]:
    """Every string the code and templates mark for translation, extracted as `make i18n` does."""
    from babel.messages.frontend import parse_mapping_cfg

    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SOURCE), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_marked_string_has_a_chinese_translation() -> None:
    catalog_path = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with catalog_path.open("rb") as po:
        catalog = read_po(po, locale="zh_CN")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and m.string and "fuzzy" not in m.flags
    }

    missing = sorted(source_messages() - translated)

    assert missing == [], f"run `make i18n` and translate: {missing}"


def test_translation_follows_the_language_in_use() -> None:
    with i18n.use_language("zh"):
        assert i18n.gettext("Sign in") == "登录"
    with i18n.use_language("en"):
        assert i18n.gettext("Sign in") == "Sign in"


def test_money_dates_and_numbers_are_formatted_for_the_language() -> None:
    with i18n.use_language("zh"):
        assert i18n.money(Decimal("1234567.5"), "CNY") == "¥1,234,567.50"
        assert i18n.day(date(2026, 3, 1)) == "2026年3月1日"
    with i18n.use_language("en"):
        assert i18n.money(Decimal("-12.5"), "USD") == "-$12.50"
        assert i18n.day(date(2026, 3, 1)) == "Mar 1, 2026"
        assert i18n.number(Decimal("1234.5"), decimals=2) == "1,234.50"
    assert i18n.day(date(2026, 3, 1), style="iso") == "2026-03-01"


def test_browser_languages_are_matched_by_weight() -> None:
    assert i18n.best_match("fr-FR, en;q=0.8, zh-CN;q=0.9") == "zh"
    assert i18n.best_match("en-US,en;q=0.9") == "en"
    assert i18n.best_match("fr, de") is None
    assert i18n.normalize("zh_Hans_CN") == "zh"


@settings(max_examples=400, deadline=None)
@given(
    units=st.integers(min_value=-(10**15), max_value=10**15),
    places=st.integers(min_value=0, max_value=5),
    currency=st.sampled_from(["CNY", "USD", "EUR", "JPY", "HKD", "KWD", "GBP"]),
    language=st.sampled_from(sorted(i18n.LANGUAGES)),
)
def test_money_is_written_exactly_as_babel_writes_it(
    units: int, places: int, currency: str, language: str
) -> None:
    # money() writes amounts from the locale's pattern read once; it must agree with Babel's
    # format_currency to the character, rounding (half to even) and negative zero included.
    amount = Decimal(units).scaleb(-places)
    with i18n.use_language(language):
        written = i18n.money(amount, currency)
    assert written == format_currency(amount, currency, locale=i18n.LANGUAGES[language])


def test_money_edge_amounts_match_babel() -> None:
    for language, where in i18n.LANGUAGES.items():
        with i18n.use_language(language):
            for amount in ["0", "-0", "-0.001", "0.005", "0.015", "-0.005", "2.5", "-2.5"]:
                for currency in ["CNY", "JPY"]:
                    expected = format_currency(Decimal(amount), currency, locale=where)
                    assert i18n.money(Decimal(amount), currency) == expected
            assert i18n.money(-1234, "CNY") == format_currency(-1234, "CNY", locale=where)
