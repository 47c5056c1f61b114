"""The receivables pages: the invoice list (filters, sorting, paging, scope), one invoice
(installments, allocations, credit notes, history, actions by role), payment entry (the preview
equals what is then recorded, errors at the field with nothing written, roles) and credit
notes (success, over the open amount, roles)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth import passwords
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Customer
from flywheel.models.enums import Role
from flywheel.models.receivables import Allocation, CreditNote, Installment, Invoice, Payment
from flywheel.models.users import User
from flywheel.receivables import service as receivables
from flywheel.receivables import views
from flywheel.web.contract import today
from tests.factories import (
    TESTER,
    make_credit_note,
    make_customer,
    make_invoice,
    make_payment,
)
from tests.web.pages import audit_count, make_person, sign_in

AS_OF = "2026-03-15"


# ---------------------------------------------------------------- helpers


def listed(page: str) -> list[str]:
    """The invoice numbers of the list's rows, in order."""
    return re.findall(r'<tr data-invoice="([^"]+)"', page)


def text_of(fragment: str) -> str:
    """A fragment of a page as plain text with single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def element(page: str, element_id: str, tag: str) -> str:
    """The HTML of the element ``<tag id=element_id …>`` up to its closing tag."""
    start = page.index(f'id="{element_id}"')
    start = page.rindex(f"<{tag}", 0, start)
    return page[start : page.index(f"</{tag}>", start) + len(tag) + 3]


def rows_of(table: str) -> list[list[str]]:
    """The body rows of a table as lists of cell texts."""
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [
        [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def field_error(page: str, name: str) -> str:
    match = re.search(rf'<span class="field-error" id="{name}-error"[^>]*>(.*?)</span>', page, re.S)
    assert match, f"no error at the field {name}"
    return html.unescape(match.group(1))


def input_value(page: str, name: str) -> str:
    match = re.search(rf'<input name="{name}"[^>]*? value="([^"]*)"', page)
    assert match, f"no input {name}"
    return html.unescape(match.group(1))


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def ledger_counts(session: Session) -> tuple[int, int, int, int]:
    """Payments, allocations, credit notes and audit events: what a refused form must not
    change."""
    return (
        count(session, Payment),
        count(session, Allocation),
        count(session, CreditNote),
        audit_count(session),
    )


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters for the many sign-ins here; what is checked is the pages."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@dataclass
class World:
    admin: User
    rep: User
    other_rep: User
    viewer: User
    collector: User
    finance: User
    manager: User


@pytest.fixture
def world(session: Session) -> World:
    return World(
        admin=make_person(session, "ar.admin", role=Role.ADMIN),
        rep=make_person(session, "ar.wang", role=Role.SALES),
        other_rep=make_person(session, "ar.zhao", role=Role.SALES),
        viewer=make_person(session, "ar.viewer", role=Role.VIEWER),
        collector=make_person(session, "ar.collector", role=Role.COLLECTOR),
        finance=make_person(session, "ar.finance", role=Role.FINANCE),
        manager=make_person(session, "ar.manager", role=Role.MANAGER),
    )


@dataclass
class Book:
    """Two reps' accounts with invoices in every state, on AS_OF (2026-03-15)."""

    mine: Customer  # ar.wang's (a sales rep)
    theirs: Customer  # ar.zhao's (another rep)
    late: Invoice  # mine, due 2026-02-13: 30 days overdue
    split: Invoice  # mine, two installments, partly paid
    paid: Invoice  # mine, settled
    future: Invoice  # theirs, due 2026-04-30
    theirs_late: Invoice  # theirs, due 2026-03-05: 10 days overdue


@pytest.fixture
def book(session: Session, world: World) -> Book:
    mine = make_customer(session, code="SH-001", name="上海华东机械", owner=world.rep)
    theirs = make_customer(session, code="BJ-002", name="北京精密仪器", owner=world.other_rep)
    late = make_invoice(
        session,
        customer=mine,
        number="INV-001",
        amount="1200.00",
        issued=date(2026, 1, 14),
        due=date(2026, 2, 13),
    )
    split = make_invoice(
        session,
        customer=mine,
        number="INV-002",
        amount="3000.00",
        issued=date(2026, 2, 1),
        installments=[(date(2026, 3, 1), "1000.00"), (date(2026, 4, 1), "2000.00")],
    )
    paid = make_invoice(
        session,
        customer=mine,
        number="INV-003",
        amount="500.00",
        issued=date(2025, 12, 1),
        due=date(2025, 12, 31),
    )
    make_payment(
        session,
        customer=mine,
        amount="500.00",
        reference="PAY-OLD",
        invoice=paid,
        received=date(2025, 12, 20),
    )
    make_payment(
        session,
        customer=mine,
        amount="400.00",
        reference="PAY-SPLIT",
        invoice=split,
        received=date(2026, 2, 20),
    )
    future = make_invoice(
        session,
        customer=theirs,
        number="INV-004",
        amount="800.00",
        issued=date(2026, 3, 31),
        due=date(2026, 4, 30),
    )
    theirs_late = make_invoice(
        session,
        customer=theirs,
        number="INV-005",
        amount="99.50",
        issued=date(2026, 2, 3),
        due=date(2026, 3, 5),
    )
    session.flush()
    return Book(mine, theirs, late, split, paid, future, theirs_late)


