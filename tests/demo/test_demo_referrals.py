"""The demo company's referrals (``demo.referrals.write_referrals`` on the small demo): a won
referral behind every referred account, open and lost leads from the customers most inclined
to refer, the default reward rule with history-only rewards, and a second run adding nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.demo.referrals import DEFAULT_RULE, write_referrals
from flywheel.demo.service import DemoSummary
from flywheel.loyalty import referral_kpis, referral_rewards
from flywheel.models.customers import Customer
from flywheel.models.demo import DemoCustomerTraits
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import CreditNote
from tests.demo.conftest import AS_OF


@pytest.fixture(scope="module")
def written(built: tuple[Engine, DemoSummary]) -> tuple[Engine, dict[str, int]]:
    """The referrals ``build_demo`` wrote, with its counts."""
    engine, summary = built
    return engine, dict(summary.counts)


def test_every_referred_account_has_its_won_referral(
    written: tuple[Engine, dict[str, int]],
) -> None:
    engine, counts = written
    with Session(engine) as session:
        referred = session.execute(
            select(Customer.id, Customer.referred_by_id, Customer.created_on).where(
                Customer.referred_by_id.is_not(None)
            )
        ).all()
        won = {
            r.referred_customer_id: r
            for r in session.scalars(select(Referral).where(Referral.status == "won"))
        }
    assert len(referred) > 0
    assert counts["referrals_won"] == len(referred) == len(won)
    for customer_id, referrer_id, created_on in referred:
        referral = won[customer_id]
        assert referral.customer_id == referrer_id
        assert referral.won_on == created_on
        assert created_on - timedelta(days=60) <= referral.referred_on < created_on
        assert referral.source == "demo"


def test_open_and_lost_leads_come_from_the_most_inclined_customers(
    written: tuple[Engine, dict[str, int]],
) -> None:
    engine, counts = written
    with Session(engine) as session:
        leads = session.scalars(select(Referral).where(Referral.status != "won")).all()
        propensity = dict(
            session.execute(
                select(DemoCustomerTraits.customer_id, DemoCustomerTraits.referral_propensity)
            ).all()
        )
    assert counts["referral_leads"] == len(leads) > 0
    statuses = {lead.status for lead in leads}
    assert "lost" in statuses
    assert statuses & {"lead", "contacted", "qualified"}
    assert all(lead.lost_reason for lead in leads if lead.status == "lost")
    assert all(lead.lead_company and lead.reward_status == "none" for lead in leads)
    median = sorted(propensity.values())[len(propensity) // 2]
    assert all(propensity[lead.customer_id] > median for lead in leads)
    assert all(AS_OF - timedelta(days=180) < lead.referred_on <= AS_OF for lead in leads)


def test_the_default_rule_and_history_only_rewards(
    written: tuple[Engine, dict[str, int]],
) -> None:
    engine, _counts = written
    with Session(engine) as session:
        [rule] = session.scalars(select(ReferralRewardRule)).all()
        rewards = session.execute(
            select(Referral.reward_status, Referral.won_on, Referral.reward_granted_on).where(
                Referral.status == "won"
            )
        ).all()
        granted_amounts = set(
            session.scalars(
                select(Referral.reward_amount).where(Referral.reward_status == "granted")
            )
        )
        notes = session.scalar(
            select(func.count(Referral.id)).where(Referral.reward_credit_note_id.is_not(None))
        )
        reward_notes = session.scalar(
            select(func.count(CreditNote.id)).where(CreditNote.number.like("CN-REF-%"))
        )
    assert (rule.name, rule.kind, rule.amount, rule.currency, rule.active) == (
        DEFAULT_RULE,
        "credit_note",
        Decimal("500.00"),
        "CNY",
        True,
    )
    kinds = {status for status, _won, _granted in rewards}
    assert "granted" in kinds
    assert "pending" in kinds
    assert granted_amounts == {Decimal("500.00")}
    for status, won_on, granted_on in rewards:
        if status == "granted":
            assert won_on < granted_on <= AS_OF
    assert notes == 0
    assert reward_notes == 0


def test_a_second_run_adds_nothing_and_the_figures_read_it(
    written: tuple[Engine, dict[str, int]],
) -> None:
    engine, _counts = written
    with Session(engine) as session:
        before = session.scalar(select(func.count(Referral.id)))
        again = write_referrals(session, as_of=AS_OF, seed=11)
        figures = referral_kpis.kpis(
            session,
            Actor.system("tests"),
            start=AS_OF - timedelta(days=364),
            end=AS_OF,
        )
        daily = referral_rewards.daily(session, as_of=AS_OF)
        session.rollback()
    assert again == {"referrals": 0, "referrals_won": 0, "referral_leads": 0}
    assert before is not None
    assert before > 0
    assert figures["made"] > 0
    assert figures["won"] > 0
    assert 0 < figures["referral_rate"] < 1
    assert 0 < figures["referred_new_share"] < 1
    assert daily == {"rewards_earned": 0, "discounts_granted": 0}
