"""Test data for collections: graded customers with a contact, and a settings object."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn
from flywheel.models.credit import CreditScore
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import BuyingRole, Language, Tier
from flywheel.models.users import User
from tests.factories import TESTER, make_customer

AS_OF = date(2026, 6, 15)


def collection_settings(**changes: object) -> Settings:
    base = Settings(
        company_name="飞轮测试公司",
        public_url="http://flywheel.test",
        webhook_url="http://127.0.0.1:9/robot",
    )
    return base.model_copy(update=changes)


def make_contact_in(
    session: Session,
    *,
    customer: Customer,
    name: str = "王会计",
    email: str | None = "ap@example.cn",
    language: Language = Language.ZH,
    role: BuyingRole | None = BuyingRole.FINANCE,
) -> Contact:
    return customers.add_contact(
        session,
        actor=TESTER,
        data=ContactIn(
            customer_id=customer.id, name=name, email=email, language=language, buying_role=role
        ),
    )


def grade(session: Session, customer: Customer, letter: str, *, as_of: date = AS_OF) -> None:
    session.add(
        CreditScore(
            customer_id=customer.id,
            as_of=as_of,
            score={"A": 720, "B": 660, "C": 600, "D": 540, "E": 480}[letter],
            grade=letter,
            model="expert",
            factors=[],
        )
    )
    session.flush()


def debtor(
    session: Session,
    *,
    letter: str | None = None,
    tier: Tier = Tier.STANDARD,
    owner: User | None = None,
    email: str | None = "ap@example.cn",
    language: Language = Language.ZH,
) -> Customer:
    customer = make_customer(session, tier=tier, owner=owner)
    make_contact_in(session, customer=customer, email=email, language=language)
    if letter is not None:
        grade(session, customer, letter)
    return customer
