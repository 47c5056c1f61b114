"""The aging report: buckets by days past due on the as-of date, groups, totals, drill-down,
scope, and the aging of a past day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Tier
from flywheel.models.users import User
from flywheel.receivables import aging
from flywheel.receivables.aging import (
    DIMENSIONS,
    Dimension,
    Grouping,
    aging_installments,
    aging_report,
    buckets_from,
)
from tests.factories import TESTER, make_customer, make_invoice, make_payment, make_user

AS_OF = date(2026, 6, 30)
ZERO = Decimal("0.00")


def d(text: str) -> Decimal:
    return Decimal(text)


@dataclass
class Book:
    rep1: User
    rep2: User
    c1: Customer
    c2: Customer
    c3: Customer


@pytest.fixture
def book(session: Session) -> Book:
    rep1 = make_user(session, username="rep.one", role=Role.SALES)
    rep2 = make_user(session, username="rep.two", role=Role.SALES)
    c1 = make_customer(session, owner=rep1, region="华东", tier=Tier.KEY)
    c2 = make_customer(session, owner=rep2, region="华南")
    c3 = make_customer(session, region=None)
    # c1: due tomorrow and due today (both current), 30 days past due
    make_invoice(
        session, customer=c1, amount="100.00", issued=date(2026, 6, 1), due=date(2026, 7, 1)
    )
    make_invoice(
        session, customer=c1, amount="200.00", issued=date(2026, 5, 1), due=date(2026, 6, 30)
    )
    make_invoice(
        session, customer=c1, amount="300.00", issued=date(2026, 4, 1), due=date(2026, 5, 31)
    )
    # c2: 31 days and 181 days past due; 150.00 arrives after the as-of date
    late = make_invoice(
        session, customer=c2, amount="400.00", issued=date(2026, 4, 1), due=date(2026, 5, 30)
    )
    make_invoice(
        session, customer=c2, amount="500.00", issued=date(2025, 12, 1), due=date(2025, 12, 31)
    )
    make_payment(session, customer=c2, amount="150.00", received=date(2026, 7, 5), invoice=late)
    # c3: 91 days past due, and an invoice issued after the as-of date
    make_invoice(
        session, customer=c3, amount="600.00", issued=date(2026, 3, 1), due=date(2026, 3, 31)
    )
    make_invoice(
        session, customer=c3, amount="700.00", issued=date(2026, 7, 1), due=date(2026, 7, 31)
    )
    return Book(rep1, rep2, c1, c2, c3)


def report(session: Session, **kwargs: object) -> aging.AgingReport:
    options: dict[str, object] = {"actor": TESTER, "as_of": AS_OF, "currency": "CNY"}
    options.update(kwargs)
    return aging_report(session, **options)  # type: ignore[arg-type]


def test_aging_by_customer_with_totals(session: Session, book: Book) -> None:
    result = report(session)

    assert result.bucket_keys == ["current", "1-30", "31-60", "61-90", "91-180", "181+"]
    assert [(r.key, r.buckets, r.total, r.overdue, r.items) for r in result.rows] == [
        (
            book.c2.code,
            [ZERO, ZERO, d("400.00"), ZERO, ZERO, d("500.00")],
            d("900.00"),
            d("900.00"),
            2,
        ),
        (
            book.c1.code,
            [d("300.00"), d("300.00"), ZERO, ZERO, ZERO, ZERO],
            d("600.00"),
            d("300.00"),
            3,
        ),
        (book.c3.code, [ZERO, ZERO, ZERO, ZERO, d("600.00"), ZERO], d("600.00"), d("600.00"), 1),
    ]
    assert result.rows[0].label == book.c2.name
    assert result.groups == 3
    assert result.totals.buckets == [
        d("300.00"),
        d("300.00"),
        d("400.00"),
        ZERO,
        d("600.00"),
        d("500.00"),
    ]
    assert (result.totals.total, result.totals.overdue) == (d("2100.00"), d("1800.00"))
    assert (result.totals.items, result.totals.customers) == (6, 3)


def test_aging_of_a_past_day_ignores_later_payments_and_counts_them_after(
    session: Session, book: Book
) -> None:
    before = report(session, as_of=date(2026, 7, 4))
    after = report(session, as_of=date(2026, 7, 5))

    c2_before = next(r for r in before.rows if r.key == book.c2.code)
    c2_after = next(r for r in after.rows if r.key == book.c2.code)
    assert c2_before.buckets[2] == d("400.00")
    assert c2_after.buckets[2] == d("250.00")
    # the invoice issued on Jul 1 exists on Jul 4 (current), not on Jun 30
    c3_before = next(r for r in before.rows if r.key == book.c3.code)
    assert c3_before.buckets[0] == d("700.00")


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("owner", [("rep.two", d("900.00")), ("", d("600.00")), ("rep.one", d("600.00"))]),
        ("region", [("华南", d("900.00")), ("", d("600.00")), ("华东", d("600.00"))]),
        ("tier", [("standard", d("1500.00")), ("key", d("600.00"))]),
    ],
)
def test_aging_by_owner_region_and_tier(
    session: Session, book: Book, by: str, expected: list[tuple[str, Decimal]]
) -> None:
    result = report(session, by=by)

    assert [(r.key, r.total) for r in result.rows] == expected
    assert result.totals.total == d("2100.00")


def test_custom_buckets_sorting_and_paging(session: Session, book: Book) -> None:
    result = report(session, buckets=buckets_from("60"), sort="61+", limit=1, offset=0)

    assert result.bucket_keys == ["current", "1-60", "61+"]
    assert [(r.key, r.buckets) for r in result.rows] == [(book.c3.code, [ZERO, ZERO, d("600.00")])]
    assert result.groups == 3
    by_name = report(session, sort="key", descending=False)
    assert [r.key for r in by_name.rows] == sorted([book.c1.code, book.c2.code, book.c3.code])


def test_a_new_dimension_is_a_mapping_of_customers_to_labels(
    session: Session, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    grades = {book.c1.id: "A", book.c2.id: "D"}
    monkeypatch.setitem(
        DIMENSIONS,
        "grade",
        Dimension("grade", lambda _s, customers: Grouping.from_mapping(customers, grades)),
    )

    result = report(session, by="grade", sort="key", descending=False)
    page = aging_installments(
        session, actor=TESTER, as_of=AS_OF, currency="CNY", by="grade", group="D"
    )

    assert [(r.key, r.total) for r in result.rows] == [
        ("", d("600.00")),
        ("A", d("600.00")),
        ("D", d("900.00")),
    ]
    assert page.total == 2


def test_drill_down_lists_the_installments_of_one_cell(session: Session, book: Book) -> None:
    cell = aging_installments(
        session,
        actor=TESTER,
        as_of=AS_OF,
        currency="CNY",
        by="customer",
        group=book.c2.code,
        bucket="181+",
    )
    row = aging_installments(
        session, actor=TESTER, as_of=AS_OF, currency="CNY", by="customer", group=book.c2.code
    )
    second = aging_installments(
        session,
        actor=TESTER,
        as_of=AS_OF,
        currency="CNY",
        by="customer",
        group=book.c2.code,
        limit=1,
        offset=1,
    )

    assert [(i.open_amount, i.days_past_due, i.bucket) for i in cell.items] == [
        (d("500.00"), 181, "181+")
    ]
    assert cell.total == 1
    assert cell.open_amount == d("500.00")
    assert [(i.days_past_due, i.customer_code) for i in row.items] == [
        (181, book.c2.code),
        (31, book.c2.code),
    ]
    assert row.open_amount == d("900.00")
    assert [i.open_amount for i in second.items] == [d("400.00")]
    assert second.total == 2
    by_owner = aging_installments(
        session, actor=TESTER, as_of=AS_OF, currency="CNY", by="owner", group="", bucket="91-180"
    )
    assert [(i.customer_code, i.amount) for i in by_owner.items] == [(book.c3.code, d("600.00"))]


def test_a_sales_rep_sees_only_his_book(session: Session, book: Book) -> None:
    rep = Actor.for_user(book.rep1)

    result = report(session, actor=rep)
    other = aging_installments(
        session, actor=rep, as_of=AS_OF, currency="CNY", by="customer", group=book.c2.code
    )

    assert [r.key for r in result.rows] == [book.c1.code]
    assert result.totals.total == d("600.00")
    assert (other.total, other.items, other.open_amount) == (0, [], ZERO)


def test_another_currency_is_a_report_of_its_own(session: Session, book: Book) -> None:
    dollars = make_customer(session, currency="USD")
    make_invoice(
        session, customer=dollars, amount="10.00", issued=date(2026, 6, 1), due=date(2026, 6, 20)
    )

    usd = report(session, currency="USD")

    assert [(r.key, r.buckets[1]) for r in usd.rows] == [(dollars.code, d("10.00"))]
    assert report(session).totals.total == d("2100.00")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"by": "colour"}, "by"),
        ({"sort": "nothing"}, "sort"),
    ],
)
def test_bad_parameters_name_their_field(
    session: Session, book: Book, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        report(session, **kwargs)

    assert error.value.details["field"] == field


def test_bad_buckets_and_bucket_name_their_field(session: Session) -> None:
    with pytest.raises(ValidationFailed) as bad_edges:
        buckets_from("30,20")
    with pytest.raises(ValidationFailed) as bad_bucket:
        aging_installments(
            session,
            actor=TESTER,
            as_of=AS_OF,
            currency="CNY",
            by="tier",
            group="key",
            bucket="1-31",
        )

    assert bad_edges.value.details["field"] == "buckets"
    assert bad_bucket.value.details["field"] == "bucket"


def test_aging_by_credit_grade_uses_the_newest_snapshot(session: Session, book: Book) -> None:
    # Given a credit snapshot that grades c1 and c2 (c3 was never scored),
    from flywheel.models.credit import CreditScore

    for customer, grade in ((book.c1, "A"), (book.c2, "D")):
        session.add(
            CreditScore(
                customer_id=customer.id,
                as_of=date(2026, 6, 1),
                score=600,
                grade=grade,
                model="expert",
                factors=[],
            )
        )
    session.flush()

    result = report(session, by="grade")

    assert [(r.key, r.total) for r in result.rows] == [
        ("D", d("900.00")),
        ("", d("600.00")),
        ("A", d("600.00")),
    ]
    assert result.totals.total == d("2100.00")
