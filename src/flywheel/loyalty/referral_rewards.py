"""Referral rewards: the reward rules (one active at a time), earning, granting and declining a
won referral's reward, and the daily pass over pending rewards.

How rewards work (the simplest mechanism that stays honest about money):

* When a referral is won, the active rule is attached to it. With no ``min_first_order`` the
  reward is earned at once (``pending``); otherwise it waits (``none`` with the rule attached)
  until the referred account's orders since ``won_on`` add up to that amount (``daily``).
* A credit-note reward is granted by someone with GRANT_REFERRAL_REWARDS: a real credit note
  is issued through the receivables service (audited there) on the referrer's oldest open
  invoice in the reward's currency that can take the whole amount, or on the invoice named.
  The amount is fixed when the referral is won; a later edit of the rule does not change it.
* A discount reward is a percentage off the referrer's next order. Flywheel does not price
  orders, so nothing rewrites the order: once the referrer's first order dated after
  ``won_on`` is recorded, ``daily`` (or a granter, at once) grants the reward with its amount
  computed on that order, to be applied on that order's invoice. The percentage is the rule's
  at that moment.
* A reward pending or still waiting can be declined with a reason (kept in its audit event).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import Settings
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.loyalty.referrals import (
    CENT,
    NOTE_MAX,
    SYSTEM,
    RewardNotGrantable,
    clean_text,
    get_referral_for,
    record_event,
    snapshot,
)
from flywheel.models.enums import OrderStatus, ReferralStatus, RewardKind, RewardStatus
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import CreditNote, Invoice
from flywheel.models.sales import Order
from flywheel.receivables import service as receivables
from flywheel.receivables.allocation import SETTLEABLE
from flywheel.receivables.schemas import CreditNoteCreate

RULE_AUDITED = ("name", "kind", "amount", "percent", "currency", "min_first_order", "active")


# ----------------------------------------------------------------------------- rewards


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _next_order(session: Session, referral: Referral, as_of: date | None) -> Order | None:
    """The referrer's first order (not cancelled) dated after the referral was won."""
    assert referral.won_on is not None
    stmt = select(Order).where(
        Order.customer_id == referral.customer_id,
        Order.status != OrderStatus.CANCELLED.value,
        Order.order_date > referral.won_on,
    )
    if as_of is not None:
        stmt = stmt.where(Order.order_date <= as_of)
    return session.scalar(stmt.order_by(Order.order_date, Order.id).limit(1))


def _invoice_for_credit(
    session: Session, actor: Actor, referral: Referral, invoice: str | None
) -> Invoice:
    amount = referral.reward_amount
    assert amount is not None
    if invoice:
        found = receivables.get_invoice_for(session, invoice, actor=actor)
        if found.customer_id != referral.customer_id:
            raise ValidationFailed(
                f"invoice: {found.number} is not an invoice of the referrer", field="invoice"
            )
        return found
    open_amount = Invoice.amount - Invoice.paid_amount - Invoice.credited_amount
    chosen = session.scalar(
        select(Invoice)
        .where(
            Invoice.customer_id == referral.customer_id,
            Invoice.currency == referral.reward_currency,
            Invoice.status.in_(sorted(SETTLEABLE)),
            open_amount - Invoice.written_off_amount >= amount,
        )
        .order_by(Invoice.issue_date, Invoice.id)
        .limit(1)
    )
    if chosen is None:
        raise RewardNotGrantable(
            f"the referrer has no open invoice in {referral.reward_currency} that can take a "
            f"credit note of {amount:.2f}; grant the reward once one is issued",
            field="invoice",
        )
    return chosen


def credit_note_number(referral: Referral) -> str:
    return f"CN-REF-{referral.id:06d}"


