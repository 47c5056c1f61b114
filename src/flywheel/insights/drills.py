"""The lists behind the dashboard's figures: every figure links to the accounts or items it
counts, most important first, in the same scope and filter as the figure, exportable as CSV
and XLSX.

A drill is registered by the module of its stage (``insights.drill_*``) with the columns it
shows and a function building its query. The query's selected columns are labelled with the
columns' keys; a column keyed ``code`` is the account's code and links to the customer 360.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.errors import NotFound
from flywheel.insights.cube import UNSCORED, month_end
from flywheel.insights.periods import InsightFilter, Period
from flywheel.models.customers import Customer
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.users import User


@dataclass(frozen=True, slots=True)
class DrillColumn:
    key: str
    label: str  # an N_() message id, translated when shown
    kind: str = "text"  # text, code, count, money, percent, days, hours, date, score


@dataclass(frozen=True, slots=True)
class DrillQuery:
    """What a drill lists: the accounts of ``flt`` (checked and scoped to ``actor``) and what
    happened from ``first`` to ``last`` (the period's days; ``last`` is the day the cube was
    built through when the period's last month is running). ``money_currency`` is
    ``flt.money_currency``; money columns are in it."""

    actor: Actor
    flt: InsightFilter
    first: date
    last: date

    @classmethod
    def of(
        cls, actor: Actor, flt: InsightFilter, period: Period, built_through: date | None
    ) -> DrillQuery:
        flt = flt.checked().scoped(actor)
        last = month_end(period.last)
        if built_through is not None and built_through >= period.last:
            last = min(last, built_through)
        return cls(actor=actor, flt=flt, first=period.first, last=last)


@dataclass(frozen=True, slots=True)
class Drill:
    code: str
    title: str  # N_() message id
    stage: str
    columns: tuple[DrillColumn, ...]
    query: Callable[[DrillQuery], Select[Any]]  # ordered, most important first


DRILLS: dict[str, Drill] = {}


def register(drill: Drill) -> Drill:
    if drill.code in DRILLS:
        raise ValueError(f"the drill {drill.code!r} is registered twice")
    DRILLS[drill.code] = drill
    return drill


def get(code: str) -> Drill:
    _load()
    try:
        return DRILLS[code]
    except KeyError:
        raise NotFound(f"there is no list {code!r} behind a figure", code=code) from None


def _load() -> None:
    from flywheel.insights import drill_money, drill_people  # noqa: F401  (they register)


def segment_at(day: date) -> Any:
    """A subquery of each account's segment at the end of ``day`` (its latest loyalty score)."""
    latest = (
        select(LoyaltyScore.customer_id, func.max(LoyaltyScore.as_of).label("day"))
        .where(LoyaltyScore.as_of <= day)
        .group_by(LoyaltyScore.customer_id)
        .subquery()
    )
    return (
        select(LoyaltyScore.customer_id, LoyaltyScore.segment)
        .join(
            latest,
            (latest.c.customer_id == LoyaltyScore.customer_id)
            & (latest.c.day == LoyaltyScore.as_of),
        )
        .subquery()
    )


def account_query(*columns: Any) -> Select[Any]:
    """A query on ``Customer`` (joined to what ``columns`` need by the caller) with the
    account's code, name and owner's name first."""
    owner = aliased(User, name="account_owner")
    return (
        select(
            Customer.code.label("code"),
            Customer.name.label("name"),
            func.coalesce(owner.display_name, owner.username).label("owner"),
            *columns,
        )
        .select_from(Customer)
        .outerjoin(owner, owner.id == Customer.owner_id)
    )


def account_clauses(q: DrillQuery) -> list[ColumnElement[bool]]:
    """WHERE clauses on ``Customer`` keeping the accounts of the query's scope and filter (the
    segment at the end of the period)."""
    flt = q.flt
    clauses: list[ColumnElement[bool]] = [visible_customers(q.actor)]
    if flt.owner_id is not None:
        clauses.append(Customer.owner_id == flt.owner_id)
    if flt.region is not None:
        clauses.append(Customer.region == flt.region)
    if flt.tier is not None:
        clauses.append(Customer.tier == flt.tier)
    if flt.segment is not None:
        segments = segment_at(q.last)
        if flt.segment == UNSCORED:
            clauses.append(Customer.id.not_in(select(segments.c.customer_id)))
        else:
            clauses.append(
                Customer.id.in_(
                    select(segments.c.customer_id).where(segments.c.segment == flt.segment)
                )
            )
    return clauses


@dataclass
class DrillPage:
    drill: Drill
    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int


def page(
    session: Session, drill: Drill, q: DrillQuery, *, page: int = 1, size: int = 50
) -> DrillPage:
    statement = drill.query(q)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = [
        dict(r) for r in session.execute(statement.limit(size).offset((page - 1) * size)).mappings()
    ]
    return DrillPage(drill=drill, rows=rows, total=int(total or 0), page=page, size=size)


def all_rows(session: Session, drill: Drill, q: DrillQuery) -> list[dict[str, Any]]:
    """Every row (for an export)."""
    return [dict(r) for r in session.execute(drill.query(q)).mappings()]
