"""Working the next best actions and keeping their rules: the list an actor may see, done with
an outcome note, dismissed with a reason, reassigned; the open ones of one account (the 360
panel); the rules read and changed by those who manage them, audited before and after."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.kit.i18n import N_
from flywheel.loyalty import next_actions
from flywheel.models.customers import Customer
from flywheel.models.enums import NextActionKind, NextActionStatus
from flywheel.models.loyalty import NextAction, NextActionRule
from flywheel.models.users import User

NOTE_MAX = 4000
ACTION_AUDITED = ("status", "owner_id", "closed_at", "closed_by_id", "outcome_note")
RULE_AUDITED = (
    "name_en",
    "name_zh",
    "action",
    "conditions",
    "priority",
    "cooldown_days",
    "due_days",
    "active",
)
RULE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

ACTION_LABELS: dict[str, str] = {
    NextActionKind.REFERRAL_ASK: N_("Ask for a referral"),
    NextActionKind.RESCUE_DETRACTOR: N_("Rescue a detractor"),
    NextActionKind.RE_ENGAGE: N_("Re-engage"),
    NextActionKind.UPSELL: N_("Propose an upsell"),
    NextActionKind.RENEWAL: N_("Prepare the renewal"),
    NextActionKind.GENTLE_REMINDER: N_("Gentle payment reminder"),
    NextActionKind.CHECK_IN: N_("Check in"),
}
STATUS_LABELS: dict[str, str] = {
    NextActionStatus.OPEN: N_("Open"),
    NextActionStatus.DONE: N_("Done"),
    NextActionStatus.DISMISSED: N_("Dismissed"),
    NextActionStatus.EXPIRED: N_("Expired"),
}


def rule_name(rule: NextActionRule, language: str | None) -> str:
    return rule.name_zh if (language or "zh").startswith("zh") else rule.name_en


# ----------------------------------------------------------------------------- the list


@dataclass(frozen=True, slots=True)
class ActionFilter:
    status: NextActionStatus | None = NextActionStatus.OPEN  # None: every status
    action: NextActionKind | None = None
    owner_id: int | None = None
    unassigned: bool = False
    customer_id: int | None = None


def actions_query(
    actor: Actor, filters: ActionFilter
) -> Select[NextAction, Customer, NextActionRule]:
    """The actions the actor may see (a sales rep: his own accounts'), ranked: open ones by
    score, highest first, then the soonest due; the others latest closed first."""
    stmt = (
        select(NextAction, Customer, NextActionRule)
        .join(Customer, Customer.id == NextAction.customer_id)
        .join(NextActionRule, NextActionRule.id == NextAction.rule_id)
        .where(visible_customers(actor))
    )
    if filters.status is not None:
        stmt = stmt.where(NextAction.status == filters.status.value)
    if filters.action is not None:
        stmt = stmt.where(NextAction.action == filters.action.value)
    if filters.unassigned:
        stmt = stmt.where(NextAction.owner_id.is_(None))
    elif filters.owner_id is not None:
        stmt = stmt.where(NextAction.owner_id == filters.owner_id)
    if filters.customer_id is not None:
        stmt = stmt.where(NextAction.customer_id == filters.customer_id)
    if filters.status == NextActionStatus.OPEN:
        return stmt.order_by(NextAction.score.desc(), NextAction.due_on, NextAction.id)
    return stmt.order_by(
        NextAction.closed_at.desc().nulls_first(), NextAction.score.desc(), NextAction.id
    )


def get_action_for(session: Session, action_id: int, *, actor: Actor) -> NextAction:
    """An action the actor may see; NotFound, exactly like a missing one, otherwise."""
    found = session.scalar(
        select(NextAction)
        .join(Customer, Customer.id == NextAction.customer_id)
        .where(NextAction.id == action_id, visible_customers(actor))
    )
    if found is None:
        raise NotFound(f"next best action {action_id} not found", action_id=action_id)
    return found


def usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {int(i): str(name) for i, name in rows}


def display_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """The names pages show for these users: the display name, else the username."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(wanted))
    )
    return {int(i): str(shown or name) for i, shown, name in rows}


def assignable_users(session: Session) -> list[User]:
    """Who may own a next best action: active users of the roles that work them."""
    roles = [r.value for r in permissions.GRANTS[Permission.WORK_NEXT_ACTIONS]]
    return list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role.in_(roles))
            .order_by(User.username)
        )
    )


