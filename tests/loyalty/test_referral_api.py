"""The referral routes of /api/v1: recording and listing in scope, moving a referral on (a refused
move changes nothing), granting a credit-note reward, the KPIs and the reward rules; each
denied request writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import CreditNote
from tests.factories import make_user
from tests.loyalty.referral_support import REFERRED_ON, WON_ON, ReferralWorld, audit_total, build
from tests.web.api_support import bearer

URL = "/api/v1/loyalty/referrals"


@pytest.fixture
def world(session: Session) -> ReferralWorld:
    return build(session)


def _state(session: Session) -> tuple[int, int, int, int]:
    session.flush()
    return (
        audit_total(session),
        session.scalar(select(func.count(Referral.id))) or 0,
        session.scalar(select(func.count(CreditNote.id))) or 0,
        session.scalar(select(func.count(ReferralRewardRule.id))) or 0,
    )


def _new(client: TestClient, headers: dict[str, str], world: ReferralWorld, **extra: Any) -> Any:
    body = {
        "customer": world.referrer.code,
        "referrer_contact_id": world.contact.id,
        "lead_company": "南山精工",
        "lead_contact": "钱经理",
        "referred_on": REFERRED_ON.isoformat(),
        **extra,
    }
    return client.post(URL, json=body, headers=headers)


def test_the_rep_records_and_lists_his_referral_and_a_rival_sees_nothing(
    client: TestClient, session: Session, world: ReferralWorld
) -> None:
    rep = bearer(session, world.rep)
    rival = bearer(session, world.rival)

    made = _new(client, rep, world)
    listed = client.get(URL, params={"q": "南山"}, headers=rep)
    theirs = client.get(URL, headers=rival)
    hidden = client.get(f"{URL}/{made.json()['id']}", headers=rival)

    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "lead"
    assert body["customer"] == world.referrer.code
    assert body["referrer_contact"] == "赵总"
    assert body["allowed_statuses"] == ["contacted", "lost", "qualified", "won"]
    assert body["created_by"] == world.rep.username
    assert [i["id"] for i in listed.json()["items"]] == [body["id"]]
    assert listed.json()["total"] == 1
    assert theirs.json() == {"items": [], "total": 0, "page": 1, "page_size": 50}
    assert hidden.status_code == 404


def test_a_bad_referral_is_a_422_and_writes_nothing(
    client: TestClient, session: Session, world: ReferralWorld
) -> None:
    rep = bearer(session, world.rep)
    before = _state(session)

    nameless = _new(client, rep, world, lead_company=None, lead_contact=None)
    unknown_field = _new(client, rep, world, colour="red")
    future = _new(client, rep, world, referred_on="2999-01-01")
    wrong_account = _new(client, rep, world, referred_customer=world.foreign.code)

    assert nameless.status_code == 422
    assert nameless.json()["error"]["details"]["field"] == "lead_company"
    assert unknown_field.status_code == 422
    assert future.status_code == 422
    assert future.json()["error"]["details"]["field"] == "referred_on"
    assert wrong_account.status_code == 404  # the rival's account is not his to name
    assert _state(session) == before


def test_patch_moves_it_to_won_and_the_reward_is_granted_as_a_credit_note(
    client: TestClient, session: Session, world: ReferralWorld
) -> None:
    rep = bearer(session, world.rep)
    finance = bearer(session, world.finance)
    referral_id = _new(client, rep, world).json()["id"]

    refused = client.patch(f"{URL}/{referral_id}", json={"status": "won"}, headers=rep)
    won = client.patch(
        f"{URL}/{referral_id}",
        json={
            "status": "won",
            "won_on": WON_ON.isoformat(),
            "referred_customer": world.newcomer.code,
            "notes": "三月签约",
        },
        headers=rep,
    )
    backwards = client.patch(f"{URL}/{referral_id}", json={"status": "lead"}, headers=rep)
    by_rep = client.post(f"{URL}/{referral_id}/reward", json={"decision": "grant"}, headers=rep)
    granted = client.post(
        f"{URL}/{referral_id}/reward",
        json={"decision": "grant", "on": "2026-03-25"},
        headers=finance,
    )

    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "referred_customer"
    assert won.status_code == 200, won.text
    assert won.json()["status"] == "won"
    assert won.json()["referred_customer"] == world.newcomer.code
    assert won.json()["reward_status"] == "pending"
    assert won.json()["reward_amount"] == "500.00"
    assert won.json()["notes"] == "三月签约"
    assert won.json()["allowed_statuses"] == []
    assert backwards.status_code == 409
    assert backwards.json()["error"]["code"] == "referral_transition_invalid"
    assert by_rep.status_code == 403
    assert granted.status_code == 200, granted.text
    assert granted.json()["reward_status"] == "granted"
    assert granted.json()["reward_credit_note"] == f"CN-REF-{referral_id:06d}"
    note = session.scalar(
        select(CreditNote).where(CreditNote.number == f"CN-REF-{referral_id:06d}")
    )
    assert note is not None
    assert str(note.amount) == "500.00"


def test_a_decline_needs_a_reason(
    client: TestClient, session: Session, world: ReferralWorld
) -> None:
    rep = bearer(session, world.rep)
    manager = bearer(session, make_user(session, role=Role.MANAGER))
    referral_id = _new(client, rep, world, referred_customer=world.newcomer.code).json()["id"]
    client.patch(
        f"{URL}/{referral_id}", json={"status": "won", "won_on": WON_ON.isoformat()}, headers=rep
    )

    silent = client.post(
        f"{URL}/{referral_id}/reward", json={"decision": "decline"}, headers=manager
    )
    declined = client.post(
        f"{URL}/{referral_id}/reward",
        json={"decision": "decline", "reason": "重复推荐"},
        headers=manager,
    )

    assert silent.status_code == 422
    assert declined.json()["reward_status"] == "declined"


def test_the_kpis_route(client: TestClient, session: Session, world: ReferralWorld) -> None:
    rep = bearer(session, world.rep)
    _new(client, rep, world)

    answer = client.get(
        f"{URL}/kpis", params={"start": "2026-03-01", "end": "2026-03-31"}, headers=rep
    )
    backwards = client.get(
        f"{URL}/kpis", params={"start": "2026-04-01", "end": "2026-03-31"}, headers=rep
    )

    assert answer.status_code == 200
    assert answer.json()["made"] == 1
    assert answer.json()["conversion_rate"] == 0.0
    assert answer.json()["as_of"] == "2026-03-31"
    assert backwards.status_code == 422


def test_reward_rules_are_managed_by_managers_only(
    client: TestClient, session: Session, world: ReferralWorld
) -> None:
    manager = bearer(session, make_user(session, role=Role.MANAGER))
    finance = bearer(session, world.finance)
    before = _state(session)

    denied = client.post(
        f"{URL}/rules",
        json={"name": "九五折", "kind": "discount", "percent": "5"},
        headers=finance,
    )
    assert denied.status_code == 403
    assert _state(session) == before

    made = client.post(
        f"{URL}/rules",
        json={"name": "九五折", "kind": "discount", "percent": "5", "min_first_order": "10000"},
        headers=manager,
    )
    changed = client.patch(
        f"{URL}/rules/{made.json()['id']}", json={"percent": "7.5"}, headers=manager
    )
    nulled = client.patch(f"{URL}/rules/{made.json()['id']}", json={"name": None}, headers=manager)
    rules = client.get(f"{URL}/rules", headers=finance)

    assert made.status_code == 201, made.text
    assert made.json()["min_first_order"] == "10000.00"
    assert changed.json()["percent"] == "7.50"
    assert nulled.status_code == 422
    assert [(r["name"], r["active"]) for r in rules.json()["items"]] == [
        ("九五折", True),
        ("默认转介绍奖励", False),
    ]
