"""The collections API: the worklist, logged calls and the actions' outcomes, promises,
disputes, plans and extensions, strategies, credit holds and statements; exact figures, the
field a refusal names, and a refusal writing nothing.

The company is ``tests.web.api_support``'s: each book (OWN-1 the rep's, OTHER-1 the rival's)
owes INV-…-B (450.00 open, due 2026-04-01) and INV-…-C (300.00, due 2026-04-10), and has an
open call task, a chat-robot message for review, a promise of 100.00, a price dispute of 50.00
on INV-…-B and a proposed extension of it to 2026-07-31.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flywheel.models.collections import OutboxMessage
from flywheel.web.contract import today
from tests.web.api_support import (
    ROBOT,
    Company,
    SharedClient,
    World,
    audit_actions,
    audit_count,
    company_for_module,
    database_state,
    shared_client,
)

API = "/api/v1"


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[SharedClient]:
    yield from shared_client(engine)


@pytest.fixture
def client(shared: SharedClient, session: Session) -> TestClient:
    return shared.using(session)


@pytest.fixture(scope="module")
def company(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    yield from company_for_module(engine, tmp_path_factory.mktemp("uploads"))


@pytest.fixture
def session(company: Company) -> Iterator[Session]:
    yield from company.test_session()


@pytest.fixture
def world(company: Company, session: Session) -> World:
    return company.world


def soon(days: int = 10) -> str:
    return (today() + timedelta(days=days)).isoformat()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(
    session: Session, client: TestClient, method: str, url: str, headers: dict[str, str], **kw: Any
) -> dict[str, Any]:
    """The error of a request, after checking that it wrote nothing."""
    before = database_state(session)
    response = client.request(method, f"{API}{url}", headers=headers, **kw)
    assert response.status_code >= 400, response.text
    assert database_state(session) == before
    error: dict[str, Any] = response.json()["error"]
    error["status"] = response.status_code
    return error


# ---------------------------------------------------------------- the worklist


def test_the_worklist_orders_promises_disputes_then_tasks(client: TestClient, world: World) -> None:
    page = ok(
        client.get(
            f"{API}/collections/worklist",
            params={"mine": "all", "q": "own-1"},
            headers=world.headers["collector"],
        )
    )

    assert page["as_of"] == today().isoformat()
    assert page["total"] == 4
    assert [(i["source"], i["id"], i["priority"]) for i in page["items"]] == [
        ("promise", world.own.promise, 0),
        ("dispute", world.own.dispute, 1),
        ("action", world.own.action, 2),
        ("action", world.own.message, 2),
    ]
    promise, dispute, call, message = page["items"]
    assert promise["kind"] == "promise_due"
    assert promise["amount"] == "100.00"
    assert promise["days_overdue"] == (today() - date(2026, 7, 10)).days
    assert dispute["amount"] == "50.00"
    assert dispute["due_on"] == "2026-07-10"
    assert dispute["note"] == "单价与合同不符"
    assert (call["channel"], call["amount"], call["days_overdue"]) == ("call", "450.00", 90)
    assert call["customer"] == "OWN-1"
    assert call["customer_name"] == "OWN 客户"
    assert message["channel"] == "webhook"


def test_the_worklist_is_scoped_and_filtered(client: TestClient, world: World) -> None:
    def ids(caller: str, **params: Any) -> list[tuple[str, str]]:
        page = ok(
            client.get(f"{API}/collections/worklist", params=params, headers=world.headers[caller])
        )
        return [(i["source"], i["customer"]) for i in page["items"]]

    assert {c for _, c in ids("rep")} == {"OWN-1"}
    assert {c for _, c in ids("rival")} == {"OTHER-1"}
    assert {c for _, c in ids("collector")} == {"OWN-1", "OTHER-1"}
    # Equal value and day: by code.
    assert ids("collector", channel="webhook") == [("action", "OTHER-1"), ("action", "OWN-1")]
    assert [s for s, _ in ids("collector", channel="promise")] == ["promise", "promise"]
    assert ids("collector", q="nobody") == []
    paged = ok(
        client.get(
            f"{API}/collections/worklist",
            params={"page": 2, "page_size": 3},
            headers=world.headers["collector"],
        )
    )
    # The disputes belong to the accounts' owners: not the collector's by default.
    assert (paged["total"], len(paged["items"]), paged["page"]) == (6, 3, 2)


def test_the_worklist_refuses_an_unknown_filter(client: TestClient, world: World) -> None:
    for params in ({"grade": "F"}, {"channel": "fax"}, {"mine": "ours"}):
        response = client.get(
            f"{API}/collections/worklist", params=params, headers=world.headers["collector"]
        )
        assert response.status_code == 422, params
        [name] = params
        assert response.json()["error"]["details"]["errors"][0]["location"] == ["query", name]


# ---------------------------------------------------------------- calls and actions


def test_a_call_with_a_promise_finishes_the_task(
    client: TestClient, session: Session, world: World
) -> None:
    since = audit_count(session)

    answer = ok(
        client.post(
            f"{API}/collections/actions/{world.own.action}/call",
            json={
                "outcome": "promised",
                "note": "月底前付",
                "promise": {"amount": "200.00", "promised_on": soon()},
            },
            headers=world.headers["collector"],
        )
    )

    action, promise = answer["action"], answer["promise"]
    assert (action["id"], action["status"], action["outcome"]) == (
        world.own.action,
        "done",
        "promised",
    )
    assert action["note"] == "月底前付"
    assert answer["dispute"] is None
    assert promise["amount"] == "200.00"
    assert promise["promised_on"] == soon()
    assert promise["made_on"] == today().isoformat()
    assert promise["installment_ids"] == [world.own.installment]
    assert promise["channel"] == "call"
    assert promise["action_id"] == world.own.action
    assert promise["created_by"] == "collector"
    assert audit_actions(session, since=since) == [
        "promise.recorded",
        "collections.call_logged",
        "touchpoint.logged",
    ]
    history = ok(client.get(f"{API}/customers/OWN-1/collections", headers=world.headers["rep"]))
    assert [p["amount"] for p in history["promises"]] == ["100.00", "200.00"]
    statuses = {a["id"]: a["status"] for a in history["actions"]}
    assert statuses[world.own.action] == "done"


def test_a_call_without_a_task_can_open_a_dispute(
    client: TestClient, session: Session, world: World
) -> None:
    answer = ok(
        client.post(
            f"{API}/customers/OWN-1/calls",
            json={
                "outcome": "disputed",
                "dispute": {
                    "installment_id": world.own.installment,
                    "reason": "quantity",
                    "amount": "20.00",
                },
                "note": "少发两箱",
            },
            headers=world.headers["rep"],
        ),
        201,
    )

    assert answer["action"]["kind"] == "call_log"
    assert answer["action"]["assigned_to"] == "rep"
    dispute = answer["dispute"]
    assert (dispute["invoice"], dispute["reason"], dispute["amount"]) == (
        "INV-OWN-B",
        "quantity",
        "20.00",
    )
    assert dispute["description"] == "少发两箱"
    assert dispute["owner"] == "rep"
    assert dispute["sla_due_on"] == soon(10)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "promised"}, "promise"),
        ({"outcome": "disputed"}, "dispute"),
    ],
)
def test_a_call_missing_what_its_outcome_needs_is_refused(
    client: TestClient, session: Session, world: World, body: dict[str, Any], field: str
) -> None:
    error = refused(
        session,
        client,
        "POST",
        f"/collections/actions/{world.own.action}/call",
        world.headers["collector"],
        json=body,
    )

    assert (error["status"], error["code"]) == (422, "validation_failed")
    assert error["details"]["field"] == field


def test_a_call_about_an_account_outside_the_scope_is_not_found(
    client: TestClient, session: Session, world: World
) -> None:
    error = refused(
        session,
        client,
        "POST",
        f"/collections/actions/{world.other.action}/call",
        world.headers["rep"],
        json={"outcome": "reached"},
    )

    assert (error["status"], error["message"]) == (
        404,
        f"collection action {world.other.action} not found",
    )


def test_tasks_are_done_or_cancelled_once(
    client: TestClient, session: Session, world: World
) -> None:
    url = f"{API}/collections/actions/{world.own.action}"
    headers = world.headers["collector"]
    error = refused(
        session,
        client,
        "POST",
        f"/collections/actions/{world.own.action}/cancel",
        headers,
        json={"reason": ""},
    )
    assert error["details"]["errors"][0]["location"] == ["body", "reason"]

    done = ok(client.post(f"{url}/done", json={"note": "已寄函"}, headers=headers))

    assert (done["status"], done["note"]) == ("done", "已寄函")
    assert done["completed_at"] is not None
    again = refused(
        session,
        client,
        "POST",
        f"/collections/actions/{world.own.action}/cancel",
        headers,
        json={"reason": "x"},
    )
    assert (again["status"], again["message"]) == (
        409,
        f"action {world.own.action} is already done",
    )


def test_a_message_for_review_is_queued_for_the_robot(
    client: TestClient, session: Session, world: World
) -> None:
    sent = ok(
        client.post(
            f"{API}/collections/actions/{world.own.message}/send",
            headers=world.headers["finance"],
        )
    )

    assert sent["status"] == "queued"
    [message] = session.scalars(
        select(OutboxMessage).where(OutboxMessage.action_id == world.own.message)
    ).all()
    assert (message.channel, message.recipient, message.status) == ("webhook", ROBOT, "pending")
    call = refused(
        session,
        client,
        "POST",
        f"/collections/actions/{world.own.action}/send",
        world.headers["finance"],
    )
    assert (call["status"], call["details"]["field"]) == (422, "action_id")


# ---------------------------------------------------------------- promises


def test_recording_and_cancelling_a_promise(
    client: TestClient, session: Session, world: World
) -> None:
    made = ok(
        client.post(
            f"{API}/customers/OWN-1/promises",
            json={"amount": "500", "promised_on": soon(30), "channel": "email", "note": " 分两笔 "},
            headers=world.headers["rep"],
        ),
        201,
    )

    assert made["amount"] == "500.00"
    assert made["status"] == "pending"
    assert made["paid_amount"] == "0.00"
    assert made["note"] == "分两笔"
    assert made["installment_ids"] == sorted([world.own.installment, world.own.free_installment])

    listed = ok(
        client.get(
            f"{API}/collections/promises",
            params={"customer": "OWN-1", "status": "pending"},
            headers=world.headers["viewer"],
        )
    )
    assert [p["id"] for p in listed["items"]] == [world.own.promise, made["id"]]

    cancelled = ok(
        client.post(
            f"{API}/collections/promises/{made['id']}/cancel",
            json={"reason": "改为分期"},
            headers=world.headers["rep"],
        )
    )
    assert (cancelled["status"], cancelled["resolved_on"]) == ("cancelled", today().isoformat())
    assert cancelled["note"] == "分两笔\n改为分期"
    again = refused(
        session,
        client,
        "POST",
        f"/collections/promises/{made['id']}/cancel",
        world.headers["rep"],
        json={"reason": "x"},
    )
    assert again["status"] == 409


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        (
            {"amount": "750.01", "promised_on": "+10"},
            422,
            "amount",
            "amount: 750.01 is more than OWN-1 owes in CNY (750.00)",
        ),
        ({"amount": "10.00", "promised_on": "-1"}, 422, "promised_on", "promised_on: "),
        ({"amount": "10.00", "promised_on": "+181"}, 422, "promised_on", "promised_on: more"),
        (
            {"amount": "10.00", "promised_on": "+10", "contact_id": 999999},
            422,
            "contact_id",
            "contact_id: contact 999999 is not a contact of OWN-1",
        ),
    ],
)
def test_a_bad_promise_names_the_field(
    client: TestClient,
    session: Session,
    world: World,
    body: dict[str, Any],
    status: int,
    field: str,
    message: str,
) -> None:
    body = {**body, "promised_on": soon(int(body["promised_on"]))}

    error = refused(
        session, client, "POST", "/customers/OWN-1/promises", world.headers["collector"], json=body
    )

    assert error["status"] == status
    assert error["details"]["field"] == field
    assert error["message"].startswith(message)


@pytest.mark.parametrize("amount", ["0", "-5", "1.001", "abc"])
def test_a_promise_amount_that_is_not_money_is_refused(
    client: TestClient, session: Session, world: World, amount: str
) -> None:
    error = refused(
        session,
        client,
        "POST",
        "/customers/OWN-1/promises",
        world.headers["collector"],
        json={"amount": amount, "promised_on": soon()},
    )

    assert error["status"] == 422
    assert error["details"]["errors"][0]["location"] == ["body", "amount"]


def test_a_viewer_records_no_promise(client: TestClient, session: Session, world: World) -> None:
    error = refused(
        session,
        client,
        "POST",
        "/customers/OWN-1/promises",
        world.headers["viewer"],
        json={"amount": "10.00", "promised_on": soon()},
    )

    assert (error["status"], error["code"]) == (403, "forbidden")


# ---------------------------------------------------------------- disputes


def test_a_dispute_is_listed_shown_reassigned_and_resolved_by_credit_note(
    client: TestClient, session: Session, world: World
) -> None:
    listed = ok(
        client.get(
            f"{API}/collections/disputes",
            params={"status": "open", "customer": "OWN-1"},
            headers=world.headers["rep"],
        )
    )
    assert listed["total"] == 1
    [dispute] = listed["items"]
    assert dispute == {
        "id": world.own.dispute,
        "customer": "OWN-1",
        "customer_name": "OWN 客户",
        "invoice": "INV-OWN-B",
        "installment_id": world.own.installment,
        "reason": "price",
        "amount": "50.00",
        "currency": "CNY",
        "description": "单价与合同不符",
        "owner": "rep",
        "status": "open",
        "opened_on": "2026-06-30",
        "sla_due_on": "2026-07-10",
        "escalated_on": None,
        "source": "collector",
        "resolution": None,
        "resolution_note": None,
        "resolved_on": None,
        "credit_note": None,
    }
    url = f"{API}/collections/disputes/{world.own.dispute}"
    assert ok(client.get(url, headers=world.headers["viewer"])) == dispute

    moved = ok(
        client.post(
            f"{url}/reassign", json={"owner": "collector"}, headers=world.headers["manager"]
        )
    )
    assert moved["owner"] == "collector"
    assert (
        ok(
            client.get(
                f"{API}/collections/disputes",
                params={"owner": "collector"},
                headers=world.headers["viewer"],
            )
        )["total"]
        == 1
    )
    nobody = refused(
        session,
        client,
        "POST",
        f"/collections/disputes/{world.own.dispute}/reassign",
        world.headers["manager"],
        json={"owner": "ghost"},
    )
    assert (nobody["status"], nobody["details"]["field"]) == (422, "owner")

    resolved = ok(
        client.post(
            f"{url}/resolve",
            json={"resolution": "credit_note", "credit_amount": "30.00", "note": "同意降价"},
            headers=world.headers["finance"],
        )
    )
    assert resolved["status"] == "resolved"
    assert resolved["credit_note"] == f"CN-DSP-{world.own.dispute}"
    assert resolved["resolved_on"] == today().isoformat()
    invoice = ok(client.get(f"{API}/invoices/INV-OWN-B", headers=world.headers["finance"]))
    assert invoice["open_amount"] == "420.00"


def test_a_sales_rep_may_not_resolve_and_a_rejection_needs_a_note(
    client: TestClient, session: Session, world: World
) -> None:
    url = f"/collections/disputes/{world.own.dispute}/resolve"

    forbidden = refused(
        session,
        client,
        "POST",
        url,
        world.headers["rep"],
        json={"resolution": "rejected", "note": "x"},
    )
    no_note = refused(
        session, client, "POST", url, world.headers["collector"], json={"resolution": "rejected"}
    )

    assert forbidden["status"] == 403
    assert (no_note["status"], no_note["details"]["field"]) == (422, "note")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"installment_id": 0, "reason": "price"}, 422, None),
        ({"installment_id": 1, "reason": "weather"}, 422, None),
        ({"reason": "price", "amount": "400.01"}, 422, "amount"),
        ({"reason": "price", "owner": "ghost"}, 422, "owner"),
    ],
)
def test_a_bad_dispute_is_refused(
    client: TestClient,
    session: Session,
    world: World,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    body = {"installment_id": world.own.installment, **body}

    error = refused(
        session, client, "POST", "/customers/OWN-1/disputes", world.headers["collector"], json=body
    )

    assert error["status"] == status
    if field is not None:
        assert error["details"]["field"] == field


def test_a_dispute_on_another_accounts_item_is_not_found(
    client: TestClient, session: Session, world: World
) -> None:
    error = refused(
        session,
        client,
        "POST",
        "/customers/OWN-1/disputes",
        world.headers["admin"],
        json={"installment_id": world.other.installment, "reason": "price"},
    )

    assert error["status"] == 404


# ---------------------------------------------------------------- plans and extensions


def test_an_approved_extension_moves_the_due_date(
    client: TestClient, session: Session, world: World
) -> None:
    url = f"{API}/collections/arrangements/{world.own.arrangement}"
    confirmed = ok(
        client.post(
            f"{url}/confirm",
            json={"confirmation": "王经理 邮件", "confirmed_on": "2026-07-02"},
            headers=world.headers["rep"],
        )
    )
    assert (confirmed["customer_confirmed_on"], confirmed["customer_confirmation"]) == (
        "2026-07-02",
        "王经理 邮件",
    )

    approved = ok(client.post(f"{url}/approve", json={}, headers=world.headers["collector"]))

    assert approved["status"] == "approved"
    assert approved["decided_by"] == "collector"
    assert approved["kind"] == "extension"
    assert approved["amount"] == "450.00"
    assert approved["schedule"] == [{"due_on": "2026-07-31", "amount": "450.00", "interest": None}]
    assert approved["items"] == [
        {
            "installment_id": world.own.installment,
            "original_due_on": "2026-04-01",
            "original_amount": "500.00",
            "open_amount": "450.00",
            "new_due_on": "2026-07-31",
            "created": False,
        }
    ]
    invoice = ok(client.get(f"{API}/invoices/INV-OWN-B", headers=world.headers["collector"]))
    assert invoice["installments"][0]["due_date"] == "2026-07-31"
    again = refused(
        session,
        client,
        "POST",
        f"/collections/arrangements/{world.own.arrangement}/reject",
        world.headers["finance"],
        json={"note": "x"},
    )
    assert again["status"] == 409


def test_a_plan_is_proposed_and_those_who_may_not_decide_change_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    plan = ok(
        client.post(
            f"{API}/customers/OWN-1/plans",
            json={
                "installments": 2,
                "first_due_on": soon(),
                "frequency_days": 14,
                "reason": "资金紧张",
                "installment_ids": [world.own.free_installment],
            },
            headers=world.headers["rep"],
        ),
        201,
    )
    assert (plan["kind"], plan["status"], plan["amount"], plan["installments"]) == (
        "plan",
        "proposed",
        "300.00",
        2,
    )
    assert plan["schedule"] == [
        {"due_on": soon(), "amount": "150.00", "interest": "0.00"},
        {"due_on": soon(24), "amount": "150.00", "interest": "0.00"},
    ]
    assert plan["requested_by"] == "rep"
    path = f"/collections/arrangements/{plan['id']}"

    manager = refused(session, client, "POST", f"{path}/approve", world.headers["manager"], json={})
    no_note = refused(session, client, "POST", f"{path}/reject", world.headers["finance"], json={})

    assert manager["status"] == 403
    assert (no_note["status"], no_note["details"]["field"]) == (422, "note")
    listed = ok(
        client.get(
            f"{API}/collections/arrangements",
            params={"customer": "OWN-1", "kind": "plan"},
            headers=world.headers["rep"],
        )
    )
    assert [a["id"] for a in listed["items"]] == [plan["id"]]
    cancelled = ok(
        client.post(f"{API}{path}/cancel", json={"note": "客户已付"}, headers=world.headers["rep"])
    )
    assert (cancelled["status"], cancelled["decision_note"]) == ("cancelled", "客户已付")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"installments": 1}, "installments"),
        ({"frequency_days": 93}, "frequency_days"),
        ({"annual_interest_rate": 0.6}, "annual_interest_rate"),
        ({"first_due_on": "-1"}, "first_due_on"),
    ],
)
def test_a_bad_plan_is_refused(
    client: TestClient, session: Session, world: World, changes: dict[str, Any], field: str
) -> None:
    body: dict[str, Any] = {"installments": 2, "first_due_on": soon(), "reason": "x", **changes}
    if body["first_due_on"] == "-1":
        body["first_due_on"] = soon(-1)

    error = refused(
        session, client, "POST", "/customers/OWN-1/plans", world.headers["collector"], json=body
    )

    assert error["status"] == 422
    named = error["details"].get("field") or error["details"]["errors"][0]["location"][-1]
    assert named == field


def test_a_second_proposal_for_the_same_item_conflicts(
    client: TestClient, session: Session, world: World
) -> None:
    error = refused(
        session,
        client,
        "POST",
        "/customers/OWN-1/extensions",
        world.headers["collector"],
        json={"installment_id": world.own.installment, "new_due_on": soon(), "reason": "x"},
    )

    assert (error["status"], error["details"]["arrangement_id"]) == (409, world.own.arrangement)


# ---------------------------------------------------------------- strategies


def test_strategies_are_listed_saved_and_a_tier_one_removed(
    client: TestClient, session: Session, world: World
) -> None:
    listed = ok(client.get(f"{API}/collections/strategies", headers=world.headers["viewer"]))
    assert [(s["grade"], s["tier"]) for s in listed["items"]] == [
        ("A", None),
        ("B", None),
        ("C", None),
        ("C", "key"),
        ("D", None),
        ("E", None),
    ]
    key = listed["items"][3]
    assert [(s["day_offset"], s["channel"], s["target"]) for s in key["steps"]] == [
        (3, "call", None),
        (10, "webhook", ROBOT),
    ]

    saved = ok(
        client.put(
            f"{API}/collections/strategies/B",
            params={"tier": "growth"},
            json={
                "name": "B growth",
                "steps": [
                    {"day_offset": 20, "channel": "escalation"},
                    {"day_offset": -3, "channel": "email", "template": "friendly_reminder"},
                ],
            },
            headers=world.headers["collector"],
        )
    )
    assert (saved["grade"], saved["tier"], saved["active"]) == ("B", "growth", True)
    assert [
        (s["day_offset"], s["channel"], s["template"], s["target"]) for s in saved["steps"]
    ] == [
        (-3, "email", "friendly_reminder", None),
        (20, "escalation", None, "owner"),
    ]

    general = refused(
        session,
        client,
        "DELETE",
        f"/collections/strategies/{listed['items'][0]['id']}",
        world.headers["admin"],
    )
    assert (general["status"], general["message"]) == (
        422,
        "the general strategy of grade A cannot be removed; edit it or make it inactive",
    )
    removed = client.delete(
        f"{API}/collections/strategies/{world.strategy}", headers=world.headers["finance"]
    )
    assert removed.status_code == 204
    after = ok(client.get(f"{API}/collections/strategies", headers=world.headers["viewer"]))
    assert ("C", "key") not in [(s["grade"], s["tier"]) for s in after["items"]]


@pytest.mark.parametrize(
    ("steps", "where"),
    [
        ([{"day_offset": 1, "channel": "email"}], ["body", "steps", 0]),
        ([{"day_offset": 400, "channel": "call"}], ["body", "steps", 0, "day_offset"]),
        ([{"day_offset": 1, "channel": "fax"}], ["body", "steps", 0, "channel"]),
    ],
)
def test_a_bad_step_is_refused(
    client: TestClient, session: Session, world: World, steps: list[Any], where: list[Any]
) -> None:
    error = refused(
        session,
        client,
        "PUT",
        "/collections/strategies/A",
        world.headers["admin"],
        json={"name": "x", "steps": steps},
    )

    assert error["status"] == 422
    assert error["details"]["errors"][0]["location"] == where


def test_two_steps_on_one_day_name_the_second(
    client: TestClient, session: Session, world: World
) -> None:
    step = {"day_offset": 3, "channel": "call"}
    error = refused(
        session,
        client,
        "PUT",
        "/collections/strategies/A",
        world.headers["admin"],
        json={"name": "x", "steps": [step, step]},
    )

    assert (error["status"], error["details"]["field"]) == (422, "steps[1]")


def test_a_sales_rep_may_not_change_strategies(
    client: TestClient, session: Session, world: World
) -> None:
    error = refused(
        session,
        client,
        "PUT",
        "/collections/strategies/A",
        world.headers["rep"],
        json={"name": "x", "steps": []},
    )

    assert error["status"] == 403


# ---------------------------------------------------------------- credit holds and statements


def test_a_credit_hold_is_placed_kept_and_released(
    client: TestClient, session: Session, world: World
) -> None:
    url = f"{API}/customers/OWN-1/credit-hold"
    since = audit_count(session)

    placed = ok(client.post(url, json={"reason": "逾期 90 天"}, headers=world.headers["collector"]))
    kept = ok(client.post(url, json={"reason": "again"}, headers=world.headers["finance"]))

    assert placed == {
        "customer": "OWN-1",
        "on_hold": True,
        "placed_on": today().isoformat(),
        "reason": "逾期 90 天",
        "placed_by": "collector",
        "action_id": None,
    }
    assert kept == placed
    history = ok(client.get(f"{API}/customers/OWN-1/collections", headers=world.headers["rep"]))
    assert history["hold"] == placed
    forbidden = refused(
        session, client, "DELETE", "/customers/OWN-1/credit-hold", world.headers["rep"]
    )
    assert forbidden["status"] == 403

    released = ok(client.delete(url, params={"reason": "已付清"}, headers=world.headers["finance"]))

    assert released["on_hold"] is False
    assert released["placed_on"] is None
    assert audit_actions(session, since=since) == ["credit.hold_placed", "credit.hold_released"]


def test_a_statement_is_stored_and_one_without_an_address_is_refused(
    client: TestClient, session: Session, world: World
) -> None:
    stored = ok(
        client.post(
            f"{API}/customers/OWN-1/statements", json={"send": False}, headers=world.headers["rep"]
        ),
        201,
    )

    assert stored["as_of"] == today().isoformat()
    assert (stored["total"], stored["overdue"], stored["lines"]) == ("750.00", "750.00", 2)
    assert (stored["status"], stored["action_id"], stored["currency"]) == ("sent", None, "CNY")
    history = ok(client.get(f"{API}/customers/OWN-1/collections", headers=world.headers["rep"]))
    assert [s["id"] for s in history["statements"]] == [stored["id"]]
    error = refused(
        session, client, "POST", "/customers/OWN-1/statements", world.headers["rep"], json={}
    )
    assert error["status"] == 422
    assert error["message"] == (
        "customer OWN-1 has no contact with an e-mail address; add one to send the statement"
    )


def test_an_accounts_collections_in_one_answer(client: TestClient, world: World) -> None:
    answer = ok(client.get(f"{API}/customers/OTHER-1/collections", headers=world.headers["rival"]))

    assert answer["customer"] == "OTHER-1"
    assert [a["id"] for a in answer["actions"]] == [world.other.message, world.other.action]
    assert [p["id"] for p in answer["promises"]] == [world.other.promise]
    assert [d["id"] for d in answer["disputes"]] == [world.other.dispute]
    assert [a["id"] for a in answer["arrangements"]] == [world.other.arrangement]
    assert answer["hold"]["on_hold"] is False
    assert answer["statements"] == []


def test_another_reps_account_is_not_found(client: TestClient, world: World) -> None:
    response = client.get(f"{API}/customers/OTHER-1/collections", headers=world.headers["rep"])

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "customer OTHER-1 not found"
