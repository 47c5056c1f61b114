"""Referral figures: the revenue a won referral brought (the referred account's orders within
the attribution window), the referral KPIs of a period, and an account's referral summary for
its 360 panel. Reads only; every query is scoped by the actor and aggregates in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Row,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.config import Settings, get_settings
from flywheel.errors import ValidationFailed
from flywheel.kit.shapes import EARLIEST, LATEST
from flywheel.loyalty.referrals import CENT, OPEN_STATUSES, SYSTEM, Referred, lead_name
from flywheel.models.customers import Customer
from flywheel.models.enums import OrderStatus, ReferralStatus, RewardStatus
from flywheel.models.loyalty import Referral
from flywheel.models.sales import Order

ACTIVE_DAYS = 365  # an active customer bought in the last twelve months


def check_days(**days: date | None) -> None:
    """Refuse a day outside the calendar the application keeps (1900–2999), so that the
    arithmetic on it never overflows."""
    for name, day in days.items():
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ValidationFailed(f"{name}: dates run from {EARLIEST} to {LATEST}", field=name)


# ----------------------------------------------------------------------------- revenue and KPIs


class add_days(FunctionElement[date]):
    """``day + n`` days in SQL: ``date(day, '+n days')`` on SQLite (dates are ISO text there),
    ``day + n`` on PostgreSQL."""

    type = Date()
    inherit_cache = True


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '+' || {compiler.process(days, **kw)} || ' days')"


@compiles(add_days)
def _add_days_default(element: add_days, compiler: Any, **kw: Any) -> str:
    day, days = list(element.clauses)
    return f"({compiler.process(day, **kw)} + {compiler.process(days, **kw)})"


def _attributed_orders(
    attribution_days: int, start: date | None, end: date
) -> tuple[ColumnElement[bool], ...]:
    """Orders of a won referral's account within its attribution window (and the period)."""
    last_day = add_days(Referral.won_on, literal(attribution_days - 1, Integer()))
    conditions: list[ColumnElement[bool]] = [
        Referral.status == ReferralStatus.WON.value,
        Order.customer_id == Referral.referred_customer_id,
        Order.status != OrderStatus.CANCELLED.value,
        Order.order_date >= Referral.won_on,
        Order.order_date <= last_day,
        Order.order_date <= end,
    ]
    if start is not None:
        conditions.append(Order.order_date >= start)
    return tuple(conditions)


def revenue_attributed(
    session: Session,
    actor: Actor,
    *,
    end: date,
    start: date | None = None,
    attribution_days: int,
    customer_id: int | None = None,
    referral_id: int | None = None,
) -> dict[str, Decimal]:
    """Per currency, the orders (not cancelled) of referred accounts dated from their
    referral's ``won_on`` for ``attribution_days`` days, up to ``end`` (and from ``start``),
    of the referrals the actor may see (of one referrer, or one referral)."""
    stmt = (
        select(Order.currency, func.sum(Order.amount))
        .select_from(Referral)
        .join(Customer, Customer.id == Referral.customer_id)
        .join(Order, and_(*_attributed_orders(attribution_days, start, end)))
        .where(visible_customers(actor))
        .group_by(Order.currency)
        .order_by(Order.currency)
    )
    if customer_id is not None:
        stmt = stmt.where(Referral.customer_id == customer_id)
    if referral_id is not None:
        stmt = stmt.where(Referral.id == referral_id)
    return {str(c): Decimal(a).quantize(CENT) for c, a in session.execute(stmt)}


def _scoped_count(session: Session, actor: Actor, *conditions: ColumnElement[bool]) -> int:
    stmt = (
        select(func.count(Referral.id))
        .select_from(Referral)
        .join(Customer, Customer.id == Referral.customer_id)
        .where(visible_customers(actor), *conditions)
    )
    return int(session.scalar(stmt) or 0)


