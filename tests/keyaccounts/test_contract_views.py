"""The contract pages, signed in through the form: the list with renewal dates and its filters,
the new-contract form (bad input shown on the form, nothing written), a contract with its
milestones (add one, mark one done and see its checkpoint), and my key-account tasks with
their done forms; a rival sees nothing and a viewer gets no forms; in English and Chinese."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.keyaccounts import contracts
from flywheel.models.keyaccounts import AccountTask, Contract, ContractMilestone
from flywheel.web.contract import today
from tests.keyaccounts.contract_support import ADMIN_ACTOR, build, counts
from tests.web.pages import sign_in


def test_the_list_shows_renewals_and_filters(client: TestClient, session: Session) -> None:
    world = build(session, passwords=True)
    contracts.edit_contract(
        session,
        actor=ADMIN_ACTOR,
        contract_id=world.contract.id,
        changes={
            "start_on": today() - timedelta(days=300),
            "end_on": today() + timedelta(days=45),
        },
    )
    sign_in(client, "ka.owner")

    listed = client.get("/contracts")
    soon = client.get("/contracts", params={"renewing": "60"})
    later = client.get("/contracts", params={"renewing": "30"})

    assert listed.status_code == 200
    assert world.contract.number in listed.text
    assert "in 45 days" in listed.text
    assert world.contract.number in soon.text
    assert world.contract.number not in later.text
    assert "No contracts match." in later.text


def test_a_new_contract_through_the_form(client: TestClient, session: Session) -> None:
    world = build(session, passwords=True)
    csrf = sign_in(client, "ka.owner")
    form = client.get(f"/contracts/new?customer={world.account.code}")
    before = counts(session)
    fields = {
        "csrf_token": csrf,
        "customer": world.account.code,
        "number": "HT-WEB-1",
        "title": "备件供应",
        "value": "abc",
        "start_on": "2026-01-01",
        "end_on": "2026-12-31",
        "payment_terms": "NET30",
        "status": "active",
    }

    refused = client.post("/contracts", data=fields)
    assert counts(session) == before
    made = client.post("/contracts", data={**fields, "value": "66000"}, follow_redirects=False)

    assert form.status_code == 200
    assert f'name="customer" value="{world.account.code}"' in form.text
    assert refused.status_code == 422
    assert "not an amount" in refused.text
    assert made.status_code == 303, made.text
    contract = session.scalar(select(Contract).where(Contract.number == "HT-WEB-1"))
    assert contract is not None
    assert made.headers["location"] == f"/contracts/{contract.id}"
    assert str(contract.value) == "66000.00"
    assert contract.renewal_on == contract.end_on


def test_milestones_are_added_and_done_from_the_contract_page(
    client: TestClient, session: Session
) -> None:
    world = build(session, passwords=True)
    csrf = sign_in(client, "ka.owner")

    page = client.get(f"/contracts/{world.contract.id}")
    added = client.post(
        f"/contracts/{world.contract.id}/milestones",
        data={
            "csrf_token": csrf,
            "title": "上线验收",
            "kind": "acceptance",
            "due_on": today().isoformat(),
            "checkpoint": "task",
        },
        follow_redirects=False,
    )
    milestone = session.scalar(
        select(ContractMilestone).where(ContractMilestone.title == "上线验收")
    )
    assert milestone is not None
    done = client.post(
        f"/milestones/{milestone.id}/done",
        data={"csrf_token": csrf, "done_on": today().isoformat()},
        follow_redirects=False,
    )
    after = client.get(f"/contracts/{world.contract.id}")
    tasks_page = client.get("/accounts/tasks")

    assert page.status_code == 200
    assert "首批交付验收" in page.text
    assert f'action="/milestones/{world.survey_milestone.id}/done"' in page.text
    assert added.status_code == 303, added.text
    assert done.status_code == 303, done.text
    assert milestone.done_on == today()
    assert "a follow-up task was opened" in after.text
    assert "Milestone done" in after.text
    task = session.scalar(select(AccountTask))
    assert task is not None
    assert f'action="/accounts/tasks/{task.id}/done"' in tasks_page.text

    closed = client.post(
        f"/accounts/tasks/{task.id}/done",
        data={"csrf_token": csrf, "status": "done", "note": "ok"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    assert task.status == "done"


def test_a_rival_sees_nothing_and_a_viewer_gets_no_forms(
    client: TestClient, session: Session
) -> None:
    world = build(session, passwords=True)
    csrf = sign_in(client, "ka.rival")
    before = counts(session)

    hidden = client.get(f"/contracts/{world.contract.id}")
    posted = client.post(
        f"/contracts/{world.contract.id}",
        data={
            "csrf_token": csrf,
            "title": "x",
            "value": "1",
            "start_on": "2026-01-01",
            "end_on": "2026-02-01",
        },
    )
    done = client.post(f"/milestones/{world.survey_milestone.id}/done", data={"csrf_token": csrf})
    listed = client.get("/contracts")

    assert (hidden.status_code, posted.status_code, done.status_code) == (404, 404, 404)
    assert world.contract.number not in listed.text
    assert counts(session) == before

    client.post("/sign-out", data={"csrf_token": csrf})
    viewer_csrf = sign_in(client, "ka.viewer")
    seen = client.get(f"/contracts/{world.contract.id}")
    refused = client.post(
        f"/milestones/{world.survey_milestone.id}/done", data={"csrf_token": viewer_csrf}
    )

    assert seen.status_code == 200
    assert "/done" not in seen.text
    assert 'data-testid="milestone-form"' not in seen.text
    assert refused.status_code == 403
    assert counts(session) == before


def test_the_pages_speak_chinese(client: TestClient, session: Session) -> None:
    world = build(session, passwords=True, language="zh")
    sign_in(client, "ka.owner")

    listed = client.get("/contracts")
    detail = client.get(f"/contracts/{world.contract.id}")
    tasks_page = client.get("/accounts/tasks")

    assert "合同" in listed.text
    assert "续约" in listed.text
    assert "里程碑" in detail.text
    assert "验收" in detail.text
    assert "大客户任务" in tasks_page.text
