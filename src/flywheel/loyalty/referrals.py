"""Referrals: who referred whom (a customer, through one of its contacts, brought a lead or an
existing account) and the lead's way from lead to won or lost. A won referral records its
referrer on the referred account and takes the active reward rule (``referral_rewards``); its
revenue and the KPIs are in ``referral_kpis``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Select,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.config import Settings
from flywheel.customers import service as customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import OrderStatus, ReferralStatus, RewardKind, RewardStatus
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.sales import Order

SYSTEM = Actor.system("referrals")
SOURCES = ("manual", "survey", "import", "demo")
OPEN_STATUSES = (ReferralStatus.LEAD, ReferralStatus.CONTACTED, ReferralStatus.QUALIFIED)
# Forward only; a lost lead may be reopened, a won one is final (its reward and the referred
# account's "referred by" hang on it).
TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.LEAD: frozenset(
        {
            ReferralStatus.CONTACTED,
            ReferralStatus.QUALIFIED,
            ReferralStatus.WON,
            ReferralStatus.LOST,
        }
    ),
    ReferralStatus.CONTACTED: frozenset(
        {ReferralStatus.QUALIFIED, ReferralStatus.WON, ReferralStatus.LOST}
    ),
    ReferralStatus.QUALIFIED: frozenset({ReferralStatus.WON, ReferralStatus.LOST}),
    ReferralStatus.WON: frozenset(),
    ReferralStatus.LOST: frozenset(
        {ReferralStatus.LEAD, ReferralStatus.CONTACTED, ReferralStatus.QUALIFIED}
    ),
}
AUDITED = (
    "customer_id",
    "referrer_contact_id",
    "referred_customer_id",
    "lead_company",
    "lead_contact",
    "lead_email",
    "lead_phone",
    "status",
    "source",
    "referred_on",
    "won_on",
    "lost_reason",
    "notes",
    "reward_rule_id",
    "reward_status",
    "reward_amount",
    "reward_currency",
    "reward_credit_note_id",
    "reward_granted_on",
)
DETAIL_FIELDS = ("lead_company", "lead_contact", "lead_email", "lead_phone", "notes")
CENT = Decimal("0.01")
TEXT_MAX = {"lead_company": 200, "lead_contact": 120, "lead_email": 254, "lead_phone": 40}
NOTE_MAX = 4000


class ReferralTransitionInvalid(Conflict):
    """The referral cannot go from its status to the one asked for."""

    code = "referral_transition_invalid"


class RewardNotGrantable(Conflict):
    """The reward is not waiting for a decision, or cannot be paid out yet."""

    code = "reward_not_grantable"


def snapshot(referral: Referral) -> dict[str, Any]:
    return audit.snapshot(referral, AUDITED)


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    referral: Referral,
    before: Mapping[str, Any] | None,
    **extra: Any,
) -> None:
    after = snapshot(referral)
    if before is not None:
        difference = audit.changed(before, after)
        shown_before: dict[str, Any] | None = {k: before[k] for k in difference}
        shown_after = {**difference, **extra}
    else:
        shown_before, shown_after = None, {**after, **extra}
    audit.record(
        session,
        actor,
        action,
        subject_type="referral",
        subject_id=referral.id,
        customer_id=referral.customer_id,
        before=shown_before,
        after=shown_after,
    )


def clean_text(value: str | None, field: str, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationFailed(f"{field}: at most {limit} characters", field=field)
    return text or None


# ----------------------------------------------------------------------------- reading


def get_referral_for(session: Session, referral_id: int, *, actor: Actor) -> Referral:
    """A referral whose referrer the actor may see; NotFound, exactly like a missing one,
    otherwise."""
    referral = session.scalar(
        select(Referral)
        .join(Customer, Customer.id == Referral.customer_id)
        .where(Referral.id == referral_id, visible_customers(actor))
    )
    if referral is None:
        raise NotFound(f"referral {referral_id} not found", referral_id=referral_id)
    return referral


@dataclass(frozen=True, slots=True)
class ReferralFilter:
    status: ReferralStatus | None = None
    open_only: bool = False  # lead, contacted or qualified
    search: str | None = None
    customer_id: int | None = None  # the referrer
    reward_status: RewardStatus | None = None
    referral_id: int | None = None


Referred = aliased(Customer, name="referred")


def referrals_query(actor: Actor, filters: ReferralFilter) -> Select[Referral, Customer, Customer]:
    """(referral, referrer, referred account or None) rows the actor may see, newest first."""
    stmt = (
        select(Referral, Customer, Referred)
        .join(Customer, Customer.id == Referral.customer_id)
        .outerjoin(Referred, Referred.id == Referral.referred_customer_id)
        .where(visible_customers(actor))
    )
    if filters.status is not None:
        stmt = stmt.where(Referral.status == filters.status.value)
    elif filters.open_only:
        stmt = stmt.where(Referral.status.in_([s.value for s in OPEN_STATUSES]))
    if filters.reward_status is not None:
        stmt = stmt.where(Referral.reward_status == filters.reward_status.value)
    if filters.customer_id is not None:
        stmt = stmt.where(Referral.customer_id == filters.customer_id)
    if filters.referral_id is not None:
        stmt = stmt.where(Referral.id == filters.referral_id)
    if filters.search:
        pattern = f"%{filters.search.strip()}%"
        stmt = stmt.where(
            or_(
                Customer.code.ilike(pattern),
                Customer.name.ilike(pattern),
                Referral.lead_company.ilike(pattern),
                Referral.lead_contact.ilike(pattern),
                Referral.lead_email.ilike(pattern),
                Referred.code.ilike(pattern),
                Referred.name.ilike(pattern),
            )
        )
    return stmt.order_by(Referral.referred_on.desc(), Referral.id.desc())


def list_referrals(
    session: Session, actor: Actor, filters: ReferralFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Referral, Customer, Customer | None]], int]:
    stmt = referrals_query(actor, filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows: list[tuple[Referral, Customer, Customer | None]] = [
        (r[0], r[1], r[2]) for r in session.execute(stmt.limit(limit).offset(offset))
    ]
    return rows, int(total)


def referral_row(
    session: Session, actor: Actor, referral: Referral
) -> tuple[Referral, Customer, Customer | None]:
    """The referral with its referrer and referred account, as the lists give them."""
    rows, _total = list_referrals(
        session, actor, ReferralFilter(referral_id=referral.id), limit=1, offset=0
    )
    if not rows:
        raise NotFound(f"referral {referral.id} not found", referral_id=referral.id)
    return rows[0]


# ----------------------------------------------------------------------------- recording


def _referred_account(
    session: Session, actor: Actor, code: str, *, referrer: Customer, field: str
) -> Customer:
    try:
        account = customers.get_customer_by_code(session, code, actor=actor)
    except NotFound:
        raise NotFound(f"{field}: customer {code} not found", field=field, code=code) from None
    if account.id == referrer.id:
        raise ValidationFailed(f"{field}: an account cannot refer itself", field=field)
    return account


def _check_not_claimed(
    session: Session, account: Customer, *, referrer: Customer, referral_id: int | None, field: str
) -> None:
    """One referrer per referred account: refuse an account another referral (or another
    referrer on the account itself) already claims."""
    other = session.scalar(
        select(Referral.id).where(
            Referral.referred_customer_id == account.id,
            Referral.id != (referral_id or 0),
        )
    )
    if other is not None:
        raise Conflict(
            f"{field}: {account.code} is already the referred account of referral {other}",
            field=field,
            referral_id=other,
        )
    if account.referred_by_id is not None and account.referred_by_id != referrer.id:
        raise Conflict(
            f"{field}: {account.code} is already recorded as referred by another account",
            field=field,
        )


def record_referral(
    session: Session,
    *,
    actor: Actor,
    customer: str,
    referred_on: date,
    referrer_contact_id: int | None = None,
    referred_customer: str | None = None,
    lead_company: str | None = None,
    lead_contact: str | None = None,
    lead_email: str | None = None,
    lead_phone: str | None = None,
    source: str = "manual",
    notes: str | None = None,
) -> Referral:
    """A new lead (status ``lead``) referred by the account ``customer`` (a code), through one
    of its contacts if known; the lead is a company/contact, or an existing account."""
    permissions.check(actor, Permission.WORK_REFERRALS)
    try:
        referrer = customers.get_customer_by_code(session, customer, actor=actor)
    except NotFound:
        raise NotFound(
            f"customer: customer {customer} not found", field="customer", code=customer
        ) from None
    if source not in SOURCES:
        raise ValidationFailed(
            f"source: {source!r} is not one of {', '.join(SOURCES)}", field="source"
        )
    if referrer_contact_id is not None:
        contact = session.get(Contact, referrer_contact_id)
        if contact is None or contact.customer_id != referrer.id:
            raise ValidationFailed(
                f"referrer_contact_id: contact {referrer_contact_id} is not a contact of "
                f"{referrer.code}",
                field="referrer_contact_id",
            )
    values = {
        "lead_company": clean_text(lead_company, "lead_company", TEXT_MAX["lead_company"]),
        "lead_contact": clean_text(lead_contact, "lead_contact", TEXT_MAX["lead_contact"]),
        "lead_email": clean_text(lead_email, "lead_email", TEXT_MAX["lead_email"]),
        "lead_phone": clean_text(lead_phone, "lead_phone", TEXT_MAX["lead_phone"]),
        "notes": clean_text(notes, "notes", NOTE_MAX),
    }
    if values["lead_email"] and "@" not in values["lead_email"]:
        raise ValidationFailed("lead_email: not an e-mail address", field="lead_email")
    referred: Customer | None = None
    if referred_customer:
        referred = _referred_account(
            session, actor, referred_customer, referrer=referrer, field="referred_customer"
        )
        _check_not_claimed(
            session, referred, referrer=referrer, referral_id=None, field="referred_customer"
        )
    elif not (values["lead_company"] or values["lead_contact"]):
        raise ValidationFailed(
            "lead_company: name the company or the person referred, or an existing account",
            field="lead_company",
        )
    referral = Referral(
        customer_id=referrer.id,
        referrer_contact_id=referrer_contact_id,
        referred_customer_id=referred.id if referred else None,
        status=ReferralStatus.LEAD.value,
        source=source,
        referred_on=referred_on,
        reward_status=RewardStatus.NONE.value,
        created_by_id=actor.user_id,
        **values,
    )
    session.add(referral)
    session.flush()
    record_event(session, actor, "referral.recorded", referral, None)
    return referral


def edit_details(
    session: Session, *, actor: Actor, referral_id: int, changes: Mapping[str, str | None]
) -> Referral:
    """Change the lead's company, contact, e-mail, phone or the notes."""
    permissions.check(actor, Permission.WORK_REFERRALS)
    referral = get_referral_for(session, referral_id, actor=actor)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in DETAIL_FIELDS:
            raise ValidationFailed(f"{name}: cannot be changed here", field=name)
        values[name] = clean_text(value, name, TEXT_MAX.get(name, NOTE_MAX))
    if values.get("lead_email") and "@" not in values["lead_email"]:
        raise ValidationFailed("lead_email: not an e-mail address", field="lead_email")
    audit.apply_update(
        session,
        actor,
        referral,
        values,
        action="referral.updated",
        subject_type="referral",
        customer_id=referral.customer_id,
        fields=DETAIL_FIELDS,
    )
    return referral


