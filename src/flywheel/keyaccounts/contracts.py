"""Contracts and post-contract follow-up: contract records (value, term, renewal date, payment
terms, status, owner), their milestones with due dates, and what a milestone done sets off: a
survey to the account's decision makers through the feedback module, or a task for the owner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.config import Settings
from flywheel.customers import service as customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.keyaccounts import tasks
from flywheel.kit.money import to_money
from flywheel.kit.terms import parse_terms
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import (
    AccountTaskStatus,
    BuyingRole,
    CampaignTrigger,
    ContractStatus,
    MilestoneKind,
)
from flywheel.models.feedback import SurveyInvitation
from flywheel.models.keyaccounts import AccountTask, Contract, ContractMilestone
from flywheel.models.receivables import Invoice
from flywheel.models.users import User

CONTRACT_FIELDS = (
    "customer_id",
    "number",
    "title",
    "value",
    "currency",
    "start_on",
    "end_on",
    "renewal_on",
    "payment_terms",
    "status",
    "owner_id",
    "notes",
)
EDITABLE = (
    "title",
    "value",
    "currency",
    "start_on",
    "end_on",
    "renewal_on",
    "payment_terms",
    "status",
    "owner_id",
    "notes",
)
MILESTONE_FIELDS = (
    "contract_id",
    "title",
    "kind",
    "due_on",
    "done_on",
    "amount",
    "invoice_id",
    "checkpoint",
    "campaign_id",
)
CHECKPOINTS = ("survey", "task")
# Open contracts: what renewals and milestones are followed for.
LIVE = (ContractStatus.DRAFT.value, ContractStatus.ACTIVE.value)
MAX_VALUE = Decimal("9999999999999999.99")
TEXT_MAX = 200
NOTE_MAX = 4000


class MilestoneAlreadyDone(Conflict):
    """The milestone was marked done before."""

    code = "milestone_already_done"


# ----------------------------------------------------------------------------- helpers


def _event(
    session: Session,
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_id: int,
    customer_id: int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
) -> None:
    if before is not None:
        difference = audit.changed(before, after)
        shown_before: dict[str, Any] | None = {k: before.get(k) for k in difference}
        shown_after: dict[str, Any] = difference
    else:
        shown_before, shown_after = None, dict(after)
    audit.record(
        session,
        actor,
        action,
        subject_type=subject_type,
        subject_id=subject_id,
        customer_id=customer_id,
        before=shown_before,
        after=shown_after,
    )


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str | None:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        raise ValidationFailed(f"{field}: required", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"{field}: at most {limit} characters", field=field)
    return text or None


def _money(value: Any, field: str, *, allow_none: bool = False) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise ValidationFailed(f"{field}: required", field=field)
    try:
        amount = to_money(value if isinstance(value, Decimal | int) else str(value).strip())
    except (ValueError, TypeError):
        raise ValidationFailed(f"{field}: not an amount: {value!r}", field=field) from None
    if amount < 0 or amount > MAX_VALUE:
        raise ValidationFailed(f"{field}: must be between 0 and {MAX_VALUE}", field=field)
    return amount


def _day(value: Any, field: str, *, allow_none: bool = False) -> date | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise ValidationFailed(f"{field}: required", field=field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(
            f"{field}: not a date (YYYY-MM-DD): {value!r}", field=field
        ) from None


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationFailed("currency: a three-letter code such as CNY", field="currency")
    return code


def _terms(value: Any) -> str:
    try:
        return parse_terms(str(value or "")).code
    except ValueError as exc:
        raise ValidationFailed(f"payment_terms: {exc}", field="payment_terms") from None


def _status(value: Any) -> str:
    try:
        return ContractStatus(str(value)).value
    except ValueError:
        choices = ", ".join(s.value for s in ContractStatus)
        raise ValidationFailed(
            f"status: {value!r} is not one of {choices}", field="status"
        ) from None


def _owner(session: Session, value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        owner_id = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("owner_id: not a user id", field="owner_id") from None
    if session.get(User, owner_id) is None:
        raise ValidationFailed(f"owner_id: user {owner_id} not found", field="owner_id")
    return owner_id


def _check_term(start: date, end: date, renewal: date | None) -> None:
    if end < start:
        raise ValidationFailed("end_on: the contract cannot end before it starts", field="end_on")
    if renewal is not None and renewal < start:
        raise ValidationFailed(
            "renewal_on: the renewal date cannot be before the start", field="renewal_on"
        )


# ----------------------------------------------------------------------------- reading


def get_contract_for(session: Session, contract_id: int, *, actor: Actor) -> Contract:
    """A contract of an account the actor may see; NotFound, like a missing one, otherwise."""
    contract = session.scalar(
        select(Contract)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(Contract.id == contract_id, visible_customers(actor))
    )
    if contract is None:
        raise NotFound(f"contract {contract_id} not found", contract_id=contract_id)
    return contract


def get_milestone_for(session: Session, milestone_id: int, *, actor: Actor) -> ContractMilestone:
    milestone = session.scalar(
        select(ContractMilestone)
        .join(Customer, Customer.id == ContractMilestone.customer_id)
        .where(ContractMilestone.id == milestone_id, visible_customers(actor))
    )
    if milestone is None:
        raise NotFound(f"milestone {milestone_id} not found", milestone_id=milestone_id)
    return milestone


@dataclass(frozen=True, slots=True)
class ContractFilter:
    status: str | None = None  # a ContractStatus, or "live" (draft or active)
    renewing_within: int | None = None  # days from as_of; live contracts only
    customer_id: int | None = None
    owner_id: int | None = None
    search: str | None = None
    as_of: date | None = None


def renewal_day() -> Any:
    """The day a contract comes up for renewal: its renewal date, else its end."""
    return func.coalesce(Contract.renewal_on, Contract.end_on)


def contracts_query(actor: Actor, filters: ContractFilter) -> Select[Contract, Customer]:
    """(contract, account) rows the actor may see, soonest renewal first."""
    stmt = (
        select(Contract, Customer)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(visible_customers(actor))
    )
    if filters.status == "live":
        stmt = stmt.where(Contract.status.in_(LIVE))
    elif filters.status:
        stmt = stmt.where(Contract.status == filters.status)
    if filters.renewing_within is not None:
        start = filters.as_of or date.min
        stmt = stmt.where(
            Contract.status.in_(LIVE),
            renewal_day() >= start,
            renewal_day() <= start + timedelta(days=filters.renewing_within),
        )
    if filters.customer_id is not None:
        stmt = stmt.where(Contract.customer_id == filters.customer_id)
    if filters.owner_id is not None:
        stmt = stmt.where(Contract.owner_id == filters.owner_id)
    if filters.search:
        pattern = f"%{filters.search.strip()}%"
        stmt = stmt.where(
            or_(
                Contract.number.ilike(pattern),
                Contract.title.ilike(pattern),
                Customer.code.ilike(pattern),
                Customer.name.ilike(pattern),
            )
        )
    return stmt.order_by(renewal_day(), Contract.id)


def list_contracts(
    session: Session, actor: Actor, filters: ContractFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Contract, Customer]], int]:
    stmt = contracts_query(actor, filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [(r[0], r[1]) for r in session.execute(stmt.limit(limit).offset(offset))]
    return rows, int(total)


def milestones_of(session: Session, contract_id: int) -> list[ContractMilestone]:
    return list(
        session.scalars(
            select(ContractMilestone)
            .where(ContractMilestone.contract_id == contract_id)
            .order_by(ContractMilestone.due_on, ContractMilestone.id)
        )
    )


def days_to_renewal(contract: Contract, as_of: date) -> int:
    return ((contract.renewal_on or contract.end_on) - as_of).days


# ----------------------------------------------------------------------------- contracts


def create_contract(
    session: Session, *, actor: Actor, customer: str, data: Mapping[str, Any]
) -> Contract:
    """A contract of the account ``customer`` (a code). ``data``: number, title, value,
    currency (default the account's), start_on, end_on, renewal_on (default the end),
    payment_terms (default the account's), status (default active), owner_id (default the
    account's owner), notes."""
    permissions.check(actor, Permission.MANAGE_CONTRACTS)
    try:
        account = customers.get_customer_by_code(session, customer, actor=actor)
    except NotFound:
        raise NotFound(
            f"customer: customer {customer} not found", field="customer", code=customer
        ) from None
    number = _text(data.get("number"), "number", 64, required=True)
    assert number is not None
    if session.scalar(select(Contract.id).where(Contract.number == number)) is not None:
        raise Conflict(f"number: contract {number} already exists", field="number", number=number)
    start = _day(data.get("start_on"), "start_on")
    end = _day(data.get("end_on"), "end_on")
    assert start is not None
    assert end is not None
    renewal = _day(data.get("renewal_on"), "renewal_on", allow_none=True) or end
    _check_term(start, end, renewal)
    owner = data.get("owner_id")
    contract = Contract(
        customer_id=account.id,
        number=number,
        title=_text(data.get("title"), "title", TEXT_MAX, required=True),
        value=_money(data.get("value"), "value"),
        currency=_currency(data.get("currency") or account.currency),
        start_on=start,
        end_on=end,
        renewal_on=renewal,
        payment_terms=_terms(data.get("payment_terms") or account.payment_terms),
        status=_status(data.get("status") or ContractStatus.ACTIVE.value),
        owner_id=_owner(session, owner) if owner not in (None, "") else account.owner_id,
        notes=_text(data.get("notes"), "notes", NOTE_MAX),
    )
    session.add(contract)
    session.flush()
    _event(
        session,
        actor,
        "contract.created",
        subject_type="contract",
        subject_id=contract.id,
        customer_id=account.id,
        before=None,
        after=audit.snapshot(contract, CONTRACT_FIELDS),
    )
    return contract


def edit_contract(
    session: Session, *, actor: Actor, contract_id: int, changes: Mapping[str, Any]
) -> Contract:
    """Change the fields named in ``changes`` (any of ``EDITABLE``); all checked before any is
    set, so a refused change changes nothing."""
    permissions.check(actor, Permission.MANAGE_CONTRACTS)
    contract = get_contract_for(session, contract_id, actor=actor)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            raise ValidationFailed(f"{name}: cannot be changed here", field=name)
        if name == "title":
            values[name] = _text(value, name, TEXT_MAX, required=True)
        elif name == "notes":
            values[name] = _text(value, name, NOTE_MAX)
        elif name == "value":
            values[name] = _money(value, name)
        elif name == "currency":
            values[name] = _currency(value)
        elif name in ("start_on", "end_on"):
            values[name] = _day(value, name)
        elif name == "renewal_on":
            values[name] = _day(value, name, allow_none=True)
        elif name == "payment_terms":
            values[name] = _terms(value)
        elif name == "status":
            values[name] = _status(value)
        elif name == "owner_id":
            values[name] = _owner(session, value)
    start = values.get("start_on", contract.start_on)
    end = values.get("end_on", contract.end_on)
    if "renewal_on" in values and values["renewal_on"] is None:
        values["renewal_on"] = end
    elif "renewal_on" not in values and contract.renewal_on in (None, contract.end_on):
        # A renewal date that followed the end (the default) keeps following it.
        values["renewal_on"] = end
    renewal = values.get("renewal_on", contract.renewal_on)
    _check_term(start, end, renewal)
    audit.apply_update(
        session,
        actor,
        contract,
        values,
        action="contract.updated",
        subject_type="contract",
        customer_id=contract.customer_id,
        fields=CONTRACT_FIELDS,
    )
    return contract


# ----------------------------------------------------------------------------- milestones


def add_milestone(
    session: Session, *, actor: Actor, contract_id: int, data: Mapping[str, Any]
) -> ContractMilestone:
    """A milestone of the contract. ``data``: title, kind (deliverable, acceptance, payment,
    review), due_on, amount and invoice_id (a payment; the invoice must be the same
    account's), checkpoint (survey, task or none)."""
    permissions.check(actor, Permission.MANAGE_CONTRACTS)
    contract = get_contract_for(session, contract_id, actor=actor)
    title = _text(data.get("title"), "title", TEXT_MAX, required=True)
    try:
        kind = MilestoneKind(str(data.get("kind") or "")).value
    except ValueError:
        choices = ", ".join(k.value for k in MilestoneKind)
        raise ValidationFailed(
            f"kind: {data.get('kind')!r} is not one of {choices}", field="kind"
        ) from None
    due = _day(data.get("due_on"), "due_on")
    checkpoint = str(data.get("checkpoint") or "").strip() or None
    if checkpoint is not None and checkpoint not in CHECKPOINTS:
        raise ValidationFailed(
            f"checkpoint: {checkpoint!r} is not one of survey, task", field="checkpoint"
        )
    amount = _money(data.get("amount"), "amount", allow_none=True)
    invoice_id: int | None = None
    raw_invoice = data.get("invoice_id")
    if raw_invoice not in (None, ""):
        try:
            invoice_id = int(str(raw_invoice))
        except ValueError:
            raise ValidationFailed("invoice_id: not an invoice id", field="invoice_id") from None
        owner_of = session.scalar(select(Invoice.customer_id).where(Invoice.id == invoice_id))
        if owner_of is None or owner_of != contract.customer_id:
            raise ValidationFailed(
                f"invoice_id: invoice {invoice_id} is not an invoice of this account",
                field="invoice_id",
            )
    if kind != MilestoneKind.PAYMENT.value and (amount is not None or invoice_id is not None):
        raise ValidationFailed(
            "amount: only a payment milestone has an amount or an invoice", field="amount"
        )
    milestone = ContractMilestone(
        contract_id=contract.id,
        customer_id=contract.customer_id,
        title=title,
        kind=kind,
        due_on=due,
        amount=amount,
        invoice_id=invoice_id,
        checkpoint=checkpoint,
    )
    session.add(milestone)
    session.flush()
    _event(
        session,
        actor,
        "contract.milestone_added",
        subject_type="contract_milestone",
        subject_id=milestone.id,
        customer_id=contract.customer_id,
        before=None,
        after=audit.snapshot(milestone, MILESTONE_FIELDS),
    )
    return milestone


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What marking a milestone done set off."""

    kind: str | None  # survey, task or None
    invitations: int = 0
    task_id: int | None = None


def _decision_makers(session: Session, customer_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Contact.id)
            .where(
                Contact.customer_id == customer_id,
                Contact.buying_role == BuyingRole.DECISION_MAKER.value,
            )
            .order_by(Contact.id)
        )
    )


def _survey(session: Session, milestone: ContractMilestone, *, on: date, settings: Settings) -> int:
    """Plan the milestone's survey through the feedback module's event hook: one event per
    decision maker (each his own ref, so each is asked), or one for the account when it
    names none (the campaign then picks the contact)."""
    from flywheel.feedback import cycle as feedback_cycle

    base = f"milestone:{milestone.id}"
    people = _decision_makers(session, milestone.customer_id)
    events: list[tuple[str, int | None]] = [(f"{base}:{c}", c) for c in people] or [(base, None)]
    planned = 0
    for ref, contact_id in events:
        planned += feedback_cycle.record_event(
            session,
            trigger=CampaignTrigger.MILESTONE_DONE,
            customer_id=milestone.customer_id,
            ref=ref,
            occurred_on=on,
            settings=settings,
            contact_id=contact_id,
        )
    if planned:
        milestone.campaign_id = session.scalar(
            select(SurveyInvitation.campaign_id)
            .where(
                SurveyInvitation.customer_id == milestone.customer_id,
                or_(
                    SurveyInvitation.event_ref == base,
                    SurveyInvitation.event_ref.like(f"{base}:%"),
                ),
            )
            .order_by(SurveyInvitation.id)
            .limit(1)
        )
    return planned


def complete_milestone(
    session: Session,
    *,
    actor: Actor,
    milestone_id: int,
    on: date,
    settings: Settings,
) -> tuple[ContractMilestone, Checkpoint]:
    """Mark the milestone done on ``on`` and run its feedback checkpoint: a survey planned for
    the account's decision makers, or a task for the contract's owner. When a survey finds no
    active milestone campaign or nobody to ask, a task is opened instead, so the checkpoint is
    never lost. All audited."""
    permissions.check(actor, Permission.MANAGE_CONTRACTS)
    milestone = get_milestone_for(session, milestone_id, actor=actor)
    if milestone.done_on is not None:
        raise MilestoneAlreadyDone(
            f"done_on: milestone {milestone.id} was done on {milestone.done_on.isoformat()}",
            field="done_on",
            milestone_id=milestone.id,
        )
    contract = session.get(Contract, milestone.contract_id)
    assert contract is not None
    if on < contract.start_on:
        raise ValidationFailed(
            "done_on: a milestone cannot be done before the contract starts", field="done_on"
        )
    before = audit.snapshot(milestone, MILESTONE_FIELDS)
    milestone.done_on = on
    session.flush()
    result = Checkpoint(kind=milestone.checkpoint)
    if milestone.checkpoint == "survey":
        planned = _survey(session, milestone, on=on, settings=settings)
        result = Checkpoint(kind="survey", invitations=planned)
    if milestone.checkpoint == "task" or (
        milestone.checkpoint == "survey" and not result.invitations
    ):
        customer = session.get(Customer, milestone.customer_id)
        title = (
            f"Follow up milestone {milestone.title} of {contract.number}"
            if milestone.checkpoint == "task"
            else f"Ask for feedback on milestone {milestone.title} of {contract.number}"
        )
        task, _new = tasks.open_task(
            session,
            actor,
            customer_id=milestone.customer_id,
            owner_id=contract.owner_id or (customer.owner_id if customer else None),
            kind="milestone_checkpoint",
            title=title,
            due_on=on + timedelta(days=7),
            dedupe_key=f"checkpoint:{milestone.id}",
            created_on=on,
        )
        result = Checkpoint(kind=result.kind, invitations=result.invitations, task_id=task.id)
    session.flush()
    _event(
        session,
        actor,
        "contract.milestone_done",
        subject_type="contract_milestone",
        subject_id=milestone.id,
        customer_id=milestone.customer_id,
        before=before,
        after={
            **audit.snapshot(milestone, MILESTONE_FIELDS),
            "invitations": result.invitations,
            "task_id": result.task_id,
        },
    )
    return milestone, result


# ----------------------------------------------------------------------------- the 360


# Built once with bound parameters: every account's 360 runs them.
_CONTRACT_COUNT = select(func.count()).where(Contract.customer_id == bindparam("customer_id"))
_OPEN_TASKS = (
    select(AccountTask)
    .where(
        AccountTask.customer_id == bindparam("customer_id"),
        AccountTask.status == AccountTaskStatus.OPEN.value,
    )
    .order_by(AccountTask.due_on, AccountTask.id)
    .limit(5)
)


def summary_for_360(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    """The account's contracts for the 360 key-account panel: the live ones with their renewal
    (date and days away), the next open milestones and the open key-account tasks; None when
    the account has no contract and no open task."""
    total = int(session.scalar(_CONTRACT_COUNT, {"customer_id": customer_id}) or 0)
    live: list[Contract] = []
    next_milestones: Sequence[Row[ContractMilestone, str]] = ()
    if total:  # most accounts have no contract: nothing more to read for them
        live = list(
            session.scalars(
                select(Contract)
                .where(Contract.customer_id == customer_id, Contract.status.in_(LIVE))
                .order_by(renewal_day(), Contract.id)
            )
        )
        next_milestones = session.execute(
            select(ContractMilestone, Contract.number)
            .join(Contract, Contract.id == ContractMilestone.contract_id)
            .where(
                ContractMilestone.customer_id == customer_id,
                ContractMilestone.done_on.is_(None),
                Contract.status.in_(LIVE),
            )
            .order_by(ContractMilestone.due_on, ContractMilestone.id)
            .limit(5)
        ).all()
    open_tasks = list(session.scalars(_OPEN_TASKS, {"customer_id": customer_id}))
    if not total and not open_tasks:
        return None
    return {
        "contracts_total": total,
        "contracts": [
            {
                "id": c.id,
                "number": c.number,
                "title": c.title,
                "value": f"{c.value:.2f}",
                "currency": c.currency,
                "status": c.status,
                "end_on": c.end_on.isoformat(),
                "renewal_on": (c.renewal_on or c.end_on).isoformat(),
                "renewal_in_days": days_to_renewal(c, as_of),
            }
            for c in live
        ],
        "next_milestones": [
            {
                "id": m.id,
                "contract_id": m.contract_id,
                "contract_number": number,
                "title": m.title,
                "kind": m.kind,
                "due_on": m.due_on.isoformat(),
                "overdue": m.due_on < as_of,
            }
            for m, number in next_milestones
        ],
        "open_tasks": tasks.open_count(session, customer_id),
        "tasks": [
            {"id": t.id, "kind": t.kind, "title": t.title, "due_on": t.due_on.isoformat()}
            for t in open_tasks
        ],
    }
