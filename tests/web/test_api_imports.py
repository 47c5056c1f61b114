"""The imports API: upload a file and import it, or dry-run it (nothing written), the report
with rejected rows, the batches, and the rejected rows as a CSV download."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.importers.schemas import ImportEntity
from flywheel.importers.service import HANDLERS
from flywheel.models.customers import Customer
from flywheel.models.importers import ImportBatch
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


CUSTOMERS = "客户编号,客户名称,账期\nUP-1,华南电子,NET45\nUP-2,,NET30\nUP-3,北方重工,sometime\n"


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


def _upload(
    client: TestClient,
    headers: dict[str, str],
    text: str = CUSTOMERS,
    *,
    entity: str = "customers",
    name: str = "客户.csv",
    **form: str,
) -> httpx.Response:
    return client.post(
        f"{API}/imports/{entity}",
        files={"file": (name, text.encode("utf-8"), "text/csv")},
        data=form,
        headers=headers,
    )


def _customers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_the_entities_are_the_importers(client: TestClient) -> None:
    assert {e.value for e in ImportEntity} == set(HANDLERS)


def test_import_a_file_with_rejected_rows(
    client: TestClient, session: Session, world: World
) -> None:
    customers = _customers(session)
    before = audit_count(session)

    response = _upload(client, world.headers["finance"])

    assert response.status_code == 200, response.text
    report = response.json()
    batch_id = report["batch_id"]
    assert {k: v for k, v in report.items() if k not in {"seconds", "batch_id"}} == {
        "entity": "customers",
        "file": "客户.csv",
        "encoding": "utf-8",
        "rows": 3,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "dry_run": False,
        "committed": True,
        "columns": {"code": "客户编号", "name": "客户名称", "payment_terms": "账期"},
        "ignored_columns": [],
        "users_created": [],
        "errors": [
            {"row": 3, "column": "客户名称", "reason": "name is required but empty"},
            {"row": 4, "column": "账期", "reason": report["errors"][1]["reason"]},
        ],
        "errors_truncated": False,
        "rejects_url": f"/api/v1/imports/{batch_id}/rejects",
    }
    assert "sometime" in report["errors"][1]["reason"]
    assert _customers(session) == customers + 1
    assert audit_actions(session, since=before) == ["customer.created", "import.completed"]

    batch = client.get(f"{API}/imports/{batch_id}", headers=world.headers["finance"]).json()
    assert (batch["file"], batch["rows"], batch["rejected"], batch["imported_by"]) == (
        "客户.csv",
        3,
        2,
        "finance",
    )
    rejects = client.get(report["rejects_url"], headers=world.headers["finance"])
    assert rejects.status_code == 200
    assert rejects.headers["content-type"].startswith("text/csv")
    assert rejects.headers["content-disposition"] == (
        "attachment; filename*=utf-8''%E5%AE%A2%E6%88%B7.rejects.csv"
    )
    lines = rejects.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,column,reason,客户编号,客户名称,账期"
    assert lines[1] == "3,客户名称,name is required but empty,UP-2,,NET30"
    assert lines[2].startswith("4,账期,")
    assert lines[2].endswith(",UP-3,北方重工,sometime")


def test_a_dry_run_reports_and_writes_nothing(
    client: TestClient, session: Session, world: World, tmp_path: Path
) -> None:
    before = database_state(session)

    response = _upload(client, world.headers["manager"], dry_run="true")

    report = response.json()
    assert (report["dry_run"], report["committed"], report["batch_id"], report["rejects_url"]) == (
        True,
        False,
        None,
        None,
    )
    assert (report["inserted"], report["rejected"]) == (1, 2)
    assert database_state(session) == before


def test_strict_imports_nothing_when_a_row_is_rejected(
    client: TestClient, session: Session, world: World
) -> None:
    before = database_state(session)

    response = _upload(client, world.headers["admin"], strict="true")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "import_rejected"
    assert (error["details"]["result"]["file"], error["details"]["result"]["rejected"]) == (
        "客户.csv",
        2,
    )
    assert error["details"]["result"]["rejects_file"] is None
    assert database_state(session) == before


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    client: TestClient, session: Session, world: World
) -> None:
    good = "code,name\nIMP-9,重复导入\n"
    _upload(client, world.headers["admin"], good, name="again.csv")

    second = _upload(client, world.headers["admin"], good, name="again.csv").json()

    assert (second["inserted"], second["unchanged"], second["rejected"], second["rejects_url"]) == (
        0,
        1,
        0,
        None,
    )


@pytest.mark.parametrize(
    ("name", "text", "form", "status", "code"),
    [
        ("notes.txt", "", {}, 422, "file_unreadable"),
        ("data.pdf", "code,name\nX,Y\n", {}, 422, "file_unreadable"),
        ("c.csv", "name\nOnly a name\n", {}, 422, "import_failed"),
        ("c.csv", "code,name\nX,Y\n", {"mapping": "nosuch=code"}, 422, "import_failed"),
    ],
)
def test_a_file_that_cannot_be_imported_writes_nothing(
    client: TestClient,
    session: Session,
    world: World,
    name: str,
    text: str,
    form: dict[str, str],
    status: int,
    code: str,
) -> None:
    before = database_state(session)

    response = _upload(client, world.headers["admin"], text, name=name, **form)

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert database_state(session) == before


def test_a_column_named_by_mapping(client: TestClient, session: Session, world: World) -> None:
    response = client.post(
        f"{API}/imports/customers",
        files={"file": ("m.csv", "编号X,名称X\nMAP-1,映射客户\n".encode(), "text/csv")},
        data={"mapping": ["编号X=code", "名称X=name"]},
        headers=world.headers["admin"],
    )

    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 1


def test_batches_newest_first_and_by_entity(client: TestClient, world: World) -> None:
    headers = world.headers["admin"]
    _upload(
        client,
        headers,
        "reference,customer,received_on,amount\nP-IMP,OWN-1,2026-05-01,10\n",
        entity="payments",
        name="p.csv",
    )

    listed = client.get(f"{API}/imports", headers=headers).json()
    payments = client.get(f"{API}/imports", params={"entity": "payments"}, headers=headers).json()

    assert [(b["entity"], b["file"]) for b in listed["items"]] == [
        ("payments", "p.csv"),
        ("customers", "customers.csv"),
    ]
    assert [b["entity"] for b in payments["items"]] == ["payments"]
    assert listed["items"][0]["rejects_url"] is None
    assert listed["items"][1]["rejects_url"] == f"/api/v1/imports/{world.batch}/rejects"


def test_rejects_of_a_batch_without_any_or_without_a_kept_file(
    client: TestClient, session: Session, world: World
) -> None:
    headers = world.headers["admin"]
    clean = _upload(client, headers, "code,name\nOK-1,好客户\n", name="ok.csv").json()
    session.add(
        ImportBatch(
            entity="customers",
            file_name="cli.csv",
            file_sha256="0" * 64,
            rows=1,
            inserted=0,
            updated=0,
            unchanged=0,
            rejected=1,
            actor_name="import:cli.csv",
        )
    )
    session.flush()
    cli_batch = session.scalar(select(func.max(ImportBatch.id)))

    none = client.get(f"{API}/imports/{clean['batch_id']}/rejects", headers=headers)
    gone = client.get(f"{API}/imports/{cli_batch}/rejects", headers=headers)

    assert (none.status_code, none.json()["error"]["message"]) == (
        404,
        f"import batch {clean['batch_id']} had no rejected rows",
    )
    assert gone.status_code == 404
    assert client.get(f"{API}/imports/999999", headers=headers).status_code == 404


@pytest.mark.parametrize("caller", ["rep", "collector", "viewer"])
def test_only_the_importing_roles_import_or_see_batches(
    client: TestClient, session: Session, world: World, caller: str
) -> None:
    headers = world.headers[caller]
    before = database_state(session)

    answers = [
        _upload(client, headers).status_code,
        client.get(f"{API}/imports", headers=headers).status_code,
        client.get(f"{API}/imports/{world.batch}", headers=headers).status_code,
        client.get(f"{API}/imports/{world.batch}/rejects", headers=headers).status_code,
    ]

    assert answers == [403, 403, 403, 403]
    assert database_state(session) == before


def test_an_unknown_entity_is_refused(client: TestClient, session: Session, world: World) -> None:
    before = database_state(session)

    response = _upload(client, world.headers["admin"], entity="deals")

    assert response.status_code == 422
    assert database_state(session) == before
