"""The ledger read in columns: open amounts as they stood on a past day, scope and currency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.models.enums import Role
from flywheel.receivables import service as receivables
from flywheel.receivables.ledger_columns import read_ledger, to_day
from tests.factories import (
    TESTER,
    make_credit_note,
    make_customer,
    make_invoice,
    make_payment,
    make_user,
)


@pytest.fixture(params=["open items", "history"])
def open_by_invoice(request: pytest.FixtureRequest) -> Callable[..., dict[int, int]]:
    """Cents open on as_of per invoice id: from a read of what is open on as_of (the joined
    read), or from a read of the history since a year before (the scans joined in memory)."""

    def read(session: Session, *, as_of: date, **kwargs: object) -> dict[int, int]:
        if request.param == "history":
            kwargs["since"] = as_of - timedelta(days=365)
        return _open_by_invoice(session, as_of=as_of, **kwargs)

    return read


def _open_by_invoice(session: Session, **kwargs: object) -> dict[int, int]:
    ledger = read_ledger(session, **kwargs)  # type: ignore[arg-type]
    opened = ledger.open_on(ledger.as_of)
    result: dict[int, int] = {}
    for invoice_id, cents in zip(ledger.installments.invoice_id, opened, strict=True):
        if cents:
            result[int(invoice_id)] = result.get(int(invoice_id), 0) + int(cents)
    return result


def test_payments_after_as_of_do_not_count(
    session: Session, open_by_invoice: Callable[..., dict[int, int]]
) -> None:
    # Given 1,000.00 due Feb 1, paid 400.00 on Feb 15 and 600.00 on Mar 10
    customer = make_customer(session)
    invoice = make_invoice(
        session, customer=customer, amount="1000.00", issued=date(2026, 1, 1), due=date(2026, 2, 1)
    )
    make_payment(session, customer=customer, amount="400.00", received=date(2026, 2, 15))
    make_payment(session, customer=customer, amount="600.00", received=date(2026, 3, 10))

    # Then each as-of date sees only the money received by then
    assert open_by_invoice(session, as_of=date(2026, 1, 31)) == {invoice.id: 100000}
    assert open_by_invoice(session, as_of=date(2026, 2, 15)) == {invoice.id: 60000}
    assert open_by_invoice(session, as_of=date(2026, 3, 9)) == {invoice.id: 60000}
    assert open_by_invoice(session, as_of=date(2026, 3, 10)) == {}
    # and before it was issued the invoice does not exist yet
    assert open_by_invoice(session, as_of=date(2025, 12, 31)) == {}


def test_credit_notes_count_from_their_date_and_write_offs_from_theirs(
    session: Session, open_by_invoice: Callable[..., dict[int, int]]
) -> None:
    customer = make_customer(session)
    credited = make_invoice(
        session, customer=customer, amount="500.00", issued=date(2026, 1, 1), due=date(2026, 1, 31)
    )
    make_credit_note(session, invoice=credited, amount="200.00", issued=date(2026, 2, 10))
    lost = make_invoice(
        session, customer=customer, amount="300.00", issued=date(2026, 1, 5), due=date(2026, 2, 5)
    )
    receivables.write_off_invoice(
        session, actor=TESTER, invoice_id=lost.id, on=date(2026, 6, 30), reason="破产"
    )

    assert open_by_invoice(session, as_of=date(2026, 2, 9)) == {credited.id: 50000, lost.id: 30000}
    assert open_by_invoice(session, as_of=date(2026, 2, 10)) == {credited.id: 30000, lost.id: 30000}
    assert open_by_invoice(session, as_of=date(2026, 6, 30)) == {credited.id: 30000}


def test_cancelled_invoices_never_existed(
    session: Session, open_by_invoice: Callable[..., dict[int, int]]
) -> None:
    customer = make_customer(session)
    kept = make_invoice(session, customer=customer, amount="100.00", issued=date(2026, 1, 1))
    wrong = make_invoice(session, customer=customer, amount="900.00", issued=date(2026, 1, 1))
    receivables.cancel_invoice(session, actor=TESTER, invoice_id=wrong.id, reason="开错了")

    assert open_by_invoice(session, as_of=date(2026, 3, 1)) == {kept.id: 10000}


def test_a_late_entered_payment_with_an_earlier_date_reopens_the_window(
    session: Session, open_by_invoice: Callable[..., dict[int, int]]
) -> None:
    # Given 400.00 received Mar 1, then a payment of 600.00 dated Feb 1 entered afterwards:
    # the installment was settled "on Feb 1", but on Feb 15 only the 600.00 had arrived.
    customer = make_customer(session)
    invoice = make_invoice(
        session, customer=customer, amount="1000.00", issued=date(2026, 1, 1), due=date(2026, 1, 31)
    )
    make_payment(session, customer=customer, amount="400.00", received=date(2026, 3, 1))
    make_payment(session, customer=customer, amount="600.00", received=date(2026, 2, 1))

    assert open_by_invoice(session, as_of=date(2026, 2, 15)) == {invoice.id: 40000}
    assert open_by_invoice(session, as_of=date(2026, 3, 1)) == {}


@pytest.mark.parametrize("since", [None, date(2025, 1, 1)])
def test_a_sales_rep_reads_only_his_book_and_one_currency_is_read_at_a_time(
    session: Session, since: date | None
) -> None:
    rep = make_user(session, role=Role.SALES)
    mine = make_customer(session, owner=rep)
    theirs = make_customer(session)
    dollars = make_customer(session, owner=rep, currency="USD")
    own = make_invoice(session, customer=mine, amount="10.00")
    make_invoice(session, customer=theirs, amount="20.00")
    usd = make_invoice(session, customer=dollars, amount="30.00")
    actor = Actor.for_user(rep)

    scoped = read_ledger(
        session, as_of=date(2026, 6, 1), since=since, customers=visible_customers(actor)
    )
    cny = read_ledger(
        session,
        as_of=date(2026, 6, 1),
        since=since,
        currency="CNY",
        customers=visible_customers(actor),
    )

    assert sorted(scoped.installments.invoice_id.tolist()) == sorted([own.id, usd.id])
    assert sorted(scoped.customers.id.tolist()) == sorted([mine.id, dollars.id])
    assert cny.installments.invoice_id.tolist() == [own.id]
    # each installment points at its customer's row
    row = int(cny.installments.customer[0])
    assert cny.customers.id[row] == mine.id


def test_a_read_since_a_day_gives_open_amounts_on_every_day_after_it(session: Session) -> None:
    customer = make_customer(session)
    early = make_invoice(
        session, customer=customer, amount="100.00", issued=date(2025, 10, 1), due=date(2025, 11, 1)
    )
    make_payment(session, customer=customer, amount="100.00", received=date(2025, 11, 20))
    later = make_invoice(
        session, customer=customer, amount="200.00", issued=date(2026, 2, 1), due=date(2026, 3, 3)
    )
    make_payment(session, customer=customer, amount="50.00", received=date(2026, 3, 20))

    ledger = read_ledger(session, as_of=date(2026, 4, 30), since=date(2026, 1, 1))

    # The invoice paid in full before `since` is not needed; the later one is, from its issue.
    assert ledger.installments.invoice_id.tolist() == [later.id]
    assert early.id not in ledger.installments.invoice_id.tolist()
    assert ledger.open_on(date(2026, 1, 31)).tolist() == [0]
    assert ledger.open_on(date(2026, 3, 19)).tolist() == [20000]
    assert ledger.open_on(date(2026, 3, 20)).tolist() == [15000]
    # each on its own day: due + 90 = Jun 1, after as_of, counts as as_of
    plus_90 = ledger.installments.due_day + np.timedelta64(90, "D")
    assert ledger.open_on_each(plus_90).tolist() == [15000]
    assert ledger.allocations.applied_day.tolist() == [to_day(date(2026, 3, 20))]
    assert ledger.allocations.from_payment.tolist() == [True]
    with pytest.raises(ValueError, match="from 2026-01-01 to 2026-04-30"):
        ledger.open_on(date(2025, 12, 31))
