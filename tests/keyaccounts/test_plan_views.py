"""The plan pages, signed in through the form: the key-account list with health and filters,
creating a plan, adding and changing objectives, whitespace and risks, recording a review, bad
input shown on the form with nothing written, scope; the 360's key-account panel; in English
and Chinese."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.keyaccounts import plan_views, plans
from flywheel.models.enums import Role
from flywheel.models.keyaccounts import AccountPlan, PlanObjective
from flywheel.web.contract import today
from tests.factories import make_customer
from tests.keyaccounts.plan_support import PlanWorld, audit_total, build
from tests.web.pages import make_person, sign_in


@pytest.fixture
def world(session: Session) -> PlanWorld:
    return build(session, as_of=today(), rep=make_person(session, "ka.rep"))


def _plan(session: Session) -> AccountPlan:
    plan = session.scalar(select(AccountPlan))
    assert plan is not None
    return plan


def test_a_rep_creates_a_plan_and_fills_it_from_the_page(
    client: TestClient, session: Session, world: PlanWorld
) -> None:
    csrf = sign_in(client, "ka.rep")
    empty = client.get("/accounts/KA-001/plan")
    assert 'data-testid="no-plan"' in empty.text
    assert 'action="/accounts/KA-001/plan"' in empty.text

    made = client.post(
        "/accounts/KA-001/plan",
        data={
            "csrf_token": csrf,
            "year": "2026",
            "revenue_target": "1,000,000",
            "currency": "CNY",
            "estimated_wallet": "2000000",
            "review_every_days": "60",
            "owner": "ka.rep",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/accounts/KA-001/plan"
    for url, data in (
        (
            "/accounts/KA-001/plan/objectives",
            {"title": "华南工厂试点", "target_value": "3", "due_on": "2099-01-31"},
        ),
        ("/accounts/KA-001/plan/whitespace", {"item": "华南工厂", "potential": "500000"}),
        ("/accounts/KA-001/plan/risks", {"risk": "竞争对手降价", "likelihood": "4", "impact": "5"}),
        ("/accounts/KA-001/plan/reviewed", {}),
    ):
        answer = client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)
        assert answer.status_code == 303, (url, answer.text)

    page = client.get("/accounts/KA-001/plan")
    assert page.status_code == 200
    assert 'data-testid="plan-health"' in page.text
    assert "华南工厂试点" in page.text
    assert "竞争对手降价" in page.text
    assert 'data-action="account_plan.created"' in page.text
    assert 'data-part="executive_contact"' in page.text
    assert 'action="/accounts/KA-001/plan/objectives"' in page.text
    plan = _plan(session)
    assert plan.last_reviewed_on == today()
    assert plan.whitespace[0]["potential"] == "500000.00"

    objective = session.scalar(select(PlanObjective))
    assert objective is not None
    changed = client.post(
        f"/accounts/KA-001/plan/objectives/{objective.id}",
        data={"csrf_token": csrf, "title": "华南工厂试点", "status": "done", "current_value": "3"},
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    session.refresh(objective)
    assert (objective.status, objective.current_value) == ("done", 3.0)
    removed = client.post(
        "/accounts/KA-001/plan/risks/remove",
        data={"csrf_token": csrf, "index": "0"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    session.refresh(plan)
    assert plan.risks == []

    listed = client.get("/accounts?band=green")
    assert 'data-account="KA-001"' in listed.text
    assert 'href="/accounts" class="current"' in listed.text
    assert 'data-account="KA-002"' not in client.get("/accounts").text


def test_bad_input_shows_on_the_form_and_writes_nothing(
    client: TestClient, session: Session, world: PlanWorld
) -> None:
    csrf = sign_in(client, "ka.rep")
    before = audit_total(session)

    bad = client.post(
        "/accounts/KA-001/plan",
        data={"csrf_token": csrf, "revenue_target": "lots", "currency": "CNY"},
    )

    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    assert "revenue_target: not an amount" in bad.text
    assert session.scalar(select(AccountPlan)) is None
    assert audit_total(session) == before


def test_out_of_scope_is_not_found_and_a_viewer_sees_no_forms(
    client: TestClient, session: Session, world: PlanWorld
) -> None:
    plans.save_plan(session, actor=plans.SYSTEM, code="KA-001", values={}, as_of=today())
    csrf = sign_in(client, "ka.rep")
    assert client.get("/accounts/KA-002/plan").status_code == 404
    assert (
        client.post("/accounts/KA-002/plan", data={"csrf_token": csrf, "year": "2026"}).status_code
        == 404
    )
    client.post("/sign-out", data={"csrf_token": csrf})
    make_person(session, "viewer.one", role=Role.VIEWER)
    sign_in(client, "viewer.one")
    page = client.get("/accounts/KA-001/plan")
    assert page.status_code == 200
    assert 'action="/accounts/KA-001/plan/objectives"' not in page.text


def test_the_360_panel_shows_the_plan_and_the_other_parts(
    client: TestClient, session: Session, world: PlanWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans.save_plan(
        session,
        actor=plans.SYSTEM,
        code="KA-001",
        values={"revenue_target": "1000000"},
        as_of=today(),
    )
    monkeypatch.setattr(
        plan_views,
        "SECTIONS",
        (*plan_views.SECTIONS[:1], ("needs", "tests.keyaccounts.fake_needs", "Open needs")),
    )
    sign_in(client, "ka.rep")

    page = client.get(f"/customers/{world.account.code}")

    assert page.status_code == 200
    assert 'data-panel="keyaccounts.plan"' in page.text
    assert 'data-testid="key-account-health"' in page.text
    assert 'data-section="needs"' in page.text
    assert "缩短交期" in page.text
    assert "Most pressing" in page.text
    assert 'href="/accounts/KA-001/needs"' in page.text


def test_the_list_in_chinese(client: TestClient, session: Session, world: PlanWorld) -> None:
    make_person(session, "zh.rep", role=Role.MANAGER, language="zh")
    sign_in(client, "zh.rep")

    page = client.get("/accounts")

    assert page.status_code == 200
    assert "大客户" in page.text
    assert 'data-account="KA-002"' in page.text


def test_bad_objective_input_is_shown_and_an_account_without_plan_or_tier_has_no_panel(
    client: TestClient, session: Session, world: PlanWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans.save_plan(session, actor=plans.SYSTEM, code="KA-001", values={}, as_of=today())
    csrf = sign_in(client, "ka.rep")
    before = audit_total(session)

    bad = client.post(
        "/accounts/KA-001/plan/objectives",
        data={"csrf_token": csrf, "title": "", "due_on": "soon"},
    )

    assert bad.status_code == 422
    assert "title: required" in bad.text or "due_on: not a date" in bad.text
    assert session.scalar(select(PlanObjective)) is None
    assert audit_total(session) == before
    standard = make_customer(session, code="STD-1", owner=world.rep)
    monkeypatch.setattr(plan_views, "SECTIONS", ())
    assert plan_views._panel(session, plans.SYSTEM, standard, today()) is None
    assert plan_views._panel(session, plans.SYSTEM, world.other, today()) is not None


def test_the_360_panel_with_every_part_installed_renders_in_chinese(
    client: TestClient, session: Session, world: PlanWorld
) -> None:
    plans.save_plan(session, actor=plans.SYSTEM, code="KA-001", values={}, as_of=today())
    make_person(session, "zh.manager", role=Role.MANAGER, language="zh")
    sign_in(client, "zh.manager")

    page = client.get(f"/customers/{world.account.code}")

    assert page.status_code == 200
    assert 'data-testid="key-account-health"' in page.text
    assert "计划健康度" in page.text
