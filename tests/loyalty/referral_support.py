"""A small referral world for the referral tests: a sales rep's referrer account with a contact
and an open invoice, the account it brought, a rival rep's account, a granter (finance) and
the default credit-note rule; and ``world_referral`` for the API permission matrix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.customers import service as customers
from flywheel.loyalty import referral_rewards, referrals
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import Role
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import Invoice
from flywheel.models.users import User
from tests.factories import TESTER, make_contact, make_customer, make_invoice, make_user

REFERRED_ON = date(2026, 3, 2)
WON_ON = date(2026, 3, 20)


@dataclass
class ReferralWorld:
    rep: User
    rival: User
    finance: User
    referrer: Customer  # the rep's
    contact: Contact
    invoice: Invoice  # the referrer's, open, 2000.00
    newcomer: Customer  # the rep's, the account the lead became
    foreign: Customer  # the rival's
    rule: ReferralRewardRule  # credit note 500.00 CNY

    @property
    def rep_actor(self) -> Actor:
        return Actor.for_user(self.rep)

    @property
    def rival_actor(self) -> Actor:
        return Actor.for_user(self.rival)

    @property
    def finance_actor(self) -> Actor:
        return Actor.for_user(self.finance)


def build(session: Session) -> ReferralWorld:
    rep = make_user(session, role=Role.SALES)
    rival = make_user(session, role=Role.SALES)
    finance = make_user(session, role=Role.FINANCE)
    referrer = make_customer(session, name="东方机电", owner=rep, created_on=date(2024, 1, 5))
    contact = make_contact(session, customer=referrer, name="赵总", email="zhao@example.cn")
    invoice = make_invoice(
        session, customer=referrer, amount="2000.00", issued=date(2026, 3, 1), due=date(2026, 4, 1)
    )
    newcomer = make_customer(session, name="南山精工", owner=rep, created_on=WON_ON)
    foreign = make_customer(session, name="西岭化工", owner=rival, created_on=date(2024, 6, 1))
    rule = referral_rewards.create_rule(
        session,
        actor=TESTER,
        values={"name": "默认转介绍奖励", "kind": "credit_note", "amount": Decimal("500.00")},
    )
    session.flush()
    return ReferralWorld(
        rep=rep,
        rival=rival,
        finance=finance,
        referrer=referrer,
        contact=contact,
        invoice=invoice,
        newcomer=newcomer,
        foreign=foreign,
        rule=rule,
    )


def lead(session: Session, world: ReferralWorld, *, on: date = REFERRED_ON) -> Referral:
    return referrals.record_referral(
        session,
        actor=world.rep_actor,
        customer=world.referrer.code,
        referrer_contact_id=world.contact.id,
        lead_company="南山精工",
        lead_contact="钱经理",
        lead_email="qian@example.cn",
        referred_on=on,
    )


def won(session: Session, world: ReferralWorld) -> Referral:
    referral = lead(session, world)
    return referrals.change_status(
        session,
        actor=world.rep_actor,
        referral_id=referral.id,
        status="won",
        on=WON_ON,
        referred_customer=world.newcomer.code,
    )


def audit_total(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def world_referral(session: Session, code: str) -> int:
    """An open referral (a lead) made by the account ``code``, for the permission matrix."""
    referrer = customers.get_customer_by_code(session, code, actor=TESTER)
    referral = referrals.record_referral(
        session,
        actor=TESTER,
        customer=referrer.code,
        lead_company=f"{code} 推荐的公司",
        referred_on=date(2026, 6, 1),
    )
    return referral.id


WORLD_RULE = "世界奖励规则"


def world_rule(session: Session) -> ReferralRewardRule:
    """The API world's reward rule: a 50.00 CNY credit note (fits the books' open invoices)."""
    rule = session.scalar(select(ReferralRewardRule).where(ReferralRewardRule.name == WORLD_RULE))
    if rule is None:
        rule = referral_rewards.create_rule(
            session,
            actor=TESTER,
            values={"name": WORLD_RULE, "kind": "credit_note", "amount": Decimal("50.00")},
        )
    return rule


def world_rewarded(session: Session, code: str) -> int:
    """A won referral of the account ``code`` whose 50.00 CNY reward is pending, written as a
    row (the world has no spare account for it to have become)."""
    referrer = customers.get_customer_by_code(session, code, actor=TESTER)
    rule = world_rule(session)
    referral = Referral(
        customer_id=referrer.id,
        lead_company=f"{code} 已成交的推荐",
        status="won",
        source="manual",
        referred_on=date(2026, 5, 2),
        won_on=date(2026, 5, 20),
        reward_rule_id=rule.id,
        reward_status="pending",
        reward_amount=Decimal("50.00"),
        reward_currency="CNY",
    )
    session.add(referral)
    session.flush()
    return referral.id
