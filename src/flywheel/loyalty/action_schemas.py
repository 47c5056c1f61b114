"""The shapes of next best actions and their rules for the API and the CLI: an action with its
account, rule, owner and reason; a page of them; a rule; the facts a rule may test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from flywheel.loyalty import next_actions
from flywheel.loyalty.action_service import usernames
from flywheel.models.customers import Customer
from flywheel.models.enums import NextActionKind, NextActionStatus
from flywheel.models.loyalty import NextAction, NextActionRule


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ActionOut(BaseModel):
    id: int
    customer: str = Field(description="The account's code.")
    customer_name: str
    rule: str = Field(description="The code of the rule that opened it.")
    rule_name: str = Field(description="The rule's name in the caller's language.")
    action: str = Field(description="referral_ask, rescue_detractor, re_engage, upsell, …")
    owner: str | None = Field(description="The owner's username.")
    score: float = Field(description="Rank: the rule's priority × the value at stake.")
    reason: list[list[Any]] = Field(
        description="[[fact, the account's value], …]: what held when it was opened."
    )
    reason_text: list[str] = Field(description="The reason in the caller's language.")
    status: str = Field(description="open, done, dismissed or expired.")
    created_on: date
    due_on: date
    overdue: bool = Field(description="Open and past its due day.")
    closed_at: datetime | None
    closed_by: str | None
    outcome_note: str | None = Field(description="The outcome (done) or the reason (dismissed).")

    @classmethod
    def of(
        cls,
        action: NextAction,
        customer: Customer,
        rule: NextActionRule,
        users: dict[int, str],
        *,
        today: date,
        language: str,
    ) -> ActionOut:
        zh = language.startswith("zh")
        return cls(
            id=action.id,
            customer=customer.code,
            customer_name=customer.name,
            rule=rule.code,
            rule_name=rule.name_zh if zh else rule.name_en,
            action=action.action,
            owner=users.get(action.owner_id) if action.owner_id else None,
            score=action.score,
            reason=[list(item) for item in action.reason or []],
            reason_text=next_actions.chips(action.reason or [], language, customer.currency),
            status=action.status,
            created_on=action.created_on,
            due_on=action.due_on,
            overdue=action.status == NextActionStatus.OPEN and action.due_on < today,
            closed_at=_utc(action.closed_at),
            closed_by=users.get(action.closed_by_id) if action.closed_by_id else None,
            outcome_note=action.outcome_note,
        )


def action_outs(
    session: Session,
    rows: Sequence[tuple[NextAction, Customer, NextActionRule]],
    *,
    today: date,
    language: str,
) -> list[ActionOut]:
    users = usernames(session, {x for a, _c, _r in rows for x in (a.owner_id, a.closed_by_id)})
    return [ActionOut.of(a, c, r, users, today=today, language=language) for a, c, r in rows]


class ActionPage(BaseModel):
    items: list[ActionOut]
    total: int
    page: int
    page_size: int


class DoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000, description="What came of it.")


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000, description="Why it is not worth doing.")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(max_length=64, description="A username; null: nobody.")


Conditions = list[dict[str, Any]]
_CONDITIONS_HELP = (
    'Every entry must hold: {"field", "op", "value"}, or {"any": [entry, …]} when one of a '
    "few suffices. Fields and their operators: GET /api/v1/loyalty/rules (fields)."
)


class RuleOut(BaseModel):
    code: str
    name_en: str
    name_zh: str
    action: str
    conditions: Conditions = Field(description=_CONDITIONS_HELP)
    priority: int
    cooldown_days: int
    due_days: int
    active: bool
    updated_at: datetime
    updated_by: str | None

    @classmethod
    def of(cls, rule: NextActionRule, users: dict[int, str]) -> RuleOut:
        return cls(
            code=rule.code,
            name_en=rule.name_en,
            name_zh=rule.name_zh,
            action=rule.action,
            conditions=list(rule.conditions or []),
            priority=rule.priority,
            cooldown_days=rule.cooldown_days,
            due_days=rule.due_days,
            active=rule.active,
            updated_at=_utc(rule.updated_at) or rule.updated_at,
            updated_by=users.get(rule.updated_by_id) if rule.updated_by_id else None,
        )


class FieldOut(BaseModel):
    name: str
    type: str = Field(description="number, choice or flag.")
    unit: str = Field(description='"money", "days", "ratio" (0.2 = 20 %), "percent" or "".')
    label_en: str
    label_zh: str
    operators: list[str]
    choices: list[str] = Field(description="The values of a choice field.")
    ordered: bool = Field(description="Choices compare by their place (lt: earlier).")


class RuleList(BaseModel):
    items: list[RuleOut]
    fields: list[FieldOut]


class RuleIn(BaseModel):
    """A whole rule (PUT): replaces the rule of that code, or adds it."""

    model_config = ConfigDict(extra="forbid")

    name_en: str = Field(min_length=1, max_length=120)
    name_zh: str = Field(min_length=1, max_length=120)
    action: NextActionKind
    conditions: Conditions = Field(
        max_length=next_actions.MAX_CONDITIONS, description=_CONDITIONS_HELP
    )
    priority: int = Field(default=50, ge=1, le=100)
    cooldown_days: int = Field(default=90, ge=1, le=3650)
    due_days: int = Field(default=7, ge=0, le=365)
    active: bool = True


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_en: str | None = Field(default=None, min_length=1, max_length=120)
    name_zh: str | None = Field(default=None, min_length=1, max_length=120)
    action: NextActionKind | None = None
    conditions: Conditions | None = Field(
        default=None, max_length=next_actions.MAX_CONDITIONS, description=_CONDITIONS_HELP
    )
    priority: int | None = Field(default=None, ge=1, le=100)
    cooldown_days: int | None = Field(default=None, ge=1, le=3650)
    due_days: int | None = Field(default=None, ge=0, le=365)
    active: bool | None = None


def field_outs() -> list[FieldOut]:
    return [FieldOut(**spec.describe()) for spec in next_actions.FIELDS.values()]
