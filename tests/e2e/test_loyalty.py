"""The loyalty pages in a real browser, after the day's loyalty cycle: a manager reads the
dashboard and the CLV model and follows an at-risk account to its 360; the sales rep works his
next best actions and carries a referral from the referrer's 360 to won; a manager grants the
reward as a credit note; a Chinese-speaking manager reads the same pages in Chinese."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine, select

from flywheel.models.customers import Customer
from flywheel.models.loyalty import NextAction, Referral
from flywheel.models.receivables import CreditNote, Invoice
from flywheel.models.users import User
from tests.e2e import loyalty_world as ly
from tests.e2e.conftest import Screenshots
from tests.e2e.steps import sign_in, sign_out

pytestmark = pytest.mark.e2e

# Where the pages are also saved for a person to look at (besides the package's folder).
EXTRA_SHOTS = os.environ.get("FLYWHEEL_E2E_LOYALTY_SHOTS")
DONE_NOTE = "Called 王总: a trial order of 20 units next month"
DISMISS_REASON = "Moving to a competitor for group policy reasons; nothing to win back"
LEAD_CONTACT = "孙经理"
LEAD_EMAIL = "sun@nanshan.example"


# ECharts grows its bars and lines in for about a second; a picture taken earlier shows stubs.
CHART_ANIMATION_MS = 1200


def shot(page: Page, screenshots: Screenshots, name: str) -> None:
    if page.locator("canvas").count():
        page.wait_for_timeout(CHART_ANIMATION_MS)
    screenshots.take(page, name)
    if EXTRA_SHOTS:
        Path(EXTRA_SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(EXTRA_SHOTS) / f"{name}.png"), full_page=True)


def panel_shot(panel: Locator, name: str) -> None:
    if EXTRA_SHOTS:
        Path(EXTRA_SHOTS).mkdir(parents=True, exist_ok=True)
        panel.screenshot(path=str(Path(EXTRA_SHOTS) / f"{name}.png"))


@pytest.fixture(scope="module")
def loyalty(database: Engine) -> dict[str, Any]:
    """The loyalty accounts, and the day's cycle run over the demo and them (once)."""
    return ly.seed(database, today=datetime.now(UTC).date())


def expect_chart(page: Page, box: str) -> None:
    """The ECharts box is drawn: a canvas of a real size inside it."""
    canvas = page.locator(f"{box} canvas").first
    expect(canvas).to_be_visible()
    size = canvas.bounding_box()
    assert size is not None, box
    assert size["width"] > 200, (box, size)
    assert size["height"] > 100, (box, size)


