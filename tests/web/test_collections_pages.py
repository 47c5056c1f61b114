"""The collections pages: the worklist and its one-click outcomes, logging a call with a
promise, disputes, plans, strategies and the 360's collections panel; what a viewer may not do,
and bad input that is named and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.collections import cycle
from flywheel.config import get_settings
from flywheel.models.collections import (
    CollectionAction,
    CollectionStrategy,
    Dispute,
    PaymentArrangement,
    PromiseToPay,
)
from flywheel.models.customers import Customer
from flywheel.models.enums import ActionStatus, CollectionChannel, Role
from flywheel.models.receivables import Installment
from flywheel.web.contract import today
from tests.factories import make_contact, make_customer, make_invoice
from tests.web.pages import audit_count, make_person, sign_in

TODAY = today()


def overdue_world(session: Session) -> tuple[Customer, CollectionAction]:
    """A customer 10 days past due on 12,000.00 and the call task the cycle made for today."""
    customer = make_customer(session, code="COLL-1", name="Overdue Trading 逾期贸易")
    make_contact(session, customer=customer, name="王经理", email="wang@example.com")
    make_invoice(
        session,
        customer=customer,
        amount="12000.00",
        issued=TODAY - timedelta(days=40),
        due=TODAY - timedelta(days=10),
    )
    cycle.run(session, as_of=TODAY, settings=get_settings())
    session.flush()
    call = session.scalars(
        select(CollectionAction).where(
            CollectionAction.customer_id == customer.id,
            CollectionAction.channel == CollectionChannel.CALL.value,
        )
    ).one()
    return customer, call


def promises_of(session: Session, customer: Customer) -> list[PromiseToPay]:
    return list(
        session.scalars(select(PromiseToPay).where(PromiseToPay.customer_id == customer.id)).all()
    )


def worklist_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-source="(\w+)" data-id="(\d+)" data-customer="([^"]+)"', html)


def test_every_collections_page_renders_for_a_collector(
    client: TestClient, session: Session
) -> None:
    _customer, call = overdue_world(session)
    make_person(session, "col.pages", role=Role.COLLECTOR)
    sign_in(client, "col.pages")

    for path in (
        "/collections",
        "/collections?mine=all&channel=call&grade=C&q=COLL",
        "/collections/promises",
        "/collections/promises?status=all",
        "/collections/disputes",
        "/collections/disputes?status=all&reason=price",
        "/collections/plans",
        "/collections/strategies",
        "/collections/strategies/C",
        "/collections/strategies/A?tier=key",
        f"/collections/actions/{call.id}/call",
        "/customers/COLL-1/call",
        "/customers/COLL-1/promises/new",
        "/customers/COLL-1/disputes/new",
        "/customers/COLL-1/plans/new",
        "/customers/COLL-1",
    ):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])

    worklist = client.get("/collections").text
    assert ("action", str(call.id), "COLL-1") in worklist_rows(worklist)
    assert f'href="/collections/actions/{call.id}/call"' in worklist
    strategy = client.get("/collections/strategies").text
    assert 'data-strategy="E"' in strategy
    assert "Credit hold" in strategy


def test_the_inline_call_form_comes_as_a_row_for_htmx(client: TestClient, session: Session) -> None:
    _customer, call = overdue_world(session)
    make_person(session, "col.htmx", role=Role.COLLECTOR)
    sign_in(client, "col.htmx")

    answer = client.get(f"/collections/actions/{call.id}/call", headers={"HX-Request": "true"})

    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<tr class="call-row"')
    assert 'name="promise_amount"' in answer.text
    assert "<html" not in answer.text


def test_logging_a_call_with_a_promise_records_it_and_the_task_leaves_the_worklist(
    client: TestClient, session: Session
) -> None:
    customer, call = overdue_world(session)
    make_person(session, "col.call", role=Role.COLLECTOR)
    token = sign_in(client, "col.call")
    pays_by = TODAY + timedelta(days=5)

    answer = client.post(
        "/customers/COLL-1/call",
        data={
            "csrf_token": token,
            "action_id": str(call.id),
            "next": "/collections",
            "outcome": "promised",
            "promise_amount": "12,000.00",
            "promise_date": pays_by.isoformat(),
            "note": "will pay next week",
        },
        follow_redirects=False,
    )

    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/collections"
    [promise] = promises_of(session, customer)
    assert (promise.amount, promise.promised_on, promise.status) == (
        Decimal("12000.00"),
        pays_by,
        "pending",
    )
    assert promise.action_id == call.id
    session.refresh(call)
    assert (call.status, call.outcome) == (ActionStatus.DONE.value, "promised")
    page = client.get("/collections")
    assert "Call with COLL-1 logged: a promise to pay" in page.text
    assert all(row[2] != "COLL-1" for row in worklist_rows(page.text))
    panel = client.get("/customers/COLL-1").text
    assert re.search(rf'data-promise="{promise.id}" data-status="pending"', panel)


def test_a_bad_promise_is_named_at_its_field_and_nothing_is_written(
    client: TestClient, session: Session
) -> None:
    customer, call = overdue_world(session)
    make_person(session, "col.bad", role=Role.COLLECTOR)
    token = sign_in(client, "col.bad")
    before = audit_count(session)

    yesterday = client.post(
        "/customers/COLL-1/call",
        data={
            "csrf_token": token,
            "action_id": str(call.id),
            "outcome": "promised",
            "promise_amount": "500",
            "promise_date": (TODAY - timedelta(days=1)).isoformat(),
        },
    )
    too_much = client.post(
        "/customers/COLL-1/call",
        data={
            "csrf_token": token,
            "action_id": str(call.id),
            "outcome": "promised",
            "promise_amount": "99999",
            "promise_date": (TODAY + timedelta(days=1)).isoformat(),
        },
    )
    not_a_number = client.post(
        "/customers/COLL-1/call",
        data={"csrf_token": token, "outcome": "promised", "promise_amount": "lots"},
    )

    assert yesterday.status_code == 422
    assert re.search(
        r'id="promise_date-error" role="alert">promised_on: [\d-]+ is before today', yesterday.text
    )
    assert too_much.status_code == 422
    assert "more than COLL-1 owes" in too_much.text
    assert not_a_number.status_code == 422
    assert 'id="promise_amount-error"' in not_a_number.text
    assert 'id="promise_date-error" role="alert">Enter a date.' in not_a_number.text
    assert promises_of(session, customer) == []
    session.refresh(call)
    assert call.status == ActionStatus.OPEN.value
    assert audit_count(session) == before


def test_a_viewer_sees_the_pages_without_buttons_and_may_not_post(
    client: TestClient, session: Session
) -> None:
    customer, call = overdue_world(session)
    make_person(session, "viewer.coll", role=Role.VIEWER)
    token = sign_in(client, "viewer.coll")
    before = audit_count(session)

    page = client.get("/collections?mine=all")
    panel = client.get("/customers/COLL-1").text
    answers = [
        client.post(
            "/customers/COLL-1/call",
            data={
                "csrf_token": token,
                "action_id": str(call.id),
                "outcome": "promised",
                "promise_amount": "100",
                "promise_date": (TODAY + timedelta(days=3)).isoformat(),
            },
        ),
        client.post(f"/collections/actions/{call.id}/done", data={"csrf_token": token}),
        client.post(
            f"/collections/actions/{call.id}/skip", data={"csrf_token": token, "reason": "no"}
        ),
        client.post(
            "/collections/strategies/C",
            data={"csrf_token": token, "name": "x", "steps-0-day_offset": "1"},
        ),
    ]

    assert page.status_code == 200
    assert ("action", str(call.id), "COLL-1") in worklist_rows(page.text)
    assert "/call" not in page.text.split('id="worklist-rows"')[1]
    assert 'data-panel="collections.activity"' in panel
    assert "Record promise" not in panel
    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert promises_of(session, customer) == []
    session.refresh(call)
    assert call.status == ActionStatus.OPEN.value
    assert audit_count(session) == before


def test_one_click_outcomes_answer_the_row_for_htmx(client: TestClient, session: Session) -> None:
    _customer, call = overdue_world(session)
    make_person(session, "col.click", role=Role.COLLECTOR)
    token = sign_in(client, "col.click")
    htmx = {"HX-Request": "true"}

    no_reason = client.post(
        f"/collections/actions/{call.id}/skip", data={"csrf_token": token}, headers=htmx
    )
    skipped = client.post(
        f"/collections/actions/{call.id}/skip",
        data={"csrf_token": token, "reason": "customer paid at the counter"},
        headers=htmx,
    )
    again = client.post(
        f"/collections/actions/{call.id}/done", data={"csrf_token": token}, headers=htmx
    )

    assert no_reason.status_code == 422
    assert "reason: say why the action is not taken" in no_reason.text
    assert skipped.status_code == 200
    assert 'data-result="ok"' in skipped.text
    assert "skipped: customer paid at the counter" in skipped.text
    assert again.status_code == 422
    assert "already cancelled" in again.text
    session.refresh(call)
    assert call.status == ActionStatus.CANCELLED.value


def test_a_dispute_is_opened_from_the_360_and_resolved_on_its_page(
    client: TestClient, session: Session
) -> None:
    customer, _call = overdue_world(session)
    make_person(session, "col.dispute", role=Role.COLLECTOR)
    token = sign_in(client, "col.dispute")
    installment = session.scalars(
        select(Installment).where(Installment.customer_id == customer.id)
    ).one()

    too_much = client.post(
        "/customers/COLL-1/disputes",
        data={
            "csrf_token": token,
            "installment_id": str(installment.id),
            "reason": "quality",
            "amount": "20000",
        },
    )
    no_reason = client.post(
        "/customers/COLL-1/disputes",
        data={"csrf_token": token, "installment_id": str(installment.id)},
    )
    opened = client.post(
        "/customers/COLL-1/disputes",
        data={
            "csrf_token": token,
            "installment_id": str(installment.id),
            "reason": "quality",
            "amount": "2000.00",
            "description": "two crates damaged",
        },
        follow_redirects=False,
    )

    assert too_much.status_code == 422
    assert 'id="amount-error" role="alert">amount: 20000.00 must be more than 0' in too_much.text
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text
    assert opened.status_code == 303
    dispute = session.scalars(select(Dispute).where(Dispute.customer_id == customer.id)).one()
    assert (dispute.amount, dispute.reason) == (Decimal("2000.00"), "quality")
    assert opened.headers["location"] == f"/collections/disputes/{dispute.id}"
    assert "two crates damaged" in client.get(opened.headers["location"]).text
    assert f'data-dispute="{dispute.id}"' in client.get("/collections/disputes").text

    unexplained = client.post(
        f"/collections/disputes/{dispute.id}/resolve",
        data={"csrf_token": token, "resolution": "rejected"},
    )
    resolved = client.post(
        f"/collections/disputes/{dispute.id}/resolve",
        data={"csrf_token": token, "resolution": "credit_note", "note": "damaged goods"},
        follow_redirects=False,
    )

    assert unexplained.status_code == 422
    assert 'id="note-error" role="alert">note: say how the dispute was settled' in unexplained.text
    assert resolved.status_code == 303
    session.refresh(dispute)
    assert (dispute.status, dispute.resolution) == ("resolved", "credit_note")
    assert dispute.credit_note_id is not None


def test_a_plan_is_proposed_and_approved_within_the_role_limit(
    client: TestClient, session: Session
) -> None:
    customer, _call = overdue_world(session)
    make_person(session, "col.plan", role=Role.COLLECTOR)
    token = sign_in(client, "col.plan")
    installment = session.scalars(
        select(Installment).where(Installment.customer_id == customer.id)
    ).one()
    first = TODAY + timedelta(days=7)

    no_items = client.post(
        "/customers/COLL-1/plans/new",
        data={
            "csrf_token": token,
            "kind": "plan",
            "count": "3",
            "first_due_on": first.isoformat(),
            "frequency_days": "30",
            "reason": "cash flow",
        },
    )
    no_reason = client.post(
        "/customers/COLL-1/plans/new",
        data={
            "csrf_token": token,
            "kind": "plan",
            "count": "3",
            "first_due_on": first.isoformat(),
            "frequency_days": "30",
            "items": str(installment.id),
        },
    )
    proposed = client.post(
        "/customers/COLL-1/plans/new",
        data={
            "csrf_token": token,
            "kind": "plan",
            "count": "3",
            "first_due_on": first.isoformat(),
            "frequency_days": "30",
            "interest": "6",
            "reason": "cash flow after a slow season",
            "items": str(installment.id),
        },
        follow_redirects=False,
    )

    assert no_items.status_code == 422
    assert 'id="items-error"' in no_items.text
    assert no_reason.status_code == 422
    assert 'id="reason-error" role="alert">reason: say why the customer needs it' in no_reason.text
    assert proposed.status_code == 303
    plan = session.scalars(
        select(PaymentArrangement).where(PaymentArrangement.customer_id == customer.id)
    ).one()
    assert (plan.installments, plan.amount, plan.annual_interest_rate) == (
        3,
        Decimal("12000.00"),
        0.06,
    )
    listing = client.get("/collections/plans").text
    assert "You may approve arrangements up to" in listing
    assert f'action="/collections/plans/{plan.id}/approve"' in listing

    approved = client.post(
        f"/collections/plans/{plan.id}/approve", data={"csrf_token": token}, follow_redirects=False
    )

    assert approved.status_code == 303
    session.refresh(plan)
    assert plan.status == "approved"
    count = session.scalar(
        select(func.count()).select_from(Installment).where(Installment.customer_id == customer.id)
    )
    assert count == 6  # the three parts, and the three of the interest invoice


def test_an_extension_with_a_date_before_the_due_date_is_refused_at_its_field(
    client: TestClient, session: Session
) -> None:
    customer, _call = overdue_world(session)
    make_person(session, "col.ext", role=Role.COLLECTOR)
    token = sign_in(client, "col.ext")
    installment = session.scalars(
        select(Installment).where(Installment.customer_id == customer.id)
    ).one()

    answer = client.post(
        "/customers/COLL-1/plans/new",
        data={
            "csrf_token": token,
            "kind": "extension",
            "installment_id": str(installment.id),
            "new_due_on": (TODAY - timedelta(days=20)).isoformat(),
            "reason": "waiting for the bank",
        },
    )

    assert answer.status_code == 422
    assert 'id="ext_new_due_on-error" role="alert">new_due_on:' in answer.text
    assert session.scalar(select(func.count()).select_from(PaymentArrangement)) == 0


def test_a_strategy_is_edited_and_a_bad_step_is_refused_with_its_row(
    client: TestClient, session: Session
) -> None:
    make_person(session, "col.strategy", role=Role.COLLECTOR)
    token = sign_in(client, "col.strategy")
    client.get("/collections/strategies")  # writes the shipped defaults
    before = audit_count(session)

    bad = client.post(
        "/collections/strategies/B",
        data={
            "csrf_token": token,
            "name": "Grade B, firmer",
            "active": "1",
            "steps-0-day_offset": "-3",
            "steps-0-channel": "email",
            "steps-0-template": "friendly_reminder",
            "steps-0-automatic": "1",
            "steps-1-day_offset": "5",
            "steps-1-channel": "letter",
            "steps-1-template": "",
        },
    )
    doubled = client.post(
        "/collections/strategies/B",
        data={
            "csrf_token": token,
            "name": "Grade B, firmer",
            "steps-0-day_offset": "5",
            "steps-0-channel": "call",
            "steps-1-day_offset": "5",
            "steps-1-channel": "call",
        },
    )

    assert bad.status_code == 422
    assert "Step 2, template: a letter step needs a template" in bad.text
    assert re.search(r'<tr data-row="1" class="row-error">', bad.text)
    assert doubled.status_code == 422
    assert "step 2: a second call step on day 5" in doubled.text
    assert audit_count(session) == before

    saved = client.post(
        "/collections/strategies/B",
        data={
            "csrf_token": token,
            "name": "Grade B, firmer",
            "active": "1",
            "steps-0-day_offset": "-3",
            "steps-0-channel": "email",
            "steps-0-template": "friendly_reminder",
            "steps-0-automatic": "1",
            "steps-1-day_offset": "5",
            "steps-1-channel": "call",
            "steps-2-day_offset": "20",
            "steps-2-channel": "escalation",
            "steps-2-target": "manager",
            "steps-2-automatic": "1",
            "steps-3-day_offset": "30",
            "steps-3-channel": "email",
            "steps-3-remove": "1",
        },
        follow_redirects=False,
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == "/collections/strategies/B"
    strategy = session.scalars(
        select(CollectionStrategy).where(
            CollectionStrategy.grade == "B", CollectionStrategy.tier.is_(None)
        )
    ).one()
    session.refresh(strategy)
    assert strategy.name == "Grade B, firmer"
    assert [
        (s.day_offset, s.channel, s.template, s.automatic, s.target) for s in strategy.steps
    ] == [
        (-3, "email", "friendly_reminder", True, None),
        (5, "call", None, False, None),
        (20, "escalation", None, True, "manager"),
    ]


def test_a_sales_rep_may_not_edit_strategies_but_reads_them(
    client: TestClient, session: Session
) -> None:
    make_person(session, "rep.strategy", role=Role.SALES)
    token = sign_in(client, "rep.strategy")

    page = client.get("/collections/strategies/C")
    refused = client.post(
        "/collections/strategies/C",
        data={"csrf_token": token, "name": "mine", "steps-0-day_offset": "1"},
    )

    assert page.status_code == 200
    assert "Save strategy" not in page.text
    assert refused.status_code == 403


def test_a_quiet_account_has_no_collections_panel(client: TestClient, session: Session) -> None:
    make_person(session, "col.quiet", role=Role.COLLECTOR)
    quiet = make_customer(session, code="QUIET-1")
    session.flush()
    sign_in(client, "col.quiet")

    page = client.get(f"/customers/{quiet.code}")

    assert page.status_code == 200
    assert 'data-panel="collections.activity"' not in page.text


def test_the_panel_releases_a_credit_hold_for_a_collector(
    client: TestClient, session: Session
) -> None:
    from flywheel.collections import holds
    from tests.factories import TESTER

    customer, _call = overdue_world(session)
    holds.place(session, actor=TESTER, customer_id=customer.id, as_of=TODAY, reason="grade E")
    make_person(session, "col.hold", role=Role.COLLECTOR)
    token = sign_in(client, "col.hold")

    panel = client.get("/customers/COLL-1").text
    released = client.post(
        "/customers/COLL-1/hold/release",
        data={"csrf_token": token, "reason": "paid a deposit"},
        follow_redirects=False,
    )

    assert "On credit hold since" in panel
    assert "Release hold" in panel
    assert released.status_code == 303
    assert holds.hold_of(session, customer.id) is None


def test_the_panel_speaks_chinese(client: TestClient, session: Session) -> None:
    overdue_world(session)
    make_person(session, "col.zh", role=Role.COLLECTOR, language="zh")
    sign_in(client, "col.zh")

    page = client.get("/customers/COLL-1").text
    worklist = client.get("/collections").text

    assert "催收" in page
    assert "记录通话" in worklist


def test_the_panel_shows_the_accounts_promises_disputes_and_arrangements(
    client: TestClient, session: Session
) -> None:
    """The panel reads promises, disputes and arrangements only for an account that has one
    (one statement asks); an account with each shows each."""
    from flywheel.collections import arrangements, disputes, promises
    from tests.factories import TESTER

    customer, _call = overdue_world(session)
    later = make_invoice(
        session, customer=customer, amount="800.00", issued=TODAY, due=TODAY + timedelta(days=30)
    )
    make_person(session, "col.panel", role=Role.COLLECTOR)
    sign_in(client, "col.panel")
    before = client.get("/customers/COLL-1").text
    assert 'data-testid="panel-promises"' not in before
    assert 'data-testid="panel-disputes"' not in before
    assert 'data-testid="panel-plans"' not in before

    first = session.scalars(
        select(Installment).where(Installment.customer_id == customer.id).order_by(Installment.id)
    ).first()
    assert first is not None
    promises.record_promise(
        session,
        actor=TESTER,
        customer=customer,
        amount=Decimal("100.00"),
        promised_on=TODAY + timedelta(days=3),
        as_of=TODAY,
    )
    disputes.open_dispute(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=first.id,
        reason="price",
        as_of=TODAY,
        amount=Decimal("50.00"),
    )
    arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=later.installments[0].id,
        new_due_on=TODAY + timedelta(days=60),
        reason="等客户回款",
        as_of=TODAY,
    )
    session.flush()

    after = client.get("/customers/COLL-1").text
    assert 'data-testid="panel-promises"' in after
    assert 'data-testid="panel-disputes"' in after
    assert 'data-testid="panel-plans"' in after
