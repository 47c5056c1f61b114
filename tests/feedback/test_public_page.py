"""The public survey page /s/{token}: no sign-in, nothing but the survey, in the invitation's
language; one answer per link, changed within the window; expired and opted-out links; bad
links answered with a neutral 404 that costs no database work when malformed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.app import create_app
from flywheel.feedback import responses, tokens
from flywheel.models.audit import AuditEvent
from flywheel.models.base import utcnow
from flywheel.models.enums import InvitationStatus, Role, SkipReason, SurveyKind
from flywheel.models.feedback import SurveyOptOut, SurveyResponse
from flywheel.web.deps import get_session
from tests.feedback.public_world import (
    CONTACT_NAME,
    CUSTOMER_NAME,
    REASON_QUESTION,
    SETTINGS,
    Link,
    send_invitation,
)
from tests.feedback.test_responses import statements_run
from tests.web.pages import make_person, sign_in

COMPLAINT = "交货又延迟了，客服也不回复"


@pytest.fixture
def app(engine: Engine, session: Session) -> FastAPI:
    application = create_app(SETTINGS, engine=engine)

    def test_session() -> Iterator[Session]:
        yield session

    application.dependency_overrides[get_session] = test_session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def invite(session: Session, **kw: object) -> Link:
    """An invitation sent an hour ago, open for 30 days."""
    sent = utcnow() - timedelta(hours=1)
    kw.setdefault("sent_at", sent)
    kw.setdefault("expires_at", sent + timedelta(days=30))
    return send_invitation(session, **kw)  # type: ignore[arg-type]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def written(session: Session) -> tuple[int, int, int]:
    return count(session, SurveyResponse), count(session, AuditEvent), count(session, SurveyOptOut)


def response_of(session: Session, link: Link) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(SurveyResponse.invitation_id == link.invitation.id)
    )


def checked_score(html: str) -> str | None:
    match = re.search(r'name="score" value="(\d+)" checked', html)
    return match.group(1) if match else None


def assert_private(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert "noindex" in headers["x-robots-tag"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "set-cookie" not in headers


# ---------------------------------------------------------------- the page


def test_a_chinese_invitation_opens_the_survey_in_chinese_and_nothing_else(
    client: TestClient, session: Session
) -> None:
    link = invite(session, language="zh")

    page = client.get(link.path)

    assert page.status_code == 200
    assert_private(page)
    html = page.text
    assert '<html lang="zh-CN">' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "您有多大可能向同事或合作伙伴推荐我们？" in html
    assert "0 · 不可能" in html
    assert "10 · 极有可能" in html
    assert re.findall(r'name="score" value="(\d+)"', html) == [str(n) for n in range(11)]
    assert "对您的评分影响最大的是？" in html
    assert "交付与物流" in html
    assert "请告诉我们您打这个分数的主要原因。" in html
    assert 'action="/s/' + link.token + '"' in html
    assert 'name="lang" value="zh"' in html
    # Only the survey: the company's own name, no account, contact, owner, navigation or script
    assert SETTINGS.company_name in html
    for private in (CUSTOMER_NAME, CONTACT_NAME, link.customer.code, link.owner.username):
        assert private not in html
    for shell in (
        "mainnav",
        "/customers",
        "/sign-in",
        "/static/",
        "<script",
        "http://",
        "https://",
    ):
        assert shell not in html
    assert "csrf_token" not in html


def test_an_english_invitation_opens_in_english_with_its_scale(
    client: TestClient, session: Session
) -> None:
    link = invite(session, kind=SurveyKind.CSAT, language="en")

    page = client.get(link.path)

    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "How satisfied are you with this delivery?" in page.text
    assert "1 · Very dissatisfied" in page.text
    assert "5 · Very satisfied" in page.text
    assert re.findall(r'name="score" value="(\d+)"', page.text) == ["1", "2", "3", "4", "5"]
    assert "scale-csat" in page.text


def test_the_ces_scale_runs_from_1_to_7_with_its_ends(client: TestClient, session: Session) -> None:
    link = invite(session, kind=SurveyKind.CES, language="zh")

    page = client.get(link.path)

    assert re.findall(r'name="score" value="(\d+)"', page.text) == [str(n) for n in range(1, 8)]
    assert "1 · 非常不同意" in page.text
    assert "7 · 非常同意" in page.text


def test_the_respondent_switches_the_language(client: TestClient, session: Session) -> None:
    link = invite(session, language="zh")

    page = client.get(f"{link.path}?lang=en")

    assert "How likely are you to recommend us" in page.text
    assert 'name="lang" value="en"' in page.text
    assert f'href="/s/{link.token}?lang=zh"' in page.text


# ---------------------------------------------------------------- answering


def test_answering_in_chinese_records_the_answer_and_thanks_in_chinese(
    client: TestClient, session: Session
) -> None:
    link = invite(session, language="zh")

    sent = client.post(
        link.path,
        data={"lang": "zh", "score": "3", "answer_main_reason": "delivery", "comment": COMPLAINT},
        follow_redirects=False,
    )

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/s/{link.token}?lang=zh&done=new"
    assert_private(sent)
    response = response_of(session, link)
    assert response is not None
    assert (response.score, response.band, response.comment, response.language) == (
        3,
        "detractor",
        COMPLAINT,
        "zh",
    )
    assert response.answers == {"main_reason": "delivery"}
    thanks = client.get(sent.headers["location"])
    assert thanks.status_code == 200
    assert "感谢您的反馈！" in thanks.text
    assert "您的评分：3 / 10" in thanks.text
    assert COMPLAINT in thanks.text
    assert "很抱歉我们做得不够好" in thanks.text
    assert "您还可以在 72 小时内修改回答。" in thanks.text
    assert f'href="/s/{link.token}?lang=zh&amp;edit=1"' in thanks.text


def test_answering_in_english_thanks_in_english(client: TestClient, session: Session) -> None:
    link = invite(session, kind=SurveyKind.CSAT, language="en")

    thanks = client.post(link.path, data={"lang": "en", "score": "5", "comment": "All good."})

    assert thanks.status_code == 200
    assert "Thank you!" in thanks.text
    assert "Your score: 5 of 5" in thanks.text
    assert "We are sorry" not in thanks.text
    response = response_of(session, link)
    assert response is not None
    assert (response.band, response.language) == ("positive", "en")


def test_a_signed_in_browser_needs_no_csrf_token_on_the_survey(
    client: TestClient, session: Session
) -> None:
    # The respondent happens to be a signed-in user of ours too: the survey's form carries no
    # CSRF token, and the token in the link is what authorises the answer.
    make_person(session, "li.survey", role=Role.VIEWER)
    sign_in(client, "li.survey")
    link = invite(session, language="zh")

    sent = client.post(link.path, data={"score": "9"}, follow_redirects=False)

    assert sent.status_code == 303
    assert response_of(session, link) is not None


# ---------------------------------------------------------------- changing the answer


def test_an_answer_is_changed_within_the_window_and_stays_one_answer(
    client: TestClient, session: Session
) -> None:
    link = invite(session, language="zh")
    client.post(link.path, data={"score": "3", "comment": COMPLAINT})

    form = client.get(f"{link.path}?lang=zh&edit=1")
    assert form.status_code == 200
    assert "修改您的回答" in form.text
    assert checked_score(form.text) == "3"
    assert COMPLAINT in form.text

    sent = client.post(
        link.path,
        data={"lang": "zh", "score": "8", "comment": "已经解决了"},
        follow_redirects=False,
    )

    assert sent.headers["location"] == f"/s/{link.token}?lang=zh&done=edited"
    thanks = client.get(sent.headers["location"])
    assert "您修改后的回答已保存。" in thanks.text
    assert "您的评分：8 / 10" in thanks.text
    assert count(session, SurveyResponse) == 1
    response = response_of(session, link)
    assert response is not None
    assert (response.score, response.band) == (8, "passive")


def test_after_the_window_the_answer_cannot_change(client: TestClient, session: Session) -> None:
    link = invite(session, language="zh", sent_at=utcnow() - timedelta(days=5))
    first_at = utcnow() - timedelta(hours=SETTINGS.survey_edit_hours + 1)
    responses.record(
        session,
        link.invitation,
        score=3,
        answers={},
        comment=COMPLAINT,
        now=first_at,
        settings=SETTINGS,
    )
    before = written(session)

    thanks = client.get(f"{link.path}?edit=1")
    assert "您的回答已无法再修改。" in thanks.text
    assert 'name="score"' not in thanks.text
    refused = client.post(link.path, data={"score": "10", "comment": "好"})

    assert refused.status_code == 409
    assert "您的回答已无法修改：可修改的时间已过。" in refused.text
    assert "您的评分：3 / 10" in refused.text
    assert written(session) == before
    response = response_of(session, link)
    assert response is not None
    assert (response.score, response.comment) == (3, COMPLAINT)


# ---------------------------------------------------------------- refusals


def test_an_expired_link_shows_it_has_closed_and_takes_no_answer(
    client: TestClient, session: Session
) -> None:
    sent = utcnow() - timedelta(days=40)
    link = invite(session, language="zh", sent_at=sent, expires_at=sent + timedelta(days=30))
    before = written(session)

    page = client.get(link.path)
    refused = client.post(link.path, data={"score": "9"})

    assert page.status_code == 410
    assert "本次调查已结束" in page.text
    assert 'name="score"' not in page.text
    assert refused.status_code == 410
    assert "本次调查已结束" in refused.text
    assert written(session) == before
    assert link.invitation.status == InvitationStatus.SENT


def test_a_missing_follow_up_names_the_question_and_keeps_what_was_typed(
    client: TestClient, session: Session
) -> None:
    link = invite(session, language="zh", questions=[REASON_QUESTION])
    before = written(session)

    refused = client.post(link.path, data={"lang": "zh", "score": "4", "comment": COMPLAINT})

    assert refused.status_code == 422
    assert "请回答这个问题：对您的评分影响最大的是？" in refused.text
    assert 'data-error-field="main_reason"' in refused.text
    assert 'data-field="main_reason" class="invalid" aria-invalid="true"' in refused.text
    assert checked_score(refused.text) == "4"
    assert COMPLAINT in refused.text
    assert written(session) == before
    assert link.invitation.status == InvitationStatus.SENT


def test_a_wrong_choice_and_a_missing_score_are_named(client: TestClient, session: Session) -> None:
    link = invite(session, language="en", questions=[REASON_QUESTION])
    before = written(session)

    wrong_choice = client.post(link.path, data={"score": "4", "answer_main_reason": "weather"})
    no_score = client.post(link.path, data={"answer_main_reason": "delivery"})
    odd_scores = [
        client.post(link.path, data={"score": odd, "answer_main_reason": "delivery"})
        for odd in ("²", "abc", "9" * 5000, "11", "4.5")
    ]
    too_long = client.post(
        link.path, data={"score": "4", "answer_main_reason": "delivery", "comment": "x" * 2001}
    )

    assert wrong_choice.status_code == 422
    assert (
        "Please choose one of the options: What mattered most for your score?" in wrong_choice.text
    )
    assert no_score.status_code == 422
    assert "Please choose a score from 0 to 10." in no_score.text
    assert 'data-error-field="score"' in no_score.text
    assert 'value="delivery" checked' in no_score.text
    for odd in odd_scores:
        assert odd.status_code == 422
        assert "Please choose a score from 0 to 10." in odd.text
    assert too_long.status_code == 422
    assert 'data-error-field="comment"' in too_long.text
    assert written(session) == before


def test_opting_out_stops_the_link_and_is_recorded(client: TestClient, session: Session) -> None:
    link = invite(session, language="zh")

    opted = client.post(f"{link.path}/opt-out", data={"lang": "zh"}, follow_redirects=False)

    assert opted.status_code == 303
    assert opted.headers["location"] == f"/s/{link.token}?lang=zh"
    assert count(session, SurveyOptOut) == 1
    assert (link.invitation.status, link.invitation.skip_reason) == (
        InvitationStatus.SKIPPED,
        SkipReason.OPTED_OUT,
    )
    page = client.get(opted.headers["location"])
    assert page.status_code == 200
    assert "您将不会再收到我们的调查" in page.text
    assert 'name="score"' not in page.text
    before = written(session)
    refused = client.post(link.path, data={"score": "9"})
    assert refused.status_code == 409
    assert "您将不会再收到我们的调查" in refused.text
    assert written(session) == before


# ---------------------------------------------------------------- bad links


def test_a_malformed_token_gets_a_neutral_404_without_database_work(
    client: TestClient, session: Session, engine: Engine
) -> None:
    link = invite(session, language="zh")
    unknown = tokens.token_for(tokens.new_nonce(), SETTINGS)

    with statements_run(engine) as seen:
        malformed = client.get("/s/not-a-token", headers={"Accept-Language": "zh-CN"})
        posted = client.post("/s/not-a-token", data={"score": "9"})
        opted = client.post("/s/" + "ä" * 43 + "/opt-out")
    unknown_page = client.get(f"/s/{unknown}", headers={"Accept-Language": "zh-CN"})

    assert seen == []
    for answer in (malformed, posted, opted, unknown_page):
        assert answer.status_code == 404
        assert_private(answer)
    assert "此链接无效" in malformed.text
    # The same page for a malformed and an unknown token: it tells a guesser nothing.
    assert unknown_page.text == malformed.text
    for private in (CUSTOMER_NAME, CONTACT_NAME, link.token, "not-a-token", "survey"):
        assert private not in malformed.text
    assert 'name="score"' not in malformed.text
    assert (count(session, SurveyResponse), count(session, SurveyOptOut)) == (0, 0)
