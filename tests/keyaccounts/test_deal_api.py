"""The deal routes of /api/v1: opening and listing in scope, changing, moving, winning with the
contract and order, losing with a reason, the stages (managers only) and the figures; each
refused request writes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.keyaccounts import Contract
from flywheel.models.sales import Order
from tests.keyaccounts.deal_support import DealWorld, build, open_deal, state
from tests.web.api_support import bearer

URL = "/api/v1/deals"


@pytest.fixture
def world(session: Session) -> DealWorld:
    return build(session)


def test_the_rep_opens_and_lists_his_deal_and_a_rival_sees_nothing(
    client: TestClient, session: Session, world: DealWorld
) -> None:
    rep = bearer(session, world.rep)
    rival = bearer(session, world.rival)

    made = client.post(
        URL,
        json={
            "customer": world.account.code,
            "title": "产线改造",
            "value": "250000.00",
            "stage": "proposal",
            "opened_on": "2026-01-05",
            "expected_close_on": "2026-04-30",
            "lines": [{"product": "伺服电机", "quantity": 50, "unit_price": "5000.00"}],
            "competitors": ["西门子"],
        },
        headers=rep,
    )
    listed = client.get(URL, params={"status": "open", "q": "产线"}, headers=rep)
    theirs = client.get(URL, headers=rival)
    hidden = client.get(f"{URL}/{made.json()['id']}", headers=rival)

    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["stage"], body["status"], body["probability"]) == ("proposal", "open", 50)
    assert (body["value"], body["weighted_value"]) == ("250000.00", "125000.00")
    assert body["owner_id"] == world.rep.id
    assert body["lines"] == [{"product": "伺服电机", "quantity": "50", "unit_price": "5000.00"}]
    assert [i["id"] for i in listed.json()["items"]] == [body["id"]]
    assert theirs.json() == {"items": [], "total": 0, "page": 1, "page_size": 50}
    assert hidden.status_code == 404


def test_bad_or_foreign_requests_are_refused_and_write_nothing(
    client: TestClient, session: Session, world: DealWorld
) -> None:
    rep = bearer(session, world.rep)
    deal = open_deal(session, world.account)
    foreign = open_deal(session, world.foreign)
    before = state(session)

    negative = client.post(
        URL, json={"customer": world.account.code, "title": "x", "value": "-1"}, headers=rep
    )
    elsewhere = client.post(
        URL, json={"customer": world.foreign.code, "title": "x", "value": "1"}, headers=rep
    )
    to_won = client.post(f"{URL}/{deal.id}/move", json={"stage": "won"}, headers=rep)
    no_reason = client.post(f"{URL}/{deal.id}/lose", json={"lost_reason": ""}, headers=rep)
    not_mine = client.post(f"{URL}/{foreign.id}/move", json={"stage": "proposal"}, headers=rep)
    stage = client.put(f"{URL}/stages/demo", json={"probability": 40}, headers=rep)
    null_title = client.patch(f"{URL}/{deal.id}", json={"title": None}, headers=rep)

    assert negative.status_code == 422
    assert elsewhere.status_code == 404
    assert to_won.status_code == 422
    assert to_won.json()["error"]["details"]["field"] == "stage"
    assert no_reason.status_code == 422
    assert not_mine.status_code == 404
    assert stage.status_code == 403
    assert null_title.status_code == 422
    assert state(session) == before


def test_edit_move_win_with_contract_and_order(
    client: TestClient, session: Session, world: DealWorld
) -> None:
    rep = bearer(session, world.rep)
    deal = open_deal(session, world.account)

    edited = client.patch(
        f"{URL}/{deal.id}", json={"value": "80000.00", "competitors": ["ABB"]}, headers=rep
    )
    moved = client.post(f"{URL}/{deal.id}/move", json={"stage": "negotiation"}, headers=rep)
    won = client.post(
        f"{URL}/{deal.id}/win",
        json={
            "closed_on": "2026-02-01",
            "create_contract": True,
            "contract_number": "HT-API-1",
            "create_order": True,
            "order_number": "SO-API-1",
        },
        headers=rep,
    )
    again = client.post(f"{URL}/{deal.id}/lose", json={"lost_reason": "x"}, headers=rep)

    assert edited.json()["competitors"] == ["ABB"]
    assert moved.json()["weighted_value"] == "60000.00"
    assert won.status_code == 200, won.text
    body = won.json()
    assert (body["status"], body["closed_on"]) == ("won", "2026-02-01")
    contract = session.get(Contract, body["contract_id"])
    order = session.get(Order, body["order_id"])
    assert contract is not None
    assert contract.number == "HT-API-1"
    assert order is not None
    assert (order.number, str(order.amount)) == ("SO-API-1", "80000.00")
    assert again.status_code == 409


def test_stages_and_figures(client: TestClient, session: Session, world: DealWorld) -> None:
    manager = bearer(session, world.manager)
    rep = bearer(session, world.rep)
    open_deal(session, world.account, stage="proposal")
    lost = open_deal(session, world.account)
    client.post(
        f"{URL}/{lost.id}/lose",
        json={"lost_reason": "预算", "closed_on": "2026-02-01"},
        headers=rep,
    )

    put = client.put(
        f"{URL}/stages/demo",
        json={"name_en": "Demo", "name_zh": "演示", "position": 25, "probability": 40},
        headers=manager,
    )
    stages = client.get(f"{URL}/stages", headers=rep)
    figures = client.get(
        f"{URL}/figures", params={"start": "2026-01-01", "end": "2026-03-31"}, headers=rep
    )

    assert put.status_code == 200, put.text
    assert [s["code"] for s in stages.json()["items"]][:4] == [
        "lead",
        "qualified",
        "demo",
        "proposal",
    ]
    body = figures.json()
    assert figures.status_code == 200, figures.text
    assert body["open_value"] == {"CNY": "100000.00"}
    assert body["weighted_value"] == {"CNY": "50000.00"}
    assert (body["won"], body["lost"], body["win_rate"]) == (0, 1, 0.0)