# ---------------------------------------------------------------- the invoice list


def test_the_list_needs_a_sign_in(client: TestClient) -> None:
    answer = client.get("/invoices?overdue=1", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Finvoices%3Foverdue%3D1"


def test_the_list_shows_each_invoice_as_it_stands_on_the_day_asked(
    client: TestClient, book: Book
) -> None:
    sign_in(client, "ar.admin")

    answer = client.get("/invoices", params={"as_of": AS_OF})

    assert answer.status_code == 200
    assert listed(answer.text) == ["INV-004", "INV-005", "INV-002", "INV-001", "INV-003"]
    assert rows_of(element(answer.text, "invoices", "table")) == [
        [
            "INV-004",
            "BJ-002 北京精密仪器",
            "2026-03-31",
            "2026-04-30",
            "CN¥800.00",
            "CN¥800.00",
            "0",
            "Open",
        ],
        [
            "INV-005",
            "BJ-002 北京精密仪器",
            "2026-02-03",
            "2026-03-05",
            "CN¥99.50",
            "CN¥99.50",
            "10",
            "Overdue",
        ],
        [
            "INV-002",
            "SH-001 上海华东机械",
            "2026-02-01",
            "2026-04-01 next 2026-03-01",
            "CN¥3,000.00",
            "CN¥2,600.00",
            "14",
            "Overdue",
        ],
        [
            "INV-001",
            "SH-001 上海华东机械",
            "2026-01-14",
            "2026-02-13",
            "CN¥1,200.00",
            "CN¥1,200.00",
            "30",
            "Overdue",
        ],
        [
            "INV-003",
            "SH-001 上海华东机械",
            "2025-12-01",
            "2025-12-31",
            "CN¥500.00",
            "CN¥0.00",
            "0",
            "Paid",
        ],
    ]
    assert '<a href="/invoices/INV-001?as_of=2026-03-15">INV-001</a>' in answer.text
    assert '<a href="/customers/SH-001">SH-001</a>' in answer.text
    assert '<span class="bad" title="Days past the due date">30</span>' in answer.text
    assert "5 invoices · as of Mar 15, 2026" in text_of(answer.text)


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        ({"customer": "SH-001"}, ["INV-002", "INV-001", "INV-003"]),
        ({"status": "paid"}, ["INV-003"]),
        ({"status": "partially_paid"}, ["INV-002"]),
        ({"status": "open"}, ["INV-004", "INV-005", "INV-001"]),
        ({"overdue": "1"}, ["INV-005", "INV-002", "INV-001"]),
        ({"due_from": "2026-04-01", "due_to": "2026-04-30"}, ["INV-004", "INV-002"]),
        ({"due_from": "2026-03-02"}, ["INV-004", "INV-005", "INV-002"]),
        ({"due_to": "2026-02-13"}, ["INV-001", "INV-003"]),
        ({"q": "005"}, ["INV-005"]),
        ({"q": "inv-00"}, ["INV-004", "INV-005", "INV-002", "INV-001", "INV-003"]),
        ({"customer": "BJ-002", "overdue": "1"}, ["INV-005"]),
        ({"customer": "NOBODY"}, []),
    ],
)
def test_each_filter(
    client: TestClient, book: Book, params: dict[str, str], numbers: list[str]
) -> None:
    sign_in(client, "ar.admin")

    answer = client.get("/invoices", params={"as_of": AS_OF, **params})

    assert answer.status_code == 200
    assert listed(answer.text) == numbers