def open_actions(engine: Engine, username: str) -> dict[int, str]:
    """The open next best actions of ``username``: id → account code."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(NextAction.id, Customer.code)
            .join(Customer, Customer.id == NextAction.customer_id)
            .join(User, User.id == NextAction.owner_id)
            .where(User.username == username, NextAction.status == "open")
        ).all()
    return {int(r.id): str(r.code) for r in rows}


def display_name(engine: Engine, username: str) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(User.display_name).where(User.username == username)))


def test_a_manager_reads_the_dashboard_and_follows_an_account_at_risk(
    page: Page, screenshots: Screenshots, database: Engine, loyalty: dict[str, Any]
) -> None:
    assert loyalty["customers"] >= 60 + len(ly.BUYERS)
    assert loyalty["next_actions"]["opened_by_action"].get("re_engage", 0) >= 3

    # When the manager opens the loyalty dashboard
    sign_in(page, ly.MANAGER, to="/loyalty")

    # Then the segment map, the charts, the cohort heatmap (loaded afterwards) and the accounts
    # at risk are all there
    expect(page.get_by_role("heading", level=1)).to_have_text("Loyalty")
    segments = page.get_by_test_id("segments")
    expect(segments.locator("tr[data-segment=at_risk]")).to_be_visible()
    expect(segments.locator("tr[data-segment=champions]")).to_contain_text("Champions")
    expect_chart(page, "#segment-chart")
    expect_chart(page, "#clv-chart")
    expect(page.get_by_test_id("clv-summary")).to_contain_text("accounts with a CLV")
    expect(page.locator("#loyalty-retention #cohorts")).to_be_visible()
    expect_chart(page, "#cohort-chart")
    expect_chart(page, "#nrr-chart")
    expect(page.get_by_test_id("repeat-rate")).to_have_text(re.compile(r"\d+(\.\d)?%"))
    at_risk = page.get_by_test_id("at-risk").locator("tbody tr")
    expect(at_risk.first).to_be_visible()
    shot(page, screenshots, "70-loyalty-dashboard-en")

    # When he narrows it to the sales rep's key accounts
    filters = page.locator("#loyalty-filters")
    filters.locator("select[name=owner]").select_option(ly.SALES)
    filters.locator("select[name=tier]").select_option("key")
    filters.get_by_role("button", name="Show").click()

    # Then only those are at risk: the rep's fading key accounts, not the manager's own
    expect(page).to_have_url(re.compile(r"/loyalty\?.*owner=sales.*tier=key"))
    expect(filters.locator("select[name=owner]")).to_have_value(ly.SALES)
    for code in ly.OWN_FADING:
        expect(page.locator(f"[data-testid=at-risk] tr[data-account='{code}']")).to_be_visible()
    for code in ly.MANAGERS_FADING:
        expect(page.locator(f"tr[data-account='{code}']")).to_have_count(0)
    owners = page.get_by_test_id("at-risk").locator("tbody tr td:nth-child(2)")
    assert set(owners.all_inner_texts()) == {display_name(database, ly.SALES)}
    expect_chart(page, "#cohort-chart")  # the heatmap follows the filter
    expect(page.locator("#loyalty-retention")).to_contain_text("Cohort retention")
    shot(page, screenshots, "71-loyalty-dashboard-filtered")

    # When he follows the first fading account to its 360
    fading = ly.OWN_FADING[0]
    page.locator(f"tr[data-account='{fading}'] a[href='/customers/{fading}']").click()

    # Then its loyalty panel shows health with the factors behind it, CLV and p_alive
    expect(page).to_have_url(re.compile(rf"/customers/{fading}$"))
    panel = page.locator("[data-panel='loyalty.health']")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("loyalty-health")).to_have_text(re.compile(r"^\d{1,3}$"))
    expect(panel.get_by_test_id("loyalty-segment")).to_have_text("At risk")
    expect(panel.get_by_test_id("loyalty-clv")).to_contain_text("CN¥")
    expect(panel.locator("[data-kpi=p-alive] .value")).to_have_text(re.compile(r"\d+(\.\d)?%"))
    expect(panel.get_by_test_id("loyalty-churn")).to_have_text(re.compile(r"\d+(\.\d)?%"))
    factors = panel.get_by_test_id("loyalty-factors").locator("tbody tr")
    expect(factors.first).to_be_visible()
    assert factors.count() >= 5
    expect(panel.locator("tr[data-factor=purchase_recency]")).to_be_visible()
    panel.scroll_into_view_if_needed()
    shot(page, screenshots, "72-loyalty-360-en")
    panel_shot(panel, "72b-loyalty-panel-en")


def test_a_manager_reads_the_clv_model(
    page: Page, screenshots: Screenshots, loyalty: dict[str, Any]
) -> None:
    sign_in(page, ly.MANAGER, to="/loyalty/model")

    expect(page.get_by_role("heading", level=1)).to_have_text("CLV model")
    params = page.locator("#purchase-params")
    expect(params).to_be_visible()
    expect(page.get_by_role("heading", name="Purchase model: BG/NBD")).to_be_visible()
    expect(params.locator("thead th")).to_have_count(5)  # r, α, a, b and the log-likelihood
    expect(params.locator("tbody td").last).to_have_text(re.compile(r"^[−-]\d"))
    expect(page.locator("#spend-params")).to_be_visible()
    expect(page.locator("#holdout-predicted")).to_have_text(re.compile(r"\d"))
    expect(page.locator("#holdout-actual")).to_have_text(re.compile(r"\d"))
    expect_chart(page, "#holdout-chart")
    shot(page, screenshots, "73-loyalty-model-en")


def test_the_rep_works_his_next_best_actions(
    page: Page, screenshots: Screenshots, database: Engine, loyalty: dict[str, Any]
) -> None:
    mine = open_actions(database, ly.SALES)
    assert set(ly.OWN_FADING) <= set(mine.values())

    # When the rep opens his next best actions
    sign_in(page, ly.SALES, to="/loyalty/actions")

    # Then he sees exactly his open actions, each with its reasons
    expect(page.get_by_role("heading", level=1)).to_have_text("Next best actions")
    rows = page.locator("tr.nba-row")
    expect(rows).to_have_count(len(mine))
    shown = {int(rows.nth(n).get_attribute("data-action") or 0) for n in range(rows.count())}
    assert shown == set(mine)
    for code in ly.MANAGERS_FADING:
        expect(page.get_by_role("link", name=code)).to_have_count(0)
    by_code = {code: action for action, code in mine.items()}
    first, second = (by_code[code] for code in ly.OWN_FADING[:2])
    row = page.locator(f"#nba-{first}")
    expect(row).to_have_attribute("data-kind", "re_engage")
    expect(row).to_contain_text("Re-engage an at-risk high-value account")
    expect(row.locator(".chip").first).to_be_visible()
    expect(row).to_contain_text("RFM segment: at risk")
    for n in range(rows.count()):
        expect(rows.nth(n).locator(".chip").first).to_be_visible()
    shot(page, screenshots, "74-loyalty-actions-en")

    # When he marks the first done with what came of it
    row.locator("summary[data-do=done]").click()
    row.locator("textarea[name=note]").fill(DONE_NOTE)
    row.get_by_role("button", name="Mark done").click()

    # Then he is told, the action leaves his open list and its row says what came of it
    expect(page.locator(".flash-success")).to_contain_text("Action marked done.")
    expect(page.locator(f"#nba-{first}")).to_have_count(0)
    expect(page.locator("tr.nba-row")).to_have_count(len(mine) - 1)
    assert ly.next_action(database, first) == ("done", DONE_NOTE)

    # When he dismisses the second with a reason
    row = page.locator(f"#nba-{second}")
    row.locator("summary[data-do=dismiss]").click()
    row.locator("textarea[name=reason]").fill(DISMISS_REASON)
    row.get_by_role("button", name="Dismiss").click()

    # Then it is gone too and the database says why
    expect(page.locator(".flash-success")).to_contain_text("Action dismissed.")
    expect(page.locator(f"#nba-{second}")).to_have_count(0)
    expect(page.locator("tr.nba-row")).to_have_count(len(mine) - 2)
    status, note = ly.next_action(database, second)
    assert status == "dismissed"
    assert note is not None
    assert DISMISS_REASON in note
    assert set(open_actions(database, ly.SALES)) == set(mine) - {first, second}

    # And the closed ones are listed under their status, with the note
    page.locator("select[name=status]").select_option("all")
    page.get_by_role("button", name="Filter").click()
    closed = page.locator(f"#nba-{first}")
    expect(closed).to_contain_text("Done")
    expect(closed).to_contain_text(DONE_NOTE)
    expect(closed.locator("summary")).to_have_count(0)
    shot(page, screenshots, "75-loyalty-actions-worked")


def referral_of(engine: Engine, referral_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Referral).where(Referral.id == referral_id)).one()


def test_a_referral_from_the_360_to_won_and_rewarded(
    page: Page, screenshots: Screenshots, database: Engine, loyalty: dict[str, Any]
) -> None:
    referrer_id = ly.customer_id(database, ly.REFERRER)
    newcomer_id = ly.customer_id(database, ly.NEWCOMER)

    # When the rep opens the referrer's 360 and records a referral from it
    sign_in(page, ly.SALES, to=f"/customers/{ly.REFERRER}")
    panel = page.locator("[data-panel='loyalty.health']")
    panel.locator("a[data-do=new-referral]").click()
    expect(page).to_have_url(re.compile(rf"/loyalty/referrals/new\?customer={ly.REFERRER}$"))
    form = page.get_by_test_id("referral-form")
    expect(form.locator("input[name=customer]")).to_have_value(ly.REFERRER)
    form.locator("select[name=referrer_contact_id]").select_option(label=ly.REFERRER_CONTACT)
    form.locator("input[name=lead_company]").fill(ly.LEAD_COMPANY)
    form.locator("input[name=lead_contact]").fill(LEAD_CONTACT)
    form.locator("input[name=lead_email]").fill(LEAD_EMAIL)
    form.get_by_role("button", name="Record referral").click()

    # Then the referral is a lead of the referrer, with its contact
    expect(page).to_have_url(re.compile(r"/loyalty/referrals/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("Referral recorded.")
    expect(page.get_by_test_id("status")).to_have_text("Lead")
    referral_id = int(page.url.rsplit("/", 1)[1])
    recorded = referral_of(database, referral_id)
    assert (recorded.customer_id, recorded.status, recorded.lead_email) == (
        referrer_id,
        "lead",
        LEAD_EMAIL,
    )
    assert recorded.referrer_contact_id is not None

    # When he moves it to contacted
    status = page.locator("#status-form")
    status.locator("select[name=status]").select_option("contacted")
    status.get_by_role("button", name="Save status").click()
    expect(page.locator(".flash-success")).to_contain_text("Status changed.")
    expect(page.get_by_test_id("status")).to_have_text("Contacted")
    assert referral_of(database, referral_id).status == "contacted"

    # When he says it is won but names no account
    status.locator("select[name=status]").select_option("won")
    status.get_by_role("button", name="Save status").click()

    # Then the form says what is missing, and nothing changed
    error = status.locator("input[name=referred_customer] + .field-error")
    expect(error).to_be_visible()
    expect(status.locator("input[name=referred_customer]")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_test_id("status")).to_have_text("Contacted")
    unchanged = referral_of(database, referral_id)
    assert (unchanged.status, unchanged.referred_customer_id, unchanged.won_on) == (
        "contacted",
        None,
        None,
    )
    shot(page, screenshots, "76-loyalty-referral-error")

    # When he links the account the lead became
    status.locator("select[name=status]").select_option("won")
    status.locator("input[name=referred_customer]").fill(ly.NEWCOMER)
    status.get_by_role("button", name="Save status").click()

    # Then it is won, the reward waits for a granter, and the rep cannot grant it himself
    expect(page.locator(".flash-success")).to_contain_text("Status changed.")
    expect(page.get_by_test_id("status")).to_have_text("Won")
    expect(page.get_by_test_id("reward")).to_contain_text("Reward pending")
    expect(page.locator("#reward-form")).to_have_count(0)
    won = referral_of(database, referral_id)
    assert (won.status, won.referred_customer_id, won.reward_status) == (
        "won",
        newcomer_id,
        "pending",
    )
    with database.connect() as conn:
        assert conn.scalar(select(Customer.referred_by_id).where(Customer.id == newcomer_id)) == (
            referrer_id
        )
    sign_out(page)

    # When a manager opens it and grants the reward
    sign_in(page, ly.MANAGER, to=f"/loyalty/referrals/{referral_id}")
    reward = page.locator("#reward-form")
    reward.locator("select[name=decision]").select_option("grant")
    reward.get_by_role("button", name="Save decision").click()

    # Then a credit note of the rule's amount stands on the referrer's open invoice
    expect(page.locator(".flash-success")).to_contain_text("Reward granted.")
    expect(page.get_by_test_id("reward")).to_contain_text("Reward granted")
    expect(page.get_by_test_id("reward")).to_contain_text("credit note")
    granted = referral_of(database, referral_id)
    assert granted.reward_status == "granted"
    assert granted.reward_credit_note_id is not None
    with database.connect() as conn:
        note = conn.execute(
            select(CreditNote.amount, Invoice.number)
            .join(Invoice, Invoice.id == CreditNote.invoice_id)
            .where(CreditNote.id == granted.reward_credit_note_id)
        ).one()
    assert (note.amount, note.number) == (granted.reward_amount, ly.REFERRER_INVOICE)
    shot(page, screenshots, "77-loyalty-referral-rewarded")

    # And the referrer's 360 counts the won referral
    page.goto(f"/customers/{ly.REFERRER}")
    expect(page.get_by_test_id("loyalty-referrals")).to_contain_text("1 made, 1 won")


def test_the_dashboard_in_chinese(
    page: Page, screenshots: Screenshots, loyalty: dict[str, Any]
) -> None:
    # When a manager whose language is Chinese opens the loyalty pages
    sign_in(page, ly.ZH_MANAGER, to="/loyalty")

    # Then the labels are Chinese, charts included
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("忠诚度")
    expect(page.get_by_role("navigation", name="忠诚度")).to_contain_text("下一步最佳行动")
    expect(page.locator("[data-testid=segments] tr[data-segment=at_risk]")).to_contain_text(
        "有流失风险"
    )
    expect_chart(page, "#segment-chart")
    expect_chart(page, "#cohort-chart")
    expect_chart(page, "#nrr-chart")
    expect_chart(page, "#clv-chart")
    text = page.locator("main").inner_text()
    for english in ("Segments", "Accounts at risk", "CLV distribution", "Cohort retention"):
        assert english not in text, english
    shot(page, screenshots, "80-loyalty-dashboard-zh")

    page.goto("/loyalty/model")
    expect(page.get_by_role("heading", level=1)).to_have_text("CLV 模型")
    expect_chart(page, "#holdout-chart")
    shot(page, screenshots, "81-loyalty-model-zh")

    page.goto(f"/customers/{ly.OWN_FADING[0]}")
    panel = page.locator("[data-panel='loyalty.health']")
    expect(panel.get_by_test_id("loyalty-segment")).to_have_text("有流失风险")
    panel.scroll_into_view_if_needed()
    shot(page, screenshots, "82-loyalty-360-zh")
    panel_shot(panel, "82b-loyalty-panel-zh")

    page.goto("/loyalty/actions?owner=all")
    expect(page.get_by_role("heading", level=1)).to_have_text("下一步最佳行动")
    expect(page.locator("tr.nba-row").first).to_be_visible()
    shot(page, screenshots, "83-loyalty-actions-zh")
