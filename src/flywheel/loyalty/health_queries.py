"""Reading the stored loyalty scores for one account (the latest row and its history) and for
lists (health by band, owner and tier; the largest CLVs), inside the reader's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.errors import ValidationFailed
from flywheel.models.customers import Customer
from flywheel.models.enums import HealthBand, Tier
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.users import User
from flywheel.receivables.ledger_columns import _cents_sql

HISTORY_DAYS = 90


class HealthSort(StrEnum):
    VALUE_AT_RISK = "value_at_risk"  # CLV × churn risk, highest first
    HEALTH = "health"  # lowest first


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    as_of: date
    health: int
    band: str
    churn_risk: float


# Built once with bound parameters: every account's 360 asks.
_LATEST_SCORE = (
    select(LoyaltyScore)
    .where(
        LoyaltyScore.customer_id == bindparam("customer_id"),
        LoyaltyScore.as_of <= bindparam("as_of"),
    )
    .order_by(LoyaltyScore.as_of.desc())
    .limit(1)
)


def latest_score(session: Session, customer_id: int, *, as_of: date) -> LoyaltyScore | None:
    """The account's newest stored row on or before ``as_of``."""
    return session.scalar(_LATEST_SCORE, {"customer_id": customer_id, "as_of": as_of})


def history(
    session: Session, customer_id: int, *, until: date, days: int = HISTORY_DAYS
) -> list[HistoryPoint]:
    """Health and churn risk of the stored days from ``days`` − 1 days before ``until`` to it,
    oldest first."""
    rows = session.execute(
        select(
            LoyaltyScore.as_of,
            LoyaltyScore.health,
            LoyaltyScore.health_band,
            LoyaltyScore.churn_risk,
        )
        .where(
            LoyaltyScore.customer_id == customer_id,
            LoyaltyScore.as_of > until - timedelta(days=days),
            LoyaltyScore.as_of <= until,
        )
        .order_by(LoyaltyScore.as_of)
    ).all()
    return [HistoryPoint(r[0], int(r[1]), r[2], float(r[3])) for r in rows]


def latest_day(session: Session, *, as_of: date) -> date | None:
    """The last day on or before ``as_of`` the loyalty cycle stored scores for."""
    day: date | None = session.scalar(
        select(func.max(LoyaltyScore.as_of)).where(LoyaltyScore.as_of <= as_of)
    )
    return day


@dataclass(frozen=True, slots=True)
class HealthFilter:
    band: str | None = None
    owner: str | None = None  # username
    tier: str | None = None
    currency: str | None = None

    def checked(self) -> HealthFilter:
        if self.band and self.band not in {b.value for b in HealthBand}:
            raise ValidationFailed(
                f"band must be one of {', '.join(b.value for b in HealthBand)}, not {self.band!r}",
                field="band",
                value=self.band,
            )
        if self.tier and self.tier not in {t.value for t in Tier}:
            raise ValidationFailed(
                f"tier must be one of {', '.join(t.value for t in Tier)}, not {self.tier!r}",
                field="tier",
                value=self.tier,
            )
        currency = (self.currency or "").strip().upper() or None
        if currency is not None and (len(currency) != 3 or not currency.isalpha()):
            raise ValidationFailed(
                "a currency is three letters, like CNY or USD", field="currency", value=currency
            )
        return HealthFilter(
            band=self.band or None,
            owner=(self.owner or "").strip() or None,
            tier=self.tier or None,
            currency=currency,
        )


@dataclass(frozen=True, slots=True)
class HealthRow:
    customer_id: int
    code: str
    name: str
    owner: str | None
    tier: str
    score: LoyaltyScore
    value_at_risk: Decimal | None  # CLV × churn risk, in the account's currency


@dataclass(frozen=True, slots=True)
class HealthPage:
    day: date | None  # the stored day the rows are of
    total: int
    items: list[HealthRow]


def _clauses(actor: Actor, flt: HealthFilter, day: date) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        LoyaltyScore.as_of == day,
        visible_customers(actor),
    ]
    if flt.band:
        clauses.append(LoyaltyScore.health_band == flt.band)
    if flt.owner:
        clauses.append(Customer.owner_id.in_(select(User.id).where(User.username == flt.owner)))
    if flt.tier:
        clauses.append(Customer.tier == flt.tier)
    if flt.currency:
        clauses.append(LoyaltyScore.currency == flt.currency)
    return clauses


