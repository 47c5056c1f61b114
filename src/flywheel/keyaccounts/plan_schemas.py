"""What crosses the API about account plans: the plan and objective inputs, and the answers (a
plan with its figures, health parts and objectives; a page of the key-account list)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.keyaccounts import plan_figures
from flywheel.kit.shapes import ChangesModel, InputModel, MoneyText, NonNegativeAmount, OutputModel
from flywheel.models.keyaccounts import PlanObjective
from flywheel.models.users import User

Title = Annotated[str, Field(min_length=1, max_length=200)]
Short = Annotated[str, Field(max_length=200)]
Note = Annotated[str, Field(max_length=2000)]
Username = Annotated[str, Field(min_length=1, max_length=64, description="A user's username.")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO code, e.g. CNY.")]
Value = Annotated[float, Field(ge=-1e15, le=1e15)]
OneToFive = Annotated[int, Field(ge=1, le=5)]


class ObjectiveStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    DONE = "done"
    DROPPED = "dropped"


class WhitespaceItem(InputModel):
    item: Title = Field(description="A product or site not yet sold to the account.")
    note: Note | None = None
    potential: NonNegativeAmount | None = Field(default=None, description="What it could bring.")


class RiskItem(InputModel):
    risk: Title
    likelihood: OneToFive = 3
    impact: OneToFive = 3
    mitigation: Note | None = None


class PlanIn(ChangesModel):
    """Creates the plan or changes the fields sent. ``reviewed_on`` records a review: the next
    one is a cadence later."""

    required: ClassVar[frozenset[str]] = frozenset(
        {"year", "currency", "review_every_days", "whitespace", "risks"}
    )

    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    revenue_target: NonNegativeAmount | None = None
    currency: Currency | None = None
    estimated_wallet: NonNegativeAmount | None = Field(
        default=None, description="The account's total spend in our categories."
    )
    whitespace: Annotated[list[WhitespaceItem], Field(max_length=50)] | None = None
    risks: Annotated[list[RiskItem], Field(max_length=50)] | None = None
    review_every_days: Annotated[int, Field(ge=7, le=366)] | None = None
    next_review_on: date | None = None
    reviewed_on: date | None = None
    owner: Username | None = None

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.changes().items():
            if name == "reviewed_on":
                continue
            if name in ("whitespace", "risks"):
                out[name] = [item.model_dump() for item in value or []]
            else:
                out[name] = value
        return out


class ObjectiveNew(InputModel):
    title: Title
    measure: Short | None = None
    target_value: Value | None = None
    current_value: Value | None = None
    owner: Username | None = None
    due_on: date | None = None
    status: ObjectiveStatus = ObjectiveStatus.ON_TRACK

    def values(self) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in self.model_dump().items()}


class ObjectivePatch(ChangesModel):
    required: ClassVar[frozenset[str]] = frozenset({"title", "status"})

    title: Title | None = None
    measure: Short | None = None
    target_value: Value | None = None
    current_value: Value | None = None
    owner: Username | None = None
    due_on: date | None = None
    status: ObjectiveStatus | None = None

    def values(self) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in self.changes().items()}


# ---------------------------------------------------------------- answers


class ObjectiveOut(OutputModel):
    id: int
    title: str
    measure: str | None
    target_value: float | None
    current_value: float | None
    owner: str | None
    due_on: date | None
    status: str
    overdue: bool


class HealthPartOut(OutputModel):
    name: str = Field(description="objectives, coverage, executive_contact or review.")
    weight: int
    share: float = Field(description="0 … 1 of the weight earned.")
    points: float
    detail: dict[str, Any]


class HealthOut(OutputModel):
    score: int = Field(description="0 … 100.")
    band: str = Field(description="green (≥ 70), yellow (≥ 40) or red.")
    parts: list[HealthPartOut]


class WhitespaceOut(OutputModel):
    item: str
    note: str | None = None
    potential: str | None = None


class RiskOut(OutputModel):
    risk: str
    likelihood: int
    impact: int
    mitigation: str | None = None


class AccountOut(OutputModel):
    """A key account as the list gives it."""

    code: str
    name: str
    tier: str
    owner: str | None
    has_plan: bool
    currency: str
    revenue_12m: MoneyText
    revenue_target: MoneyText | None
    revenue_year: MoneyText | None = Field(description="Orders in the plan's year so far.")
    target_progress: float | None = Field(description="revenue_year / revenue_target.")
    estimated_wallet: MoneyText | None
    share_of_wallet: float | None = Field(description="revenue_12m / estimated_wallet.")
    health: int | None
    health_band: str | None
    flags: list[str]
    next_review_on: date | None


class AccountPage(OutputModel):
    items: list[AccountOut]
    total: int
    page: int
    page_size: int


class PlanOut(AccountOut):
    year: int
    review_every_days: int
    last_reviewed_on: date | None
    whitespace: list[WhitespaceOut]
    risks: list[RiskOut]
    health_parts: HealthOut
    objectives: list[ObjectiveOut]


def account_out(row: plan_figures.KeyAccountRow) -> AccountOut:
    return AccountOut(**_account_fields(row))


def _account_fields(row: plan_figures.KeyAccountRow) -> dict[str, Any]:
    plan = row.plan
    return {
        "code": row.customer.code,
        "name": row.customer.name,
        "tier": row.customer.tier,
        "owner": row.owner,
        "has_plan": plan is not None,
        "currency": row.currency,
        "revenue_12m": row.revenue_12m,
        "revenue_target": plan.revenue_target if plan else None,
        "revenue_year": row.revenue_year,
        "target_progress": _rounded(row.target_progress),
        "estimated_wallet": plan.estimated_wallet if plan else None,
        "share_of_wallet": _rounded(row.share_of_wallet),
        "health": row.health.score if row.health else None,
        "health_band": row.health.band if row.health else None,
        "flags": list(row.flags),
        "next_review_on": plan.next_review_on if plan else None,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in detail.items()}


def objective_outs(
    session: Session, objectives: list[PlanObjective], *, as_of: date
) -> list[ObjectiveOut]:
    ids = {o.owner_id for o in objectives if o.owner_id}
    names = (
        dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    return [
        ObjectiveOut(
            id=o.id,
            title=o.title,
            measure=o.measure,
            target_value=o.target_value,
            current_value=o.current_value,
            owner=names.get(o.owner_id) if o.owner_id else None,
            due_on=o.due_on,
            status=o.status,
            overdue=plan_figures.objective_overdue(o, as_of),
        )
        for o in objectives
    ]


def plan_out(session: Session, row: plan_figures.KeyAccountRow, *, as_of: date) -> PlanOut:
    plan = row.plan
    assert plan is not None
    assert row.health is not None
    health = row.health
    return PlanOut(
        **_account_fields(row),
        year=plan.year,
        review_every_days=plan.review_every_days,
        last_reviewed_on=plan.last_reviewed_on,
        whitespace=[WhitespaceOut(**w) for w in plan.whitespace or []],
        risks=[RiskOut(**r) for r in plan.risks or []],
        health_parts=HealthOut(
            score=health.score,
            band=health.band,
            parts=[
                HealthPartOut(
                    name=p.name,
                    weight=p.weight,
                    share=round(p.share, 4),
                    points=p.points,
                    detail=_jsonable(p.detail),
                )
                for p in health.parts
            ],
        ),
        objectives=objective_outs(
            session, plan_figures.objectives_of(session, plan.id), as_of=as_of
        ),
    )
