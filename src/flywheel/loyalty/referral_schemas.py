"""What crosses the API about referrals: a new referral, a change of status or details, a reward
decision, a reward rule; and the answers (a referral with its names and revenue, pages, KPIs)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.kit.shapes import (
    ChangesModel,
    InputModel,
    MoneyText,
    NonNegativeAmount,
    OutputModel,
    PositiveAmount,
)
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import ReferralStatus, RewardKind
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import CreditNote
from flywheel.models.users import User

Code = Annotated[str, Field(min_length=1, max_length=64, description="An account's code.")]
Company = Annotated[str, Field(max_length=200)]
Person = Annotated[str, Field(max_length=120)]
Email = Annotated[str, Field(max_length=254)]
Phone = Annotated[str, Field(max_length=40)]
Note = Annotated[str, Field(max_length=4000)]
ContactId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Percent = Annotated[
    Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2, description="1 … 100.")
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO code, e.g. CNY.")]


class Source(StrEnum):
    MANUAL = "manual"
    SURVEY = "survey"
    IMPORT = "import"
    DEMO = "demo"


# ---------------------------------------------------------------- input


class ReferralNew(InputModel):
    customer: Code = Field(description="The referrer's account code.")
    referrer_contact_id: ContactId | None = Field(
        default=None, description="The referrer's contact who made the introduction."
    )
    referred_customer: Code | None = Field(
        default=None, description="The code of an existing account, when the lead is one."
    )
    lead_company: Company | None = None
    lead_contact: Person | None = None
    lead_email: Email | None = None
    lead_phone: Phone | None = None
    referred_on: date | None = Field(default=None, description="Default: today.")
    source: Source = Source.MANUAL
    notes: Note | None = None


class ReferralPatch(ChangesModel):
    """A status change (``status`` with ``won_on``/``referred_customer`` for won, or
    ``lost_reason`` for lost) and/or new lead details."""

    required: ClassVar[frozenset[str]] = frozenset({"status"})

    status: ReferralStatus | None = None
    won_on: date | None = Field(default=None, description="When won; default: today.")
    referred_customer: Code | None = Field(
        default=None, description="For won: the account the lead became (its code)."
    )
    lost_reason: Note | None = None
    lead_company: Company | None = None
    lead_contact: Person | None = None
    lead_email: Email | None = None
    lead_phone: Phone | None = None
    notes: Note | None = None


class RewardDecision(InputModel):
    decision: Literal["grant", "decline"]
    reason: Note | None = Field(default=None, description="Needed to decline.")
    invoice: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="Credit note: the referrer's invoice to credit (default: its oldest open "
        "invoice that can take it).",
    )
    on: date | None = Field(default=None, description="The credit note's date; default: today.")


class RuleNew(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    kind: RewardKind
    amount: PositiveAmount | None = Field(default=None, description="Credit note: the amount.")
    percent: Percent | None = Field(default=None, description="Discount: percent off.")
    currency: Currency = "CNY"
    min_first_order: NonNegativeAmount | None = Field(
        default=None,
        description="The referred account's orders must reach this before the reward is earned.",
    )
    active: bool = True


class RulePatch(ChangesModel):
    required: ClassVar[frozenset[str]] = frozenset({"name", "kind", "currency", "active"})

    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    kind: RewardKind | None = None
    amount: PositiveAmount | None = None
    percent: Percent | None = None
    currency: Currency | None = None
    min_first_order: NonNegativeAmount | None = None
    active: bool | None = None


# ---------------------------------------------------------------- answers


class RuleOut(OutputModel):
    id: int
    name: str
    kind: str
    amount: MoneyText | None
    percent: Decimal | None
    currency: str
    min_first_order: MoneyText | None
    active: bool

    @classmethod
    def of(cls, rule: ReferralRewardRule) -> RuleOut:
        return cls.model_validate(rule)


class RuleList(OutputModel):
    items: list[RuleOut]


class ReferralOut(OutputModel):
    id: int
    customer: str = Field(description="The referrer's account code.")
    customer_name: str
    referrer_contact: str | None
    referred_customer: str | None = Field(description="The referred account's code.")
    referred_customer_name: str | None
    lead_company: str | None
    lead_contact: str | None
    lead_email: str | None
    lead_phone: str | None
    status: str
    source: str
    referred_on: date
    won_on: date | None
    lost_reason: str | None
    notes: str | None
    reward_rule_id: int | None
    reward_status: str
    reward_amount: MoneyText | None
    reward_currency: str | None
    reward_credit_note: str | None = Field(description="The credit note's number.")
    reward_granted_on: date | None
    created_by: str | None


class ReferralDetailOut(ReferralOut):
    revenue_attributed: dict[str, str] = Field(description="Per currency, in its window.")
    allowed_statuses: list[str] = Field(description="Where the status may go from here.")


class ReferralPage(OutputModel):
    items: list[ReferralOut]
    total: int
    page: int
    page_size: int


class ReferralKpis(OutputModel):
    start: str
    end: str
    as_of: str
    made: int = Field(description="Referrals made in the period.")
    won: int = Field(description="Referrals won in the period.")
    made_won: int = Field(description="Of those made in the period, won by as_of.")
    made_lost: int
    conversion_rate: float | None = Field(description="made_won / made, 0 … 1.")
    revenue_attributed: dict[str, str]
    rewards_granted: int
    rewards_granted_amount: dict[str, str] = Field(description="Per currency.")
    active_customers: int = Field(description="Bought in the 12 months up to as_of.")
    active_referring: int
    referral_rate: float | None = Field(description="active_referring / active_customers.")
    new_customers: int
    new_referred: int
    referred_new_share: float | None


def referral_outs(
    session: Session, rows: Sequence[tuple[Referral, Customer, Customer | None]]
) -> list[ReferralOut]:
    """The answers for rows of ``referrals.referrals_query``, with two look-ups for the names."""
    contact_ids = {r.referrer_contact_id for r, _c, _d in rows if r.referrer_contact_id}
    contacts = _names(session, Contact, contact_ids)
    note_ids = {r.reward_credit_note_id for r, _c, _d in rows if r.reward_credit_note_id}
    notes = (
        dict(
            session.execute(
                select(CreditNote.id, CreditNote.number).where(CreditNote.id.in_(note_ids))
            ).all()
        )
        if note_ids
        else {}
    )
    user_ids = {r.created_by_id for r, _c, _d in rows if r.created_by_id}
    users = (
        dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    return [
        ReferralOut(
            id=r.id,
            customer=referrer.code,
            customer_name=referrer.name,
            referrer_contact=contacts.get(r.referrer_contact_id or 0),
            referred_customer=referred.code if referred else None,
            referred_customer_name=referred.name if referred else None,
            lead_company=r.lead_company,
            lead_contact=r.lead_contact,
            lead_email=r.lead_email,
            lead_phone=r.lead_phone,
            status=r.status,
            source=r.source,
            referred_on=r.referred_on,
            won_on=r.won_on,
            lost_reason=r.lost_reason,
            notes=r.notes,
            reward_rule_id=r.reward_rule_id,
            reward_status=r.reward_status,
            reward_amount=r.reward_amount,
            reward_currency=r.reward_currency,
            reward_credit_note=notes.get(r.reward_credit_note_id or 0),
            reward_granted_on=r.reward_granted_on,
            created_by=users.get(r.created_by_id or 0),
        )
        for r, referrer, referred in rows
    ]


def _names(session: Session, model: type[Contact], ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {
        int(i): str(n)
        for i, n in session.execute(select(model.id, model.name).where(model.id.in_(wanted)))
    }
