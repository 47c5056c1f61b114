"""GET /api/v1/customers and /api/v1/customers/{code}: authentication, per-owner scope,
search, filters, sorting, paging, the 360 as of a day, and a bounded number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from flywheel.auth import tokens
from flywheel.customers import service as customers
from flywheel.customers.schemas import TouchpointIn
from flywheel.models.customers import Customer
from flywheel.models.enums import CustomerStatus, Role, Tier, TouchpointKind
from flywheel.models.users import User
from flywheel.users import service as users
from tests.factories import TESTER, make_contact, make_customer, make_invoice, make_payment
from tests.factories import make_user as _make_user

LIST = "/api/v1/customers"


def _bearer(session: Session, user: User) -> dict[str, str]:
    _, plaintext = tokens.create_token(session, actor=TESTER, user=user, name="test")
    return {"Authorization": f"Bearer {plaintext}"}


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    owner: User
    manager: User


@pytest.fixture
def world(session: Session) -> World:
    """One account owned by the sales rep "owner", one by the manager; a token per caller."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}, "bad token": {}}
    headers["bad token"] = {"Authorization": "Bearer fw_not-a-real-token"}
    people = {
        name: _make_user(session, username=name.replace(" ", "."), role=role)
        for name, role in [
            ("viewer", Role.VIEWER),
            ("sales owner", Role.SALES),
            ("sales non-owner", Role.SALES),
            ("collector", Role.COLLECTOR),
            ("finance", Role.FINANCE),
            ("manager", Role.MANAGER),
            ("admin", Role.ADMIN),
            ("revoked", Role.ADMIN),
            ("disabled", Role.ADMIN),
        ]
    }
    for name, user in people.items():
        headers[name] = _bearer(session, user)
    [revoked] = tokens.list_tokens(session, user=people["revoked"])
    tokens.revoke_token(session, actor=TESTER, token_id=revoked.id)
    users.disable_user(session, actor=TESTER, user=people["disabled"])
    make_customer(session, code="OWN-1", name="自有客户", owner=people["sales owner"])
    make_customer(session, code="OTHER-1", name="别人的客户", owner=people["manager"])
    return World(headers=headers, owner=people["sales owner"], manager=people["manager"])


ALL = ["OTHER-1", "OWN-1"]
MATRIX = [
    # caller, list status, codes listed, 360 of OWN-1, 360 of OTHER-1
    ("anonymous", 401, None, 401, 401),
    ("bad token", 401, None, 401, 401),
    ("revoked", 401, None, 401, 401),
    ("disabled", 401, None, 401, 401),
    ("viewer", 200, ALL, 200, 200),
    ("sales owner", 200, ["OWN-1"], 200, 404),
    ("sales non-owner", 200, [], 404, 404),
    ("collector", 200, ALL, 200, 200),
    ("finance", 200, ALL, 200, 200),
    ("manager", 200, ALL, 200, 200),
    ("admin", 200, ALL, 200, 200),
]


@pytest.mark.parametrize(("caller", "list_status", "listed", "own_status", "other_status"), MATRIX)
def test_permission_matrix(
    client: TestClient,
    world: World,
    caller: str,
    list_status: int,
    listed: list[str] | None,
    own_status: int,
    other_status: int,
) -> None:
    headers = world.headers[caller]

    listing = client.get(LIST, headers=headers)
    own = client.get(f"{LIST}/OWN-1", params={"as_of": "2026-03-01"}, headers=headers)
    other = client.get(f"{LIST}/OTHER-1", params={"as_of": "2026-03-01"}, headers=headers)

    assert (listing.status_code, own.status_code, other.status_code) == (
        list_status,
        own_status,
        other_status,
    )
    if listed is not None:
        assert [item["code"] for item in listing.json()["items"]] == listed
        assert listing.json()["total"] == len(listed)


