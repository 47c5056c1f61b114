"""The receivables API: invoices (list filters, the one-invoice view, issue, cancel, write off),
payments (record with automatic allocation, the preview that writes nothing, manual
allocation and its undoing), credit notes; scoping, permissions, and denials changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.models.receivables import Allocation, Payment
from flywheel.receivables.consistency import check_ledger
from tests.factories import make_customer, make_invoice
from tests.web.api_support import (
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
    """The module's company, in a savepoint rolled back after the test."""
    yield from company.test_session()


@pytest.fixture
def world(company: Company, session: Session) -> World:
    return company.world


def _numbers(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get(f"{API}/invoices", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["items"]]


# ---------------------------------------------------------------- invoice list


def test_a_sales_rep_lists_only_his_accounts_invoices(client: TestClient, world: World) -> None:
    assert _numbers(client, world.headers["rep"], as_of="2026-03-15") == [
        "INV-OWN-C",
        "INV-OWN-B",
        "INV-OWN-A",
    ]
    assert _numbers(client, world.headers["rep"], customer="OTHER-1") == []
    assert len(_numbers(client, world.headers["viewer"])) == 6


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        ({"customer": "OWN-1"}, ["INV-OWN-C", "INV-OWN-B", "INV-OWN-A"]),
        ({"customer": "OWN-1", "status": "paid"}, ["INV-OWN-A"]),
        ({"customer": "OWN-1", "status": "partially_paid"}, ["INV-OWN-B"]),
        ({"customer": "OWN-1", "overdue": "true", "as_of": "2026-04-02"}, ["INV-OWN-B"]),
        (
            {"customer": "OWN-1", "overdue": "true", "as_of": "2026-04-11"},
            ["INV-OWN-C", "INV-OWN-B"],
        ),
        ({"customer": "OWN-1", "overdue": "true", "as_of": "2026-04-01"}, []),
        (
            {"customer": "OWN-1", "overdue": "false", "as_of": "2026-04-02"},
            ["INV-OWN-C", "INV-OWN-A"],
        ),
        ({"customer": "OWN-1", "due_from": "2026-04-01", "due_to": "2026-04-09"}, ["INV-OWN-B"]),
        ({"customer": "OWN-1", "due_from": "2026-04-02"}, ["INV-OWN-C"]),
        ({"customer": "OWN-1", "due_to": "2026-02-01"}, ["INV-OWN-A"]),
        ({"search": "own-b"}, ["INV-OWN-B"]),
        ({"search": "-C"}, ["INV-OWN-C", "INV-OTHER-C"]),
        ({"order": "ORD-OWN-1"}, ["INV-OWN-A"]),
        (
            {"customer": "OWN-1", "sort": "number", "direction": "asc"},
            ["INV-OWN-A", "INV-OWN-B", "INV-OWN-C"],
        ),
        (
            {"customer": "OWN-1", "sort": "amount", "direction": "asc"},
            ["INV-OWN-C", "INV-OWN-B", "INV-OWN-A"],
        ),
        (
            {"customer": "OWN-1", "sort": "due_date", "direction": "desc"},
            ["INV-OWN-C", "INV-OWN-B", "INV-OWN-A"],
        ),
    ],
)
def test_invoice_filters(
    client: TestClient, world: World, params: dict[str, str], numbers: list[str]
) -> None:
    assert _numbers(client, world.headers["collector"], **params) == numbers


