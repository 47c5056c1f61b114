"""Collection strategies: for each credit grade (optionally each grade and tier) the ordered
steps the daily cycle takes, at a day offset from the due date. Sensible defaults ship for A–E;
editing a strategy replaces its steps and is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import NotFound, ValidationFailed
from flywheel.models.collections import CollectionStep, CollectionStrategy
from flywheel.models.enums import CollectionChannel, Tier

GRADES = ("A", "B", "C", "D", "E")
# A customer the daily cycle has not scored yet is dunned like an average one.
UNSCORED_GRADE = "C"
TEMPLATE_KEYS = (
    "friendly_reminder",
    "due_reminder",
    "overdue_notice",
    "final_notice",
    "formal_letter",
    "thank_you",
    "broken_promise",
    "statement",
    "team_alert",
)
# Channels whose step sends or prints a message, and so needs a template.
TEMPLATED = frozenset(
    {CollectionChannel.EMAIL, CollectionChannel.WEBHOOK, CollectionChannel.LETTER}
)
ESCALATION_TARGETS = ("owner", "manager")
OFFSET_RANGE = (-90, 365)

E, W, CALL, LETTER, ESC, HOLD, LEGAL = (
    CollectionChannel.EMAIL,
    CollectionChannel.WEBHOOK,
    CollectionChannel.CALL,
    CollectionChannel.LETTER,
    CollectionChannel.ESCALATION,
    CollectionChannel.CREDIT_HOLD,
    CollectionChannel.LEGAL,
)


class StepIn(BaseModel):
    """One step as the UI, the API and the defaults give it."""

    model_config = ConfigDict(extra="forbid")

    day_offset: int = Field(ge=OFFSET_RANGE[0], le=OFFSET_RANGE[1])
    channel: CollectionChannel
    template: str | None = None
    automatic: bool = True
    target: str | None = Field(default=None, max_length=500)

    @field_validator("template")
    @classmethod
    def _known_template(cls, value: str | None) -> str | None:
        if value is not None and value not in TEMPLATE_KEYS:
            raise ValueError(f"unknown template {value!r}; one of {', '.join(TEMPLATE_KEYS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StepIn:
        if self.channel in TEMPLATED and self.template is None:
            raise ValueError(f"a {self.channel.value} step needs a template")
        if self.channel not in TEMPLATED:
            self.template = None
        if self.channel is CollectionChannel.ESCALATION:
            self.target = self.target or "owner"
            if self.target not in ESCALATION_TARGETS:
                raise ValueError("an escalation goes to the account 'owner' or the 'manager'")
        elif self.channel is CollectionChannel.WEBHOOK:
            if self.target and not self.target.startswith(("http://", "https://")):
                raise ValueError("a webhook target is an http:// or https:// URL")
        else:
            self.target = None
        return self


def _step(
    offset: int,
    channel: CollectionChannel,
    template: str | None = None,
    *,
    automatic: bool = True,
    target: str | None = None,
) -> StepIn:
    return StepIn(
        day_offset=offset, channel=channel, template=template, automatic=automatic, target=target
    )


# The better the grade, the later and softer the steps: an A customer pays, a reminder is a
# courtesy; an E customer is reminded early and put on hold the day after the due date.
DEFAULT_STEPS: dict[str, tuple[StepIn, ...]] = {
    "A": (
        _step(-3, E, "friendly_reminder"),
        _step(7, E, "due_reminder"),
        _step(15, CALL),
        _step(30, ESC, target="owner"),
        _step(60, LETTER, "formal_letter", automatic=False),
    ),
    "B": (
        _step(-3, E, "friendly_reminder"),
        _step(3, E, "due_reminder"),
        _step(10, CALL),
        _step(21, E, "overdue_notice"),
        _step(30, ESC, target="owner"),
        _step(60, LETTER, "formal_letter"),
        _step(90, LEGAL, automatic=False),
    ),
    "C": (
        _step(-5, E, "friendly_reminder"),
        _step(1, E, "due_reminder"),
        _step(7, CALL),
        _step(14, E, "overdue_notice"),
        _step(21, W, "team_alert"),
        _step(30, ESC, target="manager"),
        _step(45, LETTER, "formal_letter"),
        _step(60, E, "final_notice"),
        _step(90, LEGAL, automatic=False),
    ),
    "D": (
        _step(-7, E, "friendly_reminder"),
        _step(0, E, "due_reminder"),
        _step(3, CALL),
        _step(7, E, "overdue_notice"),
        _step(7, W, "team_alert"),
        _step(15, HOLD),
        _step(21, LETTER, "formal_letter"),
        _step(30, ESC, target="manager"),
        _step(45, E, "final_notice"),
        _step(60, LEGAL),
    ),
    "E": (
        _step(-7, E, "friendly_reminder"),
        _step(0, E, "due_reminder"),
        _step(1, HOLD),
        _step(3, CALL),
        _step(7, E, "overdue_notice"),
        _step(7, W, "team_alert"),
        _step(15, LETTER, "formal_letter"),
        _step(30, E, "final_notice"),
        _step(45, LEGAL),
    ),
}

DEFAULT_NAMES = {
    "A": "Grade A — courtesy reminders",
    "B": "Grade B — reminders and a call",
    "C": "Grade C — standard dunning",
    "D": "Grade D — close follow-up, hold at +15",
    "E": "Grade E — early reminders, hold at +1",
}


def ensure_defaults(session: Session) -> int:
    """Write the shipped strategy of every grade that has none yet; returns how many."""
    have = set(
        session.scalars(select(CollectionStrategy.grade).where(CollectionStrategy.tier.is_(None)))
    )
    made = 0
    for grade in GRADES:
        if grade in have:
            continue
        strategy = CollectionStrategy(grade=grade, tier=None, name=DEFAULT_NAMES[grade])
        strategy.steps = [_row(step) for step in DEFAULT_STEPS[grade]]
        session.add(strategy)
        made += 1
    if made:
        session.flush()
    return made


def _row(step: StepIn) -> CollectionStep:
    return CollectionStep(
        day_offset=step.day_offset,
        channel=step.channel.value,
        template=step.template,
        automatic=step.automatic,
        target=step.target,
    )


def step_dict(step: CollectionStep) -> dict[str, object]:
    return {
        "day_offset": step.day_offset,
        "channel": step.channel,
        "template": step.template,
        "automatic": step.automatic,
        "target": step.target,
    }


@dataclass(frozen=True, slots=True)
class StrategyBook:
    """Every active strategy, indexed for the daily cycle."""

    by_grade: dict[str, CollectionStrategy]
    by_grade_tier: dict[tuple[str, str], CollectionStrategy]

    def for_customer(self, grade: str | None, tier: str | None) -> CollectionStrategy | None:
        grade = grade or UNSCORED_GRADE
        if tier is not None and (grade, tier) in self.by_grade_tier:
            return self.by_grade_tier[(grade, tier)]
        return self.by_grade.get(grade)


def load_book(session: Session) -> StrategyBook:
    strategies = session.scalars(
        select(CollectionStrategy)
        .where(CollectionStrategy.active.is_(True))
        .options(selectinload(CollectionStrategy.steps))
    ).all()
    return StrategyBook(
        by_grade={s.grade: s for s in strategies if s.tier is None},
        by_grade_tier={(s.grade, s.tier): s for s in strategies if s.tier is not None},
    )


def list_strategies(session: Session) -> list[CollectionStrategy]:
    ensure_defaults(session)
    return list(
        session.scalars(
            select(CollectionStrategy)
            .options(selectinload(CollectionStrategy.steps))
            .order_by(CollectionStrategy.grade, CollectionStrategy.tier.nulls_first())
        ).all()
    )


def get_strategy(session: Session, strategy_id: int) -> CollectionStrategy:
    strategy = session.get(CollectionStrategy, strategy_id)
    if strategy is None:
        raise NotFound(f"collection strategy {strategy_id} not found", strategy_id=strategy_id)
    return strategy


def _check_steps(steps: Sequence[StepIn]) -> None:
    seen: set[tuple[int, str]] = set()
    for number, step in enumerate(steps, start=1):
        key = (step.day_offset, step.channel.value)
        if key in seen:
            raise ValidationFailed(
                f"step {number}: a second {step.channel.value} step on day {step.day_offset}",
                field=f"steps[{number - 1}]",
            )
        seen.add(key)


def save_strategy(
    session: Session,
    *,
    actor: Actor,
    grade: str,
    tier: str | None,
    name: str,
    steps: Sequence[StepIn],
    active: bool = True,
) -> CollectionStrategy:
    """Create or replace the strategy of ``grade`` (and ``tier``): its steps become ``steps``.
    A step kept at the same day and channel keeps its identity, so it does not fire again for
    items it has already fired for."""
    permissions.check(actor, Permission.MANAGE_COLLECTION_STRATEGIES)
    grade = grade.strip().upper()
    if grade not in GRADES:
        raise ValidationFailed(f"grade: {grade!r} is not one of {', '.join(GRADES)}", field="grade")
    if tier is not None and tier not in {t.value for t in Tier}:
        raise ValidationFailed(f"tier: {tier!r} is not a tier", field="tier")
    name = name.strip()
    if not name:
        raise ValidationFailed("name: a strategy needs a name", field="name")
    _check_steps(steps)
    strategy = session.scalar(
        select(CollectionStrategy)
        .where(
            CollectionStrategy.grade == grade,
            CollectionStrategy.tier.is_(None) if tier is None else CollectionStrategy.tier == tier,
        )
        .options(selectinload(CollectionStrategy.steps))
    )
    before = None
    if strategy is None:
        strategy = CollectionStrategy(grade=grade, tier=tier, name=name, active=active)
        session.add(strategy)
    else:
        before = {
            "name": strategy.name,
            "active": strategy.active,
            "steps": [step_dict(s) for s in strategy.steps],
        }
    strategy.name = name
    strategy.active = active
    existing = {(s.day_offset, s.channel): s for s in strategy.steps}
    kept: list[CollectionStep] = []
    for step in steps:
        row = existing.pop((step.day_offset, step.channel.value), None)
        if row is None:
            row = _row(step)
        else:
            row.template = step.template
            row.automatic = step.automatic
            row.target = step.target
        kept.append(row)
    strategy.steps = sorted(kept, key=lambda s: (s.day_offset, s.channel))
    session.flush()
    audit.record(
        session,
        actor,
        "collections.strategy_saved",
        subject_type="collection_strategy",
        subject_id=strategy.id,
        customer_id=None,
        before=before,
        after={
            "grade": grade,
            "tier": tier,
            "name": name,
            "active": active,
            "steps": [step_dict(s) for s in strategy.steps],
        },
    )
    return strategy


def delete_strategy(session: Session, *, actor: Actor, strategy_id: int) -> None:
    """Remove a tier-specific strategy (its grade's general one applies again). A grade's
    general strategy cannot be removed, only edited or made inactive."""
    permissions.check(actor, Permission.MANAGE_COLLECTION_STRATEGIES)
    strategy = get_strategy(session, strategy_id)
    if strategy.tier is None:
        raise ValidationFailed(
            f"the general strategy of grade {strategy.grade} cannot be removed; edit it or make "
            "it inactive"
        )
    audit.record(
        session,
        actor,
        "collections.strategy_removed",
        subject_type="collection_strategy",
        subject_id=strategy.id,
        customer_id=None,
        before={
            "grade": strategy.grade,
            "tier": strategy.tier,
            "steps": [step_dict(s) for s in strategy.steps],
        },
    )
    session.delete(strategy)
    session.flush()
