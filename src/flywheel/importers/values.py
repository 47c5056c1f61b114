"""Cell-value parsers for imports: the ledger's vocabularies in English and Chinese.

Each parser takes the cleaned cell text and returns the value, or raises ValueError with a
message a user can act on. Parsers of values that repeat a lot (dates, terms, codes) are cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from flywheel.kit import parse
from flywheel.kit.terms import parse_terms
from flywheel.models.enums import (
    BuyingRole,
    CustomerStatus,
    Language,
    OrderStatus,
    PaymentMethod,
    Tier,
    TouchpointKind,
)

Parser = Callable[[str], object]


def _vocabulary(enum: type[StrEnum], synonyms: dict[str, str]) -> Parser:
    table: dict[str, str] = {}
    for member in enum:
        table[member.value] = member.value
        table[member.value.replace("_", " ")] = member.value
        table[member.value.replace("_", "")] = member.value
    for word, value in synonyms.items():
        table[word.lower()] = value
    accepted = ", ".join(m.value for m in enum)

    def parse_value(text: str) -> str:
        found = table.get(text.strip().lower())
        if found is None:
            raise ValueError(f"unknown value {text!r} (accepted: {accepted})")
        return found

    return parse_value


tier = _vocabulary(
    Tier,
    {
        "大客户": "key",
        "重点客户": "key",
        "关键客户": "key",
        "战略客户": "key",
        "ka": "key",
        "成长": "growth",
        "成长型": "growth",
        "成长客户": "growth",
        "潜力客户": "growth",
        "普通": "standard",
        "标准": "standard",
        "一般": "standard",
        "普通客户": "standard",
    },
)
customer_status = _vocabulary(
    CustomerStatus,
    {
        "活跃": "active",
        "正常": "active",
        "启用": "active",
        "有效": "active",
        "停用": "inactive",
        "休眠": "inactive",
        "无效": "inactive",
        "冻结": "inactive",
        "潜在": "prospect",
        "潜在客户": "prospect",
        "意向": "prospect",
        "lead": "prospect",
        "流失": "churned",
        "已流失": "churned",
        "lost": "churned",
    },
)
buying_role = _vocabulary(
    BuyingRole,
    {
        "决策人": "decision_maker",
        "决策者": "decision_maker",
        "dm": "decision_maker",
        "影响者": "influencer",
        "影响人": "influencer",
        "使用者": "user",
        "用户": "user",
        "使用人": "user",
        "end user": "user",
        "财务": "finance",
        "财务/应付": "finance",
        "应付": "finance",
        "ap": "finance",
        "accounts payable": "finance",
        "把关人": "gatekeeper",
        "守门人": "gatekeeper",
        "采购": "gatekeeper",
    },
)
language = _vocabulary(
    Language,
    {
        "中文": "zh",
        "汉语": "zh",
        "chinese": "zh",
        "zh-cn": "zh",
        "zh_cn": "zh",
        "cn": "zh",
        "英文": "en",
        "英语": "en",
        "english": "en",
        "en-us": "en",
        "en-gb": "en",
    },
)
order_status = _vocabulary(
    OrderStatus,
    {
        "待处理": "open",
        "新建": "open",
        "未确认": "open",
        "已确认": "confirmed",
        "确认": "confirmed",
        "已发货": "delivered",
        "已交付": "delivered",
        "已送达": "delivered",
        "shipped": "delivered",
        "已开票": "invoiced",
        "开票": "invoiced",
        "已取消": "cancelled",
        "取消": "cancelled",
        "canceled": "cancelled",
    },
)
payment_method = _vocabulary(
    PaymentMethod,
    {
        "银行转账": "bank_transfer",
        "转账": "bank_transfer",
        "电汇": "bank_transfer",
        "汇款": "bank_transfer",
        "wire": "bank_transfer",
        "bank": "bank_transfer",
        "transfer": "bank_transfer",
        "t/t": "bank_transfer",
        "tt": "bank_transfer",
        "承兑": "acceptance_bill",
        "承兑汇票": "acceptance_bill",
        "银行承兑": "acceptance_bill",
        "银承": "acceptance_bill",
        "商承": "acceptance_bill",
        "商业承兑": "acceptance_bill",
        "汇票": "acceptance_bill",
        "bill": "acceptance_bill",
        "支票": "cheque",
        "check": "cheque",
        "现金": "cash",
        "刷卡": "card",
        "信用卡": "card",
        "银行卡": "card",
        "微信": "online",
        "支付宝": "online",
        "在线支付": "online",
        "网银": "online",
        "其他": "other",
    },
)
touchpoint_kind = _vocabulary(
    TouchpointKind,
    {
        "电话": "call",
        "来电": "call",
        "致电": "call",
        "phone": "call",
        "拜访": "visit",
        "上门": "visit",
        "走访": "visit",
        "会议": "meeting",
        "会谈": "meeting",
        "开会": "meeting",
        "邮件": "email",
        "电子邮件": "email",
        "e-mail": "email",
        "交付": "delivery",
        "送货": "delivery",
        "发货": "delivery",
        "售后": "support",
        "服务": "support",
        "支持": "support",
        "投诉": "support",
        "客服": "support",
        "ticket": "support",
        "季度回顾": "qbr",
        "业务回顾": "qbr",
        "季度业务回顾": "qbr",
    },
)


@lru_cache(maxsize=65536)
def date_value(text: str) -> date:
    return parse.parse_date(text)


def datetime_value(text: str) -> datetime:
    return parse.parse_datetime(text)


# Most cells of an ERP export are plain "1234.50" or "1,234.50": read those without the
# general parser, which handles currency signs, brackets, full-width digits and 万.
_PLAIN_AMOUNT = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")
_CENT = Decimal("0.01")


_MAX_AMOUNT = Decimal(10) ** 15  # the same bound as kit.parse: far beyond any invoice


def amount_value(text: str) -> Decimal:
    if _PLAIN_AMOUNT.match(text):
        amount = Decimal(text.replace(",", "") if "," in text else text)
        if abs(amount) >= _MAX_AMOUNT:
            raise ValueError(f"{text!r} is too large to be an amount")
        # "1234.50" already has its two decimals; only "1234" and "1234.5" need the cents.
        return amount if len(text) > 3 and text[-3] == "." else amount.quantize(_CENT)
    return parse.parse_amount(text)


def positive_amount(text: str) -> Decimal:
    amount = amount_value(text)
    if amount < 0:
        raise ValueError(f"negative amount {text!r}; a credit goes in a credit-note import")
    if amount == 0:
        raise ValueError("amount is zero")
    return amount


def non_negative_amount(text: str) -> Decimal:
    amount = amount_value(text)
    if amount < 0:
        raise ValueError(f"negative amount {text!r}")
    return amount


_CURRENCY_WORDS = {
    "人民币": "CNY",
    "rmb": "CNY",
    "元": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "美元": "USD",
    "美金": "USD",
    "$": "USD",
    "us$": "USD",
    "欧元": "EUR",
    "€": "EUR",
    "港币": "HKD",
    "港元": "HKD",
    "hk$": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
    "£": "GBP",
}
_ISO_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


@lru_cache(maxsize=1024)
def currency(text: str) -> str:
    word = text.strip()
    code = _CURRENCY_WORDS.get(word.lower())
    if code:
        return code
    if _ISO_CURRENCY.match(word):
        return word.upper()
    raise ValueError(f"unknown currency {text!r} (use a 3-letter code such as CNY, USD, EUR)")


@lru_cache(maxsize=1024)
def terms(text: str) -> str:
    return parse_terms(text).code


def satisfaction(text: str) -> int:
    value = parse.parse_int(text)
    if not 1 <= value <= 5:
        raise ValueError(f"satisfaction must be 1 to 5, got {value}")
    return value


def identifier(text: str) -> str:
    """A code, number or reference: trimmed, at most 64 characters, no inner line breaks."""
    value = text.strip()
    if len(value) <= 64 and value.isascii() and value.isprintable() and not value.endswith(".0"):
        return value  # the common case, decided in one pass
    # Full-width letters and digits and invisible characters must not make a second key.
    value = unicodedata.normalize("NFKC", parse.clean_text(value) or "")
    if not value:
        raise ValueError("is empty once invisible characters are removed")
    if len(value) > 64:
        raise ValueError(f"longer than 64 characters ({len(value)})")
    if "\n" in value or "\r" in value:
        raise ValueError("contains a line break")
    # Spreadsheets turn numeric codes into floats: "1001.0" is code "1001".
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    return value


def bounded_text(limit: int) -> Parser:
    def parse_text(text: str) -> str:
        value = text.strip()
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters ({len(value)})")
        return value

    return parse_text


def email(text: str) -> str:
    value = text.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 254:
        raise ValueError(f"not an email address: {text!r}")
    return value
