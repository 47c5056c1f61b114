"""The stakeholder map of an account: each contact's influence, attitude, trust and reports-to
line, when we last met him (from the touchpoints), and the coverage warnings the map raises."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactChanges
from flywheel.errors import NotFound, ValidationFailed
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import Attitude, BuyingRole
from flywheel.models.keyaccounts import Stakeholder

COVERAGE_DAYS = 90
HIGH_INFLUENCE = 4
DEFAULT_INFLUENCE = 3
DEFAULT_TRUST = 3
NOTE_MAX = 4000
AUDITED = ("contact_id", "influence", "attitude", "trust", "reports_to_contact_id", "notes")
EDITABLE = ("influence", "attitude", "trust", "reports_to_contact_id", "notes", "buying_role")

# Warning codes, most serious first; the same as the account plan's coverage flags (plans.py),
# so the list, the map, the API and the CLI name them alike.
NO_DECISION_MAKER = "no_decision_maker"  # no contact with the buying role at all
DECISION_MAKER_NOT_MET = "decision_maker_not_met"  # none met in the window
SINGLE_THREADED = "single_threaded"  # at most one contact met in the window
HIGH_INFLUENCE_OPPONENT = "high_influence_opponent"
WARNING_CODES = (
    NO_DECISION_MAKER,
    DECISION_MAKER_NOT_MET,
    SINGLE_THREADED,
    HIGH_INFLUENCE_OPPONENT,
)


@dataclass(frozen=True, slots=True)
class StakeholderRow:
    """One contact of the account as the map shows him; ``mapped`` is False while he has no
    stakeholder row yet (the defaults stand in)."""

    contact_id: int
    name: str
    title: str | None
    buying_role: str | None
    email: str | None
    mapped: bool
    influence: int
    attitude: str
    trust: int
    reports_to_contact_id: int | None
    notes: str | None
    last_contact_at: datetime | None

    @property
    def last_contact_on(self) -> date | None:
        return self.last_contact_at.date() if self.last_contact_at else None


@dataclass(frozen=True, slots=True)
class CoverageWarning:
    code: str
    contact_ids: tuple[int, ...] = ()  # the people the warning is about


@dataclass(frozen=True, slots=True)
class StakeholderMap:
    customer: Customer
    as_of: date
    rows: list[StakeholderRow]
    warnings: list[CoverageWarning] = field(default_factory=list)

    @property
    def met_recently(self) -> int:
        start = window_start(self.as_of)
        return sum(1 for r in self.rows if r.last_contact_at and r.last_contact_at >= start)


def window_start(as_of: date, days: int = COVERAGE_DAYS) -> datetime:
    """The first moment of the coverage window: ``days`` days up to and including ``as_of``."""
    return datetime.combine(as_of - timedelta(days=days - 1), time(0), tzinfo=UTC)


def window_end(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=UTC)


# ----------------------------------------------------------------------------- reading


def _account(session: Session, actor: Actor, code: str) -> Customer:
    return customers.get_customer_by_code(session, code, actor=actor)


def last_contacts(
    session: Session, customer_ids: Sequence[int], *, as_of: date
) -> dict[int, datetime]:
    """The last touchpoint with each contact of these accounts up to ``as_of``: one grouped
    query, whatever the number of contacts."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Touchpoint.contact_id, func.max(Touchpoint.occurred_at))
        .where(
            Touchpoint.customer_id.in_(customer_ids),
            Touchpoint.contact_id.is_not(None),
            Touchpoint.occurred_at < window_end(as_of),
        )
        .group_by(Touchpoint.contact_id)
    ).all()
    out: dict[int, datetime] = {}
    for contact_id, moment in rows:
        if contact_id is None or moment is None:
            continue
        # func.max() bypasses the column type on SQLite: a text or naive value comes back.
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        out[int(contact_id)] = moment
    return out


