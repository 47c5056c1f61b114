"""The negotiation workspace in a real browser: the sales rep opens a negotiation from his key
account, fills the preparation sheet, puts price and payment terms on the table and sees the
ZOPA (a figure and a chart), logs a concession above the discount threshold; a manager approves
it; the rep adds a meeting, closes with an outcome and a post-mortem and prints the sheet."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import Engine, select

from flywheel.customers import service as customers
from flywheel.customers.schemas import CustomerIn
from flywheel.db import unit_of_work
from flywheel.models.customers import Customer
from flywheel.models.enums import Tier
from flywheel.models.keyaccounts import Concession, Negotiation
from flywheel.users import service as users
from tests.e2e import world
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import sign_in, sign_out

pytestmark = pytest.mark.e2e

ACCOUNT_CODE = "E2E-NEG-KUNLUN"
ACCOUNT_NAME = "Kunlun Precision 昆仑精密"
MANAGER = "manager"
TITLE = "2027 frame agreement · 2027 框架协议"
OBJECTIVES = "Three-year frame; price down at most 3%"
BATNA = "Sell the line capacity to the export order"
# ECharts grows its bars in for about a second; a picture taken earlier shows stubs.
CHART_ANIMATION_MS = 1200


@pytest.fixture(scope="module")
def kunlun(database: Engine) -> str:
    """A key account of the demo ``sales`` rep, with no negotiation yet."""
    with unit_of_work(database) as session:
        owner = users.get_by_username(session, world.SALES)
        customers.create_customer(
            session,
            actor=world.SEEDER,
            data=CustomerIn(
                code=ACCOUNT_CODE,
                name=ACCOUNT_NAME,
                tier=Tier.KEY,
                owner_id=owner.id,
                currency="CNY",
                payment_terms="NET30",
                created_on=datetime.now(UTC).date() - timedelta(days=400),
            ),
        )
    return ACCOUNT_CODE


def _outcome(database: Engine) -> tuple[str, str | None]:
    with database.connect() as conn:
        status, outcome = conn.execute(
            select(Negotiation.status, Negotiation.outcome)
            .join(Customer, Customer.id == Negotiation.customer_id)
            .where(Customer.code == ACCOUNT_CODE)
        ).one()
    return str(status), outcome


def _approvals(database: Engine) -> list[str]:
    with database.connect() as conn:
        return list(
            conn.scalars(
                select(Concession.approval_status)
                .join(Customer, Customer.id == Concession.customer_id)
                .where(Customer.code == ACCOUNT_CODE, Concession.planned.is_(False))
            )
        )


def _chart_drawn(page: Page, box: str) -> None:
    canvas = page.locator(f"{box} canvas").first
    expect(canvas).to_be_visible()
    size = canvas.bounding_box()
    assert size is not None
    assert size["width"] > 200, size
    assert size["height"] > 80, size


def test_a_negotiation_is_prepared_approved_closed_and_printed(
    page: Page,
    context: BrowserContext,
    screenshots: Screenshots,
    database: Engine,
    kunlun: str,
) -> None:
    # Given the rep on his negotiations, he opens one for his key account
    sign_in(page, world.SALES, to="/negotiations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Negotiations")
    page.goto(f"/negotiations/new?customer={kunlun}")
    new = page.get_by_test_id("negotiation-form")
    expect(new.locator("input[name=customer]")).to_have_value(kunlun)
    new.locator("input[name=title]").fill(TITLE)
    new.get_by_role("button", name="Open the negotiation").click()
    expect(page).to_have_url(re.compile(r"/negotiations/\d+$"))
    expect(page.get_by_test_id("status")).to_have_text("Preparing")
    workspace = urlsplit(page.url).path

    # When he fills the preparation sheet
    sheet = page.get_by_test_id("sheet-form")
    sheet.locator("textarea[name=our_objectives]").fill(OBJECTIVES)
    sheet.locator("textarea[name=their_interests]").fill("采购部今年有 5% 降本指标")
    sheet.locator("textarea[name=our_batna]").fill(BATNA)
    sheet.locator("textarea[name=their_batna]").fill("汇川技术报价低约 6%，交期长 4 周")
    sheet.get_by_role("button", name="Save the sheet").click()
    expect(page.locator(".flash")).to_contain_text("Preparation sheet saved.")
    expect(page.locator("textarea[name=our_objectives]")).to_have_value(OBJECTIVES)

    # And puts price and payment terms on the table
    for name, positions in (
        ("price", ("1060000", "1000000", "920000", "800000", "860000", "960000")),
        ("payment_terms", ("30", "45", "60", "90", "75", "45")),
    ):
        issue = page.get_by_test_id("issue-form")
        if not issue.is_visible():
            page.locator("#issue summary").click()
        issue.locator("input[name=name]").fill(name)
        for field, value in zip(
            (
                "our_opening",
                "our_target",
                "our_walkaway",
                "their_opening",
                "their_target",
                "their_walkaway",
            ),
            positions,
            strict=True,
        ):
            issue.locator(f"input[name={field}]").fill(value)
        issue.get_by_role("button", name="Save the issue").click()
        expect(page.locator(".flash")).to_contain_text("Issue saved.")

    # Then he sees the ZOPA of each issue, in the table and drawn
    expect(page.get_by_test_id("zopa-price")).to_have_text("920,000 – 960,000")
    expect(page.get_by_test_id("zopa-payment_terms")).to_have_text("45 – 60")
    _chart_drawn(page, ".zopa-chart[data-index='0']")
    _chart_drawn(page, ".zopa-chart[data-index='1']")
    page.wait_for_timeout(CHART_ANIMATION_MS)
    screenshots.take(page, "80-negotiation-zopa-en")

    # When he logs a meeting and a concession above the 5% discount threshold
    page.locator("#meeting summary").click()
    meeting = page.get_by_test_id("meeting-form")
    meeting.locator("input[name=attendees]").fill("王总, 采购部李经理")
    meeting.locator("textarea[name=notes]").fill("They asked for 8% off against a 3-year frame.")
    meeting.get_by_role("button", name="Add the meeting").click()
    expect(page.get_by_test_id("status")).to_have_text("In progress")
    page.locator("#concession summary").click()
    concession = page.get_by_test_id("concession-form")
    concession.locator("textarea[name=give]").fill("8% off the list price")
    concession.locator("textarea[name=get]").fill("3-year frame, volume +20%")
    concession.locator("input[name=discount_percent]").fill("8")
    concession.locator("select[name=issue]").select_option("price")
    concession.get_by_role("button", name="Record the concession").click()

    # Then it waits for a manager, and the rep can neither decide it nor close
    log = page.get_by_test_id("concession-log")
    expect(log).to_contain_text("Waiting for approval")
    expect(log).to_contain_text("discount above 5%")
    expect(page.get_by_test_id("pending")).to_be_visible()
    assert page.locator("form[action^='/concessions/']").count() == 0
    page.get_by_test_id("close-form").locator("select[name=outcome]").select_option("agreed")
    page.get_by_test_id("close-form").get_by_role("button", name="Close").click()
    expect(page.get_by_test_id("close-form").get_by_role("alert")).to_contain_text(
        "wait for a manager"
    )
    assert _approvals(database) == ["pending"]
    sign_out(page)

    # When a manager approves it with a note
    sign_in(page, MANAGER, to=workspace)
    decide = page.locator("form[action^='/concessions/']").first
    decide.locator("textarea[name=note]").fill("Volume justifies it")
    decide.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("concession-log")).to_contain_text("Approved")
    expect(page.get_by_test_id("concession-log")).to_contain_text("Volume justifies it")
    expect(
        page.get_by_test_id("timeline").locator("li[data-action='concession.approved']")
    ).to_be_visible()
    sign_out(page)

    # Then the rep closes with an outcome and a post-mortem
    sign_in(page, world.SALES, to=workspace)
    close = page.get_by_test_id("close-form")
    close.locator("select[name=outcome]").select_option("won")
    close.locator("textarea[name=outcome_notes]").fill("Signed at 950,000, 60 days")
    close.locator("textarea[name=post_mortem]").fill("Anchoring high worked; terms conceded late.")
    close.get_by_role("button", name="Close").click()
    expect(page.get_by_test_id("status")).to_have_text("Closed")
    expect(page.get_by_test_id("outcome")).to_have_text("Won (at or above target)")
    expect(page.get_by_test_id("post-mortem")).to_contain_text("Anchoring high worked")
    assert _outcome(database) == ("closed", "won")
    assert _approvals(database) == ["approved"]
    screenshots.take(page, "81-negotiation-closed-en")

    # And prints the preparation sheet (it opens in a new tab)
    with context.expect_page() as opened:
        page.locator("[data-do=print]").click()
    printed = opened.value
    printed.wait_for_load_state()
    expect(printed.get_by_test_id("print-title")).to_contain_text("Negotiation preparation sheet")
    expect(printed.get_by_test_id("print-issues")).to_contain_text("920,000 – 960,000")
    expect(printed.locator("body")).to_contain_text(BATNA)
    printed.emulate_media(media="print")
    expect(printed.locator("[data-do=print-now]")).to_be_hidden()
    printed.wait_for_timeout(CHART_ANIMATION_MS)
    screenshots.take(printed, "82-negotiation-print-en")
