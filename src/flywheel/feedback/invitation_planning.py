"""Planning survey invitations: the events a campaign asks about (one query per campaign
over the last days), the contact each event's survey goes to, and the invitations written in
bulk; a scheduled campaign's wave to every stakeholder in its audience. Each invitation carries
its token's nonce and hash from the start; the link itself is made on the send day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.config import Settings
from flywheel.feedback import campaigns as campaign_service
from flywheel.feedback import messages, tokens
from flywheel.models.base import utcnow
from flywheel.models.collections import Dispute
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import (
    BuyingRole,
    CampaignTrigger,
    CustomerStatus,
    DisputeStatus,
    InvitationStatus,
    InvoiceStatus,
    OrderStatus,
    TouchpointKind,
)
from flywheel.models.feedback import SurveyCampaign, SurveyInvitation
from flywheel.models.receivables import Installment, Invoice
from flywheel.models.sales import Order

INVITATIONS = cast(Table, SurveyInvitation.__table__)
CATCH_UP_DAYS = 7
CHUNK = 2000
SYSTEM = campaign_service.SYSTEM

# The journey stage an event's survey asks about (the touchpoint trigger: the touchpoint's kind).
STAGE_OF_TRIGGER: dict[str, str | None] = {
    CampaignTrigger.ORDER_DELIVERED: TouchpointKind.DELIVERY.value,
    CampaignTrigger.DISPUTE_RESOLVED: TouchpointKind.SUPPORT.value,
    CampaignTrigger.INVOICE_PAID: None,
    CampaignTrigger.MILESTONE_DONE: None,
}
# Whom an event's survey goes to when the campaign names no buying roles: the invoice's payer
# for a paid invoice; otherwise the account's main contact (the first one added).
PREFERRED_ROLES: dict[str, tuple[str, ...]] = {
    CampaignTrigger.INVOICE_PAID: (BuyingRole.FINANCE.value,),
    CampaignTrigger.DISPUTE_RESOLVED: (BuyingRole.FINANCE.value,),
}


@dataclass(frozen=True, slots=True)
class Planned:
    invitations: int = 0
    no_contact: int = 0  # events whose account has no contact the campaign may ask


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to an account that a campaign may ask about."""

    customer_id: int
    ref: str  # "order:12"
    occurred_on: date
    contact_id: int | None = None  # the contact it happened with, when known
    stage: str | None = None  # the touchpoint kind asked about


@dataclass(frozen=True, slots=True)
class _Person:
    id: int
    customer_id: int
    buying_role: str | None
    has_email: bool
    language: str


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


# ---------------------------------------------------------------- events


def events(session: Session, campaign: SurveyCampaign, *, since: date, until: date) -> list[Event]:
    """The campaign's trigger events from ``since`` to ``until`` (one query)."""
    trigger = campaign.trigger
    if trigger == CampaignTrigger.ORDER_DELIVERED:
        orders = session.execute(
            select(Order.id, Order.customer_id, Order.delivered_on).where(
                Order.delivered_on >= since,
                Order.delivered_on <= until,
                Order.status != OrderStatus.CANCELLED.value,
            )
        ).all()
        stage = STAGE_OF_TRIGGER[trigger]
        return [Event(c, f"order:{i}", d, None, stage) for i, c, d in orders if d is not None]
    if trigger == CampaignTrigger.INVOICE_PAID:
        touched = (
            select(Installment.invoice_id)
            .where(Installment.settled_on >= since, Installment.settled_on <= until)
            .scalar_subquery()
        )
        paid_on = func.max(Installment.settled_on)
        invoices = session.execute(
            select(Invoice.id, Invoice.customer_id, paid_on)
            .join(Installment, Installment.invoice_id == Invoice.id)
            .where(Invoice.id.in_(touched), Invoice.status == InvoiceStatus.PAID.value)
            .group_by(Invoice.id, Invoice.customer_id)
            .having(paid_on >= since, paid_on <= until)
        ).all()
        return [Event(c, f"invoice:{i}", d, None, None) for i, c, d in invoices if d is not None]
    if trigger == CampaignTrigger.TOUCHPOINT:
        start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        touchpoints = session.execute(
            select(
                Touchpoint.id,
                Touchpoint.customer_id,
                Touchpoint.occurred_at,
                Touchpoint.contact_id,
                Touchpoint.kind,
            ).where(
                Touchpoint.kind == campaign.touchpoint_kind,
                Touchpoint.occurred_at >= start,
                Touchpoint.occurred_at < end,
            )
        ).all()
        return [Event(c, f"touchpoint:{i}", at.date(), who, k) for i, c, at, who, k in touchpoints]
    if trigger == CampaignTrigger.DISPUTE_RESOLVED:
        disputes = session.execute(
            select(Dispute.id, Dispute.customer_id, Dispute.resolved_on).where(
                Dispute.status == DisputeStatus.RESOLVED.value,
                Dispute.resolved_on >= since,
                Dispute.resolved_on <= until,
            )
        ).all()
        stage = STAGE_OF_TRIGGER[trigger]
        return [Event(c, f"dispute:{i}", d, None, stage) for i, c, d in disputes if d is not None]
    # Contract milestones have no table of their own yet: key accounts call record_event().
    return []