# ----------------------------------------------------------------------------- working one


def _note(text: str | None, name: str, missing: str) -> str:
    note = (text or "").strip()
    if not note:
        raise ValidationFailed(f"{name}: {missing}", field=name)
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"{name}: at most {NOTE_MAX} characters", field=name)
    return note


def _close(
    session: Session,
    action: NextAction,
    actor: Actor,
    *,
    status: NextActionStatus,
    note: str,
    at: datetime,
) -> NextAction:
    if action.status != NextActionStatus.OPEN:
        raise Conflict(
            f"next best action {action.id} is already {action.status}", action_id=action.id
        )
    before = audit.snapshot(action, ACTION_AUDITED)
    action.status = status.value
    action.outcome_note = note
    action.closed_at = at
    action.closed_by_id = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        f"next_action.{status.value}",
        subject_type="next_action",
        subject_id=action.id,
        customer_id=action.customer_id,
        before=before,
        after=audit.snapshot(action, ACTION_AUDITED),
    )
    return action


def mark_done(
    session: Session, action_id: int, actor: Actor, *, note: str, at: datetime
) -> NextAction:
    """The owner did it: the outcome note closes the action."""
    permissions.check(actor, Permission.WORK_NEXT_ACTIONS)
    action = get_action_for(session, action_id, actor=actor)
    text = _note(note, "note", "say what came of it")
    return _close(session, action, actor, status=NextActionStatus.DONE, note=text, at=at)


def dismiss(
    session: Session, action_id: int, actor: Actor, *, reason: str, at: datetime
) -> NextAction:
    """Not worth doing: the reason closes the action (its cooldown still runs, so the rule
    does not ask again at once)."""
    permissions.check(actor, Permission.WORK_NEXT_ACTIONS)
    action = get_action_for(session, action_id, actor=actor)
    text = _note(reason, "reason", "say why it is not worth doing")
    return _close(session, action, actor, status=NextActionStatus.DISMISSED, note=text, at=at)


def reassign(session: Session, action_id: int, actor: Actor, owner_id: int | None) -> NextAction:
    """Give an open action to another user who works next best actions (None: nobody)."""
    permissions.check(actor, Permission.WORK_NEXT_ACTIONS)
    action = get_action_for(session, action_id, actor=actor)
    if owner_id is not None and owner_id not in {u.id for u in assignable_users(session)}:
        raise ValidationFailed(
            f"owner: user {owner_id} is not an active user who works next best actions",
            field="owner",
        )
    if action.status != NextActionStatus.OPEN:
        raise Conflict(
            f"next best action {action.id} is already {action.status}", action_id=action.id
        )
    audit.apply_update(
        session,
        actor,
        action,
        {"owner_id": owner_id},
        action="next_action.reassigned",
        subject_type="next_action",
        customer_id=action.customer_id,
        fields=("owner_id",),
    )
    return action


def open_actions_for(
    session: Session, customer_id: int, *, language: str | None = None
) -> list[dict[str, Any]]:
    """The account's open next best actions, best ranked first, for its 360 panel (the
    caller has already checked the account is in the actor's scope). With ``language`` each
    also carries its title and its reason chips in that language."""
    rows = session.execute(
        select(NextAction, NextActionRule, Customer.currency)
        .join(NextActionRule, NextActionRule.id == NextAction.rule_id)
        .join(Customer, Customer.id == NextAction.customer_id)
        .where(
            NextAction.customer_id == customer_id,
            NextAction.status == NextActionStatus.OPEN.value,
        )
        .order_by(NextAction.score.desc(), NextAction.id)
    ).all()
    names = usernames(session, {a.owner_id for a, _r, _c in rows})
    out: list[dict[str, Any]] = []
    for action, rule, currency in rows:
        item: dict[str, Any] = {
            "id": action.id,
            "rule": rule.code,
            "rule_name_en": rule.name_en,
            "rule_name_zh": rule.name_zh,
            "action": action.action,
            "owner": names.get(action.owner_id) if action.owner_id else None,
            "score": action.score,
            "reason": [list(r) for r in action.reason or []],
            "created_on": action.created_on,
            "due_on": action.due_on,
        }
        if language is not None:
            item["title"] = rule_name(rule, language)
            item["chips"] = next_actions.chips(action.reason or [], language, currency)
        out.append(item)
    return out


# ----------------------------------------------------------------------------- rules


