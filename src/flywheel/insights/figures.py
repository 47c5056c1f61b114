"""The dashboard's figures: read the cube's monthly totals for a filter, then evaluate each KPI
(a ratio of sums) for the period, the period before, every month of the trend, and against its
target."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.insights.cube import add_months
from flywheel.insights.periods import SERIES_MONTHS, InsightFilter, Period
from flywheel.models.insights import (
    MEASURES,
    InsightMonth,
    KpiTarget,
    insight_cells,
    insight_markets,
)

# Money measures count in the filter's currency only; every other measure over all currencies.
MONEY = frozenset(
    {
        "pipeline_created",
        "won_value",
        "base_revenue",
        "retained_revenue",
        "kept_revenue",
        "clv_sum",
        # Not money, but the accounts the CLV sum is of: the average CLV divides the two in
        # one currency.
        "clv_accounts",
        "ar_total",
        "ar_current",
        "ar_beginning",
        "sales_window",
        "collected",
    }
)
# States at a month's end: a period takes its last month's. The rest are events, summed.
STOCK = frozenset(
    {
        "accounts",
        "key_accounts",
        "key_accounts_planned",
        "buyers_12m",
        "repeat_buyers_12m",
        "base_accounts",
        "retained_accounts",
        "expanded_accounts",
        "base_revenue",
        "retained_revenue",
        "kept_revenue",
        "clv_accounts",
        "clv_sum",
        "health_green",
        "health_yellow",
        "health_red",
        "churn_high",
        "ar_total",
        "ar_current",
        "ar_beginning",
        "sales_window",
        "overdue_accounts",
    }
)
CASH_WINDOW_DAYS = 90  # the receivables page's DSO and CEI period


@dataclass(frozen=True)
class MonthTotals:
    """One month's measures for a filter: counts over all currencies, money in one currency."""

    month: date
    values: Mapping[str, float]
    built: bool


def _table_for(flt: InsightFilter) -> Any:
    return insight_cells if flt.owner_id is not None else insight_markets


def _where(table: Any, flt: InsightFilter) -> list[Any]:
    clauses = []
    if flt.owner_id is not None:
        clauses.append(table.c.owner_id == flt.owner_id)
    if flt.region is not None:
        clauses.append(table.c.region == flt.region)
    if flt.tier is not None:
        clauses.append(table.c.tier == flt.tier)
    if flt.segment is not None:
        clauses.append(table.c.segment == flt.segment)
    return clauses


def totals_query(flt: InsightFilter, first: date, last: date) -> Select[Any]:
    table = _table_for(flt)
    return (
        select(
            table.c.month,
            table.c.currency,
            *[func.sum(table.c[name]).label(name) for name in MEASURES],
        )
        .where(table.c.month >= first, table.c.month <= last, *_where(table, flt))
        .group_by(table.c.month, table.c.currency)
    )


def read_totals(
    session: Session, flt: InsightFilter, first: date, last: date
) -> dict[date, MonthTotals]:
    """Each month's totals from ``first`` to ``last`` (first days); months never built are
    missing from the answer."""
    built = set(
        session.scalars(
            select(InsightMonth.month).where(
                InsightMonth.month >= first, InsightMonth.month <= last
            )
        )
    )
    money = flt.money_currency
    sums: dict[date, dict[str, float]] = {m: dict.fromkeys(MEASURES, 0.0) for m in built}
    for row in session.execute(totals_query(flt, first, last)).mappings():
        month = row["month"]
        if month not in sums:
            continue
        target = sums[month]
        same = row["currency"] == money
        for name in MEASURES:
            if name in MONEY and not same:
                continue
            target[name] += float(row[name] or 0.0)
    return {m: MonthTotals(month=m, values=v, built=True) for m, v in sums.items()}


class Values:
    """The measures of a run of months: flows summed, stocks from the last month."""

    def __init__(self, months: Iterable[MonthTotals]) -> None:
        ordered = sorted(months, key=lambda t: t.month)
        self.complete = bool(ordered)
        self._values: dict[str, float] = dict.fromkeys(MEASURES, 0.0)
        for totals in ordered:
            for name in MEASURES:
                if name in STOCK:
                    self._values[name] = totals.values[name]
                else:
                    self._values[name] += totals.values[name]

    def __getitem__(self, name: str) -> float:
        return self._values[name]


def _ratio(top: float, bottom: float, scale: float = 1.0) -> float | None:
    return None if bottom == 0 else top / bottom * scale


def _cei(v: Values) -> float | None:
    collectible = v["ar_beginning"] + v["sales_window"]
    return _ratio(collectible - v["ar_total"], collectible - v["ar_current"], 100.0)


