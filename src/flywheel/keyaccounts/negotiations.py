"""The negotiation workspace: opening a negotiation (for a deal, a renewal or an account), the
preparation sheet, the issues with both sides' positions and their ZOPA, the concession plan
and log with the manager's approval beyond the thresholds, meetings, and the close with an
outcome and a post-mortem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from flywheel.analytics.zopa import Zopa, zone_of_agreement
from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.config import Settings, get_settings
from flywheel.customers import service as customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.models.customers import Customer
from flywheel.models.enums import ApprovalStatus, NegotiationOutcome, NegotiationStatus
from flywheel.models.keyaccounts import (
    Concession,
    Contract,
    Deal,
    Negotiation,
    NegotiationIssue,
    NegotiationMeeting,
)

# The usual issues, with the unit and the direction that is good for us; any other name is free.
STANDARD_ISSUES: dict[str, tuple[str, bool]] = {
    "price": ("CNY", True),
    "volume": ("units", True),
    "payment_terms": ("days", False),  # every day of credit we give costs us
    "delivery": ("days", True),  # a longer lead time is easier for us to meet
    "service_level": ("%", False),  # a higher level promised costs us
    "contract_length": ("months", True),
}
ISSUE_NAME = re.compile(r"^[a-z0-9_]{1,40}$")
POSITIONS = (
    "our_opening",
    "our_target",
    "our_walkaway",
    "their_opening",
    "their_target",
    "their_walkaway",
    "agreed",
)
SHEET_FIELDS = ("title", "our_objectives", "their_interests", "our_batna", "their_batna")
AUDITED = (
    "customer_id",
    "deal_id",
    "contract_id",
    "title",
    "owner_id",
    "status",
    *SHEET_FIELDS[1:],
    "outcome",
    "outcome_notes",
    "post_mortem",
)
ISSUE_AUDITED = ("name", "unit", "higher_is_better", *POSITIONS)
CONCESSION_AUDITED = (
    "planned",
    "give",
    "get",
    "discount_percent",
    "payment_days",
    "meeting_id",
    "issue_id",
    "approval_status",
    "approved_by_id",
    "decision_note",
)
TEXT_MAX = 4000
TITLE_MAX = 200
POSITION_LIMIT = Decimal("1e14")
OPEN_STATUSES = (NegotiationStatus.PREPARING.value, NegotiationStatus.IN_PROGRESS.value)


class NegotiationClosed(Conflict):
    """The negotiation is closed: its sheet, issues, concessions and meetings are final."""

    code = "negotiation_closed"


class ConcessionsPending(Conflict):
    """A concession still waits for a manager's decision."""

    code = "concessions_pending"


class ConcessionNotPending(Conflict):
    """The concession needs no decision, or has had one."""

    code = "concession_not_pending"


def _now() -> datetime:
    return datetime.now(UTC)


def clean_text(value: str | None, field: str, limit: int = TEXT_MAX) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationFailed(f"{field}: at most {limit} characters", field=field)
    return text or None


def _record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_id: int,
    customer_id: int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    **extra: Any,
) -> None:
    if before is not None:
        difference = audit.changed(before, after)
        shown_before: dict[str, Any] | None = {k: before[k] for k in difference}
        shown_after: dict[str, Any] = {**difference, **extra}
    else:
        shown_before, shown_after = None, {**after, **extra}
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


# ----------------------------------------------------------------------------- reading


def get_negotiation_for(session: Session, negotiation_id: int, *, actor: Actor) -> Negotiation:
    """A negotiation on an account the actor may see; NotFound, like a missing one, otherwise."""
    negotiation = session.scalar(
        select(Negotiation)
        .join(Customer, Customer.id == Negotiation.customer_id)
        .where(Negotiation.id == negotiation_id, visible_customers(actor))
    )
    if negotiation is None:
        raise NotFound(f"negotiation {negotiation_id} not found", negotiation_id=negotiation_id)
    return negotiation


