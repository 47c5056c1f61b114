"""What a person does in every scenario: sign in, sign out, read the shell."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e import world


def sign_in(page: Page, username: str, password: str = world.PASSWORD, *, to: str = "/") -> None:
    """Open ``to`` signed out, get sent to the sign-in page, sign in and arrive at ``to``."""
    page.goto(to)
    expect(page).to_have_url(re.compile(r"/sign-in(\?|$)"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/sign-in'] button[type=submit]").click()
    expect(page.locator("a.whoami")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("form[action='/sign-out'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def nav_labels(page: Page) -> list[str]:
    return [label.strip() for label in page.locator("nav.mainnav a").all_inner_texts()]
