"""What crosses the API about stakeholder maps and needs: a stakeholder's values, a need to add
or change, a promotion; and the answers (the map's rows, the coverage, the register)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from flywheel.keyaccounts import needs, stakeholders
from flywheel.kit.shapes import MAX_ID, ChangesModel, InputModel, Moment, OutputModel
from flywheel.models.enums import Attitude, BuyingRole
from flywheel.models.keyaccounts import Need

Score = Annotated[int, Field(ge=1, le=5, description="1 … 5.")]
Priority = Annotated[int, Field(ge=1, le=5, description="1 (highest) … 5.")]
ContactId = Annotated[int, Field(ge=1, le=MAX_ID)]
Note = Annotated[str, Field(max_length=4000)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
NeedKind = Literal["need", "pain_point"]
NeedSource = Literal[
    "interview", "market_research", "survey_comment", "support_ticket", "negotiation"
]
NeedStatus = Literal["open", "addressed", "declined"]


# ---------------------------------------------------------------- input


class StakeholderSet(ChangesModel):
    """The values to set; only the fields sent change (a contact not yet on the map starts at
    influence 3, neutral, trust 3). ``buying_role`` changes the contact itself."""

    required: ClassVar[frozenset[str]] = frozenset({"influence", "attitude", "trust"})

    influence: Score | None = None
    attitude: Attitude | None = None
    trust: Score | None = None
    reports_to_contact_id: ContactId | None = Field(
        default=None, description="Another contact of the same account; null: nobody."
    )
    notes: Note | None = None
    buying_role: BuyingRole | None = None


class NeedNew(InputModel):
    title: Title
    description: Note | None = None
    kind: NeedKind = "need"
    source: NeedSource = "interview"
    priority: Priority = 3
    status: NeedStatus = "open"
    offer: Note | None = Field(default=None, description="Needed when status is addressed.")


class NeedPatch(ChangesModel):
    """Only the fields sent change; ``status`` addressed (with an offer) or declined closes it."""

    required: ClassVar[frozenset[str]] = frozenset(
        {"title", "kind", "source", "priority", "status"}
    )

    title: Title | None = None
    description: Note | None = None
    kind: NeedKind | None = None
    source: NeedSource | None = None
    priority: Priority | None = None
    status: NeedStatus | None = None
    offer: Note | None = None


class PromoteIn(InputModel):
    """Either a survey response with a comment or a touchpoint with a note."""

    response_id: ContactId | None = None
    touchpoint_id: ContactId | None = None
    title: Title | None = Field(default=None, description="Default: the comment's first sentence.")
    kind: NeedKind = "need"
    priority: Priority = 3


# ---------------------------------------------------------------- answers


class StakeholderOut(OutputModel):
    contact_id: int
    name: str
    title: str | None
    buying_role: str | None
    email: str | None
    mapped: bool = Field(description="False: no values set yet; the defaults are shown.")
    influence: int
    attitude: str
    trust: int
    reports_to_contact_id: int | None
    notes: str | None
    last_contact_at: Moment | None
    last_contact_on: date | None

    @classmethod
    def of(cls, row: stakeholders.StakeholderRow) -> StakeholderOut:
        return cls(
            contact_id=row.contact_id,
            name=row.name,
            title=row.title,
            buying_role=row.buying_role,
            email=row.email,
            mapped=row.mapped,
            influence=row.influence,
            attitude=row.attitude,
            trust=row.trust,
            reports_to_contact_id=row.reports_to_contact_id,
            notes=row.notes,
            last_contact_at=row.last_contact_at,
            last_contact_on=row.last_contact_on,
        )


class WarningOut(OutputModel):
    code: str = Field(
        description="no_decision_maker, decision_maker_not_met, single_threaded or "
        "high_influence_opponent."
    )
    contact_ids: list[int] = Field(description="The contacts the warning is about.")


class CoverageOut(OutputModel):
    customer: str
    as_of: date
    window_days: int
    contacts: int
    met_recently: int
    warnings: list[WarningOut]

    @classmethod
    def of(cls, shown: stakeholders.StakeholderMap) -> CoverageOut:
        return cls(
            customer=shown.customer.code,
            as_of=shown.as_of,
            window_days=stakeholders.COVERAGE_DAYS,
            contacts=len(shown.rows),
            met_recently=shown.met_recently,
            warnings=[
                WarningOut(code=w.code, contact_ids=list(w.contact_ids)) for w in shown.warnings
            ],
        )


class StakeholderMapOut(CoverageOut):
    items: list[StakeholderOut]

    @classmethod
    def of(cls, shown: stakeholders.StakeholderMap) -> StakeholderMapOut:
        coverage = CoverageOut.of(shown)
        return cls(**coverage.model_dump(), items=[StakeholderOut.of(r) for r in shown.rows])


class NeedOut(OutputModel):
    id: int
    customer: str
    title: str
    description: str | None
    kind: str
    source: str
    source_ref: str | None
    priority: int
    status: str
    offer: str | None
    created_at: Moment
    updated_at: Moment

    @classmethod
    def of(cls, need: Need, code: str) -> NeedOut:
        return cls(
            id=need.id,
            customer=code,
            title=need.title,
            description=need.description,
            kind=need.kind,
            source=need.source,
            source_ref=need.source_ref,
            priority=need.priority,
            status=need.status,
            offer=need.offer,
            created_at=need.created_at,
            updated_at=need.updated_at,
        )


class NeedList(OutputModel):
    customer: str
    total: int
    open: int
    items: list[NeedOut]


class PromotedOut(NeedOut):
    created: bool = Field(description="False: this source had been promoted already.")


def need_list(code: str, rows: list[Need]) -> NeedList:
    return NeedList(
        customer=code,
        total=len(rows),
        open=sum(1 for n in rows if n.status == needs.OPEN),
        items=[NeedOut.of(n, code) for n in rows],
    )