def test_invoice_list_item_as_of_a_day(client: TestClient, world: World) -> None:
    response = client.get(
        f"{API}/invoices",
        params={"customer": "OWN-1", "search": "OWN-B", "as_of": "2026-04-11"},
        headers=world.headers["finance"],
    )

    assert response.json() == {
        "as_of": "2026-04-11",
        "items": [
            {
                "number": "INV-OWN-B",
                "customer": "OWN-1",
                "customer_name": "OWN 客户",
                "issue_date": "2026-03-01",
                "due_date": "2026-04-01",
                "next_due_date": "2026-04-01",
                "payment_terms": "NET30",
                "amount": "500.00",
                "paid_amount": "0.00",
                "credited_amount": "50.00",
                "written_off_amount": "0.00",
                "open_amount": "450.00",
                "currency": "CNY",
                "status": "partially_paid",
                "state": "overdue",
                "days_overdue": 10,
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 50,
    }


def test_invoice_pages(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    pages = [
        client.get(
            f"{API}/invoices",
            params={"sort": "number", "direction": "asc", "page": page, "page_size": 4},
            headers=headers,
        ).json()
        for page in (1, 2, 3)
    ]

    assert [[i["number"] for i in p["items"]] for p in pages] == [
        ["INV-OTHER-A", "INV-OTHER-B", "INV-OTHER-C", "INV-OWN-A"],
        ["INV-OWN-B", "INV-OWN-C"],
        [],
    ]
    assert [p["total"] for p in pages] == [6, 6, 6]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "overdue"},
        {"due_from": "2026-05-01", "due_to": "2026-04-01"},
        {"sort": "customer"},
        {"page_size": 201},
        {"as_of": "yesterday"},
        {"search": "a" * 65},
    ],
)
def test_bad_invoice_list_parameters(
    client: TestClient, world: World, params: dict[str, Any]
) -> None:
    response = client.get(f"{API}/invoices", params=params, headers=world.headers["admin"])

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


# ---------------------------------------------------------------- one invoice


def test_one_invoice_with_installments_allocations_and_credit_notes(
    client: TestClient, session: Session, world: World
) -> None:
    make_invoice(
        session,
        customer=make_customer(session, code="SCHED-1"),
        number="INV-SCHED",
        amount="600.00",
        issued=date(2026, 2, 1),
        installments=[(date(2026, 3, 1), "200.00"), (date(2026, 4, 1), "400.00")],
    )
    client.post(
        f"{API}/payments",
        json={
            "reference": "PAY-SCHED",
            "customer": "SCHED-1",
            "received_on": "2026-03-20",
            "amount": "250.00",
        },
        headers=world.headers["collector"],
    )

    body = client.get(
        f"{API}/invoices/INV-SCHED", params={"as_of": "2026-04-11"}, headers=world.headers["viewer"]
    ).json()

    assert body["state"] == "overdue"
    assert body["days_overdue"] == 10
    assert body["installments"] == [
        {
            "sequence": 1,
            "due_date": "2026-03-01",
            "amount": "200.00",
            "paid_amount": "200.00",
            "credited_amount": "0.00",
            "written_off_amount": "0.00",
            "open_amount": "0.00",
            "status": "paid",
            "settled_on": "2026-03-20",
            "days_overdue": 0,
        },
        {
            "sequence": 2,
            "due_date": "2026-04-01",
            "amount": "400.00",
            "paid_amount": "50.00",
            "credited_amount": "0.00",
            "written_off_amount": "0.00",
            "open_amount": "350.00",
            "status": "partially_paid",
            "settled_on": None,
            "days_overdue": 10,
        },
    ]
    assert [
        (a["source"], a["reference"], a["installment"], a["amount"]) for a in body["allocations"]
    ] == [("payment", "PAY-SCHED", 1, "200.00"), ("payment", "PAY-SCHED", 2, "50.00")]
    assert body["credit_notes"] == []
    assert body["order"] is None


def test_a_credited_invoice_shows_the_note_and_its_allocation(
    client: TestClient, world: World
) -> None:
    body = client.get(
        f"{API}/invoices/INV-OWN-B", params={"as_of": "2026-03-15"}, headers=world.headers["rep"]
    ).json()

    assert body["credit_notes"] == [
        {
            "number": "CN-OWN-1",
            "customer": "OWN-1",
            "invoice": "INV-OWN-B",
            "issue_date": "2026-03-05",
            "amount": "50.00",
            "currency": "CNY",
            "reason": None,
        }
    ]
    [line] = body["allocations"]
    assert (line["source"], line["reference"], line["amount"], line["applied_on"]) == (
        "credit_note",
        "CN-OWN-1",
        "50.00",
        "2026-03-05",
    )
    assert (body["state"], body["days_overdue"], body["open_amount"]) == (
        "partially_paid",
        0,
        "450.00",
    )


def test_the_order_of_an_invoice_is_named(client: TestClient, world: World) -> None:
    body = client.get(f"{API}/invoices/INV-OWN-A", headers=world.headers["admin"]).json()

    assert (body["order"], body["status"], body["state"]) == ("ORD-OWN-1", "paid", "paid")


