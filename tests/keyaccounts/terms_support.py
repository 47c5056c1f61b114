"""A small world for the terms-cost tests: a C-grade key account of a sales rep with open
invoices the payment model predicts late, an account known only by what it paid last year, a
new ungraded one, and a rival rep's account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import Settings
from flywheel.models.credit import CreditScore, PaymentPrediction
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Tier
from flywheel.models.receivables import Invoice
from flywheel.models.users import User
from tests.factories import make_customer, make_invoice, make_payment, make_user

AS_OF = date(2026, 12, 5)
SETTINGS = Settings(secret_key="flywheel-tests-only-session-key")


@dataclass
class TermsWorld:
    rep: User
    rival: User
    graded: Customer  # C now (A a year ago, E only after AS_OF); 15 days predicted late
    paid_late: Customer  # B; nothing open, paid 25 days late on average last year
    newcomer: Customer  # never graded, never invoiced
    foreign: Customer  # the rival's
    graded_invoices: list[Invoice]

    @property
    def rep_actor(self) -> Actor:
        return Actor.for_user(self.rep)

    @property
    def rival_actor(self) -> Actor:
        return Actor.for_user(self.rival)


def grade(session: Session, customer: Customer, letter: str, *, on: date) -> None:
    session.add(
        CreditScore(
            customer_id=customer.id, as_of=on, score=600, grade=letter, model="expert", factors=[]
        )
    )


def predict(session: Session, invoice: Invoice, *, days_late: int, on: date = AS_OF) -> None:
    [installment] = invoice.installments
    session.add(
        PaymentPrediction(
            installment_id=installment.id,
            customer_id=invoice.customer_id,
            as_of=on,
            predicted_on=installment.due_date,
            days_late=days_late,
            p_late=0.6,
            p_very_late=0.1,
        )
    )


def build(session: Session) -> TermsWorld:
    rep = make_user(session, role=Role.SALES)
    rival = make_user(session, role=Role.SALES)
    graded = make_customer(session, name="东方机电", tier=Tier.KEY, owner=rep)
    paid_late = make_customer(session, name="南山精工", tier=Tier.KEY, owner=rep)
    newcomer = make_customer(session, name="北辰新材", owner=rep, payment_terms="EOM60")
    foreign = make_customer(session, name="西岭化工", owner=rival)

    grade(session, graded, "A", on=date(2025, 12, 1))
    grade(session, graded, "C", on=date(2026, 11, 30))
    grade(session, graded, "E", on=date(2026, 12, 10))  # after AS_OF: not known yet
    # Open: 30,000 predicted 20 days late and 10,000 on time → (600,000 + 0) / 40,000 = 15
    # days (the plain mean would be 10). Typical order: the median of 30,000, 10,000, 20,000.
    big = make_invoice(session, customer=graded, amount="30000.00", issued=date(2026, 11, 1))
    small = make_invoice(session, customer=graded, amount="10000.00", issued=date(2026, 11, 15))
    paid = make_invoice(session, customer=graded, amount="20000.00", issued=date(2026, 6, 1))
    make_payment(
        session, customer=graded, amount="20000.00", received=date(2026, 7, 1), invoice=paid
    )
    predict(session, big, days_late=20)
    predict(session, small, days_late=0)

    grade(session, paid_late, "B", on=date(2026, 11, 30))
    # Paid 10 days late on 1,000 and 30 days late on 3,000: (10,000 + 90,000) / 4,000 = 25.
    first = make_invoice(
        session,
        customer=paid_late,
        amount="1000.00",
        issued=date(2026, 5, 31),
        due=date(2026, 6, 30),
    )
    second = make_invoice(
        session,
        customer=paid_late,
        amount="3000.00",
        issued=date(2026, 8, 1),
        due=date(2026, 8, 31),
    )
    make_payment(
        session, customer=paid_late, amount="1000.00", received=date(2026, 7, 10), invoice=first
    )
    make_payment(
        session, customer=paid_late, amount="3000.00", received=date(2026, 9, 30), invoice=second
    )
    # Paid two years ago, 200 days late: too old to count.
    old = make_invoice(
        session,
        customer=paid_late,
        amount="5000.00",
        issued=date(2024, 1, 1),
        due=date(2024, 1, 31),
    )
    make_payment(
        session, customer=paid_late, amount="5000.00", received=date(2024, 8, 18), invoice=old
    )

    grade(session, foreign, "A", on=date(2026, 11, 30))
    session.flush()
    return TermsWorld(
        rep=rep,
        rival=rival,
        graded=graded,
        paid_late=paid_late,
        newcomer=newcomer,
        foreign=foreign,
        graded_invoices=[big, small, paid],
    )


AMOUNT = Decimal("100000.00")
