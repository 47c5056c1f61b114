"""Queries of orders; an actor's scope is applied inside each query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from flywheel.customers.repository import in_scope
from flywheel.models.customers import Customer
from flywheel.models.sales import Order


def get_by_number(
    session: Session, number: str, *, scope: ColumnElement[bool] | None = None
) -> Order | None:
    """The order ``number``; ``scope`` hides the ones of accounts an actor may not see."""
    stmt = select(Order).where(Order.number == number)
    if scope is not None:
        stmt = in_scope(stmt, Order.customer_id, scope)
    return session.scalars(stmt).one_or_none()


def get(session: Session, order_id: int, *, scope: ColumnElement[bool]) -> Order | None:
    stmt = in_scope(select(Order).where(Order.id == order_id), Order.customer_id, scope)
    return session.scalars(stmt).one_or_none()


@dataclass(frozen=True, slots=True)
class OrderFilter:
    customer: str | None = None  # the account's code
    status: str | None = None
    ordered_from: date | None = None  # inclusive
    ordered_to: date | None = None  # inclusive
    search: str | None = None  # part of the number


def list_orders(
    session: Session,
    flt: OrderFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
) -> tuple[list[tuple[Order, str]], int]:
    """One page of the orders in ``scope``, newest first, each with its account's code; and
    how many match in all."""
    base = select(Order).join(Customer, Order.customer_id == Customer.id).where(scope)
    if flt.customer:
        base = base.where(Customer.code == flt.customer)
    if flt.status:
        base = base.where(Order.status == flt.status)
    if flt.ordered_from is not None:
        base = base.where(Order.order_date >= flt.ordered_from)
    if flt.ordered_to is not None:
        base = base.where(Order.order_date <= flt.ordered_to)
    search = flt.search.strip() if flt.search else ""
    if search:
        base = base.where(Order.number.icontains(search, autoescape=True))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = (
        base.add_columns(Customer.code)
        .order_by(Order.order_date.desc(), Order.number.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(order, code) for order, code in session.execute(page)], total
