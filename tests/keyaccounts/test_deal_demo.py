"""The demo's deals: every key account gets open deals across the stages and some closed in the
last year; nothing for other tiers; a rerun adds nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.demo.keyaccounts_deals import write_deals
from flywheel.keyaccounts import deal_figures
from flywheel.models.enums import Tier
from flywheel.models.keyaccounts import Deal
from tests.factories import TESTER, make_customer

AS_OF = date(2026, 6, 30)


def test_key_accounts_get_a_realistic_pipeline_and_a_rerun_adds_nothing(
    session: Session,
) -> None:
    keys = [make_customer(session, tier=Tier.KEY) for _ in range(6)]
    other = make_customer(session, tier=Tier.STANDARD)

    counts = write_deals(session, as_of=AS_OF, seed=1)
    again = write_deals(session, as_of=AS_OF, seed=1)

    assert counts["deals"] == counts["deals_open"] + counts["deals_won"] + counts["deals_lost"]
    assert counts["deals_open"] >= 6
    assert counts["deals_won"] + counts["deals_lost"] >= 6
    assert again["deals"] == 0
    per_account = {
        int(customer_id): int(n)
        for customer_id, n in session.execute(
            select(Deal.customer_id, func.count(Deal.id)).group_by(Deal.customer_id)
        )
    }
    assert set(per_account) == {c.id for c in keys}
    assert other.id not in per_account
    for deal in session.scalars(select(Deal)):
        assert deal.opened_on <= AS_OF
        assert deal.expected_close_on is None or deal.expected_close_on >= deal.opened_on
        if deal.closed_on is not None:
            assert deal.opened_on < deal.closed_on <= AS_OF
    figures = deal_figures.pipeline_figures(
        session, TESTER, as_of=AS_OF, start=date(2025, 7, 1), end=AS_OF
    )
    assert figures["open_deals"] == counts["deals_open"]
    assert figures["won"] == counts["deals_won"]
    assert figures["lost"] == counts["deals_lost"]
