"""Account plans: one plan per key account (revenue target, estimated wallet, whitespace, risks,
review cadence) and its objectives, created and changed with an audit trail; the plan reviews
that fall due and the plan's summary for the 360. The figures and health: ``plan_figures``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.customers import service as customers
from flywheel.errors import NotFound, ValidationFailed
from flywheel.keyaccounts.plan_figures import account_row, objective_overdue, objectives_of
from flywheel.models.customers import Customer
from flywheel.models.keyaccounts import AccountPlan, PlanObjective
from flywheel.models.users import User

SYSTEM = Actor.system("account-plans")
OBJECTIVE_STATUSES = ("on_track", "at_risk", "done", "dropped")
PLAN_FIELDS = (
    "owner_id",
    "year",
    "revenue_target",
    "currency",
    "estimated_wallet",
    "whitespace",
    "risks",
    "review_every_days",
    "last_reviewed_on",
    "next_review_on",
)
OBJECTIVE_FIELDS = (
    "title",
    "measure",
    "target_value",
    "current_value",
    "owner_id",
    "due_on",
    "status",
)
MAX_MONEY = Decimal("1e15")
CENT = Decimal("0.01")
TEXT_MAX = 200
NOTE_MAX = 2000
MAX_ITEMS = 50


# ----------------------------------------------------------------------------- small parsers


def _text(value: Any, name: str, *, limit: int = TEXT_MAX, required: bool = False) -> str | None:
    text = ("" if value is None else str(value)).strip()
    if len(text) > limit:
        raise ValidationFailed(f"{name}: at most {limit} characters", field=name)
    if required and not text:
        raise ValidationFailed(f"{name}: required", field=name)
    return text or None


def _money(value: Any, name: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed(f"{name}: not an amount: {value!r}", field=name) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_MONEY:
        raise ValidationFailed(f"{name}: an amount from 0 below 10^15", field=name)
    return amount.quantize(CENT)


def _number(value: Any, name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", ""))
    except ValueError:
        raise ValidationFailed(f"{name}: not a number: {value!r}", field=name) from None
    if number != number or abs(number) >= 1e15:
        raise ValidationFailed(f"{name}: not a number: {value!r}", field=name)
    return number


def _score(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name}: a whole number from 1 to 5", field=name) from None
    if not 1 <= number <= 5:
        raise ValidationFailed(f"{name}: a whole number from 1 to 5", field=name)
    return number


def _day(value: Any, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{name}: not a date (YYYY-MM-DD)", field=name) from None


def _user_id(session: Session, username: Any, name: str) -> int | None:
    text = _text(username, name, limit=64)
    if text is None:
        return None
    found = session.scalar(select(User.id).where(User.username == text))
    if found is None:
        raise ValidationFailed(f"{name}: no user {text!r}", field=name)
    return int(found)


def clean_whitespace(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Whitespace items: ``item`` (a product or site not yet sold) required, ``note`` and the
    ``potential`` amount optional."""
    cleaned = []
    for n, raw in enumerate(items):
        label = f"whitespace[{n}]"
        potential = _money(raw.get("potential"), f"{label}.potential")
        cleaned.append(
            {
                "item": _text(raw.get("item"), f"{label}.item", required=True),
                "note": _text(raw.get("note"), f"{label}.note", limit=NOTE_MAX),
                "potential": None if potential is None else f"{potential:.2f}",
            }
        )
    if len(cleaned) > MAX_ITEMS:
        raise ValidationFailed(f"whitespace: at most {MAX_ITEMS} items", field="whitespace")
    return cleaned


