"""Input and output shapes for orders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flywheel.kit.shapes import InputModel, Moment, MoneyText, NonNegativeAmount, OutputModel
from flywheel.models.enums import OrderStatus

if TYPE_CHECKING:
    from flywheel.models.sales import Order


class OrderIn(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")

    number: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: int
    order_date: date
    amount: Decimal
    currency: Annotated[str | None, Field(pattern=r"^[A-Z]{3}$")] = None
    status: OrderStatus = OrderStatus.OPEN
    delivered_on: date | None = None

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("an order amount cannot be negative")
        if value != value.quantize(Decimal("0.01")):
            raise ValueError("amounts have at most two decimals")
        return value.quantize(Decimal("0.01"))


# ---------------------------------------------------------------- API and page input shapes


class OrderReplace(InputModel):
    """An order's whole content, for PUT: what is left out takes its default."""

    customer: Annotated[str, Field(min_length=1, max_length=64, description="The account's code.")]
    order_date: date
    amount: NonNegativeAmount
    currency: Annotated[
        str | None, Field(pattern=r"^[A-Z]{3}$", description="Default: the account's currency.")
    ] = None
    status: OrderStatus = OrderStatus.OPEN
    delivered_on: date | None = None


class OrderNew(OrderReplace):
    number: Annotated[str, Field(min_length=1, max_length=64)]
    credit_override_reason: Annotated[
        str | None,
        Field(
            max_length=500,
            description="Passes a failed credit check (finance, credit controller, admin); "
            "audited. Without it such an order is refused with credit_hold.",
        ),
    ] = None


# ---------------------------------------------------------------- output shapes


class OrderRead(OutputModel):
    number: str
    customer: str = Field(description="The account's code.")
    order_date: date
    amount: MoneyText
    currency: str
    status: str
    delivered_on: date | None
    created_at: Moment

    @classmethod
    def of(cls, order: Order, customer: str) -> OrderRead:
        return cls(
            number=order.number,
            customer=customer,
            order_date=order.order_date,
            amount=order.amount,
            currency=order.currency,
            status=order.status,
            delivered_on=order.delivered_on,
            created_at=order.created_at,
        )


class OrderPage(OutputModel):
    items: list[OrderRead]
    total: int
    page: int
    page_size: int


class OrderInvoice(OutputModel):
    number: str
    issue_date: date
    amount: MoneyText
    open_amount: MoneyText
    currency: str
    status: str


class OrderDetail(OrderRead):
    invoices: list[OrderInvoice] = Field(description="The invoices issued for the order.")
