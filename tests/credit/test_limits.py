"""Credit limits: recommendations on hand-worked figures, the review queue (approve, edit,
reject, audited), and the credit check on new orders and invoices with its override."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.analytics.credit_limits import (
    LimitPolicy,
    needs_review,
    recommended_limits,
    round_up,
)
from flywheel.auth.actor import Actor
from flywheel.credit import limits, service
from flywheel.errors import Conflict, CreditHold, Forbidden
from flywheel.models.audit import AuditEvent
from flywheel.models.credit import CreditLimit, CreditLimitReview
from flywheel.models.enums import Role
from flywheel.models.sales import Order
from flywheel.receivables import service as receivables
from flywheel.receivables.schemas import InvoiceNew
from flywheel.sales import service as sales
from flywheel.sales.schemas import OrderNew
from tests.factories import make_customer, make_invoice, make_payment, make_user


def test_recommended_limit_on_hand_worked_figures() -> None:
    # 40,000 a month on 30-day terms, grade A: 40,000 × (30/30 + 1) × 1.5 = 120,000.
    # 1,234 a month on 45 days, grade C: 1,234 × 2.5 = 3,085 → rounded up to 4,000.
    # Grade E: 0 whatever it buys.
    got = recommended_limits(
        np.array([40_000.0, 1_234.0, 50_000.0]), np.array([30.0, 45.0, 30.0]), ["A", "C", "E"]
    )
    assert got.tolist() == [120_000.0, 4_000.0, 0.0]


def test_rounding_steps_grow_with_the_limit() -> None:
    values = np.array([0.0, 1.0, 99_001.0, 100_001.0, 1_000_001.0])
    assert round_up(values, LimitPolicy()).tolist() == [
        0.0,
        1_000.0,
        100_000.0,
        110_000.0,
        1_100_000.0,
    ]


def test_a_review_is_needed_for_a_first_limit_or_a_move_over_twenty_percent() -> None:
    recommended = np.array([10_000.0, 0.0, 11_000.0, 13_000.0, 0.0])
    current = np.array([np.nan, np.nan, 10_000.0, 10_000.0, 0.0])
    assert needs_review(recommended, current).tolist() == [True, False, False, True, False]


def customer_with_history(session: Session):
    customer = make_customer(session, created_on=date(2023, 1, 1))
    # 12 invoices of 10,000 in the year, each paid on time: 10,000 a month on NET30.
    for month in range(1, 13):
        issued = date(2025, month, 1)
        invoice = make_invoice(session, customer=customer, amount="10000.00", issued=issued)
        make_payment(
            session,
            customer=customer,
            amount="10000.00",
            received=issued.replace(day=25),
            invoice=invoice,
        )
    return customer


FINANCE = Actor(user_id=None, name="finance tester", role=Role.FINANCE)


def test_the_cycle_proposes_and_finance_approves_with_an_audit_trail(session: Session) -> None:
    customer = customer_with_history(session)
    run = service.score_all(session, as_of=date(2025, 12, 31))
    assert run.limit_reviews_proposed >= 1
    review = session.scalars(
        select(CreditLimitReview).where(CreditLimitReview.customer_id == customer.id)
    ).one()
    assert review.monthly_invoiced == Decimal("10000.00")
    assert review.terms_days == 30
    grade = review.grade
    multiplier = LimitPolicy().multipliers[grade]
    assert review.recommended_limit == Decimal(
        str(round_up(np.array([20_000.0 * multiplier]), LimitPolicy())[0])
    ).quantize(Decimal("0.01"))
    assert review.current_limit is None

    # A second run the same day refreshes the pending review instead of adding one.
    again = service.score_all(session, as_of=date(2025, 12, 31))
    assert again.limit_reviews_proposed == 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(CreditLimitReview)
            .where(CreditLimitReview.customer_id == customer.id)
        )
        == 1
    )

    # Sales may not decide; finance approves an edited figure.
    with pytest.raises(Forbidden):
        limits.decide(
            session,
            actor=Actor(user_id=None, name="rep", role=Role.SALES),
            review_id=review.id,
            approve=True,
            on=date(2026, 1, 2),
        )
    limits.decide(
        session,
        actor=FINANCE,
        review_id=review.id,
        approve=True,
        limit=Decimal("25000"),
        note="agreed with CFO",
        on=date(2026, 1, 2),
    )
    limit = session.get(CreditLimit, customer.id)
    assert limit is not None
    assert limit.amount == Decimal("25000.00")
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "credit.limit_changed", AuditEvent.customer_id == customer.id
        )
    ).one()
    assert event.before is None
    assert event.after["limit"] == "25000.00"
    assert event.after["note"] == "agreed with CFO"
    with pytest.raises(Conflict, match="already approved"):
        limits.decide(
            session, actor=FINANCE, review_id=review.id, approve=False, on=date(2026, 1, 2)
        )


def set_limit(session: Session, customer_id: int, amount: str) -> None:
    session.add(
        CreditLimit(
            customer_id=customer_id,
            amount=Decimal(amount),
            currency="CNY",
            approved_on=date(2026, 1, 1),
        )
    )
    session.flush()


def test_a_later_run_refreshes_the_waiting_review_with_its_own_figures(session: Session) -> None:
    customer = customer_with_history(session)
    service.score_all(session, as_of=date(2025, 12, 31))
    review = session.scalars(
        select(CreditLimitReview).where(CreditLimitReview.customer_id == customer.id)
    ).one()
    # Half a year on, nothing more invoiced: the average month is half what it was.
    later = service.score_all(session, as_of=date(2026, 6, 30))

    assert later.limit_reviews_refreshed == 1
    assert later.limit_reviews_proposed == 0
    session.refresh(review)
    assert review.proposed_on == date(2026, 6, 30)
    assert review.status == "pending"
    assert review.monthly_invoiced < Decimal("10000.00")
    assert review.currency == "CNY"


def test_an_order_over_the_limit_is_held_and_nothing_is_written(session: Session) -> None:
    rep = make_user(session, role=Role.SALES)
    customer = make_customer(session, owner=rep)
    make_invoice(session, customer=customer, amount="8000.00", issued=date(2026, 1, 5))
    set_limit(session, customer.id, "10000")
    rep_actor = Actor.for_user(rep)
    orders_before = session.scalar(select(func.count()).select_from(Order))

    with pytest.raises(CreditHold) as held:
        sales.place_order(
            session,
            actor=rep_actor,
            data=OrderNew(
                number="PO-HOLD",
                customer=customer.code,
                order_date=date(2026, 1, 10),
                amount=Decimal("2500.00"),
            ),
        )
    assert held.value.details["exposure"] == "10500.00"
    assert held.value.details["limit"] == "10000.00"
    assert "ask a credit controller" in held.value.message
    assert session.scalar(select(func.count()).select_from(Order)) == orders_before

    # A sales rep's reason is not enough; within the limit it passes.
    with pytest.raises(CreditHold):
        sales.place_order(
            session,
            actor=rep_actor,
            data=OrderNew(
                number="PO-HOLD",
                customer=customer.code,
                order_date=date(2026, 1, 10),
                amount=Decimal("2500.00"),
                credit_override_reason="urgent",
            ),
        )
    sales.place_order(
        session,
        actor=rep_actor,
        data=OrderNew(
            number="PO-OK",
            customer=customer.code,
            order_date=date(2026, 1, 10),
            amount=Decimal("1500.00"),
        ),
    )
    # The unbilled order now counts: 8,000 open + 1,500 ordered + 600 new > 10,000.
    check = limits.check(session, customer, Decimal("600.00"), as_of=date(2026, 1, 11))
    assert (check.open_receivables, check.unbilled_orders, check.exposure) == (
        Decimal("8000.00"),
        Decimal("1500.00"),
        Decimal("10100.00"),
    )
    assert not check.passes


def test_finance_overrides_an_invoice_with_a_reason_and_it_is_audited(session: Session) -> None:
    customer = make_customer(session)
    set_limit(session, customer.id, "1000")
    data = {
        "number": "INV-OVR",
        "customer": customer.code,
        "issue_date": date(2026, 2, 1),
        "amount": Decimal("5000.00"),
    }
    with pytest.raises(CreditHold, match="give a reason to override"):
        receivables.issue_invoice(session, actor=FINANCE, data=InvoiceNew(**data))
    invoice = receivables.issue_invoice(
        session,
        actor=FINANCE,
        data=InvoiceNew(**data, credit_override_reason="paid by letter of credit"),
    )
    assert invoice.number == "INV-OVR"
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "credit.override", AuditEvent.customer_id == customer.id
        )
    ).one()
    assert event.after["reason"] == "paid by letter of credit"
    assert event.after["document"] == "invoice INV-OVR"
    assert event.after["exposure"] == "5000.00"


def test_grade_e_holds_new_business_without_any_limit(session: Session) -> None:
    customer = make_customer(session, created_on=date(2023, 1, 1))
    make_invoice(
        session, customer=customer, amount="9000.00", issued=date(2025, 1, 1), due=date(2025, 1, 31)
    )
    service.score_all(session, as_of=date(2025, 9, 30))  # 242 days overdue on all it owes
    check = limits.check(session, customer, Decimal("100.00"), as_of=date(2025, 10, 1))
    assert check.grade == "E"
    assert check.reasons == ("credit grade E holds new business",)
