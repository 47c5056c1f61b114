"""The customer list, its live search and the customer 360, in English and Chinese, and the
one scoping rule seen from the browser: a rep never sees another rep's account."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.e2e import world
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import nav_labels, sign_in

pytestmark = pytest.mark.e2e

OWN = world.OWN_ACCOUNT
OTHER = world.OTHER_ACCOUNT
SALES_NAME = "客户经理 演示"  # the demo sales rep's display name


def wait_for_chart(page: Page) -> None:
    """The 360's chart is drawn by ECharts after the page loads; a screenshot waits for it."""
    if page.locator("#activity-chart").count():
        expect(page.locator("#activity-chart canvas")).to_have_count(1)


def test_a_sales_rep_finds_his_account_with_the_live_search_and_opens_its_360(
    page: Page, screenshots: Screenshots, database: Engine
) -> None:
    # Given the sales rep, signed in: the list shows his accounts, and only his
    sign_in(page, world.SALES)
    expect(page).to_have_url(re.compile(r"/customers$"))
    owned = world.accounts_of(database, world.SALES)
    expect(page.locator("#customer-results .count")).to_have_attribute("data-total", str(owned))
    rows = page.locator("#customers tbody tr")
    expect(rows.first).to_be_visible()
    owners = {
        cell.strip()
        for cell in page.locator("#customers tbody tr td:nth-child(5)").all_inner_texts()
    }
    assert owners == {SALES_NAME}
    screenshots.take(page, "02-customer-list")

    # When he types part of a name into the search box
    page.evaluate("window.e2eSamePage = true")
    page.get_by_role("searchbox", name="Search").press_sequentially("Zephyr")

    # Then the results narrow to that account while he types, without loading a new page
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-code", OWN.code)
    expect(rows.first).to_contain_text(OWN.name)
    expect(page).to_have_url(re.compile(r"/customers\?.*search=Zephyr"))
    assert page.evaluate("window.e2eSamePage") is True
    screenshots.take(page, "03-search-results")

    # When he searches for another rep's account by its Chinese name
    search = page.get_by_role("searchbox", name="Search")
    search.fill("")
    search.press_sequentially("北极光")

    # Then nothing is found: it is not his
    expect(rows).to_have_count(0)
    expect(page.locator("#customer-results")).to_contain_text("No account matches these filters.")

    # When he searches his own again and opens it
    search.fill("")
    search.press_sequentially("泽风")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=OWN.code).click()

    # Then the 360 shows the account, its owner and its open invoice
    expect(page).to_have_url(re.compile(rf"/customers/{OWN.code}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(OWN.name)
    expect(page.locator("#profile [data-fact=owner]")).to_contain_text(SALES_NAME)
    not_due = OWN.invoices[1].number
    expect(page.locator(f"#open-invoices tr[data-invoice='{not_due}']")).to_be_visible()
    expect(page.locator("[data-kpi=open_balance] .value")).to_have_text(
        re.compile(r"^CN¥[\d,]+\.\d\d$")
    )
    wait_for_chart(page)
    screenshots.take(page, "04-customer-360-en")


def test_a_sales_rep_opening_another_reps_account_gets_the_not_found_page(
    page: Page, screenshots: Screenshots
) -> None:
    # Given the sales rep, signed in
    sign_in(page, world.SALES, to="/account")

    # When he opens the address of another rep's account
    answer = page.goto(f"/customers/{OTHER.code}")
    screenshots.take(page, "10-not-found")

    # Then he gets the not-found page, which names nothing of the account
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("main")).not_to_contain_text(OTHER.name)
    # And the same for that account's invoice
    answer = page.goto(f"/invoices/{OTHER.invoices[0].number}")
    assert answer is not None
    assert answer.status == 404
    expect(page.locator("main")).not_to_contain_text(OTHER.name)


def test_the_owner_of_that_account_does_see_it(page: Page) -> None:
    sign_in(page, world.OTHER_REP, to=f"/customers/{OTHER.code}")

    expect(page.get_by_role("heading", level=1)).to_have_text(OTHER.name)


def test_the_360_in_chinese_has_chinese_labels_dates_and_yuan(
    page: Page, screenshots: Screenshots, database: Engine
) -> None:
    # Given a manager on the 360 of a busy account, in English
    code = world.busiest_account(database, world.SALES)
    sign_in(page, world.POLYGLOT_360, to=f"/customers/{code}")
    open_balance = page.locator("[data-kpi=open_balance] .value")
    expect(open_balance).to_have_text(re.compile(r"^CN¥"))

    # When he presses 中文
    page.get_by_role("button", name="中文").click()

    # Then the same 360 comes back in Chinese: navigation, dates and money
    expect(page).to_have_url(re.compile(rf"/customers/{code}$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert nav_labels(page)[:2] == ["飞轮", "客户"]
    expect(open_balance).to_have_text(re.compile(r"^¥[\d,]+\.\d\d$"))
    expect(page.locator(".customer-head .actions .sub")).to_have_text(
        re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
    )
    wait_for_chart(page)
    screenshots.take(page, "05-customer-360-zh")

    # And English brings the English page back
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(open_balance).to_have_text(re.compile(r"^CN¥"))


def test_a_sales_rep_opening_the_payment_form_is_told_his_role_does_not_allow_it(
    page: Page,
) -> None:
    sign_in(page, world.SALES, to="/account")

    answer = page.goto("/payments/new")

    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("form#payment-form")).to_have_count(0)
