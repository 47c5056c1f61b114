"""Invitations with their link tokens, written as the campaign cycle would leave them once sent,
for the tests of the survey page and of recording answers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn
from flywheel.feedback import surveys, tokens
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import BuyingRole, InvitationStatus, Language, Role, SurveyKind
from flywheel.models.feedback import Survey, SurveyCampaign, SurveyInvitation
from flywheel.models.users import User
from tests.factories import TESTER, make_customer, make_user

SETTINGS = Settings(
    secret_key="flywheel-tests-only-session-key", company_name="Acme Valves 阿克米阀门"
)
SENT_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUSTOMER_NAME = "Northwind Precision Parts 北风精密"
CONTACT_NAME = "王建国"
_seq = itertools.count(1)

SURVEY_CODES = {
    SurveyKind.NPS: "nps-relationship",
    SurveyKind.CSAT: "csat-delivery",
    SurveyKind.CES: "ces-service",
}


@dataclass(frozen=True)
class Link:
    invitation: SurveyInvitation
    token: str
    customer: Customer
    contact: Contact
    owner: User

    @property
    def path(self) -> str:
        return f"/s/{self.token}"


def survey_of(
    session: Session, kind: str, *, questions: list[dict[str, Any]] | None = None
) -> Survey:
    """A shipped survey of ``kind``; with ``questions``, a survey of its own with them."""
    surveys.ensure_defaults(session)
    survey = session.scalar(select(Survey).where(Survey.code == SURVEY_CODES[SurveyKind(kind)]))
    assert survey is not None
    if questions is None:
        return survey
    n = next(_seq)
    return surveys.save(
        session,
        {
            "code": f"test-{kind}-{n}",
            "kind": kind,
            "name_zh": survey.name_zh,
            "name_en": survey.name_en,
            "question_zh": survey.question_zh,
            "question_en": survey.question_en,
            "comment_zh": survey.comment_zh,
            "comment_en": survey.comment_en,
            "questions": questions,
        },
    )


def send_invitation(
    session: Session,
    *,
    kind: str = SurveyKind.NPS,
    language: str = "zh",
    questions: list[dict[str, Any]] | None = None,
    contact: Contact | None = None,
    status: InvitationStatus = InvitationStatus.SENT,
    sent_at: datetime = SENT_AT,
    expires_at: datetime | None = None,
    buying_role: BuyingRole | None = BuyingRole.DECISION_MAKER,
    touchpoint_kind: str | None = "delivery",
) -> Link:
    """A sent invitation (and, unless ``contact`` is given, a new account with its owner and a
    contact) and the token its e-mail link carries."""
    survey = survey_of(session, kind, questions=questions)
    n = next(_seq)
    if contact is None:
        owner = make_user(session, username=f"owner{n}", role=Role.SALES)
        customer = make_customer(session, name=CUSTOMER_NAME, owner=owner)
        contact = customers.add_contact(
            session,
            actor=TESTER,
            data=ContactIn(
                customer_id=customer.id,
                name=CONTACT_NAME,
                email=f"wang{n}@northwind.example",
                buying_role=buying_role,
                language=Language(language),
            ),
        )
    else:
        found = session.get(Customer, contact.customer_id)
        assert found is not None
        customer = found
        owner_row = session.get(User, customer.owner_id) if customer.owner_id else None
        assert owner_row is not None
        owner = owner_row
    campaign = SurveyCampaign(
        name=f"Test campaign {n}", survey_id=survey.id, trigger="order_delivered", delay_days=0
    )
    session.add(campaign)
    session.flush()
    nonce = tokens.new_nonce()
    token = tokens.token_for(nonce, SETTINGS)
    invitation = SurveyInvitation(
        campaign_id=campaign.id,
        survey_id=survey.id,
        customer_id=customer.id,
        contact_id=contact.id,
        dedupe_key=f"{campaign.id}:test:{contact.id}:{n}",
        event_ref=f"order:{n}",
        touchpoint_kind=touchpoint_kind,
        language=language,
        token_nonce=nonce,
        token_hash=tokens.hash_token(token),
        status=status.value,
        send_on=sent_at.date(),
        sent_at=sent_at if status != InvitationStatus.SCHEDULED else None,
        expires_at=expires_at or sent_at + timedelta(days=30),
    )
    session.add(invitation)
    session.flush()
    return Link(invitation=invitation, token=token, customer=customer, contact=contact, owner=owner)


REASON_QUESTION = {
    "key": "main_reason",
    "kind": "choice",
    "text_zh": "对您的评分影响最大的是？",
    "text_en": "What mattered most for your score?",
    "required": True,
    "choices": [
        {"value": "delivery", "zh": "交付与物流", "en": "Delivery"},
        {"value": "service", "zh": "服务与沟通", "en": "Service"},
    ],
}
IDEA_QUESTION = {
    "key": "idea",
    "kind": "text",
    "text_zh": "有什么建议？",
    "text_en": "Any idea for us?",
    "required": False,
}