def get_concession_for(session: Session, concession_id: int, *, actor: Actor) -> Concession:
    concession = session.scalar(
        select(Concession)
        .join(Customer, Customer.id == Concession.customer_id)
        .where(Concession.id == concession_id, visible_customers(actor))
    )
    if concession is None:
        raise NotFound(f"concession {concession_id} not found", concession_id=concession_id)
    return concession


@dataclass(frozen=True, slots=True)
class NegotiationFilter:
    status: str | None = None  # a NegotiationStatus, or "open" (preparing or in progress)
    mine: bool = False
    customer_id: int | None = None


def negotiations_query(actor: Actor, filters: NegotiationFilter) -> Select[Negotiation, Customer]:
    stmt = (
        select(Negotiation, Customer)
        .join(Customer, Customer.id == Negotiation.customer_id)
        .where(visible_customers(actor))
    )
    if filters.status == "open":
        stmt = stmt.where(Negotiation.status.in_(OPEN_STATUSES))
    elif filters.status:
        stmt = stmt.where(Negotiation.status == filters.status)
    if filters.mine:
        stmt = stmt.where(Negotiation.owner_id == (actor.user_id or 0))
    if filters.customer_id is not None:
        stmt = stmt.where(Negotiation.customer_id == filters.customer_id)
    return stmt.order_by(Negotiation.updated_at.desc(), Negotiation.id.desc())


def list_negotiations(
    session: Session, actor: Actor, filters: NegotiationFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Negotiation, Customer]], int]:
    if filters.status and filters.status != "open":
        _status(filters.status)
    stmt = negotiations_query(actor, filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [(r[0], r[1]) for r in session.execute(stmt.limit(limit).offset(offset))]
    return rows, int(total)


def issues_of(session: Session, negotiation_id: int) -> list[NegotiationIssue]:
    return list(
        session.scalars(
            select(NegotiationIssue)
            .where(NegotiationIssue.negotiation_id == negotiation_id)
            .order_by(NegotiationIssue.position, NegotiationIssue.id)
        )
    )


def concessions_of(session: Session, negotiation_id: int) -> list[Concession]:
    return list(
        session.scalars(
            select(Concession)
            .where(Concession.negotiation_id == negotiation_id)
            .order_by(Concession.planned.desc(), Concession.logged_at, Concession.id)
        )
    )


def meetings_of(session: Session, negotiation_id: int) -> list[NegotiationMeeting]:
    return list(
        session.scalars(
            select(NegotiationMeeting)
            .where(NegotiationMeeting.negotiation_id == negotiation_id)
            .order_by(NegotiationMeeting.held_on, NegotiationMeeting.id)
        )
    )


def zopa_of(issue: NegotiationIssue) -> Zopa | None:
    return zone_of_agreement(
        issue.our_walkaway, issue.their_walkaway, higher_is_better=issue.higher_is_better
    )


# ----------------------------------------------------------------------------- opening


def _status(value: str) -> NegotiationStatus:
    try:
        return NegotiationStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in NegotiationStatus)
        raise ValidationFailed(
            f"status: {value!r} is not one of {choices}", field="status"
        ) from None


def _account(session: Session, actor: Actor, code: str, field: str = "customer") -> Customer:
    try:
        return customers.get_customer_by_code(session, code, actor=actor)
    except NotFound:
        raise NotFound(f"{field}: customer {code} not found", field=field, code=code) from None


def _visible_customer(session: Session, actor: Actor, customer_id: int) -> Customer | None:
    return session.scalar(
        select(Customer).where(Customer.id == customer_id, visible_customers(actor))
    )


