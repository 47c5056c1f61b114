"""A collector's day: the worklist shows the call due for an overdue account; he logs the call
with a promise to pay, the task leaves the worklist and the item leaves dunning; the money
comes in through the payment form, and the account's 360 shows the promise kept."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.e2e import collections_world as coll
from tests.e2e import world
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import sign_in

pytestmark = pytest.mark.e2e

REFERENCE = "E2E-PAY-COLL-1"
# Where the worklist and the panel are also saved for a person to look at (besides the
# package's screenshot folder).
EXTRA_SHOTS = os.environ.get("FLYWHEEL_E2E_COLLECTIONS_SHOTS")


def shot(page: Page, screenshots: Screenshots, name: str) -> None:
    screenshots.take(page, name)
    if EXTRA_SHOTS:
        Path(EXTRA_SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(EXTRA_SHOTS) / f"{name}.png"), full_page=True)


def test_a_collector_logs_a_promise_and_sees_it_kept_after_the_payment(
    page: Page, screenshots: Screenshots, database: Engine
) -> None:
    # Given an account ten days past due and the collections cycle run for today (the server's
    # business day is today in UTC)
    today = datetime.now(UTC).date()
    seeded = coll.seed_overdue_account(database, today=today)
    pays_by = today + timedelta(days=3)

    # When the collector opens his worklist and looks for the account
    sign_in(page, world.COLLECTOR, to="/collections")
    expect(page.get_by_role("heading", level=1)).to_have_text("Collections worklist")
    page.locator("#worklist-filters input[name=q]").fill(coll.CODE)
    page.locator("#worklist-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/collections\?.*q={coll.CODE}"))

    # Then the call the strategy asks for today is there, with the overdue amount
    row = page.locator(f"tr[data-source=action][data-id='{seeded.call_id}']")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-channel", "call")
    expect(row).to_contain_text(coll.NAME)
    expect(row).to_contain_text("CN¥6,800.00")
    shot(page, screenshots, "20-collections-worklist")

    # When he opens the call form under the row and says the customer promised to pay
    row.get_by_role("link", name="Log call").click()
    form = page.locator("tr.call-row form.call-form")
    expect(form).to_be_visible()
    promise_fields = form.locator("fieldset[data-when=promised]")
    expect(promise_fields).to_be_hidden()
    form.locator("select[name=outcome]").select_option("promised")
    expect(promise_fields).to_be_visible()
    form.locator("input[name=promise_amount]").fill("6800")
    form.locator("input[name=promise_date]").fill(pays_by.isoformat())
    form.locator("textarea[name=note]").fill("赵会计: transfer on Friday")
    shot(page, screenshots, "21-collections-call-form")
    form.get_by_role("button", name="Log call").click()

    # Then he is back on the worklist, told what was recorded, and the task is gone
    expect(page).to_have_url(re.compile(r"/collections$"))
    expect(page.locator(".flash-success")).to_contain_text(
        f"Call with {coll.CODE} logged: a promise to pay CN¥6,800.00"
    )
    expect(page.locator(f"tr[data-customer='{coll.CODE}']")).to_have_count(0)
    assert coll.action_status(database, seeded.call_id) == ("done", "promised")
    assert [(a, d, s) for a, d, s in coll.promises_of(database, seeded.customer_id)] == [
        (coll.AMOUNT, pays_by, "pending")
    ]
    # And the item has left dunning while the promise runs
    assert coll.dunning_paused(database, installment_id=seeded.installment_id, today=today)

    # When the money comes in and he records it from the invoice
    page.goto(f"/invoices/{coll.INVOICE}")
    page.get_by_role("link", name="Record a payment").click()
    payment = page.locator("#payment-form")
    expect(payment.locator("input[name=invoice]")).to_have_value(coll.INVOICE)
    payment.locator("input[name=amount]").fill("6800")
    payment.locator("input[name=reference]").fill(REFERENCE)
    payment.get_by_role("button", name="Record payment").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Payment {REFERENCE}")

    # Then the account's 360 shows the promise kept in its collections panel
    page.goto(f"/customers/{coll.CODE}")
    panel = page.locator("[data-panel='collections.activity']")
    expect(panel).to_be_visible()
    promise_row = panel.locator("[data-testid=panel-promises] tr[data-promise]")
    expect(promise_row).to_have_count(1)
    expect(promise_row).to_have_attribute("data-status", "kept")
    expect(promise_row).to_contain_text("Kept")
    expect(panel.locator("[data-testid=panel-actions]")).to_contain_text("Promised to pay")
    assert coll.promises_of(database, seeded.customer_id)[0][2] == "kept"
    panel.scroll_into_view_if_needed()
    shot(page, screenshots, "22-customer-360-collections")
    if EXTRA_SHOTS:
        panel.screenshot(path=str(Path(EXTRA_SHOTS) / "23-collections-panel.png"))