@dataclass(frozen=True)
class Kpi:
    code: str
    stage: str  # attract, engage, delight, loyalty, cash, force, friction
    unit: str  # count, percent, score, money, days, hours
    better: str  # "up" or "down"
    compute: Callable[[Values], float | None]
    drill: str  # the list behind the figure (``insights.drills``)


def _sum(name: str) -> Callable[[Values], float | None]:
    return lambda v: v[name]


def _scored(name: str) -> Callable[[Values], float | None]:
    """A count read from the loyalty scores: none (not zero) when no account was scored at the
    period's end (the daily cycle had not run then)."""
    return lambda v: v[name] if v["health_green"] + v["health_yellow"] + v["health_red"] else None


KPIS: tuple[Kpi, ...] = (
    # attract
    Kpi("new_customers", "attract", "count", "up", _sum("accounts_new"), "new_customers"),
    Kpi(
        "referred_share",
        "attract",
        "percent",
        "up",
        lambda v: _ratio(v["accounts_new_referred"], v["accounts_new"], 100),
        "new_referred",
    ),
    Kpi("pipeline_created", "attract", "money", "up", _sum("pipeline_created"), "deals_created"),
    # engage
    Kpi(
        "win_rate",
        "engage",
        "percent",
        "up",
        lambda v: _ratio(v["deals_won"], v["deals_won"] + v["deals_lost"], 100),
        "deals_closed",
    ),
    Kpi(
        "sales_cycle",
        "engage",
        "days",
        "down",
        lambda v: _ratio(v["cycle_days"], v["deals_won"]),
        "deals_won",
    ),
    Kpi(
        "plan_coverage",
        "engage",
        "percent",
        "up",
        lambda v: _ratio(v["key_accounts_planned"], v["key_accounts"], 100),
        "key_accounts_unplanned",
    ),
    # delight
    Kpi(
        "nps",
        "delight",
        "score",
        "up",
        lambda v: _ratio(v["nps_promoters"] - v["nps_detractors"], v["nps_responses"], 100),
        "nps_responses",
    ),
    Kpi(
        "csat",
        "delight",
        "percent",
        "up",
        lambda v: _ratio(v["csat_satisfied"], v["csat_responses"], 100),
        "csat_responses",
    ),
    Kpi(
        "loops_in_sla",
        "delight",
        "percent",
        "up",
        lambda v: _ratio(v["loops_closed_in_sla"], v["loops_closed"], 100),
        "loops_closed",
    ),
    Kpi(
        "time_to_close",
        "delight",
        "hours",
        "down",
        lambda v: _ratio(v["loop_close_hours"], v["loops_closed"]),
        "loops_closed",
    ),
    # loyalty
    Kpi(
        "repeat_rate",
        "loyalty",
        "percent",
        "up",
        lambda v: _ratio(v["repeat_buyers_12m"], v["buyers_12m"], 100),
        "buyers",
    ),
    Kpi(
        "retention",
        "loyalty",
        "percent",
        "up",
        lambda v: _ratio(v["retained_accounts"], v["base_accounts"], 100),
        "lost_accounts",
    ),
    Kpi(
        "nrr",
        "loyalty",
        "percent",
        "up",
        lambda v: _ratio(v["retained_revenue"], v["base_revenue"], 100),
        "base_accounts",
    ),
    Kpi(
        "average_clv",
        "loyalty",
        "money",
        "up",
        lambda v: _ratio(v["clv_sum"], v["clv_accounts"]),
        "clv_accounts",
    ),
    Kpi(
        "healthy_share",
        "loyalty",
        "percent",
        "up",
        lambda v: _ratio(
            v["health_green"], v["health_green"] + v["health_yellow"] + v["health_red"], 100
        ),
        "health_red",
    ),
    # cash
    Kpi(
        "dso",
        "cash",
        "days",
        "down",
        lambda v: _ratio(v["ar_total"], v["sales_window"], CASH_WINDOW_DAYS),
        "receivables",
    ),
    Kpi("cei", "cash", "percent", "up", _cei, "receivables"),
    Kpi(
        "overdue_share",
        "cash",
        "percent",
        "down",
        lambda v: _ratio(v["ar_total"] - v["ar_current"], v["ar_total"], 100),
        "overdue_accounts",
    ),
    Kpi(
        "promise_keeping",
        "cash",
        "percent",
        "up",
        lambda v: _ratio(v["promises_kept"], v["promises_kept"] + v["promises_broken"], 100),
        "promises_resolved",
    ),
    Kpi("collected", "cash", "money", "up", _sum("collected"), "payments"),
    # force
    Kpi("promoters", "force", "count", "up", _sum("nps_promoters"), "promoters"),
    Kpi("referrals", "force", "count", "up", _sum("referrals_made"), "referrals"),
    Kpi("expansions", "force", "count", "up", _sum("expanded_accounts"), "expansions"),
    Kpi("promises_kept", "force", "count", "up", _sum("promises_kept"), "promises_kept"),
    # friction
    Kpi("detractors", "friction", "count", "down", _sum("nps_detractors"), "detractors"),
    Kpi("churn_risk", "friction", "count", "down", _scored("churn_high"), "churn_risk"),
    Kpi("disputes", "friction", "count", "down", _sum("disputes_opened"), "disputes"),
    Kpi("overdue", "friction", "count", "down", _sum("overdue_accounts"), "overdue_accounts"),
    Kpi("promises_broken", "friction", "count", "down", _sum("promises_broken"), "promises_broken"),
)
KPI_BY_CODE = {k.code: k for k in KPIS}
STAGES = ("attract", "engage", "delight", "loyalty", "cash")


