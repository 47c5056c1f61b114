"""The needs and pain points register of an account: adding, editing and closing needs, and
promoting a survey comment or a touchpoint note to a need in one call (once per source)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, bindparam, case, cast, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.customers import service as customers
from flywheel.errors import NotFound, ValidationFailed
from flywheel.keyaccounts.stakeholders import window_end
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import TouchpointKind
from flywheel.models.feedback import SurveyResponse
from flywheel.models.keyaccounts import Need

KINDS = ("need", "pain_point")
SOURCES = ("interview", "market_research", "survey_comment", "support_ticket", "negotiation")
STATUSES = ("open", "addressed", "declined")
OPEN = "open"
ADDRESSED = "addressed"
TITLE_MAX = 200
TEXT_MAX = 4000
DEFAULT_PRIORITY = 3
AUDITED = ("title", "description", "kind", "source", "source_ref", "priority", "status", "offer")
EDITABLE = ("title", "description", "kind", "source", "priority", "status", "offer")
COMMENT_DAYS = 365  # how far back the register offers survey comments to promote
COMMENT_LIMIT = 20


# ----------------------------------------------------------------------------- checks


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    text = str(getattr(value, "value", value) or "")
    if text not in choices:
        raise ValidationFailed(f"{name}: {value!r} is not one of {', '.join(choices)}", field=name)
    return text


def _priority(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationFailed("priority: a whole number from 1 (highest) to 5", field="priority")
    return value


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str | None:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"{name}: cannot be empty", field=name)
    if len(text) > limit:
        raise ValidationFailed(f"{name}: at most {limit} characters", field=name)
    return text or None


def _check_closing(status: str, offer: str | None) -> None:
    # An addressed need without the offer that addressed it teaches the next reader nothing.
    if status == ADDRESSED and not offer:
        raise ValidationFailed(
            "offer: an addressed need names the offer that addresses it", field="offer"
        )


def _record(
    session: Session, actor: Actor, action: str, need: Need, before: dict[str, Any] | None
) -> None:
    after = audit.snapshot(need, AUDITED)
    if before is None:
        shown_before, shown_after = None, after
    else:
        difference = audit.changed(before, after)
        shown_before, shown_after = {k: before[k] for k in difference}, difference
    audit.record(
        session,
        actor,
        action,
        subject_type="need",
        subject_id=need.id,
        customer_id=need.customer_id,
        before=shown_before,
        after=shown_after,
    )


# ----------------------------------------------------------------------------- reading


def get_need_for(session: Session, need_id: int, *, actor: Actor) -> Need:
    """A need of an account the actor may see; NotFound, exactly like a missing one, else."""
    need = session.scalar(
        select(Need)
        .join(Customer, Customer.id == Need.customer_id)
        .where(Need.id == need_id, visible_customers(actor))
    )
    if need is None:
        raise NotFound(f"need {need_id} not found", need_id=need_id)
    return need


def list_needs(
    session: Session, actor: Actor, code: str, *, status: str | None = None
) -> tuple[Customer, list[Need]]:
    """The needs of the account ``code`` (in scope): open ones first, by priority, newest
    first within a priority."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    stmt = select(Need).where(Need.customer_id == customer.id)
    if status is not None:
        stmt = stmt.where(Need.status == _choice(status, "status", STATUSES))
    stmt = stmt.order_by(
        case((Need.status == OPEN, 0), else_=1), Need.priority, Need.created_at.desc(), Need.id
    )
    return customer, list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class Comment:
    """A survey comment of the account that could become a need; ``need_id`` once it has."""

    response_id: int
    answered_at: Any
    kind: str
    score: int
    band: str
    comment: str
    contact_name: str | None
    need_id: int | None


