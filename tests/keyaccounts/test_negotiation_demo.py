"""The demo's negotiations: one per key account (on its biggest open deal when it has one),
some open with concessions waiting for a manager, some closed with an outcome; consistent with
the service's rules; a rerun adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.demo.keyaccounts_deals import write_deals
from flywheel.demo.keyaccounts_negotiations import write_negotiations
from flywheel.keyaccounts import negotiations as ng
from flywheel.models.enums import Tier
from flywheel.models.keyaccounts import Concession, Negotiation
from tests.factories import make_customer

AS_OF = date(2026, 6, 30)


def test_one_negotiation_per_key_account_and_a_rerun_adds_nothing(session: Session) -> None:
    keys = [make_customer(session, tier=Tier.KEY) for _ in range(12)]
    other = make_customer(session, tier=Tier.STANDARD)
    write_deals(session, as_of=AS_OF, seed=3)

    counts = write_negotiations(session, as_of=AS_OF, seed=3)
    again = write_negotiations(session, as_of=AS_OF, seed=3)

    assert counts["negotiations"] == 12
    assert counts["negotiation_issues"] == 24
    assert again["negotiations"] == 0
    rows = list(session.scalars(select(Negotiation)))
    assert {n.customer_id for n in rows} == {c.id for c in keys}
    assert other.id not in {n.customer_id for n in rows}
    assert all(n.deal_id is not None for n in rows)  # every key account has open deals
    statuses = Counter(n.status for n in rows)
    assert statuses["closed"] >= 1
    assert statuses["closed"] < 12
    for n in rows:
        assert (n.outcome is None) == (n.status != "closed")
        pending = session.scalar(
            select(func.count()).where(
                Concession.negotiation_id == n.id, Concession.approval_status == "pending"
            )
        )
        if n.status == "closed":
            assert pending == 0  # closing needs no pending concession
        issues = ng.issues_of(session, n.id)
        assert [i.name for i in issues] == ["price", "payment_terms"]
        for issue in issues:
            # Each side's positions run from its best to its worst, as the service requires.
            ng._check_order(
                {f: getattr(issue, f) for f in ng.POSITIONS}, issue.higher_is_better, "our"
            )
            ng._check_order(
                {f: getattr(issue, f) for f in ng.POSITIONS}, issue.higher_is_better, "their"
            )