def open_negotiation(
    session: Session,
    *,
    actor: Actor,
    customer: str | None = None,
    deal_id: int | None = None,
    contract_id: int | None = None,
    title: str | None = None,
) -> Negotiation:
    """A new negotiation (status ``preparing``) for a deal, a contract's renewal, or just an
    account (its code); the account comes from the deal or contract when one is given."""
    permissions.check(actor, Permission.NEGOTIATE)
    deal = contract = None
    account: Customer | None = None
    if deal_id is not None:
        deal = session.get(Deal, deal_id)
        account = _visible_customer(session, actor, deal.customer_id) if deal else None
        if deal is None or account is None:
            raise NotFound(f"deal: deal {deal_id} not found", field="deal_id", deal_id=deal_id)
    if contract_id is not None:
        contract = session.get(Contract, contract_id)
        found = _visible_customer(session, actor, contract.customer_id) if contract else None
        if contract is None or found is None:
            raise NotFound(
                f"contract: contract {contract_id} not found",
                field="contract_id",
                contract_id=contract_id,
            )
        if account is not None and account.id != found.id:
            raise ValidationFailed(
                "contract_id: the contract is not with the deal's account", field="contract_id"
            )
        account = found
    if customer:
        named = _account(session, actor, customer)
        if account is not None and account.id != named.id:
            raise ValidationFailed(
                f"customer: the {'deal' if deal else 'contract'} is with another account",
                field="customer",
            )
        account = named
    if account is None:
        raise ValidationFailed("customer: name the account, a deal or a contract", field="customer")
    name = clean_text(title, "title", TITLE_MAX)
    if name is None:
        if deal is not None:
            name = deal.title[:TITLE_MAX]
        elif contract is not None:
            name = f"Renewal {contract.number}"[:TITLE_MAX]
        else:
            name = f"Negotiation {account.name}"[:TITLE_MAX]
    negotiation = Negotiation(
        customer_id=account.id,
        deal_id=deal.id if deal else None,
        contract_id=contract.id if contract else None,
        title=name,
        owner_id=actor.user_id if actor.user_id is not None else account.owner_id,
        status=NegotiationStatus.PREPARING.value,
    )
    session.add(negotiation)
    session.flush()
    _record(
        session,
        actor,
        "negotiation.opened",
        subject_type="negotiation",
        subject_id=negotiation.id,
        customer_id=account.id,
        before=None,
        after=audit.snapshot(negotiation, AUDITED),
    )
    return negotiation


def _editable(session: Session, actor: Actor, negotiation_id: int) -> Negotiation:
    permissions.check(actor, Permission.NEGOTIATE)
    negotiation = get_negotiation_for(session, negotiation_id, actor=actor)
    if negotiation.status == NegotiationStatus.CLOSED:
        raise NegotiationClosed(
            f"negotiation {negotiation.id} is closed", negotiation_id=negotiation.id
        )
    return negotiation


def update_sheet(
    session: Session,
    *,
    actor: Actor,
    negotiation_id: int,
    changes: Mapping[str, str | None],
) -> Negotiation:
    """Change the title, our objectives, their interests, the two BATNAs, or move the status
    from preparing to in progress (closing has its own call)."""
    negotiation = _editable(session, actor, negotiation_id)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in SHEET_FIELDS:
            limit = TITLE_MAX if name == "title" else TEXT_MAX
            values[name] = clean_text(value, name, limit)
            if name == "title" and values[name] is None:
                raise ValidationFailed("title: a negotiation needs a title", field="title")
        elif name == "status":
            status = _status(str(value or ""))
            if status == NegotiationStatus.CLOSED:
                raise ValidationFailed(
                    "status: close a negotiation with its outcome", field="status"
                )
            values["status"] = status.value
        else:
            raise ValidationFailed(f"{name}: cannot be changed here", field=name)
    audit.apply_update(
        session,
        actor,
        negotiation,
        values,
        action="negotiation.updated",
        subject_type="negotiation",
        customer_id=negotiation.customer_id,
        fields=AUDITED,
    )
    return negotiation


# ----------------------------------------------------------------------------- issues