@dataclass
class Figure:
    kpi: Kpi
    value: float | None
    previous: float | None
    target: float | None
    series: list[tuple[date, float | None]] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def improved(self) -> bool | None:
        change = self.change
        if change is None or change == 0:
            return None
        return (change > 0) == (self.kpi.better == "up")

    @property
    def on_target(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        if self.kpi.better == "up":
            return self.value >= self.target
        return self.value <= self.target


@dataclass
class Dashboard:
    period: Period
    filter: InsightFilter
    figures: dict[str, Figure]
    built_through: date | None  # the day the period's last month was computed up to
    missing_months: list[date]  # months of the period the cube does not hold

    def stage(self, name: str) -> list[Figure]:
        return [f for f in self.figures.values() if f.kpi.stage == name]

    @property
    def force(self) -> float:
        return sum(f.value or 0.0 for f in self.stage("force"))

    @property
    def friction(self) -> float:
        return sum(f.value or 0.0 for f in self.stage("friction"))


def targets(session: Session) -> dict[str, float]:
    return {t.kpi: t.value for t in session.scalars(select(KpiTarget))}


def evaluate(kpi: Kpi, months: Iterable[MonthTotals]) -> float | None:
    values = Values(months)
    if not values.complete:
        return None
    return kpi.compute(values)


def dashboard(
    session: Session,
    *,
    actor: Actor,
    flt: InsightFilter,
    period: Period,
    series_months: int = SERIES_MONTHS,
    codes: Iterable[str] | None = None,
) -> Dashboard:
    """Every KPI (or those of ``codes``) of ``period`` for the accounts of ``flt`` that
    ``actor`` may see, with the period before, the monthly trend and the targets."""
    flt = flt.checked().scoped(actor)
    earliest = min(period.previous.first, add_months(period.last, -(series_months - 1)))
    totals = read_totals(session, flt, earliest, period.last)
    goal = targets(session)

    def run(p: Period) -> list[MonthTotals]:
        return [totals[m] for m in p.month_list() if m in totals]

    now, before = run(period), run(period.previous)
    trend_months = [add_months(period.last, -i) for i in range(series_months - 1, -1, -1)]
    chosen = [KPI_BY_CODE[c] for c in codes] if codes is not None else list(KPIS)
    figures: dict[str, Figure] = {}
    for kpi in chosen:
        figures[kpi.code] = Figure(
            kpi=kpi,
            value=evaluate(kpi, now),
            previous=evaluate(kpi, before) if len(before) == period.months else None,
            target=goal.get(kpi.code),
            series=[(m, evaluate(kpi, [totals[m]]) if m in totals else None) for m in trend_months],
        )
    last = session.scalar(select(InsightMonth.as_of).where(InsightMonth.month == period.last))
    return Dashboard(
        period=period,
        filter=flt,
        figures=figures,
        built_through=last,
        missing_months=[m for m in period.month_list() if m not in totals],
    )


def default_month(session: Session, *, today: date) -> date:
    """The month the dashboard opens on: the latest month of the cube built to its end, before
    ``today``'s; else the month before ``today``'s."""
    from flywheel.insights.cube import month_end, month_start

    candidates = session.execute(
        select(InsightMonth.month, InsightMonth.as_of)
        .where(InsightMonth.month < month_start(today))
        .order_by(InsightMonth.month.desc())
        .limit(3)
    ).all()
    for month, as_of in candidates:
        if as_of >= month_end(month):
            return month
    return add_months(month_start(today), -1)