def test_overdue_is_judged_on_the_day_asked(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.admin")

    before_any_due = client.get("/invoices", params={"as_of": "2026-02-13", "overdue": "1"})
    later = client.get("/invoices", params={"as_of": "2026-05-01", "overdue": "1"})

    assert listed(before_any_due.text) == []
    assert listed(later.text) == ["INV-004", "INV-005", "INV-002", "INV-001"]


def test_blank_filters_of_a_plain_form_submit_mean_any(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.admin")

    answer = client.get(
        "/invoices?q=&customer=&status=&due_from=&due_to=&sort=issue_date&order=desc"
    )

    assert answer.status_code == 200
    assert len(listed(answer.text)) == 5
    assert "No invoice matches" not in answer.text


def test_a_filter_that_is_not_understood_is_said_and_ignored(
    client: TestClient, book: Book
) -> None:
    sign_in(client, "ar.admin")

    answer = client.get("/invoices", params={"status": "lost", "due_from": "soon"})

    assert answer.status_code == 200
    assert len(listed(answer.text)) == 5
    assert "Unknown status lost; it was ignored." in answer.text
    assert "Due from is not a date; it was ignored." in answer.text


def test_no_match_says_so_and_offers_the_whole_list(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.admin")

    answer = client.get("/invoices", params={"q": "nothing like it"})

    assert "No invoice matches these filters." in answer.text
    assert '<a href="/invoices">Show all invoices</a>' in answer.text


@pytest.mark.parametrize(
    ("sort", "order", "numbers"),
    [
        ("due_date", "asc", ["INV-003", "INV-001", "INV-005", "INV-002", "INV-004"]),
        ("due_date", "desc", ["INV-004", "INV-002", "INV-005", "INV-001", "INV-003"]),
        ("amount", "desc", ["INV-002", "INV-001", "INV-004", "INV-003", "INV-005"]),
        ("amount", "asc", ["INV-005", "INV-003", "INV-004", "INV-001", "INV-002"]),
        ("days_overdue", "desc", ["INV-001", "INV-002", "INV-005", "INV-004", "INV-003"]),
        ("days_overdue", "asc", ["INV-003", "INV-004", "INV-005", "INV-002", "INV-001"]),
        ("number", "asc", ["INV-001", "INV-002", "INV-003", "INV-004", "INV-005"]),
        ("issue_date", "asc", ["INV-003", "INV-001", "INV-002", "INV-005", "INV-004"]),
    ],
)
def test_sorting(client: TestClient, book: Book, sort: str, order: str, numbers: list[str]) -> None:
    sign_in(client, "ar.admin")

    answer = client.get("/invoices", params={"as_of": AS_OF, "sort": sort, "order": order})

    assert listed(answer.text) == numbers


def test_sort_links_flip_the_sorted_column_and_keep_the_filters(
    client: TestClient, book: Book
) -> None:
    sign_in(client, "ar.admin")

    page = client.get(
        "/invoices", params={"customer": "SH-001", "sort": "due_date", "order": "asc"}
    ).text

    assert (
        'href="?customer=SH-001&amp;sort=due_date&amp;order=desc" class="sorted"'
        ' aria-sort="ascending">Due</a>' in page
    )
    assert 'href="?customer=SH-001&amp;sort=amount&amp;order=desc">Amount</a>' in page


def test_pagination_moves_between_pages_keeping_the_filters(
    client: TestClient, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    sign_in(client, "ar.admin")

    first = client.get("/invoices", params={"q": "INV"})
    second = client.get("/invoices", params={"q": "INV", "page": 2})
    last = client.get("/invoices", params={"q": "INV", "page": 3})

    assert listed(first.text) == ["INV-004", "INV-005"]
    assert listed(second.text) == ["INV-002", "INV-001"]
    assert listed(last.text) == ["INV-003"]
    pager = text_of(element(second.text, "pager", "nav"))
    assert pager == "3–4 of 5 ← Previous Page 2 of 3 Next →"
    assert 'href="?q=INV&amp;page=1" rel="prev"' in second.text
    assert 'href="?q=INV&amp;page=3" rel="next"' in second.text
    assert 'rel="next"' not in last.text


def test_a_sales_rep_sees_only_his_accounts_invoices(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.wang")

    everything = client.get("/invoices", params={"as_of": AS_OF})
    asked_for_another = client.get("/invoices", params={"customer": "BJ-002"})
    searched = client.get("/invoices", params={"q": "INV-004"})

    assert listed(everything.text) == ["INV-002", "INV-001", "INV-003"]
    assert "北京精密仪器" not in everything.text
    assert listed(asked_for_another.text) == []
    assert listed(searched.text) == []
    assert "Record payment" not in everything.text


def test_a_collector_sees_every_accounts_invoices(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.collector")

    answer = client.get("/invoices")

    assert sorted(listed(answer.text)) == ["INV-001", "INV-002", "INV-003", "INV-004", "INV-005"]
    assert '<a class="button primary" href="/payments/new">Record payment</a>' in answer.text


# ---------------------------------------------------------------- one invoice


@pytest.fixture
def credited(session: Session, book: Book) -> CreditNote:
    """A credit note of 300.00 on INV-002 (it reduces the last installment)."""
    note = make_credit_note(session, invoice=book.split, amount="300.00", issued=date(2026, 3, 10))
    session.flush()
    return note


def test_an_invoice_shows_its_installments_with_days_overdue_on_the_day_asked(
    client: TestClient, book: Book, credited: CreditNote
) -> None:
    sign_in(client, "ar.finance")

    answer = client.get("/invoices/INV-002", params={"as_of": AS_OF})

    assert answer.status_code == 200
    # fmt: off
    assert rows_of(element(answer.text, "installments", "table")) == [
        ["1", "2026-03-01", "CN¥1,000.00", "CN¥400.00", "CN¥0.00", "CN¥600.00", "14", "Overdue"],
        [
            "2",
            "2026-04-01",
            "CN¥2,000.00",
            "CN¥0.00",
            "CN¥300.00",
            "CN¥1,700.00",
            "0",
            "Partially paid",
        ],
    ]
    assert text_of(element(answer.text, "open-amount", "div")) == "CN¥2,300.00"
    assert text_of(element(answer.text, "days-overdue", "div")) == "14"
    facts = text_of(answer.text[answer.text.index('<dl class="facts">') :])
    assert facts.startswith(
        "Customer SH-001 上海华东机械 Order — Issued Feb 1, 2026 Payment terms NET30 "
        "Currency CNY Amount CN¥3,000.00 Open CN¥2,300.00 Status Overdue"
    )


def test_an_invoice_shows_what_settled_it_and_its_credit_notes(
    client: TestClient, book: Book, credited: CreditNote
) -> None:
    sign_in(client, "ar.finance")

    answer = client.get("/invoices/INV-002", params={"as_of": AS_OF})

    assert rows_of(element(answer.text, "allocations", "table")) == [
        ["2026-02-20", "Payment PAY-SPLIT", "1", "CN¥400.00"],
        ["2026-03-10", f"Credit note {credited.number}", "2", "CN¥300.00"],
    ]
    assert rows_of(element(answer.text, "credit-notes", "table")) == [
        [credited.number, "2026-03-10", "CN¥300.00", ""],
    ]


def test_an_invoice_shows_its_history_newest_first(
    client: TestClient, book: Book, credited: CreditNote
) -> None:
    sign_in(client, "ar.finance")

    answer = client.get("/invoices/INV-002")

    entries = [
        text_of(item).split(" · ", 1)[1]
        for item in re.findall(r"<li class=\"audit\">(.*?)</li>", answer.text, re.S)
    ]
    assert entries == [
        f"tests Credit note issued {credited.number} · CN¥300.00",
        "tests Payment recorded PAY-SPLIT · CN¥400.00 · CN¥400.00 applied to this invoice",
        "tests Invoice issued CN¥3,000.00",
    ]


def test_a_paid_invoice_offers_no_payment_or_credit_note(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.finance")

    answer = client.get("/invoices/INV-003", params={"as_of": AS_OF})

    assert answer.status_code == 200
    assert '<span class="pill pill-paid">Paid</span>' in answer.text
    assert "Record a payment" not in answer.text
    assert "Issue a credit note" not in answer.text
    assert rows_of(element(answer.text, "allocations", "table")) == [
        ["2025-12-20", "Payment PAY-OLD", "1", "CN¥500.00"],
    ]
    assert "No credit notes." in answer.text


@pytest.mark.parametrize(
    ("username", "pay", "credit"),
    [
        ("ar.admin", True, True),
        ("ar.finance", True, True),
        ("ar.collector", True, False),
        ("ar.manager", False, True),
        ("ar.viewer", False, False),
        ("ar.wang", False, False),
    ],
)
def test_the_actions_offered_follow_the_role(
    client: TestClient, book: Book, username: str, pay: bool, credit: bool
) -> None:
    sign_in(client, username)

    answer = client.get("/invoices/INV-001")

    assert answer.status_code == 200
    payment_link = 'href="/payments/new?customer=SH-001&amp;invoice=INV-001"'
    assert (payment_link in answer.text) is pay
    assert ('href="/invoices/INV-001/credit-notes/new"' in answer.text) is credit


def test_a_sales_rep_gets_not_found_for_another_reps_invoice(
    client: TestClient, book: Book
) -> None:
    sign_in(client, "ar.wang")

    own = client.get("/invoices/INV-001")
    other = client.get("/invoices/INV-004")
    missing = client.get("/invoices/INV-404")

    assert own.status_code == 200
    assert other.status_code == 404
    assert missing.status_code == 404
    assert "北京精密仪器" not in other.text
    assert "Not found" in other.text


def test_an_invoice_number_with_a_slash_has_its_page(
    client: TestClient, session: Session, book: Book
) -> None:
    make_invoice(session, customer=book.mine, number="INV/2026/7", amount="10.00")
    session.flush()
    sign_in(client, "ar.admin")

    listing = client.get("/invoices", params={"q": "INV/2026"})
    page = client.get("/invoices/INV/2026/7")
    form = client.get("/invoices/INV/2026/7/credit-notes/new")

    assert '<a href="/invoices/INV/2026/7">INV/2026/7</a>' in listing.text
    assert page.status_code == 200
    assert "Invoice INV/2026/7" in page.text
    assert form.status_code == 200
    assert 'action="/invoices/INV/2026/7/credit-notes/new"' in form.text


# ---------------------------------------------------------------- recording a payment


def payment_data(csrf: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "customer": "SH-001",
        "reference": "BANK-2026-0315",
        "received_on": AS_OF,
        "amount": "4000.00",
        "currency": "",
        "method": "bank_transfer",
        "invoice": "",
    }
    data.update(changes)
    return data


def preview_lines(fragment: str) -> list[tuple[str, int, Decimal]]:
    """(invoice, installment, applied) of each line of a preview, read from the page."""
    return [
        (cells[0], int(cells[1]), Decimal(cells[4].removeprefix("CN¥").replace(",", "")))
        for cells in rows_of(element(fragment, "preview-lines", "table"))
    ]


def allocations_of(session: Session, reference: str) -> list[tuple[str, int, Decimal]]:
    payment = session.scalars(select(Payment).where(Payment.reference == reference)).one()
    rows = session.execute(
        select(Invoice.number, Allocation.installment_id, Allocation.amount)
        .join(Invoice, Allocation.invoice_id == Invoice.id)
        .where(Allocation.payment_id == payment.id)
        .order_by(Allocation.id)
    ).all()
    return [
        (number, session.get_one(Installment, installment_id).sequence, amount)
        for number, installment_id, amount in rows
    ]


def test_the_form_starts_with_today_and_the_customer_and_invoice_it_was_opened_for(
    client: TestClient, book: Book
) -> None:
    sign_in(client, "ar.collector")

    blank = client.get("/payments/new")
    for_invoice = client.get("/payments/new", params={"customer": "SH-001", "invoice": "INV-002"})

    assert blank.status_code == 200
    assert input_value(blank.text, "received_on") == today().isoformat()
    assert input_value(blank.text, "customer") == ""
    assert '<option value="bank_transfer" selected>Bank transfer</option>' in blank.text
    assert '<option value="acceptance_bill">Acceptance bill</option>' in blank.text
    assert "Choose a customer and enter an amount" in blank.text
    assert input_value(for_invoice.text, "customer") == "SH-001"
    assert input_value(for_invoice.text, "invoice") == "INV-002"
    assert 'placeholder="CNY"' in for_invoice.text
    assert '<a href="/invoices/INV-002">Cancel</a>' in for_invoice.text
    assert text_of(element(for_invoice.text, "invoice-open", "span")) == (
        "Open on INV-002: CN¥2,600.00"
    )


def test_a_form_opened_from_an_invoice_alone_knows_its_customer(
    client: TestClient, book: Book
) -> None:
    sign_in(client, "ar.collector")

    answer = client.get("/payments/new", params={"invoice": "INV-005"})

    assert input_value(answer.text, "customer") == "BJ-002"
    assert input_value(answer.text, "invoice") == "INV-005"


def test_the_form_asks_for_a_preview_as_the_user_types(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.collector")

    page = client.get("/payments/new").text

    form = re.search(r'<form method="post" action="/payments"[^>]*>', page, re.S)
    assert form is not None
    assert 'hx-post="/payments/preview"' in form.group(0)
    assert 'hx-trigger="input delay:400ms, change"' in form.group(0)
    assert 'hx-target="#preview"' in form.group(0)


def test_customer_suggestions_come_from_the_accounts_in_scope(
    client: TestClient, book: Book
) -> None:
    sign_in(client, "ar.collector")

    by_name = client.get("/payments/customers", params={"customer": "华东"})
    by_code = client.get("/payments/customers", params={"customer": "bj-"})

    assert by_name.status_code == 200
    assert "<html" not in by_name.text
    assert re.findall(r'<option value="([^"]+)">', by_name.text) == ["SH-001"]
    assert '<option value="BJ-002">北京精密仪器</option>' in by_code.text


def test_the_preview_shows_what_the_payment_would_settle_and_writes_nothing(
    client: TestClient, session: Session, book: Book
) -> None:
    csrf = sign_in(client, "ar.collector")
    before = ledger_counts(session)

    answer = client.post(
        "/payments/preview",
        data=payment_data(csrf, reference="", amount="4,000.00"),
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert rows_of(element(answer.text, "preview-lines", "table")) == [
        ["INV-001", "1", "2026-02-13", "CN¥1,200.00", "CN¥1,200.00", "CN¥0.00"],
        ["INV-002", "1", "2026-03-01", "CN¥600.00", "CN¥600.00", "CN¥0.00"],
        ["INV-002", "2", "2026-04-01", "CN¥2,000.00", "CN¥2,000.00", "CN¥0.00"],
    ]
    assert text_of(element(answer.text, "preview-applied", "td")) == "CN¥3,800.00"
    assert text_of(element(answer.text, "preview-remainder", "strong")) == "CN¥200.00"
    assert ledger_counts(session) == before


@pytest.mark.parametrize(
    ("amount", "invoice"),
    [("4000.00", ""), ("1000.00", "INV-002"), ("1500.55", "INV-001"), ("250.00", "")],
)
def test_the_preview_is_exactly_what_recording_then_allocates(
    client: TestClient, session: Session, book: Book, amount: str, invoice: str
) -> None:
    csrf = sign_in(client, "ar.collector")
    data = payment_data(csrf, amount=amount, invoice=invoice)

    preview = client.post("/payments/preview", data=data, headers={"HX-Request": "true"})
    recorded = client.post("/payments", data=data, follow_redirects=False)

    assert recorded.status_code == 303
    planned = preview_lines(preview.text)
    assert planned == allocations_of(session, "BANK-2026-0315")
    assert sum(line[2] for line in planned) <= Decimal(amount)


def test_recording_a_payment_allocates_it_audits_it_and_goes_to_the_customer(
    client: TestClient, session: Session, book: Book, world: World
) -> None:
    csrf = sign_in(client, "ar.collector")
    audits = audit_count(session)

    answer = client.post("/payments", data=payment_data(csrf), follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/customers/SH-001"
    payment = session.scalars(select(Payment).where(Payment.reference == "BANK-2026-0315")).one()
    assert payment.amount == Decimal("4000.00")
    assert payment.allocated_amount == Decimal("3800.00")
    assert payment.unallocated_amount == Decimal("200.00")
    assert payment.received_on == date(2026, 3, 15)
    assert payment.currency == "CNY"
    assert allocations_of(session, "BANK-2026-0315") == [
        ("INV-001", 1, Decimal("1200.00")),
        ("INV-002", 1, Decimal("600.00")),
        ("INV-002", 2, Decimal("2000.00")),
    ]
    assert book.late.status == "paid"
    assert book.split.status == "paid"
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "payment")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert (event.action, event.subject_id, event.actor_id) == (
        "payment.recorded",
        payment.id,
        world.collector.id,
    )
    assert audit_count(session) == audits + 1
    note = client.get("/invoices").text
    assert (
        "Payment BANK-2026-0315 of CN¥4,000.00 recorded: CN¥3,800.00 applied to "
        "INV-001 #1 (CN¥1,200.00), INV-002 #1 (CN¥600.00), INV-002 #2 (CN¥2,000.00). "
        "CN¥200.00 is kept as customer credit." in html.unescape(note)
    )


def test_a_payment_for_an_invoice_goes_back_to_the_invoice(
    client: TestClient, session: Session, book: Book
) -> None:
    csrf = sign_in(client, "ar.finance")

    answer = client.post(
        "/payments",
        data=payment_data(csrf, amount="600.00", invoice="INV-002", method="acceptance_bill"),
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/invoices/INV-002"
    assert allocations_of(session, "BANK-2026-0315") == [("INV-002", 1, Decimal("600.00"))]
    payment = session.scalars(select(Payment).where(Payment.reference == "BANK-2026-0315")).one()
    assert payment.method == "acceptance_bill"
    assert payment.invoice_reference == "INV-002"
    page = client.get("/invoices/INV-002", params={"as_of": AS_OF}).text
    assert (
        "Payment BANK-2026-0315 of CN¥600.00 recorded: CN¥600.00 applied to "
        "INV-002 #1 (CN¥600.00)." in html.unescape(page)
    )
    assert rows_of(element(page, "installments", "table"))[0][5] == "CN¥0.00"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"customer": "NOPE-9"}, "customer", "There is no customer with the code NOPE-9."),
        ({"customer": ""}, "customer", "Enter the customer's code."),
        (
            {"reference": "PAY-OLD"},
            "reference",
            "A payment with the reference PAY-OLD is already recorded.",
        ),
        (
            {"reference": ""},
            "reference",
            "Enter the payment's reference (bank slip or bill number).",
        ),
        ({"amount": "0"}, "amount", "The amount must be greater than zero."),
        ({"amount": "-5.00"}, "amount", "The amount must be greater than zero."),
        ({"amount": "12.345"}, "amount", "An amount has at most two decimals."),
        ({"amount": "lots"}, "amount", "Enter the amount as a number, like 1,234.50."),
        ({"amount": ""}, "amount", "Enter the amount received."),
        (
            {"amount": "USD 100", "currency": "CNY"},
            "amount",
            "The amount is written in USD but the currency is CNY.",
        ),
        ({"currency": "RMB1"}, "currency", "A currency is three letters, like CNY or USD."),
        ({"received_on": ""}, "received_on", "Enter a date."),
        ({"received_on": "someday"}, "received_on", "Enter a date like 2026-03-01."),
        ({"method": "barter"}, "method", "Choose how the money was paid."),
        ({"invoice": "INV-404"}, "invoice", "There is no invoice INV-404."),
        ({"invoice": "INV-004"}, "invoice", "Invoice INV-004 is not an invoice of SH-001."),
        (
            {"invoice": "INV-001", "currency": "USD"},
            "currency",
            "Invoice INV-001 is in CNY; the payment is in USD.",
        ),
    ],
)
def test_a_wrong_payment_is_shown_again_with_the_message_at_the_field_and_nothing_written(
    client: TestClient,
    session: Session,
    book: Book,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    csrf = sign_in(client, "ar.collector")
    before = ledger_counts(session)
    data = payment_data(csrf, **changes)

    answer = client.post("/payments", data=data, follow_redirects=False)

    assert answer.status_code == 422
    assert field_error(answer.text, field) == message
    for name in ("customer", "reference", "amount", "currency", "invoice"):
        assert input_value(answer.text, name) == data[name]
    assert ledger_counts(session) == before


def test_a_taken_reference_is_also_said_by_the_preview(
    client: TestClient, session: Session, book: Book
) -> None:
    csrf = sign_in(client, "ar.collector")

    answer = client.post(
        "/payments/preview",
        data=payment_data(csrf, reference="PAY-OLD"),
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert "A payment with the reference PAY-OLD is already recorded." in html.unescape(answer.text)


def test_the_preview_does_not_complain_about_fields_not_filled_in_yet(
    client: TestClient, book: Book
) -> None:
    csrf = sign_in(client, "ar.collector")

    answer = client.post(
        "/payments/preview",
        data=payment_data(csrf, amount="", reference="", received_on=""),
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert "Choose a customer and enter an amount" in answer.text
    assert "field-error" not in answer.text


def test_a_payment_in_another_currency_stays_as_credit_in_that_currency(
    client: TestClient, session: Session, book: Book
) -> None:
    csrf = sign_in(client, "ar.collector")

    preview = client.post(
        "/payments/preview", data=payment_data(csrf, currency="usd", amount="100")
    )
    answer = client.post(
        "/payments", data=payment_data(csrf, currency="usd", amount="100"), follow_redirects=False
    )

    assert "The customer has no open installment in USD" in preview.text
    assert text_of(element(preview.text, "preview-remainder", "strong")) == "$100.00"
    assert answer.status_code == 303
    payment = session.scalars(select(Payment).where(Payment.reference == "BANK-2026-0315")).one()
    assert (payment.currency, payment.allocated_amount) == ("USD", Decimal("0.00"))


@pytest.mark.parametrize("username", ["ar.wang", "ar.viewer"])
def test_a_role_without_the_permission_gets_no_form_and_may_not_post(
    client: TestClient, session: Session, book: Book, username: str
) -> None:
    csrf = sign_in(client, username)
    before = ledger_counts(session)

    form = client.get("/payments/new")
    suggestions = client.get("/payments/customers", params={"customer": "SH"})
    preview = client.post("/payments/preview", data=payment_data(csrf))
    posted = client.post("/payments", data=payment_data(csrf), follow_redirects=False)

    assert form.status_code == 403
    assert suggestions.status_code == 403
    assert preview.status_code == 403
    assert posted.status_code == 403
    assert "Your role does not allow this." in posted.text
    assert ledger_counts(session) == before
    assert 'href="/payments/new"' not in client.get("/invoices").text


def test_a_post_without_the_csrf_token_changes_nothing(
    client: TestClient, session: Session, book: Book
) -> None:
    sign_in(client, "ar.finance")
    before = ledger_counts(session)

    answer = client.post("/payments", data=payment_data(""), follow_redirects=False)

    assert answer.status_code == 403
    assert ledger_counts(session) == before


# ---------------------------------------------------------------- credit notes


def credit_data(csrf: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "number": "CN-2026-001",
        "issue_date": "2026-03-10",
        "amount": "200.00",
        "reason": "价格调整 price adjustment",
    }
    data.update(changes)
    return data


def test_the_credit_note_form_shows_the_open_amount(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.finance")

    answer = client.get("/invoices/INV-002/credit-notes/new")

    assert answer.status_code == 200
    assert text_of(element(answer.text, "open-amount", "dd")) == "CN¥2,600.00"
    assert "At most the open amount, CN¥2,600.00." in answer.text
    assert input_value(answer.text, "issue_date") == today().isoformat()


def test_issuing_a_credit_note_reduces_the_invoice_and_goes_back_to_it(
    client: TestClient, session: Session, book: Book, world: World
) -> None:
    csrf = sign_in(client, "ar.finance")
    audits = audit_count(session)

    answer = client.post(
        "/invoices/INV-001/credit-notes/new", data=credit_data(csrf), follow_redirects=False
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/invoices/INV-001"
    note = session.scalars(select(CreditNote).where(CreditNote.number == "CN-2026-001")).one()
    assert (note.amount, note.currency, note.issue_date, note.reason) == (
        Decimal("200.00"),
        "CNY",
        date(2026, 3, 10),
        "价格调整 price adjustment",
    )
    allocation = session.scalars(
        select(Allocation).where(Allocation.credit_note_id == note.id)
    ).one()
    assert (allocation.invoice_id, allocation.amount) == (book.late.id, Decimal("200.00"))
    assert book.late.open_amount == Decimal("1000.00")
    assert book.late.status == "partially_paid"
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.action, event.subject_id, event.actor_id) == (
        "credit_note.issued",
        note.id,
        world.finance.id,
    )
    assert audit_count(session) == audits + 1
    page = html.unescape(client.get("/invoices/INV-001").text)
    assert "Credit note CN-2026-001 of CN¥200.00 issued; CN¥1,000.00 is still open." in page


def test_a_credit_note_may_take_exactly_the_open_amount(
    client: TestClient, session: Session, book: Book
) -> None:
    csrf = sign_in(client, "ar.manager")

    answer = client.post(
        "/invoices/INV-002/credit-notes/new",
        data=credit_data(csrf, amount="2600"),
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert book.split.open_amount == Decimal("0.00")
    assert book.split.status == "paid"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"amount": "1200.01"},
            "amount",
            "A credit note can be at most the open amount, CN¥1,200.00.",
        ),
        ({"amount": "0"}, "amount", "The amount must be greater than zero."),
        ({"amount": "1.001"}, "amount", "An amount has at most two decimals."),
        ({"amount": "USD 10"}, "amount", "The amount must be in CNY."),
        ({"amount": ""}, "amount", "Enter the amount."),
        ({"number": ""}, "number", "This field is required."),
        ({"issue_date": "tomorrow-ish"}, "issue_date", "Enter a date like 2026-03-01."),
    ],
)
def test_a_wrong_credit_note_is_shown_again_with_the_message_at_the_field_and_nothing_written(
    client: TestClient,
    session: Session,
    book: Book,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    csrf = sign_in(client, "ar.finance")
    before = ledger_counts(session)
    data = credit_data(csrf, **changes)

    answer = client.post("/invoices/INV-001/credit-notes/new", data=data, follow_redirects=False)

    assert answer.status_code == 422
    assert field_error(answer.text, field) == message
    assert input_value(answer.text, "number") == data["number"]
    assert input_value(answer.text, "amount") == data["amount"]
    assert ">价格调整 price adjustment</textarea>" in answer.text
    assert ledger_counts(session) == before
    assert book.late.open_amount == Decimal("1200.00")


def test_a_taken_credit_note_number_is_refused_at_the_field(
    client: TestClient, session: Session, book: Book, credited: CreditNote
) -> None:
    csrf = sign_in(client, "ar.finance")
    before = ledger_counts(session)

    answer = client.post(
        "/invoices/INV-001/credit-notes/new",
        data=credit_data(csrf, number=credited.number),
        follow_redirects=False,
    )

    assert answer.status_code == 422
    assert field_error(answer.text, "number") == "A credit note with this number already exists."
    assert ledger_counts(session) == before


def test_a_settled_invoice_gets_no_credit_note_form(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.finance")

    answer = client.get("/invoices/INV-003/credit-notes/new")

    assert answer.status_code == 200
    assert "This invoice is paid: a credit note needs an open invoice." in answer.text
    assert 'name="amount"' not in answer.text


@pytest.mark.parametrize("username", ["ar.wang", "ar.viewer", "ar.collector"])
def test_a_role_without_the_permission_may_not_issue_credit_notes(
    client: TestClient, session: Session, book: Book, username: str
) -> None:
    csrf = sign_in(client, username)
    before = ledger_counts(session)

    form = client.get("/invoices/INV-001/credit-notes/new")
    posted = client.post(
        "/invoices/INV-001/credit-notes/new", data=credit_data(csrf), follow_redirects=False
    )

    assert form.status_code == 403
    assert posted.status_code == 403
    assert ledger_counts(session) == before
    assert book.late.open_amount == Decimal("1200.00")


def test_finance_may_credit_any_account_a_sales_rep_not_even_his_own(
    client: TestClient, session: Session, book: Book
) -> None:
    csrf = sign_in(client, "ar.finance")
    finance = client.post(
        "/invoices/INV-004/credit-notes/new", data=credit_data(csrf), follow_redirects=False
    )
    client.post("/sign-out", data={"csrf_token": csrf})
    before = ledger_counts(session)
    rep_csrf = sign_in(client, "ar.wang")
    rep = client.post(
        "/invoices/INV-001/credit-notes/new",
        data=credit_data(rep_csrf, number="CN-REP"),
        follow_redirects=False,
    )

    assert finance.status_code == 303
    assert book.future.open_amount == Decimal("600.00")
    assert rep.status_code == 403
    assert ledger_counts(session) == before


def test_naming_a_paid_invoice_is_said_by_the_preview_and_the_money_goes_to_open_items(
    client: TestClient, session: Session, book: Book
) -> None:
    csrf = sign_in(client, "ar.collector")
    data = payment_data(csrf, invoice="INV-003", amount="100.00")

    preview = client.post("/payments/preview", data=data, headers={"HX-Request": "true"})
    recorded = client.post("/payments", data=data, follow_redirects=False)

    assert (
        "Invoice INV-003 has nothing open: the payment goes to the oldest open items."
        in preview.text
    )
    assert preview_lines(preview.text) == [("INV-001", 1, Decimal("100.00"))]
    assert recorded.status_code == 303
    assert allocations_of(session, "BANK-2026-0315") == [("INV-001", 1, Decimal("100.00"))]


def test_a_written_off_invoice_shows_what_was_written_off_and_offers_nothing(
    client: TestClient, session: Session, book: Book
) -> None:
    receivables.write_off_invoice(
        session, actor=TESTER, invoice_id=book.late.id, on=date(2026, 3, 1), reason="破产 bankrupt"
    )
    session.flush()
    sign_in(client, "ar.finance")

    answer = client.get("/invoices/INV-001", params={"as_of": AS_OF})

    # fmt: off
    assert rows_of(element(answer.text, "installments", "table")) == [
        ["1", "2026-02-13", "CN¥1,200.00", "CN¥0.00", "CN¥0.00", "CN¥1,200.00", "CN¥0.00", "0",
         "Written off 2026-03-01"],
    ]
    # fmt: on
    assert "Record a payment" not in answer.text
    assert "Issue a credit note" not in answer.text
    history = text_of(element(answer.text, "history", "ul"))
    assert "Invoice written off CN¥1,200.00 · 破产 bankrupt" in history


def test_a_page_past_the_end_says_so(client: TestClient, book: Book) -> None:
    sign_in(client, "ar.admin")

    answer = client.get("/invoices", params={"customer": "SH-001", "page": 9})

    assert answer.status_code == 200
    assert listed(answer.text) == []
    assert "There is no page 9: the list has 1." in answer.text
    assert '<a href="?customer=SH-001">Go to the first page</a>' in answer.text
