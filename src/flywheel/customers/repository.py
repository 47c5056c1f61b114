"""Queries of accounts, contacts and touchpoints, and the data behind the customer 360."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.receivables import Installment, Invoice, Payment
from flywheel.models.users import User


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    search: str | None = None
    tier: str | None = None
    owner: str | None = None
    region: str | None = None
    status: str | None = None


def get(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def get_by_code(session: Session, code: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.code == code)).one_or_none()


def _filtered(stmt: Select[Any], flt: CustomerFilter) -> Select[Any]:
    if flt.search:
        pattern = f"%{flt.search.strip()}%"
        contact_match = select(Contact.customer_id).where(Contact.name.ilike(pattern))
        stmt = stmt.where(
            or_(
                Customer.code.ilike(pattern),
                Customer.name.ilike(pattern),
                Customer.id.in_(contact_match),
            )
        )
    if flt.tier:
        stmt = stmt.where(Customer.tier == flt.tier)
    if flt.region:
        stmt = stmt.where(Customer.region == flt.region)
    if flt.status:
        stmt = stmt.where(Customer.status == flt.status)
    if flt.owner:
        stmt = stmt.join(User, Customer.owner_id == User.id).where(User.username == flt.owner)
    return stmt


def list_customers(
    session: Session, flt: CustomerFilter, *, limit: int, offset: int = 0
) -> tuple[Sequence[Customer], int]:
    base = _filtered(select(Customer), flt)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(Customer.code).limit(limit).offset(offset)).all()
    return rows, total


def contacts_of(session: Session, customer_id: int) -> Sequence[Contact]:
    return session.scalars(
        select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id)
    ).all()


def find_contact(
    session: Session, customer_id: int, *, email: str | None, name: str
) -> Contact | None:
    stmt = select(Contact).where(Contact.customer_id == customer_id)
    stmt = stmt.where(Contact.email == email) if email else stmt.where(Contact.name == name)
    return session.scalars(stmt.order_by(Contact.id).limit(1)).first()


def recent_touchpoints(session: Session, customer_id: int, limit: int) -> Sequence[Touchpoint]:
    return session.scalars(
        select(Touchpoint)
        .where(Touchpoint.customer_id == customer_id)
        .order_by(Touchpoint.occurred_at.desc())
        .limit(limit)
    ).all()


def open_installments(session: Session, customer_id: int) -> Sequence[tuple[Installment, Invoice]]:
    return session.execute(
        select(Installment, Invoice)
        .join(Invoice, Installment.invoice_id == Invoice.id)
        .where(
            Installment.customer_id == customer_id,
            Installment.status.in_(("open", "partially_paid")),
        )
        .order_by(Installment.due_date, Invoice.number, Installment.sequence)
    ).all()


def recent_payments(session: Session, customer_id: int, limit: int) -> Sequence[Payment]:
    return session.scalars(
        select(Payment)
        .where(Payment.customer_id == customer_id)
        .order_by(Payment.received_on.desc(), Payment.id.desc())
        .limit(limit)
    ).all()


def user_by_id(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None
