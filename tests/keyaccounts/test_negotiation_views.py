"""The negotiation pages, signed in through the form: the list, the new form (from an account),
the workspace's forms (sheet, issue with its ZOPA, a concession above the threshold approved
by a manager, a meeting, the close), bad input shown on the form with nothing written, the
print view in English and Chinese, and scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import Concession, Negotiation
from tests.factories import make_customer, make_invoice
from tests.web.pages import audit_count, make_person, sign_in


def _post(client: TestClient, url: str, csrf: str, **data: str) -> int:
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False).status_code


def test_a_rep_prepares_and_a_manager_approves_through_the_pages(
    client: TestClient, session: Session
) -> None:
    rep = make_person(session, "li.wei", role=Role.SALES)
    make_person(session, "boss", role=Role.MANAGER, language="zh")
    account = make_customer(session, tier=Tier.KEY, owner=rep, name="华东重工")
    csrf = sign_in(client, "li.wei")

    form = client.get(f"/negotiations/new?customer={account.code}")
    assert form.status_code == 200
    assert f'name="customer" value="{account.code}"' in form.text
    assert _post(client, "/negotiations", csrf, customer=account.code, title="2027 frame") == 303
    negotiation = session.scalar(select(Negotiation))
    assert negotiation is not None
    url = f"/negotiations/{negotiation.id}"

    assert (
        _post(
            client,
            f"{url}/sheet",
            csrf,
            title="2027 frame",
            our_objectives="Hold the price",
            our_batna="Sell to 南方",
        )
        == 303
    )
    assert (
        _post(
            client,
            f"{url}/issues",
            csrf,
            name="price",
            our_opening="120",
            our_target="110",
            our_walkaway="100",
            their_opening="90",
            their_target="100",
            their_walkaway="108",
        )
        == 303
    )
    page = client.get(url)
    assert 'data-testid="zopa-price"' in page.text
    assert "100 – 108" in page.text
    assert 'id="zopa-charts"' in page.text

    # A position out of order is shown on the form; nothing written.
    before = audit_count(session)
    bad = client.post(
        f"{url}/issues", data={"csrf_token": csrf, "name": "price", "our_target": "95"}
    )
    assert bad.status_code == 422
    assert "cannot be below" in bad.text
    assert audit_count(session) == before

    assert (
        _post(
            client,
            f"{url}/concessions",
            csrf,
            kind="logged",
            give="8% off",
            get="3 years",
            discount_percent="8",
            issue="price",
        )
        == 303
    )
    concession = session.scalar(select(Concession))
    assert concession is not None
    assert concession.approval_status == "pending"
    page = client.get(url)
    assert "Waiting for approval" in page.text
    assert f'action="/concessions/{concession.id}/decision"' not in page.text  # a rep cannot decide
    assert _post(client, f"/concessions/{concession.id}/decision", csrf, decision="approve") == 403

    refused = client.post(f"{url}/close", data={"csrf_token": csrf, "outcome": "agreed"})
    assert refused.status_code == 422
    assert "wait for a manager" in refused.text

    client.cookies.clear()
    boss_csrf = sign_in(client, "boss")
    page = client.get(url)
    assert f'action="/concessions/{concession.id}/decision"' in page.text
    assert "待审批" in page.text
    assert (
        _post(client, f"/concessions/{concession.id}/decision", boss_csrf, decision="reject") == 422
    )
    assert (
        _post(
            client,
            f"/concessions/{concession.id}/decision",
            boss_csrf,
            decision="approve",
            note="可以",
        )
        == 303
    )
    session.refresh(concession)
    assert concession.approval_status == "approved"

    printed = client.get(f"{url}/print")
    assert printed.status_code == 200
    assert "谈判准备表" in printed.text
    assert '<html lang="zh-CN">' in printed.text

    client.cookies.clear()
    csrf = sign_in(client, "li.wei")
    assert (
        _post(
            client,
            f"{url}/meetings",
            csrf,
            held_on="2026-06-01",
            attendees="王总",
            notes="OK in principle",
        )
        == 303
    )
    assert _post(client, f"{url}/close", csrf, outcome="won", post_mortem="Anchor high") == 303
    session.refresh(negotiation)
    assert (negotiation.status, negotiation.outcome) == ("closed", "won")
    printed = client.get(f"{url}/print")
    assert "Negotiation preparation sheet" in printed.text
    assert "@media print" in printed.text
    listed = client.get("/negotiations?status=closed")
    assert f'data-negotiation="{negotiation.id}"' in listed.text


def test_another_rep_sees_nothing(client: TestClient, session: Session) -> None:
    owner = make_person(session, "owner", role=Role.SALES)
    make_person(session, "other", role=Role.SALES)
    account = make_customer(session, tier=Tier.KEY, owner=owner)
    negotiation = Negotiation(customer_id=account.id, title="X", owner_id=owner.id)
    session.add(negotiation)
    session.flush()
    csrf = sign_in(client, "other")
    assert client.get(f"/negotiations/{negotiation.id}").status_code == 404
    assert client.get(f"/negotiations/{negotiation.id}/print").status_code == 404
    assert _post(client, f"/negotiations/{negotiation.id}/meetings", csrf) == 404
    assert (
        f'data-negotiation="{negotiation.id}"'
        not in client.get("/negotiations?scope=all&status=all").text
    )
    assert session.scalar(select(func.count(Negotiation.id))) == 1


def test_the_new_form_from_a_deal_or_a_contract_presets_the_account(
    client: TestClient, session: Session
) -> None:
    from datetime import date
    from decimal import Decimal

    from flywheel.models.keyaccounts import Contract, Deal, DealStage

    rep = make_person(session, "li.wei", role=Role.SALES)
    account = make_customer(session, tier=Tier.KEY, owner=rep)
    stage = DealStage(code="v_prop", name_en="P", name_zh="P", position=7, probability=40)
    session.add(stage)
    session.flush()
    deal = Deal(
        customer_id=account.id,
        title="Line 3 retrofit",
        stage_id=stage.id,
        value=Decimal(500000),
        currency="CNY",
        opened_on=date(2026, 5, 1),
    )
    contract = Contract(
        customer_id=account.id,
        number="HT-V-9",
        title="Frame",
        value=Decimal(1),
        currency="CNY",
        start_on=date(2025, 1, 1),
        end_on=date(2026, 12, 31),
        payment_terms="NET60",
    )
    session.add_all([deal, contract])
    session.flush()
    csrf = sign_in(client, "li.wei")

    by_deal = client.get(f"/negotiations/new?deal={deal.id}")
    assert f'name="customer" value="{account.code}"' in by_deal.text
    assert 'value="Line 3 retrofit"' in by_deal.text
    by_contract = client.get(f"/negotiations/new?contract={contract.id}")
    assert "Renewal of HT-V-9" in by_contract.text
    assert _post(client, "/negotiations", csrf, deal=str(deal.id), customer=account.code) == 303
    made = session.scalar(select(Negotiation))
    assert made is not None
    assert (made.deal_id, made.title) == (deal.id, "Line 3 retrofit")


def test_the_workspace_prices_the_payment_terms_on_the_table(
    client: TestClient, session: Session
) -> None:
    rep = make_person(session, "li.wei", role=Role.SALES)
    account = make_customer(session, tier=Tier.KEY, owner=rep, name="华东重工")
    make_invoice(session, customer=account, amount="80000.00")  # its typical order
    csrf = sign_in(client, "li.wei")
    assert _post(client, "/negotiations", csrf, customer=account.code, title="Terms") == 303
    negotiation = session.scalar(select(Negotiation))
    assert negotiation is not None
    url = f"/negotiations/{negotiation.id}"
    terms = {"our_opening": "30", "our_target": "60", "our_walkaway": "90"}
    assert _post(client, f"{url}/issues", csrf, name="payment_terms", **terms) == 303

    page = client.get(url)

    fragment_url = f"/accounts/{account.code}/terms-cost?terms=60"
    assert f'hx-get="{fragment_url}"' in page.text
    fragment = client.get(fragment_url)
    assert fragment.status_code == 200
    assert 'data-testid="terms-cost-breakdown"' in fragment.text
