"""Business rules for orders; every change is audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.customers import service as customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.models.sales import Order
from flywheel.sales.schemas import OrderIn

ORDER_FIELDS = (
    "number",
    "customer_id",
    "order_date",
    "amount",
    "currency",
    "status",
    "delivered_on",
)


def find_order(session: Session, number: str) -> Order | None:
    return session.scalars(select(Order).where(Order.number == number)).one_or_none()


def get_order_by_number(session: Session, number: str) -> Order:
    order = find_order(session, number)
    if order is None:
        raise NotFound(f"order {number} not found", number=number)
    return order


def _values(session: Session, data: OrderIn) -> dict[str, object]:
    customer = customers.get_customer(session, data.customer_id)
    if data.delivered_on is not None and data.delivered_on < data.order_date:
        raise ValidationFailed("delivery date is before the order date", field="delivered_on")
    return {
        "customer_id": customer.id,
        "order_date": data.order_date,
        "amount": data.amount,
        "currency": data.currency or customer.currency,
        "status": data.status.value,
        "delivered_on": data.delivered_on,
    }


def create_order(session: Session, *, actor: Actor, data: OrderIn) -> Order:
    if find_order(session, data.number) is not None:
        raise Conflict(f"order {data.number} already exists", number=data.number)
    order = Order(number=data.number, **_values(session, data))
    session.add(order)
    session.flush()
    audit.record(
        session,
        actor,
        "order.created",
        subject_type="order",
        subject_id=order.id,
        customer_id=order.customer_id,
        after=audit.snapshot(order, ORDER_FIELDS),
    )
    return order


def update_order(
    session: Session, *, actor: Actor, order_id: int, data: OrderIn
) -> tuple[Order, bool]:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    values = _values(session, data)
    changed = audit.apply_update(
        session,
        actor,
        order,
        values,
        action="order.updated",
        subject_type="order",
        customer_id=order.customer_id,
        fields=ORDER_FIELDS,
    )
    return order, changed