# ---------------------------------------------------------------- planning


def _people(session: Session, customer_ids: Sequence[int]) -> dict[int, list[_Person]]:
    by_customer: dict[int, list[_Person]] = defaultdict(list)
    for chunk in _chunks(sorted(set(customer_ids))):
        rows = session.execute(
            select(
                Contact.id,
                Contact.customer_id,
                Contact.buying_role,
                Contact.email,
                Contact.language,
            )
            .where(Contact.customer_id.in_(chunk))
            .order_by(Contact.customer_id, Contact.id)
        ).all()
        for cid, customer_id, role, email, language in rows:
            by_customer[customer_id].append(
                _Person(cid, customer_id, role, bool((email or "").strip()), language)
            )
    return by_customer


def choose_contact(
    people: Sequence[_Person],
    *,
    roles: Sequence[str],
    preferred: Sequence[str],
    event_contact: int | None,
) -> _Person | None:
    """The contact an event's survey goes to: the event's own contact when the campaign may ask
    him; else, of the contacts in the campaign's buying roles (any, when it names none), one
    with an e-mail address, in the order of the roles named (or the trigger's preferred
    roles), the earliest added first."""
    matching = [p for p in people if not roles or p.buying_role in roles]
    for person in matching:
        if person.id == event_contact:
            return person
    if not matching:
        return None
    rank = list(roles or preferred)

    def order(p: _Person) -> tuple[int, int, int]:
        place = rank.index(p.buying_role) if p.buying_role in rank else len(rank)
        return (0 if p.has_email else 1, place, p.id)

    return min(matching, key=order)


def _row(
    campaign: SurveyCampaign,
    *,
    customer_id: int,
    person: _Person,
    ref: str,
    send_on: date,
    stage: str | None,
    settings: Settings,
    created_at: datetime,
) -> dict[str, Any]:
    nonce = tokens.new_nonce()
    return {
        "campaign_id": campaign.id,
        "survey_id": campaign.survey_id,
        "customer_id": customer_id,
        "contact_id": person.id,
        "dedupe_key": f"{campaign.id}:{ref}:{person.id}",
        "event_ref": ref,
        "touchpoint_kind": stage,
        "language": messages.language_of(person.language),
        "token_nonce": nonce,
        "token_hash": tokens.hash_token(tokens.token_for(nonce, settings)),
        "status": InvitationStatus.SCHEDULED.value,
        "send_on": send_on,
        "created_at": created_at,
    }


def _customers_in_audience(
    session: Session, campaign: SurveyCampaign, customer_ids: Sequence[int]
) -> set[int]:
    if not campaign.tiers:
        return set(customer_ids)
    kept: set[int] = set()
    for chunk in _chunks(sorted(set(customer_ids))):
        kept.update(
            session.scalars(
                select(Customer.id).where(Customer.id.in_(chunk), Customer.tier.in_(campaign.tiers))
            )
        )
    return kept


