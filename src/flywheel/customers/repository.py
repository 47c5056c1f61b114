"""Queries of accounts, contacts and touchpoints, and the data behind the customer 360."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, UnaryExpression, func, or_, select
from sqlalchemy.orm import Session, aliased

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


class CustomerSort(StrEnum):
    CODE = "code"
    NAME = "name"
    CREATED_ON = "created_on"


_SORT_COLUMNS = {
    CustomerSort.CODE: Customer.code,
    CustomerSort.NAME: Customer.name,
    CustomerSort.CREATED_ON: Customer.created_on,
}


def get(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def get_by_code(
    session: Session, code: str, *, scope: ColumnElement[bool] | None = None
) -> Customer | None:
    """The account with ``code``; ``scope`` (from ``auth.scope``) hides the ones an actor may
    not see. Without it the look-up is unrestricted, for system work such as imports."""
    stmt = select(Customer).where(Customer.code == code)
    if scope is not None:
        stmt = stmt.where(scope)
    return session.scalars(stmt).one_or_none()


def _filtered(stmt: Select[Any], flt: CustomerFilter) -> Select[Any]:
    search = flt.search.strip() if flt.search else ""
    if search:
        # autoescape: a "%" or "_" typed by the user is a character, not a wildcard.
        contact_match = select(Contact.customer_id).where(
            Contact.name.icontains(search, autoescape=True)
        )
        stmt = stmt.where(
            or_(
                Customer.code.icontains(search, autoescape=True),
                Customer.name.icontains(search, autoescape=True),
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
        owner_ids = select(User.id).where(User.username == flt.owner)
        stmt = stmt.where(Customer.owner_id.in_(owner_ids))
    return stmt


def list_customers(
    session: Session,
    flt: CustomerFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
    sort: CustomerSort = CustomerSort.CODE,
    descending: bool = False,
) -> tuple[list[tuple[Customer, str | None]], int]:
    """One page of the accounts in ``scope`` matching ``flt``, each with its owner's username,
    and the number matching in all. Two statements, however long the page."""
    base = _filtered(select(Customer).where(scope), flt)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    column = _SORT_COLUMNS[sort]
    # The code is unique, so it makes the order total and the pages stable.
    order: list[UnaryExpression[Any]] = [column.desc() if descending else column.asc()]
    if sort is not CustomerSort.CODE:
        order.append(Customer.code.desc() if descending else Customer.code.asc())
    page = (
        base.outerjoin(User, Customer.owner_id == User.id)
        .add_columns(User.username)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = [(customer, username) for customer, username in session.execute(page)]
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


def open_installments(
    session: Session, customer_id: int
) -> Sequence[tuple[Installment, Invoice, int]]:
    """Open installments with their invoice and its number of installments (counted in the
    same statement, so the 360 costs the same however many invoices are open)."""
    siblings = aliased(Installment)
    installment_count = (
        select(func.count(siblings.id))
        .where(siblings.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    return session.execute(
        select(Installment, Invoice, installment_count)
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