def test_another_reps_invoice_answers_like_a_missing_one(client: TestClient, world: World) -> None:
    hidden = client.get(f"{API}/invoices/INV-OTHER-B", headers=world.headers["rep"])
    missing = client.get(f"{API}/invoices/NO-SUCH", headers=world.headers["rep"])

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"] == "invoice INV-OTHER-B not found"
    assert missing.json()["error"]["message"] == "invoice NO-SUCH not found"


# ---------------------------------------------------------------- issuing and changing invoices


def test_issue_an_invoice_with_a_schedule(
    client: TestClient, session: Session, world: World
) -> None:
    before = audit_count(session)

    response = client.post(
        f"{API}/invoices",
        json={
            "number": "INV-NEW",
            "customer": "OWN-1",
            "issue_date": "2026-05-01",
            "amount": "900.00",
            "order": "ORD-OWN-1",
            "installments": [
                {"due_date": "2026-07-01", "amount": "450.00"},
                {"due_date": "2026-06-01", "amount": "450.00"},
            ],
        },
        headers=world.headers["finance"],
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["number"], body["customer"], body["order"], body["open_amount"]) == (
        "INV-NEW",
        "OWN-1",
        "ORD-OWN-1",
        "900.00",
    )
    assert [(i["sequence"], i["due_date"], i["amount"]) for i in body["installments"]] == [
        (1, "2026-06-01", "450.00"),
        (2, "2026-07-01", "450.00"),
    ]
    assert audit_actions(session, since=before) == ["invoice.created"]