def kpis(
    session: Session,
    actor: Actor,
    *,
    start: date,
    end: date,
    as_of: date | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The referral KPIs of [start, end] (both days included) as known on ``as_of`` (default
    ``end``), in the actor's scope:

    * ``made``: referrals made (``referred_on``) in the period; ``won``: won in the period;
      ``lost``: of those made, lost by ``as_of``; ``conversion_rate``: the share of those made
      in the period that were won by ``as_of``;
    * ``revenue_attributed``: per currency, referred accounts' orders dated in the period and
      within their referral's attribution window;
    * ``rewards_granted``: how many, and the amount per currency, granted in the period;
    * ``referral_rate``: the share of active customers (an order, not cancelled, in the 365
      days up to ``as_of``) that referred at least one lead in the period;
    * ``referred_new_share``: the share of the accounts created in the period that came
      through a referral (their "referred by" is set).
    """
    as_of = as_of or end
    settings = settings or get_settings()
    check_days(start=start, end=end, as_of=as_of)
    if start > end:
        raise ValidationFailed("start: the period starts after it ends", field="start")
    in_period = and_(Referral.referred_on >= start, Referral.referred_on <= end)
    made = _scoped_count(session, actor, in_period, Referral.referred_on <= as_of)
    made_won = _scoped_count(
        session,
        actor,
        in_period,
        Referral.referred_on <= as_of,
        Referral.status == ReferralStatus.WON.value,
        Referral.won_on <= as_of,
    )
    made_lost = _scoped_count(
        session,
        actor,
        in_period,
        Referral.referred_on <= as_of,
        Referral.status == ReferralStatus.LOST.value,
    )
    won = _scoped_count(
        session,
        actor,
        Referral.status == ReferralStatus.WON.value,
        Referral.won_on >= start,
        Referral.won_on <= min(end, as_of),
    )
    granted_rows = session.execute(
        select(Referral.reward_currency, func.count(Referral.id), func.sum(Referral.reward_amount))
        .select_from(Referral)
        .join(Customer, Customer.id == Referral.customer_id)
        .where(
            visible_customers(actor),
            Referral.reward_status == RewardStatus.GRANTED.value,
            Referral.reward_granted_on >= start,
            Referral.reward_granted_on <= min(end, as_of),
        )
        .group_by(Referral.reward_currency)
        .order_by(Referral.reward_currency)
    ).all()
    active_since = as_of - timedelta(days=ACTIVE_DAYS - 1)
    # One index seek per account (orders by customer and date) beats reading a year of orders.
    bought = (
        select(Order.id)
        .where(
            Order.customer_id == Customer.id,
            Order.order_date >= active_since,
            Order.order_date <= as_of,
            Order.status != OrderStatus.CANCELLED.value,
        )
        .correlate(Customer)
        .exists()
    )
    referred_lead = (
        select(Referral.id)
        .where(Referral.customer_id == Customer.id, in_period, Referral.referred_on <= as_of)
        .correlate(Customer)
        .exists()
    )
    active, active_referring = session.execute(
        select(func.count(Customer.id), func.sum(case((referred_lead, 1), else_=0))).where(
            visible_customers(actor), bought
        )
    ).one()
    new, new_referred = session.execute(
        select(
            func.count(Customer.id),
            func.sum(case((Customer.referred_by_id.is_not(None), 1), else_=0)),
        ).where(
            visible_customers(actor),
            Customer.created_on >= start,
            Customer.created_on <= min(end, as_of),
        )
    ).one()
    revenue = revenue_attributed(
        session,
        actor,
        start=start,
        end=min(end, as_of),
        attribution_days=settings.referral_attribution_days,
    )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "as_of": as_of.isoformat(),
        "made": made,
        "won": won,
        "made_won": made_won,
        "made_lost": made_lost,
        "conversion_rate": round(made_won / made, 4) if made else None,
        "revenue_attributed": {c: f"{a:.2f}" for c, a in revenue.items()},
        "rewards_granted": sum(int(n) for _c, n, _a in granted_rows),
        "rewards_granted_amount": {
            str(c): f"{Decimal(a or 0):.2f}" for c, _n, a in granted_rows if c is not None
        },
        "active_customers": int(active or 0),
        "active_referring": int(active_referring or 0),
        "referral_rate": round(int(active_referring) / int(active), 4) if active else None,
        "new_customers": int(new or 0),
        "new_referred": int(new_referred or 0),
        "referred_new_share": round(int(new_referred or 0) / int(new), 4) if new else None,
    }


# ----------------------------------------------------------------------------- the 360 panel


# Built once with bound parameters: every account's 360 runs them.
_REFERRAL_COUNTS = select(
    func.count(Referral.id),
    func.sum(case((Referral.status == ReferralStatus.WON.value, 1), else_=0)),
    func.sum(case((Referral.status.in_([s.value for s in OPEN_STATUSES]), 1), else_=0)),
).where(Referral.customer_id == bindparam("customer_id"))
_REFERRED_BY = (
    select(Referral.id, Customer.code, Customer.name)
    .join(Customer, Customer.id == Referral.customer_id)
    .where(Referral.referred_customer_id == bindparam("customer_id"))
)


def referral_summary(
    session: Session,
    customer_id: int,
    *,
    as_of: date | None = None,
    settings: Settings | None = None,
    last: int = 5,
) -> dict[str, Any]:
    """An account's referrals for its 360 panel: how many it made and won, the revenue its won
    referrals brought (up to ``as_of``; default: every order recorded), the last few, and who
    referred the account itself. The caller has already checked the account is visible."""
    settings = settings or get_settings()
    made, won, still_open = session.execute(_REFERRAL_COUNTS, {"customer_id": customer_id}).one()
    referred_by = session.execute(_REFERRED_BY, {"customer_id": customer_id}).first()
    revenue: dict[str, Decimal] = {}
    rows: Sequence[Row[Referral, Customer]] = ()
    if made:  # most accounts never referred anyone: nothing more to read for them
        revenue = revenue_attributed(
            session,
            SYSTEM,
            end=as_of or date(2999, 12, 31),
            attribution_days=settings.referral_attribution_days,
            customer_id=customer_id,
        )
        rows = session.execute(
            select(Referral, Referred)
            .outerjoin(Referred, Referred.id == Referral.referred_customer_id)
            .where(Referral.customer_id == customer_id)
            .order_by(Referral.referred_on.desc(), Referral.id.desc())
            .limit(last)
        ).all()
    return {
        "made": int(made or 0),
        "won": int(won or 0),
        "open": int(still_open or 0),
        "revenue_attributed": {c: f"{a:.2f}" for c, a in revenue.items()},
        "referred_by": (
            {"referral_id": referred_by[0], "code": referred_by[1], "name": referred_by[2]}
            if referred_by
            else None
        ),
        "recent": [
            {
                "id": referral.id,
                "lead": lead_name(referral, referred),
                "referred_customer": referred.code if referred else None,
                "status": referral.status,
                "referred_on": referral.referred_on.isoformat(),
                "won_on": referral.won_on.isoformat() if referral.won_on else None,
                "reward_status": referral.reward_status,
            }
            for referral, referred in rows
        ],
    }