def recent_comments(
    session: Session,
    customer_id: int,
    *,
    as_of: date,
    days: int = COMMENT_DAYS,
    limit: int = COMMENT_LIMIT,
) -> list[Comment]:
    """The account's survey answers with a comment in the ``days`` up to ``as_of``, newest
    first, each with the need it was promoted to (if any)."""
    start = window_end(as_of - timedelta(days=days))
    ref = literal("response:", String) + cast(SurveyResponse.id, String)
    rows = session.execute(
        select(SurveyResponse, Contact.name, Need.id)
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .outerjoin(Need, Need.source_ref == ref)
        .where(
            SurveyResponse.customer_id == customer_id,
            SurveyResponse.comment.is_not(None),
            SurveyResponse.comment != "",
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < window_end(as_of),
        )
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        .limit(limit)
    ).all()
    return [
        Comment(
            response_id=r.id,
            answered_at=r.answered_at,
            kind=r.kind,
            score=r.score,
            band=r.band,
            comment=r.comment or "",
            contact_name=name,
            need_id=need_id,
        )
        for r, name, need_id in rows
    ]


# Built once with bound parameters: every account's 360 runs it.
_NEED_COUNTS = (
    select(Need.kind, Need.status, func.count())
    .where(Need.customer_id == bindparam("customer_id"))
    .group_by(Need.kind, Need.status)
)


