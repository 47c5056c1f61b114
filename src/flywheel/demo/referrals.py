"""The demo company's referrals: a won referral behind every account the generator marked as
referred, open and lost leads from the customers most inclined to refer, and the default
reward rule with the rewards of the older won referrals (as history only: no credit notes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, aliased

from flywheel.models.customers import Contact, Customer
from flywheel.models.demo import DemoCustomerTraits
from flywheel.models.enums import CustomerStatus, ReferralStatus, RewardKind, RewardStatus
from flywheel.models.loyalty import Referral, ReferralRewardRule

DEFAULT_RULE = "默认转介绍奖励（贷项通知单 500 元）"
DEFAULT_AMOUNT = Decimal("500.00")
DEFAULT_CURRENCY = "CNY"
# The most inclined twentieth of the active customers bring the open and lost leads.
LEAD_SHARE = 0.05
LEAD_DAYS = 180  # open and lost leads were made in the last half year
OPEN_DAYS = 90  # younger ones are still open; older ones were lost
# Of the won referrals older than GRANT_AFTER days: granted, declined, the rest still pending.
GRANT_AFTER = 60
GRANTED_SHARE = 0.75
DECLINED_SHARE = 0.08

_CITIES = ("华东", "苏州", "宁波", "佛山", "东莞", "青岛", "无锡", "合肥", "成都", "武汉")
_TRADES = ("精密", "机电", "包装", "新材料", "智能装备", "化工", "电子", "物流", "汽配", "五金")
_SUFFIXES = ("有限公司", "科技有限公司", "制造有限公司", "实业有限公司")
_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴")
_TITLES = ("经理", "总", "工", "主任")
_LOST_REASONS = (
    "预算推迟到明年",
    "选择了现有供应商",
    "价格未谈拢",
    "需求取消",
    "No budget this year",
    "Went with the incumbent supplier",
)


def _rule(session: Session) -> ReferralRewardRule:
    rule = session.scalar(select(ReferralRewardRule).where(ReferralRewardRule.name == DEFAULT_RULE))
    if rule is None:
        rule = ReferralRewardRule(
            name=DEFAULT_RULE,
            kind=RewardKind.CREDIT_NOTE.value,
            amount=DEFAULT_AMOUNT,
            currency=DEFAULT_CURRENCY,
            active=True,
        )
        session.add(rule)
        session.flush()
    return rule


def _days(values: np.ndarray[Any, Any]) -> list[date]:
    return [date.fromordinal(int(v)) for v in values]


def _won(session: Session, rng: np.random.Generator, rule: ReferralRewardRule, as_of: date) -> int:
    """One won referral per account with a referrer and no referral yet."""
    referrer = aliased(Customer)
    first_contact = (
        select(Contact.customer_id, func.min(Contact.id).label("contact_id"))
        .group_by(Contact.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.created_on,
            Customer.referred_by_id,
            referrer.currency,
            first_contact.c.contact_id,
        )
        .join(referrer, referrer.id == Customer.referred_by_id)
        .outerjoin(first_contact, first_contact.c.customer_id == Customer.referred_by_id)
        .where(
            Customer.referred_by_id.is_not(None),
            Customer.created_on <= as_of,
            ~select(Referral.id)
            .where(Referral.referred_customer_id == Customer.id)
            .correlate(Customer)
            .exists(),
        )
        .order_by(Customer.id)
    ).all()
    if not rows:
        return 0
    n = len(rows)
    won_day = np.array([r.created_on.toordinal() for r in rows], dtype=np.int64)
    referred_day = won_day - rng.integers(7, 61, size=n)
    age = as_of.toordinal() - won_day
    draw = rng.random(n)
    granted_after = rng.integers(10, 41, size=n)
    rewarded = np.array([r.currency == rule.currency for r in rows])
    old = age > GRANT_AFTER
    granted = rewarded & old & (draw < GRANTED_SHARE)
    declined = rewarded & old & (draw >= GRANTED_SHARE) & (draw < GRANTED_SHARE + DECLINED_SHARE)
    granted_day = np.minimum(won_day + granted_after, as_of.toordinal())
    referred_on, won_on, granted_on = _days(referred_day), _days(won_day), _days(granted_day)
    values: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        status = (
            RewardStatus.GRANTED
            if granted[i]
            else RewardStatus.DECLINED
            if declined[i]
            else RewardStatus.PENDING
            if rewarded[i]
            else RewardStatus.NONE
        )
        values.append(
            {
                "customer_id": row.referred_by_id,
                "referrer_contact_id": row.contact_id,
                "referred_customer_id": row.id,
                "lead_company": row.name,
                "status": ReferralStatus.WON.value,
                "source": "demo",
                "referred_on": referred_on[i],
                "won_on": won_on[i],
                "reward_rule_id": rule.id if rewarded[i] else None,
                "reward_status": status.value,
                "reward_amount": rule.amount if rewarded[i] else None,
                "reward_currency": rule.currency if rewarded[i] else None,
                "reward_granted_on": granted_on[i] if granted[i] else None,
            }
        )
    session.execute(insert(Referral), values)
    return n


def _leads(session: Session, rng: np.random.Generator, as_of: date) -> int:
    """Open and lost leads from the customers most inclined to refer."""
    already = session.scalar(
        select(func.count(Referral.id)).where(
            Referral.source == "demo", Referral.status != ReferralStatus.WON.value
        )
    )
    if already:
        return 0
    rows = session.execute(
        select(Customer.id, DemoCustomerTraits.referral_propensity)
        .join(DemoCustomerTraits, DemoCustomerTraits.customer_id == Customer.id)
        .where(Customer.status == CustomerStatus.ACTIVE.value, Customer.created_on <= as_of)
        .order_by(Customer.id)
    ).all()
    if not rows:
        return 0
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    propensity = np.array([r[1] for r in rows], dtype=np.float64)
    cut = np.quantile(propensity, 1.0 - LEAD_SHARE)
    chosen = ids[propensity >= cut]
    counts = rng.integers(1, 3, size=len(chosen))
    referrer = np.repeat(chosen, counts)
    n = len(referrer)
    age = rng.integers(0, LEAD_DAYS, size=n)
    day = as_of.toordinal() - age
    open_ = age < OPEN_DAYS
    open_status = rng.choice(
        [ReferralStatus.LEAD.value, ReferralStatus.CONTACTED.value, ReferralStatus.QUALIFIED.value],
        size=n,
        p=[0.45, 0.35, 0.20],
    )
    pick = rng.integers(0, 1_000_000, size=(n, 5))
    values: list[dict[str, Any]] = []
    for i in range(n):
        a, b, c, d, e = (int(x) for x in pick[i])
        company = (
            f"{_CITIES[a % len(_CITIES)]}{_TRADES[b % len(_TRADES)]}{_SUFFIXES[c % len(_SUFFIXES)]}"
        )
        person = f"{_SURNAMES[d % len(_SURNAMES)]}{_TITLES[e % len(_TITLES)]}"
        values.append(
            {
                "customer_id": int(referrer[i]),
                "lead_company": company,
                "lead_contact": person,
                "lead_phone": f"1{3 + a % 7}{b % 10}{c % 10_000:04d}{d % 10_000:04d}",
                "status": str(open_status[i]) if open_[i] else ReferralStatus.LOST.value,
                "source": "demo",
                "referred_on": date.fromordinal(int(day[i])),
                "lost_reason": None if open_[i] else _LOST_REASONS[e % len(_LOST_REASONS)],
                "reward_status": RewardStatus.NONE.value,
            }
        )
    if values:
        session.execute(insert(Referral), values)
    return n


def write_referrals(session: Session, *, as_of: date, seed: int = 0) -> dict[str, int]:
    """Write the demo's referrals in the caller's transaction (flushes, never commits); returns
    the rows written per kind. Running it again adds only what is missing."""
    rng = np.random.default_rng(seed + 313)
    rule = _rule(session)
    won = _won(session, rng, rule, as_of)
    leads = _leads(session, rng, as_of)
    session.flush()
    return {"referrals": won + leads, "referrals_won": won, "referral_leads": leads}
