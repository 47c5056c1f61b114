"""The terms-cost arithmetic on worked examples, to the cent: a C-grade customer who pays 12
days late, 6 % cost of capital, 1.5 % expected loss, on a sale of ¥100,000.00."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flywheel.analytics.terms_cost import (
    CreditProfile,
    compare,
    comparison_table,
    equivalent_price,
    terms_cost,
)

C_GRADE = CreditProfile(
    predicted_delay_days=12, cost_of_capital=Decimal("0.06"), expected_loss_rate=Decimal("0.015")
)
AMOUNT = Decimal("100000.00")


def test_thirty_days_for_the_c_grade_customer() -> None:
    # 30 days of terms + 12 of delay = 42 days financed: 100,000 × 6 % × 42/365 = 690.4109…
    cost = terms_cost(AMOUNT, terms_days=30, profile=C_GRADE)

    assert cost.financing_days == 42
    assert cost.financing_cost == Decimal("690.41")
    assert cost.expected_loss == Decimal("1500.00")
    assert cost.total_cost == Decimal("2190.41")
    assert cost.net_value == Decimal("97809.59")
    assert cost.cost_percent == Decimal("2.19")


def test_ninety_days_instead_of_thirty_costs_986_30_i_e_plus_1_02_percent_price() -> None:
    # 90 + 12 = 102 days: 1,676.71 financing. Versus 30 days: 60 days more at 6 % on 100,000 =
    # 986.30. The price that keeps the net value: 100,000 × (365 − 2.52 − 5.475) /
    # (365 − 6.12 − 5.475) = 100,000 × 357.005 / 353.405 = 101,018.661… → 101,018.66.
    row = compare(AMOUNT, base_terms_days=30, other_terms_days=90, profile=C_GRADE)

    assert row.other.financing_days == 102
    assert row.other.financing_cost == Decimal("1676.71")
    assert row.other.total_cost == Decimal("3176.71")
    assert row.other.cost_percent == Decimal("3.18")
    assert row.extra_cost == Decimal("986.30")
    assert row.equivalent_amount == Decimal("101018.66")
    assert row.price_change_percent == Decimal("1.02")
    assert row.equivalent_price is None


def test_a_unit_price_is_translated_the_same_way() -> None:
    # 250.00 × 357.005 / 353.405 = 252.5466… → 252.55
    row = compare(
        AMOUNT, base_terms_days=30, other_terms_days=90, profile=C_GRADE, price=Decimal("250.00")
    )

    assert row.equivalent_price == Decimal("252.55")


def test_the_standard_table_from_thirty_days() -> None:
    # 0 days is prepayment: no credit at all, so 100,000 × 357.005 / 365 = 97,809.589…
    rows = comparison_table(AMOUNT, base_terms_days=30, profile=C_GRADE, price=Decimal("250.00"))

    assert [
        (
            r.terms_days,
            r.other.financing_days,
            r.other.total_cost,
            r.extra_cost,
            r.equivalent_amount,
            r.price_change_percent,
            r.equivalent_price,
        )
        for r in rows
    ] == [
        (0, 0, Decimal("0.00"), Decimal("-2190.41"), Decimal("97809.59"), Decimal("-2.19"), Decimal("244.52")),
        (30, 42, Decimal("2190.41"), Decimal("0.00"), Decimal("100000.00"), Decimal("0.00"), Decimal("250.00")),
        (45, 57, Decimal("2436.99"), Decimal("246.58"), Decimal("100252.73"), Decimal("0.25"), Decimal("250.63")),
        (60, 72, Decimal("2683.56"), Decimal("493.15"), Decimal("100506.75"), Decimal("0.51"), Decimal("251.27")),
        (90, 102, Decimal("3176.71"), Decimal("986.30"), Decimal("101018.66"), Decimal("1.02"), Decimal("252.55")),
        (120, 132, Decimal("3669.86"), Decimal("1479.45"), Decimal("101535.81"), Decimal("1.54"), Decimal("253.84")),
    ]  # fmt: skip


def test_the_proposed_terms_join_the_table_once_in_order() -> None:
    rows = comparison_table(AMOUNT, base_terms_days=75, profile=C_GRADE, terms=(90, 30, 90))

    assert [r.terms_days for r in rows] == [30, 75, 90]


def test_going_shorter_is_the_inverse() -> None:
    # 100,000 × 353.405 / 357.005 = 98,991.61…
    assert equivalent_price(
        AMOUNT, from_terms_days=90, to_terms_days=30, profile=C_GRADE
    ) == Decimal("98991.61")


def test_half_a_cent_rounds_up() -> None:
    # 7.30 × 5 % × 5 / 365 = 0.005 exactly: half up gives 0.01 (banker's rounding would give 0)
    profile = CreditProfile(0, Decimal("0.05"), Decimal("0"))

    cost = terms_cost(Decimal("7.30"), terms_days=5, profile=profile)

    assert cost.financing_cost == Decimal("0.01")
    assert cost.total_cost == Decimal("0.01")


def test_prepayment_costs_nothing_even_from_a_late_payer() -> None:
    late = CreditProfile(40, Decimal("0.06"), Decimal("0.10"))

    cost = terms_cost(Decimal("5000.00"), terms_days=0, profile=late)

    assert (cost.financing_days, cost.financing_cost, cost.expected_loss, cost.total_cost) == (
        0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"),
    )  # fmt: skip


def test_an_early_payer_shortens_the_terms_but_not_below_zero() -> None:
    early = CreditProfile(-10, Decimal("0.06"), Decimal("0.005"))

    assert terms_cost(AMOUNT, terms_days=30, profile=early).financing_days == 20
    assert terms_cost(AMOUNT, terms_days=5, profile=early).financing_days == 0
    # 20 days: 100,000 × 6 % × 20/365 = 328.767… → 328.77, plus 0.5 % = 500.00
    assert terms_cost(AMOUNT, terms_days=30, profile=early).total_cost == Decimal("828.77")


def test_credit_that_costs_the_whole_price_has_no_equivalent() -> None:
    # 365 days at 100 % a year is the whole price, and 10 % more expected loss
    ruinous = CreditProfile(0, Decimal("1"), Decimal("0.10"))

    row = compare(AMOUNT, base_terms_days=30, other_terms_days=365, profile=ruinous)

    assert row.equivalent_amount is None
    assert row.price_change_percent is None
    assert row.other.total_cost == Decimal("110000.00")


@pytest.mark.parametrize(
    ("amount", "terms"),
    [(Decimal("0"), 30), (Decimal("-1.00"), 30), (Decimal("NaN"), 30), (AMOUNT, -1), (AMOUNT, 366)],
)
def test_bad_input_is_refused(amount: Decimal, terms: int) -> None:
    with pytest.raises(ValueError, match="amount must be|terms must be"):
        terms_cost(amount, terms_days=terms, profile=C_GRADE)


def test_a_bad_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="cost of capital"):
        CreditProfile(0, Decimal("1.5"), Decimal("0.01"))
    with pytest.raises(ValueError, match="expected-loss"):
        CreditProfile(0, Decimal("0.06"), Decimal("-0.01"))
