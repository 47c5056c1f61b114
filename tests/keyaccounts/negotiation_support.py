"""Negotiations for the API world (permission matrix, schemathesis): per account, one
negotiation with nothing pending (it can be closed) and a concession waiting for a manager on
a second one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from flywheel.keyaccounts import negotiations
from tests.factories import TESTER


def world_negotiation(session: Session, code: str) -> tuple[int, int]:
    """(an open negotiation of the account ``code`` with a price issue and nothing pending,
    a pending concession of another negotiation of it)."""
    open_one = negotiations.open_negotiation(
        session, actor=TESTER, customer=code, title=f"{code} 年度框架谈判"
    )
    negotiations.set_issue(
        session,
        actor=TESTER,
        negotiation_id=open_one.id,
        name="price",
        values={"our_walkaway": "100", "their_walkaway": "110"},
    )
    waiting = negotiations.open_negotiation(
        session, actor=TESTER, customer=code, title=f"{code} 续签谈判"
    )
    concession = negotiations.log_concession(
        session,
        actor=TESTER,
        negotiation_id=waiting.id,
        give="额外折扣 12%",
        discount_percent=Decimal(12),
        as_of=date(2026, 6, 1),
    )
    return open_one.id, concession.id
