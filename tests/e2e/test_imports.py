"""Finance imports a customer file with one bad row: the column mapping, the dry run with the
rejected row, the import of the good rows and the rejects file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from flywheel.models.customers import Customer
from tests.e2e import world
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import sign_in

pytestmark = pytest.mark.e2e

# Chinese column names as a Chinese ERP exports them; 备注 (remarks) is not a customer field.
# Line 3 (the second account) has a tier that does not exist.
CUSTOMERS_CSV = (
    "客户编号,客户名称,等级,地区,建档日期,备注\n"
    "E2E-IMP-001,Aurora Import Test 极光导入测试,key,华东,2024-03-01,老客户\n"
    "E2E-IMP-002,Beacon Import Test 灯塔导入测试,gold,华南,2024-04-01,\n"
    "E2E-IMP-003,Cobalt Import Test 钴蓝导入测试,growth,华北,2024-05-01,展会\n"
)
BAD_TIER = "unknown value 'gold' (accepted: key, growth, standard)"


def imported_codes(database: Engine) -> list[str]:
    with database.connect() as conn:
        codes = conn.scalars(
            select(Customer.code).where(Customer.code.like("E2E-IMP-%")).order_by(Customer.code)
        )
        return list(codes)


def test_finance_imports_a_customer_file_with_a_bad_row(
    page: Page, screenshots: Screenshots, database: Engine, tmp_path: Path
) -> None:
    upload = tmp_path / "客户资料.csv"
    upload.write_text(CUSTOMERS_CSV, encoding="utf-8")

    # Given finance on the import page
    sign_in(page, world.FINANCE, to="/imports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import data")

    # When she uploads the customer file
    form = page.locator("#upload-form")
    form.locator("select[name=entity]").select_option("customers")
    form.locator("input[name=file]").set_input_files(upload)
    form.get_by_role("button", name="Upload and check the columns").click()

    # Then the mapping preview recognises the Chinese column names and flags the unknown one
    expect(page).to_have_url(re.compile(r"/imports/[A-Za-z0-9_-]{32}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(upload.name)
    mapping = page.locator("#mapping table.mapping tbody tr")
    expect(mapping).to_have_count(6)
    for column, field in (
        ("客户编号", "code"),
        ("客户名称", "name"),
        ("等级", "tier"),
        ("地区", "region"),
        ("建档日期", "created_on"),
        ("备注", ""),
    ):
        expect(page.locator(f"#mapping tr[data-column='{column}']")).to_have_attribute(
            "data-field", field
        )
    expect(page.locator("#skipped-columns")).to_contain_text("备注")
    expect(page.locator("table.first-rows tbody tr")).to_have_count(3)

    # When she runs the dry run
    page.get_by_role("button", name="Dry run (writes nothing)").click()

    # Then the result names the rejected row, its column and the reason, and nothing is written
    run = page.locator("#run[data-phase=finished]")
    expect(run.get_by_role("heading", level=2)).to_have_text("Dry run: nothing was written")
    expect(run.locator("[data-count=rows]")).to_have_text("3")
    expect(run.locator("[data-count=inserted]")).to_have_text("2")
    expect(run.locator("[data-count=rejected]")).to_have_text("1")
    rejected = run.locator("#rejected-rows tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td")).to_have_text(["3", "等级", BAD_TIER])
    assert imported_codes(database) == []
    screenshots.take(page, "08-import-dry-run")

    # When she imports without the rejected row
    run.get_by_role("button", name="Import now, without the rejected row").click()

    # Then the two good accounts are in, the bad one is not
    done = page.locator("#run[data-phase=finished][data-committed=true]")
    expect(done.get_by_role("heading", level=2)).to_have_text("Imported")
    expect(done.locator("[data-count=inserted]")).to_have_text("2")
    expect(done.locator("[data-count=rejected]")).to_have_text("1")
    assert imported_codes(database) == ["E2E-IMP-001", "E2E-IMP-003"]
    screenshots.take(page, "08b-import-done")

    # When she downloads the rejected rows
    with page.expect_download() as download_info:
        done.get_by_role("link", name="Download the rejected rows (CSV)").click()
    download = download_info.value

    # Then the file has the bad row as it was, with its row number, column and reason
    assert download.suggested_filename.endswith(".csv")
    body = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows == [
        ["row", "column", "reason", "客户编号", "客户名称", "等级", "地区", "建档日期", "备注"],
        [
            "3",
            "等级",
            BAD_TIER,
            "E2E-IMP-002",
            "Beacon Import Test 灯塔导入测试",
            "gold",
            "华南",
            "2024-04-01",
            "",
        ],
    ]
