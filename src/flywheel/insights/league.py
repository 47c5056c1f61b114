"""League tables: every KPI of a period per owner or per region, ranked by a chosen KPI, read
from the cube with one grouped query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.insights.cube import NO_OWNER
from flywheel.insights.figures import KPI_BY_CODE, MONEY, Kpi, MonthTotals, Values, evaluate
from flywheel.insights.periods import InsightFilter, Period
from flywheel.models.insights import MEASURES, InsightMonth, insight_cells, insight_markets
from flywheel.models.users import User

GROUPINGS = ("owner", "region")
# The columns a league shows unless asked for others: one or two figures of each stage.
MAIN_KPIS: tuple[str, ...] = (
    "new_customers",
    "pipeline_created",
    "win_rate",
    "nps",
    "repeat_rate",
    "retention",
    "nrr",
    "dso",
    "overdue_share",
    "collected",
)
DEFAULT_SORT = "collected"
_MONEY_COLUMNS = np.asarray([name in MONEY for name in MEASURES], dtype=bool)


@dataclass
class LeagueRow:
    """One owner's or region's figures. ``key`` is what the dashboard's filter takes: the
    owner's username or the region ("" for accounts with no owner or no region)."""

    key: str
    name: str
    owner_id: int | None  # by owner: the user's id, NO_OWNER for unowned accounts
    accounts: float  # active accounts at the period's end
    values: dict[str, float | None]
    previous: dict[str, float | None]  # the period before; all None when not fully built
    rank: int | None = None  # by the sort KPI, 1 the best; None without a value

    def change(self, code: str) -> float | None:
        now, before = self.values.get(code), self.previous.get(code)
        return None if now is None or before is None else now - before


@dataclass
class League:
    by: str
    period: Period
    filter: InsightFilter
    sort: Kpi
    worst_first: bool
    kpis: list[Kpi]
    rows: list[LeagueRow]
    total: LeagueRow  # every row together (the filter's figure)
    missing_months: list[date] = field(default_factory=list)


def check_grouping(by: str) -> str:
    if by not in GROUPINGS:
        raise ValidationFailed(
            f"a league is by {' or '.join(GROUPINGS)}, not {by!r}", field="by", value=by
        )
    return by


def check_kpis(codes: Sequence[str]) -> list[Kpi]:
    unknown = [c for c in codes if c not in KPI_BY_CODE]
    if unknown:
        raise ValidationFailed(
            f"not a dashboard figure: {', '.join(unknown)}", field="kpi", value=unknown[0]
        )
    return [KPI_BY_CODE[c] for c in codes]


def _clauses(table: Any, flt: InsightFilter) -> list[Any]:
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


def _read(
    session: Session, by: str, flt: InsightFilter, first: date, last: date, months: list[date]
) -> tuple[list[Any], np.ndarray[Any, np.dtype[np.float64]]]:
    """The keys met and an array [key, month, measure] of the months ``months`` (built ones):
    one query grouped by key, month and currency; money kept in the filter's currency only."""
    # Without an owner in the filter, a league by region reads the cube without owners.
    table = insight_cells if by == "owner" or flt.owner_id is not None else insight_markets
    key = table.c.owner_id if by == "owner" else table.c.region
    statement = (
        select(
            key.label("key"),
            table.c.month,
            table.c.currency,
            *[func.sum(table.c[name]).label(name) for name in MEASURES],
        )
        .where(table.c.month >= first, table.c.month <= last, *_clauses(table, flt))
        .group_by(key, table.c.month, table.c.currency)
    )
    rows = session.execute(statement).all()
    month_at = {m: i for i, m in enumerate(months)}
    rows = [r for r in rows if r[1] in month_at]
    keys = sorted({r[0] for r in rows})
    key_at = {k: i for i, k in enumerate(keys)}
    cube = np.zeros((len(keys), len(months), len(MEASURES)), dtype=np.float64)
    if rows:
        measures = np.asarray([r[3:] for r in rows], dtype=np.float64)
        np.nan_to_num(measures, copy=False)
        other_currency = np.asarray([r[2] != flt.money_currency for r in rows], dtype=bool)
        measures[np.ix_(other_currency, _MONEY_COLUMNS)] = 0.0
        at_key = np.asarray([key_at[r[0]] for r in rows], dtype=np.int64)
        at_month = np.asarray([month_at[r[1]] for r in rows], dtype=np.int64)
        np.add.at(cube, (at_key, at_month), measures)
    return keys, cube