def list_rules(session: Session) -> list[NextActionRule]:
    """Active rules first, then by priority (highest first) and code."""
    return list(
        session.scalars(
            select(NextActionRule).order_by(
                NextActionRule.active.desc(),
                NextActionRule.priority.desc(),
                NextActionRule.code,
            )
        )
    )


def get_rule(session: Session, code: str) -> NextActionRule:
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == code))
    if rule is None:
        raise NotFound(f"next-best-action rule {code!r} not found", code=code)
    return rule


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(f"{name}: a whole number from {low} to {high}", field=name)
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{name}: a whole number from {low} to {high}", field=name) from exc
    if isinstance(value, float) and not value.is_integer():
        raise ValidationFailed(f"{name}: a whole number from {low} to {high}", field=name)
    if not low <= number <= high:
        raise ValidationFailed(f"{name}: a whole number from {low} to {high}", field=name)
    return number


def _checked_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (any of the rule's fields) checked and normalised; ValidationFailed names the
    first bad field."""
    out: dict[str, Any] = {}
    for name in ("name_en", "name_zh"):
        if name in data:
            text = str(data[name] or "").strip()
            if not text or len(text) > 120:
                raise ValidationFailed(f"{name}: 1 to 120 characters", field=name)
            out[name] = text
    if "action" in data:
        kinds = [k.value for k in NextActionKind]
        if data["action"] not in kinds:
            raise ValidationFailed(
                f"action: {data['action']!r} is not one of {', '.join(kinds)}", field="action"
            )
        out["action"] = str(data["action"])
    if "conditions" in data:
        out["conditions"] = next_actions.check_conditions(data["conditions"])
    if "priority" in data:
        out["priority"] = _whole(data["priority"], "priority", 1, 100)
    if "cooldown_days" in data:
        # At least a day: a rerun of the same day must never open the action again.
        out["cooldown_days"] = _whole(data["cooldown_days"], "cooldown_days", 1, 3650)
    if "due_days" in data:
        out["due_days"] = _whole(data["due_days"], "due_days", 0, 365)
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise ValidationFailed("active: true or false", field="active")
        out["active"] = data["active"]
    return out


REQUIRED = ("name_en", "name_zh", "action", "conditions")


def save_rule(
    session: Session, actor: Actor, code: str, data: Mapping[str, Any]
) -> tuple[NextActionRule, bool]:
    """Change the rule ``code`` (only the keys ``data`` has), or add it when there is none
    (then names, action and conditions are needed). Returns the rule and whether it is new.
    Audited with the changed fields before and after; bad input changes nothing."""
    permissions.check(actor, Permission.MANAGE_LOYALTY_RULES)
    values = _checked_rule(data)
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == code))
    if rule is None:
        if not RULE_CODE.match(code):
            raise ValidationFailed(
                "code: 2 to 40 lowercase letters, digits and _, starting with a letter",
                field="code",
            )
        missing = [name for name in REQUIRED if name not in values]
        if missing:
            raise ValidationFailed(
                f"{missing[0]}: needed to add the rule {code!r}", field=missing[0]
            )
        rule = NextActionRule(code=code, updated_by_id=actor.user_id, **values)
        session.add(rule)
        session.flush()
        audit.record(
            session,
            actor,
            "next_action_rule.created",
            subject_type="next_action_rule",
            subject_id=rule.id,
            customer_id=None,
            after={"code": code, **audit.snapshot(rule, RULE_AUDITED)},
        )
        return rule, True
    changed = audit.apply_update(
        session,
        actor,
        rule,
        values,
        action="next_action_rule.updated",
        subject_type="next_action_rule",
        customer_id=None,
        fields=RULE_AUDITED,
    )
    if changed:
        rule.updated_by_id = actor.user_id
        session.flush()
    return rule, False


def rule_out(rule: NextActionRule) -> dict[str, Any]:
    """A rule as the API and the CLI show it."""
    return {
        "code": rule.code,
        "name_en": rule.name_en,
        "name_zh": rule.name_zh,
        "action": rule.action,
        "conditions": rule.conditions,
        "priority": rule.priority,
        "cooldown_days": rule.cooldown_days,
        "due_days": rule.due_days,
        "active": rule.active,
        "updated_at": rule.updated_at,
    }


def is_overdue(action: NextAction, today: date) -> bool:
    return action.status == NextActionStatus.OPEN and action.due_on < today