def _value_at_risk(score: LoyaltyScore) -> Decimal | None:
    if score.clv is None:
        return None
    return (score.clv * Decimal(repr(float(score.churn_risk)))).quantize(Decimal("0.01"))


def health_page(
    session: Session,
    *,
    actor: Actor,
    as_of: date,
    flt: HealthFilter,
    sort: HealthSort = HealthSort.VALUE_AT_RISK,
    limit: int = 50,
    offset: int = 0,
) -> HealthPage:
    """The accounts of the last stored day on or before ``as_of`` that the filter keeps, by
    value at risk (highest first; no CLV last) or by health (lowest first)."""
    flt = flt.checked()
    day = latest_day(session, as_of=as_of)
    if day is None:
        return HealthPage(day=None, total=0, items=[])
    where = _clauses(actor, flt, day)
    base = (
        select(LoyaltyScore, Customer.code, Customer.name, Customer.tier, User.username)
        .join(Customer, Customer.id == LoyaltyScore.customer_id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(*where)
    )
    total = session.scalar(
        select(func.count())
        .select_from(LoyaltyScore)
        .join(Customer, Customer.id == LoyaltyScore.customer_id)
        .where(*where)
    )
    if sort == HealthSort.HEALTH:
        ordered = base.order_by(LoyaltyScore.health, LoyaltyScore.churn_risk.desc(), Customer.code)
    else:
        at_risk = _cents_sql(LoyaltyScore.clv, session.get_bind().dialect.name) * (
            LoyaltyScore.churn_risk
        )
        ordered = base.order_by(
            LoyaltyScore.clv.is_(None), at_risk.desc(), LoyaltyScore.health, Customer.code
        )
    rows = session.execute(ordered.limit(limit).offset(offset)).all()
    return HealthPage(
        day=day,
        total=int(total or 0),
        items=[
            HealthRow(
                customer_id=score.customer_id,
                code=code,
                name=name,
                owner=owner,
                tier=tier,
                score=score,
                value_at_risk=_value_at_risk(score),
            )
            for score, code, name, tier, owner in rows
        ],
    )


@dataclass(frozen=True, slots=True)
class ClvRow:
    code: str
    name: str
    currency: str
    clv: Decimal
    p_alive: float | None
    expected_purchases_365: float | None
    segment: str
    health: int
    churn_risk: float


@dataclass(frozen=True, slots=True)
class ClvTotal:
    currency: str
    accounts: int
    clv: Decimal


def top_clv(
    session: Session, *, actor: Actor, as_of: date, limit: int
) -> tuple[date | None, list[ClvRow], list[ClvTotal]]:
    """The accounts with the largest CLV on the last stored day (per currency, largest
    first), and the CLV totals per currency."""
    day = latest_day(session, as_of=as_of)
    if day is None:
        return None, [], []
    where = [
        LoyaltyScore.as_of == day,
        LoyaltyScore.clv.is_not(None),
        visible_customers(actor),
    ]
    joined = select(LoyaltyScore.currency).join(Customer, Customer.id == LoyaltyScore.customer_id)
    totals = [
        ClvTotal(currency=c, accounts=int(n), clv=Decimal(s or 0).quantize(Decimal("0.01")))
        for c, n, s in session.execute(
            joined.add_columns(func.count(), func.sum(LoyaltyScore.clv))
            .where(*where)
            .group_by(LoyaltyScore.currency)
            .order_by(LoyaltyScore.currency)
        )
    ]
    cents = _cents_sql(LoyaltyScore.clv, session.get_bind().dialect.name)
    rows = session.execute(
        select(LoyaltyScore, Customer.code, Customer.name)
        .join(Customer, Customer.id == LoyaltyScore.customer_id)
        .where(*where)
        .order_by(cents.desc(), Customer.code)
        .limit(limit)
    ).all()
    return (
        day,
        [
            ClvRow(
                code=code,
                name=name,
                currency=s.currency,
                clv=s.clv,
                p_alive=s.p_alive,
                expected_purchases_365=s.expected_purchases_365,
                segment=s.segment,
                health=s.health,
                churn_risk=s.churn_risk,
            )
            for s, code, name in rows
            if s.clv is not None
        ],
        totals,
    )