def grant_reward(
    session: Session,
    *,
    actor: Actor,
    referral_id: int,
    on: date,
    invoice: str | None = None,
) -> Referral:
    """Pay out a pending reward. A credit note is issued on the referrer's account (on
    ``invoice``, or its oldest open invoice that can take it); a discount is computed on the
    referrer's next order, which must exist."""
    permissions.check(actor, Permission.GRANT_REFERRAL_REWARDS)
    referral = get_referral_for(session, referral_id, actor=actor)
    if referral.reward_status != RewardStatus.PENDING:
        raise RewardNotGrantable(
            f"the reward of referral {referral.id} is {referral.reward_status}, not pending",
            referral_id=referral.id,
            reward_status=referral.reward_status,
        )
    rule = session.get(ReferralRewardRule, referral.reward_rule_id or 0)
    if rule is None:
        raise RewardNotGrantable(f"referral {referral.id} has no reward rule", field="rule")
    before = snapshot(referral)
    extra: dict[str, Any] = {}
    if rule.kind == RewardKind.CREDIT_NOTE:
        target = _invoice_for_credit(session, actor, referral, invoice)
        assert referral.reward_amount is not None
        note = receivables.issue_credit_note(
            session,
            actor=actor,
            data=CreditNoteCreate(
                number=credit_note_number(referral),
                invoice_id=target.id,
                issue_date=on,
                amount=referral.reward_amount,
                reason=f"Referral reward (referral {referral.id})",
            ),
        )
        referral.reward_credit_note_id = note.id
        referral.reward_currency = note.currency
        extra = {"credit_note": note.number, "invoice": target.number}
    else:
        order = _next_order(session, referral, None)
        if order is None:
            raise RewardNotGrantable(
                "the discount applies to the referrer's next order, and none has come since "
                "the referral was won; the daily cycle grants it when one is recorded",
                referral_id=referral.id,
            )
        _apply_discount(referral, rule, order)
        extra = {"order": order.number, "percent": f"{rule.percent:.2f}"}
    referral.reward_status = RewardStatus.GRANTED.value
    referral.reward_granted_on = (
        on if rule.kind == RewardKind.CREDIT_NOTE else referral.reward_granted_on
    )
    session.flush()
    record_event(session, actor, "referral.reward_granted", referral, before, **extra)
    return referral


def _apply_discount(referral: Referral, rule: ReferralRewardRule, order: Order) -> None:
    assert rule.percent is not None
    referral.reward_amount = _money(order.amount * rule.percent / Decimal(100))
    referral.reward_currency = order.currency
    referral.reward_granted_on = order.order_date


def decline_reward(session: Session, *, actor: Actor, referral_id: int, reason: str) -> Referral:
    """Refuse a reward that is pending or still waiting to be earned, saying why."""
    permissions.check(actor, Permission.GRANT_REFERRAL_REWARDS)
    referral = get_referral_for(session, referral_id, actor=actor)
    text = clean_text(reason, "reason", NOTE_MAX)
    if not text:
        raise ValidationFailed("reason: say why the reward is declined", field="reason")
    waiting = referral.reward_status == RewardStatus.NONE and referral.reward_rule_id is not None
    if referral.reward_status != RewardStatus.PENDING and not waiting:
        raise RewardNotGrantable(
            f"the reward of referral {referral.id} is {referral.reward_status}; only a pending "
            "reward can be declined",
            referral_id=referral.id,
            reward_status=referral.reward_status,
        )
    before = snapshot(referral)
    referral.reward_status = RewardStatus.DECLINED.value
    session.flush()
    record_event(session, actor, "referral.reward_declined", referral, before, reason=text)
    return referral


# ----------------------------------------------------------------------------- reward rules


def list_rules(session: Session) -> list[ReferralRewardRule]:
    return list(
        session.scalars(
            select(ReferralRewardRule).order_by(
                ReferralRewardRule.active.desc(), ReferralRewardRule.name
            )
        )
    )


def get_rule(session: Session, rule_id: int) -> ReferralRewardRule:
    rule = session.get(ReferralRewardRule, rule_id)
    if rule is None:
        raise NotFound(f"reward rule {rule_id} not found", rule_id=rule_id)
    return rule


