"""The cost of payment terms for one customer: its live credit grade and expected delay, priced.

What a customer's credit costs is read live, on ``as_of``:

* the grade: its newest credit score on or before ``as_of`` (``credit.service.latest_score``,
  the same snapshot the credit pages show; scores older than ``GRADE_MAX_AGE_DAYS`` are stale
  and not used). An ungraded customer is priced as the middle grade of
  ``expected_loss_by_grade`` (C by default): a new account is neither proven good nor bad,
  and the answer says so (``grade`` None, ``priced_as`` C).
* the expected delay past the due date, in whole days (half up):
  1. ``predictions`` — the payment-date model's predicted days late of the customer's open
     installments (``PaymentPrediction``, the latest daily run on or before ``as_of``),
     weighted by each one's open amount (those paid since the prediction ran left out): what
     the customer is expected to do now, on the money actually owed;
  2. ``history`` — when nothing is open (or no model has run): the mean days late of the
     installments it paid in full in the last 365 days, weighted by amount;
  3. ``none`` — neither: 0 days.
  Early payment counts (a negative delay), but the financing days never fall below 0.
* the cost of capital (``cost_of_capital``), the grade's expected loss
  (``expected_loss_by_grade``) and the longest terms the credit policy allows for it
  (``max_terms_by_grade``), from the settings.

The arithmetic is ``analytics.terms_cost``. Reads only: nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from flywheel.analytics.terms_cost import (
    MAX_TERMS_DAYS,
    STANDARD_TERMS,
    CreditProfile,
    TermsComparison,
    TermsCost,
    comparison_table,
    terms_cost,
)
from flywheel.analytics.terms_cost import compare as compare_terms
from flywheel.auth.actor import Actor
from flywheel.config import Settings, get_settings
from flywheel.credit import service as credit
from flywheel.customers import service as customers
from flywheel.errors import InvalidAmount, ValidationFailed
from flywheel.kit.money import CENT
from flywheel.kit.terms import parse_terms
from flywheel.models.credit import PaymentPrediction
from flywheel.models.customers import Customer
from flywheel.models.enums import InvoiceStatus
from flywheel.models.receivables import Installment, Invoice

GRADE_MAX_AGE_DAYS = 400  # the window of latest_score: an older grade says nothing about today
HISTORY_DAYS = 365
TYPICAL_ORDER_DAYS = 365
EOM_EXTRA_DAYS = 15  # month-end terms add, on average, half a month to the stated days
MAX_AMOUNT = Decimal("1000000000000")  # 10^12: beyond any real sale, and a typo guard
MAX_COMPARE = 12
DELAY_SOURCES = ("predictions", "history", "none")


@dataclass(frozen=True, slots=True)
class CreditInputs:
    """What the cost of a customer's credit is computed from, and where each figure came from."""

    grade: str | None  # None: never graded (or not in the last 400 days)
    graded_on: date | None
    priced_as: str  # the grade whose expected loss and max terms apply
    expected_loss_rate: Decimal
    max_terms_days: int | None  # None: the policy has no limit for this grade
    predicted_delay_days: int
    delay_source: str  # one of DELAY_SOURCES
    delay_basis: int  # how many installments the delay was averaged over
    cost_of_capital: Decimal

    @property
    def profile(self) -> CreditProfile:
        return CreditProfile(
            predicted_delay_days=self.predicted_delay_days,
            cost_of_capital=self.cost_of_capital,
            expected_loss_rate=self.expected_loss_rate,
        )

    def allows(self, terms_days: int) -> bool:
        return self.max_terms_days is None or terms_days <= self.max_terms_days


@dataclass(frozen=True, slots=True)
class TermsOption:
    comparison: TermsComparison
    allowed: bool


@dataclass(frozen=True, slots=True)
class TermsQuote:
    customer: Customer
    as_of: date
    inputs: CreditInputs
    cost: TermsCost
    allowed: bool
    price: Decimal | None
    options: list[TermsOption]
    current_terms: str  # the account's payment terms code, e.g. NET30
    current_terms_days: int | None  # its effective days; None when the code is unreadable
    # The proposed terms instead of the current ones, the amount (and price) read as quoted on
    # the current terms: "90 days instead of 30 costs X, i.e. +Y% price". None when equal.
    versus_current: TermsComparison | None

    @property
    def currency(self) -> str:
        return self.customer.currency

    def option_for(self, terms_days: int) -> TermsOption | None:
        return next((o for o in self.options if o.comparison.terms_days == terms_days), None)


def _decimal(value: float) -> Decimal:
    # Settings hold floats; their shortest repr is the figure the admin wrote (0.06, not 0.0599…).
    return Decimal(repr(float(value)))


