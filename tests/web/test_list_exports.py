"""Every list page's CSV and XLSX export: the rows the page lists for the same filters (every
page of them, in the page's order), in the user's scope and language, with the page's denial
for a role that may not see the page. Read back with the csv module and openpyxl.

The company of the API tests (tests/web/api_support.py): the sales rep "rep" owns OWN-1, his
rival OTHER-1; each book has invoices, collections work, feedback, loyalty and key-account
records.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from flywheel.auth.permissions import GRANTS, Permission
from flywheel.kit import i18n
from flywheel.models.credit import CashForecast
from flywheel.models.customers import Customer
from flywheel.models.loyalty import LoyaltyScore
from flywheel.web.contract import today
from flywheel.web.exports import MEDIA_TYPES, download, paged
from tests.factories import make_invoice
from tests.web.api_support import (
    CALLERS,
    Company,
    SharedClient,
    World,
    company_for_module,
    database_state,
    shared_client,
)

OWN, OTHER = "OWN-1", "OTHER-1"
WORLD_DAY = "2026-06-30"  # the day the world's collections work falls due
# The first row of each table in a list, and what the row is known by: a captured key, or
# (no group) the first account linked in the row.
CUSTOMER_LINK = re.compile(r'href="/customers/([^"/?#]+)"')


@dataclass(frozen=True)
class ListExport:
    name: str
    page: str  # the page with its filters, showing both books to the admin
    export: str  # the export path without its extension
    marker: str  # where each row of the page's list starts
    column: str  # the export's column (English header) holding the row's key
    account_column: str | None = None  # the account code column (None: not an account list)
    permission: Permission | None = None  # the page's, None: every signed-in role

    def export_url(self, extension: str) -> str:
        query = urlsplit(self.page).query
        return f"{self.export}.{extension}" + (f"?{query}" if query else "")


LISTS = [
    ListExport(
        "invoices",
        "/invoices?sort=number&order=asc",
        "/invoices/export",
        r'<tr data-invoice="([^"]+)"',
        "Number",
        "Customer code",
    ),
    ListExport(
        "aging",
        "/ar?by=customer&sort=key&order=asc",
        "/ar/export",
        r'<tr data-group="([^"]+)"',
        "Customer",
        "Customer",
        Permission.VIEW_AR_ANALYTICS,
    ),
    ListExport(
        "aged installments",
        f"/ar/aging/installments?by=customer&group={OWN}",
        "/ar/aging/installments/export",
        r'<tr data-invoice="([^"]+)"',
        "Invoice",
        "Customer code",
        Permission.VIEW_AR_ANALYTICS,
    ),
    ListExport(
        "worklist",
        f"/collections?mine=all&as_of={WORLD_DAY}",
        "/collections/export",
        r'<tr data-source="\w+" data-id="\d+" data-customer="([^"]+)"',
        "Customer code",
        "Customer code",
    ),
    ListExport(
        "promises",
        "/collections/promises?status=all",
        "/collections/promises/export",
        r"<tr data-promise=",
        "Customer code",
        "Customer code",
    ),
    ListExport(
        "plans",
        "/collections/plans?status=all",
        "/collections/plans/export",
        r"<tr data-arrangement=",
        "Customer code",
        "Customer code",
    ),
    ListExport(
        "disputes",
        "/collections/disputes?status=all",
        "/collections/disputes/export",
        r'<tr data-dispute="(\d+)"',
        "Dispute",
        "Customer code",
    ),
    ListExport(
        "credit limit reviews",
        "/credit/reviews",
        "/credit/reviews/export",
        r"<tr data-review=",
        "Customer code",
        None,
        Permission.APPROVE_CREDIT_LIMITS,
    ),
    ListExport(
        "cash forecast",
        f"/credit/forecast?as_of={WORLD_DAY}&currency=CNY",
        "/credit/forecast/export",
        r"<tr>\s*<td>(\d{4}-\d\d-\d\d)</td>",
        "Week from",
        None,
        Permission.VIEW_CASH_FORECAST,
    ),
    ListExport(
        "follow-ups",
        "/feedback/loops?status=all&owner=all",
        "/feedback/loops/export",
        r'data-loop="(\d+)"',
        "Follow-up",
        "Customer code",
    ),
    ListExport(
        "campaigns",
        "/feedback/campaigns",
        "/feedback/campaigns/export",
        r'<tr data-campaign="\d+">\s*<td><a href="/feedback/campaigns/\d+">([^<]+)</a>',
        "Campaign",
    ),
    ListExport(
        "accounts at risk",
        f"/loyalty?as_of={WORLD_DAY}",
        "/loyalty/at-risk/export",
        r'<tr data-account="([^"]+)"',
        "Account code",
        "Account code",
    ),
    ListExport(
        "next best actions",
        "/loyalty/actions?status=all&owner=all",
        "/loyalty/actions/export",
        r"<tr class=\"nba-row[^\"]*\" id=\"nba-\d+\"",
        "Customer code",
        "Customer code",
    ),
    ListExport(
        "referrals",
        "/loyalty/referrals?status=all",
        "/loyalty/referrals/export",
        r'<tr data-referral="(\d+)"',
        "Referral",
        "Referrer code",
    ),
    ListExport(
        "key accounts",
        "/accounts",
        "/accounts/export",
        r'<tr data-account="([^"]+)"',
        "Account code",
        "Account code",
    ),
    ListExport(
        "deals",
        "/deals/list?status=all",
        "/deals/list/export",
        r'<tr data-deal="(\d+)"',
        "Deal",
        "Account code",
    ),
    ListExport(
        "contracts",
        "/contracts?status=all",
        "/contracts/export",
        r'<tr data-contract="\d+">\s*<td><a href="/contracts/\d+">([^<]+)</a>',
        "Number",
        "Account code",
    ),
    ListExport(
        "negotiations",
        "/negotiations?status=all&scope=all",
        "/negotiations/export",
        r'<tr data-negotiation="(\d+)"',
        "Negotiation",
        "Account code",
    ),
    ListExport(
        "key-account tasks",
        "/accounts/tasks?scope=all&status=all",
        "/accounts/tasks/export",
        r"<tr data-task=",
        "Account code",
        "Account code",
    ),
]
SCOPED = [spec for spec in LISTS if spec.account_column and spec.permission is None]


# ---------------------------------------------------------------- the company and its client


@pytest.fixture(scope="module")
def company(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    yield from company_for_module(engine, tmp_path_factory.mktemp("uploads"))


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[SharedClient]:
    yield from shared_client(engine, follow_redirects=False)


@pytest.fixture
def session(company: Company) -> Iterator[Session]:
    """The module's company in a savepoint rolled back after the test, with what the world
    lacks for two lists: both books at risk of churning, and a cash forecast."""
    for db in company.test_session():
        db.execute(update(LoyaltyScore).values(churn_risk=0.6))
        start = date.fromisoformat(WORLD_DAY)
        db.add_all(
            CashForecast(
                as_of=start,
                currency="CNY",
                week_start=start + timedelta(days=7 * week),
                expected=Decimal("1000.00") + week,
                low=Decimal("800.00"),
                high=Decimal("1300.50"),
            )
            for week in range(13)
        )
        db.flush()
        yield db


@pytest.fixture
def client(shared: SharedClient, session: Session) -> TestClient:
    return shared.using(session)


@pytest.fixture
def world(company: Company, session: Session) -> World:
    return company.world


# ---------------------------------------------------------------- reading pages and files


def page_keys(page: str, marker: str) -> list[str]:
    """The key of every row of the page's list: the marker's group, else the first account
    linked in the row."""
    found = list(re.finditer(marker, page))
    keys: list[str] = []
    for index, match in enumerate(found):
        if match.groups():
            keys.append(html.unescape(match.group(1)).strip())
            continue
        end = found[index + 1].start() if index + 1 < len(found) else len(page)
        link = CUSTOMER_LINK.search(page, match.end(), end)
        assert link, f"a row without an account link: {page[match.start() : match.end() + 200]}"
        keys.append(unquote(link.group(1)))
    return keys


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_export(answer: Any, extension: str) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of a downloaded export (XLSX cells as openpyxl reads them)."""
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == MEDIA_TYPES[extension]
    assert "attachment" in answer.headers["content-disposition"]
    assert f".{extension}" in answer.headers["content-disposition"]
    if extension == "csv":
        text = answer.content.decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        return table[0], table[1:]
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return [str(h) for h in rows[0]], rows[1:]


