"""The ledger read in columns: open amounts as they stood on a past day, scope and currency."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.db import make_engine, upgrade_database
from flywheel.models.enums import Role
from flywheel.models.receivables import Invoice
from flywheel.receivables import service as receivables
from flywheel.receivables.ledger_columns import cut_ledger, read_ledger, to_day
from tests.conftest import PG_ENV, reset_postgres, worker_database
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


def paid_before_and_partly_after(session: Session) -> tuple[Invoice, Invoice]:
    """100.00 issued Oct 1 2025 and paid in full Nov 20; 200.00 issued Feb 1 2026, due Mar 3,
    of which 50.00 was paid Mar 20."""
    customer = make_customer(session, created_on=date(2023, 1, 1))
    early = make_invoice(
        session, customer=customer, amount="100.00", issued=date(2025, 10, 1), due=date(2025, 11, 1)
    )
    make_payment(session, customer=customer, amount="100.00", received=date(2025, 11, 20))
    later = make_invoice(
        session, customer=customer, amount="200.00", issued=date(2026, 2, 1), due=date(2026, 3, 3)
    )
    make_payment(session, customer=customer, amount="50.00", received=date(2026, 3, 20))
    return early, later


def test_a_read_since_a_day_gives_open_amounts_on_every_day_after_it(session: Session) -> None:
    early, later = paid_before_and_partly_after(session)

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


def test_a_read_with_history_reaches_back_for_installments_but_not_allocations(
    session: Session,
) -> None:
    early, later = paid_before_and_partly_after(session)

    ledger = read_ledger(
        session, as_of=date(2026, 4, 30), since=date(2026, 1, 1), history_since=date(2025, 1, 1)
    )

    # The invoice paid before `since` is there for its history (issued, due, settled) ...
    assert ledger.installments.invoice_id.tolist() == [early.id, later.id]
    assert ledger.installments.settled_day.tolist()[0] == date(2025, 11, 20)
    assert ledger.reaches_back() == date(2025, 1, 1)
    # ... while the money applied before `since` is not read: open amounts start at `since`
    assert ledger.allocations.applied_day.tolist() == [to_day(date(2026, 3, 20))]
    assert ledger.open_on(date(2026, 3, 20)).tolist() == [0, 15000]
    with pytest.raises(ValueError, match="from 2026-01-01"):
        ledger.open_on(date(2025, 12, 31))
    # and cutting it to `since` gives what a read without the history gives
    cut = cut_ledger(ledger, as_of=date(2026, 4, 30), since=date(2026, 1, 1))
    assert cut.installments.invoice_id.tolist() == [later.id]
    with pytest.raises(ValueError, match="needs a since on or after it"):
        read_ledger(
            session, as_of=date(2026, 4, 30), since=date(2026, 1, 1), history_since=date(2026, 2, 1)
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of the test's own whose rows are really committed, so that a second
    connection (the read's own) can see them."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    else:
        url = os.environ.get(PG_ENV)
        if not url:
            pytest.skip(f"PostgreSQL only when {PG_ENV} is set")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        engine = make_engine(worker_database(url, f"{worker}_ledger"))
        reset_postgres(engine)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def test_a_read_through_its_own_connection_gives_the_same_columns(scratch: Engine) -> None:
    with Session(scratch) as session:
        rep = make_user(session, role=Role.SALES)
        invoices = []
        for n, owner in enumerate([rep, None, rep]):
            customer = make_customer(
                session,
                owner=owner,
                currency="USD" if n == 2 else "CNY",
                created_on=date(2023, 1, 1),
            )
            for month in range(1, 13):
                invoice = make_invoice(
                    session,
                    customer=customer,
                    amount=f"{100 * month + n}.25",
                    issued=date(2025, month, 3),
                    due=date(2025, month, 28) + timedelta(days=30),
                )
                invoices.append(invoice.id)
            make_payment(session, customer=customer, amount="3000.00", received=date(2025, 9, 1))
            make_payment(session, customer=customer, amount="700.50", received=date(2026, 2, 1))
        receivables.write_off_invoice(
            session, actor=TESTER, invoice_id=invoices[11], on=date(2025, 12, 31), reason="坏账"
        )
        session.commit()
        actor = Actor.for_user(rep)

        for kwargs in [
            {"as_of": date(2026, 3, 1)},
            {"as_of": date(2026, 3, 1), "since": date(2025, 6, 1)},
            {
                "as_of": date(2026, 3, 1),
                "since": date(2025, 10, 1),
                "history_since": date(2024, 1, 1),
            },
            {"as_of": date(2025, 11, 30), "since": date(2025, 6, 1), "currency": "CNY"},
            {
                "as_of": date(2026, 3, 1),
                "since": date(2025, 6, 1),
                "customers": visible_customers(actor),
            },
        ]:
            own = read_ledger(session, committed=True, **kwargs)  # type: ignore[arg-type]
            shared = read_ledger(session, **kwargs)  # type: ignore[arg-type]
            assert len(own.installments) > 0, kwargs
            for part in ("installments", "allocations"):
                mine, theirs = getattr(own, part), getattr(shared, part)
                for name in mine.__slots__:
                    a, b = getattr(mine, name), getattr(theirs, name)
                    assert a.dtype == b.dtype, (kwargs, part, name)
                    assert np.array_equal(a.astype(np.int64), b.astype(np.int64)), (
                        kwargs,
                        part,
                        name,
                    )

        # The read's own connection sees only what is committed (why the caller must say so)
        customer = make_customer(session, created_on=date(2023, 1, 1))
        pending = make_invoice(session, customer=customer, issued=date(2026, 2, 1))
        session.flush()
        own = read_ledger(session, as_of=date(2026, 3, 1), committed=True)
        shared = read_ledger(session, as_of=date(2026, 3, 1))
        assert pending.id in shared.installments.invoice_id.tolist()
        assert pending.id not in own.installments.invoice_id.tolist()
        session.rollback()