def rows_for(session: Session, customer: Customer, *, as_of: date) -> list[StakeholderRow]:
    """Every contact of the account with his stakeholder values (or the defaults) and last
    contact; most influential first, then by name."""
    found = session.execute(
        select(Contact, Stakeholder)
        .outerjoin(Stakeholder, Stakeholder.contact_id == Contact.id)
        .where(Contact.customer_id == customer.id)
        .order_by(Contact.id)
    ).all()
    last = last_contacts(session, [customer.id], as_of=as_of)
    rows = [
        StakeholderRow(
            contact_id=contact.id,
            name=contact.name,
            title=contact.title,
            buying_role=contact.buying_role,
            email=contact.email,
            mapped=holder is not None,
            influence=holder.influence if holder else DEFAULT_INFLUENCE,
            attitude=holder.attitude if holder else Attitude.NEUTRAL.value,
            trust=holder.trust if holder else DEFAULT_TRUST,
            reports_to_contact_id=holder.reports_to_contact_id if holder else None,
            notes=holder.notes if holder else None,
            last_contact_at=last.get(contact.id),
        )
        for contact, holder in found
    ]
    rows.sort(key=lambda r: (-r.influence, r.name, r.contact_id))
    return rows


def coverage(rows: Iterable[StakeholderRow], *, as_of: date) -> list[CoverageWarning]:
    """The warnings of one map: no decision maker known, or none met in the window; a
    single-threaded account (at most one contact met); each opponent of high influence."""
    rows = list(rows)
    start = window_start(as_of)
    met = [r for r in rows if r.last_contact_at is not None and r.last_contact_at >= start]
    warnings: list[CoverageWarning] = []
    deciders = [r for r in rows if r.buying_role == BuyingRole.DECISION_MAKER]
    if not deciders:
        warnings.append(CoverageWarning(NO_DECISION_MAKER))
    elif not any(r.buying_role == BuyingRole.DECISION_MAKER for r in met):
        warnings.append(
            CoverageWarning(DECISION_MAKER_NOT_MET, tuple(r.contact_id for r in deciders))
        )
    if len(met) <= 1:
        warnings.append(CoverageWarning(SINGLE_THREADED, tuple(r.contact_id for r in met)))
    opponents = [
        r.contact_id
        for r in rows
        if r.attitude == Attitude.OPPONENT and r.influence >= HIGH_INFLUENCE
    ]
    if opponents:
        warnings.append(CoverageWarning(HIGH_INFLUENCE_OPPONENT, tuple(opponents)))
    return warnings


def stakeholder_map(session: Session, actor: Actor, code: str, *, as_of: date) -> StakeholderMap:
    """The map of the account ``code`` (in the actor's scope) with its warnings."""
    customer = _account(session, actor, code)
    rows = rows_for(session, customer, as_of=as_of)
    return StakeholderMap(customer, as_of, rows, coverage(rows, as_of=as_of))


def _coverage_statement() -> Select[int, int, Any, Any, Any, Any, int]:
    """Per account of ``:ids``: contacts, those met in [``:start``, ``:end``), decision makers
    met, decision makers, high-influence opponents, contacts mapped."""
    met = (
        select(Touchpoint.contact_id)
        .where(
            Touchpoint.customer_id.in_(bindparam("ids", expanding=True)),
            Touchpoint.occurred_at >= bindparam("start"),
            Touchpoint.occurred_at < bindparam("end"),
            Touchpoint.contact_id.is_not(None),
        )
        .distinct()
        .subquery()
    )
    was_met = met.c.contact_id.is_not(None)
    is_decider = Contact.buying_role == BuyingRole.DECISION_MAKER.value
    is_opponent = and_(
        Stakeholder.attitude == Attitude.OPPONENT.value, Stakeholder.influence >= HIGH_INFLUENCE
    )
    return (
        select(
            Contact.customer_id,
            func.count(Contact.id),
            func.sum(case((was_met, 1), else_=0)),
            func.sum(case((and_(was_met, is_decider), 1), else_=0)),
            func.sum(case((is_decider, 1), else_=0)),
            func.sum(case((is_opponent, 1), else_=0)),
            func.count(Stakeholder.id),
        )
        .outerjoin(met, met.c.contact_id == Contact.id)
        .outerjoin(Stakeholder, Stakeholder.contact_id == Contact.id)
        .where(Contact.customer_id.in_(bindparam("ids", expanding=True)))
        .group_by(Contact.customer_id)
    )