def plan(
    session: Session,
    campaign: SurveyCampaign,
    found: Sequence[Event],
    *,
    settings: Settings,
) -> Planned:
    """One invitation per event not planned before, to the contact ``choose_contact`` picks."""
    if not found:
        return Planned()
    refs = sorted({e.ref for e in found})
    planned: set[str] = set()
    for chunk in _chunks(refs):
        planned.update(
            r
            for r in session.scalars(
                select(SurveyInvitation.event_ref).where(
                    SurveyInvitation.campaign_id == campaign.id,
                    SurveyInvitation.event_ref.in_(chunk),
                )
            )
            if r is not None
        )
    fresh = [e for e in found if e.ref not in planned]
    if not fresh:
        return Planned()
    audience = _customers_in_audience(session, campaign, [e.customer_id for e in fresh])
    fresh = [e for e in fresh if e.customer_id in audience]
    people = _people(session, [e.customer_id for e in fresh])
    preferred = PREFERRED_ROLES.get(campaign.trigger, ())
    now = utcnow()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    no_contact = 0
    for event in sorted(fresh, key=lambda e: (e.occurred_on, e.ref)):
        if event.ref in seen:
            continue
        seen.add(event.ref)
        person = choose_contact(
            people.get(event.customer_id, []),
            roles=campaign.buying_roles or [],
            preferred=preferred,
            event_contact=event.contact_id,
        )
        if person is None:
            no_contact += 1
            continue
        rows.append(
            _row(
                campaign,
                customer_id=event.customer_id,
                person=person,
                ref=event.ref,
                send_on=event.occurred_on + timedelta(days=campaign.delay_days),
                stage=event.stage,
                settings=settings,
                created_at=now,
            )
        )
    for chunk in _chunks(rows):
        session.execute(insert(INVITATIONS), list(chunk))
    return Planned(invitations=len(rows), no_contact=no_contact)


def run_schedule(
    session: Session,
    campaign: SurveyCampaign,
    *,
    as_of: date,
    settings: Settings,
) -> int | None:
    """A relationship survey whose day has come: every stakeholder of the active accounts in
    the campaign's tiers and buying roles, sent today; then the next run is set. How many were
    invited; None when the campaign's day has not come."""
    if campaign.next_run_on is None or campaign.next_run_on > as_of or not campaign.every_months:
        return None
    run_day = campaign.next_run_on
    ref = f"schedule:{run_day.isoformat()}"
    query = (
        select(
            Contact.id, Contact.customer_id, Contact.buying_role, Contact.email, Contact.language
        )
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Customer.status == CustomerStatus.ACTIVE.value)
        .order_by(Contact.id)
    )
    if campaign.tiers:
        query = query.where(Customer.tier.in_(campaign.tiers))
    if campaign.buying_roles:
        query = query.where(Contact.buying_role.in_(campaign.buying_roles))
    invited = set(
        session.scalars(
            select(SurveyInvitation.contact_id).where(
                SurveyInvitation.campaign_id == campaign.id, SurveyInvitation.event_ref == ref
            )
        )
    )
    now = utcnow()
    rows = [
        _row(
            campaign,
            customer_id=customer_id,
            person=_Person(cid, customer_id, role, bool((email or "").strip()), language),
            ref=ref,
            send_on=as_of,
            stage=None,
            settings=settings,
            created_at=now,
        )
        for cid, customer_id, role, email, language in session.execute(query)
        if cid not in invited
    ]
    for chunk in _chunks(rows):
        session.execute(insert(INVITATIONS), list(chunk))
    following = run_day
    while following <= as_of:
        following = campaign_service.add_months(following, campaign.every_months)
    before = run_day.isoformat()
    campaign.next_run_on = following
    audit.record(
        session,
        SYSTEM,
        "feedback.campaign_ran",
        subject_type="survey_campaign",
        subject_id=campaign.id,
        customer_id=None,
        before={"next_run_on": before},
        after={"next_run_on": following.isoformat(), "invited": len(rows)},
    )
    session.flush()
    return len(rows)
