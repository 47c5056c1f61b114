"""A collector records a payment: the form's live allocation preview, the save, and where the
money shows afterwards (the invoice, the account)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from flywheel.models.receivables import Payment
from tests.e2e import world
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import sign_in

pytestmark = pytest.mark.e2e

OVERDUE, NOT_DUE = (invoice.number for invoice in world.OWN_ACCOUNT.invoices)
REFERENCE = "E2E-PAY-0001"


def recorded(database: Engine, reference: str) -> tuple[Decimal, Decimal] | None:
    """The amount and the allocated amount of the payment with ``reference``, if saved."""
    with database.connect() as conn:
        row = conn.execute(
            select(Payment.amount, Payment.allocated_amount).where(Payment.reference == reference)
        ).first()
    return None if row is None else (row.amount, row.allocated_amount)


def test_a_collector_records_a_payment_after_previewing_its_allocation(
    page: Page, screenshots: Screenshots, database: Engine
) -> None:
    # Given the collector on the overdue invoice of an account with two open invoices
    sign_in(page, world.COLLECTOR, to=f"/invoices/{OVERDUE}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {OVERDUE}")
    expect(page.locator("#open-amount")).to_have_text("CN¥12,000.00")
    screenshots.take(page, "06-invoice")

    # When he opens the payment form from it
    page.get_by_role("link", name="Record a payment").click()

    # Then the form knows the customer and the invoice to settle first
    expect(page).to_have_url(re.compile(r"/payments/new\?"))
    form = page.locator("#payment-form")
    expect(form.locator("input[name=customer]")).to_have_value(world.OWN_ACCOUNT.code)
    expect(form.locator("input[name=invoice]")).to_have_value(OVERDUE)

    # When he types an amount smaller than the invoice
    amount = form.locator("input[name=amount]")
    amount.press_sequentially("10000")

    # Then the preview shows it settling part of that invoice only
    lines = page.locator("#preview-lines tbody tr")
    expect(lines).to_have_count(1)
    expect(lines.first).to_have_attribute("data-invoice", OVERDUE)
    expect(page.locator("#preview-applied")).to_have_text("CN¥10,000.00")

    # When he corrects it to more than the invoice
    amount.fill("")
    amount.press_sequentially("15000")

    # Then the preview follows: the invoice in full, the rest on the next one due, no credit left
    expect(lines).to_have_count(2)
    expect(page.locator(f"#preview-lines tr[data-invoice='{OVERDUE}'] td.applied")).to_have_text(
        "CN¥12,000.00"
    )
    expect(page.locator(f"#preview-lines tr[data-invoice='{NOT_DUE}'] td.applied")).to_have_text(
        "CN¥3,000.00"
    )
    expect(page.locator("#preview-applied")).to_have_text("CN¥15,000.00")
    expect(page.locator("#preview-remainder")).to_have_text("CN¥0.00")
    form.locator("input[name=reference]").fill(REFERENCE)
    screenshots.take(page, "07-payment-form")
    # And nothing was saved by previewing
    assert recorded(database, REFERENCE) is None

    # When he records it
    form.get_by_role("button", name="Record payment").click()

    # Then he is back on the invoice, told where the money went
    expect(page).to_have_url(re.compile(rf"/invoices/{OVERDUE}$"))
    expect(page.locator(".flash-success")).to_have_text(
        f"Payment {REFERENCE} of CN¥15,000.00 recorded: CN¥15,000.00 applied to "
        f"{OVERDUE} #1 (CN¥12,000.00), {NOT_DUE} #1 (CN¥3,000.00)."
    )
    # And the invoice shows the payment and nothing left open
    expect(page.locator("#open-amount")).to_have_text("CN¥0.00")
    expect(page.locator("#allocations")).to_contain_text(REFERENCE)
    expect(page.get_by_role("link", name="Record a payment")).to_have_count(0)
    # And the payment is in the ledger, fully allocated
    assert recorded(database, REFERENCE) == (Decimal("15000.00"), Decimal("15000.00"))

    # And the account's 360 lists it with both invoices it went to
    page.get_by_role("link", name=world.OWN_ACCOUNT.code).first.click()
    expect(page).to_have_url(re.compile(rf"/customers/{world.OWN_ACCOUNT.code}$"))
    applied = page.locator(f"#payments tr[data-payment='{REFERENCE}'] .allocation")
    expect(applied).to_have_text([f"{OVERDUE} CN¥12,000.00", f"{NOT_DUE} CN¥3,000.00"])
    expect(page.locator(f"#open-invoices tr[data-invoice='{OVERDUE}']")).to_have_count(0)