def _rule_values(values: Mapping[str, Any]) -> dict[str, Any]:
    name = (values.get("name") or "").strip()
    if not name:
        raise ValidationFailed("name: give the rule a name", field="name")
    if len(name) > 120:
        raise ValidationFailed("name: at most 120 characters", field="name")
    try:
        kind = RewardKind(str(values.get("kind") or ""))
    except ValueError as exc:
        choices = ", ".join(k.value for k in RewardKind)
        raise ValidationFailed(f"kind: one of {choices}", field="kind") from exc
    amount, percent = values.get("amount"), values.get("percent")
    currency = (values.get("currency") or "CNY").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValidationFailed("currency: a three-letter code such as CNY", field="currency")
    if kind == RewardKind.CREDIT_NOTE:
        if amount is None or Decimal(amount) <= 0:
            raise ValidationFailed(
                "amount: a credit note needs an amount above zero", field="amount"
            )
        amount, percent = _money(Decimal(amount)), None
    else:
        if percent is None or not Decimal(0) < Decimal(percent) <= Decimal(100):
            raise ValidationFailed(
                "percent: a discount needs a percentage above 0 and at most 100", field="percent"
            )
        amount, percent = None, Decimal(percent).quantize(CENT, rounding=ROUND_HALF_UP)
    minimum = values.get("min_first_order")
    if minimum is not None:
        if Decimal(minimum) < 0:
            raise ValidationFailed("min_first_order: cannot be negative", field="min_first_order")
        minimum = _money(Decimal(minimum)) if Decimal(minimum) > 0 else None
    return {
        "name": name,
        "kind": kind.value,
        "amount": amount,
        "percent": percent,
        "currency": currency,
        "min_first_order": minimum,
        "active": bool(values.get("active", True)),
    }


def _deactivate_others(session: Session, actor: Actor, rule: ReferralRewardRule) -> None:
    """One rule is active at a time: the one a won referral earns by."""
    for other in session.scalars(
        select(ReferralRewardRule).where(
            ReferralRewardRule.active.is_(True), ReferralRewardRule.id != rule.id
        )
    ):
        audit.apply_update(
            session,
            actor,
            other,
            {"active": False},
            action="referral_rule.deactivated",
            subject_type="referral_reward_rule",
            customer_id=None,
            fields=RULE_AUDITED,
        )


def _unique_name(session: Session, name: str, rule_id: int | None) -> None:
    other = session.scalar(
        select(ReferralRewardRule.id).where(
            ReferralRewardRule.name == name, ReferralRewardRule.id != (rule_id or 0)
        )
    )
    if other is not None:
        raise Conflict(f"name: a reward rule named {name!r} exists already", field="name")


def create_rule(session: Session, *, actor: Actor, values: Mapping[str, Any]) -> ReferralRewardRule:
    """A new reward rule; an active one replaces the rule active until now."""
    permissions.check(actor, Permission.MANAGE_LOYALTY_RULES)
    checked = _rule_values(values)
    _unique_name(session, checked["name"], None)
    rule = ReferralRewardRule(**checked)
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor,
        "referral_rule.created",
        subject_type="referral_reward_rule",
        subject_id=rule.id,
        customer_id=None,
        after=audit.snapshot(rule, RULE_AUDITED),
    )
    if rule.active:
        _deactivate_others(session, actor, rule)
    return rule


def update_rule(
    session: Session, *, actor: Actor, rule_id: int, changes: Mapping[str, Any]
) -> ReferralRewardRule:
    """Change the fields in ``changes``; ``active``: false deactivates the rule (rewards it
    already attached stay), true makes it the active one."""
    permissions.check(actor, Permission.MANAGE_LOYALTY_RULES)
    rule = get_rule(session, rule_id)
    current = {name: getattr(rule, name) for name in RULE_AUDITED}
    checked = _rule_values({**current, **changes})
    _unique_name(session, checked["name"], rule.id)
    action = (
        "referral_rule.deactivated"
        if rule.active and not checked["active"]
        else "referral_rule.updated"
    )
    audit.apply_update(
        session,
        actor,
        rule,
        checked,
        action=action,
        subject_type="referral_reward_rule",
        customer_id=None,
        fields=RULE_AUDITED,
    )
    if rule.active:
        _deactivate_others(session, actor, rule)
    return rule


# ----------------------------------------------------------------------------- the daily pass


