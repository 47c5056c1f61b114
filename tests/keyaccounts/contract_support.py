"""A key account with its owner, a rival rep, a manager and a viewer, two decision makers and a
buyer, an invoice, one active contract renewing on RENEWAL with two milestones; the counts a
denied action must leave as they were."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.feedback import surveys
from flywheel.keyaccounts import contracts
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import BuyingRole, Role, Tier
from flywheel.models.feedback import SurveyCampaign, SurveyInvitation
from flywheel.models.keyaccounts import AccountTask, Contract, ContractMilestone
from flywheel.models.receivables import Invoice
from flywheel.models.users import User
from tests.factories import make_customer, make_invoice, make_user
from tests.feedback.campaign_support import make_campaign, person, settings_of, survey_id
from tests.web.pages import make_person

AS_OF = date(2026, 3, 2)
START = date(2025, 7, 1)
END = date(2026, 6, 30)
SETTINGS = settings_of(renewal_reminder_days=[90, 60, 30])
ADMIN_ACTOR = Actor.system("tests")


@dataclass
class ContractWorld:
    owner: User
    rival: User
    manager: User
    viewer: User
    account: Customer
    other: Customer  # the rival's account
    deciders: list[Contact]
    buyer: Contact
    invoice: Invoice
    other_invoice: Invoice
    contract: Contract
    survey_milestone: ContractMilestone
    task_milestone: ContractMilestone

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user)


def milestone_campaign(session: Session) -> SurveyCampaign:
    surveys.ensure_defaults(session)
    return make_campaign(
        session,
        trigger="milestone_done",
        survey_id=survey_id(session, "nps-relationship"),
        buying_roles=[BuyingRole.DECISION_MAKER.value],
        delay_days=1,
    )


def _user(session: Session, name: str, role: Role, *, passwords: bool, language: str) -> User:
    if passwords:
        return make_person(session, name, role=role, language=language)
    return make_user(session, username=name, role=role)


def build(session: Session, *, passwords: bool = False, language: str = "en") -> ContractWorld:
    """The world; with ``passwords`` its users can sign in (``tests.web.pages.PASSWORD``) as
    ka.owner, ka.rival, ka.manager and ka.viewer (hashing them takes a few seconds)."""
    owner = _user(session, "ka.owner", Role.SALES, passwords=passwords, language=language)
    rival = _user(session, "ka.rival", Role.SALES, passwords=passwords, language=language)
    manager = _user(session, "ka.manager", Role.MANAGER, passwords=passwords, language=language)
    viewer = _user(session, "ka.viewer", Role.VIEWER, passwords=passwords, language=language)
    account = make_customer(session, name="华东重工", tier=Tier.KEY, owner=owner)
    other = make_customer(session, name="西北机械", tier=Tier.KEY, owner=rival)
    deciders = [
        person(session, account, name="张总", role=BuyingRole.DECISION_MAKER),
        person(session, account, name="李总", role=BuyingRole.DECISION_MAKER),
    ]
    buyer = person(session, account, name="采购王", role=BuyingRole.USER)
    invoice = make_invoice(session, customer=account, amount="50000.00", issued=date(2025, 9, 1))
    other_invoice = make_invoice(session, customer=other, issued=date(2025, 9, 1))
    system = Actor.system("tests")
    contract = contracts.create_contract(
        session,
        actor=system,
        customer=account.code,
        data={
            "number": f"HT-{account.code}",
            "title": "年度供货框架协议",
            "value": "1200000.00",
            "start_on": START,
            "end_on": END,
        },
    )
    survey_milestone = contracts.add_milestone(
        session,
        actor=system,
        contract_id=contract.id,
        data={
            "title": "首批交付验收",
            "kind": "acceptance",
            "due_on": date(2026, 2, 15),
            "checkpoint": "survey",
        },
    )
    task_milestone = contracts.add_milestone(
        session,
        actor=system,
        contract_id=contract.id,
        data={
            "title": "二期付款",
            "kind": "payment",
            "due_on": date(2026, 4, 30),
            "amount": "300000.00",
            "invoice_id": invoice.id,
            "checkpoint": "task",
        },
    )
    return ContractWorld(
        owner=owner,
        rival=rival,
        manager=manager,
        viewer=viewer,
        account=account,
        other=other,
        deciders=deciders,
        buyer=buyer,
        invoice=invoice,
        other_invoice=other_invoice,
        contract=contract,
        survey_milestone=survey_milestone,
        task_milestone=task_milestone,
    )


def counts(session: Session) -> dict[str, Any]:
    """What a denied action must leave unchanged."""
    session.flush()
    return {
        "audit": session.scalar(select(func.count(AuditEvent.id))),
        "contracts": session.scalar(select(func.count(Contract.id))),
        "milestones": session.scalar(select(func.count(ContractMilestone.id))),
        "done": session.scalar(
            select(func.count(ContractMilestone.id)).where(ContractMilestone.done_on.is_not(None))
        ),
        "tasks": session.scalar(select(func.count(AccountTask.id))),
        "open_tasks": session.scalar(
            select(func.count(AccountTask.id)).where(AccountTask.status == "open")
        ),
        "invitations": session.scalar(select(func.count(SurveyInvitation.id))),
        "contract_rows": [
            tuple(r)
            for r in session.execute(
                select(Contract.id, Contract.value, Contract.status, Contract.renewal_on).order_by(
                    Contract.id
                )
            )
        ],
    }


def world_contract(session: Session, code: str) -> tuple[int, int, int]:
    """For the API-wide tests (permission matrix, schemathesis): a contract of the account
    ``code``, an open milestone of it (checkpoint: a task) and an open key-account task of the
    account; returns their ids (contract, milestone, task)."""
    from flywheel.keyaccounts import tasks

    system = Actor.system("tests")
    account = session.scalar(select(Customer).where(Customer.code == code))
    assert account is not None
    contract = contracts.create_contract(
        session,
        actor=system,
        customer=code,
        data={
            "number": f"HT-MATRIX-{code}",
            "title": "矩阵合同",
            "value": "100000.00",
            "start_on": date(2026, 1, 1),
            "end_on": date(2026, 12, 31),
        },
    )
    milestone = contracts.add_milestone(
        session,
        actor=system,
        contract_id=contract.id,
        data={
            "title": "验收",
            "kind": "acceptance",
            "due_on": date(2026, 6, 30),
            "checkpoint": "task",
        },
    )
    task, _new = tasks.open_task(
        session,
        system,
        customer_id=account.id,
        owner_id=account.owner_id,
        kind="renewal",
        title=f"Renewal of {contract.number}",
        due_on=contract.end_on,
        dedupe_key=f"renewal:{contract.id}:90",
        created_on=date(2026, 10, 2),
    )
    return contract.id, milestone.id, task.id
