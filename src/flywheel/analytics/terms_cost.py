"""The cost of payment terms: financing days, financing cost, expected loss and equivalent prices.

Pure Decimal arithmetic, no session, no clock. For a sale of ``amount`` on ``terms_days``
to a customer expected to pay ``predicted_delay_days`` after the due date:

* financing days ``d = max(0, terms_days + predicted_delay_days)`` — an early payer can
  shorten the terms, never below nothing; 0 days of terms is prepayment (the credit
  policy's 0), where we ship once paid, so ``d = 0`` whatever the customer's delay;
* financing rate ``r × d / 365`` (simple interest, actual/365, ``r`` the yearly cost of
  capital);
* expected-loss rate ``L`` (the grade's share of the amount lost) when credit is given at
  all (``d > 0``); a prepaid sale carries no credit risk;
* cost rate ``c(t) = r × d / 365 + L·[d > 0]``; financing cost, expected loss and total
  cost are ``amount × rate`` each rounded to the cent half up; the total is the sum of the
  two rounded parts, so the breakdown adds up on screen.

The equivalent price on other terms keeps the net value (price less the cost of its
credit) unchanged::

    price_b × (1 − c(b)) = price_a × (1 − c(a))
    price_b = price_a × (1 − c(a)) / (1 − c(b))

computed as ``price × (365 − 365·c(a)) / (365 − 365·c(b))`` — both factors finite decimals,
one division — and rounded once, to the cent half up. When ``c(b) ≥ 1`` the
credit costs the whole price and no price makes up for it (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flywheel.kit.money import CENT

STANDARD_TERMS: tuple[int, ...] = (0, 30, 45, 60, 90, 120)
DAYS_IN_YEAR = Decimal(365)
MAX_TERMS_DAYS = 365
ONE = Decimal(1)
HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def as_percent(rate: Decimal) -> Decimal:
    """A rate (0.0317…) as a percentage to two places, half up (3.18)."""
    return (rate * HUNDRED).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def financing_days(terms_days: int, predicted_delay_days: int) -> int:
    if terms_days == 0:
        return 0  # prepayment: we ship once paid, so the customer's delay costs us nothing
    return max(0, terms_days + predicted_delay_days)


@dataclass(frozen=True, slots=True)
class CreditProfile:
    """What a customer's credit costs: its expected delay, our cost of capital, its grade's
    expected loss."""

    predicted_delay_days: int
    cost_of_capital: Decimal  # a year, e.g. 0.06
    expected_loss_rate: Decimal  # share of the amount, e.g. 0.015

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.cost_of_capital <= ONE:
            raise ValueError(
                f"the cost of capital must be 0 to 1 a year, not {self.cost_of_capital}"
            )
        if not Decimal(0) <= self.expected_loss_rate <= ONE:
            raise ValueError(
                f"the expected-loss rate must be 0 to 1, not {self.expected_loss_rate}"
            )

    def cost_days(self, terms_days: int) -> Decimal:
        """``365 × c(t)``: a finite decimal, so the arithmetic below divides once, at the end,
        and a result that should be exact (an amount ending in half a cent) is."""
        days = financing_days(terms_days, self.predicted_delay_days)
        if days == 0:
            return Decimal(0)
        return self.cost_of_capital * days + DAYS_IN_YEAR * self.expected_loss_rate

    def cost_rate(self, terms_days: int) -> Decimal:
        """``c(t)``: the share of the price the credit of ``terms_days`` costs."""
        return self.cost_days(terms_days) / DAYS_IN_YEAR


@dataclass(frozen=True, slots=True)
class TermsCost:
    amount: Decimal
    terms_days: int
    predicted_delay_days: int
    financing_days: int
    financing_rate: Decimal  # r × d / 365
    expected_loss_rate: Decimal  # as applied: 0 when no credit is given
    cost_rate: Decimal  # financing_rate + expected_loss_rate
    financing_cost: Decimal  # cents
    expected_loss: Decimal  # cents
    total_cost: Decimal  # financing_cost + expected_loss
    net_value: Decimal  # amount − total_cost

    @property
    def cost_percent(self) -> Decimal:
        return as_percent(self.cost_rate)


def _check(amount: Decimal, terms_days: int) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be a positive Decimal, not {amount!r}")
    if isinstance(terms_days, bool) or not 0 <= terms_days <= MAX_TERMS_DAYS:
        raise ValueError(f"terms must be 0 to {MAX_TERMS_DAYS} days, not {terms_days}")


def terms_cost(amount: Decimal, *, terms_days: int, profile: CreditProfile) -> TermsCost:
    """What the credit of a sale of ``amount`` on ``terms_days`` costs."""
    _check(amount, terms_days)
    days = financing_days(terms_days, profile.predicted_delay_days)
    financing_rate = profile.cost_of_capital * days / DAYS_IN_YEAR
    loss_rate = profile.expected_loss_rate if days > 0 else Decimal(0)
    financing_cost = _cents(amount * profile.cost_of_capital * days / DAYS_IN_YEAR)
    expected_loss = _cents(amount * loss_rate)
    total = financing_cost + expected_loss
    return TermsCost(
        amount=amount,
        terms_days=terms_days,
        predicted_delay_days=profile.predicted_delay_days,
        financing_days=days,
        financing_rate=financing_rate,
        expected_loss_rate=loss_rate,
        cost_rate=financing_rate + loss_rate,
        financing_cost=financing_cost,
        expected_loss=expected_loss,
        total_cost=total,
        net_value=amount - total,
    )


def equivalent_price(
    price: Decimal, *, from_terms_days: int, to_terms_days: int, profile: CreditProfile
) -> Decimal | None:
    """The price on ``to_terms_days`` worth as much, net of the credit's cost, as ``price`` on
    ``from_terms_days``; None when the credit of either costs the whole price."""
    _check(price, from_terms_days)
    _check(price, to_terms_days)
    kept = DAYS_IN_YEAR - profile.cost_days(from_terms_days)
    left = DAYS_IN_YEAR - profile.cost_days(to_terms_days)
    if left <= 0 or kept <= 0:
        return None
    return _cents(price * kept / left)


@dataclass(frozen=True, slots=True)
class TermsComparison:
    """``other`` terms set against the ``base`` (proposed) ones, on the same amount."""

    base: TermsCost
    other: TermsCost
    extra_cost: Decimal  # other.total_cost − base.total_cost, on the same amount
    equivalent_amount: Decimal | None  # the amount on ``other`` terms worth the base amount
    price_change_rate: Decimal | None  # (1 − c(base)) / (1 − c(other)) − 1
    equivalent_price: Decimal | None  # the same for a unit price, when one was given

    @property
    def terms_days(self) -> int:
        return self.other.terms_days

    @property
    def price_change_percent(self) -> Decimal | None:
        return None if self.price_change_rate is None else as_percent(self.price_change_rate)


def compare(
    amount: Decimal,
    *,
    base_terms_days: int,
    other_terms_days: int,
    profile: CreditProfile,
    price: Decimal | None = None,
) -> TermsComparison:
    """``other_terms_days`` instead of ``base_terms_days`` for this customer: what it costs more
    (or less) on ``amount``, and the amount (and unit ``price``) that would make up for it."""
    base = terms_cost(amount, terms_days=base_terms_days, profile=profile)
    other = terms_cost(amount, terms_days=other_terms_days, profile=profile)
    kept = DAYS_IN_YEAR - profile.cost_days(base_terms_days)
    left = DAYS_IN_YEAR - profile.cost_days(other_terms_days)
    change = (kept - left) / left if left > 0 and kept > 0 else None

    def equivalent(value: Decimal) -> Decimal | None:
        return equivalent_price(
            value, from_terms_days=base_terms_days, to_terms_days=other_terms_days, profile=profile
        )

    return TermsComparison(
        base=base,
        other=other,
        extra_cost=other.total_cost - base.total_cost,
        equivalent_amount=equivalent(amount),
        price_change_rate=change,
        equivalent_price=None if price is None else equivalent(price),
    )


def comparison_table(
    amount: Decimal,
    *,
    base_terms_days: int,
    profile: CreditProfile,
    terms: Iterable[int] = STANDARD_TERMS,
    price: Decimal | None = None,
) -> list[TermsComparison]:
    """One row per terms in ``terms`` and the base terms, shortest first, each once."""
    return [
        compare(
            amount,
            base_terms_days=base_terms_days,
            other_terms_days=days,
            profile=profile,
            price=price,
        )
        for days in sorted({*terms, base_terms_days})
    ]
