"""The terms-cost service: it prices with the customer's live credit grade and predicted delay
(open-invoice predictions weighted by amount, else last year's payments, else none), flags terms
the policy does not allow for the grade, keeps a rep to his own accounts, refuses bad input, and
gives the 360 its summary."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import InvalidAmount, NotFound, ValidationFailed
from flywheel.keyaccounts import terms
from flywheel.models.credit import PaymentPrediction
from tests.factories import make_payment
from tests.keyaccounts.terms_support import AMOUNT, AS_OF, SETTINGS, TermsWorld, build, grade

SYSTEM = Actor.system("tests")


@pytest.fixture
def world(session: Session) -> TermsWorld:
    return build(session)


def _quote(session: Session, code: str, days: int, **extra: object) -> terms.TermsQuote:
    return terms.quote(
        session, SYSTEM, code=code, amount=AMOUNT, terms_days=days, as_of=AS_OF,
        settings=SETTINGS, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_ninety_days_for_the_c_grade_account_uses_its_live_grade_and_predicted_delay(
    session: Session, world: TermsWorld
) -> None:
    quote = _quote(session, world.graded.code, 90)

    inputs = quote.inputs
    assert (inputs.grade, inputs.graded_on, inputs.priced_as) == ("C", date(2026, 11, 30), "C")
    assert (inputs.predicted_delay_days, inputs.delay_source, inputs.delay_basis) == (
        15, "predictions", 2,
    )  # fmt: skip
    assert (inputs.expected_loss_rate, inputs.max_terms_days) == (Decimal("0.015"), 45)
    # 90 + 15 = 105 days: 100,000 × 6 % × 105/365 = 1,726.027… ; 1.5 % expected loss
    cost = quote.cost
    assert cost.financing_days == 105
    assert (cost.financing_cost, cost.expected_loss, cost.total_cost) == (
        Decimal("1726.03"), Decimal("1500.00"), Decimal("3226.03"),
    )  # fmt: skip
    assert cost.cost_percent == Decimal("3.23")
    assert quote.allowed is False  # a C may have at most 45 days
    # Against its current NET30: 60 days more at 6 % = 986.30; the price that makes up for it
    # is 100,000 × 356.825 / 353.225 = 101,019.18 (+1.02 %).
    versus = quote.versus_current
    assert versus is not None
    assert (versus.base.terms_days, versus.other.terms_days) == (30, 90)
    assert versus.extra_cost == Decimal("986.30")
    assert versus.equivalent_amount == Decimal("101019.18")
    assert versus.price_change_percent == Decimal("1.02")
    assert [(o.comparison.terms_days, o.allowed) for o in quote.options] == [
        (0, True), (30, True), (45, True), (60, False), (90, False), (120, False),
    ]  # fmt: skip


def test_a_new_grade_changes_the_cost_at_once(session: Session, world: TermsWorld) -> None:
    grade(session, world.graded, "D", on=date(2026, 12, 4))
    session.flush()

    quote = _quote(session, world.graded.code, 30)

    assert (quote.inputs.grade, quote.inputs.max_terms_days) == ("D", 30)
    # 45 days: 739.73 financing + 4 % expected loss
    assert quote.cost.total_cost == Decimal("739.73") + Decimal("4000.00")
    assert quote.allowed is True


def test_new_predictions_change_the_delay(session: Session, world: TermsWorld) -> None:
    session.execute(
        PaymentPrediction.__table__.update()  # type: ignore[attr-defined]
        .where(PaymentPrediction.customer_id == world.graded.id)
        .values(days_late=40)
    )

    quote = _quote(session, world.graded.code, 30)

    assert quote.inputs.predicted_delay_days == 40
    assert quote.cost.financing_days == 70


def test_without_predictions_the_delay_is_last_years_payments(
    session: Session, world: TermsWorld
) -> None:
    quote = _quote(session, world.paid_late.code, 60)

    inputs = quote.inputs
    assert (inputs.grade, inputs.predicted_delay_days, inputs.delay_source, inputs.delay_basis) == (
        "B", 25, "history", 2,
    )  # fmt: skip
    # 85 days: 100,000 × 6 % × 85/365 = 1,397.26; B loses 0.5 %
    assert quote.cost.total_cost == Decimal("1897.26")
    assert quote.allowed is True


def test_when_the_predictions_are_gone_the_history_counts(
    session: Session, world: TermsWorld
) -> None:
    session.execute(delete(PaymentPrediction))

    inputs = _quote(session, world.graded.code, 30).inputs

    # its one paid invoice was paid on its due date
    assert (inputs.predicted_delay_days, inputs.delay_source, inputs.delay_basis) == (
        0, "history", 1,
    )  # fmt: skip


def test_an_ungraded_account_is_priced_as_the_middle_grade(
    session: Session, world: TermsWorld
) -> None:
    quote = _quote(session, world.newcomer.code, 30)

    inputs = quote.inputs
    assert (inputs.grade, inputs.priced_as, inputs.max_terms_days) == (None, "C", 45)
    assert (inputs.predicted_delay_days, inputs.delay_source) == (0, "none")
    assert quote.cost.total_cost == Decimal("493.15") + Decimal("1500.00")
    # EOM60 gives 75 days on average; 30 instead saves 45 days at 6 % = 739.73
    assert quote.current_terms_days == 75
    assert quote.versus_current is not None
    assert quote.versus_current.extra_cost == Decimal("-739.73")


def test_a_price_and_chosen_terms(session: Session, world: TermsWorld) -> None:
    quote = _quote(session, world.graded.code, 30, price=Decimal("250.00"), compare=[60])

    assert [o.comparison.terms_days for o in quote.options] == [30, 60]
    # 250 × (365 − 2.7 − 5.475) / (365 − 4.5 − 5.475) = 250 × 356.825 / 355.025 = 251.27
    assert quote.options[1].comparison.equivalent_price == Decimal("251.27")
    assert quote.versus_current is None  # 30 days is its current NET30


def test_a_rep_quotes_his_own_accounts_only(session: Session, world: TermsWorld) -> None:
    mine = terms.quote(
        session, world.rep_actor, code=world.graded.code, amount=AMOUNT, terms_days=30,
        as_of=AS_OF, settings=SETTINGS,
    )  # fmt: skip

    assert mine.customer.id == world.graded.id
    with pytest.raises(NotFound):
        terms.quote(
            session, world.rep_actor, code=world.foreign.code, amount=AMOUNT, terms_days=30,
            as_of=AS_OF, settings=SETTINGS,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"amount": Decimal("0")}, InvalidAmount, "amount"),
        ({"amount": Decimal("-5.00")}, InvalidAmount, "amount"),
        ({"amount": Decimal("10.001")}, InvalidAmount, "amount"),
        ({"amount": Decimal("1000000000000.01")}, InvalidAmount, "amount"),
        ({"price": Decimal("0")}, InvalidAmount, "price"),
        ({"terms_days": 366}, ValidationFailed, "terms_days"),
        ({"terms_days": -1}, ValidationFailed, "terms_days"),
        ({"compare": [30, 400]}, ValidationFailed, "compare"),
        ({"compare": list(range(13))}, ValidationFailed, "compare"),
    ],
)
def test_bad_input_is_a_clear_error(
    session: Session, world: TermsWorld, changes: dict[str, object], error: type, field: str
) -> None:
    values: dict[str, object] = {"amount": AMOUNT, "terms_days": 30} | changes

    with pytest.raises(error) as raised:
        terms.quote(
            session, SYSTEM, code=world.graded.code, as_of=AS_OF, settings=SETTINGS,
            **values,  # type: ignore[arg-type]
        )  # fmt: skip

    assert raised.value.details["field"] == field


def test_an_unknown_code_is_not_found(session: Session, world: TermsWorld) -> None:
    with pytest.raises(NotFound):
        _quote(session, "NO-SUCH", 30)


def test_the_360_summary(session: Session, world: TermsWorld) -> None:
    summary = terms.summary_for_360(session, world.graded.id, as_of=AS_OF, settings=SETTINGS)

    assert summary is not None
    assert {k: summary[k] for k in (
        "grade", "priced_as", "predicted_delay_days", "delay_source", "max_terms_days",
        "current_terms", "current_terms_days", "current_terms_allowed", "typical_order",
    )} == {
        "grade": "C", "priced_as": "C", "predicted_delay_days": 15, "delay_source": "predictions",
        "max_terms_days": 45, "current_terms": "NET30", "current_terms_days": 30,
        "current_terms_allowed": True, "typical_order": Decimal("20000.00"),
    }  # fmt: skip
    # NET30 + 15 days on the median order of 20,000: 147.95 financing + 300.00 expected loss
    assert summary["cost"].total_cost == Decimal("447.95")
    assert summary["link"] == (
        f"/accounts/terms-cost?code={world.graded.code}&amount=20000.00&terms=30"
    )


def test_the_360_summary_of_an_account_without_orders(session: Session, world: TermsWorld) -> None:
    summary = terms.summary_for_360(session, world.newcomer.id, as_of=AS_OF, settings=SETTINGS)

    assert summary is not None
    assert (summary["grade"], summary["typical_order"], summary["cost"]) == (None, None, None)
    assert terms.summary_for_360(session, 10**9, as_of=AS_OF) is None


def test_an_invoice_paid_since_the_prediction_no_longer_counts(
    session: Session, world: TermsWorld
) -> None:
    [big] = [i for i in world.graded_invoices if i.amount == Decimal("30000.00")]
    make_payment(
        session, customer=world.graded, amount="30000.00", received=date(2026, 12, 1), invoice=big
    )

    inputs = _quote(session, world.graded.code, 30).inputs

    # only the 10,000 predicted on time is left
    assert (inputs.predicted_delay_days, inputs.delay_source, inputs.delay_basis) == (
        0, "predictions", 1,
    )  # fmt: skip