# ----------------------------------------------------------------------------- status


def active_rule(session: Session) -> ReferralRewardRule | None:
    return session.scalar(
        select(ReferralRewardRule)
        .where(ReferralRewardRule.active.is_(True))
        .order_by(ReferralRewardRule.updated_at.desc(), ReferralRewardRule.id.desc())
        .limit(1)
    )


def _orders_total(session: Session, customer_id: int, since: date, until: date | None) -> Decimal:
    stmt = select(func.coalesce(func.sum(Order.amount), 0)).where(
        Order.customer_id == customer_id,
        Order.status != OrderStatus.CANCELLED.value,
        Order.order_date >= since,
    )
    if until is not None:
        stmt = stmt.where(Order.order_date <= until)
    return Decimal(session.scalar(stmt) or 0).quantize(CENT)


def _attach_rule(session: Session, referral: Referral, referrer: Customer) -> None:
    rule = active_rule(session)
    if rule is None:
        return
    referral.reward_rule_id = rule.id
    if rule.kind == RewardKind.CREDIT_NOTE:
        referral.reward_amount = rule.amount
        referral.reward_currency = rule.currency
    else:
        referral.reward_currency = referrer.currency
    earned = rule.min_first_order is None or (
        referral.referred_customer_id is not None
        and referral.won_on is not None
        and _orders_total(session, referral.referred_customer_id, referral.won_on, None)
        >= rule.min_first_order
    )
    referral.reward_status = (RewardStatus.PENDING if earned else RewardStatus.NONE).value


