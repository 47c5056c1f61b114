"""The loyalty dashboard's reads of the stored scores: the latest cycle day, accounts, revenue
and CLV per segment, the CLV distribution and the accounts ranked by value at risk.

All read the ``loyalty_scores`` rows of one day, the latest the cycle wrote on or before
``as_of``, of the accounts the actor may see, filtered, in one currency (money never mixes
currencies). Value at risk = CLV × churn risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.loyalty.retention import LoyaltyFilter, account_clauses, cents_to_money, check_as_of
from flywheel.loyalty.segments import SEGMENTS
from flywheel.models.customers import Customer
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.users import User
from flywheel.receivables.ledger_columns import _cents_sql, _ints

CLV_BINS = 20
# The at-risk list shows accounts at least this likely to churn (0.5: more likely than not).
DEFAULT_MIN_CHURN_RISK = 0.5


def latest_day(session: Session, *, as_of: date) -> date | None:
    """The last day on or before ``as_of`` the loyalty cycle wrote scores for (None: never)."""
    check_as_of(as_of)
    day: date | None = session.scalar(
        select(func.max(LoyaltyScore.as_of)).where(LoyaltyScore.as_of <= as_of)
    )
    return day


def _score_clauses(actor: Actor, flt: LoyaltyFilter, day: date) -> list[ColumnElement[bool]]:
    checked = flt.checked()
    return [
        LoyaltyScore.as_of == day,
        LoyaltyScore.customer_id == Customer.id,
        LoyaltyScore.currency == checked.money_currency,
        *account_clauses(actor, checked),
    ]


def _cents(session: Session) -> ColumnElement[int]:
    return _cents_sql(LoyaltyScore.clv, session.get_bind().dialect.name)


# ---------------------------------------------------------------- segments


@dataclass(frozen=True, slots=True)
class SegmentFigures:
    segment: str
    accounts: int
    share: float | None  # of the accounts counted
    revenue_12m: Decimal
    clv: Decimal  # the sum over the segment's accounts with a CLV
    churn_risk: float | None  # the mean


def segment_summary(
    session: Session, *, actor: Actor, flt: LoyaltyFilter, day: date
) -> list[SegmentFigures]:
    """Every segment (best first, empty ones too): accounts, their revenue of the last 12
    months, CLV and mean churn risk on ``day``."""
    rows = session.execute(
        select(
            LoyaltyScore.segment,
            func.count(),
            func.sum(LoyaltyScore.revenue_12m),
            func.sum(LoyaltyScore.clv),
            func.avg(LoyaltyScore.churn_risk),
        )
        .where(*_score_clauses(actor, flt, day))
        .group_by(LoyaltyScore.segment)
    ).all()
    found: dict[str, Any] = {row[0]: row for row in rows}
    total = sum(int(row[1]) for row in rows)
    zero = Decimal("0.00")
    out = []
    for segment in (*SEGMENTS, *sorted(set(found) - set(SEGMENTS))):
        row = found.get(segment)
        count = int(row[1]) if row else 0
        out.append(
            SegmentFigures(
                segment=segment,
                accounts=count,
                share=count / total if total else None,
                revenue_12m=(row[2] if row and row[2] is not None else zero),
                clv=(row[3] if row and row[3] is not None else zero),
                churn_risk=float(row[4]) if row and row[4] is not None else None,
            )
        )
    return out


# ---------------------------------------------------------------- CLV distribution


@dataclass(frozen=True, slots=True)
class ClvDistribution:
    """Accounts per CLV bin: bin i holds edges[i] ≤ CLV < edges[i + 1]; the last bin is
    open-ended (edges[-1] ≤ CLV), so a few giants do not squash the chart."""

    edges: list[Decimal]
    counts: list[int]
    accounts: int  # with a CLV
    without_clv: int
    total: Decimal
    mean: Decimal | None
    median: Decimal | None
    p90: Decimal | None


def nice_step(span: float, bins: int) -> float:
    """A bin width of 1, 2, 2.5 or 5 times a power of ten, so that ``bins`` bins cover
    ``span``."""
    raw = span / bins
    if raw <= 0:
        return 1.0
    power = float(10.0 ** math.floor(math.log10(raw)))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= raw:
            return factor * power
    return 10.0 * power


def histogram(cents: np.ndarray[Any, Any], bins: int = CLV_BINS) -> tuple[list[int], list[int]]:
    """(edges in cents, counts) of ``cents``; the top edge sits at the 99th percentile."""
    if cents.size == 0:
        return [], []
    values = np.maximum(cents, 0)
    top = float(np.percentile(values, 99)) or float(values.max())
    step = max(round(nice_step(top, bins - 1)), 1)
    step = max(step, 100)  # whole currency units
    edges = [i * step for i in range(bins)]
    index = np.minimum(values // step, bins - 1).astype(np.int64)
    counts = np.bincount(index, minlength=bins)
    # Drop empty bins at the top end (a narrow distribution needs fewer).
    last = int(np.flatnonzero(counts).max()) + 1
    return edges[:last], [int(c) for c in counts[:last]]


def clv_distribution(
    session: Session, *, actor: Actor, flt: LoyaltyFilter, day: date, bins: int = CLV_BINS
) -> ClvDistribution:
    if not 2 <= bins <= 100:
        raise ValidationFailed("bins must be from 2 to 100", field="bins", value=bins)
    clauses = _score_clauses(actor, flt, day)
    values = _ints(
        session,
        select(_cents(session)).where(*clauses, LoyaltyScore.clv.is_not(None)),
        1,
    )[:, 0]
    without = session.scalar(
        select(func.count()).select_from(LoyaltyScore).where(*clauses, LoyaltyScore.clv.is_(None))
    )
    edges, counts = histogram(values, bins)
    n = int(values.size)

    def money(cents: float) -> Decimal:
        return cents_to_money(round(cents))

    return ClvDistribution(
        edges=[cents_to_money(e) for e in edges],
        counts=counts,
        accounts=n,
        without_clv=int(without or 0),
        total=cents_to_money(int(values.sum())) if n else Decimal("0.00"),
        mean=money(float(values.mean())) if n else None,
        median=money(float(np.median(values))) if n else None,
        p90=money(float(np.percentile(values, 90))) if n else None,
    )


# ---------------------------------------------------------------- at risk


@dataclass(frozen=True, slots=True)
class AtRiskAccount:
    customer_id: int
    code: str
    name: str
    owner: str | None  # username
    owner_name: str | None
    segment: str
    health: int
    health_band: str
    health_trend: str
    p_alive: float | None
    churn_risk: float
    clv: Decimal
    value_at_risk: Decimal
    last_order_on: date | None


@dataclass(frozen=True, slots=True)
class AtRiskPage:
    total: int
    value_at_risk: Decimal  # of every account in the list, not only this page
    items: list[AtRiskAccount]


def at_risk(
    session: Session,
    *,
    actor: Actor,
    flt: LoyaltyFilter,
    day: date,
    min_churn_risk: float = DEFAULT_MIN_CHURN_RISK,
    limit: int = 50,
    offset: int = 0,
) -> AtRiskPage:
    """Accounts with a CLV and a churn risk of at least ``min_churn_risk``, by value at risk
    (CLV × churn risk), highest first."""
    if not 0.0 <= min_churn_risk <= 1.0:
        raise ValidationFailed(
            "min_churn_risk must be from 0 to 1", field="min_churn_risk", value=min_churn_risk
        )
    risk_cents = _cents(session) * LoyaltyScore.churn_risk
    where = [
        *_score_clauses(actor, flt, day),
        LoyaltyScore.clv.is_not(None),
        LoyaltyScore.clv > 0,
        LoyaltyScore.churn_risk > 0,
        LoyaltyScore.churn_risk >= min_churn_risk,
    ]
    total, total_cents = session.execute(
        select(func.count(), func.sum(risk_cents)).select_from(LoyaltyScore).where(*where)
    ).one()
    rows = session.execute(
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            User.username,
            User.display_name,
            LoyaltyScore.segment,
            LoyaltyScore.health,
            LoyaltyScore.health_band,
            LoyaltyScore.health_trend,
            LoyaltyScore.p_alive,
            LoyaltyScore.churn_risk,
            LoyaltyScore.clv,
            LoyaltyScore.last_order_on,
        )
        .select_from(LoyaltyScore)
        .join(Customer, LoyaltyScore.customer_id == Customer.id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(*where)
        .order_by(risk_cents.desc(), Customer.id)
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        AtRiskAccount(
            customer_id=r[0],
            code=r[1],
            name=r[2],
            owner=r[3],
            owner_name=(r[4] or r[3]) if r[3] else None,
            segment=r[5],
            health=int(r[6]),
            health_band=r[7],
            health_trend=r[8],
            p_alive=r[9],
            churn_risk=float(r[10]),
            clv=r[11],
            value_at_risk=(r[11] * Decimal(repr(float(r[10])))).quantize(Decimal("0.01")),
            last_order_on=r[12],
        )
        for r in rows
    ]
    return AtRiskPage(
        total=int(total or 0),
        value_at_risk=cents_to_money(round(float(total_cents or 0))),
        items=items,
    )


# ---------------------------------------------------------------- segments by group

BREAKDOWNS = ("owner", "region", "tier")


@dataclass(frozen=True, slots=True)
class SegmentGroup:
    key: str  # username, region or tier; "" for none
    label: str  # the owner's display name; else the key
    accounts: int
    segments: list[SegmentFigures]


def segment_breakdown(
    session: Session, *, actor: Actor, flt: LoyaltyFilter, day: date, by: str
) -> list[SegmentGroup]:
    """``segment_summary`` per owner, region or tier (largest group first)."""
    if by not in BREAKDOWNS:
        raise ValidationFailed(
            f"by must be one of {', '.join(BREAKDOWNS)}, not {by!r}", field="by", value=by
        )
    key: Any = {
        "owner": func.coalesce(User.username, ""),
        "region": func.coalesce(Customer.region, ""),
        "tier": Customer.tier,
    }[by]
    label: Any = func.coalesce(User.display_name, User.username, "") if by == "owner" else key
    rows = session.execute(
        select(
            key,
            func.max(label),
            LoyaltyScore.segment,
            func.count(),
            func.sum(LoyaltyScore.revenue_12m),
            func.sum(LoyaltyScore.clv),
            func.avg(LoyaltyScore.churn_risk),
        )
        .select_from(LoyaltyScore)
        .join(Customer, LoyaltyScore.customer_id == Customer.id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(*_score_clauses(actor, flt, day))
        .group_by(key, LoyaltyScore.segment)
    ).all()
    grouped: dict[str, list[Any]] = {}
    names: dict[str, str] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
        names[row[0]] = row[1] or row[0]
    zero = Decimal("0.00")
    groups = []
    for group, members in grouped.items():
        found = {m[2]: m for m in members}
        total = sum(int(m[3]) for m in members)
        groups.append(
            SegmentGroup(
                key=group,
                label=names[group],
                accounts=total,
                segments=[
                    SegmentFigures(
                        segment=s,
                        accounts=int(found[s][3]) if s in found else 0,
                        share=(int(found[s][3]) / total) if s in found else 0.0,
                        revenue_12m=found[s][4] if s in found and found[s][4] is not None else zero,
                        clv=found[s][5] if s in found and found[s][5] is not None else zero,
                        churn_risk=float(found[s][6])
                        if s in found and found[s][6] is not None
                        else None,
                    )
                    for s in (*SEGMENTS, *sorted(set(found) - set(SEGMENTS)))
                ],
            )
        )
    groups.sort(key=lambda g: (-g.accounts, g.key))
    return groups
