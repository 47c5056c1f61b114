"""The flywheel dashboard in a real browser, on the demo company and the snapshot built over it
for today: a manager opens the dashboard, changes the period and a filter, drills into a
figure and exports the list (CSV and XLSX); the sales rep sees his own figures only; a
Chinese-speaking manager reads the same page in Chinese."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, update

from flywheel.insights.cube import add_months
from flywheel.models.users import User
from tests.e2e import insights_world as fw
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import sign_in

pytestmark = pytest.mark.e2e

EXTRA_SHOTS = os.environ.get("FLYWHEEL_E2E_INSIGHTS_SHOTS")
STAGES = ["attract", "engage", "delight", "loyalty", "cash"]


def shot(page: Page, screenshots: Screenshots, name: str) -> None:
    screenshots.take(page, name)
    if EXTRA_SHOTS:
        Path(EXTRA_SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(EXTRA_SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def snapshot(database: Engine) -> dict[str, Any]:
    """The known accounts, and the snapshot built over the demo and them (once)."""
    return fw.seed(database, today=datetime.now(UTC).date())


def shown_month(page: Page) -> date:
    """The last month of the period the page shows (its month field)."""
    value = page.locator("#insights-filters input[name=month]").input_value()
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def figure(page: Page, code: str) -> str:
    return page.get_by_test_id(f"value-{code}").inner_text().strip()


def listed_codes(page: Page) -> list[str]:
    return page.locator("[data-testid=drill-rows] td[data-column=code] a").all_inner_texts()


def test_a_manager_changes_the_period_and_a_filter_drills_in_and_exports(
    page: Page, screenshots: Screenshots, database: Engine, snapshot: dict[str, Any]
) -> None:
    assert len(snapshot["months"]) >= 2

    # When the manager opens the flywheel dashboard
    sign_in(page, fw.MANAGER, to="/insights")

    # Then the wheel has its five stages, each figure is read from the snapshot, and the top
    # accounts behind force and friction arrive after the page
    expect(page.get_by_role("heading", level=1)).to_have_text("Flywheel")
    expect(page.locator("#wheel g.fw-node")).to_have_count(5)
    assert (
        page.locator("#wheel g.fw-node").evaluate_all("nodes => nodes.map(n => n.dataset.stage)")
        == STAGES
    )
    month = shown_month(page)
    everyone = fw.new_accounts(database, first=month, last=month)
    expect(page.get_by_test_id("value-new_customers")).to_have_text(f"{len(everyone):,}")
    expect(page.get_by_test_id("wheel-new_customers")).to_have_text(f"{len(everyone):,}")
    expect(page.get_by_test_id("month-note")).to_contain_text("last complete month")
    expect(page.get_by_test_id("snapshot")).to_contain_text("Figures from the snapshot built")
    expect(page.get_by_test_id("top-accounts")).to_be_visible()
    expect(page.locator("#force-friction [data-kpi=overdue] h4")).to_contain_text("in all")
    expect(page.locator("#stage-cards tr[data-kpi]")).to_have_count(29)
    shot(page, screenshots, "90-flywheel-dashboard-en")

    # When he chooses the quarter and the sales rep's accounts
    filters = page.locator("#insights-filters")
    filters.locator("select[name=period]").select_option("3m")
    filters.locator("select[name=owner]").select_option(fw.SALES)
    filters.get_by_role("button", name="Show").click()

    # Then the figures are the rep's over three months, against the three before
    expect(page).to_have_url(re.compile(r"/insights\?.*period=3m.*owner=sales"))
    expect(filters.locator("select[name=period]")).to_have_value("3m")
    expect(filters.locator("select[name=owner]")).to_have_value(fw.SALES)
    first = add_months(month, -2)
    his = fw.new_accounts(database, first=first, last=month, owner=fw.SALES)
    assert {f"{fw.PREFIX}-ORBIT", f"{fw.PREFIX}-QUASAR"} <= his
    assert f"{fw.PREFIX}-NEBULA" not in his
    expect(page.get_by_test_id("value-new_customers")).to_have_text(f"{len(his):,}")
    before = fw.new_accounts(
        database, first=add_months(first, -3), last=add_months(first, -1), owner=fw.SALES
    )
    expect(page.get_by_test_id("previous-new_customers")).to_have_text(f"{len(before):,}")
    shot(page, screenshots, "91-flywheel-dashboard-quarter-rep")

    # When he opens the list behind the new customers
    page.locator("#stage-attract tr[data-kpi=new_customers] a").first.click()

    # Then it lists exactly the accounts the figure counts, in the same period and filter
    expect(page).to_have_url(
        re.compile(
            rf"/insights/drill/new_customers\?period=3m&month={month.isoformat()[:7]}"
            r"&owner=sales$"
        )
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("New customers")
    expect(page.get_by_test_id("total")).to_have_text(f"{len(his):,}")
    expect(page.locator("[data-testid=drill-rows] tbody tr")).to_have_count(len(his))
    assert set(listed_codes(page)) == his
    shot(page, screenshots, "92-flywheel-drill-new-customers")

    # When he exports the list as CSV and as XLSX
    with page.expect_download() as csv_download:
        page.get_by_test_id("export-csv").click()
    with page.expect_download() as xlsx_download:
        page.get_by_test_id("export-xlsx").click()

    # Then both files hold the same accounts, in the order of the page
    csv_file = csv_download.value
    assert csv_file.suggested_filename.startswith("new_customers-")
    assert csv_file.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(csv_file.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Code", "Account", "Owner"]
    assert [r[0] for r in rows[1:]] == listed_codes(page)
    xlsx_file = xlsx_download.value
    assert xlsx_file.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(xlsx_file.path()).read_bytes()), read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    assert sheet[0][:3] == ("Code", "Account", "Owner")
    assert [r[0] for r in sheet[1:]] == listed_codes(page)

    # And the way back keeps the period and the filter
    page.get_by_test_id("back").click()
    expect(page).to_have_url(re.compile(r"/insights\?period=3m&month=\d{4}-\d{2}&owner=sales$"))
    expect(page.get_by_test_id("value-new_customers")).to_have_text(f"{len(his):,}")


def test_the_rep_sees_his_own_figures(
    page: Page, database: Engine, snapshot: dict[str, Any]
) -> None:
    sign_in(page, fw.SALES, to="/insights?period=3m")

    expect(page.locator("#insights-filters select[name=owner]")).to_have_count(0)
    month = shown_month(page)
    his = fw.new_accounts(database, first=add_months(month, -2), last=month, owner=fw.SALES)
    expect(page.get_by_test_id("value-new_customers")).to_have_text(f"{len(his):,}")
    expect(page.locator("[data-testid=top-accounts] a")).not_to_have_count(0)
    page.locator("#wheel a.fw-fig[data-kpi=new_customers]").click()
    expect(page.get_by_test_id("total")).to_have_text(f"{len(his):,}")
    assert set(listed_codes(page)) == his
    assert f"{fw.PREFIX}-NEBULA" not in listed_codes(page)


def test_the_dashboard_in_chinese(
    page: Page, screenshots: Screenshots, database: Engine, snapshot: dict[str, Any]
) -> None:
    with database.begin() as conn:
        conn.execute(update(User).where(User.username == fw.OTHER_REP).values(language="zh"))
    try:
        sign_in(page, fw.OTHER_REP, to="/insights")

        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("heading", level=1)).to_have_text("飞轮")
        expect(page.locator("#stage-attract h2")).to_have_text("吸引")
        expect(page.locator("#force-friction h2")).to_have_text("推力与阻力")
        expect(page.get_by_test_id("top-accounts")).to_be_visible()
        text = page.locator("main").inner_text()
        for english in ("New customers", "Force vs friction", "This period", "Friction"):
            assert english not in text, english
        shot(page, screenshots, "93-flywheel-dashboard-zh")
    finally:
        with database.begin() as conn:
            conn.execute(update(User).where(User.username == fw.OTHER_REP).values(language="en"))
