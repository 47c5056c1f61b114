"""Input shapes for the receivables service, shared by the CLI, importers, API and tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from flywheel.kit.money import to_money
from flywheel.models.enums import PaymentMethod


def _cents(value: Decimal) -> Decimal:
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("amounts have at most two decimals")
    return to_money(value)


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("amount must be greater than zero")
    return value


PositiveMoney = Annotated[Decimal, AfterValidator(_cents), AfterValidator(_positive)]
CurrencyField = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")]


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")


class InstallmentIn(_Input):
    due_date: date
    amount: PositiveMoney


class InvoiceCreate(_Input):
    number: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: int
    issue_date: date
    amount: PositiveMoney
    order_id: int | None = None
    payment_terms: str | None = None
    currency: CurrencyField | None = None
    due_date: date | None = None
    installments: list[InstallmentIn] | None = None

    @field_validator("installments")
    @classmethod
    def _ordered(cls, value: list[InstallmentIn] | None) -> list[InstallmentIn] | None:
        if value is not None and len(value) == 0:
            raise ValueError("an invoice needs at least one installment")
        return value


class PaymentCreate(_Input):
    reference: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: int
    received_on: date
    amount: PositiveMoney
    currency: CurrencyField | None = None
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER
    invoice_number: str | None = None


class CreditNoteCreate(_Input):
    number: Annotated[str, Field(min_length=1, max_length=64)]
    invoice_id: int
    issue_date: date
    amount: PositiveMoney
    reason: str | None = None
