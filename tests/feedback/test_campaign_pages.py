"""The survey and campaign pages and their API: the lists, the editors with the live preview,
refusals that name the field and change nothing, who may change what, and a sales rep seeing
only his accounts' invitations."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.feedback import cycle
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role
from flywheel.models.feedback import Survey, SurveyCampaign
from tests.feedback.campaign_support import (
    account,
    default_campaign,
    delivered,
    only_campaigns,
    person,
    settings_of,
    survey_id,
)
from tests.web.api_support import bearer
from tests.web.conftest import app, client
from tests.web.pages import make_person, sign_in

__all__ = ["app", "client"]  # fixtures used by name

DAY = date(2026, 3, 2)


def state(session: Session) -> tuple[int, int, int]:
    """Surveys, campaigns and audit events: what a refused change must leave alone."""
    return (
        session.scalar(select(func.count()).select_from(Survey)) or 0,
        session.scalar(select(func.count()).select_from(SurveyCampaign)) or 0,
        session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


def two_books(session: Session) -> dict[str, Any]:
    """Two reps, each owning an account whose contact was sent the delivery survey."""
    only_campaigns(session, "CSAT after delivery")
    rep = make_person(session, "rep.fb", role=Role.SALES)
    rival = make_person(session, "rival.fb", role=Role.SALES)
    own = account(session, owner=rep, name="自己的客户 Own Co")
    other = account(session, owner=rival, name="别人的客户 Other Co")
    person(session, own, name="王建国")
    person(session, other, name="赵六")
    delivered(session, own, DAY)
    delivered(session, other, DAY)
    cycle.run(session, DAY + timedelta(days=2), settings_of())
    return {"rep": rep, "rival": rival, "own": own, "other": other}


SURVEY_FORM = {
    "code": "csat-install",
    "kind": "csat",
    "name_zh": "安装满意度",
    "name_en": "Installation satisfaction",
    "question_zh": "您对本次安装满意吗？",
    "question_en": "How satisfied are you with the installation?",
    "comment_zh": "有什么建议？",
    "comment_en": "Anything we could improve?",
    "active": "1",
    "q-0-key": "main_reason",
    "q-0-kind": "choice",
    "q-0-text_zh": "最重要的是？",
    "q-0-text_en": "What mattered most?",
    "q-0-required": "1",
    "q-0-choices": "speed | 速度 | Speed\nquality | 质量 | Quality",
    "q-1-key": "",
    "q-1-kind": "text",
    "q-1-text_zh": "",
    "q-1-text_en": "",
}


# ---------------------------------------------------------------- pages


def test_every_survey_and_campaign_page_renders_for_a_manager(
    client: TestClient, session: Session
) -> None:
    two_books(session)
    make_person(session, "mgr.pages", role=Role.MANAGER, language="zh")
    sign_in(client, "mgr.pages")
    csat = default_campaign(session, "CSAT after delivery")

    for path in (
        "/feedback/surveys",
        "/feedback/surveys/new",
        f"/feedback/surveys/{survey_id(session)}",
        "/feedback/campaigns",
        "/feedback/campaigns/new",
        f"/feedback/campaigns/{csat.id}",
    ):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert 'class="fb-nav"' in page.text

    listing = client.get("/feedback/campaigns").text
    assert f'data-campaign="{csat.id}"' in listing
    assert "订单已交付" in listing
    detail = client.get(f"/feedback/campaigns/{csat.id}").text
    assert detail.count('data-status="sent"') == 2
    assert '<strong data-kpi="sent">2</strong>' in detail


def test_a_survey_is_created_with_a_choice_question_and_previewed_in_both_languages(
    client: TestClient, session: Session
) -> None:
    make_person(session, "mgr.survey", role=Role.MANAGER)
    token = sign_in(client, "mgr.survey")

    preview = client.post("/feedback/surveys/preview", data={**SURVEY_FORM, "csrf_token": token})
    saved = client.post(
        "/feedback/surveys", data={**SURVEY_FORM, "csrf_token": token}, follow_redirects=False
    )

    assert preview.status_code == 200
    assert "<html" not in preview.text
    assert 'data-testid="preview-zh"' in preview.text
    assert 'data-testid="preview-en"' in preview.text
    assert "您对本次安装满意吗？" in preview.text
    assert "How satisfied are you with the installation?" in preview.text
    assert preview.text.count('<span class="score">5</span>') == 2
    assert '<span class="score">6</span>' not in preview.text  # CSAT is 1–5
    assert "速度" in preview.text
    assert "Quality" in preview.text
    assert saved.status_code == 303
    survey = session.scalar(select(Survey).where(Survey.code == "csat-install"))
    assert survey is not None
    assert saved.headers["location"] == f"/feedback/surveys/{survey.id}"
    assert survey.questions == [
        {
            "key": "main_reason",
            "kind": "choice",
            "text_zh": "最重要的是？",
            "text_en": "What mattered most?",
            "required": True,
            "choices": [
                {"value": "speed", "zh": "速度", "en": "Speed"},
                {"value": "quality", "zh": "质量", "en": "Quality"},
            ],
        }
    ]
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "feedback.survey_created")
    ).one()
    assert audit.subject_id == survey.id
    editor = client.get(f"/feedback/surveys/{survey.id}").text
    assert "speed | 速度 | Speed" in editor


def test_a_bad_survey_is_refused_with_its_question_named_and_nothing_saved(
    client: TestClient, session: Session
) -> None:
    make_person(session, "mgr.bad", role=Role.MANAGER)
    token = sign_in(client, "mgr.bad")
    before = state(session)

    one_choice = client.post(
        "/feedback/surveys",
        data={**SURVEY_FORM, "q-0-choices": "speed | 速度 | Speed", "csrf_token": token},
    )
    badly_written = client.post(
        "/feedback/surveys",
        data={**SURVEY_FORM, "q-0-choices": "speed, 速度", "csrf_token": token},
    )
    no_name = client.post(
        "/feedback/surveys", data={**SURVEY_FORM, "name_en": "", "csrf_token": token}
    )

    assert one_choice.status_code == 422
    assert "question 1: a choice question needs at least two choices" in one_choice.text
    assert badly_written.status_code == 422
    assert "value | 中文 | English" in badly_written.text
    assert no_name.status_code == 422
    assert 'aria-describedby="name_en-error"' in no_name.text
    assert "您对本次安装满意吗？" in no_name.text  # the form as typed
    assert state(session) == before


def test_a_campaign_is_created_and_changed_through_the_form(
    client: TestClient, session: Session
) -> None:
    only_campaigns(session)
    make_person(session, "mgr.campaign", role=Role.MANAGER)
    token = sign_in(client, "mgr.campaign")
    form = {
        "name": "NPS after visits",
        "survey_id": str(survey_id(session)),
        "trigger": "touchpoint",
        "touchpoint_kind": "visit",
        "delay_days": "3",
        "tiers": ["key", "growth"],
        "buying_roles": ["decision_maker"],
        "sample_percent": "50",
        "reminder_after_days": "",
        "expires_after_days": "20",
        "active": "1",
        "csrf_token": token,
    }

    created = client.post("/feedback/campaigns", data=form, follow_redirects=False)

    assert created.status_code == 303, created.text[:2000]
    campaign = session.scalar(
        select(SurveyCampaign).where(SurveyCampaign.name == "NPS after visits")
    )
    assert campaign is not None
    assert (campaign.trigger, campaign.touchpoint_kind, campaign.delay_days) == (
        "touchpoint",
        "visit",
        3,
    )
    assert (campaign.tiers, campaign.buying_roles) == (["key", "growth"], ["decision_maker"])
    assert (campaign.sample_rate, campaign.reminder_after_days, campaign.expires_after_days) == (
        0.5,
        None,
        20,
    )
    changed = client.post(
        f"/feedback/campaigns/{campaign.id}",
        data={**form, "active": "", "sample_percent": "100"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    session.refresh(campaign)
    assert (campaign.active, campaign.sample_rate) == (False, 1.0)
    audit = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "feedback.campaign_changed", AuditEvent.subject_id == campaign.id
        )
    ).one()
    assert audit.after == {"active": False, "sample_rate": 1.0}


def test_a_bad_campaign_is_refused_at_its_field_and_nothing_changes(
    client: TestClient, session: Session
) -> None:
    only_campaigns(session)
    make_person(session, "mgr.refused", role=Role.MANAGER)
    token = sign_in(client, "mgr.refused")
    csat = default_campaign(session, "CSAT after delivery")
    before = state(session)
    base = {
        "name": "Visits",
        "survey_id": str(survey_id(session)),
        "trigger": "touchpoint",
        "touchpoint_kind": "",
        "delay_days": "1",
        "expires_after_days": "30",
        "csrf_token": token,
    }

    no_kind = client.post("/feedback/campaigns", data=base)
    late_reminder = client.post(
        "/feedback/campaigns",
        data={**base, "touchpoint_kind": "visit", "reminder_after_days": "40"},
    )
    taken_name = client.post(
        f"/feedback/campaigns/{csat.id}",
        data={**base, "touchpoint_kind": "visit", "name": "NPS after support touchpoints"},
    )
    no_schedule = client.post(
        "/feedback/campaigns", data={**base, "trigger": "schedule", "every_months": "3"}
    )

    assert no_kind.status_code == 422
    assert 'aria-describedby="touchpoint_kind-error"' in no_kind.text
    assert late_reminder.status_code == 422
    assert "reminder_after_days (40) must come before the link expires" in late_reminder.text
    assert taken_name.status_code == 422
    assert "a campaign named &#39;NPS after support touchpoints&#39; exists" in taken_name.text
    assert no_schedule.status_code == 422
    assert 'aria-describedby="next_run_on-error"' in no_schedule.text
    assert state(session) == before
    session.refresh(csat)
    assert (csat.name, csat.trigger) == ("CSAT after delivery", "order_delivered")


def test_a_sales_rep_reads_but_may_not_change_and_sees_only_his_accounts(
    client: TestClient, session: Session
) -> None:
    world = two_books(session)
    token = sign_in(client, "rep.fb")
    csat = default_campaign(session, "CSAT after delivery")
    before = state(session)

    detail = client.get(f"/feedback/campaigns/{csat.id}")
    listing = client.get("/feedback/campaigns")
    refused = client.post(
        f"/feedback/campaigns/{csat.id}",
        data={
            "name": "Mine now",
            "survey_id": "1",
            "trigger": "order_delivered",
            "csrf_token": token,
        },
    )
    new_page = client.get("/feedback/surveys/new")

    assert detail.status_code == 200
    assert "自己的客户 Own Co" in detail.text
    assert "别人的客户 Other Co" not in detail.text
    assert '<strong data-kpi="sent">1</strong>' in detail.text
    assert "Save campaign" not in detail.text
    assert listing.status_code == 200
    assert refused.status_code == 403
    assert new_page.status_code == 403
    assert state(session) == before
    assert world["own"].id != world["other"].id


# ---------------------------------------------------------------- API


def test_the_api_creates_reads_and_changes_surveys_and_campaigns(
    client: TestClient, session: Session
) -> None:
    only_campaigns(session)
    manager = make_person(session, "mgr.api", role=Role.MANAGER)
    headers = bearer(session, manager)
    survey_body = {
        "code": "ces-billing",
        "kind": "ces",
        "name_zh": "开票便捷度",
        "name_en": "Ease of billing",
        "question_zh": "我们的开票流程很方便。",
        "question_en": "Our billing was easy to deal with.",
        "questions": [{"key": "idea", "kind": "text", "text_zh": "建议？", "text_en": "Ideas?"}],
    }

    made = client.post("/api/v1/feedback/surveys", json=survey_body, headers=headers)
    assert made.status_code == 201, made.text
    survey = made.json()
    renamed = client.patch(
        f"/api/v1/feedback/surveys/{survey['id']}",
        json={"name_en": "Billing ease"},
        headers=headers,
    )
    campaign = client.post(
        "/api/v1/feedback/campaigns",
        json={
            "name": "CES after an invoice is paid",
            "survey_id": survey["id"],
            "trigger": "invoice_paid",
            "delay_days": 1,
            "buying_roles": ["finance"],
        },
        headers=headers,
    )
    assert campaign.status_code == 201, campaign.text
    switched = client.patch(
        f"/api/v1/feedback/campaigns/{campaign.json()['id']}",
        json={"active": False, "reminder_after_days": None},
        headers=headers,
    )
    listed = client.get("/api/v1/feedback/campaigns", headers=headers)
    surveys_listed = client.get("/api/v1/feedback/surveys", headers=headers)

    assert renamed.status_code == 200
    assert renamed.json()["name_en"] == "Billing ease"
    assert renamed.json()["name_zh"] == "开票便捷度"
    assert campaign.json()["survey_code"] == "ces-billing"
    assert campaign.json()["counts"] == {
        "scheduled": 0,
        "sent": 0,
        "answered": 0,
        "expired": 0,
        "skipped": 0,
        "response_rate": None,
    }
    assert switched.status_code == 200
    assert (switched.json()["active"], switched.json()["reminder_after_days"]) == (False, None)
    assert switched.json()["buying_roles"] == ["finance"]
    assert "CES after an invoice is paid" in {c["name"] for c in listed.json()}
    assert "ces-billing" in {s["code"] for s in surveys_listed.json()}
    one = client.get(f"/api/v1/feedback/campaigns/{campaign.json()['id']}", headers=headers)
    assert one.json()["trigger"] == "invoice_paid"


def test_api_refusals_name_the_field_and_change_nothing(
    client: TestClient, session: Session
) -> None:
    only_campaigns(session, "CSAT after delivery")
    manager = make_person(session, "mgr.api.bad", role=Role.MANAGER)
    viewer = make_person(session, "viewer.api", role=Role.VIEWER)
    headers = bearer(session, manager)
    csat = default_campaign(session, "CSAT after delivery")
    before = state(session)

    no_kind = client.post(
        "/api/v1/feedback/campaigns",
        json={"name": "T", "survey_id": survey_id(session), "trigger": "touchpoint"},
        headers=headers,
    )
    bad_rate = client.patch(
        f"/api/v1/feedback/campaigns/{csat.id}", json={"sample_rate": 1.5}, headers=headers
    )
    no_survey = client.patch(
        f"/api/v1/feedback/campaigns/{csat.id}", json={"survey_id": 999999}, headers=headers
    )
    bad_question = client.patch(
        f"/api/v1/feedback/surveys/{survey_id(session)}",
        json={
            "questions": [
                {"key": "x", "kind": "choice", "text_zh": "选", "text_en": "Pick", "choices": []}
            ]
        },
        headers=headers,
    )
    forbidden = client.patch(
        f"/api/v1/feedback/campaigns/{csat.id}",
        json={"active": False},
        headers=bearer(session, viewer),
    )
    missing = client.get("/api/v1/feedback/campaigns/999999", headers=headers)
    after = state(session)

    assert no_kind.status_code == 422
    assert no_kind.json()["error"]["details"]["field"] == "touchpoint_kind"
    assert bad_rate.status_code == 422
    assert no_survey.status_code == 422
    assert no_survey.json()["error"]["details"]["field"] == "survey_id"
    assert bad_question.status_code == 422
    assert "question 1" in bad_question.json()["error"]["message"]
    assert forbidden.status_code == 403
    assert missing.status_code == 404
    # API tokens record their last use; nothing else was written.
    assert after[:2] == before[:2]
    assert after[2] == before[2] + 1  # the viewer's token, created above
    session.refresh(csat)
    assert (csat.active, csat.sample_rate) == (True, 1.0)


def test_invitations_are_listed_in_the_callers_scope_with_filters(
    client: TestClient, session: Session
) -> None:
    world = two_books(session)
    manager = make_person(session, "mgr.inv", role=Role.MANAGER)
    csat = default_campaign(session, "CSAT after delivery")

    everyone = client.get("/api/v1/feedback/invitations", headers=bearer(session, manager)).json()
    rep_headers = bearer(session, world["rep"])
    mine = client.get("/api/v1/feedback/invitations", headers=rep_headers).json()
    theirs = client.get(
        f"/api/v1/feedback/invitations?customer={world['other'].code}", headers=rep_headers
    ).json()
    sent = client.get(
        f"/api/v1/feedback/invitations?status=sent&campaign={csat.id}",
        headers=bearer(session, manager),
    ).json()
    skipped = client.get(
        "/api/v1/feedback/invitations?status=skipped", headers=bearer(session, manager)
    ).json()

    assert everyone["total"] == 2
    assert mine["total"] == 1
    [item] = mine["items"]
    assert item["customer"] == world["own"].code
    assert (item["status"], item["campaign"], item["contact"]) == (
        "sent",
        "CSAT after delivery",
        "王建国",
    )
    assert item["send_on"] == (DAY + timedelta(days=2)).isoformat()
    assert theirs == {"items": [], "total": 0, "page": 1, "page_size": 50}
    assert sent["total"] == 2
    assert skipped["total"] == 0


# ---------------------------------------------------------------- who may do what

SURVEY_PAGE_FORM = {
    "code": "matrix-csat",
    "kind": "csat",
    "name_zh": "矩阵",
    "name_en": "Matrix",
    "question_zh": "满意吗？",
    "question_en": "Satisfied?",
    "active": "1",
}


def routes(session: Session) -> list[tuple[str, str, dict[str, Any] | None, str, int, bool]]:
    """(method, url, body, kind of body, success status, needs MANAGE_SURVEYS): the rows the
    permission matrix gets."""
    survey = survey_id(session)
    campaign = default_campaign(session, "CSAT after delivery").id
    campaign_form = {
        "name": "Matrix campaign",
        "survey_id": str(survey),
        "trigger": "order_delivered",
        "delay_days": "1",
        "expires_after_days": "30",
        "active": "1",
    }
    return [
        ("GET", "/api/v1/feedback/surveys", None, "json", 200, False),
        (
            "POST",
            "/api/v1/feedback/surveys",
            {
                "code": "matrix-nps",
                "kind": "nps",
                "name_zh": "矩阵",
                "name_en": "Matrix",
                "question_zh": "推荐吗？",
                "question_en": "Recommend?",
            },
            "json",
            201,
            True,
        ),
        ("GET", f"/api/v1/feedback/surveys/{survey}", None, "json", 200, False),
        ("PATCH", f"/api/v1/feedback/surveys/{survey}", {"name_en": "Matrix"}, "json", 200, True),
        ("GET", "/api/v1/feedback/campaigns", None, "json", 200, False),
        (
            "POST",
            "/api/v1/feedback/campaigns",
            {"name": "Matrix", "survey_id": survey, "trigger": "order_delivered", "delay_days": 1},
            "json",
            201,
            True,
        ),
        ("GET", f"/api/v1/feedback/campaigns/{campaign}", None, "json", 200, False),
        (
            "PATCH",
            f"/api/v1/feedback/campaigns/{campaign}",
            {"sample_rate": 0.5},
            "json",
            200,
            True,
        ),
        ("GET", "/api/v1/feedback/invitations?status=sent", None, "json", 200, False),
        ("GET", "/feedback/surveys", None, "form", 200, False),
        ("GET", "/feedback/surveys/new", None, "form", 200, True),
        ("POST", "/feedback/surveys", SURVEY_PAGE_FORM, "form", 303, True),
        (
            "POST",
            "/feedback/surveys/preview",
            {"kind": "nps", "name_zh": "矩阵"},
            "form",
            200,
            False,
        ),
        ("GET", f"/feedback/surveys/{survey}", None, "form", 200, False),
        (
            "POST",
            f"/feedback/surveys/{survey}",
            {**SURVEY_PAGE_FORM, "code": "nps-relationship", "kind": "nps"},
            "form",
            303,
            True,
        ),
        ("GET", "/feedback/campaigns", None, "form", 200, False),
        ("GET", "/feedback/campaigns/new", None, "form", 200, True),
        ("POST", "/feedback/campaigns", campaign_form, "form", 303, True),
        ("GET", f"/feedback/campaigns/{campaign}", None, "form", 200, False),
        (
            "POST",
            f"/feedback/campaigns/{campaign}",
            {**campaign_form, "name": "CSAT after delivery"},
            "form",
            303,
            True,
        ),
    ]


def test_reading_is_for_every_role_and_changing_for_managers_and_admins(
    client: TestClient, session: Session
) -> None:
    only_campaigns(session, "CSAT after delivery")
    for role in (Role.ADMIN, Role.MANAGER, Role.SALES, Role.COLLECTOR, Role.FINANCE, Role.VIEWER):
        user = make_person(session, f"matrix.{role.value}", role=role)
        headers = bearer(session, user)
        client.cookies.clear()
        token = sign_in(client, user.username)
        allowed = role in (Role.ADMIN, Role.MANAGER)
        for method, url, body, _kind, ok, needs in routes(session):
            savepoint = session.begin_nested()
            if url.startswith("/api/"):
                answer = client.request(method, url, json=body, headers=headers)
            else:
                data = {**body, "csrf_token": token} if body is not None else None
                answer = client.request(method, url, data=data, follow_redirects=False)
            expected = ok if allowed or not needs else 403
            assert answer.status_code == expected, (role, method, url, answer.text[:300])
            savepoint.rollback()