def daily(session: Session, *, as_of: date, settings: Settings | None = None) -> dict[str, int]:
    """The referral part of the daily cycle, set-based: rewards waiting for the referred
    account's first orders become ``pending`` once those reach the rule's ``min_first_order``
    (orders from ``won_on`` up to ``as_of``); pending discount rewards are granted on the
    referrer's first order after ``won_on`` (up to ``as_of``). Each change is audited by the
    system actor. Running it twice for a day changes nothing the second time."""
    del settings  # nothing configurable yet; the signature is the cycle's
    earned_total = (
        select(func.coalesce(func.sum(Order.amount), 0))
        .where(
            Order.customer_id == Referral.referred_customer_id,
            Order.status != OrderStatus.CANCELLED.value,
            Order.order_date >= Referral.won_on,
            Order.order_date <= as_of,
        )
        .correlate(Referral)
        .scalar_subquery()
    )
    earned = session.execute(
        select(Referral.id, Referral.customer_id)
        .join(ReferralRewardRule, ReferralRewardRule.id == Referral.reward_rule_id)
        .where(
            Referral.status == ReferralStatus.WON.value,
            Referral.reward_status == RewardStatus.NONE.value,
            Referral.won_on <= as_of,
            ReferralRewardRule.min_first_order.is_not(None),
            earned_total >= ReferralRewardRule.min_first_order,
        )
    ).all()
    if earned:
        session.execute(
            update(Referral)
            .where(Referral.id.in_([row.id for row in earned]))
            .values(reward_status=RewardStatus.PENDING.value)
            .execution_options(synchronize_session="fetch")
        )
        audit.record_many(
            session,
            SYSTEM,
            [
                {
                    "action": "referral.reward_earned",
                    "subject_type": "referral",
                    "subject_id": row.id,
                    "customer_id": row.customer_id,
                    "before": {"reward_status": RewardStatus.NONE.value},
                    "after": {
                        "reward_status": RewardStatus.PENDING.value,
                        "as_of": as_of.isoformat(),
                    },
                }
                for row in earned
            ],
        )
    next_order = (
        select(Order.id)
        .where(
            Order.customer_id == Referral.customer_id,
            Order.status != OrderStatus.CANCELLED.value,
            Order.order_date > Referral.won_on,
            Order.order_date <= as_of,
        )
        .order_by(Order.order_date, Order.id)
        .limit(1)
        .correlate(Referral)
        .scalar_subquery()
    )
    due = session.execute(
        select(
            Referral.id,
            Referral.customer_id,
            next_order.label("order_id"),
            ReferralRewardRule.percent,
        )
        .join(ReferralRewardRule, ReferralRewardRule.id == Referral.reward_rule_id)
        .where(
            Referral.status == ReferralStatus.WON.value,
            Referral.reward_status == RewardStatus.PENDING.value,
            ReferralRewardRule.kind == RewardKind.DISCOUNT.value,
            next_order.is_not(None),
        )
    ).all()
    granted = 0
    if due:
        orders = {
            o.id: o
            for o in session.scalars(select(Order).where(Order.id.in_([r.order_id for r in due])))
        }
        events: list[dict[str, Any]] = []
        for referral_id, customer_id, order_id, percent in due:
            order = orders[order_id]
            amount = _money(order.amount * Decimal(percent) / Decimal(100))
            session.execute(
                update(Referral)
                .where(Referral.id == referral_id)
                .values(
                    reward_status=RewardStatus.GRANTED.value,
                    reward_amount=amount,
                    reward_currency=order.currency,
                    reward_granted_on=order.order_date,
                )
                .execution_options(synchronize_session="fetch")
            )
            events.append(
                {
                    "action": "referral.reward_granted",
                    "subject_type": "referral",
                    "subject_id": referral_id,
                    "customer_id": customer_id,
                    "before": {"reward_status": RewardStatus.PENDING.value},
                    "after": {
                        "reward_status": RewardStatus.GRANTED.value,
                        "reward_amount": f"{amount:.2f}",
                        "reward_currency": order.currency,
                        "reward_granted_on": order.order_date.isoformat(),
                        "order": order.number,
                        "percent": f"{Decimal(percent):.2f}",
                    },
                }
            )
            granted += 1
        audit.record_many(session, SYSTEM, events)
    session.flush()
    return {"rewards_earned": len(earned), "discounts_granted": granted}


def credit_note_of(session: Session, referral: Referral) -> CreditNote | None:
    if referral.reward_credit_note_id is None:
        return None
    return session.get(CreditNote, referral.reward_credit_note_id)
