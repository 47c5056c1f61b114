"""Repeat purchase, cohort retention and NRR/GRR of the accounts an actor may see, filtered by
owner, region and tier, in one currency (``analytics.retention`` has the definitions).

Money never mixes currencies: the figures are of the accounts billed in one currency, the
company's base currency (``FLYWHEEL_BASE_CURRENCY``) unless another is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from flywheel.analytics import retention as maths
from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.config import get_settings
from flywheel.errors import ValidationFailed
from flywheel.kit.i18n import N_
from flywheel.loyalty.frame import LoyaltyFrame, read_frame
from flywheel.models.customers import Customer
from flywheel.models.enums import Tier
from flywheel.models.users import User

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
PERIODS = maths.PERIODS
# How many periods the NRR/GRR series shows by default, per period length.
DEFAULT_PERIODS: dict[str, int] = {"month": 12, "quarter": 8, "year": 5}
MAX_PERIODS = 120
DEFAULT_COHORT_MONTHS = 24
MAX_COHORT_MONTHS = 120


def check_as_of(as_of: date) -> date:
    if not EARLIEST <= as_of <= LATEST:
        raise ValidationFailed(
            f"as_of must be between {EARLIEST} and {LATEST}", field="as_of", value=str(as_of)
        )
    return as_of


def check_period(period: str) -> maths.Period:
    if period not in PERIODS:
        raise ValidationFailed(
            f"period must be one of {', '.join(PERIODS)}, not {period!r}",
            field="period",
            value=period,
        )
    return maths.check_period(period)


def cents_to_money(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class LoyaltyFilter:
    """Which accounts count: of this owner (username), region and tier, billed in
    ``currency`` (None: the base currency)."""

    owner: str | None = None
    region: str | None = None
    tier: str | None = None
    currency: str | None = None

    def checked(self) -> LoyaltyFilter:
        if self.tier and self.tier not in {t.value for t in Tier}:
            raise ValidationFailed(
                f"tier must be one of {', '.join(t.value for t in Tier)}, not {self.tier!r}",
                field="tier",
                value=self.tier,
            )
        code = (self.currency or get_settings().base_currency).strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValidationFailed(
                "a currency is three letters, like CNY or USD", field="currency", value=code
            )
        return replace(
            self,
            owner=(self.owner or "").strip() or None,
            region=(self.region or "").strip() or None,
            tier=self.tier or None,
            currency=code,
        )

    @property
    def money_currency(self) -> str:
        return self.currency or get_settings().base_currency


def account_clauses(actor: Actor, flt: LoyaltyFilter) -> list[ColumnElement[bool]]:
    """WHERE clauses on ``Customer``: the actor's scope, then the filter."""
    clauses: list[ColumnElement[bool]] = [
        visible_customers(actor),
        Customer.currency == flt.money_currency,
    ]
    if flt.owner:
        clauses.append(Customer.owner_id.in_(select(User.id).where(User.username == flt.owner)))
    if flt.region:
        clauses.append(Customer.region == flt.region)
    if flt.tier:
        clauses.append(Customer.tier == flt.tier)
    return clauses


def restrict(frame: LoyaltyFrame, keep: BoolArray) -> LoyaltyFrame:
    """The frame of the accounts where ``keep`` holds, purchase days renumbered."""
    keep = np.asarray(keep, dtype=bool)
    new_row = np.cumsum(keep, dtype=np.int64) - 1
    day_kept = keep[frame.day_customer]
    purchase_days = frame.purchase_days[keep]
    return LoyaltyFrame(
        as_of=frame.as_of,
        as_of_day=frame.as_of_day,
        customer_id=frame.customer_id[keep],
        tier=frame.tier[keep],
        owner_id=frame.owner_id[keep],
        region=frame.region[keep],
        currency=frame.currency[keep],
        status=frame.status[keep],
        created_day=frame.created_day[keep],
        day_start=np.concatenate(([0], np.cumsum(purchase_days))).astype(np.int64),
        day_customer=new_row[frame.day_customer[day_kept]],
        day=frame.day[day_kept],
        day_cents=frame.day_cents[day_kept],
        day_orders=frame.day_orders[day_kept],
        orders=frame.orders[keep],
        purchase_days=purchase_days,
        first_day=frame.first_day[keep],
        last_day=frame.last_day[keep],
        revenue_cents=frame.revenue_cents[keep],
    )


def read_scoped_frame(
    session: Session, *, as_of: date, customers: list[ColumnElement[bool]]
) -> LoyaltyFrame:
    """``frame.read_frame`` of only the accounts passing the WHERE clauses ``customers``."""
    return read_frame(session, as_of=as_of, customers=customers)


# Above this share of all accounts in scope, reading every order and dropping the rest in numpy
# is faster than narrowing the orders in SQL (measured on 100,000 accounts: 3.4 s against 5.5 s
# for nine accounts in ten; a sales rep's 460 accounts: 0.15 s narrowed).
FULL_READ_SHARE = 0.25