def test_an_invoice_due_by_the_terms(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/invoices",
        json={
            "number": "INV-EOM",
            "customer": "OWN-1",
            "issue_date": "2026-05-10",
            "amount": "100.00",
            "payment_terms": "月结30天",
        },
        headers=world.headers["admin"],
    )

    body = response.json()
    assert (body["payment_terms"], body["due_date"]) == ("EOM30", "2026-06-30")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"number": "INV-OWN-A"}, 409, "conflict"),
        ({"customer": "OTHER-9"}, 404, "not_found"),
        ({"order": "ORD-OTHER-1"}, 422, "validation_failed"),
        ({"order": "NO-ORDER"}, 404, "not_found"),
        ({"amount": "0.00"}, 422, "validation_failed"),
        ({"amount": "1.005"}, 422, "validation_failed"),
        ({"amount": "99999999999999999.00"}, 422, "validation_failed"),
        ({"installments": [{"due_date": "2026-06-01", "amount": "10.00"}]}, 422, "invalid_amount"),
        ({"due_date": "2026-04-01"}, 422, "validation_failed"),
        ({"payment_terms": "whenever"}, 422, "validation_failed"),
        ({"issue_date": "1899-12-31"}, 422, "validation_failed"),
        ({"number": "A\u0000B"}, 422, "validation_failed"),
        ({"surprise": 1}, 422, "validation_failed"),
    ],
)
def test_a_refused_invoice_writes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    body = {
        "number": "INV-NEW",
        "customer": "OWN-1",
        "issue_date": "2026-05-01",
        "amount": "900.00",
    }
    before = database_state(session)

    response = client.post(
        f"{API}/invoices", json={**body, **change}, headers=world.headers["finance"]
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert database_state(session) == before


def test_cancel_an_invoice(client: TestClient, session: Session, world: World) -> None:
    before = audit_count(session)

    response = client.post(
        f"{API}/invoices/INV-OWN-C/cancel",
        json={"reason": "开错了"},
        headers=world.headers["finance"],
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert [i["status"] for i in response.json()["installments"]] == ["cancelled"]
    assert audit_actions(session, since=before) == ["invoice.cancelled"]


def test_an_invoice_with_money_applied_cannot_be_cancelled(
    client: TestClient, session: Session, world: World
) -> None:
    before = database_state(session)

    response = client.post(
        f"{API}/invoices/INV-OWN-B/cancel", json={"reason": "x"}, headers=world.headers["admin"]
    )

    assert (response.status_code, response.json()["error"]["code"]) == (409, "invoice_locked")
    assert database_state(session) == before


def test_write_off_an_invoice(client: TestClient, session: Session, world: World) -> None:
    response = client.post(
        f"{API}/invoices/INV-OWN-B/write-off",
        json={"on": "2026-06-30", "reason": "客户破产"},
        headers=world.headers["finance"],
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["written_off_amount"], body["open_amount"]) == (
        "written_off",
        "450.00",
        "0.00",
    )
    assert body["installments"][0]["settled_on"] == "2026-06-30"
    assert check_ledger(session) == []


def test_a_paid_invoice_cannot_be_written_off(
    client: TestClient, session: Session, world: World
) -> None:
    before = database_state(session)

    response = client.post(
        f"{API}/invoices/INV-OWN-A/write-off", json={"reason": "x"}, headers=world.headers["admin"]
    )

    assert (response.status_code, response.json()["error"]["code"]) == (409, "invoice_not_open")
    assert database_state(session) == before


# ---------------------------------------------------------------- payments


def test_record_a_payment_applies_the_named_invoice_first(
    client: TestClient, session: Session, world: World
) -> None:
    before = audit_count(session)

    response = client.post(
        f"{API}/payments",
        json={
            "reference": "PAY-NEW",
            "customer": "OWN-1",
            "received_on": "2026-05-02",
            "amount": "500.00",
            "invoice": "INV-OWN-C",
            "method": "acceptance_bill",
        },
        headers=world.headers["collector"],
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "allocations"} == {
        "reference": "PAY-NEW",
        "customer": "OWN-1",
        "received_on": "2026-05-02",
        "amount": "500.00",
        "allocated_amount": "500.00",
        "unallocated_amount": "0.00",
        "currency": "CNY",
        "method": "acceptance_bill",
        "status": "allocated",
        "invoice": "INV-OWN-C",
    }
    assert [(a["invoice"], a["installment"], a["amount"]) for a in body["allocations"]] == [
        ("INV-OWN-C", 1, "300.00"),
        ("INV-OWN-B", 1, "200.00"),
    ]
    assert audit_actions(session, since=before) == ["payment.recorded"]
    assert check_ledger(session) == []


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "100.00"},
        {"amount": "450.00"},
        {"amount": "2000.00"},
        {"amount": "500.00", "invoice": "INV-OWN-C"},
        {"amount": "500.00", "invoice": "INV-OWN-A"},
        {"amount": "500.00", "currency": "USD"},
    ],
)
def test_the_preview_is_exactly_what_recording_applies_and_writes_nothing(
    client: TestClient, session: Session, world: World, body: dict[str, str]
) -> None:
    payment = {"reference": "PAY-NEW", "customer": "OWN-1", "received_on": "2026-05-02", **body}
    headers = world.headers["finance"]
    before = database_state(session)

    preview = client.post(f"{API}/payments/preview", json=payment, headers=headers)

    assert preview.status_code == 200, preview.text
    assert database_state(session) == before
    recorded = client.post(f"{API}/payments", json=payment, headers=headers).json()
    planned = preview.json()
    assert [(a["invoice"], a["installment"], a["amount"]) for a in planned["allocations"]] == [
        (a["invoice"], a["installment"], a["amount"]) for a in recorded["allocations"]
    ]
    assert planned["unallocated"] == recorded["unallocated_amount"]
    assert planned["currency"] == recorded["currency"]


def test_a_preview_row_says_what_was_open_before(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/payments/preview",
        json={
            "reference": "PAY-NEW",
            "customer": "OWN-1",
            "received_on": "2026-05-02",
            "amount": "800.00",
        },
        headers=world.headers["collector"],
    )

    assert response.json() == {
        "customer": "OWN-1",
        "currency": "CNY",
        "amount": "800.00",
        "allocations": [
            {
                "invoice": "INV-OWN-B",
                "installment": 1,
                "due_date": "2026-04-01",
                "open_before": "450.00",
                "amount": "450.00",
            },
            {
                "invoice": "INV-OWN-C",
                "installment": 1,
                "due_date": "2026-04-10",
                "open_before": "300.00",
                "amount": "300.00",
            },
        ],
        "unallocated": "50.00",
    }