def _middle_grade(settings: Settings) -> str:
    grades = sorted(settings.expected_loss_by_grade)
    if not grades:
        raise ValidationFailed(
            "expected_loss_by_grade: the settings name no grade", field="expected_loss_by_grade"
        )
    return grades[(len(grades) - 1) // 2]


def effective_terms_days(code: str) -> int | None:
    """The days of credit a terms code gives on average (EOM60: 60 + 15); None if unreadable."""
    try:
        terms = parse_terms(code)
    except ValueError:
        return None
    return terms.days + (EOM_EXTRA_DAYS if terms.kind == "EOM" else 0)


def _weighted_days(rows: Sequence[tuple[int, Decimal]]) -> int:
    """Mean days weighted by amount, in whole days half up (plain mean when no weight)."""
    total = sum((max(w, Decimal(0)) for _, w in rows), Decimal(0))
    if total > 0:
        mean = sum((Decimal(d) * max(w, Decimal(0)) for d, w in rows), Decimal(0)) / total
    else:
        mean = Decimal(sum(d for d, _ in rows)) / len(rows)
    return int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))


_OPEN_AMOUNT = (
    Installment.amount
    - Installment.paid_amount
    - Installment.credited_amount
    - Installment.written_off_amount
)
# Built once, with bound parameters: every account's 360 runs them, and building a statement
# costs more than running it.
_PREDICTED = (
    select(PaymentPrediction.days_late, _OPEN_AMOUNT)
    .join(Installment, Installment.id == PaymentPrediction.installment_id)
    .where(
        PaymentPrediction.customer_id == bindparam("customer_id"),
        PaymentPrediction.as_of <= bindparam("as_of"),
        _OPEN_AMOUNT > 0,  # paid since the prediction ran: no longer owed, no longer late
    )
)
_PAID = (
    select(Installment.due_date, Installment.settled_on, Installment.amount)
    .join(Invoice, Invoice.id == Installment.invoice_id)
    .where(
        Installment.customer_id == bindparam("customer_id"),
        Installment.status == InvoiceStatus.PAID.value,
        Installment.settled_on > bindparam("since"),
        Installment.settled_on <= bindparam("as_of"),
        Invoice.status != InvoiceStatus.CANCELLED.value,
    )
)
_ORDER_AMOUNTS = select(Invoice.amount).where(
    Invoice.customer_id == bindparam("customer_id"),
    Invoice.currency == bindparam("currency"),
    Invoice.status != InvoiceStatus.CANCELLED.value,
    Invoice.issue_date > bindparam("since"),
    Invoice.issue_date <= bindparam("as_of"),
    Invoice.amount > 0,
)


def predicted_delay(session: Session, customer_id: int, *, as_of: date) -> tuple[int, str, int]:
    """(days, source, installments behind it): see the module's docstring."""
    predicted = session.execute(_PREDICTED, {"customer_id": customer_id, "as_of": as_of}).all()
    if predicted:
        rows = [(int(d), Decimal(w)) for d, w in predicted]
        return _weighted_days(rows), "predictions", len(rows)
    paid = session.execute(
        _PAID,
        {
            "customer_id": customer_id,
            "since": as_of - timedelta(days=HISTORY_DAYS),
            "as_of": as_of,
        },
    ).all()
    if paid:
        rows = [
            ((settled - due).days, Decimal(amount))
            for due, settled, amount in paid
            if settled is not None
        ]
        return _weighted_days(rows), "history", len(rows)
    return 0, "none", 0


def credit_inputs(
    session: Session, customer: Customer, *, as_of: date, settings: Settings | None = None
) -> CreditInputs:
    """The customer's live grade and expected delay with the policy figures that go with them."""
    settings = settings or get_settings()
    view = credit.latest_score(session, customer.id, as_of=as_of, days=GRADE_MAX_AGE_DAYS)
    grade = view.grade if view is not None else None
    priced_as = grade if grade in settings.expected_loss_by_grade else _middle_grade(settings)
    days, source, basis = predicted_delay(session, customer.id, as_of=as_of)
    max_terms = settings.max_terms_by_grade.get(priced_as)
    return CreditInputs(
        grade=grade,
        graded_on=view.as_of if view is not None else None,
        priced_as=priced_as,
        expected_loss_rate=_decimal(settings.expected_loss_by_grade[priced_as]),
        max_terms_days=max_terms,
        predicted_delay_days=days,
        delay_source=source,
        delay_basis=basis,
        cost_of_capital=_decimal(settings.cost_of_capital),
    )


def check_amount(value: Decimal, *, field: str = "amount") -> Decimal:
    if not value.is_finite() or value <= 0:
        raise InvalidAmount(f"{field}: must be more than 0", field=field, value=str(value))
    if value > MAX_AMOUNT:
        raise InvalidAmount(f"{field}: must be at most {MAX_AMOUNT}", field=field, value=str(value))
    if value != value.quantize(CENT):
        raise InvalidAmount(f"{field}: at most 2 decimals", field=field, value=str(value))
    return value.quantize(CENT)