def scoped_frame(
    session: Session, *, actor: Actor, flt: LoyaltyFilter, as_of: date
) -> LoyaltyFrame:
    """The loyalty frame of the accounts ``actor`` may see that pass ``flt``."""
    check_as_of(as_of)
    clauses = account_clauses(actor, flt.checked())
    inside = session.scalar(select(func.count()).select_from(Customer).where(*clauses)) or 0
    everyone = session.scalar(select(func.count()).select_from(Customer)) or 0
    if inside == 0 or inside < FULL_READ_SHARE * everyone:
        return read_scoped_frame(session, as_of=as_of, customers=clauses)
    frame = read_frame(session, as_of=as_of)
    ids = np.fromiter(session.scalars(select(Customer.id).where(*clauses)), dtype=np.int64)
    return restrict(frame, np.isin(frame.customer_id, ids))


# ---------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class RepeatFigures:
    accounts: int
    buyers: int
    repeat_buyers: int
    rate: float | None


def repeat_figures(frame: LoyaltyFrame) -> RepeatFigures:
    figures = maths.repeat_purchase(frame.purchase_days)
    return RepeatFigures(len(frame), figures.buyers, figures.repeat_buyers, figures.rate)


@dataclass(frozen=True, slots=True)
class CohortRow:
    month: str  # "2026-03": the first-purchase month
    size: int
    customers: list[int | None]  # per month k from 0; None: not observed yet
    revenue: list[Decimal | None]
    customer_retention: list[float | None]
    revenue_retention: list[float | None]


def _nan_to_none(values: npt.NDArray[np.float64]) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values.tolist()]


def cohort_rows(frame: LoyaltyFrame, *, months: int = DEFAULT_COHORT_MONTHS) -> list[CohortRow]:
    """The cohorts of the last ``months`` first-purchase months, oldest first."""
    if not 1 <= months <= MAX_COHORT_MONTHS:
        raise ValidationFailed(
            f"months must be from 1 to {MAX_COHORT_MONTHS}", field="months", value=months
        )
    table = maths.cohort_retention(
        first_day=frame.first_day,
        day_account=frame.day_customer,
        day=frame.day,
        day_cents=frame.day_cents,
        as_of=frame.as_of,
        months=months,
    )
    share, ratio = table.customer_retention, table.revenue_retention
    rows = []
    for c, month in enumerate(table.months.tolist()):
        seen = table.observed[c]
        rows.append(
            CohortRow(
                month=maths.month_label(month),
                size=int(table.size[c]),
                customers=[
                    int(v) if s else None
                    for v, s in zip(table.customers[c].tolist(), seen, strict=True)
                ],
                revenue=[
                    cents_to_money(v) if s else None
                    for v, s in zip(table.revenue_cents[c].tolist(), seen, strict=True)
                ],
                customer_retention=_nan_to_none(share[c]),
                revenue_retention=_nan_to_none(ratio[c]),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    period: str  # "2026-03", "2026-Q1" or "2026"
    start: date
    end: date
    start_customers: int
    retained_customers: int
    start_revenue: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    end_revenue: Decimal
    new_revenue: Decimal
    nrr: float | None
    grr: float | None


def net_retention(
    frame: LoyaltyFrame, *, period: str, periods: int | None = None
) -> list[PeriodFigures]:
    """NRR and GRR of the last whole periods up to the frame's ``as_of``, oldest first."""
    kind = check_period(period)
    count = DEFAULT_PERIODS[kind] if periods is None else periods
    if not 1 <= count <= MAX_PERIODS:
        raise ValidationFailed(
            f"periods must be from 1 to {MAX_PERIODS}", field="periods", value=count
        )
    series = maths.net_retention(
        day_account=frame.day_customer,
        day=frame.day,
        day_cents=frame.day_cents,
        n_accounts=len(frame),
        as_of=frame.as_of,
        period=kind,
        periods=count,
    )
    figures = []
    for p in series:
        first, last = maths.period_bounds(p.index, kind)
        figures.append(
            PeriodFigures(
                period=maths.period_label(p.index, kind),
                start=first,
                end=last,
                start_customers=p.start_customers,
                retained_customers=p.retained_customers,
                start_revenue=cents_to_money(p.start_cents),
                expansion=cents_to_money(p.expansion_cents),
                contraction=cents_to_money(p.contraction_cents),
                churn=cents_to_money(p.churn_cents),
                end_revenue=cents_to_money(p.end_cents),
                new_revenue=cents_to_money(p.new_cents),
                nrr=p.nrr,
                grr=p.grr,
            )
        )
    return figures


NRR_FORMULA = N_("NRR = (start + expansion − contraction − churn) ÷ start")
GRR_FORMULA = N_("GRR = (start − contraction − churn) ÷ start")
