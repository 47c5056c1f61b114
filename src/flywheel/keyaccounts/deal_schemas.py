"""Input and output shapes of the deals pipeline's JSON routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from flywheel.keyaccounts import deals
from flywheel.kit.shapes import (
    ChangesModel,
    InputModel,
    MoneyText,
    NonNegativeAmount,
    OutputModel,
)
from flywheel.models.customers import Customer
from flywheel.models.keyaccounts import Deal, DealStage

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="Default: the account's.")]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Competitor = Annotated[str, Field(min_length=1, max_length=80)]


class DealLine(InputModel):
    product: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[float, Field(gt=0, le=1e9)] = 1
    unit_price: NonNegativeAmount | None = None


class DealNew(InputModel):
    customer: Annotated[str, Field(min_length=1, max_length=64, description="The account's code.")]
    title: Title
    value: NonNegativeAmount
    currency: Currency | None = None
    stage: Annotated[
        str | None, Field(max_length=32, description="An open stage; default: the first.")
    ] = None
    owner_id: Annotated[
        int | None, Field(ge=1, le=2**63 - 1, description="Default: the account's owner.")
    ] = None
    expected_close_on: date | None = None
    opened_on: Annotated[date | None, Field(description="Default: today.")] = None
    lines: Annotated[list[DealLine], Field(max_length=100)] = []
    competitors: Annotated[list[Competitor], Field(max_length=20)] = []


class DealPatch(ChangesModel):
    required: ClassVar[frozenset[str]] = frozenset(
        {"title", "value", "currency", "lines", "competitors"}
    )

    title: Title | None = None
    owner_id: Annotated[int | None, Field(ge=1, le=2**63 - 1)] = None
    value: NonNegativeAmount | None = None
    currency: Currency | None = None
    expected_close_on: date | None = None
    lines: Annotated[list[DealLine] | None, Field(max_length=100)] = None
    competitors: Annotated[list[Competitor] | None, Field(max_length=20)] = None

    def service_changes(self) -> dict[str, Any]:
        changes = self.changes()
        if "lines" in changes and changes["lines"] is not None:
            changes["lines"] = [line.model_dump(mode="json") for line in changes["lines"]]
        return changes


class DealMove(InputModel):
    stage: Annotated[str, Field(min_length=1, max_length=32, description="An open stage.")]


class DealWin(InputModel):
    closed_on: Annotated[date | None, Field(description="Default: today.")] = None
    create_contract: bool = False
    contract_number: Annotated[str | None, Field(max_length=64)] = None
    contract_title: Annotated[str | None, Field(max_length=200)] = None
    contract_value: NonNegativeAmount | None = None
    contract_start_on: date | None = None
    contract_end_on: date | None = None
    payment_terms: Annotated[str | None, Field(max_length=20)] = None
    create_order: bool = False
    order_number: Annotated[str | None, Field(max_length=64)] = None

    def terms(self) -> deals.ContractTerms | None:
        if not self.create_contract:
            return None
        return deals.ContractTerms(
            number=self.contract_number,
            title=self.contract_title,
            value=self.contract_value,
            start_on=self.contract_start_on,
            end_on=self.contract_end_on,
            payment_terms=self.payment_terms,
        )


class DealLose(InputModel):
    lost_reason: Annotated[str, Field(min_length=1, max_length=4000)]
    closed_on: Annotated[date | None, Field(description="Default: today.")] = None


class StageIn(InputModel):
    name_en: Annotated[str | None, Field(min_length=1, max_length=80)] = None
    name_zh: Annotated[str | None, Field(min_length=1, max_length=80)] = None
    position: Annotated[int | None, Field(ge=0, le=1_000_000)] = None
    probability: Annotated[int | None, Field(ge=0, le=100)] = None
    is_won: bool | None = None
    is_lost: bool | None = None
    active: bool | None = None


class StageOut(OutputModel):
    code: str
    name_en: str
    name_zh: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    active: bool


class StageList(BaseModel):
    items: list[StageOut]


class DealOut(OutputModel):
    id: int
    customer: str
    customer_name: str
    title: str
    stage: str
    probability: int
    status: str  # open, won, lost
    owner_id: int | None
    owner: str | None
    value: MoneyText
    weighted_value: MoneyText
    currency: str
    expected_close_on: date | None
    opened_on: date
    closed_on: date | None
    lost_reason: str | None
    lines: list[dict[str, Any]]
    competitors: list[str]
    contract_id: int | None
    order_id: int | None


class DealPage(BaseModel):
    items: list[DealOut]
    total: int
    page: int
    page_size: int


class StageFigures(BaseModel):
    code: str
    name_en: str
    name_zh: str
    probability: int
    is_won: bool
    is_lost: bool
    open_deals: int
    open_value: dict[str, str]
    weighted_value: dict[str, str]


class OwnerFigures(BaseModel):
    owner_id: int | None
    owner: str | None
    open_deals: int
    open_value: dict[str, str]
    weighted_value: dict[str, str]
    won: int
    lost: int
    won_value: dict[str, str]
    win_rate: float | None
    average_cycle_days: float | None


class DealFigures(BaseModel):
    as_of: date
    start: date
    end: date
    stages: list[StageFigures]
    open_deals: int
    open_value: dict[str, str]
    weighted_value: dict[str, str]
    won: int
    lost: int
    won_value: dict[str, str]
    win_rate: float | None
    average_cycle_days: float | None
    owners: list[OwnerFigures]


def status_of(stage: DealStage) -> str:
    return "won" if stage.is_won else "lost" if stage.is_lost else "open"


def deal_outs(session: Session, rows: list[tuple[Deal, Customer, DealStage]]) -> list[DealOut]:
    names = deals.owner_names(session, [d.owner_id for d, _c, _s in rows])
    return [
        DealOut(
            id=deal.id,
            customer=customer.code,
            customer_name=customer.name,
            title=deal.title,
            stage=stage.code,
            probability=stage.probability,
            status=status_of(stage),
            owner_id=deal.owner_id,
            owner=names.get(deal.owner_id) if deal.owner_id is not None else None,
            value=deal.value,
            weighted_value=(deal.value * stage.probability / 100).quantize(deals.CENT),
            currency=deal.currency,
            expected_close_on=deal.expected_close_on,
            opened_on=deal.opened_on,
            closed_on=deal.closed_on,
            lost_reason=deal.lost_reason,
            lines=list(deal.lines or []),
            competitors=list(deal.competitors or []),
            contract_id=deal.contract_id,
            order_id=deal.order_id,
        )
        for deal, customer, stage in rows
    ]