def clean_risks(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Risks: ``risk`` required, ``likelihood`` and ``impact`` 1–5 (3 when left out), and the
    ``mitigation``."""
    cleaned = []
    for n, raw in enumerate(items):
        label = f"risks[{n}]"
        cleaned.append(
            {
                "risk": _text(raw.get("risk"), f"{label}.risk", required=True),
                "likelihood": _score(raw.get("likelihood") or 3, f"{label}.likelihood"),
                "impact": _score(raw.get("impact") or 3, f"{label}.impact"),
                "mitigation": _text(raw.get("mitigation"), f"{label}.mitigation", limit=NOTE_MAX),
            }
        )
    if len(cleaned) > MAX_ITEMS:
        raise ValidationFailed(f"risks: at most {MAX_ITEMS} items", field="risks")
    return cleaned


# ----------------------------------------------------------------------------- reading


def account_for(session: Session, code: str, *, actor: Actor) -> Customer:
    try:
        return customers.get_customer_by_code(session, code, actor=actor)
    except NotFound:
        raise NotFound(f"customer {code} not found", code=code) from None


# Built once with bound parameters: every account's 360 asks.
_PLAN_OF = select(AccountPlan).where(AccountPlan.customer_id == bindparam("customer_id"))


def plan_of(session: Session, customer_id: int) -> AccountPlan | None:
    return session.scalar(_PLAN_OF, {"customer_id": customer_id})


def get_objective_for(session: Session, objective_id: int, *, actor: Actor) -> PlanObjective:
    """An objective of an account the actor may see; NotFound, exactly like a missing one."""
    objective = session.scalar(
        select(PlanObjective)
        .join(Customer, Customer.id == PlanObjective.customer_id)
        .where(PlanObjective.id == objective_id, visible_customers(actor))
    )
    if objective is None:
        raise NotFound(f"objective {objective_id} not found", objective_id=objective_id)
    return objective


# ----------------------------------------------------------------------------- changing


def _record(
    session: Session,
    actor: Actor,
    action: str,
    subject: AccountPlan | PlanObjective,
    subject_type: str,
    fields: tuple[str, ...],
    before: Mapping[str, Any] | None,
) -> None:
    after = audit.snapshot(subject, fields)
    if before is None:
        audit.record(
            session,
            actor,
            action,
            subject_type=subject_type,
            subject_id=subject.id,
            customer_id=subject.customer_id,
            after=after,
        )
        return
    difference = audit.changed(before, after)
    if difference:
        audit.record(
            session,
            actor,
            action,
            subject_type=subject_type,
            subject_id=subject.id,
            customer_id=subject.customer_id,
            before={k: before[k] for k in difference},
            after=difference,
        )


def _plan_values(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    """The plan columns from ``values`` (as they come from a form or the API), checked."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "owner":
            out["owner_id"] = _user_id(session, value, "owner")
        elif name == "year":
            try:
                year = int(value)
            except (TypeError, ValueError):
                raise ValidationFailed("year: a year such as 2026", field="year") from None
            if not 2000 <= year <= 2100:
                raise ValidationFailed("year: a year from 2000 to 2100", field="year")
            out["year"] = year
        elif name in ("revenue_target", "estimated_wallet"):
            out[name] = _money(value, name)
        elif name == "currency":
            currency = (_text(value, "currency", limit=3) or "").upper()
            if len(currency) != 3 or not currency.isalpha():
                raise ValidationFailed("currency: a three-letter code such as CNY", field=name)
            out["currency"] = currency
        elif name == "whitespace":
            out["whitespace"] = clean_whitespace(value or [])
        elif name == "risks":
            out["risks"] = clean_risks(value or [])
        elif name == "review_every_days":
            try:
                days = int(value)
            except (TypeError, ValueError):
                raise ValidationFailed("review_every_days: days, 7 to 366", field=name) from None
            if not 7 <= days <= 366:
                raise ValidationFailed("review_every_days: days, 7 to 366", field=name)
            out[name] = days
        elif name in ("last_reviewed_on", "next_review_on"):
            out[name] = _day(value, name)
        else:
            raise ValidationFailed(f"{name}: not a field of a plan", field=name)
    return out


def save_plan(
    session: Session, *, actor: Actor, code: str, values: Mapping[str, Any], as_of: date
) -> AccountPlan:
    """Create the account's plan, or change it. Fields: year, revenue_target, currency,
    estimated_wallet, whitespace, risks, review_every_days, last_reviewed_on, next_review_on,
    owner (a username). Unless given, the next review follows from the last one (or from
    ``as_of`` for a plan never reviewed) and the cadence. Anything refused changes nothing."""
    permissions.check(actor, Permission.EDIT_KEY_ACCOUNTS)
    customer = account_for(session, code, actor=actor)
    cleaned = _plan_values(session, values)
    last = cleaned.get("last_reviewed_on")
    if last is not None and last > as_of:
        raise ValidationFailed(
            "last_reviewed_on: a review cannot be in the future", field="last_reviewed_on"
        )
    plan = plan_of(session, customer.id)
    before = None if plan is None else audit.snapshot(plan, PLAN_FIELDS)
    if plan is None:
        plan = AccountPlan(
            customer_id=customer.id,
            owner_id=customer.owner_id,
            year=as_of.year,
            currency=customer.currency,
            whitespace=[],
            risks=[],
            review_every_days=90,
        )
        session.add(plan)
    for name, value in cleaned.items():
        setattr(plan, name, value)
    if "next_review_on" not in cleaned and (
        before is None or {"last_reviewed_on", "review_every_days"} & cleaned.keys()
    ):
        plan.next_review_on = (plan.last_reviewed_on or as_of) + timedelta(
            days=plan.review_every_days
        )
    session.flush()
    _record(
        session,
        actor,
        "account_plan.created" if before is None else "account_plan.updated",
        plan,
        "account_plan",
        PLAN_FIELDS,
        before,
    )
    return plan


def mark_reviewed(session: Session, *, actor: Actor, code: str, on: date) -> AccountPlan:
    """The plan was reviewed ``on`` that day: the next review is one cadence later."""
    customer = account_for(session, code, actor=actor)
    if plan_of(session, customer.id) is None:
        raise NotFound(f"{code} has no account plan", code=code)
    return save_plan(session, actor=actor, code=code, values={"last_reviewed_on": on}, as_of=on)


def _objective_values(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "title":
            out["title"] = _text(value, "title", required=True)
        elif name == "measure":
            out["measure"] = _text(value, "measure")
        elif name in ("target_value", "current_value"):
            out[name] = _number(value, name)
        elif name == "owner":
            out["owner_id"] = _user_id(session, value, "owner")
        elif name == "due_on":
            out["due_on"] = _day(value, "due_on")
        elif name == "status":
            if value not in OBJECTIVE_STATUSES:
                raise ValidationFailed(
                    f"status: one of {', '.join(OBJECTIVE_STATUSES)}", field="status"
                )
            out["status"] = str(value)
        else:
            raise ValidationFailed(f"{name}: not a field of an objective", field=name)
    return out


def add_objective(
    session: Session, *, actor: Actor, code: str, values: Mapping[str, Any]
) -> PlanObjective:
    """A new objective on the account's plan (which must exist); title required."""
    permissions.check(actor, Permission.EDIT_KEY_ACCOUNTS)
    customer = account_for(session, code, actor=actor)
    plan = plan_of(session, customer.id)
    if plan is None:
        raise NotFound(f"{code} has no account plan; create it first", code=code)
    cleaned = _objective_values(session, {"status": "on_track", **values})
    if not cleaned.get("title"):
        raise ValidationFailed("title: required", field="title")
    objective = PlanObjective(plan_id=plan.id, customer_id=customer.id, **cleaned)
    session.add(objective)
    session.flush()
    _record(
        session,
        actor,
        "plan_objective.created",
        objective,
        "plan_objective",
        OBJECTIVE_FIELDS,
        None,
    )
    return objective


def update_objective(
    session: Session, *, actor: Actor, objective_id: int, changes: Mapping[str, Any]
) -> PlanObjective:
    permissions.check(actor, Permission.EDIT_KEY_ACCOUNTS)
    objective = get_objective_for(session, objective_id, actor=actor)
    cleaned = _objective_values(session, changes)
    if "title" in changes and not cleaned.get("title"):
        raise ValidationFailed("title: required", field="title")
    before = audit.snapshot(objective, OBJECTIVE_FIELDS)
    for name, value in cleaned.items():
        setattr(objective, name, value)
    session.flush()
    _record(
        session,
        actor,
        "plan_objective.updated",
        objective,
        "plan_objective",
        OBJECTIVE_FIELDS,
        before,
    )
    return objective


# ----------------------------------------------------------------------------- reviews and 360


@dataclass(frozen=True, slots=True)
class PlanReviewDue:
    plan_id: int
    customer_id: int
    code: str
    owner_id: int | None
    next_review_on: date
    days_overdue: int  # 0 on the day itself


def plan_reviews_due(session: Session, *, as_of: date) -> list[PlanReviewDue]:
    """Plans whose next review is on or before ``as_of``, most overdue first: what a daily run
    turns into plan-review tasks (dedupe key ``plan_review:<plan_id>:<next_review_on>``)."""
    rows = session.execute(
        select(AccountPlan, Customer.code, Customer.owner_id)
        .join(Customer, Customer.id == AccountPlan.customer_id)
        .where(AccountPlan.next_review_on.is_not(None), AccountPlan.next_review_on <= as_of)
        .order_by(AccountPlan.next_review_on, Customer.code)
    )
    return [
        PlanReviewDue(
            plan_id=plan.id,
            customer_id=plan.customer_id,
            code=str(code),
            owner_id=plan.owner_id if plan.owner_id is not None else owner_id,
            next_review_on=plan.next_review_on,
            days_overdue=(as_of - plan.next_review_on).days,
        )
        for plan, code, owner_id in rows
        if plan.next_review_on is not None
    ]


def summary_for_360(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    """The plan's summary for the 360 (None when the account has no plan): target, progress,
    share of wallet, health with its parts and flags, objectives open and at risk."""
    plan = plan_of(session, customer_id)
    if plan is None:
        return None
    customer = customers.get_customer(session, customer_id)
    row = account_row(session, SYSTEM, customer, as_of=as_of)
    objectives = objectives_of(session, plan.id)
    assert row.health is not None
    return {
        "plan": plan,
        "year": plan.year,
        "currency": row.currency,
        "revenue_target": plan.revenue_target,
        "revenue_year": row.revenue_year,
        "revenue_12m": row.revenue_12m,
        "target_progress": row.target_progress,
        "estimated_wallet": plan.estimated_wallet,
        "share_of_wallet": row.share_of_wallet,
        "health": row.health,
        "flags": row.flags,
        "objectives": objectives,
        "objectives_open": sum(1 for o in objectives if o.status in ("on_track", "at_risk")),
        "objectives_at_risk": sum(
            1 for o in objectives if o.status == "at_risk" or objective_overdue(o, as_of)
        ),
        "whitespace": plan.whitespace or [],
        "risks": plan.risks or [],
        "next_review_on": plan.next_review_on,
    }
