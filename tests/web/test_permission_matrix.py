"""Every route of the app, in one table: who may call it, and what a denial looks like.

For each row: anonymous callers get 401 (API) or a 303 to the sign-in page (pages); each role
gets the row's success status when ``auth.permissions.GRANTS`` gives it the row's permission
(``None``: every signed-in role may, a read) and 403 otherwise; a sales rep naming a record of
an account he does not own gets 404, or, in a list, nothing of it. Every denial changes
nothing in the database. ``test_every_route_has_a_row`` fails for a route the table misses:
a new route gets its row here (pages in ``PAGE_ROUTES``; pages not checked yet are named in
``PAGES_AWAITING_ROWS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.auth.permissions import GRANTS, Permission
from tests.web.api_support import (
    CALLERS,
    Company,
    SharedClient,
    World,
    company_for_module,
    database_state,
    shared_client,
)

P = Permission
Keys = dict[str, Any]
Body = Callable[[Keys], dict[str, Any]]

# How a record outside a sales rep's book answers him.
NOT_FOUND = "not found"  # a 404, exactly like a missing record
LEFT_OUT = "left out"  # a list filtered to that account answers 200 with nothing in it


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as the app declares it
    permission: Permission | None  # None: any signed-in role (a read)
    url: str  # ``path`` with the scope's keys, e.g. "/api/v1/invoices/{invoice}"
    body: Body | None = None  # JSON, from the scope's keys
    form: Body | None = None  # a form (with ``files`` a multipart upload)
    files: Callable[[Keys], dict[str, Any]] | None = None
    scope: str | None = None  # NOT_FOUND or LEFT_OUT when the url names an account's record
    ok: int = 200

    @property
    def is_page(self) -> bool:
        return not self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _json(**fields: Any) -> Body:
    return lambda keys: {
        k: (v.format(**keys) if isinstance(v, str) else v) for k, v in fields.items()
    }


CSV_UPLOAD = "code,name\nMATRIX-1,矩阵客户\n"
API_ROUTES = [
    # customers
    Row("GET", "/api/v1/customers", None, "/api/v1/customers?search={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/customers",
        P.EDIT_CUSTOMERS,
        "/api/v1/customers",
        body=_json(code="NEW-1", name="新客户"),
        ok=201,
    ),
    Row("GET", "/api/v1/customers/{code}", None, "/api/v1/customers/{customer}", scope=NOT_FOUND),
    Row(
        "PATCH",
        "/api/v1/customers/{code}",
        P.EDIT_CUSTOMERS,
        "/api/v1/customers/{customer}",
        body=_json(tier="key"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/customers/{code}/contacts",
        None,
        "/api/v1/customers/{customer}/contacts",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/contacts",
        P.EDIT_CUSTOMERS,
        "/api/v1/customers/{customer}/contacts",
        body=_json(name="新联系人"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "GET", "/api/v1/contacts/{contact_id}", None, "/api/v1/contacts/{contact}", scope=NOT_FOUND
    ),
    Row(
        "PATCH",
        "/api/v1/contacts/{contact_id}",
        P.EDIT_CUSTOMERS,
        "/api/v1/contacts/{contact}",
        body=_json(title="总经理"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/touchpoints",
        None,
        "/api/v1/touchpoints?customer={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "GET",
        "/api/v1/customers/{code}/touchpoints",
        None,
        "/api/v1/customers/{customer}/touchpoints",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/touchpoints",
        P.LOG_TOUCHPOINTS,
        "/api/v1/customers/{customer}/touchpoints",
        body=_json(kind="call", occurred_at="2026-05-03T10:00:00+08:00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    # orders
    Row("GET", "/api/v1/orders", None, "/api/v1/orders?customer={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/orders",
        P.EDIT_ORDERS,
        "/api/v1/orders",
        body=_json(
            number="ORD-NEW", customer="{customer}", order_date="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row("GET", "/api/v1/orders/{number}", None, "/api/v1/orders/{order}", scope=NOT_FOUND),
    Row(
        "PUT",
        "/api/v1/orders/{number}",
        P.EDIT_ORDERS,
        "/api/v1/orders/{order}",
        body=_json(customer="{customer}", order_date="2025-12-20", amount="990.00"),
        scope=NOT_FOUND,
    ),
    # invoices
    Row("GET", "/api/v1/invoices", None, "/api/v1/invoices?customer={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/invoices",
        P.EDIT_INVOICES,
        "/api/v1/invoices",
        body=_json(
            number="INV-NEW", customer="{customer}", issue_date="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row("GET", "/api/v1/invoices/{number}", None, "/api/v1/invoices/{invoice}", scope=NOT_FOUND),
    Row(
        "POST",
        "/api/v1/invoices/{number}/cancel",
        P.EDIT_INVOICES,
        "/api/v1/invoices/{cancellable}/cancel",
        body=_json(reason="开错了"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/invoices/{number}/write-off",
        P.EDIT_INVOICES,
        "/api/v1/invoices/{invoice}/write-off",
        body=_json(reason="破产"),
        scope=NOT_FOUND,
    ),
    # payments
    Row("GET", "/api/v1/payments", None, "/api/v1/payments?customer={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/payments",
        P.RECORD_PAYMENTS,
        "/api/v1/payments",
        body=_json(
            reference="PAY-NEW", customer="{customer}", received_on="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/payments/preview",
        P.RECORD_PAYMENTS,
        "/api/v1/payments/preview",
        body=_json(
            reference="PAY-NEW", customer="{customer}", received_on="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/payments/{reference}", None, "/api/v1/payments/{payment}", scope=NOT_FOUND),
    Row(
        "POST",
        "/api/v1/payments/{reference}/allocations",
        P.RECORD_PAYMENTS,
        "/api/v1/payments/{payment}/allocations",
        body=_json(invoice="{cancellable}", amount="10.00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "DELETE",
        "/api/v1/allocations/{allocation_id}",
        P.RECORD_PAYMENTS,
        "/api/v1/allocations/{allocation}",
        scope=NOT_FOUND,
        ok=204,
    ),
    # credit notes
    Row(
        "GET",
        "/api/v1/credit-notes",
        None,
        "/api/v1/credit-notes?customer={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/credit-notes",
        P.ISSUE_CREDIT_NOTES,
        "/api/v1/credit-notes",
        body=_json(number="CN-NEW", invoice="{invoice}", issue_date="2026-05-01", amount="10.00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "GET",
        "/api/v1/credit-notes/{number}",
        None,
        "/api/v1/credit-notes/{credit_note}",
        scope=NOT_FOUND,
    ),
    # receivables analytics
    Row("GET", "/api/v1/ar/aging", P.VIEW_AR_ANALYTICS, "/api/v1/ar/aging"),
    Row(
        "GET",
        "/api/v1/ar/aging/installments",
        P.VIEW_AR_ANALYTICS,
        "/api/v1/ar/aging/installments?by=customer&group={customer}",
        scope=LEFT_OUT,
    ),
    Row("GET", "/api/v1/ar/kpis", P.VIEW_AR_ANALYTICS, "/api/v1/ar/kpis"),
    # credit
    Row(
        "GET",
        "/api/v1/customers/{code}/credit",
        None,
        "/api/v1/customers/{customer}/credit?as_of=2026-07-01",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/credit/limit-reviews",
        P.APPROVE_CREDIT_LIMITS,
        "/api/v1/credit/limit-reviews",
    ),
    Row(
        "POST",
        "/api/v1/credit/limit-reviews/{review_id}/approve",
        P.APPROVE_CREDIT_LIMITS,
        "/api/v1/credit/limit-reviews/{review}/approve",
        body=_json(note="matrix"),
    ),
    Row(
        "POST",
        "/api/v1/credit/limit-reviews/{review_id}/reject",
        P.APPROVE_CREDIT_LIMITS,
        "/api/v1/credit/limit-reviews/{review}/reject",
        body=_json(note="matrix"),
    ),
    Row(
        "GET", "/api/v1/credit/cash-forecast", P.VIEW_CASH_FORECAST, "/api/v1/credit/cash-forecast"
    ),
    # imports
    Row("GET", "/api/v1/imports", P.IMPORT_DATA, "/api/v1/imports"),
    Row("GET", "/api/v1/imports/{batch_id}", P.IMPORT_DATA, "/api/v1/imports/{batch}"),
    Row(
        "GET",
        "/api/v1/imports/{batch_id}/rejects",
        P.IMPORT_DATA,
        "/api/v1/imports/{batch}/rejects",
    ),
    Row(
        "POST",
        "/api/v1/imports/{entity}",
        P.IMPORT_DATA,
        "/api/v1/imports/customers",
        form=_json(dry_run="false"),
        files=lambda keys: {"file": ("matrix.csv", CSV_UPLOAD.encode(), "text/csv")},
    ),
    # users
    Row("GET", "/api/v1/users", P.MANAGE_USERS, "/api/v1/users"),
    Row(
        "POST",
        "/api/v1/users",
        P.MANAGE_USERS,
        "/api/v1/users",
        body=_json(username="new.user", role="viewer"),
        ok=201,
    ),
    Row(
        "PATCH",
        "/api/v1/users/{username}",
        P.MANAGE_USERS,
        "/api/v1/users/viewer",
        body=_json(display_name="只读用户"),
    ),
    Row(
        "POST",
        "/api/v1/users/{username}/reset-password",
        P.MANAGE_USERS,
        "/api/v1/users/viewer/reset-password",
        body=_json(),
    ),
]

# HTML pages. They take the same bearer tokens; an anonymous visitor is sent to sign in.
PAGE_ROUTES = [
    Row("GET", "/", None, "/", ok=303),
    Row("GET", "/account", None, "/account"),
    Row("GET", "/customers", None, "/customers?q={customer}"),
    Row("GET", "/customers/export.csv", None, "/customers/export.csv"),
    Row("GET", "/customers/export.xlsx", None, "/customers/export.xlsx"),
    Row("GET", "/customers/{code}", None, "/customers/{customer}", scope=NOT_FOUND),
    Row(
        "GET", "/customers/{code}/timeline", None, "/customers/{customer}/timeline", scope=NOT_FOUND
    ),
    Row("GET", "/invoices", None, "/invoices"),
    Row("GET", "/invoices/{number:path}", None, "/invoices/{invoice}", scope=NOT_FOUND),
    Row(
        "GET",
        "/invoices/{number:path}/credit-notes/new",
        P.ISSUE_CREDIT_NOTES,
        "/invoices/{invoice}/credit-notes/new",
        scope=NOT_FOUND,
    ),
    Row("GET", "/ar", P.VIEW_AR_ANALYTICS, "/ar"),
    Row("GET", "/credit/reviews", P.APPROVE_CREDIT_LIMITS, "/credit/reviews"),
    Row(
        "POST",
        "/credit/reviews/{review_id}",
        P.APPROVE_CREDIT_LIMITS,
        "/credit/reviews/{review}",
        form=_json(decision="approve", note="matrix"),
        ok=303,
    ),
    Row("GET", "/credit/forecast", P.VIEW_CASH_FORECAST, "/credit/forecast"),
    Row("GET", "/ar/kpis", P.VIEW_AR_ANALYTICS, "/ar/kpis"),
    Row(
        "GET",
        "/ar/aging/installments",
        P.VIEW_AR_ANALYTICS,
        "/ar/aging/installments?by=customer&group={customer}",
    ),
    Row("GET", "/payments/new", P.RECORD_PAYMENTS, "/payments/new"),
    Row("GET", "/payments/customers", P.RECORD_PAYMENTS, "/payments/customers?q={customer}"),
    Row("GET", "/imports", P.IMPORT_DATA, "/imports"),
    Row("GET", "/imports/template/{entity}.csv", P.IMPORT_DATA, "/imports/template/customers.csv"),
    Row(
        "GET",
        "/imports/batches/{batch_id}/rejects.csv",
        P.IMPORT_DATA,
        "/imports/batches/{batch}/rejects.csv",
    ),
    Row("GET", "/users", P.MANAGE_USERS, "/users"),
    # Forms. Pages take the bearer token too (then no CSRF token is needed: a browser never
    # sends that header by itself); cookie sessions and their CSRF checks are in test_sign_in.
    Row(
        "POST",
        "/customers/{code}/touchpoints",
        P.LOG_TOUCHPOINTS,
        "/customers/{customer}/touchpoints",
        form=_json(kind="call", occurred_at="2026-01-05 10:00", summary="矩阵回访"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/payments/preview",
        P.RECORD_PAYMENTS,
        "/payments/preview",
        form=_json(customer="{customer}", amount="10.00"),
    ),
    Row(
        "POST",
        "/payments",
        P.RECORD_PAYMENTS,
        "/payments",
        form=_json(
            customer="{customer}", reference="PAGE-PAY-1", received_on="2026-05-01", amount="10.00"
        ),
        ok=303,
    ),
    Row(
        "POST",
        "/invoices/{number:path}/credit-notes/new",
        P.ISSUE_CREDIT_NOTES,
        "/invoices/{invoice}/credit-notes/new",
        form=_json(number="PAGE-CN-1", issue_date="2026-05-01", amount="1.00", reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/users",
        P.MANAGE_USERS,
        "/users",
        form=_json(username="page-new", role="sales", language="zh"),
    ),
    Row(
        "POST",
        "/users/{username}/role",
        P.MANAGE_USERS,
        "/users/viewer/role",
        form=_json(role="finance"),
        ok=303,
    ),
    Row("POST", "/users/{username}/disable", P.MANAGE_USERS, "/users/viewer/disable", ok=303),
    Row("POST", "/users/{username}/enable", P.MANAGE_USERS, "/users/viewer/enable", ok=303),
    Row("POST", "/users/{username}/reset-password", P.MANAGE_USERS, "/users/viewer/reset-password"),
    Row("POST", "/sign-out", None, "/sign-out", ok=303),
    Row(
        "POST",
        "/account/password",
        None,
        "/account/password",
        form=_json(
            current="not the password", new="a new long secret", confirm="a new long secret"
        ),
        ok=422,
    ),
    Row(
        "POST",
        "/imports",
        P.IMPORT_DATA,
        "/imports",
        form=_json(entity="customers"),
        files=lambda keys: {"file": ("matrix.csv", CSV_UPLOAD.encode("utf-8"), "text/csv")},
        ok=303,
    ),
]

# The steps of one upload need that upload to exist first: tests/web/test_import_pages.py tries
# each of them as the wrong roles (403, nothing written) and as another user (404).
PAGES_AWAITING_ROWS = {
    ("GET", "/imports/{upload_id}"),
    ("POST", "/imports/{upload_id}/mapping"),
    ("POST", "/imports/{upload_id}/dry-run"),
    ("POST", "/imports/{upload_id}/import"),
    ("GET", "/imports/{upload_id}/progress"),
    ("GET", "/imports/{upload_id}/rejects.csv"),
    ("POST", "/imports/{upload_id}/discard"),
}
# Open to everyone, or not the application's own: no row.
PUBLIC = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/healthz"),
    ("GET", "/api/v1/health"),
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    # The language switch works before sign-in too (kept in the session); signed-in users'
    # choice is covered in test_sign_in.
    ("POST", "/language"),
}
MOUNTS = {"/static"}

ROWS = API_ROUTES + PAGE_ROUTES
ROLES = [name for name in CALLERS if name != "rival"]  # "rep" is the sales rep


# ---------------------------------------------------------------- one app for the module


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[SharedClient]:
    # Redirects are answers to check here, not to follow.
    yield from shared_client(engine, follow_redirects=False)


@pytest.fixture
def matrix_client(shared: SharedClient, session: Session) -> TestClient:
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


def _keys(world: World, book: str) -> Keys:
    return {
        **(world.own if book == "own" else world.other).keys(),
        "batch": world.batch,
        "review": world.review,
    }


def _call(client: TestClient, row: Row, keys: Keys, headers: dict[str, str]) -> Any:
    return client.request(
        row.method,
        row.url.format(**keys),
        json=row.body(keys) if row.body else None,
        data=row.form(keys) if row.form else None,
        files=row.files(keys) if row.files else None,
        headers=headers,
    )


def _allowed(row: Row, caller: str) -> bool:
    return row.permission is None or CALLERS[caller] in GRANTS[row.permission]


# ---------------------------------------------------------------- the checks


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_anonymous(matrix_client: TestClient, session: Session, world: World, row: Row) -> None:
    before = database_state(session)

    response = _call(matrix_client, row, _keys(world, "own"), {})

    if row.is_page:
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("/sign-in")
    else:
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthenticated"
    assert database_state(session) == before


@pytest.mark.parametrize("caller", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_each_role(
    matrix_client: TestClient, session: Session, world: World, row: Row, caller: str
) -> None:
    before = database_state(session)

    response = _call(matrix_client, row, _keys(world, "own"), world.headers[caller])

    if _allowed(row, caller):
        assert response.status_code == row.ok, response.text
    else:
        assert response.status_code == 403, response.text
        assert database_state(session) == before


SCOPED = [row for row in ROWS if row.scope is not None and _allowed(row, "rep")]


@pytest.mark.parametrize("row", SCOPED, ids=lambda r: r.id)
def test_a_sales_rep_outside_his_book(
    matrix_client: TestClient, session: Session, world: World, row: Row
) -> None:
    before = database_state(session)

    response = _call(matrix_client, row, _keys(world, "other"), world.headers["rep"])

    if row.scope == NOT_FOUND:
        assert response.status_code == 404, response.text
    else:
        assert response.status_code == 200, response.text
        assert response.json()["total"] == 0
        assert response.json()["items"] == []
    assert database_state(session) == before


def test_the_same_requests_succeed_for_the_owner_of_the_other_book(
    matrix_client: TestClient, session: Session, world: World
) -> None:
    """The out-of-scope requests above are refused because of the owner, not the request."""
    for row in SCOPED:
        if row.method != "GET":
            continue
        response = _call(matrix_client, row, _keys(world, "other"), world.headers["rival"])
        assert response.status_code == row.ok, row.id
        if row.scope == LEFT_OUT:
            assert response.json()["total"] > 0, row.id


# ---------------------------------------------------------------- coverage


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route of ``app``, routers included at any depth; mounts by
    their path alone."""
    found: set[tuple[str, str]] = set()

    def visit(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                for context in route.effective_route_contexts():
                    for method in context.methods or ():
                        found.add((method, context.path))
            elif getattr(route, "methods", None):
                for method in route.methods:
                    found.add((method, route.path))
            elif hasattr(route, "routes") and route.path not in MOUNTS:
                visit(list(route.routes))
            else:
                found.add(("MOUNT", route.path))

    visit(list(app.routes))
    return {(m, p) for m, p in found if m != "HEAD"}


def test_every_route_has_a_row(app: FastAPI) -> None:
    routes = app_routes(app)
    covered = {(row.method, row.path) for row in ROWS}
    known = covered | PAGES_AWAITING_ROWS | PUBLIC | {("MOUNT", m) for m in MOUNTS}

    assert sorted(routes - known) == [], "routes without a row in the permission matrix"
    assert sorted(covered - routes) == [], "rows for routes the app no longer has"
    assert sorted(PAGES_AWAITING_ROWS - routes) == [], "awaiting rows for routes that are gone"
    assert not covered & PAGES_AWAITING_ROWS, "a page with a row is still listed as awaiting"


def test_rows_are_unique_and_writes_have_a_permission() -> None:
    ids = [row.id for row in ROWS]

    assert len(ids) == len(set(ids))
    assert [row.id for row in API_ROUTES if row.method != "GET" and row.permission is None] == []
