"""Input shapes for orders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flywheel.models.enums import OrderStatus


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