def _totals(months: list[date], block: np.ndarray[Any, np.dtype[np.float64]]) -> list[MonthTotals]:
    return [
        MonthTotals(month=m, values=dict(zip(MEASURES, block[i].tolist(), strict=True)), built=True)
        for i, m in enumerate(months)
    ]


def _figures(
    kpis: list[Kpi], months: list[date], block: np.ndarray[Any, np.dtype[np.float64]]
) -> tuple[dict[str, float | None], float]:
    totals = _totals(months, block)
    values = {k.code: evaluate(k, totals) for k in kpis}
    accounts = Values(totals)["accounts"] if totals else 0.0
    return values, accounts


def _rank(rows: list[LeagueRow], sort: Kpi, worst_first: bool) -> list[LeagueRow]:
    """Best first (``worst_first``: the other way), rows without a value last; equal values
    share a rank."""
    up = sort.better == "up"

    def order(row: LeagueRow) -> tuple[int, float, str]:
        value = row.values.get(sort.code)
        if value is None:
            return (1, 0.0, row.name)
        best_first_value = -value if up else value
        return (0, -best_first_value if worst_first else best_first_value, row.name)

    ranked = sorted(rows, key=order)
    place: dict[float, int] = {}
    scored = sorted((v for r in rows if (v := r.values.get(sort.code)) is not None), reverse=up)
    for at, score in enumerate(scored, start=1):
        place.setdefault(score, at)
    for row in ranked:
        value = row.values.get(sort.code)
        row.rank = None if value is None else place[value]
    return ranked


def _owner_names(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    """(username, display name) of each owner id."""
    wanted = [i for i in ids if i != NO_OWNER]
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(wanted))
    )
    return {int(i): (str(u), str(d or u)) for i, u, d in rows}


def league(
    session: Session,
    *,
    actor: Actor,
    by: str,
    flt: InsightFilter,
    period: Period,
    sort: str = DEFAULT_SORT,
    kpis: Sequence[str] = MAIN_KPIS,
    worst_first: bool = False,
    no_owner: str = "",
    no_region: str = "",
) -> League:
    """Every KPI of ``kpis`` (and ``sort``) over ``period`` per owner or region, for the
    accounts of ``flt`` that ``actor`` may see (a sales rep: his own), with the period before.
    ``no_owner`` and ``no_region`` name the rows of accounts without one."""
    by = check_grouping(by)
    flt = flt.checked().scoped(actor)
    sort_kpi = check_kpis([sort])[0]
    columns = check_kpis(list(dict.fromkeys(kpis)))
    wanted = columns if sort_kpi in columns else [sort_kpi, *columns]

    before = period.previous
    built = set(
        session.scalars(
            select(InsightMonth.month).where(
                InsightMonth.month >= before.first, InsightMonth.month <= period.last
            )
        )
    )
    now_months = [m for m in period.month_list() if m in built]
    before_months = [m for m in before.month_list() if m in built]
    previous_complete = len(before_months) == before.months
    months = before_months + now_months
    keys, cube = _read(session, by, flt, before.first, period.last, months)
    split = len(before_months)

    names = _owner_names(session, [int(k) for k in keys]) if by == "owner" else {}
    rows: list[LeagueRow] = []
    for i, key in enumerate(keys):
        values, accounts = _figures(wanted, now_months, cube[i, split:])
        previous: dict[str, float | None] = dict.fromkeys(values)
        if previous_complete:
            previous, _ = _figures(wanted, before_months, cube[i, :split])
        if by == "owner":
            username, name = names.get(int(key), ("", no_owner))
            row = LeagueRow(username, name, int(key), accounts, values, previous)
        else:
            row = LeagueRow(str(key), str(key) or no_region, None, accounts, values, previous)
        rows.append(row)

    everything = cube.sum(axis=0) if keys else np.zeros((len(months), len(MEASURES)))
    values, accounts = _figures(wanted, now_months, everything[split:])
    previous = dict.fromkeys(values)
    if previous_complete:
        previous, _ = _figures(wanted, before_months, everything[:split])
    total = LeagueRow("", "", None, accounts, values, previous)
    return League(
        by=by,
        period=period,
        filter=flt,
        sort=sort_kpi,
        worst_first=worst_first,
        kpis=wanted,
        rows=_rank(rows, sort_kpi, worst_first),
        total=total,
        missing_months=[m for m in period.month_list() if m not in built],
    )
