"""GET /customers/export.csv and /customers/export.xlsx: the filtered list, every page, in the
list's order and the user's language; read back with the csv module and openpyxl."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.customers import views
from flywheel.kit import i18n
from flywheel.models.enums import CustomerStatus, Tier
from tests.factories import make_customer, make_invoice, make_payment
from tests.web.customer_world import World, world_fixture  # noqa: F401  (the fixture "world")
from tests.web.pages import sign_in

HEADERS_EN = [
    "Code",
    "Name",
    "Tier",
    "Industry",
    "Region",
    "Owner",
    "Status",
    "Currency",
    "Payment terms",
    "Open balance",
    "Overdue balance",
    "Open in other currencies",
    "Customer since",
]


@pytest.fixture
def ledger(session: Session, world: World) -> None:
    """Three accounts of the rep "wang.rep" (one with open items in two currencies), one of
    the other rep, and one nobody owns."""
    key = make_customer(
        session,
        code="E-1",
        name="上海华东机械有限公司",
        tier=Tier.KEY,
        owner=world.rep,
        payment_terms="NET60",
        created_on=date(2024, 5, 6),
    )
    key.industry = "机械"
    make_invoice(session, customer=key, amount="1000.00", due=date(2026, 3, 1))
    make_invoice(session, customer=key, amount="250.50", due=date(2026, 4, 1))
    make_invoice(session, customer=key, amount="80.00", due=date(2026, 2, 1), currency="USD")
    make_payment(session, customer=key, amount="200.00", received=date(2026, 2, 20))
    make_customer(session, code="E-2", name="Acme Industrial Ltd", owner=world.rep)
    formula = make_customer(session, code="E-3", name="=HYPERLINK(1)", owner=world.rep)
    formula.region = None
    dormant = make_customer(session, code="E-4", name="休眠客户", owner=world.other_rep)
    dormant.status = CustomerStatus.INACTIVE.value
    make_customer(session, code="E-5", name="无人负责", tier=Tier.GROWTH, region="华南")
    session.flush()


ROWS = {
    "E-1": [
        "E-1",
        "上海华东机械有限公司",
        "Key",
        "机械",
        "华东",
        "wang.rep",
        "Active",
        "CNY",
        "NET60",
        "1050.50",
        "800.00",
        "USD 80.00 (overdue 80.00)",
        "2024-05-06",
    ],
    "E-2": [
        "E-2",
        "Acme Industrial Ltd",
        "Standard",
        "",
        "华东",
        "wang.rep",
        "Active",
        "CNY",
        "NET30",
        "0.00",
        "0.00",
        "",
        "2025-01-01",
    ],
    "E-3": [
        "E-3",
        "'=HYPERLINK(1)",
        "Standard",
        "",
        "",
        "wang.rep",
        "Active",
        "CNY",
        "NET30",
        "0.00",
        "0.00",
        "",
        "2025-01-01",
    ],
}


def _csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_csv_holds_the_filtered_list_on_every_page_with_exact_values(
    client: TestClient, ledger: None
) -> None:
    sign_in(client, "admin.li")

    answer = client.get(
        "/customers/export.csv",
        params={"owner": "wang.rep", "page": 2, "page_size": 1, "as_of": "2026-03-15"},
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        answer.headers["content-disposition"] == 'attachment; filename="customers-2026-03-15.csv"'
    )
    rows = _csv(answer.content)
    assert rows[0] == HEADERS_EN
    assert rows[1:] == [ROWS["E-1"], ROWS["E-2"], ROWS["E-3"]]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"tier": "key"}, ["E-1"]),
        ({"status": "inactive"}, ["E-4"]),
        ({"region": "华南"}, ["E-5"]),
        ({"search": "acme"}, ["E-2"]),
        ({"search": "休眠"}, ["E-4"]),
        ({"sort": "name", "order": "desc", "region": "华东"}, ["E-4", "E-1", "E-2"]),
        ({"sort": "code", "order": "desc"}, ["E-5", "E-4", "E-3", "E-2", "E-1"]),
    ],
)
def test_the_export_follows_the_filters_and_the_order(
    client: TestClient, ledger: None, params: dict[str, str], codes: list[str]
) -> None:
    sign_in(client, "admin.li")

    rows = _csv(client.get("/customers/export.csv", params=params).content)

    assert [row[0] for row in rows[1:]] == codes


def test_a_sales_rep_exports_only_his_own_accounts(client: TestClient, ledger: None) -> None:
    sign_in(client, "wang.rep")

    csv_rows = _csv(client.get("/customers/export.csv").content)
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/customers/export.xlsx").content), read_only=True
    )
    xlsx_codes = [row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)]

    assert [row[0] for row in csv_rows[1:]] == ["E-1", "E-2", "E-3"]
    assert xlsx_codes == ["E-1", "E-2", "E-3"]


def test_the_xlsx_holds_numbers_and_dates_as_excel_values(client: TestClient, ledger: None) -> None:
    sign_in(client, "admin.li")

    answer = client.get(
        "/customers/export.xlsx", params={"owner": "wang.rep", "as_of": "2026-03-15"}
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert answer.headers["content-disposition"] == (
        'attachment; filename="customers-2026-03-15.xlsx"'
    )
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = workbook.active
    assert sheet.title == "Customers"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADERS_EN
    first = rows[1]
    assert first[:9] == [
        "E-1",
        "上海华东机械有限公司",
        "Key",
        "机械",
        "华东",
        "wang.rep",
        "Active",
        "CNY",
        "NET60",
    ]
    assert isinstance(first[9], float | int)
    assert Decimal(str(first[9])) == Decimal("1050.50")
    assert Decimal(str(first[10])) == Decimal("800.00")
    assert first[11] == "USD 80.00 (overdue 80.00)"
    assert first[12] == datetime(2024, 5, 6)
    assert rows[2] == [
        "E-2",
        "Acme Industrial Ltd",
        "Standard",
        None,
        "华东",
        "wang.rep",
        "Active",
        "CNY",
        "NET30",
        0,
        0,
        None,
        datetime(2025, 1, 1),
    ]
    # Text that looks like a formula stays text.
    assert rows[3][1] == "=HYPERLINK(1)"
    assert sheet["B4"].data_type == "s"
    assert len(rows) == 4


def test_a_chinese_user_gets_chinese_headers_and_labels(
    client: TestClient, session: Session, world: World, ledger: None
) -> None:
    world.admin.language = "zh"
    session.flush()
    sign_in(client, "admin.li")

    rows = _csv(client.get("/customers/export.csv", params={"tier": "key"}).content)

    with i18n.use_language("zh"):
        expected = [i18n.gettext(h) for h in HEADERS_EN]
        tier = i18n.gettext("Key")
    assert rows[0] == expected
    assert rows[1][2] == tier


def test_the_export_stops_at_the_row_limit(
    client: TestClient, ledger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "EXPORT_LIMIT", 4)
    monkeypatch.setattr(views, "_EXPORT_BATCH", 3)
    sign_in(client, "admin.li")

    csv_rows = _csv(client.get("/customers/export.csv").content)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/customers/export.xlsx").content))

    assert [row[0] for row in csv_rows[1:]] == ["E-1", "E-2", "E-3", "E-4"]
    assert workbook.active.max_row == 5


def test_the_list_page_links_exports_that_keep_the_filters_and_states_the_limit(
    client: TestClient, ledger: None
) -> None:
    sign_in(client, "admin.li")

    page = client.get("/customers", params={"tier": "key", "search": "华东", "page": 1}).text

    links = dict(re.findall(r'<a href="([^"]+)" download data-export="(csv|xlsx)">', page))
    assert {v: k for k, v in links.items()} == {
        "csv": "/customers/export.csv?search=%E5%8D%8E%E4%B8%9C&amp;tier=key",
        "xlsx": "/customers/export.xlsx?search=%E5%8D%8E%E4%B8%9C&amp;tier=key",
    }
    assert "(all pages, at most 100,000 rows)" in page


def test_exports_need_a_sign_in(client: TestClient) -> None:
    for path in ("/customers/export.csv", "/customers/export.xlsx"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in?next=")


def test_bad_export_parameters_are_refused(client: TestClient, world: World) -> None:
    sign_in(client, "admin.li")

    answer = client.get("/customers/export.csv", params={"tier": "gold"})

    assert answer.status_code == 422
