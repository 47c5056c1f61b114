"""The negotiation API: open, fill the sheet, put issues (ZOPA in the answer), a concession
above the threshold approved by a manager, a meeting, the close; scope (404) and roles (403)
change nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import Concession, Negotiation
from tests.factories import make_customer, make_user
from tests.web.api_support import bearer


def _writes(session: Session) -> tuple[int, int, int]:
    session.flush()
    return (
        session.scalar(select(func.count(Negotiation.id))) or 0,
        session.scalar(select(func.count(Concession.id))) or 0,
        session.scalar(select(func.count(AuditEvent.id))) or 0,
    )


def test_a_negotiation_end_to_end_through_the_api(client: TestClient, session: Session) -> None:
    rep = make_user(session, role=Role.SALES)
    boss = make_user(session, role=Role.MANAGER)
    other = make_user(session, role=Role.SALES)
    account = make_customer(session, tier=Tier.KEY, owner=rep)
    as_rep, as_boss, as_other = bearer(session, rep), bearer(session, boss), bearer(session, other)

    made = client.post(
        "/api/v1/negotiations",
        json={"customer": account.code, "title": "2027 frame"},
        headers=as_rep,
    )
    assert made.status_code == 201, made.text
    nid = made.json()["id"]
    assert made.json()["status"] == "preparing"

    sheet = client.patch(
        f"/api/v1/negotiations/{nid}",
        json={
            "our_objectives": "Keep the price",
            "their_batna": "南方机电",
            "status": "in_progress",
        },
        headers=as_rep,
    )
    assert sheet.status_code == 200, sheet.text
    assert (sheet.json()["our_objectives"], sheet.json()["status"]) == (
        "Keep the price",
        "in_progress",
    )

    price = client.put(
        f"/api/v1/negotiations/{nid}/issues/price",
        json={
            "our_opening": "120",
            "our_target": "110",
            "our_walkaway": "100",
            "their_walkaway": "105.5",
        },
        headers=as_rep,
    )
    assert price.status_code == 200, price.text
    [issue] = price.json()["issues"]
    assert issue["zopa"] == {"low": "100", "high": "105.5"}
    assert issue["higher_is_better"] is True

    bad = client.put(
        f"/api/v1/negotiations/{nid}/issues/price", json={"our_target": "90"}, headers=as_rep
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "our_target"

    logged = client.post(
        f"/api/v1/negotiations/{nid}/concessions",
        json={"give": "8% off", "get": "3-year term", "discount_percent": "8", "issue": "price"},
        headers=as_rep,
    )
    assert logged.status_code == 201, logged.text
    [concession] = logged.json()["concessions"]
    assert (concession["approval_status"], concession["issue"]) == ("pending", "price")

    closing = client.post(
        f"/api/v1/negotiations/{nid}/close", json={"outcome": "agreed"}, headers=as_rep
    )
    assert closing.status_code == 409
    assert closing.json()["error"]["code"] == "concessions_pending"

    before = _writes(session)
    assert (
        client.post(
            f"/api/v1/concessions/{concession['id']}/approve", json={}, headers=as_rep
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/negotiations/{nid}", headers=as_other).status_code == 404
    assert (
        client.post(f"/api/v1/negotiations/{nid}/meetings", json={}, headers=as_other).status_code
        == 404
    )
    assert _writes(session) == before

    approved = client.post(
        f"/api/v1/concessions/{concession['id']}/approve", json={"note": "ok"}, headers=as_boss
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["concessions"][0]["approval_status"] == "approved"

    met = client.post(
        f"/api/v1/negotiations/{nid}/meetings",
        json={"held_on": "2026-06-01", "attendees": "王总", "notes": "Agreed in principle"},
        headers=as_rep,
    )
    assert met.status_code == 201
    assert met.json()["meetings"][0]["held_on"] == "2026-06-01"

    closed = client.post(
        f"/api/v1/negotiations/{nid}/close",
        json={"outcome": "won", "post_mortem": "Anchored high", "agreed": {"price": "104"}},
        headers=as_rep,
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "won")
    assert closed.json()["issues"][0]["agreed"] == "104"

    listed = client.get("/api/v1/negotiations?status=closed", headers=as_rep)
    assert [i["id"] for i in listed.json()["items"]] == [nid]
    assert client.get("/api/v1/negotiations", headers=as_other).json()["total"] == 0


def test_rejecting_needs_a_note(client: TestClient, session: Session) -> None:
    boss = make_user(session, role=Role.MANAGER)
    account = make_customer(session, tier=Tier.KEY)
    as_boss = bearer(session, boss)
    nid = client.post(
        "/api/v1/negotiations", json={"customer": account.code}, headers=as_boss
    ).json()["id"]
    answer = client.post(
        f"/api/v1/negotiations/{nid}/concessions",
        json={"give": "120 days", "payment_days": 120},
        headers=as_boss,
    )
    cid = answer.json()["concessions"][0]["id"]
    assert (
        client.post(f"/api/v1/concessions/{cid}/reject", json={}, headers=as_boss).status_code
        == 422
    )
    rejected = client.post(
        f"/api/v1/concessions/{cid}/reject", json={"note": "Too long"}, headers=as_boss
    )
    assert rejected.json()["concessions"][0]["approval_status"] == "rejected"
