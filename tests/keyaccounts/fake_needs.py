"""A stand-in for another part's ``summary_for_360`` in the 360 panel test."""

from __future__ import annotations

from datetime import date
from typing import Any


def summary_for_360(session: Any, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    return {"open": 2, "top": [{"title": "缩短交期", "priority": 1}]}