def _position(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except ArithmeticError:
        raise ValidationFailed(f"{field}: not a number", field=field) from None
    if not number.is_finite() or abs(number) >= POSITION_LIMIT:
        raise ValidationFailed(f"{field}: not a number", field=field)
    return number.quantize(Decimal("0.0001"))


def _check_order(
    values: Mapping[str, Decimal | None],
    higher_is_better: bool,
    side: str,
    sent: frozenset[str] = frozenset(),
) -> None:
    """Opening, target and walk-away must run from the best to the worst for that side."""
    opening, target, walkaway = (values[f"{side}_{k}"] for k in ("opening", "target", "walkaway"))
    ours = side == "our"
    # Our best is high when higher is better for us; theirs is the other way round.
    best_is_high = higher_is_better if ours else not higher_is_better
    chain = [
        (f"{side}_opening", opening),
        (f"{side}_target", target),
        (f"{side}_walkaway", walkaway),
    ]
    known = [(k, v) for k, v in chain if v is not None]
    for (first, a), (second, b) in pairwise(known):
        if (best_is_high and a < b) or (not best_is_high and a > b):
            # Blame the position just sent: that is the one the user will look at.
            if first in sent and second not in sent:
                word = "below" if best_is_high else "above"
                raise ValidationFailed(
                    f"{first}: cannot be {word} {second} ({a} vs {b})", field=first
                )
            word = "above" if best_is_high else "below"
            raise ValidationFailed(f"{second}: cannot be {word} {first} ({b} vs {a})", field=second)


def set_issue(
    session: Session,
    *,
    actor: Actor,
    negotiation_id: int,
    name: str,
    values: Mapping[str, Any],
) -> NegotiationIssue:
    """Create or replace the issue ``name``: its unit, direction and the positions given
    (``our_opening`` … ``their_walkaway``, ``agreed``); a standard name brings its unit and
    direction when they are not given."""
    negotiation = _editable(session, actor, negotiation_id)
    key = (name or "").strip().lower()
    if not ISSUE_NAME.match(key):
        raise ValidationFailed(
            "name: 1–40 lower-case letters, digits or underscores (price, payment_terms, …)",
            field="name",
        )
    unknown = set(values) - {*POSITIONS, "unit", "higher_is_better"}
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"{field}: not a field of an issue", field=field)
    issue = session.scalar(
        select(NegotiationIssue).where(
            NegotiationIssue.negotiation_id == negotiation.id, NegotiationIssue.name == key
        )
    )
    default_unit, default_direction = STANDARD_ISSUES.get(key, (None, True))
    if issue is not None:
        default_unit, default_direction = issue.unit, issue.higher_is_better
    direction = values.get("higher_is_better")
    higher = default_direction if direction is None else bool(direction)
    unit = clean_text(values["unit"], "unit", 20) if "unit" in values else default_unit
    positions = {
        f: _position(values[f], f) if f in values else (getattr(issue, f) if issue else None)
        for f in POSITIONS
    }
    sent = frozenset(values)
    _check_order(positions, higher, "our", sent)
    _check_order(positions, higher, "their", sent)
    before = audit.snapshot(issue, ISSUE_AUDITED) if issue is not None else None
    if issue is None:
        count = session.scalar(
            select(func.count()).where(NegotiationIssue.negotiation_id == negotiation.id)
        )
        issue = NegotiationIssue(
            negotiation_id=negotiation.id,
            customer_id=negotiation.customer_id,
            name=key,
            position=int(count or 0),
        )
        session.add(issue)
    issue.unit = unit
    issue.higher_is_better = higher
    for field, value in positions.items():
        setattr(issue, field, value)
    session.flush()
    after = audit.snapshot(issue, ISSUE_AUDITED)
    if before is None or audit.changed(before, after):
        _record(
            session,
            actor,
            "negotiation.issue_set",
            subject_type="negotiation",
            subject_id=negotiation.id,
            customer_id=negotiation.customer_id,
            before=before,
            after=after,
            issue=key,
        )
    return issue


