"""The shapes of a terms-cost answer: the customer's credit inputs, the cost, the other terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from flywheel.analytics.terms_cost import TermsComparison
from flywheel.keyaccounts.terms import CreditInputs, TermsOption, TermsQuote
from flywheel.kit.shapes import MoneyText, OutputModel


class CreditInputsOut(OutputModel):
    grade: str | None = Field(description="The live credit grade; null: never graded.")
    graded_on: date | None
    priced_as: str = Field(description="The grade whose expected loss and max terms apply.")
    expected_loss_rate: Decimal = Field(description="Share of the amount, e.g. 0.015.")
    max_terms_days: int | None = Field(description="The longest terms the policy allows.")
    predicted_delay_days: int = Field(description="Expected days paid past the due date.")
    delay_source: str = Field(description="predictions, history or none.")
    delay_basis: int = Field(description="Installments the delay was averaged over.")
    cost_of_capital: Decimal = Field(description="A year, e.g. 0.06.")

    @classmethod
    def of(cls, inputs: CreditInputs) -> CreditInputsOut:
        return cls(
            grade=inputs.grade,
            graded_on=inputs.graded_on,
            priced_as=inputs.priced_as,
            expected_loss_rate=inputs.expected_loss_rate,
            max_terms_days=inputs.max_terms_days,
            predicted_delay_days=inputs.predicted_delay_days,
            delay_source=inputs.delay_source,
            delay_basis=inputs.delay_basis,
            cost_of_capital=inputs.cost_of_capital,
        )


class TermsCostOut(OutputModel):
    amount: MoneyText
    terms_days: int
    financing_days: int = Field(description="Terms plus the predicted delay, at least 0.")
    financing_cost: MoneyText
    expected_loss: MoneyText
    total_cost: MoneyText
    net_value: MoneyText = Field(description="The amount less the total cost.")
    cost_percent: Decimal = Field(description="Total cost as % of the amount, 2 places.")
    allowed: bool = Field(description="Whether the credit policy allows these terms.")


class TermsOptionOut(OutputModel):
    terms_days: int
    financing_days: int
    total_cost: MoneyText = Field(description="On the same amount.")
    cost_percent: Decimal
    extra_cost: MoneyText = Field(description="Versus the proposed terms, on the same amount.")
    equivalent_amount: MoneyText | None = Field(
        description="The amount on these terms that leaves the same net value."
    )
    price_change_percent: Decimal | None = Field(description="The price change that makes up.")
    equivalent_price: MoneyText | None = Field(description="The same for the unit price given.")
    allowed: bool

    @classmethod
    def of(cls, option: TermsOption) -> TermsOptionOut:
        row = option.comparison
        return cls(
            terms_days=row.terms_days,
            financing_days=row.other.financing_days,
            total_cost=row.other.total_cost,
            cost_percent=row.other.cost_percent,
            extra_cost=row.extra_cost,
            equivalent_amount=row.equivalent_amount,
            price_change_percent=row.price_change_percent,
            equivalent_price=row.equivalent_price,
            allowed=option.allowed,
        )


class VersusCurrentOut(OutputModel):
    """The proposed terms instead of the account's current ones, the amount read as quoted on
    the current terms: "90 days instead of 30 costs X more, i.e. +Y% price"."""

    current_terms_days: int
    proposed_terms_days: int
    extra_cost: MoneyText
    price_change_percent: Decimal | None
    equivalent_amount: MoneyText | None
    equivalent_price: MoneyText | None

    @classmethod
    def of(cls, row: TermsComparison) -> VersusCurrentOut:
        return cls(
            current_terms_days=row.base.terms_days,
            proposed_terms_days=row.other.terms_days,
            extra_cost=row.extra_cost,
            price_change_percent=row.price_change_percent,
            equivalent_amount=row.equivalent_amount,
            equivalent_price=row.equivalent_price,
        )


class TermsQuoteOut(OutputModel):
    code: str
    name: str
    currency: str
    as_of: date
    current_terms: str = Field(description="The account's payment terms, e.g. NET30.")
    current_terms_days: int | None
    credit: CreditInputsOut
    cost: TermsCostOut
    price: MoneyText | None = Field(description="The unit price given, if any.")
    options: list[TermsOptionOut]
    versus_current: VersusCurrentOut | None = Field(
        description="The proposed terms against the current ones; null when they are equal."
    )

    @classmethod
    def of(cls, quote: TermsQuote) -> TermsQuoteOut:
        cost = quote.cost
        return cls(
            code=quote.customer.code,
            name=quote.customer.name,
            currency=quote.currency,
            as_of=quote.as_of,
            current_terms=quote.current_terms,
            current_terms_days=quote.current_terms_days,
            credit=CreditInputsOut.of(quote.inputs),
            cost=TermsCostOut(
                amount=cost.amount,
                terms_days=cost.terms_days,
                financing_days=cost.financing_days,
                financing_cost=cost.financing_cost,
                expected_loss=cost.expected_loss,
                total_cost=cost.total_cost,
                net_value=cost.net_value,
                cost_percent=cost.cost_percent,
                allowed=quote.allowed,
            ),
            price=quote.price,
            options=[TermsOptionOut.of(o) for o in quote.options],
            versus_current=None
            if quote.versus_current is None
            else VersusCurrentOut.of(quote.versus_current),
        )