@pytest.mark.parametrize(
    ("route", "change", "status", "code"),
    [
        ("payments", {"reference": "PAY-OWN-1"}, 409, "conflict"),
        ("payments/preview", {"reference": "PAY-OWN-1"}, 409, "conflict"),
        ("payments", {"customer": "NOBODY"}, 404, "not_found"),
        ("payments/preview", {"customer": "NOBODY"}, 404, "not_found"),
        ("payments", {"amount": "-5.00"}, 422, "validation_failed"),
        ("payments", {"method": "bitcoin"}, 422, "validation_failed"),
        ("payments", {"currency": "cny"}, 422, "validation_failed"),
        ("payments", {"invoice": "NO-SUCH"}, 404, "not_found"),
        ("payments/preview", {"invoice": "INV-OTHER-B"}, 422, "validation_failed"),
        ("payments", {"invoice": "INV-OWN-B", "currency": "USD"}, 422, "currency_mismatch"),
    ],
)
def test_a_refused_payment_writes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    route: str,
    change: dict[str, str],
    status: int,
    code: str,
) -> None:
    body = {
        "reference": "PAY-NEW",
        "customer": "OWN-1",
        "received_on": "2026-05-02",
        "amount": "5.00",
    }
    before = database_state(session)

    response = client.post(
        f"{API}/{route}", json={**body, **change}, headers=world.headers["admin"]
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert database_state(session) == before


def test_list_payments_with_filters(client: TestClient, world: World) -> None:
    headers = world.headers["collector"]

    def refs(**params: str) -> list[str]:
        body = client.get(f"{API}/payments", params=params, headers=headers).json()
        return [p["reference"] for p in body["items"]]

    assert refs() == ["PAY-OWN-1", "PAY-OTHER-1"]
    assert refs(customer="OTHER-1") == ["PAY-OTHER-1"]
    assert refs(status="partially_allocated", search="own") == ["PAY-OWN-1"]
    assert refs(status="allocated") == []
    assert refs(received_from="2026-02-16") == []
    assert refs(received_to="2026-02-15", method="bank_transfer") == ["PAY-OWN-1", "PAY-OTHER-1"]
    rep = client.get(f"{API}/payments", headers=world.headers["rep"]).json()
    assert [p["reference"] for p in rep["items"]] == ["PAY-OWN-1"]


def test_allocate_by_hand_then_undo(client: TestClient, session: Session, world: World) -> None:
    headers = world.headers["collector"]
    before = audit_count(session)

    made = client.post(
        f"{API}/payments/PAY-OWN-1/allocations",
        json={"invoice": "INV-OWN-C", "amount": "150.00"},
        headers=headers,
    )

    assert made.status_code == 201, made.text
    allocation = made.json()
    assert {k: v for k, v in allocation.items() if k != "id"} == {
        "payment": "PAY-OWN-1",
        "invoice": "INV-OWN-C",
        "installment": 1,
        "amount": "150.00",
        "applied_on": "2026-02-15",
    }
    payment = client.get(f"{API}/payments/PAY-OWN-1", headers=headers).json()
    assert (payment["unallocated_amount"], payment["status"]) == ("50.00", "partially_allocated")

    undone = client.delete(f"{API}/allocations/{allocation['id']}", headers=headers)

    assert undone.status_code == 204
    assert undone.content == b""
    payment = client.get(f"{API}/payments/PAY-OWN-1", headers=headers).json()
    assert payment["unallocated_amount"] == "200.00"
    assert [a["invoice"] for a in payment["allocations"]] == ["INV-OWN-A"]
    assert audit_actions(session, since=before) == ["allocation.created", "allocation.reversed"]
    assert check_ledger(session) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"invoice": "INV-OWN-C", "amount": "250.00"}, 409, "over_allocation"),
        ({"invoice": "INV-OWN-C", "amount": "301.00"}, 409, "over_allocation"),
        ({"invoice": "INV-OWN-A", "amount": "1.00"}, 409, "invoice_not_open"),
        ({"invoice": "INV-OTHER-C", "amount": "1.00"}, 409, "over_allocation"),
        ({"invoice": "INV-OWN-C", "installment": 2, "amount": "1.00"}, 404, "not_found"),
        ({"invoice": "NO-SUCH", "amount": "1.00"}, 404, "not_found"),
    ],
)
def test_a_refused_allocation_writes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = database_state(session)

    response = client.post(
        f"{API}/payments/PAY-OWN-1/allocations", json=body, headers=world.headers["finance"]
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert database_state(session) == before


def test_a_credit_notes_allocation_cannot_be_undone(
    client: TestClient, session: Session, world: World
) -> None:
    row = session.scalars(
        select(Allocation).where(Allocation.credit_note_id.is_not(None)).order_by(Allocation.id)
    ).first()
    assert row is not None
    before = database_state(session)

    response = client.delete(f"{API}/allocations/{row.id}", headers=world.headers["admin"])

    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert database_state(session) == before


# ---------------------------------------------------------------- credit notes


def test_issue_a_credit_note(client: TestClient, session: Session, world: World) -> None:
    response = client.post(
        f"{API}/credit-notes",
        json={
            "number": "CN-NEW",
            "invoice": "INV-OWN-B",
            "issue_date": "2026-05-01",
            "amount": "100.00",
            "reason": "退货",
        },
        headers=world.headers["manager"],
    )

    assert response.status_code == 201
    assert response.json() == {
        "number": "CN-NEW",
        "customer": "OWN-1",
        "invoice": "INV-OWN-B",
        "issue_date": "2026-05-01",
        "amount": "100.00",
        "currency": "CNY",
        "reason": "退货",
    }
    invoice = client.get(f"{API}/invoices/INV-OWN-B", headers=world.headers["manager"]).json()
    assert (invoice["credited_amount"], invoice["open_amount"]) == ("150.00", "350.00")
    assert check_ledger(session) == []


def test_a_credit_note_beyond_the_open_amount_writes_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    before = database_state(session)

    response = client.post(
        f"{API}/credit-notes",
        json={
            "number": "CN-NEW",
            "invoice": "INV-OWN-B",
            "issue_date": "2026-05-01",
            "amount": "450.01",
        },
        headers=world.headers["finance"],
    )

    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_amount")
    assert database_state(session) == before


def test_list_and_read_credit_notes(client: TestClient, world: World) -> None:
    def numbers(headers: dict[str, str], **params: str) -> list[str]:
        body = client.get(f"{API}/credit-notes", params=params, headers=headers).json()
        return [n["number"] for n in body["items"]]

    assert numbers(world.headers["viewer"]) == ["CN-OWN-1", "CN-OTHER-1"]
    assert numbers(world.headers["viewer"], invoice="INV-OTHER-B") == ["CN-OTHER-1"]
    assert numbers(world.headers["viewer"], issued_from="2026-03-06") == []
    assert numbers(world.headers["rep"]) == ["CN-OWN-1"]
    assert (
        client.get(f"{API}/credit-notes/CN-OTHER-1", headers=world.headers["rep"]).status_code
        == 404
    )
    assert (
        client.get(f"{API}/credit-notes/CN-OTHER-1", headers=world.headers["viewer"]).json()[
            "invoice"
        ]
        == "INV-OTHER-B"
    )


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("caller", "method", "path", "body"),
    [
        (
            "viewer",
            "post",
            "/payments",
            {"reference": "P", "customer": "OWN-1", "received_on": "2026-05-02", "amount": "5.00"},
        ),
        (
            "rep",
            "post",
            "/payments",
            {"reference": "P", "customer": "OWN-1", "received_on": "2026-05-02", "amount": "5.00"},
        ),
        (
            "manager",
            "post",
            "/payments/PAY-OWN-1/allocations",
            {"invoice": "INV-OWN-C", "amount": "1.00"},
        ),
        ("collector", "post", "/invoices/INV-OWN-C/cancel", {"reason": "x"}),
        (
            "collector",
            "post",
            "/credit-notes",
            {
                "number": "CN-X",
                "invoice": "INV-OWN-B",
                "issue_date": "2026-05-01",
                "amount": "1.00",
            },
        ),
        ("rep", "post", "/invoices/INV-OWN-B/write-off", {"reason": "x"}),
    ],
)
def test_a_role_without_the_permission_gets_403_and_changes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    caller: str,
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    before = database_state(session)
    payments = session.scalar(select(func.count()).select_from(Payment))

    response = client.request(method, f"{API}{path}", json=body, headers=world.headers[caller])

    assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
    assert database_state(session) == before
    assert session.scalar(select(func.count()).select_from(Payment)) == payments


def test_money_leaves_as_decimal_strings_in_the_openapi_document(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    assert schemas["InvoiceListItem"]["properties"]["open_amount"]["type"] == "string"
    assert schemas["PlannedAllocationOut"]["properties"]["open_before"]["type"] == "string"
    assert set(schemas["ErrorOut"]["properties"]) == {"error"}