# The 360 of every account runs these; built once (building cost more than running them).
_COVERAGE = _coverage_statement()
_ATTITUDES = (
    select(Stakeholder.attitude, func.count())
    .where(Stakeholder.customer_id == bindparam("customer_id"))
    .group_by(Stakeholder.attitude)
)


def coverage_by_customer(
    session: Session, customer_ids: Sequence[int], *, as_of: date
) -> dict[int, dict[str, Any]]:
    """Coverage of many accounts at once (the key-account list): per account the contacts,
    those met in the window, whether a decision maker was met, the high-influence opponents,
    and the warning codes. Grouped queries only; no loop over accounts in the database."""
    if not customer_ids:
        return {}
    rows = session.execute(
        _COVERAGE,
        {"ids": list(customer_ids), "start": window_start(as_of), "end": window_end(as_of)},
    ).all()
    found = {int(r[0]): tuple(int(v or 0) for v in r[1:]) for r in rows}
    out: dict[int, dict[str, Any]] = {}
    for customer_id in customer_ids:
        contacts, met_count, deciders_met, deciders, opponents, mapped = found.get(
            customer_id, (0, 0, 0, 0, 0, 0)
        )
        codes = []
        if deciders == 0:
            codes.append(NO_DECISION_MAKER)
        elif deciders_met == 0:
            codes.append(DECISION_MAKER_NOT_MET)
        if met_count <= 1:
            codes.append(SINGLE_THREADED)
        if opponents:
            codes.append(HIGH_INFLUENCE_OPPONENT)
        out[customer_id] = {
            "contacts": contacts,
            "mapped": mapped,
            "met_recently": met_count,
            "decision_makers": deciders,
            "decision_maker_met": deciders_met > 0,
            "high_influence_opponents": opponents,
            "warnings": codes,
        }
    return out


