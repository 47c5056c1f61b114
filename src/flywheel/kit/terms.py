"""Payment terms (付款条件/账期): codes like ``NET30`` and ``EOM60`` and the due dates they give.

``NETn``  due n days after the issue date (``NET0`` = due on receipt, 货到付款/见票即付).
``EOMn``  month-end terms (月结n天): due n days after the end of the issue month.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

_CODE = re.compile(r"^(NET|EOM)(\d{1,3})$")
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?:NET|N)\s*[-_ ]?\s*(\d{1,3})(?:\s*(?:DAYS?|D))?$"), "NET"),
    (re.compile(r"^(\d{1,3})\s*(?:DAYS?|D|天|日)?$"), "NET"),
    (
        re.compile(r"^(?:EOM|MONTH[- ]END|月结|月底)\s*[-_+ ]?\s*(\d{1,3})\s*(?:DAYS?|D|天|日)?$"),
        "EOM",
    ),
    (re.compile(r"^(?:DUE ON RECEIPT|COD|CASH ON DELIVERY|货到付款|见票即付|现结|即付)$"), "NET0"),
]


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    kind: str  # "NET" or "EOM"
    days: int

    @property
    def code(self) -> str:
        return f"{self.kind}{self.days}"

    def due_date(self, issue_date: date) -> date:
        if self.kind == "EOM":
            last_day = calendar.monthrange(issue_date.year, issue_date.month)[1]
            return issue_date.replace(day=last_day) + timedelta(days=self.days)
        return issue_date + timedelta(days=self.days)

    def __str__(self) -> str:
        return self.code


@lru_cache(maxsize=4096)
def parse_terms(text: str) -> PaymentTerms:
    """Parse a terms code or a common English/Chinese wording; raise ValueError otherwise."""
    cleaned = text.strip().upper().replace("　", " ")
    match = _CODE.match(cleaned)
    if match:
        return _checked(match.group(1), int(match.group(2)))
    for pattern, kind in _PATTERNS:
        found = pattern.match(cleaned)
        if not found:
            continue
        if kind == "NET0":
            return PaymentTerms("NET", 0)
        return _checked(kind, int(found.group(1)))
    raise ValueError(f"unknown payment terms {text!r} (use e.g. NET30, EOM60, 30天, 月结60天)")


def _checked(kind: str, days: int) -> PaymentTerms:
    if days > 365:
        raise ValueError(f"payment terms of {days} days are longer than a year")
    return PaymentTerms(kind, days)


@lru_cache(maxsize=65536)
def due_date_for(terms: str, issue_date: date) -> date:
    """The due date of ``terms`` for ``issue_date``; cached, since imports ask it millions of times."""
    return parse_terms(terms).due_date(issue_date)
