"""Accounts, contacts and events for the campaign tests: an account with its stakeholders, a
delivered order, a touchpoint, a resolved dispute, a paid invoice; campaigns made through the
service; the invitations and outbox rows a run left."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, TouchpointIn
from flywheel.feedback import campaigns
from flywheel.models.collections import Dispute, OutboxMessage
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import (
    BuyingRole,
    DisputeReason,
    DisputeStatus,
    Language,
    Tier,
    TouchpointKind,
)
from flywheel.models.feedback import Survey, SurveyCampaign, SurveyInvitation
from flywheel.models.sales import Order
from flywheel.models.users import User
from flywheel.sales import service as sales
from flywheel.sales.schemas import OrderIn
from tests.factories import TESTER, make_customer, make_invoice, make_payment

SECRET = "flywheel-tests-only-session-key"
_seq = itertools.count(1)


def settings_of(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "secret_key": SECRET,
        "company_name": "Acme Valves 阿克米阀门",
        "public_url": "https://survey.acme.example",
        "survey_min_days_between": 90,
        "referral_ask_days": 180,
    }
    base.update(values)
    return Settings(_env_file=None, **base)


def only_campaigns(session: Session, *keep: str) -> None:
    """The shipped campaigns exist (as the cycle makes them); all but ``keep`` are off."""
    campaigns.ensure_default_campaigns(session, as_of=date(2026, 1, 1))
    for campaign in session.scalars(select(SurveyCampaign)):
        campaign.active = campaign.name in keep
    session.flush()


def default_campaign(session: Session, name: str) -> SurveyCampaign:
    campaign = session.scalar(select(SurveyCampaign).where(SurveyCampaign.name == name))
    assert campaign is not None
    return campaign


def survey_id(session: Session, code: str = "nps-relationship") -> int:
    found = session.scalar(select(Survey.id).where(Survey.code == code))
    assert found is not None
    return int(found)


def make_campaign(session: Session, **values: Any) -> SurveyCampaign:
    data: dict[str, Any] = {
        "name": f"Test campaign {next(_seq)}",
        "survey_id": survey_id(session),
        "trigger": "order_delivered",
        "delay_days": 0,
        "reminder_after_days": 5,
        "expires_after_days": 30,
    }
    data.update(values)
    return campaigns.create_campaign(session, actor=TESTER, data=data)


def account(
    session: Session, *, tier: Tier = Tier.STANDARD, owner: User | None = None, name: str = ""
) -> Customer:
    n = next(_seq)
    return make_customer(
        session, code=f"FB{n:05d}", name=name or f"反馈客户 {n}", tier=tier, owner=owner
    )


def person(
    session: Session,
    customer: Customer,
    *,
    name: str = "王建国",
    email: str | None = "auto",
    role: BuyingRole | None = BuyingRole.DECISION_MAKER,
    language: str = "zh",
) -> Contact:
    n = next(_seq)
    return customers.add_contact(
        session,
        actor=TESTER,
        data=ContactIn(
            customer_id=customer.id,
            name=name,
            email=f"c{n}@customer.example" if email == "auto" else email,
            buying_role=role,
            language=Language(language),
        ),
    )


def delivered(session: Session, customer: Customer, on: date) -> Order:
    n = next(_seq)
    return sales.create_order(
        session,
        actor=TESTER,
        data=OrderIn(
            number=f"ORD-FB-{n}",
            customer_id=customer.id,
            order_date=on,
            amount=Decimal("1000.00"),
            status="delivered",
            delivered_on=on,
        ),
    )


def touchpoint(
    session: Session,
    customer: Customer,
    *,
    contact: Contact | None,
    kind: TouchpointKind,
    on: date,
) -> int:
    found = customers.log_touchpoint(
        session,
        actor=TESTER,
        data=TouchpointIn(
            customer_id=customer.id,
            contact_id=contact.id if contact else None,
            kind=kind,
            occurred_at=datetime.combine(on, time(10, 0), tzinfo=UTC),
            summary="支持工单已处理",
        ),
    )
    return int(found.id)


def resolved_dispute(session: Session, customer: Customer, on: date) -> Dispute:
    invoice = make_invoice(session, customer=customer, amount="800.00", issued=date(2026, 1, 5))
    dispute = Dispute(
        customer_id=customer.id,
        invoice_id=invoice.id,
        reason=DisputeReason.PRICE.value,
        amount=Decimal("100.00"),
        currency="CNY",
        status=DisputeStatus.RESOLVED.value,
        opened_on=date(2026, 1, 10),
        sla_due_on=date(2026, 1, 20),
        resolved_on=on,
    )
    session.add(dispute)
    session.flush()
    return dispute


def paid_invoice(session: Session, customer: Customer, on: date) -> int:
    invoice = make_invoice(session, customer=customer, amount="500.00", issued=date(2026, 1, 5))
    make_payment(session, customer=customer, amount="500.00", received=on, invoice=invoice)
    session.flush()
    session.refresh(invoice)
    assert invoice.status == "paid", invoice.status
    return int(invoice.id)


def invitations(session: Session, **where: Any) -> list[SurveyInvitation]:
    query = select(SurveyInvitation).order_by(SurveyInvitation.id)
    for key, value in where.items():
        query = query.where(getattr(SurveyInvitation, key) == value)
    return list(session.scalars(query))


def outbox_rows(session: Session, prefix: str = "survey-") -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.startswith(prefix))
            .order_by(OutboxMessage.id)
        )
    )
