"""JSON shapes of contracts, their milestones and key-account tasks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flywheel.models.customers import Customer
from flywheel.models.enums import ContractStatus, MilestoneKind
from flywheel.models.keyaccounts import AccountTask, Contract, ContractMilestone

Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999999999.99"), decimal_places=2)]


class ContractNew(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str = Field(min_length=1, max_length=64, description="The account's code.")
    number: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    value: Money
    currency: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{3}$", description="Default: the account's."
    )
    start_on: date
    end_on: date
    renewal_on: date | None = Field(default=None, description="Default: the end date.")
    payment_terms: str | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="NET30, EOM60 … default: the account's.",
    )
    status: ContractStatus = ContractStatus.ACTIVE
    owner_id: int | None = Field(default=None, ge=1, description="Default: the account's owner.")
    notes: str | None = Field(default=None, max_length=4000)


class ContractPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    value: Money | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    start_on: date | None = None
    end_on: date | None = None
    renewal_on: date | None = None
    payment_terms: str | None = Field(default=None, min_length=1, max_length=20)
    status: ContractStatus | None = None
    owner_id: int | None = Field(default=None, ge=1)
    notes: str | None = Field(default=None, max_length=4000)


class MilestoneNew(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    kind: MilestoneKind
    due_on: date
    amount: Money | None = Field(default=None, description="A payment milestone's amount.")
    invoice_id: int | None = Field(
        default=None, ge=1, description="A payment milestone's invoice (same account)."
    )
    checkpoint: Literal["survey", "task"] | None = Field(
        default=None, description="What marking it done sets off."
    )


class MilestoneDone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done_on: date | None = Field(default=None, description="Default: today.")


class TaskDone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "cancelled"] = "done"
    note: str | None = Field(default=None, max_length=4000)


class MilestoneOut(BaseModel):
    id: int
    contract_id: int
    title: str
    kind: str
    due_on: date
    done_on: date | None
    amount: str | None
    invoice_id: int | None
    checkpoint: str | None
    campaign_id: int | None

    @classmethod
    def of(cls, m: ContractMilestone) -> MilestoneOut:
        return cls(
            id=m.id,
            contract_id=m.contract_id,
            title=m.title,
            kind=m.kind,
            due_on=m.due_on,
            done_on=m.done_on,
            amount=None if m.amount is None else f"{m.amount:.2f}",
            invoice_id=m.invoice_id,
            checkpoint=m.checkpoint,
            campaign_id=m.campaign_id,
        )


class ContractOut(BaseModel):
    id: int
    customer: str
    customer_name: str
    number: str
    title: str
    value: str
    currency: str
    start_on: date
    end_on: date
    renewal_on: date
    renewal_in_days: int
    payment_terms: str
    status: str
    owner_id: int | None
    notes: str | None

    @classmethod
    def of(cls, contract: Contract, customer: Customer, *, as_of: date) -> ContractOut:
        renewal = contract.renewal_on or contract.end_on
        return cls(
            id=contract.id,
            customer=customer.code,
            customer_name=customer.name,
            number=contract.number,
            title=contract.title,
            value=f"{contract.value:.2f}",
            currency=contract.currency,
            start_on=contract.start_on,
            end_on=contract.end_on,
            renewal_on=renewal,
            renewal_in_days=(renewal - as_of).days,
            payment_terms=contract.payment_terms,
            status=contract.status,
            owner_id=contract.owner_id,
            notes=contract.notes,
        )


class ContractDetailOut(ContractOut):
    milestones: list[MilestoneOut]


class ContractPage(BaseModel):
    items: list[ContractOut]
    total: int
    page: int
    page_size: int


class MilestoneDoneOut(BaseModel):
    milestone: MilestoneOut
    checkpoint: str | None
    invitations: int = Field(description="Survey invitations planned.")
    task_id: int | None = Field(description="The task opened, if any.")


class TaskOut(BaseModel):
    id: int
    customer: str
    customer_name: str
    owner_id: int | None
    kind: str
    title: str
    due_on: date
    status: str
    created_on: date
    note: str | None

    @classmethod
    def of(cls, task: AccountTask, customer: Customer) -> TaskOut:
        return cls(
            id=task.id,
            customer=customer.code,
            customer_name=customer.name,
            owner_id=task.owner_id,
            kind=task.kind,
            title=task.title,
            due_on=task.due_on,
            status=task.status,
            created_on=task.created_on,
            note=task.note,
        )


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int
    page: int
    page_size: int
