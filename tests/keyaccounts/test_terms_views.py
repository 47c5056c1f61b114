"""The terms-cost calculator page, its HTMX fragment and the JSON route: the live figures, the
policy flag, the table of other terms, both languages, a rep kept to his own accounts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from tests.keyaccounts.terms_support import TermsWorld, build
from tests.web.api_support import bearer
from tests.web.pages import make_person, sign_in

API = "/api/v1/accounts/{code}/terms-cost"


@pytest.fixture
def world(session: Session) -> TermsWorld:
    return build(session)


def _manager(session: Session, client: TestClient, language: str = "en") -> None:
    make_person(session, "ka.manager", role=Role.MANAGER, language=language)
    sign_in(client, "ka.manager")


def _as_of_today(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pages price on today; the world is dated AS_OF.
    from flywheel.keyaccounts import terms_views
    from tests.keyaccounts.terms_support import AS_OF

    monkeypatch.setattr(terms_views, "today", lambda: AS_OF)


def test_the_calculator_shows_the_breakdown_the_flag_and_the_table(
    session: Session, client: TestClient, world: TermsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_of_today(monkeypatch)
    _manager(session, client)

    page = client.get(
        "/accounts/terms-cost",
        params={"code": world.graded.code, "amount": "100,000.00", "terms": "90", "price": "250"},
    )

    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-testid="terms-cost-breakdown"' in html
    assert "credit grade C" in html
    assert "predicted delay 15 days" in html
    assert "CN¥1,726.03" in html
    assert "CN¥3,226.03" in html
    assert 'data-testid="terms-policy-flag"' in html
    assert "90 days instead of 30 for this grade C customer costs CN¥986.30 more" in html
    assert "+1.02%" in html
    assert "CN¥101,019.18" in html
    assert html.count("<tr data-terms=") == 6
    assert "CN¥247.48" in html  # the unit price of 250 on 90 days is 247.48 on 30


def test_a_blank_amount_and_terms_take_the_typical_order_and_current_terms(
    session: Session, client: TestClient, world: TermsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_of_today(monkeypatch)
    _manager(session, client)

    page = client.get("/accounts/terms-cost", params={"code": world.graded.code})

    assert page.status_code == 200
    assert 'value="20000.00"' in page.text
    assert 'value="30"' in page.text
    assert 'data-testid="terms-policy-flag"' not in page.text
    assert "CN¥447.95" in page.text


def test_an_account_without_invoices_waits_for_an_amount(
    session: Session, client: TestClient, world: TermsWorld
) -> None:
    _manager(session, client)

    page = client.get("/accounts/terms-cost", params={"code": world.newcomer.code})

    assert page.status_code == 200
    assert 'data-testid="terms-cost-waiting"' in page.text
    assert 'value="75"' in page.text  # its EOM60 terms, on average
    assert 'data-testid="terms-cost-breakdown"' not in page.text


def test_the_page_in_chinese(
    session: Session, client: TestClient, world: TermsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_of_today(monkeypatch)
    _manager(session, client, language="zh")

    page = client.get(
        "/accounts/terms-cost",
        params={"code": world.graded.code, "amount": "100000", "terms": "90"},
    )

    assert page.status_code == 200
    assert "账期成本" in page.text
    assert "信用等级 C" in page.text
    assert "¥986.30" in page.text
    assert "信用政策" in page.text


def test_the_empty_page_and_bad_input(
    session: Session, client: TestClient, world: TermsWorld
) -> None:
    _manager(session, client)

    empty = client.get("/accounts/terms-cost")
    bad = client.get(
        "/accounts/terms-cost", params={"code": world.graded.code, "amount": "-5", "terms": "400"}
    )
    unknown = client.get("/accounts/terms-cost", params={"code": "NO-SUCH", "amount": "5"})

    assert empty.status_code == 200
    assert 'data-testid="terms-cost-form"' in empty.text
    assert 'data-testid="terms-cost-breakdown"' not in empty.text
    assert bad.status_code == 422
    assert "Enter an amount above 0" in bad.text
    assert "Payment terms are 0 to 365 days" in bad.text
    assert unknown.status_code == 422
    assert "No customer with this code." in unknown.text


def test_the_fragment_for_the_negotiation_page_and_the_360(
    session: Session, client: TestClient, world: TermsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_of_today(monkeypatch)
    _manager(session, client)

    fragment = client.get(
        f"/accounts/{world.graded.code}/terms-cost",
        params={"amount": "100000", "terms": "90"},
        headers={"HX-Request": "true"},
    )
    bad = client.get(f"/accounts/{world.graded.code}/terms-cost", params={"terms": "²"})
    missing = client.get("/accounts/NO-SUCH/terms-cost")

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "CN¥3,226.03" in fragment.text
    assert "Open in the terms-cost calculator" in fragment.text
    assert bad.status_code == 422
    assert "Payment terms are 0 to" in bad.text
    assert missing.status_code == 404


def test_a_rep_sees_his_own_accounts_only(
    session: Session, client: TestClient, world: TermsWorld
) -> None:
    world.rep.language = "en"
    headers = bearer(session, world.rep)
    session.flush()

    mine = client.get(
        API.format(code=world.graded.code), params={"amount": "1000", "terms_days": 30},
        headers=headers,
    )  # fmt: skip
    theirs = client.get(
        API.format(code=world.foreign.code), params={"amount": "1000", "terms_days": 30},
        headers=headers,
    )  # fmt: skip

    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"


def test_the_api_answer(session: Session, client: TestClient, world: TermsWorld) -> None:
    headers = bearer(session, world.rep)

    answer = client.get(
        API.format(code=world.graded.code),
        params={
            "amount": "100000.00", "terms_days": 90, "price": "250.00", "compare": [30, 60],
            "as_of": "2026-12-05",
        },
        headers=headers,
    )  # fmt: skip

    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["credit"] | {} == {
        "grade": "C", "graded_on": "2026-11-30", "priced_as": "C", "expected_loss_rate": "0.015",
        "max_terms_days": 45, "predicted_delay_days": 15, "delay_source": "predictions",
        "delay_basis": 2, "cost_of_capital": "0.06",
    }  # fmt: skip
    assert body["cost"] == {
        "amount": "100000.00", "terms_days": 90, "financing_days": 105,
        "financing_cost": "1726.03", "expected_loss": "1500.00", "total_cost": "3226.03",
        "net_value": "96773.97", "cost_percent": "3.23", "allowed": False,
    }  # fmt: skip
    assert [(o["terms_days"], o["equivalent_price"], o["allowed"]) for o in body["options"]] == [
        (30, "247.48", True), (60, "248.73", False), (90, "250.00", False),
    ]  # fmt: skip
    assert body["versus_current"] == {
        "current_terms_days": 30, "proposed_terms_days": 90, "extra_cost": "986.30",
        "price_change_percent": "1.02", "equivalent_amount": "101019.18",
        "equivalent_price": "252.55",
    }  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        {"amount": "0", "terms_days": 30},
        {"amount": "12.345", "terms_days": 30},
        {"amount": "100", "terms_days": 366},
        {"amount": "100"},
        {"amount": "100", "terms_days": 30, "compare": [400]},
        {"amount": "100", "terms_days": 30, "as_of": "0001-01-01"},
    ],
)
def test_bad_api_input_is_a_422(
    session: Session, client: TestClient, world: TermsWorld, params: dict[str, Any]
) -> None:
    answer = client.get(
        API.format(code=world.graded.code), params=params, headers=bearer(session, world.rep)
    )

    assert answer.status_code == 422