def change_status(
    session: Session,
    *,
    actor: Actor,
    referral_id: int,
    status: ReferralStatus | str,
    on: date,
    referred_customer: str | None = None,
    lost_reason: str | None = None,
) -> Referral:
    """Move the referral on. ``won`` needs the referred account (already linked, or the code
    of an existing account in ``referred_customer``), sets ``won_on`` to ``on``, records the
    referrer on that account and attaches the active reward rule; ``lost`` needs a reason.
    Anything refused changes nothing."""
    permissions.check(actor, Permission.WORK_REFERRALS)
    referral = get_referral_for(session, referral_id, actor=actor)
    try:
        target = ReferralStatus(status)
    except ValueError as exc:
        choices = ", ".join(s.value for s in ReferralStatus)
        raise ValidationFailed(
            f"status: {status!r} is not one of {choices}", field="status"
        ) from exc
    current = ReferralStatus(referral.status)
    if target not in TRANSITIONS[current]:
        raise ReferralTransitionInvalid(
            f"status: a referral that is {current.value} cannot become {target.value}",
            field="status",
            current=current.value,
            wanted=target.value,
            allowed=sorted(s.value for s in TRANSITIONS[current]),
        )
    referrer = customers.get_customer(session, referral.customer_id)
    reason = clean_text(lost_reason, "lost_reason", NOTE_MAX)
    account: Customer | None = None
    if target == ReferralStatus.WON:
        if referred_customer:
            account = _referred_account(
                session, actor, referred_customer, referrer=referrer, field="referred_customer"
            )
        elif referral.referred_customer_id is not None:
            account = customers.get_customer(session, referral.referred_customer_id)
        else:
            raise ValidationFailed(
                "referred_customer: a won referral needs the account the lead became",
                field="referred_customer",
            )
        _check_not_claimed(
            session, account, referrer=referrer, referral_id=referral.id, field="referred_customer"
        )
        if on < referral.referred_on:
            raise ValidationFailed(
                "won_on: a referral cannot be won before it was made", field="won_on"
            )
    elif target == ReferralStatus.LOST and not reason:
        raise ValidationFailed("lost_reason: say why the lead was lost", field="lost_reason")
    before = snapshot(referral)
    referral.status = target.value
    if target == ReferralStatus.WON:
        assert account is not None
        referral.referred_customer_id = account.id
        referral.won_on = on
        referral.lost_reason = None
        _attach_rule(session, referral, referrer)
    elif target == ReferralStatus.LOST:
        referral.lost_reason = reason
    else:
        referral.lost_reason = None
    session.flush()
    record_event(session, actor, "referral.status_changed", referral, before)
    if account is not None and account.referred_by_id != referrer.id:
        audit.apply_update(
            session,
            actor,
            account,
            {"referred_by_id": referrer.id},
            action="customer.updated",
            subject_type="customer",
            customer_id=account.id,
            fields=("referred_by_id",),
        )
    return referral


def _lead_name(referral: Referral, referred: Customer | None) -> str:
    if referred is not None:
        return referred.name
    return referral.lead_company or referral.lead_contact or "–"


def lead_name(referral: Referral, referred: Customer | None) -> str:
    """What the lead is called: the referred account's name, else the company or person."""
    return _lead_name(referral, referred)


def daily(session: Session, *, as_of: date, settings: Settings | None = None) -> dict[str, int]:
    """The referral part of the daily cycle (``referral_rewards.daily``), here for the cycle."""
    from flywheel.loyalty import referral_rewards

    return referral_rewards.daily(session, as_of=as_of, settings=settings)
