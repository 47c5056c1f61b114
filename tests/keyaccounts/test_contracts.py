"""Contracts and their follow-up, through the service and the daily run: recording and
changing a contract (checked, audited, scoped), milestones and their feedback checkpoints
(survey invitations to the decision makers through the feedback hook, or a task), renewal
reminders exactly once per offset, overdue milestones flagged once, contracts expired; every
refused action changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flywheel.keyaccounts import contracts, daily, tasks
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import AccountTaskStatus
from flywheel.models.feedback import SurveyInvitation
from flywheel.models.keyaccounts import AccountTask, Contract
from tests.keyaccounts.contract_support import (
    AS_OF,
    END,
    SETTINGS,
    ContractWorld,
    build,
    counts,
    milestone_campaign,
)


@pytest.fixture
def world(session: Session) -> ContractWorld:
    return build(session)


def _tasks(session: Session, kind: str | None = None) -> list[AccountTask]:
    stmt = select(AccountTask).order_by(AccountTask.id)
    if kind:
        stmt = stmt.where(AccountTask.kind == kind)
    return list(session.scalars(stmt))


# ----------------------------------------------------------------------------- contracts


def test_a_new_contract_takes_the_accounts_defaults_and_is_audited(
    session: Session, world: ContractWorld
) -> None:
    contract = world.contract

    assert contract.value == Decimal("1200000.00")
    assert contract.currency == "CNY"
    assert contract.payment_terms == "NET30"
    assert contract.renewal_on == END
    assert contract.status == "active"
    assert contract.owner_id == world.owner.id
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "contract.created", AuditEvent.subject_id == contract.id
        )
    )
    assert event is not None
    assert event.customer_id == world.account.id
    assert event.after is not None
    assert event.after["value"] == "1200000.00"


def test_the_owner_changes_his_contract_and_the_change_is_audited(
    session: Session, world: ContractWorld
) -> None:
    contracts.edit_contract(
        session,
        actor=world.actor(world.owner),
        contract_id=world.contract.id,
        changes={
            "value": "1350000.50",
            "renewal_on": date(2026, 5, 31),
            "payment_terms": "月结60天",
        },
    )

    assert world.contract.value == Decimal("1350000.50")
    assert world.contract.renewal_on == date(2026, 5, 31)
    assert world.contract.payment_terms == "EOM60"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.updated"))
    assert event is not None
    assert event.before == {
        "value": "1200000.00",
        "renewal_on": "2026-06-30",
        "payment_terms": "NET30",
    }
    assert event.after == {
        "value": "1350000.50",
        "renewal_on": "2026-05-31",
        "payment_terms": "EOM60",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_on": date(2025, 6, 1)}, "end_on"),
        ({"value": "-1"}, "value"),
        ({"value": "abc"}, "value"),
        ({"payment_terms": "whenever"}, "payment_terms"),
        ({"status": "paused"}, "status"),
        ({"currency": "RMB1"}, "currency"),
        ({"number": "X"}, "number"),
        ({"owner_id": 999999}, "owner_id"),
        ({"renewal_on": date(2025, 1, 1)}, "renewal_on"),
    ],
)
def test_a_bad_change_names_its_field_and_changes_nothing(
    session: Session, world: ContractWorld, changes: dict[str, object], field: str
) -> None:
    before = counts(session)

    with pytest.raises(ValidationFailed) as raised:
        contracts.edit_contract(
            session, actor=world.actor(world.owner), contract_id=world.contract.id, changes=changes
        )

    assert raised.value.details["field"] == field
    assert counts(session) == before


def test_a_duplicate_number_is_refused(session: Session, world: ContractWorld) -> None:
    before = counts(session)

    with pytest.raises(Conflict):
        contracts.create_contract(
            session,
            actor=world.actor(world.manager),
            customer=world.account.code,
            data={
                "number": world.contract.number,
                "title": "重复",
                "value": "1.00",
                "start_on": date(2026, 1, 1),
                "end_on": date(2026, 12, 31),
            },
        )

    assert counts(session) == before


def test_a_rival_rep_and_a_viewer_change_nothing(session: Session, world: ContractWorld) -> None:
    before = counts(session)

    with pytest.raises(NotFound):
        contracts.edit_contract(
            session,
            actor=world.actor(world.rival),
            contract_id=world.contract.id,
            changes={"value": "1.00"},
        )
    with pytest.raises(NotFound):
        contracts.create_contract(
            session,
            actor=world.actor(world.rival),
            customer=world.account.code,
            data={"number": "HT-X", "title": "x", "value": "1", "start_on": AS_OF, "end_on": AS_OF},
        )
    with pytest.raises(NotFound):
        contracts.complete_milestone(
            session,
            actor=world.actor(world.rival),
            milestone_id=world.survey_milestone.id,
            on=AS_OF,
            settings=SETTINGS,
        )
    with pytest.raises(Forbidden):
        contracts.edit_contract(
            session,
            actor=world.actor(world.viewer),
            contract_id=world.contract.id,
            changes={"value": "1.00"},
        )
    with pytest.raises(Forbidden):
        contracts.complete_milestone(
            session,
            actor=world.actor(world.viewer),
            milestone_id=world.survey_milestone.id,
            on=AS_OF,
            settings=SETTINGS,
        )

    assert counts(session) == before


def test_lists_are_scoped_and_filter_by_renewal(session: Session, world: ContractWorld) -> None:
    contracts.create_contract(
        session,
        actor=world.actor(world.rival),
        customer=world.other.code,
        data={
            "number": "HT-WEST",
            "title": "服务合同",
            "value": "80000",
            "start_on": date(2025, 1, 1),
            "end_on": date(2026, 12, 31),
        },
    )

    def numbers(user: object, **kw: object) -> list[str]:
        rows, _total = contracts.list_contracts(
            session,
            world.actor(user),  # type: ignore[arg-type]
            contracts.ContractFilter(as_of=AS_OF, **kw),  # type: ignore[arg-type]
            limit=50,
            offset=0,
        )
        return [c.number for c, _a in rows]

    assert numbers(world.owner) == [world.contract.number]
    assert numbers(world.rival) == ["HT-WEST"]
    assert numbers(world.manager) == [world.contract.number, "HT-WEST"]
    assert numbers(world.manager, renewing_within=120) == [world.contract.number]
    assert numbers(world.manager, renewing_within=30) == []
    assert numbers(world.manager, search="服务") == ["HT-WEST"]


# ----------------------------------------------------------------------------- milestones


def test_a_payment_milestone_needs_an_invoice_of_the_same_account(
    session: Session, world: ContractWorld
) -> None:
    before = counts(session)

    with pytest.raises(ValidationFailed) as raised:
        contracts.add_milestone(
            session,
            actor=world.actor(world.owner),
            contract_id=world.contract.id,
            data={
                "title": "尾款",
                "kind": "payment",
                "due_on": date(2026, 6, 30),
                "invoice_id": world.other_invoice.id,
            },
        )
    with pytest.raises(ValidationFailed) as wrong_kind:
        contracts.add_milestone(
            session,
            actor=world.actor(world.owner),
            contract_id=world.contract.id,
            data={"title": "评审", "kind": "review", "due_on": AS_OF, "amount": "10"},
        )
    with pytest.raises(ValidationFailed) as bad_checkpoint:
        contracts.add_milestone(
            session,
            actor=world.actor(world.owner),
            contract_id=world.contract.id,
            data={"title": "评审", "kind": "review", "due_on": AS_OF, "checkpoint": "call"},
        )

    assert raised.value.details["field"] == "invoice_id"
    assert wrong_kind.value.details["field"] == "amount"
    assert bad_checkpoint.value.details["field"] == "checkpoint"
    assert counts(session) == before
    assert world.task_milestone.invoice_id == world.invoice.id
    assert world.task_milestone.amount == Decimal("300000.00")


def test_a_survey_checkpoint_invites_each_decision_maker_once(
    session: Session, world: ContractWorld
) -> None:
    campaign = milestone_campaign(session)

    milestone, checkpoint = contracts.complete_milestone(
        session,
        actor=world.actor(world.owner),
        milestone_id=world.survey_milestone.id,
        on=AS_OF,
        settings=SETTINGS,
    )

    invitations = list(
        session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.contact_id))
    )
    assert milestone.done_on == AS_OF
    assert checkpoint.kind == "survey"
    assert checkpoint.invitations == 2
    assert checkpoint.task_id is None
    assert [i.contact_id for i in invitations] == [c.id for c in world.deciders]
    assert {i.campaign_id for i in invitations} == {campaign.id}
    assert {i.send_on for i in invitations} == {AS_OF + timedelta(days=1)}
    assert [i.event_ref for i in invitations] == [
        f"milestone:{milestone.id}:{c.id}" for c in world.deciders
    ]
    assert milestone.campaign_id == campaign.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.milestone_done"))
    assert event is not None
    assert event.after is not None
    assert event.after["invitations"] == 2
    assert event.after["done_on"] == AS_OF.isoformat()

    with pytest.raises(Conflict):
        contracts.complete_milestone(
            session,
            actor=world.actor(world.owner),
            milestone_id=milestone.id,
            on=AS_OF,
            settings=SETTINGS,
        )
    assert len(list(session.scalars(select(SurveyInvitation)))) == 2


def test_a_survey_checkpoint_without_a_milestone_campaign_opens_a_task(
    session: Session, world: ContractWorld
) -> None:
    _milestone, checkpoint = contracts.complete_milestone(
        session,
        actor=world.actor(world.owner),
        milestone_id=world.survey_milestone.id,
        on=AS_OF,
        settings=SETTINGS,
    )

    [task] = _tasks(session)
    assert checkpoint.invitations == 0
    assert checkpoint.task_id == task.id
    assert task.kind == "milestone_checkpoint"
    assert task.owner_id == world.owner.id
    assert task.dedupe_key == f"checkpoint:{world.survey_milestone.id}"


def test_a_task_checkpoint_opens_a_task_for_the_owner(
    session: Session, world: ContractWorld
) -> None:
    milestone_campaign(session)

    _milestone, checkpoint = contracts.complete_milestone(
        session,
        actor=world.actor(world.manager),
        milestone_id=world.task_milestone.id,
        on=AS_OF,
        settings=SETTINGS,
    )

    [task] = _tasks(session)
    assert checkpoint.kind == "task"
    assert checkpoint.task_id == task.id
    assert task.owner_id == world.owner.id
    assert task.customer_id == world.account.id
    assert task.due_on == AS_OF + timedelta(days=7)
    assert task.status == "open"
    assert session.scalar(select(SurveyInvitation.id)) is None
    assert session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "account_task.opened", AuditEvent.subject_id == task.id
        )
    )


# ----------------------------------------------------------------------------- tasks


def test_the_owner_closes_his_task_once_and_a_rival_cannot(
    session: Session, world: ContractWorld
) -> None:
    _m, checkpoint = contracts.complete_milestone(
        session,
        actor=world.actor(world.owner),
        milestone_id=world.task_milestone.id,
        on=AS_OF,
        settings=SETTINGS,
    )
    assert checkpoint.task_id is not None
    before = counts(session)

    with pytest.raises(NotFound):
        tasks.close_task(session, actor=world.actor(world.rival), task_id=checkpoint.task_id)
    with pytest.raises(Forbidden):
        tasks.close_task(session, actor=world.actor(world.viewer), task_id=checkpoint.task_id)
    assert counts(session) == before

    mine, total = tasks.list_tasks(
        session, world.actor(world.owner), tasks.TaskFilter(), limit=10, offset=0
    )
    theirs, none = tasks.list_tasks(
        session, world.actor(world.rival), tasks.TaskFilter(mine=False), limit=10, offset=0
    )
    task = tasks.close_task(
        session, actor=world.actor(world.owner), task_id=checkpoint.task_id, note="已确认到账"
    )

    assert total == 1
    assert mine[0][0].id == checkpoint.task_id
    assert (theirs, none) == ([], 0)
    assert task.status == AccountTaskStatus.DONE.value
    assert task.done_by_id == world.owner.id
    assert task.note == "已确认到账"
    with pytest.raises(Conflict):
        tasks.close_task(session, actor=world.actor(world.owner), task_id=task.id)


# ----------------------------------------------------------------------------- daily


def test_renewal_reminders_come_exactly_once_per_offset(
    session: Session, world: ContractWorld
) -> None:
    # From 100 days before the renewal to the day before it, the run every day.
    first = END - timedelta(days=100)
    opened = []
    for offset in range(100):
        day = first + timedelta(days=offset)
        result = daily.run(session, as_of=day, settings=SETTINGS)
        opened.append((day, result["renewal_tasks"]))
    again = daily.run(session, as_of=END - timedelta(days=1), settings=SETTINGS)

    renewals = _tasks(session, "renewal")
    assert [d for d, n in opened if n] == [
        END - timedelta(days=90),
        END - timedelta(days=60),
        END - timedelta(days=30),
    ]
    assert [t.dedupe_key for t in renewals] == [
        f"renewal:{world.contract.id}:{o}" for o in (90, 60, 30)
    ]
    assert {t.owner_id for t in renewals} == {world.owner.id}
    assert {t.due_on for t in renewals} == {END}
    assert again["renewal_tasks"] == 0


def test_a_contract_first_seen_late_gets_only_the_nearest_reminder(
    session: Session, world: ContractWorld
) -> None:
    daily.run(session, as_of=END - timedelta(days=20), settings=SETTINGS)

    assert [t.dedupe_key for t in _tasks(session, "renewal")] == [f"renewal:{world.contract.id}:30"]


def test_overdue_milestones_are_flagged_once_and_ended_contracts_expire(
    session: Session, world: ContractWorld
) -> None:
    first = daily.run(session, as_of=AS_OF, settings=SETTINGS)
    second = daily.run(session, as_of=AS_OF, settings=SETTINGS)
    later = daily.run(session, as_of=AS_OF + timedelta(days=1), settings=SETTINGS)

    overdue = _tasks(session, "milestone_overdue")
    assert first["overdue_milestone_tasks"] == 1
    assert second["overdue_milestone_tasks"] == 0
    assert later["overdue_milestone_tasks"] == 0
    assert [t.dedupe_key for t in overdue] == [f"overdue:{world.survey_milestone.id}"]
    assert first["contracts_expired"] == 0

    ended = daily.run(session, as_of=END + timedelta(days=1), settings=SETTINGS)
    rerun = daily.run(session, as_of=END + timedelta(days=1), settings=SETTINGS)

    contract = session.get(Contract, world.contract.id)
    assert contract is not None
    assert ended["contracts_expired"] == 1
    assert rerun["contracts_expired"] == 0
    assert contract.status == "expired"
    expired = session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.expired"))
    assert expired is not None
    assert expired.before == {"status": "active"}


def test_the_360_summary_shows_contracts_milestones_and_tasks(
    session: Session, world: ContractWorld
) -> None:
    daily.run(session, as_of=AS_OF, settings=SETTINGS)

    summary = contracts.summary_for_360(session, world.account.id, as_of=AS_OF)
    nothing = contracts.summary_for_360(session, world.other.id, as_of=AS_OF)

    assert summary is not None
    assert summary["contracts_total"] == 1
    [contract] = summary["contracts"]
    assert contract["renewal_on"] == END.isoformat()
    assert contract["renewal_in_days"] == (END - AS_OF).days
    assert contract["value"] == "1200000.00"
    assert [m["title"] for m in summary["next_milestones"]] == ["首批交付验收", "二期付款"]
    assert summary["next_milestones"][0]["overdue"] is True
    assert summary["open_tasks"] == 1
    assert nothing is None


def test_audit_jsonable_keeps_money_exact() -> None:
    assert audit.jsonable(Decimal("1200000.5")) == "1200000.50"
