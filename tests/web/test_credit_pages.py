"""The credit panel on the customer 360 and the credit API: what a user sees of a grade, in
English and Chinese, and only for accounts in his scope."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth import tokens
from flywheel.credit import service
from flywheel.customers import service as customers
from flywheel.models.credit import CashForecast, CreditLimit
from flywheel.models.enums import Role
from flywheel.models.users import User
from tests.factories import TESTER, make_customer, make_invoice, make_payment
from tests.web.pages import csrf_of, make_person, sign_in


def scored_world(session: Session) -> tuple[str, str]:
    """A rep's late payer (scored on two days) and someone else's account."""
    rep = make_person(session, "rep.credit", role=Role.SALES)
    mine = make_customer(session, owner=rep, created_on=date(2024, 1, 1))
    other = make_customer(session, created_on=date(2024, 1, 1))
    for customer in (mine, other):
        make_invoice(
            session,
            customer=customer,
            amount="1000.00",
            issued=date(2026, 2, 1),
            due=date(2026, 3, 3),
        )
    make_payment(session, customer=mine, amount="1000.00", received=date(2026, 4, 17))
    service.score_all(session, as_of=date(2026, 3, 1))
    service.score_all(session, as_of=date(2026, 5, 2))
    session.flush()
    return mine.code, other.code


def credit_panel(page: str) -> str:
    start = page.index('data-panel="credit.score"')
    return page[start : page.index("</section>", start)]


def test_the_360_shows_grade_score_reasons_and_trend(client: TestClient, session: Session) -> None:
    mine, _other = scored_world(session)
    sign_in(client, "rep.credit")
    page = client.get(f"/customers/{mine}", params={"as_of": "2026-05-10"})
    assert page.status_code == 200
    panel = credit_panel(page.text)
    shot = service.latest_score(
        session, service_customer_id(session, mine), as_of=date(2026, 5, 10)
    )
    assert shot is not None
    assert re.search(rf'class="grade grade-{shot.grade.lower()}"[^>]*>{shot.grade}<', panel)
    assert f"<strong>{shot.score}</strong>" in panel
    assert "Average days beyond terms (12 months, by amount): 45 days" in panel
    assert "-35" in panel
    assert "<polyline" in panel  # two snapshots: a trend line


def test_the_panel_is_in_chinese_for_a_chinese_user(client: TestClient, session: Session) -> None:
    mine, _other = scored_world(session)
    make_person(session, "zh.manager", role=Role.MANAGER, language="zh")
    sign_in(client, "zh.manager")
    panel = credit_panel(client.get(f"/customers/{mine}", params={"as_of": "2026-05-10"}).text)
    assert "信用等级" in client.get(f"/customers/{mine}").text
    assert "等级原因" in panel
    assert "超账期天数" in panel


def test_an_unscored_account_says_so(client: TestClient, session: Session) -> None:
    make_person(session, "boss", role=Role.MANAGER)
    fresh = make_customer(session)
    session.flush()
    sign_in(client, "boss")
    panel = credit_panel(client.get(f"/customers/{fresh.code}").text)
    assert "Not scored yet" in panel


def service_customer_id(session: Session, code: str) -> int:
    return customers.get_customer_by_code(session, code, actor=TESTER).id


def test_the_api_gives_the_score_in_scope_only(client: TestClient, session: Session) -> None:
    mine, other = scored_world(session)
    rep = session.scalars(select(User).where(User.username == "rep.credit")).one()
    _, secret = tokens.create_token(session, actor=TESTER, user=rep, name="t")
    session.flush()
    headers = {"Authorization": f"Bearer {secret}"}
    answer = client.get(f"/api/v1/customers/{mine}/credit", headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["as_of"] == "2026-05-02"
    assert body["grade"] in "ABCDE"
    assert [p["as_of"] for p in body["history"]] == ["2026-03-01", "2026-05-02"]
    reasons = {r["factor"]: r for r in body["reasons"]}
    assert reasons["days_beyond_terms"] == {
        "factor": "days_beyond_terms",
        "value": 45.0,
        "points": -35,
    }
    assert client.get(f"/api/v1/customers/{other}/credit", headers=headers).status_code == 404


def test_finance_works_the_limit_review_queue_through_the_api(
    client: TestClient, session: Session
) -> None:
    customer = make_customer(session, created_on=date(2024, 1, 1))
    for month in range(1, 13):
        invoice = make_invoice(
            session, customer=customer, amount="3000.00", issued=date(2025, month, 1)
        )
        make_payment(
            session,
            customer=customer,
            amount="3000.00",
            received=date(2025, month, 20),
            invoice=invoice,
        )
    service.score_all(session, as_of=date(2025, 12, 31))
    finance = make_person(session, "fin.credit", role=Role.FINANCE)
    rep = make_person(session, "rep.queue", role=Role.SALES)
    session.flush()

    def bearer(user: User) -> dict[str, str]:
        _, secret = tokens.create_token(session, actor=TESTER, user=user, name="t")
        session.flush()
        return {"Authorization": f"Bearer {secret}"}

    as_finance, as_rep = bearer(finance), bearer(rep)
    assert client.get("/api/v1/credit/limit-reviews", headers=as_rep).status_code == 403
    page = client.get("/api/v1/credit/limit-reviews", headers=as_finance).json()
    mine = [r for r in page["items"] if r["customer_code"] == customer.code]
    assert len(mine) == 1
    review = mine[0]
    assert review["monthly_invoiced"] == "3000.00"
    assert review["status"] == "pending"

    denied = client.post(
        f"/api/v1/credit/limit-reviews/{review['id']}/approve", json={}, headers=as_rep
    )
    assert denied.status_code == 403
    approved = client.post(
        f"/api/v1/credit/limit-reviews/{review['id']}/approve",
        json={"limit": "7000.00", "note": "first limit"},
        headers=as_finance,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_limit"] == "7000.00"
    again = client.post(
        f"/api/v1/credit/limit-reviews/{review['id']}/reject", json={}, headers=as_finance
    )
    assert again.status_code == 409


def test_finance_approves_a_limit_on_the_review_page(client: TestClient, session: Session) -> None:
    customer = make_customer(session, created_on=date(2024, 1, 1))
    for month in range(1, 13):
        invoice = make_invoice(
            session, customer=customer, amount="2000.00", issued=date(2025, month, 1)
        )
        make_payment(
            session,
            customer=customer,
            amount="2000.00",
            received=date(2025, month, 15),
            invoice=invoice,
        )
    service.score_all(session, as_of=date(2025, 12, 31))
    make_person(session, "fin.page", role=Role.FINANCE)
    make_person(session, "rep.page", role=Role.SALES)
    session.flush()

    sign_in(client, "rep.page")
    assert client.get("/credit/reviews").status_code == 403
    client.post("/sign-out", data={"csrf_token": csrf_of(client.get("/account").text)})

    sign_in(client, "fin.page")
    page = client.get("/credit/reviews")
    assert page.status_code == 200
    assert 'href="/credit/reviews"' in page.text  # in the navigation
    row = re.search(
        r'<tr data-review="(\d+)">\s*<td><a href="/customers/' + customer.code, page.text
    )
    assert row is not None
    answer = client.post(
        f"/credit/reviews/{row.group(1)}",
        data={
            "csrf_token": csrf_of(page.text),
            "decision": "approve",
            "limit": "5,000",
            "note": "ok",
        },
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert f"Credit limit of {customer.code} set to" in answer.text
    limit = session.get(CreditLimit, customer.id)
    assert limit is not None
    assert limit.amount == Decimal("5000.00")
    assert f'<a href="/customers/{customer.code}">' not in answer.text


def test_the_cash_forecast_page_and_api_show_the_weeks_and_what_came_in(
    client: TestClient, session: Session
) -> None:
    # Given a forecast made on 2026-03-01 for the weeks from 2026-03-02 and 2026-03-09, and
    # 1,200 received on 2026-03-04,
    for start, expected in ((date(2026, 3, 2), "5000.00"), (date(2026, 3, 9), "7000.00")):
        session.add(
            CashForecast(
                as_of=date(2026, 3, 1),
                week_start=start,
                expected=Decimal(expected),
                low=Decimal("1000.00"),
                high=Decimal("9000.00"),
            )
        )
    customer = make_customer(session)
    make_payment(session, customer=customer, amount="1200.00", received=date(2026, 3, 4))
    make_person(session, "boss.fc", role=Role.MANAGER)
    make_person(session, "rep.fc", role=Role.SALES)
    session.flush()

    sign_in(client, "rep.fc")
    assert client.get("/credit/forecast").status_code == 403
    client.post("/sign-out", data={"csrf_token": csrf_of(client.get("/account").text)})
    sign_in(client, "boss.fc")
    page = client.get("/credit/forecast", params={"as_of": "2026-03-10"})
    assert page.status_code == 200
    table = page.text[page.text.index('data-testid="cash-forecast"') :]
    assert "2026-03-02" in table
    assert "2026-03-09" in table
    assert "¥1,200.00" in table or "CN¥1,200.00" in table  # the first week has passed
    api = client.get("/api/v1/credit/cash-forecast", params={"as_of": "2026-03-10"}).json()
    assert api["made_on"] == "2026-03-01"
    assert [(w["expected"], w["received"]) for w in api["weeks"]] == [
        ("5000.00", "1200.00"),
        ("7000.00", None),
    ]


def test_the_cash_forecast_keeps_each_currency_apart(client: TestClient, session: Session) -> None:
    # Given one forecast day with a CNY and a USD week, and receipts in both currencies,
    for currency, expected in (("CNY", "5000.00"), ("USD", "800.00")):
        session.add(
            CashForecast(
                as_of=date(2026, 3, 1),
                currency=currency,
                week_start=date(2026, 3, 2),
                expected=Decimal(expected),
                low=Decimal("100.00"),
                high=Decimal("9000.00"),
            )
        )
    yuan = make_customer(session, code="FC-CNY")
    dollar = make_customer(session, code="FC-USD", currency="USD")
    make_payment(session, customer=yuan, amount="1200.00", received=date(2026, 3, 4))
    make_payment(
        session, customer=dollar, amount="300.00", received=date(2026, 3, 5), currency="USD"
    )
    make_person(session, "boss.fx", role=Role.MANAGER)
    session.flush()
    sign_in(client, "boss.fx")

    # the base currency is shown first, with only its own receipts, and the other is one click away
    api = client.get("/api/v1/credit/cash-forecast", params={"as_of": "2026-03-10"}).json()
    assert (api["currency"], api["currencies"]) == ("CNY", ["CNY", "USD"])
    assert [(w["expected"], w["received"]) for w in api["weeks"]] == [("5000.00", "1200.00")]
    usd = client.get(
        "/api/v1/credit/cash-forecast", params={"as_of": "2026-03-10", "currency": "usd"}
    ).json()
    assert usd["currency"] == "USD"
    assert [(w["expected"], w["received"]) for w in usd["weeks"]] == [("800.00", "300.00")]
    page = client.get("/credit/forecast", params={"as_of": "2026-03-10", "currency": "USD"})
    assert 'data-testid="forecast-currency-CNY"' in page.text
    table = page.text[page.text.index('data-testid="cash-forecast"') :]
    assert "800.00" in table
    assert "5,000.00" not in table
