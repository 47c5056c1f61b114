"""Input and output shapes for accounts, contacts, touchpoints and the customer 360."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flywheel.kit.shapes import MAX_ID, ChangesModel, InputModel, Moment, MoneyText, OutputModel
from flywheel.models.enums import (
    BuyingRole,
    CustomerStatus,
    Language,
    Tier,
    TouchpointKind,
)

if TYPE_CHECKING:
    from flywheel.customers.service import Customer360, CustomerCard
    from flywheel.models.customers import Contact, Customer, Touchpoint


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


def _email_address(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value:
        raise ValueError(f"not an email address: {value!r}")
    return value


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
        return _email_address(value)


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


# ---------------------------------------------------------------- API and page input shapes
# Accounts are named by code and people by username, as the answers name them.


class CustomerNew(InputModel):
    """A new account. A sales rep's new account is his own (``owner`` empty or himself)."""

    code: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    tier: Tier = Tier.STANDARD
    industry: Annotated[str | None, Field(max_length=80)] = None
    region: Annotated[str | None, Field(max_length=80)] = None
    owner: Annotated[str | None, Field(max_length=64, description="The owner's username.")] = None
    parent: Annotated[str | None, Field(max_length=64, description="The parent's code.")] = None
    referred_by: Annotated[
        str | None, Field(max_length=64, description="The referring account's code.")
    ] = None
    currency: Annotated[
        str | None, Field(pattern=r"^[A-Z]{3}$", description="Default: the base currency.")
    ] = None
    payment_terms: Annotated[
        str | None, Field(max_length=40, description="e.g. NET30, EOM60, 月结60天.")
    ] = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    created_on: Annotated[date | None, Field(description="Default: today.")] = None


class CustomerChanges(ChangesModel):
    required: ClassVar[frozenset[str]] = frozenset(
        {"code", "name", "tier", "currency", "payment_terms", "status"}
    )

    code: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    tier: Tier | None = None
    industry: Annotated[str | None, Field(max_length=80)] = None
    region: Annotated[str | None, Field(max_length=80)] = None
    owner: Annotated[str | None, Field(max_length=64, description="The owner's username.")] = None
    parent: Annotated[str | None, Field(max_length=64, description="The parent's code.")] = None
    referred_by: Annotated[
        str | None, Field(max_length=64, description="The referring account's code.")
    ] = None
    currency: Annotated[str | None, Field(pattern=r"^[A-Z]{3}$")] = None
    payment_terms: Annotated[str | None, Field(max_length=40)] = None
    status: CustomerStatus | None = None
    created_on: date | None = None