def summary_for_360(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    """The register in figures for the 360 key-account panel: open needs and pain points, the
    addressed ones, and the five most pressing open ones; None when the register is empty."""
    counts = {
        (str(kind), str(status)): int(n)
        for kind, status, n in session.execute(_NEED_COUNTS, {"customer_id": customer_id})
    }
    if not counts:
        return None
    top = session.scalars(
        select(Need)
        .where(Need.customer_id == customer_id, Need.status == OPEN)
        .order_by(Need.priority, Need.created_at.desc(), Need.id.desc())
        .limit(5)
    ).all()
    return {
        "open": sum(n for (_k, s), n in counts.items() if s == OPEN),
        "open_pain_points": counts.get(("pain_point", OPEN), 0),
        "addressed": sum(n for (_k, s), n in counts.items() if s == ADDRESSED),
        "total": sum(counts.values()),
        "top": [
            {
                "id": n.id,
                "title": n.title,
                "kind": n.kind,
                "priority": n.priority,
                "source": n.source,
            }
            for n in top
        ],
        "as_of": as_of.isoformat(),
    }


# ----------------------------------------------------------------------------- writing


def add_need(
    session: Session,
    *,
    actor: Actor,
    code: str,
    title: str,
    source: str,
    kind: str = "need",
    description: str | None = None,
    priority: int = DEFAULT_PRIORITY,
    status: str = OPEN,
    offer: str | None = None,
) -> Need:
    """A new need or pain point of the account ``code`` (in the actor's scope)."""
    permissions.check(actor, Permission.EDIT_KEY_ACCOUNTS)
    customer = customers.get_customer_by_code(session, code, actor=actor)
    values: dict[str, Any] = {
        "title": _text(title, "title", TITLE_MAX, required=True),
        "description": _text(description, "description", TEXT_MAX),
        "kind": _choice(kind, "kind", KINDS),
        "source": _choice(source, "source", SOURCES),
        "priority": _priority(priority),
        "status": _choice(status, "status", STATUSES),
        "offer": _text(offer, "offer", TEXT_MAX),
    }
    _check_closing(values["status"], values["offer"])
    need = Need(customer_id=customer.id, created_by_id=actor.user_id, **values)
    session.add(need)
    session.flush()
    _record(session, actor, "need.added", need, None)
    return need


def edit_need(session: Session, *, actor: Actor, need_id: int, changes: Mapping[str, Any]) -> Need:
    """Change the sent fields of a need; closing it is a status of ``addressed`` (with the
    offer) or ``declined``, and a closed need may be reopened. Refused input changes nothing."""
    permissions.check(actor, Permission.EDIT_KEY_ACCOUNTS)
    need = get_need_for(session, need_id, actor=actor)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            raise ValidationFailed(f"{name}: cannot be changed here", field=name)
        if name == "title":
            values[name] = _text(value, name, TITLE_MAX, required=True)
        elif name in ("description", "offer"):
            values[name] = _text(value, name, TEXT_MAX)
        elif name == "kind":
            values[name] = _choice(value, name, KINDS)
        elif name == "source":
            values[name] = _choice(value, name, SOURCES)
        elif name == "status":
            values[name] = _choice(value, name, STATUSES)
        else:
            values[name] = _priority(value)
    _check_closing(values.get("status", need.status), values.get("offer", need.offer))
    if all(getattr(need, k) == v for k, v in values.items()):
        return need
    before = audit.snapshot(need, AUDITED)
    for name, value in values.items():
        setattr(need, name, value)
    session.flush()
    closed = values.get("status") not in (None, OPEN) and before["status"] == OPEN
    _record(session, actor, "need.closed" if closed else "need.updated", need, before)
    return need


def headline(text: str) -> str:
    """The first sentence of a comment, short enough for a title."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    for mark in ("。", "！", "？", ". ", "! ", "? ", "；", "; "):
        head, found, _rest = first.partition(mark)
        if found and head.strip():
            first = head
            break
    first = first.strip()
    return first if len(first) <= 80 else first[:79].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Promoted:
    need: Need
    created: bool


def promote(
    session: Session,
    *,
    actor: Actor,
    code: str,
    response_id: int | None = None,
    touchpoint_id: int | None = None,
    title: str | None = None,
    kind: str = "need",
    priority: int = DEFAULT_PRIORITY,
) -> Promoted:
    """Make a need of a survey comment (``response_id``) or a touchpoint note
    (``touchpoint_id``) of the account ``code``. The source is remembered: promoting the same
    one again returns the need it became and changes nothing."""
    permissions.check(actor, Permission.EDIT_KEY_ACCOUNTS)
    customer = customers.get_customer_by_code(session, code, actor=actor)
    if (response_id is None) == (touchpoint_id is None):
        raise ValidationFailed(
            "response_id: name either a survey response or a touchpoint", field="response_id"
        )
    if response_id is not None:
        response = session.get(SurveyResponse, response_id)
        if response is None or response.customer_id != customer.id:
            raise NotFound(
                f"response_id: survey response {response_id} is not one of {customer.code}",
                field="response_id",
            )
        text = (response.comment or "").strip()
        if not text:
            raise ValidationFailed(
                f"response_id: survey response {response_id} has no comment", field="response_id"
            )
        ref, source = f"response:{response.id}", "survey_comment"
    else:
        touchpoint = session.get(Touchpoint, touchpoint_id)
        if touchpoint is None or touchpoint.customer_id != customer.id:
            raise NotFound(
                f"touchpoint_id: touchpoint {touchpoint_id} is not one of {customer.code}",
                field="touchpoint_id",
            )
        text = (touchpoint.summary or "").strip()
        if not text:
            raise ValidationFailed(
                f"touchpoint_id: touchpoint {touchpoint_id} has no note", field="touchpoint_id"
            )
        ref = f"touchpoint:{touchpoint.id}"
        source = "support_ticket" if touchpoint.kind == TouchpointKind.SUPPORT else "interview"
    existing = session.scalar(select(Need).where(Need.source_ref == ref))
    if existing is not None:
        return Promoted(existing, created=False)
    values = {
        "title": _text(title or headline(text), "title", TITLE_MAX, required=True),
        "description": text[:TEXT_MAX],
        "kind": _choice(kind, "kind", KINDS),
        "priority": _priority(priority),
    }
    need = Need(
        customer_id=customer.id,
        source=source,
        source_ref=ref,
        status=OPEN,
        created_by_id=actor.user_id,
        **values,
    )
    try:
        # Two clicks at once: the unique source_ref lets one win; the other gets its need.
        with session.begin_nested():
            session.add(need)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(Need).where(Need.source_ref == ref))
        if existing is None:
            raise
        return Promoted(existing, created=False)
    _record(session, actor, "need.promoted", need, None)
    return Promoted(need, created=True)
