"""Business rules for orders; every change is audited, every actor kept to his scope."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.customers import service as customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.models.sales import Order
from flywheel.sales import repository
from flywheel.sales.repository import OrderFilter
from flywheel.sales.schemas import OrderIn, OrderNew, OrderReplace

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
    """The order ``number`` or None, unrestricted: for system work such as imports."""
    return repository.get_by_number(session, number)


def get_order_by_number(session: Session, number: str) -> Order:
    """The order ``number``, unrestricted: for system work. Actors use ``get_order_for``."""
    order = find_order(session, number)
    if order is None:
        raise NotFound(f"order {number} not found", number=number)
    return order


def get_order_for(session: Session, number: str, *, actor: Actor) -> Order:
    """The order ``number`` if ``actor`` may see its account; else "not found", exactly like a
    missing one."""
    order = repository.get_by_number(session, number, scope=visible_customers(actor))
    if order is None:
        raise NotFound(f"order {number} not found", number=number)
    return order


def list_orders(
    session: Session, flt: OrderFilter, *, actor: Actor, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[Order, str]], int]:
    """A page of the orders ``actor`` may see, newest first, each with its account's code;
    and the number matching."""
    return repository.list_orders(
        session, flt, scope=visible_customers(actor), limit=limit, offset=offset
    )


def _values(session: Session, data: OrderIn, *, actor: Actor) -> dict[str, object]:
    customer = customers.get_customer_for(session, data.customer_id, actor=actor)
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
    values = _values(session, data, actor=actor)
    if find_order(session, data.number) is not None:
        raise Conflict(f"order {data.number} already exists", number=data.number)
    order = Order(number=data.number, **values)
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
    order = repository.get(session, order_id, scope=visible_customers(actor))
    if order is None:
        raise NotFound(f"order {order_id} not found")
    values = _values(session, data, actor=actor)
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


def _order_in(session: Session, number: str, data: OrderReplace, *, actor: Actor) -> OrderIn:
    customer = customers.get_customer_by_code(session, data.customer, actor=actor)
    return OrderIn(
        number=number,
        customer_id=customer.id,
        order_date=data.order_date,
        amount=data.amount,
        currency=data.currency,
        status=data.status,
        delivered_on=data.delivered_on,
    )


def place_order(session: Session, *, actor: Actor, data: OrderNew) -> Order:
    """A new order of the account ``data.customer`` (a code, in the actor's scope), if it
    passes the credit check (or the actor overrides it with a reason)."""
    from flywheel.credit import limits

    order = _order_in(session, data.number, data, actor=actor)
    customer = customers.get_customer_by_code(session, data.customer, actor=actor)
    same = order.currency is None or order.currency == customer.currency
    limits.enforce(
        session,
        actor=actor,
        customer=customer,
        amount=order.amount if same else Decimal("0.00"),
        as_of=order.order_date,
        document=f"order {data.number}",
        override_reason=data.credit_override_reason,
    )
    return create_order(session, actor=actor, data=order)


def replace_order(
    session: Session, *, actor: Actor, number: str, data: OrderReplace
) -> tuple[Order, bool]:
    """Bring the order ``number`` (in the actor's scope) to ``data``; returns (order, changed).
    Moving it to another account needs that account in the actor's scope too."""
    order = get_order_for(session, number, actor=actor)
    return update_order(
        session, actor=actor, order_id=order.id, data=_order_in(session, number, data, actor=actor)
    )
