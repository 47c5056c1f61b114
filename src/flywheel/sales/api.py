"""JSON routes for orders: the scoped list, one order with its invoices, placing and changing
orders (a sales rep only on his own accounts)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.models.enums import OrderStatus
from flywheel.models.sales import Order
from flywheel.receivables import service as receivables
from flywheel.receivables.repository import InvoiceFilter
from flywheel.sales import service
from flywheel.sales.repository import OrderFilter
from flywheel.sales.schemas import (
    OrderDetail,
    OrderInvoice,
    OrderNew,
    OrderPage,
    OrderRead,
    OrderReplace,
)
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, MAX_PAGE_SIZE, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/orders", tags=["orders"], responses=ERROR_RESPONSES)

EditOrders = Annotated[Actor, Depends(require(Permission.EDIT_ORDERS))]


@router.get("", response_model=OrderPage, summary="List orders, newest first")
def list_orders(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    customer: Annotated[str | None, Query(max_length=64, description="The account's code.")] = None,
    status: OrderStatus | None = None,
    ordered_from: Annotated[date | None, Query(description="Ordered on or after.")] = None,
    ordered_to: Annotated[date | None, Query(description="Ordered on or before.")] = None,
    search: Annotated[str | None, Query(max_length=64, description="Part of the number.")] = None,
) -> OrderPage:
    """The orders of the accounts the caller may see."""
    flt = OrderFilter(
        customer=customer,
        status=status.value if status else None,
        ordered_from=ordered_from,
        ordered_to=ordered_to,
        search=search,
    )
    rows, total = service.list_orders(
        session, flt, actor=actor, limit=paging.limit, offset=paging.offset
    )
    return OrderPage(
        items=[OrderRead.of(order, code) for order, code in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def _detail(session: SessionDep, order: Order, actor: Actor) -> OrderDetail:
    invoices, _ = receivables.list_invoices(
        session,
        InvoiceFilter(order=order.number),
        actor=actor,
        as_of=today(),
        limit=MAX_PAGE_SIZE,
    )
    read = OrderRead.of(order, customers.get_customer(session, order.customer_id).code)
    return OrderDetail(
        **read.model_dump(),
        invoices=[
            OrderInvoice(
                number=row.invoice.number,
                issue_date=row.invoice.issue_date,
                amount=row.invoice.amount,
                open_amount=row.invoice.open_amount,
                currency=row.invoice.currency,
                status=row.invoice.status,
            )
            for row in invoices
        ],
    )


@router.get("/{number}", response_model=OrderDetail, summary="One order with its invoices")
def get_order(number: str, session: SessionDep, actor: CurrentActor) -> OrderDetail:
    return _detail(session, service.get_order_for(session, number, actor=actor), actor)


@router.post("", response_model=OrderDetail, status_code=201, summary="Place an order")
def place_order(body: OrderNew, session: SessionDep, actor: EditOrders) -> OrderDetail:
    return _detail(session, service.place_order(session, actor=actor, data=body), actor)


@router.put("/{number}", response_model=OrderDetail, summary="Replace an order's content")
def replace_order(
    number: str, body: OrderReplace, session: SessionDep, actor: EditOrders
) -> OrderDetail:
    """The whole order: what is left out takes its default (status open, no delivery)."""
    order, _ = service.replace_order(session, actor=actor, number=number, data=body)
    return _detail(session, order, actor)