class ContactNew(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    title: Annotated[str | None, Field(max_length=120)] = None
    buying_role: BuyingRole | None = None
    email: Annotated[str | None, Field(max_length=254)] = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    language: Language = Language.ZH

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _email_address(value)


class ContactChanges(ChangesModel):
    required: ClassVar[frozenset[str]] = frozenset({"name", "language"})

    name: Annotated[str | None, Field(min_length=1, max_length=120)] = None
    title: Annotated[str | None, Field(max_length=120)] = None
    buying_role: BuyingRole | None = None
    email: Annotated[str | None, Field(max_length=254)] = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    language: Language | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _email_address(value)


class TouchpointNew(InputModel):
    kind: TouchpointKind
    occurred_at: Annotated[datetime, Field(description="With a time zone offset.")]
    summary: Annotated[str | None, Field(max_length=10_000)] = None
    satisfaction: Annotated[int | None, Field(ge=1, le=5)] = None
    contact_id: Annotated[
        int | None, Field(ge=1, le=MAX_ID, description="One of the account's contacts.")
    ] = None
    user: Annotated[
        str | None, Field(max_length=64, description="Who had it (username); default: you.")
    ] = None
    reference: Annotated[
        str | None, Field(max_length=64, description="Your key for it; default: derived.")
    ] = None

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("the time of a touchpoint needs a time zone")
        return value.astimezone(UTC)


# ---------------------------------------------------------------- output shapes

_Output = OutputModel


class CustomerListItem(_Output):
    code: str
    name: str
    tier: str
    industry: str | None
    region: str | None
    status: str
    currency: str
    payment_terms: str
    owner: str | None = Field(description="The owner's username.")
    created_on: date

    @classmethod
    def of(cls, customer: Customer, owner: str | None) -> CustomerListItem:
        return cls(
            code=customer.code,
            name=customer.name,
            tier=customer.tier,
            industry=customer.industry,
            region=customer.region,
            status=customer.status,
            currency=customer.currency,
            payment_terms=customer.payment_terms,
            owner=owner,
            created_on=customer.created_on,
        )


class CustomerPage(_Output):
    items: list[CustomerListItem]
    total: int = Field(description="How many accounts match, on all pages.")
    page: int
    page_size: int


class CustomerProfile(_Output):
    code: str
    name: str
    tier: str
    industry: str | None
    region: str | None
    status: str
    currency: str
    payment_terms: str
    created_on: date
    owner: str | None
    parent: str | None = Field(description="The parent account's code.")
    referred_by: str | None = Field(description="The referring account's code.")


def profile_of(card: CustomerCard) -> CustomerProfile:
    """The profile of an account with the names of its owner, parent and referrer."""
    c = card.customer
    return CustomerProfile(
        code=c.code,
        name=c.name,
        tier=c.tier,
        industry=c.industry,
        region=c.region,
        status=c.status,
        currency=c.currency,
        payment_terms=c.payment_terms,
        created_on=c.created_on,
        owner=card.owner,
        parent=card.parent,
        referred_by=card.referred_by,
    )


class Balance(_Output):
    open: MoneyText
    overdue: MoneyText


class ContactOut(_Output):
    name: str
    title: str | None
    buying_role: str | None
    email: str | None
    phone: str | None
    language: str


class OpenInvoiceOut(_Output):
    invoice: str = Field(description="The invoice number.")
    installment: int = Field(description="Which installment of the invoice (1-based).")
    installments: int = Field(description="How many installments the invoice has.")
    issue_date: date
    due_date: date
    amount: MoneyText
    open_amount: MoneyText
    currency: str
    days_overdue: int = Field(description="Days past the due date as of the view's date.")


class PaymentOut(_Output):
    reference: str
    received_on: date
    amount: MoneyText
    currency: str
    method: str
    unallocated: MoneyText


class TouchpointOut(_Output):
    occurred_at: Moment
    kind: str
    satisfaction: int | None
    summary: str | None


class Customer360Out(_Output):
    """One account on one page: profile, contacts, open items, balances, recent activity."""

    as_of: date
    customer: CustomerProfile
    balance: Balance
    contacts: list[ContactOut]
    open_invoices: list[OpenInvoiceOut]
    payments: list[PaymentOut]
    touchpoints: list[TouchpointOut]

    @classmethod
    def of(cls, view: Customer360) -> Customer360Out:
        c = view.customer
        return cls(
            as_of=view.as_of,
            customer=CustomerProfile(
                code=c.code,
                name=c.name,
                tier=c.tier,
                industry=c.industry,
                region=c.region,
                status=c.status,
                currency=c.currency,
                payment_terms=c.payment_terms,
                created_on=c.created_on,
                owner=view.owner.username if view.owner else None,
                parent=view.parent.code if view.parent else None,
                referred_by=view.referred_by.code if view.referred_by else None,
            ),
            balance=Balance(open=view.open_balance, overdue=view.overdue_balance),
            contacts=[ContactOut.model_validate(k) for k in view.contacts],
            open_invoices=[
                OpenInvoiceOut(
                    invoice=i.invoice_number,
                    installment=i.sequence,
                    installments=i.installments,
                    issue_date=i.issue_date,
                    due_date=i.due_date,
                    amount=i.amount,
                    open_amount=i.open_amount,
                    currency=i.currency,
                    days_overdue=i.days_overdue,
                )
                for i in view.open_items
            ],
            payments=[
                PaymentOut(
                    reference=p.reference,
                    received_on=p.received_on,
                    amount=p.amount,
                    currency=p.currency,
                    method=p.method,
                    unallocated=p.unallocated_amount,
                )
                for p in view.payments
            ],
            touchpoints=[TouchpointOut.model_validate(t) for t in view.touchpoints],
        )


class ContactRead(_Output):
    id: int
    customer: str = Field(description="The account's code.")
    name: str
    title: str | None
    buying_role: str | None
    email: str | None
    phone: str | None
    language: str

    @classmethod
    def of(cls, contact: Contact, customer_code: str) -> ContactRead:
        return cls(
            id=contact.id,
            customer=customer_code,
            name=contact.name,
            title=contact.title,
            buying_role=contact.buying_role,
            email=contact.email,
            phone=contact.phone,
            language=contact.language,
        )


class ContactPage(_Output):
    items: list[ContactRead]
    total: int
    page: int
    page_size: int


class TouchpointRead(_Output):
    id: int
    reference: str
    customer: str = Field(description="The account's code.")
    kind: str
    occurred_at: Moment
    summary: str | None
    satisfaction: int | None
    contact_id: int | None
    contact: str | None = Field(description="The contact's name.")
    user: str | None = Field(description="Who had it (username).")

    @classmethod
    def of(
        cls, touchpoint: Touchpoint, customer: str, contact: str | None, user: str | None
    ) -> TouchpointRead:
        return cls(
            id=touchpoint.id,
            reference=touchpoint.reference,
            customer=customer,
            kind=touchpoint.kind,
            occurred_at=touchpoint.occurred_at,
            summary=touchpoint.summary,
            satisfaction=touchpoint.satisfaction,
            contact_id=touchpoint.contact_id,
            contact=contact,
            user=user,
        )


class TouchpointPage(_Output):
    items: list[TouchpointRead]
    total: int
    page: int
    page_size: int
