"""Input shapes for accounts, contacts and touchpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flywheel.models.enums import (
    BuyingRole,
    CustomerStatus,
    Language,
    Tier,
    TouchpointKind,
)


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")


class CustomerIn(_Input):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    tier: Tier = Tier.STANDARD
    industry: Annotated[str | None, Field(max_length=80)] = None
    region: Annotated[str | None, Field(max_length=80)] = None
    owner_id: int | None = None
    parent_id: int | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    payment_terms: str = "NET30"
    status: CustomerStatus = CustomerStatus.ACTIVE
    referred_by_id: int | None = None
    created_on: date


class ContactIn(_Input):
    customer_id: int
    name: Annotated[str, Field(min_length=1, max_length=120)]
    title: Annotated[str | None, Field(max_length=120)] = None
    buying_role: BuyingRole | None = None
    email: Annotated[str | None, Field(max_length=254)] = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    language: Language = Language.ZH

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.lower()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise ValueError(f"not an email address: {value!r}")
        return value


class TouchpointIn(_Input):
    reference: Annotated[str | None, Field(max_length=64)] = None
    customer_id: int
    contact_id: int | None = None
    user_id: int | None = None
    kind: TouchpointKind
    occurred_at: datetime
    summary: str | None = None
    satisfaction: Annotated[int | None, Field(ge=1, le=5)] = None

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("the time of a touchpoint needs a time zone")
        return value