def check_terms(value: int, *, field: str = "terms_days") -> int:
    if not 0 <= value <= MAX_TERMS_DAYS:
        raise ValidationFailed(
            f"{field}: payment terms are 0 to {MAX_TERMS_DAYS} days", field=field, value=value
        )
    return value


def quote(
    session: Session,
    actor: Actor,
    *,
    code: str,
    amount: Decimal,
    terms_days: int,
    as_of: date,
    price: Decimal | None = None,
    compare: Iterable[int] = STANDARD_TERMS,
    settings: Settings | None = None,
) -> TermsQuote:
    """The cost of selling ``amount`` on ``terms_days`` to the account ``code`` (out of the
    actor's scope: not found), the same sale on each of the ``compare`` terms (the equivalent
    amount, and unit ``price`` if given, that leaves us the same net value), and whether the
    credit policy allows each terms for the customer's grade."""
    amount = check_amount(amount)
    terms_days = check_terms(terms_days)
    if price is not None:
        price = check_amount(price, field="price")
    others = sorted({check_terms(d, field="compare") for d in compare})
    if len(others) > MAX_COMPARE:
        raise ValidationFailed(
            f"compare: at most {MAX_COMPARE} terms", field="compare", value=len(others)
        )
    customer = customers.get_customer_by_code(session, code.strip(), actor=actor)
    inputs = credit_inputs(session, customer, as_of=as_of, settings=settings)
    profile = inputs.profile
    current = effective_terms_days(customer.payment_terms)
    rows = comparison_table(
        amount, base_terms_days=terms_days, profile=profile, terms=others, price=price
    )
    return TermsQuote(
        customer=customer,
        as_of=as_of,
        inputs=inputs,
        cost=terms_cost(amount, terms_days=terms_days, profile=profile),
        allowed=inputs.allows(terms_days),
        price=price,
        options=[TermsOption(row, inputs.allows(row.terms_days)) for row in rows],
        current_terms=customer.payment_terms,
        current_terms_days=current,
        versus_current=None
        if current is None or current == terms_days or current > MAX_TERMS_DAYS
        else compare_terms(
            amount,
            base_terms_days=current,
            other_terms_days=terms_days,
            profile=profile,
            price=price,
        ),
    )


def typical_order(session: Session, customer: Customer, *, as_of: date) -> Decimal | None:
    """The median amount of the customer's invoices in its currency over the last year."""
    amounts = sorted(
        Decimal(a)
        for a in session.scalars(
            _ORDER_AMOUNTS,
            {
                "customer_id": customer.id,
                "currency": customer.currency,
                "since": as_of - timedelta(days=TYPICAL_ORDER_DAYS),
                "as_of": as_of,
            },
        )
    )
    if not amounts:
        return None
    middle = len(amounts) // 2
    median = amounts[middle] if len(amounts) % 2 else (amounts[middle - 1] + amounts[middle]) / 2
    return median.quantize(CENT, rounding=ROUND_HALF_UP)


def summary_for_360(
    session: Session, customer_id: int, *, as_of: date, settings: Settings | None = None
) -> dict[str, Any] | None:
    """For the 360's key-account panel: the grade, the expected delay, the longest terms the
    policy allows, and what the account's current terms cost on its typical order. None when
    there is no such customer. The caller has already checked the actor may see it."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    inputs = credit_inputs(session, customer, as_of=as_of, settings=settings)
    current_days = effective_terms_days(customer.payment_terms)
    order = typical_order(session, customer, as_of=as_of)
    cost = None
    if order is not None and current_days is not None and current_days <= MAX_TERMS_DAYS:
        cost = terms_cost(order, terms_days=current_days, profile=inputs.profile)
    return {
        "code": customer.code,
        "currency": customer.currency,
        "grade": inputs.grade,
        "graded_on": inputs.graded_on,
        "priced_as": inputs.priced_as,
        "expected_loss_rate": inputs.expected_loss_rate,
        "predicted_delay_days": inputs.predicted_delay_days,
        "delay_source": inputs.delay_source,
        "max_terms_days": inputs.max_terms_days,
        "current_terms": customer.payment_terms,
        "current_terms_days": current_days,
        "current_terms_allowed": None if current_days is None else inputs.allows(current_days),
        "typical_order": order,
        "cost": cost,
        "link": "/accounts/terms-cost?"
        + urlencode(
            {"code": customer.code}
            | ({"amount": str(order), "terms": str(current_days)} if cost is not None else {})
        ),
    }