def column(header: list[str], rows: list[list[Any]], english: str, language: str) -> list[str]:
    """One column's cells as text, found by its header in the user's language."""
    with i18n.use_language(language):
        name = i18n.gettext(english)
    assert name in header, (name, header)
    at = header.index(name)
    return [_text(row[at]) for row in rows]


def language_of(world: World, caller: str) -> str:
    return world.users[caller].language


# ---------------------------------------------------------------- the checks


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("spec", LISTS, ids=lambda s: s.name)
def test_the_export_lists_what_the_page_lists(
    client: TestClient, world: World, session: Session, spec: ListExport, extension: str
) -> None:
    headers = world.headers["admin"]
    page = client.get(spec.page, headers=headers)
    assert page.status_code == 200, page.text[:500]
    shown = page_keys(page.text, spec.marker)
    assert shown, "the page lists nothing: the check would prove nothing"
    before = database_state(session)

    answer = client.get(spec.export_url(extension), headers=headers)

    header, rows = read_export(answer, extension)
    assert column(header, rows, spec.column, language_of(world, "admin")) == shown
    assert database_state(session) == before


@pytest.mark.parametrize("spec", LISTS, ids=lambda s: s.name)
def test_the_page_links_its_exports_with_its_filters(
    client: TestClient, world: World, spec: ListExport
) -> None:
    page = client.get(
        spec.page + ("&" if "?" in spec.page else "?") + "page=1", headers=world.headers["admin"]
    )

    found = re.findall(r'href="([^"]+)" download data-export="(\w+)"', page.text)
    by_kind = {kind: html.unescape(href) for href, kind in found}
    wanted = dict(parse_qsl(urlsplit(spec.page).query))
    for extension in ("csv", "xlsx"):
        link = urlsplit(by_kind[extension])
        assert link.path == f"{spec.export}.{extension}"
        assert dict(parse_qsl(link.query)) == wanted  # the filters, not the page