@pytest.mark.parametrize("caller", ["anonymous", "bad token", "revoked", "disabled"])
def test_unauthenticated_answer_has_the_error_shape_and_a_bearer_challenge(
    client: TestClient, world: World, caller: str
) -> None:
    response = client.get(LIST, headers=world.headers[caller])

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"
    assert set(response.json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "fw_token-without-scheme", "Token fw_x"],
)
def test_malformed_authorization_headers_are_unauthenticated(
    client: TestClient, world: World, authorization: str
) -> None:
    response = client.get(LIST, headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_the_bearer_scheme_is_case_insensitive(client: TestClient, world: World) -> None:
    token = world.headers["admin"]["Authorization"].removeprefix("Bearer ")

    response = client.get(LIST, headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200


def test_an_expired_token_is_unauthenticated(
    client: TestClient, session: Session, world: World
) -> None:
    _, plaintext = tokens.create_token(
        session,
        actor=TESTER,
        user=world.manager,
        name="short-lived",
        expires_on=date(2026, 1, 2),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )

    response = client.get(LIST, headers={"Authorization": f"Bearer {plaintext}"})

    assert response.status_code == 401


def test_another_reps_account_answers_exactly_like_a_missing_one(
    client: TestClient, world: World
) -> None:
    headers = world.headers["sales owner"]

    hidden = client.get(f"{LIST}/OTHER-1", headers=headers)
    missing = client.get(f"{LIST}/NO-SUCH", headers=headers)

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    assert hidden.json()["error"]["message"] == "customer OTHER-1 not found"
    assert missing.json()["error"]["message"] == "customer NO-SUCH not found"


# ---------------------------------------------------------------- the list


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    return _bearer(session, _make_user(session, username="root", role=Role.ADMIN))


def _codes(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get(LIST, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


def test_list_item_shape(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    rep = _make_user(session, username="li.lei", role=Role.SALES)
    make_customer(
        session,
        code="SH-001",
        name="上海华东机械有限公司",
        tier=Tier.KEY,
        owner=rep,
        region="华东",
        payment_terms="NET60",
        created_on=date(2024, 5, 6),
    )

    response = client.get(LIST, headers=admin)

    assert response.json() == {
        "items": [
            {
                "code": "SH-001",
                "name": "上海华东机械有限公司",
                "tier": "key",
                "industry": None,
                "region": "华东",
                "status": "active",
                "currency": "CNY",
                "payment_terms": "NET60",
                "owner": "li.lei",
                "created_on": "2024-05-06",
            }
        ],
        "total": 1,
        "page": 1,
        "page_size": 50,
    }


@pytest.fixture
def directory(session: Session) -> None:
    sh = make_customer(session, code="SH-001", name="上海华东机械有限公司")
    ac = make_customer(session, code="AC-002", name="Acme Industrial Ltd")
    bj = make_customer(session, code="BJ-003", name="北京精密仪器")
    make_customer(session, code="PCT-004", name="100% Cotton")
    make_contact(session, customer=bj, name="John Smith")
    make_contact(session, customer=ac, name="李娜")
    make_contact(session, customer=sh, name="王经理")


@pytest.mark.parametrize(
    ("search", "codes"),
    [
        ("华东机械", ["SH-001"]),
        ("acme", ["AC-002"]),
        ("ACME industrial", ["AC-002"]),
        ("李娜", ["AC-002"]),
        ("smith", ["BJ-003"]),
        ("王", ["SH-001"]),
        ("bj-0", ["BJ-003"]),
        ("  北京  ", ["BJ-003"]),
        ("0", ["AC-002", "BJ-003", "PCT-004", "SH-001"]),
        ("100%", ["PCT-004"]),
        ("%", ["PCT-004"]),
        ("_", []),
        ("nothing like it", []),
    ],
)
def test_search_covers_code_name_and_contact_in_chinese_and_english(
    client: TestClient, directory: None, admin: dict[str, str], search: str, codes: list[str]
) -> None:
    assert _codes(client, admin, search=search) == codes


def test_filters(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    rep = _make_user(session, username="han.mei", role=Role.SALES)
    make_customer(session, code="F-1", tier=Tier.KEY, region="华东", owner=rep)
    make_customer(session, code="F-2", tier=Tier.KEY, region="华南")
    make_customer(session, code="F-3", tier=Tier.GROWTH, region="华东", owner=rep)
    dormant = make_customer(session, code="F-4", tier=Tier.STANDARD, region="华北")
    dormant.status = CustomerStatus.INACTIVE.value
    session.flush()

    assert _codes(client, admin, tier="key") == ["F-1", "F-2"]
    assert _codes(client, admin, region="华东") == ["F-1", "F-3"]
    assert _codes(client, admin, owner="han.mei") == ["F-1", "F-3"]
    assert _codes(client, admin, owner="nobody") == []
    assert _codes(client, admin, status="inactive") == ["F-4"]
    assert _codes(client, admin, status="active", region="华东", tier="growth") == ["F-3"]


def test_a_sales_rep_filtering_by_another_owner_gets_nothing(
    client: TestClient, world: World
) -> None:
    assert _codes(client, world.headers["sales owner"], owner="manager") == []
    assert _codes(client, world.headers["sales owner"], owner="sales.owner") == ["OWN-1"]
    assert _codes(client, world.headers["sales owner"], search="客户") == ["OWN-1"]


@pytest.fixture
def sortable(session: Session) -> None:
    make_customer(session, code="C-1", name="Delta", created_on=date(2024, 3, 1))
    make_customer(session, code="C-2", name="alpha", created_on=date(2024, 1, 1))
    make_customer(session, code="C-3", name="Charlie", created_on=date(2024, 3, 1))
    make_customer(session, code="C-4", name="Bravo", created_on=date(2023, 12, 31))


@pytest.mark.parametrize(
    ("sort", "order", "codes"),
    [
        ("code", "asc", ["C-1", "C-2", "C-3", "C-4"]),
        ("code", "desc", ["C-4", "C-3", "C-2", "C-1"]),
        ("created_on", "asc", ["C-4", "C-2", "C-1", "C-3"]),
        ("created_on", "desc", ["C-3", "C-1", "C-2", "C-4"]),
    ],
)
def test_sorting(
    client: TestClient,
    sortable: None,
    admin: dict[str, str],
    sort: str,
    order: str,
    codes: list[str],
) -> None:
    assert _codes(client, admin, sort=sort, order=order) == codes


def test_sorting_by_name(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    # Names that order the same in every collation, so SQLite and PostgreSQL agree.
    for code, name in [("N-1", "Delta"), ("N-2", "Alpha"), ("N-3", "Charlie"), ("N-4", "Bravo")]:
        make_customer(session, code=code, name=name)

    assert _codes(client, admin, sort="name") == ["N-2", "N-4", "N-3", "N-1"]
    assert _codes(client, admin, sort="name", order="desc") == ["N-1", "N-3", "N-4", "N-2"]


def test_pagination(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    for n in range(1, 8):
        make_customer(session, code=f"P-{n}")

    pages = [
        client.get(LIST, params={"page": page, "page_size": 3}, headers=admin).json()
        for page in (1, 2, 3, 4)
    ]

    assert [[item["code"] for item in p["items"]] for p in pages] == [
        ["P-1", "P-2", "P-3"],
        ["P-4", "P-5", "P-6"],
        ["P-7"],
        [],
    ]
    assert [(p["total"], p["page"], p["page_size"]) for p in pages] == [
        (7, n, 3) for n in range(1, 5)
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"page_size": 0},
        {"page_size": 201},
        {"sort": "owner"},
        {"order": "up"},
        {"tier": "gold"},
        {"status": "deleted"},
    ],
)
def test_bad_list_parameters_are_rejected(
    client: TestClient, admin: dict[str, str], params: dict[str, Any]
) -> None:
    response = client.get(LIST, params=params, headers=admin)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


def test_page_size_of_200_is_allowed(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get(LIST, params={"page_size": 200}, headers=admin)

    assert response.status_code == 200
    assert response.json()["page_size"] == 200


# ---------------------------------------------------------------- the 360


@pytest.fixture
def account(session: Session) -> Customer:
    rep = _make_user(session, username="zhang.wei", role=Role.SALES)
    parent = make_customer(session, code="GRP", name="集团总部")
    customer = make_customer(session, code="ACC-1", name="华东分公司", owner=rep)
    customer.parent_id = parent.id
    session.flush()
    make_contact(session, customer=customer, name="王经理", email="wang@example.cn")
    make_invoice(
        session,
        customer=customer,
        number="INV-A",
        amount="1000.00",
        issued=date(2026, 1, 1),
        due=date(2026, 3, 1),
    )
    make_invoice(
        session,
        customer=customer,
        number="INV-B",
        amount="600.00",
        issued=date(2026, 2, 1),
        installments=[(date(2026, 3, 10), "300.00"), (date(2026, 4, 10), "300.00")],
    )
    # Applied to the oldest open item: INV-A keeps 800.00 open.
    make_payment(
        session, customer=customer, amount="200.00", received=date(2026, 2, 15), reference="PAY-1"
    )
    customers.log_touchpoint(
        session,
        actor=TESTER,
        data=TouchpointIn(
            customer_id=customer.id,
            kind=TouchpointKind.VISIT,
            occurred_at=datetime(2026, 2, 20, 9, 30, tzinfo=UTC),
            summary="季度回顾",
            satisfaction=4,
        ),
    )
    return customer


def test_the_360_as_json(client: TestClient, account: Customer, admin: dict[str, str]) -> None:
    response = client.get(f"{LIST}/ACC-1", params={"as_of": "2026-03-15"}, headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-03-15"
    assert body["customer"] == {
        "code": "ACC-1",
        "name": "华东分公司",
        "tier": "standard",
        "industry": None,
        "region": "华东",
        "status": "active",
        "currency": "CNY",
        "payment_terms": "NET30",
        "created_on": "2025-01-01",
        "owner": "zhang.wei",
        "parent": "GRP",
        "referred_by": None,
    }
    assert body["contacts"] == [
        {
            "name": "王经理",
            "title": None,
            "buying_role": None,
            "email": "wang@example.cn",
            "phone": None,
            "language": "zh",
        }
    ]
    assert [
        (i["invoice"], i["installment"], i["installments"], i["open_amount"], i["days_overdue"])
        for i in body["open_invoices"]
    ] == [
        ("INV-A", 1, 1, "800.00", 14),
        ("INV-B", 1, 2, "300.00", 5),
        ("INV-B", 2, 2, "300.00", 0),
    ]
    assert body["open_invoices"][0] == {
        "invoice": "INV-A",
        "installment": 1,
        "installments": 1,
        "issue_date": "2026-01-01",
        "due_date": "2026-03-01",
        "amount": "1000.00",
        "open_amount": "800.00",
        "currency": "CNY",
        "days_overdue": 14,
    }
    assert body["balance"] == {"open": "1400.00", "overdue": "1100.00"}
    [payment] = body["payments"]
    assert (payment["reference"], payment["received_on"], payment["amount"]) == (
        "PAY-1",
        "2026-02-15",
        "200.00",
    )
    assert body["touchpoints"] == [
        {
            "occurred_at": "2026-02-20T09:30:00+00:00",
            "kind": "visit",
            "satisfaction": 4,
            "summary": "季度回顾",
        }
    ]


@pytest.mark.parametrize(
    ("as_of", "days", "overdue"),
    [
        ("2026-03-01", [0, 0, 0], "0.00"),
        ("2026-03-02", [1, 0, 0], "800.00"),
        ("2026-03-11", [10, 1, 0], "1100.00"),
        ("2026-04-11", [41, 32, 1], "1400.00"),
    ],
)
def test_as_of_moves_days_overdue(
    client: TestClient,
    account: Customer,
    admin: dict[str, str],
    as_of: str,
    days: list[int],
    overdue: str,
) -> None:
    body = client.get(f"{LIST}/ACC-1", params={"as_of": as_of}, headers=admin).json()

    assert [i["days_overdue"] for i in body["open_invoices"]] == days
    assert body["balance"] == {"open": "1400.00", "overdue": overdue}


def test_as_of_defaults_to_today_utc(
    client: TestClient, account: Customer, admin: dict[str, str]
) -> None:
    before = datetime.now(UTC).date()
    as_of = client.get(f"{LIST}/ACC-1", headers=admin).json()["as_of"]
    after = datetime.now(UTC).date()

    assert as_of in {before.isoformat(), after.isoformat()}


def test_a_bad_as_of_is_rejected(
    client: TestClient, account: Customer, admin: dict[str, str]
) -> None:
    response = client.get(f"{LIST}/ACC-1", params={"as_of": "15/03/2026"}, headers=admin)

    assert response.status_code == 422


# ---------------------------------------------------------------- statements per request


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


@pytest.fixture
def statements(session: Session) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", counter)
    yield counter
    event.remove(connection, "before_cursor_execute", counter)


def _statements_for(
    client: TestClient,
    session: Session,
    statements: StatementCounter,
    url: str,
    headers: dict[str, str],
) -> int:
    # Start from an empty identity map so nothing is answered from memory by chance.
    session.expunge_all()
    statements.count = 0
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return statements.count


def test_the_list_costs_the_same_for_5_or_60_accounts(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    rep = _make_user(session, username="busy.rep", role=Role.SALES)
    headers = _bearer(session, rep)
    for n in range(5):
        make_customer(session, code=f"Q-{n:03d}", owner=rep)
    client.get(LIST, headers=headers)  # the token's first use is recorded once

    few = _statements_for(client, session, statements, LIST, headers)
    for n in range(5, 60):
        customer = make_customer(session, code=f"Q-{n:03d}", owner=rep)
        make_contact(session, customer=customer, name=f"联系人 {n}")
    many = _statements_for(client, session, statements, LIST, headers)

    assert len(client.get(LIST, headers=headers).json()["items"]) == 50
    assert few == many
    assert many <= 5


def test_the_360_costs_the_same_however_much_history(
    client: TestClient, session: Session, statements: StatementCounter
) -> None:
    rep = _make_user(session, username="busy.rep", role=Role.SALES)
    headers = _bearer(session, rep)
    parent = make_customer(session, code="Q-GRP")
    customer = make_customer(session, code="Q-ACC", owner=rep)
    customer.parent_id = parent.id
    make_invoice(session, customer=customer, due=date(2026, 2, 1))
    make_contact(session, customer=customer)
    url = f"{LIST}/Q-ACC?as_of=2026-06-30"
    client.get(url, headers=headers)

    small = _statements_for(client, session, statements, url, headers)
    for n in range(12):
        make_invoice(
            session,
            customer=customer,
            amount="200.00",
            installments=[(date(2026, 3, 1), "100.00"), (date(2026, 4, 1), "100.00")],
        )
        make_payment(session, customer=customer, amount="10.00")
        make_contact(session, customer=customer, name=f"联系人 {n}")
        make_customer(session, owner=rep)
    large = _statements_for(client, session, statements, url, headers)

    body = client.get(url, headers=headers).json()
    assert len(body["open_invoices"]) == 25
    assert small == large


def test_openapi_documents_the_customer_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    assert {"/api/v1/customers", "/api/v1/customers/{code}"} <= set(document["paths"])
    schemas = document["components"]["schemas"]
    assert {"CustomerPage", "CustomerListItem", "Customer360Out", "OpenInvoiceOut"} <= set(schemas)
    assert schemas["Balance"]["properties"]["open"]["type"] == "string"
