"""The demo's account plans: every key account gets a plan with objectives, whitespace and
risks that the list reads; nothing for other tiers; a rerun adds nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.demo.keyaccounts_plans import write_plans
from flywheel.keyaccounts import plan_figures
from flywheel.models.enums import Tier
from flywheel.models.keyaccounts import AccountPlan, PlanObjective
from tests.factories import TESTER, make_customer

AS_OF = date(2026, 6, 30)


def test_every_key_account_gets_a_plan_and_a_rerun_adds_nothing(session: Session) -> None:
    keys = [make_customer(session, tier=Tier.KEY) for _ in range(5)]
    other = make_customer(session, tier=Tier.GROWTH)

    counts = write_plans(session, as_of=AS_OF, seed=1)
    again = write_plans(session, as_of=AS_OF, seed=1)

    assert counts["account_plans"] == 5
    assert 10 <= counts["plan_objectives"] <= 20
    assert again == {"account_plans": 0, "plan_objectives": 0}
    planned = set(session.scalars(select(AccountPlan.customer_id)))
    assert planned == {c.id for c in keys}
    assert other.id not in planned
    assert session.scalar(select(func.count(PlanObjective.id))) == counts["plan_objectives"]
    for plan in session.scalars(select(AccountPlan)):
        assert plan.revenue_target is not None
        assert plan.revenue_target > 0
        assert plan.estimated_wallet is not None
        assert plan.estimated_wallet > plan.revenue_target / 2
        assert plan.whitespace
        assert plan.risks
        assert plan.last_reviewed_on is not None
        assert plan.last_reviewed_on <= AS_OF
        assert plan.next_review_on is not None
    rows, _ = plan_figures.key_account_rows(
        session, TESTER, plan_figures.AccountFilter(), as_of=AS_OF
    )
    assert len(rows) == 5
    assert all(r.health is not None for r in rows)
