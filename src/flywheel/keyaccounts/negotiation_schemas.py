"""What crosses the API about negotiations: a new one, sheet changes, an issue's positions, a
concession, a decision, a meeting, the close; and the answers (the workspace with its ZOPAs)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import Field, PlainSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.config import get_settings
from flywheel.keyaccounts import negotiations
from flywheel.kit.shapes import ChangesModel, InputModel, OutputModel
from flywheel.models.customers import Customer
from flywheel.models.enums import NegotiationOutcome, NegotiationStatus
from flywheel.models.keyaccounts import Concession, Negotiation, NegotiationIssue
from flywheel.models.users import User

Note = Annotated[str, Field(max_length=4000)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=64, description="An account's code.")]
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Position = Annotated[
    Decimal,
    Field(gt=-(10**14), lt=10**14, max_digits=18, decimal_places=4),
]
# Positions leave as plain decimal text ("1200", "45.5"): exact, without trailing zeros.
PositionText = Annotated[
    Decimal, PlainSerializer(lambda v: format(v.normalize(), "f"), return_type=str)
]


class StatusChoice(StrEnum):
    ALL = "all"
    OPEN = "open"
    PREPARING = "preparing"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class SheetStatus(StrEnum):
    PREPARING = "preparing"
    IN_PROGRESS = "in_progress"


# ---------------------------------------------------------------- input


class NegotiationNew(InputModel):
    customer: Code | None = Field(
        default=None, description="The account; not needed with a deal or a contract."
    )
    deal_id: RowId | None = Field(default=None, description="The deal negotiated.")
    contract_id: RowId | None = Field(default=None, description="The contract being renewed.")
    title: Title | None = None


class SheetPatch(ChangesModel):
    """The preparation sheet; ``status`` moves it from preparing to in progress (or back)."""

    required: ClassVar[frozenset[str]] = frozenset({"title", "status"})

    title: Title | None = None
    our_objectives: Note | None = None
    their_interests: Note | None = None
    our_batna: Note | None = None
    their_batna: Note | None = None
    status: SheetStatus | None = None


class IssueIn(ChangesModel):
    """Only the fields sent change; a new standard issue (price, payment_terms …) takes its
    usual unit and direction when they are not sent."""

    unit: Annotated[str, Field(max_length=20)] | None = None
    higher_is_better: bool | None = Field(
        default=None, description="True when more is better for us (price), False otherwise."
    )
    our_opening: Position | None = None
    our_target: Position | None = None
    our_walkaway: Position | None = None
    their_opening: Position | None = None
    their_target: Position | None = None
    their_walkaway: Position | None = None
    agreed: Position | None = None


class ConcessionNew(InputModel):
    give: Annotated[str, Field(min_length=1, max_length=4000)] = Field(description="What we give.")
    get: Note | None = Field(default=None, description="What we get for it.")
    discount_percent: (
        Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] | None
    ) = None
    payment_days: Annotated[int, Field(ge=0, le=3650)] | None = Field(
        default=None, description="The payment terms conceded, in days."
    )
    planned: bool = Field(default=False, description="Part of the plan, not given yet.")
    meeting_id: RowId | None = None
    issue: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, description="The issue it moves (its name)."
    )


class ConcessionDecision(InputModel):
    note: Note | None = Field(default=None, description="Needed to reject.")


class MeetingNew(InputModel):
    held_on: date | None = Field(default=None, description="Default: today.")
    attendees: Note | None = None
    notes: Note | None = None


class CloseIn(InputModel):
    outcome: NegotiationOutcome
    outcome_notes: Note | None = None
    post_mortem: Note | None = None
    agreed: dict[Annotated[str, Field(max_length=40)], Position] | None = Field(
        default=None, description="The agreed value of issues, by name."
    )


# ---------------------------------------------------------------- answers


class ZopaOut(OutputModel):
    low: PositionText
    high: PositionText


class IssueOut(OutputModel):
    name: str
    unit: str | None
    higher_is_better: bool
    our_opening: PositionText | None
    our_target: PositionText | None
    our_walkaway: PositionText | None
    their_opening: PositionText | None
    their_target: PositionText | None
    their_walkaway: PositionText | None
    agreed: PositionText | None
    zopa: ZopaOut | None


class ConcessionOut(OutputModel):
    id: int
    planned: bool
    give: str
    get: str | None
    discount_percent: PositionText | None
    payment_days: int | None
    meeting_id: int | None
    issue: str | None
    approval_status: str
    approved_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    logged_at: datetime


class MeetingOut(OutputModel):
    id: int
    held_on: date
    attendees: str | None
    notes: str | None


class NegotiationOut(OutputModel):
    id: int
    customer: str
    customer_name: str
    deal_id: int | None
    contract_id: int | None
    title: str
    owner: str | None
    status: NegotiationStatus
    outcome: NegotiationOutcome | None
    updated_at: datetime
    closed_at: datetime | None


class NegotiationDetailOut(NegotiationOut):
    our_objectives: str | None
    their_interests: str | None
    our_batna: str | None
    their_batna: str | None
    outcome_notes: str | None
    post_mortem: str | None
    issues: list[IssueOut]
    concessions: list[ConcessionOut]
    meetings: list[MeetingOut]
    thresholds: dict[str, Any] = Field(
        description="The approval thresholds: discount percent, payment days, grade and its "
        "longest terms."
    )


class NegotiationPage(OutputModel):
    items: list[NegotiationOut]
    total: int
    page: int
    page_size: int


def _usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def negotiation_outs(
    session: Session, rows: list[tuple[Negotiation, Customer]]
) -> list[NegotiationOut]:
    names = _usernames(session, {n.owner_id for n, _c in rows})
    return [
        NegotiationOut(
            id=n.id,
            customer=c.code,
            customer_name=c.name,
            deal_id=n.deal_id,
            contract_id=n.contract_id,
            title=n.title,
            owner=names.get(n.owner_id or 0),
            status=NegotiationStatus(n.status),
            outcome=NegotiationOutcome(n.outcome) if n.outcome else None,
            updated_at=n.updated_at,
            closed_at=n.closed_at,
        )
        for n, c in rows
    ]


def issue_out(issue: NegotiationIssue) -> IssueOut:
    zone = negotiations.zopa_of(issue)
    return IssueOut(
        name=issue.name,
        unit=issue.unit,
        higher_is_better=issue.higher_is_better,
        our_opening=issue.our_opening,
        our_target=issue.our_target,
        our_walkaway=issue.our_walkaway,
        their_opening=issue.their_opening,
        their_target=issue.their_target,
        their_walkaway=issue.their_walkaway,
        agreed=issue.agreed,
        zopa=ZopaOut(low=zone.low, high=zone.high) if zone else None,
    )


def concession_outs(
    session: Session, concessions: list[Concession], issues: list[NegotiationIssue]
) -> list[ConcessionOut]:
    names = _usernames(session, {c.approved_by_id for c in concessions})
    issue_names = {i.id: i.name for i in issues}
    return [
        ConcessionOut(
            id=c.id,
            planned=c.planned,
            give=c.give,
            get=c.get,
            discount_percent=c.discount_percent,
            payment_days=c.payment_days,
            meeting_id=c.meeting_id,
            issue=issue_names.get(c.issue_id or 0),
            approval_status=c.approval_status,
            approved_by=names.get(c.approved_by_id or 0),
            decided_at=c.decided_at,
            decision_note=c.decision_note,
            logged_at=c.logged_at,
        )
        for c in concessions
    ]


def detail_out(
    session: Session, negotiation: Negotiation, customer: Customer, *, as_of: date
) -> NegotiationDetailOut:
    [head] = negotiation_outs(session, [(negotiation, customer)])
    issues = negotiations.issues_of(session, negotiation.id)
    settings = get_settings()
    grade = negotiations.grade_of(session, customer.id, as_of=as_of)
    return NegotiationDetailOut(
        **head.model_dump(),
        our_objectives=negotiation.our_objectives,
        their_interests=negotiation.their_interests,
        our_batna=negotiation.our_batna,
        their_batna=negotiation.their_batna,
        outcome_notes=negotiation.outcome_notes,
        post_mortem=negotiation.post_mortem,
        issues=[issue_out(i) for i in issues],
        concessions=concession_outs(
            session, negotiations.concessions_of(session, negotiation.id), issues
        ),
        meetings=[
            MeetingOut(id=m.id, held_on=m.held_on, attendees=m.attendees, notes=m.notes)
            for m in negotiations.meetings_of(session, negotiation.id)
        ],
        thresholds={
            "max_discount_percent": settings.concession_max_discount_percent,
            "max_payment_days": settings.concession_max_payment_days,
            "grade": grade,
            "grade_max_payment_days": settings.max_terms_by_grade.get(grade) if grade else None,
        },
    )
