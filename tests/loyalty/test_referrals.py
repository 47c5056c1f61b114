"""Referrals: recording a lead, its way to won or lost (and the refused moves, which change
nothing), the reward a won referral earns (a real credit note, a discount on the next order,
a minimum first order), the revenue attributed within the window, the KPIs with exact
values, the 360 summary, and a rep or a role without the right kept out."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import Settings
from flywheel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flywheel.loyalty import referral_kpis, referral_rewards, referrals
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import OrderStatus, ReferralStatus, RewardStatus, Role
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import CreditNote
from tests.factories import TESTER, make_contact, make_customer, make_invoice, make_user
from tests.loyalty.factories import make_order
from tests.loyalty.referral_support import (
    REFERRED_ON,
    WON_ON,
    ReferralWorld,
    audit_total,
    build,
    lead,
    won,
)

SETTINGS = Settings(secret_key="flywheel-tests-only-session-key", referral_attribution_days=30)


@pytest.fixture
def world(session: Session) -> ReferralWorld:
    return build(session)


def _actions(session: Session, since: int) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id).offset(since)))


def _referral_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Referral)) or 0


# ---------------------------------------------------------------- recording


def test_a_rep_records_a_lead_from_his_account_and_it_is_audited(
    session: Session, world: ReferralWorld
) -> None:
    before = audit_total(session)

    referral = lead(session, world)

    assert referral.status == ReferralStatus.LEAD
    assert referral.customer_id == world.referrer.id
    assert referral.referrer_contact_id == world.contact.id
    assert (referral.lead_company, referral.lead_contact) == ("南山精工", "钱经理")
    assert referral.source == "manual"
    assert referral.reward_status == RewardStatus.NONE
    assert referral.created_by_id == world.rep.id
    [event] = session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(before)).all()
    assert event.action == "referral.recorded"
    assert event.customer_id == world.referrer.id
    assert event.after is not None
    assert event.after["status"] == "lead"
    assert event.after["lead_email"] == "qian@example.cn"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lead_company": None, "lead_contact": None}, "lead_company"),
        ({"lead_email": "not-an-address"}, "lead_email"),
        ({"source": "rumour"}, "source"),
        ({"referred_customer": "NO-SUCH"}, "referred_customer"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    session: Session, world: ReferralWorld, changes: dict[str, object], field: str
) -> None:
    values: dict[str, object] = {
        "customer": world.referrer.code,
        "lead_company": "南山精工",
        "lead_contact": "钱经理",
        "referred_on": REFERRED_ON,
        **changes,
    }
    before = (audit_total(session), _referral_count(session))

    with pytest.raises((ValidationFailed, NotFound)) as raised:
        referrals.record_referral(session, actor=world.rep_actor, **values)  # type: ignore[arg-type]

    assert raised.value.details["field"] == field
    assert (audit_total(session), _referral_count(session)) == before


def test_the_referrers_contact_must_be_one_of_his(session: Session, world: ReferralWorld) -> None:
    someone_else = make_contact(session, customer=world.foreign, name="孙经理")
    with pytest.raises(ValidationFailed):
        referrals.record_referral(
            session,
            actor=world.rep_actor,
            customer=world.referrer.code,
            referrer_contact_id=someone_else.id,
            lead_company="某公司",
            referred_on=REFERRED_ON,
        )


def test_a_rival_rep_or_a_collector_cannot_record_on_the_reps_account(
    session: Session, world: ReferralWorld
) -> None:
    collector = Actor.for_user(make_user(session, role=Role.COLLECTOR))
    before = (audit_total(session), _referral_count(session))

    with pytest.raises(NotFound):
        referrals.record_referral(
            session,
            actor=world.rival_actor,
            customer=world.referrer.code,
            lead_company="某公司",
            referred_on=REFERRED_ON,
        )
    with pytest.raises(Forbidden):
        referrals.record_referral(
            session,
            actor=collector,
            customer=world.referrer.code,
            lead_company="某公司",
            referred_on=REFERRED_ON,
        )

    assert (audit_total(session), _referral_count(session)) == before


# ---------------------------------------------------------------- status


def test_a_lead_goes_to_won_and_the_account_records_its_referrer(
    session: Session, world: ReferralWorld
) -> None:
    referral = lead(session, world)
    for step in ("contacted", "qualified"):
        referrals.change_status(
            session, actor=world.rep_actor, referral_id=referral.id, status=step, on=REFERRED_ON
        )
    since = audit_total(session)

    referrals.change_status(
        session,
        actor=world.rep_actor,
        referral_id=referral.id,
        status="won",
        on=WON_ON,
        referred_customer=world.newcomer.code,
    )

    assert referral.status == ReferralStatus.WON
    assert referral.won_on == WON_ON
    assert referral.referred_customer_id == world.newcomer.id
    assert world.newcomer.referred_by_id == world.referrer.id
    assert referral.reward_rule_id == world.rule.id
    assert referral.reward_status == RewardStatus.PENDING
    assert referral.reward_amount == Decimal("500.00")
    assert referral.reward_currency == "CNY"
    assert _actions(session, since) == ["referral.status_changed", "customer.updated"]
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "referral.status_changed")
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None
    assert event.before == {
        "status": "qualified",
        "referred_customer_id": None,
        "won_on": None,
        "reward_rule_id": None,
        "reward_status": "none",
        "reward_amount": None,
        "reward_currency": None,
    }


@pytest.mark.parametrize(
    ("path", "wanted"),
    [(["contacted"], "lead"), (["qualified"], "contacted"), (["lost"], "won")],
)
def test_an_invalid_move_is_refused_and_changes_nothing(
    session: Session, world: ReferralWorld, path: list[str], wanted: str
) -> None:
    referral = lead(session, world)
    for step in path:
        referrals.change_status(
            session,
            actor=world.rep_actor,
            referral_id=referral.id,
            status=step,
            on=REFERRED_ON,
            lost_reason="预算取消" if step == "lost" else None,
        )
    status = referral.status
    before = audit_total(session)

    with pytest.raises(referrals.ReferralTransitionInvalid) as raised:
        referrals.change_status(
            session, actor=world.rep_actor, referral_id=referral.id, status=wanted, on=WON_ON
        )

    assert raised.value.code == "referral_transition_invalid"
    assert referral.status == status
    assert audit_total(session) == before


def test_a_won_referral_is_final(session: Session, world: ReferralWorld) -> None:
    referral = won(session, world)
    with pytest.raises(referrals.ReferralTransitionInvalid):
        referrals.change_status(
            session,
            actor=world.rep_actor,
            referral_id=referral.id,
            status="lost",
            on=WON_ON,
            lost_reason="x",
        )


def test_won_needs_the_account_and_lost_needs_a_reason(
    session: Session, world: ReferralWorld
) -> None:
    referral = lead(session, world)
    before = audit_total(session)

    with pytest.raises(ValidationFailed) as no_account:
        referrals.change_status(
            session, actor=world.rep_actor, referral_id=referral.id, status="won", on=WON_ON
        )
    with pytest.raises(ValidationFailed) as no_reason:
        referrals.change_status(
            session, actor=world.rep_actor, referral_id=referral.id, status="lost", on=WON_ON
        )
    with pytest.raises(ValidationFailed) as too_early:
        referrals.change_status(
            session,
            actor=world.rep_actor,
            referral_id=referral.id,
            status="won",
            on=REFERRED_ON - timedelta(days=1),
            referred_customer=world.newcomer.code,
        )

    assert no_account.value.details["field"] == "referred_customer"
    assert no_reason.value.details["field"] == "lost_reason"
    assert too_early.value.details["field"] == "won_on"
    assert referral.status == ReferralStatus.LEAD
    assert world.newcomer.referred_by_id is None
    assert audit_total(session) == before


def test_an_account_has_one_referrer(session: Session, world: ReferralWorld) -> None:
    won(session, world)
    second = lead(session, world)
    before = audit_total(session)

    with pytest.raises(Conflict):
        referrals.change_status(
            session,
            actor=world.rep_actor,
            referral_id=second.id,
            status="won",
            on=WON_ON,
            referred_customer=world.newcomer.code,
        )

    assert second.status == ReferralStatus.LEAD
    assert audit_total(session) == before


def test_a_lost_lead_keeps_its_reason_and_can_be_reopened(
    session: Session, world: ReferralWorld
) -> None:
    referral = lead(session, world)
    referrals.change_status(
        session,
        actor=world.rep_actor,
        referral_id=referral.id,
        status="lost",
        on=WON_ON,
        lost_reason="选了竞争对手",
    )
    assert (referral.status, referral.lost_reason) == ("lost", "选了竞争对手")

    referrals.change_status(
        session, actor=world.rep_actor, referral_id=referral.id, status="contacted", on=WON_ON
    )
    assert (referral.status, referral.lost_reason) == ("contacted", None)


# ---------------------------------------------------------------- rewards


def test_granting_a_credit_note_reward_issues_a_real_credit_note(
    session: Session, world: ReferralWorld
) -> None:
    referral = won(session, world)
    since = audit_total(session)

    referral_rewards.grant_reward(
        session, actor=world.finance_actor, referral_id=referral.id, on=date(2026, 3, 25)
    )

    note = session.get(CreditNote, referral.reward_credit_note_id)
    assert note is not None
    assert note.number == f"CN-REF-{referral.id:06d}"
    assert note.customer_id == world.referrer.id
    assert note.invoice_id == world.invoice.id
    assert note.amount == Decimal("500.00")
    assert note.currency == "CNY"
    assert note.issue_date == date(2026, 3, 25)
    session.refresh(world.invoice)
    assert world.invoice.credited_amount == Decimal("500.00")
    assert world.invoice.open_amount == Decimal("1500.00")
    assert referral.reward_status == RewardStatus.GRANTED
    assert referral.reward_granted_on == date(2026, 3, 25)
    assert _actions(session, since) == ["credit_note.issued", "referral.reward_granted"]


def test_a_sales_rep_cannot_grant_and_nothing_is_written(
    session: Session, world: ReferralWorld
) -> None:
    referral = won(session, world)
    before = (audit_total(session), session.scalar(select(func.count(CreditNote.id))))

    with pytest.raises(Forbidden):
        referral_rewards.grant_reward(
            session, actor=world.rep_actor, referral_id=referral.id, on=date(2026, 3, 25)
        )

    assert referral.reward_status == RewardStatus.PENDING
    assert (audit_total(session), session.scalar(select(func.count(CreditNote.id)))) == before


def test_no_open_invoice_big_enough_leaves_the_reward_pending(
    session: Session, world: ReferralWorld
) -> None:
    world.rule.amount = Decimal("2500.00")
    referral = won(session, world)
    before = (audit_total(session), session.scalar(select(func.count(CreditNote.id))))

    with pytest.raises(referral_rewards.RewardNotGrantable):
        referral_rewards.grant_reward(
            session, actor=world.finance_actor, referral_id=referral.id, on=date(2026, 3, 25)
        )

    assert referral.reward_status == RewardStatus.PENDING
    assert (audit_total(session), session.scalar(select(func.count(CreditNote.id)))) == before
    # A bigger invoice arrives: the reward goes on it.
    bigger = make_invoice(session, customer=world.referrer, amount="3000.00")
    referral_rewards.grant_reward(
        session, actor=world.finance_actor, referral_id=referral.id, on=date(2026, 4, 2)
    )
    note = session.get(CreditNote, referral.reward_credit_note_id)
    assert note is not None
    assert (note.invoice_id, note.amount) == (bigger.id, Decimal("2500.00"))


def test_a_reward_is_declined_with_a_reason_and_then_cannot_be_granted(
    session: Session, world: ReferralWorld
) -> None:
    referral = won(session, world)
    with pytest.raises(ValidationFailed):
        referral_rewards.decline_reward(
            session, actor=world.finance_actor, referral_id=referral.id, reason="  "
        )

    referral_rewards.decline_reward(
        session, actor=world.finance_actor, referral_id=referral.id, reason="内部员工推荐，不计奖励"
    )

    assert referral.reward_status == RewardStatus.DECLINED
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "referral.reward_declined")
    )
    assert event is not None
    assert event.after == {"reward_status": "declined", "reason": "内部员工推荐，不计奖励"}
    with pytest.raises(referral_rewards.RewardNotGrantable):
        referral_rewards.grant_reward(
            session, actor=world.finance_actor, referral_id=referral.id, on=date(2026, 4, 1)
        )


def test_a_minimum_first_order_is_reached_before_the_reward_is_earned(
    session: Session, world: ReferralWorld
) -> None:
    referral_rewards.update_rule(
        session, actor=TESTER, rule_id=world.rule.id, changes={"min_first_order": "10000.00"}
    )
    referral = won(session, world)
    assert (referral.reward_status, referral.reward_rule_id) == ("none", world.rule.id)
    make_order(session, customer=world.newcomer, on=WON_ON, amount="6000.00")
    make_order(
        session,
        customer=world.newcomer,
        on=WON_ON + timedelta(days=2),
        amount="9000.00",
        status=OrderStatus.CANCELLED,
    )

    first = referral_rewards.daily(session, as_of=WON_ON + timedelta(days=5))
    session.refresh(referral)
    assert first == {"rewards_earned": 0, "discounts_granted": 0}
    assert referral.reward_status == RewardStatus.NONE

    make_order(session, customer=world.newcomer, on=WON_ON + timedelta(days=10), amount="4000.00")
    too_soon = referral_rewards.daily(session, as_of=WON_ON + timedelta(days=9))
    reached = referral_rewards.daily(session, as_of=WON_ON + timedelta(days=10))
    again = referral_rewards.daily(session, as_of=WON_ON + timedelta(days=10))

    session.refresh(referral)
    assert too_soon["rewards_earned"] == 0
    assert reached == {"rewards_earned": 1, "discounts_granted": 0}
    assert again == {"rewards_earned": 0, "discounts_granted": 0}
    assert referral.reward_status == RewardStatus.PENDING
    [event] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "referral.reward_earned")
    ).all()
    assert event.subject_id == referral.id
    assert event.customer_id == world.referrer.id


def test_a_discount_reward_is_granted_on_the_referrers_next_order(
    session: Session, world: ReferralWorld
) -> None:
    discount = referral_rewards.create_rule(
        session, actor=TESTER, values={"name": "九五折", "kind": "discount", "percent": "5"}
    )
    session.refresh(world.rule)
    assert world.rule.active is False  # one active rule at a time
    referral = won(session, world)
    assert (referral.reward_rule_id, referral.reward_status) == (discount.id, "pending")
    assert referral.reward_amount is None
    with pytest.raises(referral_rewards.RewardNotGrantable):
        referral_rewards.grant_reward(
            session, actor=world.finance_actor, referral_id=referral.id, on=WON_ON
        )
    make_order(session, customer=world.referrer, on=WON_ON, amount="99999.00")  # not after won
    make_order(session, customer=world.referrer, on=WON_ON + timedelta(days=3), amount="12345.67")
    make_order(session, customer=world.referrer, on=WON_ON + timedelta(days=9), amount="500.00")

    result = referral_rewards.daily(session, as_of=WON_ON + timedelta(days=30))

    session.refresh(referral)
    assert result == {"rewards_earned": 0, "discounts_granted": 1}
    assert referral.reward_status == RewardStatus.GRANTED
    assert referral.reward_amount == Decimal("617.28")  # 5 % of 12,345.67, half up
    assert referral.reward_currency == "CNY"
    assert referral.reward_granted_on == WON_ON + timedelta(days=3)
    assert referral_rewards.daily(session, as_of=WON_ON + timedelta(days=31)) == {
        "rewards_earned": 0,
        "discounts_granted": 0,
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "", "kind": "credit_note", "amount": "1"}, "name"),
        ({"name": "a", "kind": "gift", "amount": "1"}, "kind"),
        ({"name": "a", "kind": "credit_note"}, "amount"),
        ({"name": "a", "kind": "discount", "percent": "150"}, "percent"),
        ({"name": "a", "kind": "credit_note", "amount": "1", "currency": "RMB1"}, "currency"),
        ({"name": "默认转介绍奖励", "kind": "credit_note", "amount": "1"}, "name"),
    ],
)
def test_bad_reward_rules_are_refused(
    session: Session, world: ReferralWorld, values: dict[str, str], field: str
) -> None:
    before = (audit_total(session), session.scalar(select(func.count(ReferralRewardRule.id))))
    with pytest.raises((ValidationFailed, Conflict)) as raised:
        referral_rewards.create_rule(session, actor=TESTER, values=values)
    assert raised.value.details["field"] == field
    assert (
        audit_total(session),
        session.scalar(select(func.count(ReferralRewardRule.id))),
    ) == before


def test_only_managers_change_reward_rules(session: Session, world: ReferralWorld) -> None:
    before = audit_total(session)
    with pytest.raises(Forbidden):
        referral_rewards.update_rule(
            session, actor=world.finance_actor, rule_id=world.rule.id, changes={"active": False}
        )
    assert world.rule.active is True
    assert audit_total(session) == before


# ---------------------------------------------------------------- revenue and KPIs


def test_revenue_is_attributed_within_the_window_only(
    session: Session, world: ReferralWorld
) -> None:
    referral = won(session, world)
    for day, amount, status in (
        (WON_ON - timedelta(days=1), "700.00", OrderStatus.DELIVERED),  # before won
        (WON_ON, "1000.00", OrderStatus.DELIVERED),
        (WON_ON + timedelta(days=29), "2000.50", OrderStatus.INVOICED),
        (WON_ON + timedelta(days=10), "800.00", OrderStatus.CANCELLED),
        (WON_ON + timedelta(days=30), "4000.00", OrderStatus.DELIVERED),  # past 30 days
    ):
        make_order(session, customer=world.newcomer, on=day, amount=amount, status=status)

    revenue = referral_kpis.revenue_attributed(
        session, TESTER, end=date(2026, 12, 31), attribution_days=30, referral_id=referral.id
    )
    early = referral_kpis.revenue_attributed(
        session, TESTER, end=WON_ON + timedelta(days=5), attribution_days=30
    )
    hidden = referral_kpis.revenue_attributed(
        session, world.rival_actor, end=date(2026, 12, 31), attribution_days=30
    )

    assert revenue == {"CNY": Decimal("3000.50")}
    assert early == {"CNY": Decimal("1000.00")}
    assert hidden == {}


def test_the_kpis_of_a_period(session: Session, world: ReferralWorld) -> None:
    # Active on 2026-03-31 (an order since 2025-04-01): the referrer, the newcomer, the rival's.
    make_order(session, customer=world.referrer, on=date(2025, 6, 1), amount="100.00")
    make_order(session, customer=world.foreign, on=date(2026, 1, 10), amount="100.00")
    idle = make_customer(session, created_on=date(2023, 1, 1))
    make_order(session, customer=idle, on=date(2025, 3, 1), amount="100.00")  # > 12 months
    won(session, world)  # made 03-02, won 03-20: the newcomer (created 03-20)
    make_order(session, customer=world.newcomer, on=date(2026, 3, 25), amount="8000.00")
    lost = referrals.record_referral(
        session,
        actor=TESTER,
        customer=world.foreign.code,
        lead_company="北岸物流",
        referred_on=date(2026, 3, 5),
    )
    referrals.change_status(
        session,
        actor=TESTER,
        referral_id=lost.id,
        status="lost",
        on=date(2026, 3, 9),
        lost_reason="无预算",
    )
    referrals.record_referral(  # before the period
        session,
        actor=TESTER,
        customer=world.foreign.code,
        lead_company="旧线索",
        referred_on=date(2026, 2, 20),
    )
    referrals.record_referral(  # in the period, still open
        session,
        actor=TESTER,
        customer=world.referrer.code,
        lead_company="东港贸易",
        referred_on=date(2026, 3, 30),
    )
    referral = session.scalar(select(Referral).where(Referral.status == "won"))
    assert referral is not None
    referral_rewards.grant_reward(
        session, actor=TESTER, referral_id=referral.id, on=date(2026, 3, 28)
    )
    make_customer(session, created_on=date(2026, 3, 11))  # new, not referred

    figures = referral_kpis.kpis(
        session, TESTER, start=date(2026, 3, 1), end=date(2026, 3, 31), settings=SETTINGS
    )
    rep_view = referral_kpis.kpis(
        session, world.rep_actor, start=date(2026, 3, 1), end=date(2026, 3, 31), settings=SETTINGS
    )

    assert figures == {
        "start": "2026-03-01",
        "end": "2026-03-31",
        "as_of": "2026-03-31",
        "made": 3,
        "won": 1,
        "made_won": 1,
        "made_lost": 1,
        "conversion_rate": 0.3333,
        "revenue_attributed": {"CNY": "8000.00"},
        "rewards_granted": 1,
        "rewards_granted_amount": {"CNY": "500.00"},
        "active_customers": 3,
        "active_referring": 2,
        "referral_rate": 0.6667,
        "new_customers": 2,
        "new_referred": 1,
        "referred_new_share": 0.5,
    }
    assert (rep_view["made"], rep_view["active_customers"], rep_view["active_referring"]) == (
        2,
        2,
        1,
    )


def test_the_360_summary_of_an_account(session: Session, world: ReferralWorld) -> None:
    referral = won(session, world)
    make_order(session, customer=world.newcomer, on=WON_ON, amount="1234.56")
    open_one = lead(session, world, on=date(2026, 4, 1))

    summary = referral_kpis.referral_summary(session, world.referrer.id, settings=SETTINGS)
    referred = referral_kpis.referral_summary(session, world.newcomer.id, settings=SETTINGS)

    assert summary["made"] == 2
    assert summary["won"] == 1
    assert summary["open"] == 1
    assert summary["revenue_attributed"] == {"CNY": "1234.56"}
    assert [r["id"] for r in summary["recent"]] == [open_one.id, referral.id]
    assert summary["recent"][1]["referred_customer"] == world.newcomer.code
    assert referred["referred_by"] == {
        "referral_id": referral.id,
        "code": world.referrer.code,
        "name": world.referrer.name,
    }