def remove_issue(session: Session, *, actor: Actor, negotiation_id: int, name: str) -> None:
    negotiation = _editable(session, actor, negotiation_id)
    issue = session.scalar(
        select(NegotiationIssue).where(
            NegotiationIssue.negotiation_id == negotiation.id, NegotiationIssue.name == name
        )
    )
    if issue is None:
        raise NotFound(f"issue {name} not found", field="name")
    before = audit.snapshot(issue, ISSUE_AUDITED)
    session.delete(issue)
    session.flush()
    audit.record(
        session,
        actor,
        "negotiation.issue_removed",
        subject_type="negotiation",
        subject_id=negotiation.id,
        customer_id=negotiation.customer_id,
        before=before,
        after={"issue": name},
    )


# ----------------------------------------------------------------------------- concessions


def grade_of(session: Session, customer_id: int, *, as_of: date) -> str | None:
    """The customer's live credit grade, when the credit module has scored it."""
    from flywheel.credit import service as credit

    view = credit.latest_score(session, customer_id, as_of=as_of)
    return view.grade if view is not None else None


def approval_reasons(
    discount_percent: Decimal | None,
    payment_days: int | None,
    *,
    settings: Settings,
    grade: str | None,
) -> list[str]:
    """Why a concession needs a manager (empty: it does not): a stable code per threshold."""
    reasons: list[str] = []
    if discount_percent is not None and discount_percent > Decimal(
        str(settings.concession_max_discount_percent)
    ):
        reasons.append("discount")
    if payment_days is not None:
        if payment_days > settings.concession_max_payment_days:
            reasons.append("payment_days")
        grade_limit = settings.max_terms_by_grade.get(grade) if grade else None
        if grade_limit is not None and payment_days > grade_limit:
            reasons.append("grade_terms")
    return reasons


def log_concession(
    session: Session,
    *,
    actor: Actor,
    negotiation_id: int,
    give: str,
    get: str | None = None,
    discount_percent: Decimal | None = None,
    payment_days: int | None = None,
    planned: bool = False,
    meeting_id: int | None = None,
    issue: str | None = None,
    as_of: date,
    settings: Settings | None = None,
) -> Concession:
    """A give-get planned (``planned``) or given at a meeting; beyond the discount or
    payment-days thresholds, or the terms the customer's credit grade allows, it waits for a
    manager (``pending``)."""
    settings = settings or get_settings()
    negotiation = _editable(session, actor, negotiation_id)
    what = clean_text(give, "give")
    if what is None:
        raise ValidationFailed("give: say what we give", field="give")
    if discount_percent is not None and not Decimal(0) <= discount_percent <= Decimal(100):
        raise ValidationFailed("discount_percent: between 0 and 100", field="discount_percent")
    if payment_days is not None and not 0 <= payment_days <= 3650:
        raise ValidationFailed("payment_days: between 0 and 3650", field="payment_days")
    if meeting_id is not None:
        meeting = session.get(NegotiationMeeting, meeting_id)
        if meeting is None or meeting.negotiation_id != negotiation.id:
            raise ValidationFailed(
                f"meeting_id: meeting {meeting_id} is not of this negotiation",
                field="meeting_id",
            )
    issue_id = None
    if issue:
        found = session.scalar(
            select(NegotiationIssue.id).where(
                NegotiationIssue.negotiation_id == negotiation.id,
                NegotiationIssue.name == issue,
            )
        )
        if found is None:
            raise ValidationFailed(f"issue: no issue {issue!r} on the table", field="issue")
        issue_id = int(found)
    grade = grade_of(session, negotiation.customer_id, as_of=as_of)
    reasons = approval_reasons(discount_percent, payment_days, settings=settings, grade=grade)
    concession = Concession(
        negotiation_id=negotiation.id,
        customer_id=negotiation.customer_id,
        meeting_id=meeting_id,
        issue_id=issue_id,
        planned=planned,
        give=what,
        get=clean_text(get, "get"),
        discount_percent=(
            discount_percent.quantize(Decimal("0.01")) if discount_percent is not None else None
        ),
        payment_days=payment_days,
        approval_status=(ApprovalStatus.PENDING if reasons else ApprovalStatus.NOT_NEEDED).value,
        logged_by_id=actor.user_id,
        logged_at=_now(),
    )
    session.add(concession)
    if negotiation.status == NegotiationStatus.PREPARING and not planned:
        negotiation.status = NegotiationStatus.IN_PROGRESS.value
    session.flush()
    _record(
        session,
        actor,
        "concession.logged",
        subject_type="negotiation",
        subject_id=negotiation.id,
        customer_id=negotiation.customer_id,
        before=None,
        after=audit.snapshot(concession, CONCESSION_AUDITED),
        concession_id=concession.id,
        grade=grade,
        approval_reasons=reasons,
    )
    return concession