def summary_for_360(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    """The map in figures for the 360 key-account panel: contacts, mapped, met in the last 90
    days, champions and opponents, and the coverage warning codes; None without contacts."""
    [figures] = coverage_by_customer(session, [customer_id], as_of=as_of).values()
    if figures["contacts"] == 0:
        return None
    attitudes = dict(session.execute(_ATTITUDES, {"customer_id": customer_id}).tuples().all())
    return {
        **figures,
        "champions": int(attitudes.get(Attitude.CHAMPION.value, 0)),
        "supporters": int(attitudes.get(Attitude.SUPPORTER.value, 0)),
        "sceptics": int(attitudes.get(Attitude.SCEPTIC.value, 0)),
        "opponents": int(attitudes.get(Attitude.OPPONENT.value, 0)),
        "window_days": COVERAGE_DAYS,
    }


# ----------------------------------------------------------------------------- writing


def _score(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationFailed(f"{name}: a whole number from 1 to 5", field=name)
    return value


def _attitude(value: Any) -> str:
    try:
        return Attitude(value).value
    except ValueError:
        choices = ", ".join(a.value for a in Attitude)
        raise ValidationFailed(
            f"attitude: {value!r} is not one of {choices}", field="attitude"
        ) from None


def _check_line(session: Session, customer: Customer, contact_id: int, boss_id: int | None) -> None:
    """The boss must be another contact of the same account, and following the lines up from
    him must never come back to ``contact_id``."""
    if boss_id is None:
        return
    if boss_id == contact_id:
        raise ValidationFailed(
            "reports_to_contact_id: a contact cannot report to himself",
            field="reports_to_contact_id",
        )
    boss = session.get(Contact, boss_id)
    if boss is None or boss.customer_id != customer.id:
        raise ValidationFailed(
            f"reports_to_contact_id: contact {boss_id} is not a contact of {customer.code}",
            field="reports_to_contact_id",
        )
    lines: dict[int, int | None] = {
        int(c): (int(b) if b is not None else None)
        for c, b in session.execute(
            select(Stakeholder.contact_id, Stakeholder.reports_to_contact_id).where(
                Stakeholder.customer_id == customer.id
            )
        )
    }
    seen: set[int] = set()
    current: int | None = boss_id
    while current is not None and current not in seen:
        if current == contact_id:
            raise ValidationFailed(
                f"reports_to_contact_id: contact {boss_id} already reports, directly or "
                f"not, to contact {contact_id}; the line would go round in a circle",
                field="reports_to_contact_id",
            )
        seen.add(current)
        current = lines.get(current)


def _notes(value: Any) -> str | None:
    text = (value or "").strip()
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"notes: at most {NOTE_MAX} characters", field="notes")
    return text or None


def set_stakeholder(
    session: Session,
    *,
    actor: Actor,
    code: str,
    contact_id: int,
    changes: Mapping[str, Any],
) -> Stakeholder:
    """Set the sent values of a contact of the account ``code`` as a stakeholder (the row is
    made on first use with the defaults: influence 3, neutral, trust 3). ``buying_role``
    changes the contact itself. Every value is checked before anything changes."""
    permissions.check(actor, Permission.EDIT_KEY_ACCOUNTS)
    customer = _account(session, actor, code)
    contact = session.get(Contact, contact_id)
    if contact is None or contact.customer_id != customer.id:
        raise NotFound(
            f"contact {contact_id} is not a contact of {customer.code}", contact_id=contact_id
        )
    for name in changes:
        if name not in EDITABLE:
            raise ValidationFailed(f"{name}: cannot be changed here", field=name)
    values: dict[str, Any] = {}
    if "influence" in changes:
        values["influence"] = _score(changes["influence"], "influence")
    if "trust" in changes:
        values["trust"] = _score(changes["trust"], "trust")
    if "attitude" in changes:
        values["attitude"] = _attitude(changes["attitude"])
    if "notes" in changes:
        values["notes"] = _notes(changes["notes"])
    if "reports_to_contact_id" in changes:
        boss = changes["reports_to_contact_id"]
        if boss is not None and (isinstance(boss, bool) or not isinstance(boss, int)):
            raise ValidationFailed(
                "reports_to_contact_id: a contact number", field="reports_to_contact_id"
            )
        _check_line(session, customer, contact.id, boss)
        values["reports_to_contact_id"] = boss
    role_change = "buying_role" in changes and changes["buying_role"] != contact.buying_role
    role: BuyingRole | None = None
    if role_change:
        permissions.check(actor, Permission.EDIT_CUSTOMERS)
        try:
            role = BuyingRole(changes["buying_role"]) if changes["buying_role"] else None
        except ValueError:
            choices = ", ".join(r.value for r in BuyingRole)
            raise ValidationFailed(
                f"buying_role: {changes['buying_role']!r} is not one of {choices}",
                field="buying_role",
            ) from None
    holder = session.scalar(select(Stakeholder).where(Stakeholder.contact_id == contact.id))
    if holder is None:
        defaults: dict[str, Any] = {
            "influence": DEFAULT_INFLUENCE,
            "attitude": Attitude.NEUTRAL.value,
            "trust": DEFAULT_TRUST,
        }
        holder = Stakeholder(customer_id=customer.id, contact_id=contact.id, **(defaults | values))
        session.add(holder)
        session.flush()
        audit.record(
            session,
            actor,
            "stakeholder.created",
            subject_type="stakeholder",
            subject_id=holder.id,
            customer_id=customer.id,
            after=audit.snapshot(holder, AUDITED),
        )
    elif values:
        audit.apply_update(
            session,
            actor,
            holder,
            values,
            action="stakeholder.updated",
            subject_type="stakeholder",
            customer_id=customer.id,
            fields=AUDITED,
        )
    if role_change:
        customers.edit_contact(
            session, actor=actor, contact_id=contact.id, data=ContactChanges(buying_role=role)
        )
    return holder
