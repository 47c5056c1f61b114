"""Keyword-only factories for test data; each goes through the services like real code."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, CustomerIn
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import Role, Tier
from flywheel.models.receivables import CreditNote, Invoice, Payment
from flywheel.models.users import User
from flywheel.receivables import service as receivables
from flywheel.receivables.schemas import (
    CreditNoteCreate,
    InstallmentIn,
    InvoiceCreate,
    PaymentCreate,
)
from flywheel.users import service as users

TESTER = Actor.system("tests")
_seq = itertools.count(1)


def make_user(session: Session, *, username: str | None = None, role: Role = Role.SALES) -> User:
    return users.create_user(
        session, actor=TESTER, username=username or f"user{next(_seq)}", role=role
    )


def make_customer(
    session: Session,
    *,
    code: str | None = None,
    name: str | None = None,
    tier: Tier = Tier.STANDARD,
    currency: str = "CNY",
    payment_terms: str = "NET30",
    owner: User | None = None,
    region: str | None = "华东",
    created_on: date = date(2025, 1, 1),
) -> Customer:
    n = next(_seq)
    return customers.create_customer(
        session,
        actor=TESTER,
        data=CustomerIn(
            code=code or f"T{n:06d}",
            name=name or f"测试客户 {n}",
            tier=tier,
            currency=currency,
            payment_terms=payment_terms,
            owner_id=owner.id if owner else None,
            region=region,
            created_on=created_on,
        ),
    )


def make_contact(
    session: Session, *, customer: Customer, name: str = "王经理", email: str | None = None
) -> Contact:
    return customers.add_contact(
        session, actor=TESTER, data=ContactIn(customer_id=customer.id, name=name, email=email)
    )


def make_invoice(
    session: Session,
    *,
    customer: Customer,
    amount: str | Decimal = "1000.00",
    issued: date = date(2026, 1, 1),
    due: date | None = None,
    number: str | None = None,
    installments: list[tuple[date, str]] | None = None,
    currency: str | None = None,
) -> Invoice:
    return receivables.create_invoice(
        session,
        actor=TESTER,
        data=InvoiceCreate(
            number=number or f"INV{next(_seq):07d}",
            customer_id=customer.id,
            issue_date=issued,
            amount=Decimal(amount),
            due_date=due,
            currency=currency,
            installments=[InstallmentIn(due_date=d, amount=Decimal(a)) for d, a in installments]
            if installments
            else None,
        ),
    )


def make_payment(
    session: Session,
    *,
    customer: Customer,
    amount: str | Decimal,
    received: date = date(2026, 2, 1),
    reference: str | None = None,
    invoice: Invoice | None = None,
    currency: str | None = None,
) -> Payment:
    return receivables.record_payment(
        session,
        actor=TESTER,
        data=PaymentCreate(
            reference=reference or f"PAY{next(_seq):07d}",
            customer_id=customer.id,
            received_on=received,
            amount=Decimal(amount),
            currency=currency,
            invoice_number=invoice.number if invoice else None,
        ),
    )


def make_credit_note(
    session: Session, *, invoice: Invoice, amount: str | Decimal, issued: date = date(2026, 1, 15)
) -> CreditNote:
    return receivables.issue_credit_note(
        session,
        actor=TESTER,
        data=CreditNoteCreate(
            number=f"CN{next(_seq):07d}",
            invoice_id=invoice.id,
            issue_date=issued,
            amount=Decimal(amount),
        ),
    )