def decide_concession(
    session: Session,
    *,
    actor: Actor,
    concession_id: int,
    approve: bool,
    note: str | None = None,
) -> Concession:
    """A manager approves or rejects a pending concession; a rejection says why."""
    permissions.check(actor, Permission.APPROVE_CONCESSIONS)
    concession = get_concession_for(session, concession_id, actor=actor)
    negotiation = get_negotiation_for(session, concession.negotiation_id, actor=actor)
    if negotiation.status == NegotiationStatus.CLOSED:
        raise NegotiationClosed(
            f"negotiation {negotiation.id} is closed", negotiation_id=negotiation.id
        )
    if concession.approval_status != ApprovalStatus.PENDING:
        raise ConcessionNotPending(
            f"concession {concession.id} is {concession.approval_status}, not pending",
            concession_id=concession.id,
        )
    text = clean_text(note, "note")
    if not approve and text is None:
        raise ValidationFailed("note: say why the concession is rejected", field="note")
    before = audit.snapshot(concession, CONCESSION_AUDITED)
    concession.approval_status = (
        ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    ).value
    concession.approved_by_id = actor.user_id
    concession.decided_at = _now()
    concession.decision_note = text
    session.flush()
    _record(
        session,
        actor,
        "concession.approved" if approve else "concession.rejected",
        subject_type="negotiation",
        subject_id=negotiation.id,
        customer_id=negotiation.customer_id,
        before=before,
        after=audit.snapshot(concession, CONCESSION_AUDITED),
        concession_id=concession.id,
    )
    return concession


# ----------------------------------------------------------------------------- meetings, close


def add_meeting(
    session: Session,
    *,
    actor: Actor,
    negotiation_id: int,
    held_on: date,
    attendees: str | None = None,
    notes: str | None = None,
) -> NegotiationMeeting:
    """A meeting with its notes; the first one moves a negotiation in preparation on."""
    negotiation = _editable(session, actor, negotiation_id)
    meeting = NegotiationMeeting(
        negotiation_id=negotiation.id,
        customer_id=negotiation.customer_id,
        held_on=held_on,
        attendees=clean_text(attendees, "attendees"),
        notes=clean_text(notes, "notes"),
    )
    session.add(meeting)
    before = audit.snapshot(negotiation, ("status",))
    if negotiation.status == NegotiationStatus.PREPARING:
        negotiation.status = NegotiationStatus.IN_PROGRESS.value
    session.flush()
    _record(
        session,
        actor,
        "negotiation.meeting_added",
        subject_type="negotiation",
        subject_id=negotiation.id,
        customer_id=negotiation.customer_id,
        before=None,
        after={
            "meeting_id": meeting.id,
            "held_on": held_on.isoformat(),
            "attendees": meeting.attendees,
            "notes": meeting.notes,
            **({"status": negotiation.status} if before["status"] != negotiation.status else {}),
        },
    )
    return meeting