@pytest.mark.parametrize("spec", SCOPED, ids=lambda s: s.name)
def test_a_sales_reps_export_holds_only_his_accounts(
    client: TestClient, world: World, spec: ListExport
) -> None:
    assert spec.account_column is not None
    everyone = read_export(
        client.get(spec.export_url("csv"), headers=world.headers["admin"]), "csv"
    )
    assert OTHER in column(*everyone, spec.account_column, language_of(world, "admin"))

    for extension in ("csv", "xlsx"):
        answer = client.get(spec.export_url(extension), headers=world.headers["rep"])
        header, rows = read_export(answer, extension)
        codes = column(header, rows, spec.account_column, language_of(world, "rep"))
        assert codes, "the rep's own account is listed"
        assert set(codes) == {OWN}


def test_a_sales_reps_aging_cell_of_another_book_is_empty(client: TestClient, world: World) -> None:
    url = f"/ar/aging/installments/export.csv?by=customer&group={OTHER}"

    rival = read_export(client.get(url, headers=world.headers["rival"]), "csv")
    rep = read_export(client.get(url, headers=world.headers["rep"]), "csv")

    assert rival[1], "the rival sees his own installments"
    assert rep[1] == []


def test_a_sales_reps_campaign_counts_are_his_accounts_invitations(
    client: TestClient, world: World
) -> None:
    """Every campaign is listed; its invitations are counted in the reader's scope."""

    def sent(caller: str) -> dict[str, str]:
        header, rows = read_export(
            client.get("/feedback/campaigns/export.csv", headers=world.headers[caller]), "csv"
        )
        names = column(header, rows, "Campaign", language_of(world, caller))
        return dict(
            zip(names, column(header, rows, "Sent", language_of(world, caller)), strict=True)
        )

    everyone, own = sent("admin"), sent("rep")

    assert everyone.keys() == own.keys()
    assert sorted(everyone.values(), reverse=True)[0] == "2"
    assert sorted(own.values(), reverse=True)[0] == "1"


GUARDED = [spec for spec in LISTS if spec.permission is not None]
DENIED = [
    (spec, caller)
    for spec in GUARDED
    for caller in CALLERS
    if spec.permission is not None and CALLERS[caller] not in GRANTS[spec.permission]
]


@pytest.mark.parametrize(("spec", "caller"), DENIED, ids=[f"{s.name}-{c}" for s, c in DENIED])
def test_a_role_without_the_pages_permission_gets_the_pages_denial(
    client: TestClient, world: World, session: Session, spec: ListExport, caller: str
) -> None:
    headers = world.headers[caller]
    page = client.get(spec.page, headers=headers)
    assert page.status_code == 403
    before = database_state(session)

    for extension in ("csv", "xlsx"):
        answer = client.get(spec.export_url(extension), headers=headers)
        assert answer.status_code == page.status_code
        assert answer.headers["content-type"] == page.headers["content-type"]
    assert database_state(session) == before


@pytest.mark.parametrize("spec", LISTS, ids=lambda s: s.name)
def test_without_sign_in_the_export_sends_to_the_sign_in_page(
    client: TestClient, spec: ListExport
) -> None:
    page = client.get(spec.page)
    answer = client.get(spec.export_url("xlsx"))

    assert (answer.status_code, page.status_code) == (303, 303)
    assert answer.headers["location"].startswith("/sign-in")


