"""The account-plan service: creating and changing a plan (audited, refused input changes
nothing), objectives, the health indicator with its parts on worked examples, share of wallet
and target progress, the key-account list with its filters and scope, plan reviews due and the
360 summary."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Forbidden, NotFound, ValidationFailed
from flywheel.keyaccounts import plan_figures, plans
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import AccountPlan, PlanObjective, Stakeholder
from tests.factories import TESTER, make_customer, make_user
from tests.keyaccounts.plan_support import (
    AS_OF,
    PlanWorld,
    add_contact,
    audit_total,
    build,
    meet,
    world_plan,
)

ADMIN = Actor.system("tests")


@pytest.fixture
def world(session: Session) -> PlanWorld:
    return build(session)


def rep(world: PlanWorld) -> Actor:
    return Actor(name=world.rep.username, role=Role.SALES, user_id=world.rep.id)


def _plan(session: Session, world: PlanWorld, **values: object) -> AccountPlan:
    return plans.save_plan(
        session,
        actor=rep(world),
        code=world.account.code,
        values={
            "year": 2026,
            "revenue_target": "1000000",
            "estimated_wallet": "2000000",
            "review_every_days": 60,
            **values,
        },
        as_of=AS_OF,
    )


def test_a_plan_is_created_with_its_next_review_and_audited(
    session: Session, world: PlanWorld
) -> None:
    plan = _plan(
        session,
        world,
        whitespace=[{"item": "华南工厂", "potential": "500000"}],
        risks=[
            {"risk": "竞争对手降价", "likelihood": 4, "impact": 5, "mitigation": "锁定年度框架"}
        ],
    )

    assert (plan.year, plan.revenue_target, plan.currency) == (2026, Decimal("1000000.00"), "CNY")
    assert plan.owner_id == world.rep.id
    assert plan.next_review_on == AS_OF + timedelta(days=60)
    assert plan.whitespace == [{"item": "华南工厂", "note": None, "potential": "500000.00"}]
    assert plan.risks[0]["likelihood"] == 4
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "account_plan.created"))
    assert event is not None
    assert (event.subject_id, event.customer_id) == (plan.id, world.account.id)
    assert event.after is not None
    assert event.after["revenue_target"] == "1000000.00"


def test_a_change_records_before_and_after_and_a_review_moves_the_next_one(
    session: Session, world: PlanWorld
) -> None:
    plan = _plan(session, world)

    plans.save_plan(
        session, actor=rep(world), code="KA-001", values={"revenue_target": "1200000"}, as_of=AS_OF
    )
    plans.mark_reviewed(session, actor=rep(world), code="KA-001", on=AS_OF)

    events = list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "account_plan.updated")
            .order_by(AuditEvent.id)
        )
    )
    assert events[0].before == {"revenue_target": "1000000.00"}
    assert events[0].after == {"revenue_target": "1200000.00"}
    assert plan.last_reviewed_on == AS_OF
    assert plan.next_review_on == AS_OF + timedelta(days=60)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"revenue_target": "-5"}, "revenue_target"),
        ({"year": "twenty"}, "year"),
        ({"currency": "YUAN"}, "currency"),
        ({"review_every_days": 3}, "review_every_days"),
        ({"whitespace": [{"item": ""}]}, "whitespace[0].item"),
        ({"risks": [{"risk": "x", "impact": 9}]}, "risks[0].impact"),
        ({"owner": "nobody"}, "owner"),
        ({"last_reviewed_on": AS_OF + timedelta(days=1)}, "last_reviewed_on"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_plan_input_names_the_field_and_writes_nothing(
    session: Session, world: PlanWorld, values: dict[str, object], field: str
) -> None:
    before = audit_total(session)

    with pytest.raises(ValidationFailed) as caught:
        plans.save_plan(session, actor=rep(world), code="KA-001", values=values, as_of=AS_OF)

    assert caught.value.details["field"] == field
    assert plans.plan_of(session, world.account.id) is None
    assert audit_total(session) == before


def test_an_account_out_of_scope_is_not_found_and_a_viewer_is_refused(
    session: Session, world: PlanWorld
) -> None:
    viewer = make_user(session, username="just.looking", role=Role.VIEWER)
    before = audit_total(session)
    with pytest.raises(NotFound):
        plans.save_plan(session, actor=rep(world), code="KA-002", values={}, as_of=AS_OF)
    with pytest.raises(Forbidden):
        plans.save_plan(
            session,
            actor=Actor(name="just.looking", role=Role.VIEWER, user_id=viewer.id),
            code="KA-001",
            values={},
            as_of=AS_OF,
        )
    assert audit_total(session) == before
    assert session.scalar(select(AccountPlan)) is None


def test_objectives_are_added_changed_and_scoped(session: Session, world: PlanWorld) -> None:
    _plan(session, world)
    objective = plans.add_objective(
        session,
        actor=rep(world),
        code="KA-001",
        values={
            "title": "华南工厂试点",
            "measure": "试点订单数",
            "target_value": 3,
            "current_value": "1",
            "owner": "ka.rep",
            "due_on": "2026-09-30",
        },
    )
    assert (objective.status, objective.owner_id, objective.current_value) == (
        "on_track",
        world.rep.id,
        1.0,
    )

    plans.update_objective(
        session, actor=rep(world), objective_id=objective.id, changes={"status": "at_risk"}
    )

    assert objective.status == "at_risk"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "plan_objective.updated"))
    assert event is not None
    assert event.before == {"status": "on_track"}
    with pytest.raises(ValidationFailed):
        plans.update_objective(
            session, actor=rep(world), objective_id=objective.id, changes={"status": "late"}
        )
    other = Actor(name="x", role=Role.SALES, user_id=world.other_rep.id)
    with pytest.raises(NotFound):
        plans.update_objective(
            session, actor=other, objective_id=objective.id, changes={"status": "done"}
        )
    assert objective.status == "at_risk"


def test_an_objective_needs_a_plan(session: Session, world: PlanWorld) -> None:
    with pytest.raises(NotFound):
        plans.add_objective(session, actor=rep(world), code="KA-001", values={"title": "x"})
    assert session.scalar(select(PlanObjective)) is None


def test_health_worked_example_all_parts(session: Session, world: PlanWorld) -> None:
    # Four objectives: one on track, one done, one at risk, one on track but overdue, one
    # dropped (not counted): 2 of 4 good → 15 of 30 points. A decision maker known and met
    # 20 days ago: coverage 30 of 30, executive contact 25 of 25. Review in 60 days: 15.
    _plan(session, world)
    for title, status, due in (
        ("a", "on_track", date(2026, 12, 31)),
        ("b", "done", date(2026, 3, 31)),
        ("c", "at_risk", date(2026, 12, 31)),
        ("d", "on_track", date(2026, 6, 1)),
        ("e", "dropped", date(2026, 1, 1)),
    ):
        plans.add_objective(
            session,
            actor=rep(world),
            code="KA-001",
            values={"title": title, "status": status, "due_on": due},
        )

    row = plan_figures.account_row(session, rep(world), world.account, as_of=AS_OF)

    assert row.health is not None
    points = {p.name: p.points for p in row.health.parts}
    assert points == {
        "objectives": 15.0,
        "coverage": 30.0,
        "executive_contact": 25.0,
        "review": 15.0,
    }
    assert (row.health.score, row.health.band) == (85, "green")
    assert row.flags == []
    # Orders of the last 12 months (10 and 300 days ago) over the wallet, the year's orders
    # (10 days ago) over the target.
    assert row.revenue_12m == Decimal("400000.00")
    assert row.share_of_wallet == pytest.approx(0.2)
    assert row.revenue_year == Decimal("300000.00")
    assert row.target_progress == pytest.approx(0.3)


def test_health_fades_with_an_old_executive_contact_and_an_overdue_review(
    session: Session, world: PlanWorld
) -> None:
    # The decision maker last met 75 days ago, inside the 90 days: coverage stays full;
    # executive contact 1 - (75 - 30) / 90 = 0.5 → 12.5 points. The review was due yesterday:
    # 0. No objectives: 0.
    _plan(session, world, next_review_on=AS_OF + timedelta(days=54))
    as_of = AS_OF + timedelta(days=55)

    row = plan_figures.account_row(session, rep(world), world.account, as_of=as_of)

    assert row.health is not None
    points = {p.name: p.points for p in row.health.parts}
    assert points == {"objectives": 0.0, "coverage": 30.0, "executive_contact": 12.5, "review": 0.0}
    assert (row.health.score, row.health.band) == (42, "yellow")
    assert row.flags == ["review_overdue"]


def test_coverage_flags_without_a_decision_maker_and_with_an_opponent(session: Session) -> None:
    owner = make_user(session, username="cov.rep")
    account = make_customer(session, code="KA-COV", owner=owner)
    buyer = add_contact(session, account, "王采购", None)
    meet(session, buyer, AS_OF - timedelta(days=3))
    session.add(
        Stakeholder(customer_id=account.id, contact_id=buyer.id, influence=5, attitude="opponent")
    )
    plans.save_plan(session, actor=TESTER, code="KA-COV", values={}, as_of=AS_OF)

    row = plan_figures.account_row(session, TESTER, account, as_of=AS_OF)

    assert row.flags == ["no_decision_maker", "single_threaded", "high_influence_opponent"]
    assert row.health is not None
    assert [p.points for p in row.health.parts] == [0.0, 0.0, 0.0, 15.0]


def test_the_list_is_scoped_filtered_and_shows_accounts_without_a_plan(
    session: Session, world: PlanWorld
) -> None:
    _plan(session, world)
    standard_with_plan = make_customer(session, code="STD-9", owner=world.rep)
    plans.save_plan(session, actor=rep(world), code="STD-9", values={}, as_of=AS_OF)
    make_customer(session, code="STD-0", owner=world.rep)  # neither key nor planned

    mine, _ = plan_figures.key_account_rows(
        session, rep(world), plan_figures.AccountFilter(), as_of=AS_OF
    )
    everyone, _ = plan_figures.key_account_rows(
        session, ADMIN, plan_figures.AccountFilter(), as_of=AS_OF
    )
    no_plan, _ = plan_figures.key_account_rows(
        session, ADMIN, plan_figures.AccountFilter(band="none"), as_of=AS_OF
    )
    flagged, _ = plan_figures.key_account_rows(
        session, ADMIN, plan_figures.AccountFilter(flag="no_decision_maker"), as_of=AS_OF
    )

    assert [r.customer.code for r in mine] == ["KA-001", "STD-9"]
    assert [r.customer.code for r in everyone] == ["KA-001", "KA-002", "STD-9"]
    assert [r.customer.code for r in no_plan] == ["KA-002"]
    assert no_plan[0].flags == ["no_decision_maker", "single_threaded", "no_plan"]
    assert [r.customer.code for r in flagged] == ["KA-002", "STD-9"]
    assert standard_with_plan.tier == "standard"


def test_plan_reviews_due_most_overdue_first(session: Session, world: PlanWorld) -> None:
    _plan(session, world, next_review_on=AS_OF - timedelta(days=3))
    plans.save_plan(
        session, actor=ADMIN, code="KA-002", values={"next_review_on": AS_OF}, as_of=AS_OF
    )
    plans.save_plan(
        session,
        actor=ADMIN,
        code="KA-002",
        values={"review_every_days": 30},
        as_of=AS_OF,
    )  # a cadence change moves the next review on

    due = plans.plan_reviews_due(session, as_of=AS_OF)

    assert [(d.code, d.days_overdue, d.owner_id) for d in due] == [("KA-001", 3, world.rep.id)]


def test_summary_for_360(session: Session, world: PlanWorld) -> None:
    assert plans.summary_for_360(session, world.account.id, as_of=AS_OF) is None
    _plan(session, world)
    plans.add_objective(
        session,
        actor=rep(world),
        code="KA-001",
        values={"title": "x", "status": "at_risk"},
    )

    summary = plans.summary_for_360(session, world.account.id, as_of=AS_OF)

    assert summary is not None
    assert (summary["objectives_open"], summary["objectives_at_risk"]) == (1, 1)
    assert summary["health"].score == 70
    assert summary["share_of_wallet"] == pytest.approx(0.2)


def test_the_list_pages_in_sql_and_filters_on_health_across_pages(
    session: Session, world: PlanWorld
) -> None:
    for n in range(5):
        make_customer(session, code=f"KA-1{n}", tier=Tier.KEY)
    _plan(session, world)

    page, total = plan_figures.key_account_rows(
        session, ADMIN, plan_figures.AccountFilter(), as_of=AS_OF, limit=3, offset=3
    )
    unplanned, unplanned_total = plan_figures.key_account_rows(
        session, ADMIN, plan_figures.AccountFilter(band="none"), as_of=AS_OF, limit=2, offset=5
    )
    due, due_total = plan_figures.key_account_rows(
        session,
        ADMIN,
        plan_figures.AccountFilter(review_due=True),
        as_of=AS_OF + timedelta(days=60),
    )

    assert ([r.customer.code for r in page], total) == (["KA-11", "KA-12", "KA-13"], 7)
    assert ([r.customer.code for r in unplanned], unplanned_total) == (["KA-14"], 6)
    assert ([r.customer.code for r in due], due_total) == (["KA-001"], 1)


def test_the_shared_world_plan(session: Session, world: PlanWorld) -> None:
    objective_id = world_plan(session, world.account.code)

    objective = session.get(PlanObjective, objective_id)
    assert objective is not None
    assert objective.customer_id == world.account.id