def close_negotiation(
    session: Session,
    *,
    actor: Actor,
    negotiation_id: int,
    outcome: str,
    outcome_notes: str | None = None,
    post_mortem: str | None = None,
    agreed: Mapping[str, Any] | None = None,
) -> Negotiation:
    """Close with an outcome (and the agreed value of issues, by name); refused while a
    concession still waits for a manager."""
    negotiation = _editable(session, actor, negotiation_id)
    try:
        result = NegotiationOutcome(outcome)
    except ValueError:
        choices = ", ".join(o.value for o in NegotiationOutcome)
        raise ValidationFailed(
            f"outcome: {outcome!r} is not one of {choices}", field="outcome"
        ) from None
    pending = session.scalar(
        select(func.count()).where(
            Concession.negotiation_id == negotiation.id,
            Concession.approval_status == ApprovalStatus.PENDING.value,
        )
    )
    if pending:
        raise ConcessionsPending(
            f"outcome: {pending} concession(s) still wait for a manager's decision",
            field="outcome",
            pending=int(pending),
        )
    issues = {i.name: i for i in issues_of(session, negotiation.id)}
    values_agreed: dict[str, Decimal | None] = {}
    for name, value in (agreed or {}).items():
        if name not in issues:
            raise ValidationFailed(f"agreed: no issue {name!r} on the table", field="agreed")
        values_agreed[name] = _position(value, "agreed")
    before = audit.snapshot(negotiation, AUDITED)
    for name, value in values_agreed.items():
        issues[name].agreed = value
    negotiation.outcome = result.value
    negotiation.outcome_notes = clean_text(outcome_notes, "outcome_notes")
    negotiation.post_mortem = clean_text(post_mortem, "post_mortem")
    negotiation.status = NegotiationStatus.CLOSED.value
    negotiation.closed_at = _now()
    session.flush()
    _record(
        session,
        actor,
        "negotiation.closed",
        subject_type="negotiation",
        subject_id=negotiation.id,
        customer_id=negotiation.customer_id,
        before=before,
        after=audit.snapshot(negotiation, AUDITED),
        **(
            {"agreed": {k: audit.jsonable(v) for k, v in values_agreed.items()}}
            if values_agreed
            else {}
        ),
    )
    return negotiation


# ----------------------------------------------------------------------------- for others


def chart_data(issues: list[NegotiationIssue]) -> list[dict[str, Any]]:
    """Per issue: both sides' ranges (best to walk-away) and the ZOPA, as floats for the chart."""
    out = []
    for issue in issues:
        zone = zopa_of(issue)

        def span(*values: Decimal | None) -> list[float] | None:
            known = [float(v) for v in values if v is not None]
            return [min(known), max(known)] if known else None

        out.append(
            {
                "name": issue.name,
                "unit": issue.unit or "",
                "higher_is_better": issue.higher_is_better,
                "ours": span(issue.our_opening, issue.our_target, issue.our_walkaway),
                "theirs": span(issue.their_opening, issue.their_target, issue.their_walkaway),
                "our_target": float(issue.our_target) if issue.our_target is not None else None,
                "zopa": [float(zone.low), float(zone.high)] if zone else None,
                "agreed": float(issue.agreed) if issue.agreed is not None else None,
            }
        )
    return out


# Built once with bound parameters: every account's 360 runs it.
_OPEN_NEGOTIATIONS = (
    select(Negotiation)
    .where(
        Negotiation.customer_id == bindparam("customer_id"),
        Negotiation.status.in_(OPEN_STATUSES),
    )
    .order_by(Negotiation.updated_at.desc(), Negotiation.id.desc())
)


def summary_for_360(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    """The account's open negotiations for the 360's key-account panel (None: there are none)."""
    rows = session.scalars(_OPEN_NEGOTIATIONS, {"customer_id": customer_id})
    items = []
    for negotiation in rows:
        pending = session.scalar(
            select(func.count()).where(
                Concession.negotiation_id == negotiation.id,
                Concession.approval_status == ApprovalStatus.PENDING.value,
            )
        )
        last = session.scalar(
            select(func.max(NegotiationMeeting.held_on)).where(
                NegotiationMeeting.negotiation_id == negotiation.id,
                NegotiationMeeting.held_on <= as_of,
            )
        )
        items.append(
            {
                "id": negotiation.id,
                "title": negotiation.title,
                "status": negotiation.status,
                "url": f"/negotiations/{negotiation.id}",
                "pending_concessions": int(pending or 0),
                "last_meeting_on": last,
            }
        )
    if not items:
        return None
    return {"open": len(items), "negotiations": items}