def test_an_xlsx_keeps_dates_and_amounts_as_values(client: TestClient, world: World) -> None:
    answer = client.get(
        f"/invoices/export.xlsx?customer={OWN}&sort=number&order=asc",
        headers=world.headers["admin"],
    )

    header, rows = read_export(answer, "xlsx")
    language = language_of(world, "admin")
    with i18n.use_language(language):
        issued, amount, number = (
            header.index(i18n.gettext(n)) for n in ("Issued", "Amount", "Number")
        )
    first = rows[0]
    assert first[number] == f"INV-{OWN[:-2]}-A"
    assert first[issued] == datetime(2026, 1, 1)
    assert first[amount] == 1000


def test_the_csv_speaks_the_users_language(
    client: TestClient, world: World, session: Session
) -> None:
    world.users["collector"].language = "en"
    session.flush()
    english = read_export(
        client.get(
            "/collections/disputes/export.csv?status=all", headers=world.headers["collector"]
        ),
        "csv",
    )
    world.users["collector"].language = "zh"
    session.flush()
    chinese = read_export(
        client.get(
            "/collections/disputes/export.csv?status=all", headers=world.headers["collector"]
        ),
        "csv",
    )

    assert english[0][:4] == ["Dispute", "Customer code", "Customer", "Reason"]
    with i18n.use_language("zh"):
        assert chinese[0][:4] == [
            i18n.gettext(n) for n in ("Dispute", "Customer code", "Customer", "Reason")
        ]
        assert {row[3] for row in chinese[1]} == {i18n.gettext("Price")}
    assert chinese[0] != english[0]
    assert {row[3] for row in english[1]} == {"Price"}
    workbook = client.get(
        "/collections/disputes/export.xlsx?status=all", headers=world.headers["collector"]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content), read_only=True).worksheets[0]
    with i18n.use_language("zh"):
        assert sheet.title == i18n.gettext("Disputes")


def test_the_export_holds_every_page_of_the_list(
    client: TestClient, world: World, session: Session
) -> None:
    customer = session.scalar(select(Customer).where(Customer.code == OWN))
    assert customer is not None
    for n in range(55):
        make_invoice(session, customer=customer, number=f"INV-MANY-{n:03d}", amount="10.00")
    session.flush()
    url = f"/invoices?customer={OWN}&sort=number&order=desc"
    headers = world.headers["admin"]
    pages = [
        page_keys(client.get(f"{url}&page={n}", headers=headers).text, LISTS[0].marker)
        for n in (1, 2)
    ]
    assert [len(keys) for keys in pages] == [50, 8]

    answer = client.get(
        f"/invoices/export.csv?customer={OWN}&sort=number&order=desc", headers=headers
    )

    header, rows = read_export(answer, "csv")
    assert column(header, rows, "Number", language_of(world, "admin")) == pages[0] + pages[1]


def test_paged_reads_a_batch_at_a_time_up_to_the_limit() -> None:
    calls: list[tuple[int, int]] = []

    def fetch(size: int, offset: int) -> list[int]:
        calls.append((size, offset))
        return list(range(offset, min(offset + size, 23)))

    assert list(paged(fetch, limit=100, batch=10)) == list(range(23))
    assert calls == [(10, 0), (10, 10), (10, 20)]
    calls.clear()
    assert list(paged(fetch, limit=15, batch=10)) == list(range(15))
    assert calls == [(10, 0), (5, 10)]


def test_a_download_keeps_values_and_writes_moments_in_utc_to_the_second() -> None:
    moment = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    row = ["=A-1", Decimal("12.50"), date(2026, 3, 1), moment, None]
    headers = ["Number", "Amount", "Issued", "Time (UTC)", "Note"]
    read: dict[str, list[list[Any]]] = {}
    for extension in ("csv", "xlsx"):
        with i18n.use_language("zh"):
            answer = download(headers, [row], stem="sample", format=extension, title="Invoices")
        path = Path(answer.path)
        try:
            assert answer.headers["content-disposition"] == (
                f'attachment; filename="sample-{today().isoformat()}.{extension}"'
            )
            if extension == "csv":
                read[extension] = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
            else:
                workbook = openpyxl.load_workbook(path)
                with i18n.use_language("zh"):
                    assert workbook.active.title == i18n.gettext("Invoices")
                read[extension] = [list(r) for r in workbook.active.iter_rows(values_only=True)]
        finally:
            path.unlink()

    with i18n.use_language("zh"):
        translated = [i18n.gettext(h) for h in headers]
    assert translated != headers
    assert read["csv"] == [translated, ["'=A-1", "12.50", "2026-03-01", "2026-03-01T01:30:15", ""]]
    assert read["xlsx"] == [
        translated,
        ["=A-1", 12.5, datetime(2026, 3, 1), datetime(2026, 3, 1, 1, 30, 15), None],
    ]
