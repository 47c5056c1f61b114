"""Signing in and out, the account page and the language switch, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import world
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import nav_labels, sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_a_sales_rep_signs_in_and_lands_on_his_customers(
    page: Page, screenshots: Screenshots
) -> None:
    # Given a visitor who is not signed in
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshots.take(page, "01-sign-in")

    # When the sales rep signs in
    sign_in(page, world.SALES)

    # Then he is on the customer list, named in the top bar, with no payment or import links
    expect(page).to_have_url(re.compile(r"/customers$"))
    expect(page.locator("a.whoami")).to_contain_text("客户经理 演示")
    expect(page.locator("a.whoami .role")).to_have_text("Sales")
    nav = nav_labels(page)
    assert nav[:3] == ["Flywheel", "Customers", "Invoices"]
    assert "Record payment" not in nav
    assert "Import" not in nav


def test_a_collector_signs_in_and_may_record_payments_but_not_import(page: Page) -> None:
    sign_in(page, world.COLLECTOR)

    expect(page.locator("a.whoami .role")).to_have_text("Collector")
    nav = nav_labels(page)
    assert "Record payment" in nav
    assert "Import" not in nav


def test_a_wrong_password_keeps_the_visitor_on_the_sign_in_page_with_the_reason(
    page: Page,
) -> None:
    page.goto("/sign-in")
    page.locator("input[name=username]").fill("viewer")
    page.locator("input[name=password]").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    expect(page.locator("input[name=username]")).to_have_value("viewer")
    expect(page.locator("a.whoami")).to_have_count(0)


def test_signing_in_from_a_deep_link_returns_to_it(page: Page, screenshots: Screenshots) -> None:
    sign_in(page, world.FINANCE, to="/account")

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("finance")
    expect(facts).to_contain_text("Finance")
    expect(facts).to_contain_text("English")
    screenshots.take(page, "09-account")


def test_signing_out_ends_the_session(page: Page) -> None:
    sign_in(page, world.SALES, to="/account")

    sign_out(page)

    expect(page.locator("a.whoami")).to_have_count(0)
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Faccount$"))


def test_switching_to_chinese_translates_the_pages_and_is_kept_for_the_user(page: Page) -> None:
    # Given a manager signed in, reading in English
    sign_in(page, world.POLYGLOT, to="/account")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # When he presses 中文
    page.get_by_role("button", name="中文").click()

    # Then the page comes back in Chinese, on the same page
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    assert nav_labels(page)[:2] == ["飞轮", "客户"]
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Your account")

    # And it stays Chinese after signing out and in again: it is his setting
    sign_out(page)
    sign_in(page, world.POLYGLOT, to="/account")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # When he presses English, the pages are English again
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert nav_labels(page)[:2] == ["Flywheel", "Customers"]
