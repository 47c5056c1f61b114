"""Input and output shapes of the receivables ledger, shared by the CLI, importers, API, pages
and tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from flywheel.kit.money import to_money
from flywheel.kit.shapes import InputModel, MoneyText, OutputModel, PositiveAmount, money_in_range
from flywheel.models.enums import PaymentMethod


def _cents(value: Decimal) -> Decimal:
    # Range first: quantizing a huge or infinite number raises instead of answering.
    money_in_range(value)
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


# ---------------------------------------------------------------- API and page input shapes
# Accounts by code, invoices and credit notes by number, payments by reference.

CustomerCode = Annotated[str, Field(min_length=1, max_length=64, description="The account's code.")]
DocumentKey = Annotated[str, Field(min_length=1, max_length=64)]


class InstallmentNew(InputModel):
    due_date: date
    amount: PositiveAmount


class InvoiceNew(InputModel):
    number: DocumentKey
    customer: CustomerCode
    issue_date: date
    amount: PositiveAmount
    order: Annotated[str | None, Field(max_length=64, description="The order's number.")] = None
    payment_terms: Annotated[
        str | None, Field(max_length=40, description="Default: the account's terms.")
    ] = None
    currency: Annotated[
        str | None, Field(pattern=r"^[A-Z]{3}$", description="Default: the account's currency.")
    ] = None
    due_date: Annotated[
        date | None, Field(description="One installment due then (default: by the terms).")
    ] = None
    installments: Annotated[
        list[InstallmentNew] | None,
        Field(min_length=1, max_length=120, description="A schedule adding up to the amount."),
    ] = None
    credit_override_reason: Annotated[
        str | None,
        Field(
            max_length=500,
            description="Passes a failed credit check (finance, credit controller, admin); "
            "audited. Without it such an invoice is refused with credit_hold.",
        ),
    ] = None


class InvoiceCancel(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class InvoiceWriteOff(InputModel):
    on: Annotated[
        date | None, Field(description="Business date of the write-off (default: today).")
    ] = None
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class PaymentNew(InputModel):
    reference: DocumentKey
    customer: CustomerCode
    received_on: date
    amount: PositiveAmount
    currency: Annotated[
        str | None, Field(pattern=r"^[A-Z]{3}$", description="Default: the account's currency.")
    ] = None
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER
    invoice: Annotated[
        str | None, Field(max_length=64, description="The invoice the payer named: paid first.")
    ] = None


class AllocationNew(InputModel):
    invoice: DocumentKey
    installment: Annotated[
        int, Field(ge=1, le=1000, description="Which installment (1-based).")
    ] = 1
    amount: PositiveAmount


class CreditNoteNew(InputModel):
    number: DocumentKey
    invoice: DocumentKey
    issue_date: date
    amount: PositiveAmount
    reason: Annotated[str | None, Field(max_length=2000)] = None


# ---------------------------------------------------------------- output shapes


class InvoiceListItem(OutputModel):
    number: str
    customer: str = Field(description="The account's code.")
    customer_name: str
    issue_date: date
    due_date: date | None = Field(description="When the last installment is due.")
    next_due_date: date | None = Field(description="The earliest due date still open.")
    payment_terms: str
    amount: MoneyText
    paid_amount: MoneyText
    credited_amount: MoneyText
    written_off_amount: MoneyText
    open_amount: MoneyText
    currency: str
    status: str = Field(description="The stored status.")
    state: str = Field(description='The status as of the day asked, "overdue" when late.')
    days_overdue: int = Field(description="Days the oldest open installment is late.")


class InvoicePage(OutputModel):
    as_of: date
    items: list[InvoiceListItem]
    total: int
    page: int
    page_size: int


class InstallmentOut(OutputModel):
    sequence: int
    due_date: date
    amount: MoneyText
    paid_amount: MoneyText
    credited_amount: MoneyText
    written_off_amount: MoneyText
    open_amount: MoneyText
    status: str
    settled_on: date | None
    days_overdue: int


class InvoiceAllocationOut(OutputModel):
    id: int
    source: str = Field(description='"payment" or "credit_note".')
    reference: str | None = Field(description="The payment's reference or the note's number.")
    installment: int
    amount: MoneyText
    applied_on: date


class CreditNoteOut(OutputModel):
    number: str
    customer: str = Field(description="The account's code.")
    invoice: str = Field(description="The invoice's number.")
    issue_date: date
    amount: MoneyText
    currency: str
    reason: str | None


class CreditNotePage(OutputModel):
    items: list[CreditNoteOut]
    total: int
    page: int
    page_size: int


class InvoiceDetailOut(InvoiceListItem):
    as_of: date
    order: str | None = Field(description="The order's number.")
    installments: list[InstallmentOut]
    allocations: list[InvoiceAllocationOut]
    credit_notes: list[CreditNoteOut]


class PaymentOut(OutputModel):
    reference: str
    customer: str = Field(description="The account's code.")
    received_on: date
    amount: MoneyText
    allocated_amount: MoneyText
    unallocated_amount: MoneyText
    currency: str
    method: str
    status: str
    invoice: str | None = Field(description="The invoice the payer named.")


class PaymentPage(OutputModel):
    items: list[PaymentOut]
    total: int
    page: int
    page_size: int


class PaymentAllocationOut(OutputModel):
    id: int = Field(description="DELETE /allocations/{id} undoes it.")
    invoice: str
    installment: int
    due_date: date
    amount: MoneyText
    applied_on: date


class PaymentDetailOut(PaymentOut):
    allocations: list[PaymentAllocationOut]


class PlannedAllocationOut(OutputModel):
    invoice: str
    installment: int
    due_date: date
    open_before: MoneyText
    amount: MoneyText


class AllocationPreviewOut(OutputModel):
    """What recording the payment would apply, computed without writing anything."""

    customer: str
    currency: str
    amount: MoneyText
    allocations: list[PlannedAllocationOut]
    unallocated: MoneyText


class AllocationOut(OutputModel):
    id: int
    payment: str = Field(description="The payment's reference.")
    invoice: str
    installment: int
    amount: MoneyText
    applied_on: date
