"""A customer answers a survey on his phone, in Chinese, and the detractor's follow-up lands on
the account owner's task list.

The invitation is written as the campaign cycle leaves it once sent (the link's token is what
its e-mail carries); the survey page is opened in a phone-sized window without signing in; then
the owner, the demo's ``sales`` rep, signs in and finds the follow-up at /feedback/loops."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import Engine, select

from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn
from flywheel.db import unit_of_work
from flywheel.feedback import surveys, tokens
from flywheel.models.customers import Customer
from flywheel.models.enums import BuyingRole, InvitationStatus, Language
from flywheel.models.feedback import (
    FeedbackLoop,
    Survey,
    SurveyCampaign,
    SurveyInvitation,
    SurveyResponse,
)
from flywheel.models.users import User
from tests.e2e import world
from tests.e2e.conftest import STEP_TIMEOUT_MS, Screenshots, Server
from tests.e2e.steps import sign_in

pytestmark = pytest.mark.e2e

COMPLAINT = "交货又延迟了，客服也不回复"
PHONE: ViewportSize = {"width": 390, "height": 844}
# Where the phone's pages are also saved for a person to look at.
EXTRA_SHOTS = os.environ.get("FLYWHEEL_E2E_FEEDBACK_SHOTS")


@dataclass(frozen=True)
class Invited:
    token: str
    invitation_id: int
    customer_id: int
    owner_id: int


def invite_zephyrs_buyer(engine: Engine, *, now: datetime) -> Invited:
    """A Chinese NPS invitation to the decision maker of the ``sales`` rep's known account,
    sent an hour ago; committed."""
    with unit_of_work(engine) as session:
        customer = session.scalar(select(Customer).where(Customer.code == world.OWN_ACCOUNT.code))
        assert customer is not None
        assert customer.owner_id is not None
        contact = customers.add_contact(
            session,
            actor=world.SEEDER,
            data=ContactIn(
                customer_id=customer.id,
                name="周采购",
                email="zhou@zephyr.example",
                buying_role=BuyingRole.DECISION_MAKER,
                language=Language.ZH,
            ),
        )
        surveys.ensure_defaults(session)
        survey = session.scalar(select(Survey).where(Survey.code == "nps-relationship"))
        assert survey is not None
        campaign = SurveyCampaign(
            name="E2E relationship NPS",
            survey_id=survey.id,
            trigger="schedule",
            every_months=3,
            delay_days=0,
        )
        session.add(campaign)
        session.flush()
        nonce = tokens.new_nonce()
        token = tokens.token_for(nonce, get_settings())
        sent = now - timedelta(hours=1)
        invitation = SurveyInvitation(
            campaign_id=campaign.id,
            survey_id=survey.id,
            customer_id=customer.id,
            contact_id=contact.id,
            dedupe_key=f"{campaign.id}:e2e:{contact.id}",
            event_ref=f"schedule:{sent.date().isoformat()}",
            language="zh",
            token_nonce=nonce,
            token_hash=tokens.hash_token(token),
            status=InvitationStatus.SENT.value,
            send_on=sent.date(),
            sent_at=sent,
            expires_at=sent + timedelta(days=30),
        )
        session.add(invitation)
        session.flush()
        return Invited(token, invitation.id, customer.id, customer.owner_id)


def shot(page: Page, screenshots: Screenshots, name: str) -> Path:
    path = screenshots.take(page, name)
    if EXTRA_SHOTS:
        Path(EXTRA_SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(EXTRA_SHOTS) / f"{name}.png"), full_page=True)
    return path


def test_a_customer_answers_on_his_phone_and_the_owner_gets_the_follow_up(
    browser: Browser, server: Server, database: Engine, page: Page, screenshots: Screenshots
) -> None:
    # Given a Chinese invitation to the buyer of an account the sales rep owns
    invited = invite_zephyrs_buyer(database, now=datetime.now(UTC))
    phone = browser.new_context(
        base_url=server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    phone.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        survey = phone.new_page()

        # When he opens the link from the e-mail on his phone
        survey.goto(f"/s/{invited.token}")

        # Then he sees the survey in Chinese and nothing else, laid out for the phone
        expect(survey.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(survey.get_by_role("heading", level=1)).to_have_text("您的反馈")
        expect(survey.locator("legend").first).to_have_text(
            "您有多大可能向同事或合作伙伴推荐我们？"
        )
        expect(survey.locator("nav")).to_have_count(0)
        expect(survey.get_by_text(world.OWN_ACCOUNT.name)).to_have_count(0)
        assert survey.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
            "the page scrolls sideways on a phone"
        )
        points = survey.locator("label.point span")
        expect(points).to_have_count(11)
        boxes = [points.nth(n).bounding_box() for n in range(11)]
        assert all(b is not None for b in boxes)
        # Big enough to tap, and 0–10 wraps onto two rows: 0–5, then 6–10
        assert min(b["height"] for b in boxes if b) >= 44
        assert min(b["width"] for b in boxes if b) >= 44
        rows = sorted({round(b["y"]) for b in boxes if b})
        assert len(rows) == 2, rows
        assert [round(b["y"]) for b in boxes if b].count(rows[0]) == 6
        shot(survey, screenshots, "60-feedback-survey-phone")

        # When he answers 3, says delivery mattered most and writes why
        survey.locator("label.point:has(input[value='3'])").click()
        expect(survey.locator("input[name=score][value='3']")).to_be_checked()
        survey.get_by_text("交付与物流").click()
        survey.locator("textarea[name=comment]").fill(COMPLAINT)
        shot(survey, screenshots, "61-feedback-survey-phone-filled")
        survey.get_by_role("button", name="提交回答").click()

        # Then he is thanked in Chinese, told someone will call, and may still change it
        expect(survey).to_have_url(re.compile(rf"/s/{invited.token}\?lang=zh&done=new$"))
        expect(survey.get_by_role("heading", level=1)).to_have_text("感谢您的反馈！")
        expect(survey.get_by_test_id("your-answer")).to_contain_text("您的评分：3 / 10")
        expect(survey.get_by_test_id("your-answer")).to_contain_text(COMPLAINT)
        expect(survey.get_by_test_id("follow-up-promise")).to_be_visible()
        expect(survey.get_by_test_id("change-answer")).to_have_text("修改我的回答")
        shot(survey, screenshots, "62-feedback-thanks-phone")
    finally:
        phone.close()

    # And the answer is a detractor's, with a follow-up opened for the account's owner
    with database.connect() as conn:
        answer = conn.execute(
            select(SurveyResponse.id, SurveyResponse.score, SurveyResponse.band).where(
                SurveyResponse.invitation_id == invited.invitation_id
            )
        ).one()
        assert (answer.score, answer.band) == (3, "detractor")
        loop = conn.execute(
            select(FeedbackLoop.id, FeedbackLoop.owner_id, FeedbackLoop.status).where(
                FeedbackLoop.response_id == answer.id
            )
        ).one()
        owner = conn.scalar(select(User.username).where(User.id == loop.owner_id))
    assert (owner, loop.status) == (world.SALES, "open")

    # When the owner signs in and opens his follow-ups
    sign_in(page, world.SALES, to="/feedback/loops")

    # Then the detractor's follow-up is on his list, with what the customer wrote
    row = page.locator(f"tr[data-loop='{loop.id}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text(world.OWN_ACCOUNT.code)
    expect(row).to_contain_text(COMPLAINT)
    shot(page, screenshots, "63-feedback-loops-owner")
