"""The AR dashboard, its KPI part and the aging drill-down, and the same figures under
/api/v1/ar: what a finance user sees (in English and Chinese), scope for a sales rep, the
denied viewer, and parameters that cannot be read."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.auth import tokens
from flywheel.models.customers import Customer
from flywheel.models.enums import Role
from flywheel.models.users import User
from tests.factories import TESTER, make_customer, make_invoice, make_payment
from tests.web.pages import make_person, sign_in

AS_OF = "2026-06-30"


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def rows_of(page: str) -> list[str]:
    return [html.unescape(g) for g in re.findall(r'<tr data-group="([^"]*)"', page)]


@dataclass
class Book:
    rep: User
    mine: Customer
    theirs: Customer


@pytest.fixture
def book(session: Session) -> Book:
    rep = make_person(session, "rep.ar", role=Role.SALES)
    mine = make_customer(session, owner=rep, name="甲公司")
    theirs = make_customer(session, name="乙公司")
    # mine: 100.00 current, 250.00 44 days past due
    make_invoice(
        session, customer=mine, amount="100.00", issued=date(2026, 6, 1), due=date(2026, 7, 1)
    )
    make_invoice(
        session, customer=mine, amount="250.00", issued=date(2026, 4, 2), due=date(2026, 5, 17)
    )
    # theirs: 1,000.00 100 days past due, of which 400.00 paid after the as-of date
    late = make_invoice(
        session, customer=theirs, amount="1000.00", issued=date(2026, 2, 20), due=date(2026, 3, 22)
    )
    make_payment(session, customer=theirs, amount="400.00", received=date(2026, 7, 2), invoice=late)
    session.flush()
    return Book(rep, mine, theirs)


def test_finance_sees_the_aging_with_totals_chart_and_definitions(
    client: TestClient, session: Session, book: Book
) -> None:
    make_person(session, "fin.ar", role=Role.FINANCE)
    sign_in(client, "fin.ar")

    page = client.get(f"/ar?as_of={AS_OF}")

    assert page.status_code == 200, page.text
    assert rows_of(page.text) == [book.theirs.code, book.mine.code]
    totals = text_of(page.text[page.text.index('id="aging-totals"') :].split("</tr>")[0])
    assert "CN¥1,350.00" in totals  # 100 + 250 + 1,000: the later payment does not count
    assert "CN¥1,250.00" in totals  # overdue
    chart = json.loads(re.search(r'id="aging-data">(.*?)</script>', page.text, re.S).group(1))
    assert chart["groups"] == ["乙公司", "甲公司"]
    assert chart["totals"] == [100.0, 0.0, 250.0, 0.0, 1000.0, 0.0]
    assert (
        "(beginning receivables + invoiced in the period − ending total receivables)" in page.text
    )
    assert 'hx-get="/ar/kpis?' in page.text
    assert 'href="/ar"' in page.text  # the navigation entry


def test_a_cell_drills_down_to_its_installments(
    client: TestClient, session: Session, book: Book
) -> None:
    make_person(session, "fin.ar", role=Role.FINANCE)
    sign_in(client, "fin.ar")
    page = client.get(f"/ar?as_of={AS_OF}").text
    links = re.findall(r'href="(/ar/aging/installments\?[^"]+)"', page)
    cell = html.unescape(next(link for link in links if "bucket=91-180" in link))

    drill = client.get(cell)

    assert drill.status_code == 200, drill.text
    invoices = re.findall(r'<tr data-invoice="([^"]+)"', drill.text)
    assert len(invoices) == 1
    body = text_of(drill.text)
    assert "CN¥1,000.00" in body
    assert "100" in body
    assert f"as_of={AS_OF}" in cell


def test_kpi_cards_come_as_a_fragment_or_a_page(
    client: TestClient, session: Session, book: Book
) -> None:
    make_person(session, "fin.ar", role=Role.FINANCE)
    sign_in(client, "fin.ar")

    fragment = client.get(f"/ar/kpis?as_of={AS_OF}", headers={"HX-Request": "true"})
    full = client.get(f"/ar/kpis?as_of={AS_OF}")

    assert fragment.status_code == 200
    assert full.status_code == 200
    assert "<html" not in fragment.text
    assert "<html" in full.text
    assert 'id="kpi-cards"' in fragment.text
    data = json.loads(re.search(r'id="kpi-data">(.*?)</script>', fragment.text, re.S).group(1))
    assert len(data["months"]) == 12
    assert data["months"][-1] == "2026-06"
    # AR on Jun 30: 1,350.00; invoiced Apr 2 – Jun 30 (90 days): 100 + 250 = 350
    assert data["receivables"][-1] == 1350.0
    cards = text_of(fragment.text[: fragment.text.index('id="kpi-trend"')])
    assert "CN¥1,350.00" in cards
    assert "347.1" in cards  # DSO 1,350 / 350 × 90 = 347.14


def test_pages_in_chinese(client: TestClient, session: Session, book: Book) -> None:
    make_person(session, "fin.zh", role=Role.FINANCE, language="zh")
    sign_in(client, "fin.zh")

    page = client.get(f"/ar?as_of={AS_OF}").text
    cards = client.get(f"/ar/kpis?as_of={AS_OF}", headers={"HX-Request": "true"}).text

    assert "应收分析" in page
    assert "¥1,350.00" in text_of(page)
    assert "回款有效性指数" in page or "催收有效性指数" in page
    assert "最佳可能" in cards


def test_a_sales_rep_sees_his_own_book_and_a_viewer_is_refused(
    client: TestClient, session: Session, book: Book
) -> None:
    sign_in(client, "rep.ar")
    mine = client.get(f"/ar?as_of={AS_OF}")
    other = client.get(f"/ar/aging/installments?as_of={AS_OF}&by=customer&group={book.theirs.code}")
    client.cookies.clear()
    make_person(session, "view.ar", role=Role.VIEWER)
    sign_in(client, "view.ar")
    denied = client.get(f"/ar?as_of={AS_OF}")

    assert rows_of(mine.text) == [book.mine.code]
    assert other.status_code == 200
    assert re.findall(r'<tr data-invoice="', other.text) == []
    assert denied.status_code == 403
    assert 'href="/ar"' not in client.get("/customers").text


def test_unreadable_parameters_are_named_and_ignored(
    client: TestClient, session: Session, book: Book
) -> None:
    make_person(session, "fin.ar", role=Role.FINANCE)
    sign_in(client, "fin.ar")

    page = client.get("/ar?as_of=someday&by=colour&buckets=90,30&currency=X1")

    assert page.status_code == 200
    alert = text_of(page.text[page.text.index('role="alert"') :].split("</div>")[0])
    assert "As of is not a date" in alert
    assert "colour" in alert
    assert "90,30" in alert
    assert "three letters" in alert


# ---------------------------------------------------------------- the API


def bearer(session: Session, user: User) -> dict[str, str]:
    _, plaintext = tokens.create_token(session, actor=TESTER, user=user, name="ar tests")
    return {"Authorization": f"Bearer {plaintext}"}


def test_api_aging_drill_down_and_kpis(client: TestClient, session: Session, book: Book) -> None:
    headers = bearer(session, make_person(session, "fin.api", role=Role.FINANCE))

    aging = client.get(f"/api/v1/ar/aging?as_of={AS_OF}&buckets=60", headers=headers).json()
    cell = client.get(
        f"/api/v1/ar/aging/installments?as_of={AS_OF}&group={book.theirs.code}&bucket=61%2B&buckets=60",
        headers=headers,
    ).json()
    kpis = client.get(f"/api/v1/ar/kpis?as_of={AS_OF}&months=3", headers=headers).json()

    assert aging["buckets"] == ["current", "1-60", "61+"]
    assert [(r["key"], r["buckets"]) for r in aging["items"]] == [
        (book.theirs.code, {"current": "0.00", "1-60": "0.00", "61+": "1000.00"}),
        (book.mine.code, {"current": "100.00", "1-60": "250.00", "61+": "0.00"}),
    ]
    assert aging["items"][1]["label"] == "甲公司"
    assert aging["totals"]["total"] == "1350.00"
    assert aging["total"] == 2
    assert [(i["open_amount"], i["days_past_due"]) for i in cell["items"]] == [("1000.00", 100)]
    assert cell["total"] == 1
    assert [p["as_of"] for p in kpis["trend"]] == ["2026-04-30", "2026-05-31", AS_OF]
    assert kpis["current"]["receivables"] == "1350.00"
    assert kpis["current"]["dso"] == pytest.approx(347.14, abs=0.01)


def test_api_refuses_bad_parameters_and_the_viewer(
    client: TestClient, session: Session, book: Book
) -> None:
    finance = bearer(session, make_person(session, "fin.api", role=Role.FINANCE))
    viewer = bearer(session, make_person(session, "view.api", role=Role.VIEWER))

    sort = client.get("/api/v1/ar/aging?sort=colour", headers=finance)
    edges = client.get("/api/v1/ar/aging?buckets=60,30", headers=finance)
    bucket = client.get("/api/v1/ar/aging/installments?group=X&bucket=nope", headers=finance)
    denied = client.get("/api/v1/ar/kpis", headers=viewer)

    assert sort.status_code == 422
    assert sort.json()["error"]["details"]["field"] == "sort"
    assert edges.status_code == 422
    assert edges.json()["error"]["details"]["field"] == "buckets"
    assert bucket.status_code == 422
    assert bucket.json()["error"]["details"]["field"] == "bucket"
    assert denied.status_code == 403
