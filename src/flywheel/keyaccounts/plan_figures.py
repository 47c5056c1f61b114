"""Account-plan figures: revenue and share of wallet, stakeholder coverage, the plan-health
indicator with its parts, and the key-account list that shows them; set-based, for every
listed account at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import Attitude, BuyingRole, OrderStatus, Tier
from flywheel.models.keyaccounts import AccountPlan, PlanObjective, Stakeholder
from flywheel.models.sales import Order
from flywheel.models.users import User

# The weights of the health parts; they add up to 100.
WEIGHTS = {"objectives": 30, "coverage": 30, "executive_contact": 25, "review": 15}
GREEN_FROM, YELLOW_FROM = 70, 40
MET_WITHIN_DAYS = 90
# Executive contact counts fully within a month and fades to nothing at four months.
EXECUTIVE_FRESH_DAYS, EXECUTIVE_STALE_DAYS = 30, 120
HIGH_INFLUENCE = 4
CENT = Decimal("0.01")


def objectives_of(session: Session, plan_id: int) -> list[PlanObjective]:
    return list(
        session.scalars(
            select(PlanObjective)
            .where(PlanObjective.plan_id == plan_id)
            .order_by(PlanObjective.due_on.is_(None), PlanObjective.due_on, PlanObjective.id)
        )
    )


def _end_of(as_of: date) -> datetime:
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) + timedelta(days=1)


def _as_day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def revenue_between(
    session: Session, customer_ids: Select[Any], *, first: date, last: date
) -> dict[tuple[int, str], Decimal]:
    """Orders (not cancelled) per account and currency dated ``first`` to ``last``."""
    rows = session.execute(
        select(Order.customer_id, Order.currency, func.sum(Order.amount))
        .where(
            Order.customer_id.in_(customer_ids),
            Order.status != OrderStatus.CANCELLED.value,
            Order.order_date >= first,
            Order.order_date <= last,
        )
        .group_by(Order.customer_id, Order.currency)
    )
    return {(int(c), str(cur)): Decimal(total or 0).quantize(CENT) for c, cur, total in rows}


@dataclass(frozen=True, slots=True)
class Coverage:
    """Who of the account we know and have met: decision makers (by the contacts' buying role),
    when we last met one, how many people we met in 90 days, and the stakeholder map's size."""

    decision_makers: int = 0
    last_decision_maker_contact: date | None = None
    contacts_met_90: int = 0
    stakeholders: int = 0
    high_influence_opponents: int = 0

    def decision_maker_met(self, as_of: date) -> bool:
        last = self.last_decision_maker_contact
        return last is not None and (as_of - last).days <= MET_WITHIN_DAYS

    def flags(self, as_of: date) -> list[str]:
        found = []
        if self.decision_makers == 0:
            found.append("no_decision_maker")
        elif not self.decision_maker_met(as_of):
            found.append("decision_maker_not_met")
        if self.contacts_met_90 <= 1:
            found.append("single_threaded")
        if self.high_influence_opponents:
            found.append("high_influence_opponent")
        return found


def coverage_for(
    session: Session, customer_ids: Select[Any], *, as_of: date
) -> dict[int, Coverage]:
    """Coverage of every account in ``customer_ids``, in a handful of grouped queries."""
    end = _end_of(as_of)
    since = end - timedelta(days=MET_WITHIN_DAYS + 1)
    is_dm = Contact.buying_role == BuyingRole.DECISION_MAKER.value
    values: dict[int, dict[str, Any]] = {}

    def put(customer_id: Any, name: str, value: Any) -> None:
        values.setdefault(int(customer_id), {})[name] = value

    for cid, count in session.execute(
        select(Contact.customer_id, func.count(Contact.id))
        .where(Contact.customer_id.in_(customer_ids), is_dm)
        .group_by(Contact.customer_id)
    ):
        put(cid, "decision_makers", int(count))
    for cid, last in session.execute(
        select(Touchpoint.customer_id, func.max(Touchpoint.occurred_at))
        .join(Contact, Contact.id == Touchpoint.contact_id)
        .where(Touchpoint.customer_id.in_(customer_ids), is_dm, Touchpoint.occurred_at < end)
        .group_by(Touchpoint.customer_id)
    ):
        put(cid, "last_decision_maker_contact", _as_day(last))
    for cid, count in session.execute(
        select(Touchpoint.customer_id, func.count(func.distinct(Touchpoint.contact_id)))
        .where(
            Touchpoint.customer_id.in_(customer_ids),
            Touchpoint.contact_id.is_not(None),
            Touchpoint.occurred_at >= since,
            Touchpoint.occurred_at < end,
        )
        .group_by(Touchpoint.customer_id)
    ):
        put(cid, "contacts_met_90", int(count))
    for cid, count, opponents in session.execute(
        select(
            Stakeholder.customer_id,
            func.count(Stakeholder.id),
            func.count(Stakeholder.id).filter(
                and_(
                    Stakeholder.attitude == Attitude.OPPONENT.value,
                    Stakeholder.influence >= HIGH_INFLUENCE,
                )
            ),
        )
        .where(Stakeholder.customer_id.in_(customer_ids))
        .group_by(Stakeholder.customer_id)
    ):
        put(cid, "stakeholders", int(count))
        put(cid, "high_influence_opponents", int(opponents or 0))
    return {cid: Coverage(**found) for cid, found in values.items()}


@dataclass(frozen=True, slots=True)
class HealthPart:
    name: str  # objectives, coverage, executive_contact, review
    weight: int
    share: float  # 0–1 of the weight earned
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return round(self.weight * self.share, 1)


@dataclass(frozen=True, slots=True)
class PlanHealth:
    score: int  # 0–100
    band: str  # green / yellow / red
    parts: tuple[HealthPart, ...]
    flags: tuple[str, ...]


def band_of(score: float) -> str:
    return "green" if score >= GREEN_FROM else "yellow" if score >= YELLOW_FROM else "red"


class ObjectiveState(Protocol):
    """What the health reads of an objective: an ORM row or a (status, due_on) result row."""

    @property
    def status(self) -> str: ...

    @property
    def due_on(self) -> date | None: ...


def objective_overdue(objective: ObjectiveState, as_of: date) -> bool:
    return (
        objective.status in ("on_track", "at_risk")
        and objective.due_on is not None
        and objective.due_on < as_of
    )


def plan_health(
    plan: AccountPlan, objectives: Iterable[ObjectiveState], coverage: Coverage, *, as_of: date
) -> PlanHealth:
    """The plan's health 0–100 from its parts: the share of live objectives on track (not at
    risk, not overdue; done ones count as on track), stakeholder coverage (a decision maker
    known, and met within 90 days), days since the last contact with a decision maker, and
    whether the review is not overdue."""
    counted = [o for o in objectives if o.status != "dropped"]
    good = [
        o
        for o in counted
        if o.status == "done" or (o.status == "on_track" and not objective_overdue(o, as_of))
    ]
    objective_share = len(good) / len(counted) if counted else 0.0
    met = coverage.decision_maker_met(as_of)
    coverage_share = (0.5 if coverage.decision_makers else 0.0) + (0.5 if met else 0.0)
    last = coverage.last_decision_maker_contact
    days_since = None if last is None else max((as_of - last).days, 0)
    if days_since is None:
        executive_share = 0.0
    elif days_since <= EXECUTIVE_FRESH_DAYS:
        executive_share = 1.0
    else:
        span = EXECUTIVE_STALE_DAYS - EXECUTIVE_FRESH_DAYS
        executive_share = max(0.0, 1 - (days_since - EXECUTIVE_FRESH_DAYS) / span)
    review_due = plan.next_review_on
    review_ok = review_due is not None and review_due >= as_of
    parts = (
        HealthPart(
            "objectives",
            WEIGHTS["objectives"],
            objective_share,
            {"on_track": len(good), "counted": len(counted)},
        ),
        HealthPart(
            "coverage",
            WEIGHTS["coverage"],
            coverage_share,
            {"decision_makers": coverage.decision_makers, "decision_maker_met": met},
        ),
        HealthPart(
            "executive_contact",
            WEIGHTS["executive_contact"],
            round(executive_share, 4),
            {"days_since": days_since, "last_on": last},
        ),
        HealthPart(
            "review",
            WEIGHTS["review"],
            1.0 if review_ok else 0.0,
            {
                "next_review_on": review_due,
                "days_overdue": None
                if review_due is None or review_ok
                else (as_of - review_due).days,
            },
        ),
    )
    score = round(sum(p.weight * p.share for p in parts))
    flags = coverage.flags(as_of)
    if not review_ok:
        flags.append("review_overdue" if review_due is not None else "review_not_planned")
    return PlanHealth(score=score, band=band_of(score), parts=parts, flags=tuple(flags))


# ----------------------------------------------------------------------------- the list


@dataclass(frozen=True, slots=True)
class AccountFilter:
    search: str | None = None
    owner_id: int | None = None
    band: str | None = None  # green / yellow / red / none (no plan)
    review_due: bool = False  # next review on or before as_of, or none planned
    flag: str | None = None  # one coverage flag


@dataclass(slots=True)
class KeyAccountRow:
    customer: Customer
    owner: str | None
    plan: AccountPlan | None
    revenue_12m: Decimal
    currency: str
    revenue_year: Decimal | None
    target_progress: float | None
    share_of_wallet: float | None
    health: PlanHealth | None
    flags: list[str]
    coverage: Coverage


def key_accounts_query(
    actor: Actor, filters: AccountFilter, *, as_of: date
) -> Select[Customer, AccountPlan]:
    """The key-tier accounts, and any account with a plan, the actor may see; the filters that
    need no figures are applied here."""
    stmt = (
        select(Customer, AccountPlan)
        .outerjoin(AccountPlan, AccountPlan.customer_id == Customer.id)
        .where(
            visible_customers(actor),
            or_(Customer.tier == Tier.KEY.value, AccountPlan.id.is_not(None)),
        )
    )
    if filters.search:
        pattern = f"%{filters.search.strip()}%"
        stmt = stmt.where(or_(Customer.code.ilike(pattern), Customer.name.ilike(pattern)))
    if filters.owner_id is not None:
        stmt = stmt.where(Customer.owner_id == filters.owner_id)
    if filters.review_due:
        stmt = stmt.where(
            AccountPlan.id.is_not(None),
            or_(AccountPlan.next_review_on.is_(None), AccountPlan.next_review_on <= as_of),
        )
    return stmt.order_by(Customer.code)


def _objectives_by_plan(session: Session, plan_ids: Select[Any]) -> dict[int, list[Any]]:
    """(status, due_on) rows per plan: all the health needs, without loading objectives."""
    found: dict[int, list[Any]] = {}
    for row in session.execute(
        select(PlanObjective.plan_id, PlanObjective.status, PlanObjective.due_on).where(
            PlanObjective.plan_id.in_(plan_ids)
        )
    ):
        found.setdefault(int(row.plan_id), []).append(row)
    return found


def _figures(
    session: Session,
    pairs: Sequence[tuple[Customer, AccountPlan | None]],
    ids: Select[Any],
    *,
    as_of: date,
) -> list[KeyAccountRow]:
    """The rows of ``pairs`` with their figures; ``ids`` selects the same accounts' ids, so
    every figure is one grouped query whatever the number of accounts."""
    revenue = revenue_between(session, ids, first=as_of - timedelta(days=364), last=as_of)
    by_year: dict[tuple[int, str], Decimal] = {}
    for year in {p.year for _c, p in pairs if p is not None and p.revenue_target is not None}:
        in_year = select(AccountPlan.customer_id).where(
            AccountPlan.customer_id.in_(ids), AccountPlan.year == year
        )
        by_year.update(
            revenue_between(
                session, in_year, first=date(year, 1, 1), last=min(as_of, date(year, 12, 31))
            )
        )
    coverage = coverage_for(session, ids, as_of=as_of)
    objectives = _objectives_by_plan(
        session, select(AccountPlan.id).where(AccountPlan.customer_id.in_(ids))
    )
    owner_ids = {c.owner_id for c, _p in pairs if c.owner_id is not None}
    owners = (
        dict(session.execute(select(User.id, User.username).where(User.id.in_(owner_ids))).all())
        if owner_ids
        else {}
    )
    rows = []
    for customer, plan in pairs:
        currency = plan.currency if plan is not None else customer.currency
        revenue_12m = revenue.get((customer.id, currency), Decimal("0.00"))
        cov = coverage.get(customer.id, Coverage())
        health = revenue_year = progress = wallet = None
        if plan is not None:
            health = plan_health(plan, objectives.get(plan.id, []), cov, as_of=as_of)
            if plan.revenue_target is not None:
                revenue_year = by_year.get((customer.id, currency), Decimal("0.00"))
                if plan.revenue_target > 0:
                    progress = float(revenue_year / plan.revenue_target)
            if plan.estimated_wallet:
                wallet = float(revenue_12m / plan.estimated_wallet)
        rows.append(
            KeyAccountRow(
                customer=customer,
                owner=owners.get(customer.owner_id) if customer.owner_id else None,
                plan=plan,
                revenue_12m=revenue_12m,
                currency=currency,
                revenue_year=revenue_year,
                target_progress=progress,
                share_of_wallet=wallet,
                health=health,
                flags=list(health.flags) if health is not None else [*cov.flags(as_of), "no_plan"],
                coverage=cov,
            )
        )
    return rows


def key_account_rows(
    session: Session,
    actor: Actor,
    filters: AccountFilter,
    *,
    as_of: date,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[KeyAccountRow], int]:
    """A page of the list (all of it without ``limit``) and the number of accounts that match.
    Without a band or flag filter only the page's figures are computed; with one, the figures
    of every listed account (grouped queries over a few thousand key accounts) so the filter
    pages correctly."""
    stmt = key_accounts_query(actor, filters, as_of=as_of)
    if filters.band is not None or filters.flag is not None or limit is None:
        pairs = [(c, p) for c, p in session.execute(stmt)]
        ids = stmt.with_only_columns(Customer.id).order_by(None)
        rows = [r for r in _figures(session, pairs, ids, as_of=as_of) if _keeps(r, filters)]
        end = None if limit is None else offset + limit
        return rows[offset:end], len(rows)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pairs = [(c, p) for c, p in session.execute(stmt.limit(limit).offset(offset))]
    ids = select(Customer.id).where(Customer.id.in_([c.id for c, _p in pairs]))
    return _figures(session, pairs, ids, as_of=as_of), int(total)


def _keeps(row: KeyAccountRow, filters: AccountFilter) -> bool:
    if filters.band is not None:
        band = row.health.band if row.health is not None else "none"
        if band != filters.band:
            return False
    return filters.flag is None or filters.flag in row.flags


def account_row(
    session: Session, actor: Actor, customer: Customer, *, as_of: date
) -> KeyAccountRow:
    """One account's figures, as the list gives them (also for an account not on the list);
    ``customer`` was loaded in ``actor``'s scope."""
    plan = session.scalar(select(AccountPlan).where(AccountPlan.customer_id == customer.id))
    ids = select(Customer.id).where(Customer.id == customer.id)
    [row] = _figures(session, [(customer, plan)], ids, as_of=as_of)
    return row
