"""The monthly cube the dashboard reads: for each month, every measure of ``models.insights``
summed per currency, owner, region, tier and segment.

A *source* (``insights.sources``) computes some measures for one month as contributions of
single accounts (a count, a sum of money in a document's currency, a sum of days). This module
gives every account its cell (its current owner, region and tier, its segment at the month's
end and its currency), adds the contributions up per cell with ``numpy.bincount`` and replaces
the month's rows. Nothing here loops over accounts in Python.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from flywheel.models.credit import CreditScore
from flywheel.models.customers import Customer
from flywheel.models.insights import (
    ACCOUNT_FACTS,
    MEASURES,
    InsightMonth,
    insight_account_facts,
    insight_cells,
    insight_markets,
    insight_transitions,
)
from flywheel.models.loyalty import LoyaltyScore

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

UNSCORED = "unscored"  # the segment (or grade) of an account with no score at the month's end
NO_OWNER = 0
DEFAULT_HISTORY_MONTHS = 24
_BATCH = 5000


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Month:
    """A month of the cube, computed up to ``last``: its last day, or the build day while it
    runs."""

    first: date
    last: date

    @classmethod
    def of(cls, day: date, *, as_of: date) -> Month:
        first = month_start(day)
        return cls(first=first, last=min(month_end(first), as_of))

    @property
    def complete(self) -> bool:
        return self.last == month_end(self.first)


@dataclass(frozen=True)
class Accounts:
    """Every account, sorted by id, with the dimensions of its cell."""

    ids: IntArray
    currency: ObjectArray
    owner_id: IntArray  # NO_OWNER when unowned
    region: ObjectArray  # "" when unknown
    tier: ObjectArray
    status: ObjectArray
    created_on: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return int(self.ids.size)

    def positions(self, customer_ids: npt.ArrayLike) -> IntArray:
        """The row of each id, -1 for an id that is not an account."""
        wanted = np.asarray(customer_ids, dtype=np.int64)
        at = np.searchsorted(self.ids, wanted)
        at = np.minimum(at, max(len(self) - 1, 0))
        found = (self.ids[at] == wanted) if len(self) else np.zeros(wanted.size, dtype=bool)
        return np.where(found, at, -1).astype(np.int64)


def read_accounts(session: Session) -> Accounts:
    rows = session.execute(
        select(
            Customer.id,
            Customer.currency,
            Customer.owner_id,
            Customer.region,
            Customer.tier,
            Customer.status,
            Customer.created_on,
        ).order_by(Customer.id)
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    return Accounts(
        ids=np.asarray(columns[0], dtype=np.int64),
        currency=np.asarray(columns[1], dtype=object),
        owner_id=np.asarray([o or NO_OWNER for o in columns[2]], dtype=np.int64),
        region=np.asarray([r or "" for r in columns[3]], dtype=object),
        tier=np.asarray(columns[4], dtype=object),
        status=np.asarray(columns[5], dtype=object),
        created_on=np.asarray(columns[6], dtype="datetime64[D]"),
    )


@dataclass(frozen=True)
class Contribution:
    """What some accounts add to one measure in one month. ``currency`` is the document's
    currency for money; when it is None each value counts in its account's currency."""

    account: IntArray
    value: FloatArray
    currency: ObjectArray | None = None


def contribution(
    accounts: Accounts,
    customer_ids: npt.ArrayLike,
    values: npt.ArrayLike | None = None,
    currency: npt.ArrayLike | None = None,
) -> Contribution:
    """A contribution from parallel columns read from the database (ids of customers, their
    values — 1 each when None — and optionally their currencies); ids that are not accounts
    are left out."""
    at = accounts.positions(customer_ids)
    keep = at >= 0
    value = (
        np.ones(at.size, dtype=np.float64)
        if values is None
        else np.asarray(values, dtype=np.float64)
    )
    money = None if currency is None else np.asarray(currency, dtype=object)[keep]
    return Contribution(account=at[keep], value=value[keep], currency=money)


def per_account(values: npt.ArrayLike) -> Contribution:
    """A contribution of one value per account (in the order of ``Accounts``)."""
    value = np.asarray(values, dtype=np.float64)
    return Contribution(account=np.arange(value.size, dtype=np.int64), value=value)


Source = Callable[[Session, Accounts, Month], Mapping[str, Contribution]]


_IDS_PER_QUERY = 900  # ids per IN (...) list: below SQLite's bound-parameter limit


def _stored_codes(
    session: Session, accounts: Accounts, score: Any, column: Any, day: date
) -> ObjectArray:
    """Each account's ``column`` in its latest ``score`` row (``LoyaltyScore`` or
    ``CreditScore``) on or before ``day``; UNSCORED where it has none.

    The daily cycle scores every account each day it runs, so the rows of its latest day are
    read at once; only the accounts that existed on ``day`` but are missing from that day's
    rows are looked up, by ids, through the (customer, day) key."""
    codes = np.full(len(accounts), UNSCORED, dtype=object)
    latest = session.scalar(select(func.max(score.as_of)).where(score.as_of <= day))
    if latest is None:
        return codes
    rows = session.execute(select(score.customer_id, column).where(score.as_of == latest)).all()
    if rows:
        ids, values = zip(*rows, strict=True)
        at = accounts.positions(ids)
        keep = at >= 0
        codes[at[keep]] = np.asarray(values, dtype=object)[keep]
    missing = accounts.ids[(codes == UNSCORED) & (accounts.created_on <= np.datetime64(day))]
    for chunk in range(0, missing.size, _IDS_PER_QUERY):
        wanted = missing[chunk : chunk + _IDS_PER_QUERY].tolist()
        newest = (
            select(score.customer_id.label("customer_id"), func.max(score.as_of).label("day"))
            .where(score.customer_id.in_(wanted), score.as_of <= day)
            .group_by(score.customer_id)
            .subquery()
        )
        found = session.execute(
            select(score.customer_id, column).join(
                newest,
                (newest.c.customer_id == score.customer_id) & (newest.c.day == score.as_of),
            )
        ).all()
        if found:
            ids, values = zip(*found, strict=True)
            codes[accounts.positions(ids)] = np.asarray(values, dtype=object)
    return codes


def _fill_computed(
    codes: ObjectArray, accounts: Accounts, day: date, compute: Callable[[], ObjectArray]
) -> ObjectArray:
    """``codes`` with the accounts that existed on ``day`` but have no stored code given the
    computed one."""
    need = (codes == UNSCORED) & (accounts.created_on <= np.datetime64(day))
    if need.any():
        codes = codes.copy()
        codes[need] = compute()[need]
    return codes


def segments_at(session: Session, accounts: Accounts, day: date) -> ObjectArray:
    """Each account's RFM segment at the end of ``day``: its latest loyalty score on or before
    the day; for an account without one (the cycle had not run yet, as for the months before a
    demo company's first run), the segment the loyalty cycle would have given it that day,
    computed from its orders (``insights.history.segments_on``). UNSCORED for an account
    created after the day."""
    from flywheel.insights import history

    def compute() -> ObjectArray:
        codes = _stored_codes(session, accounts, LoyaltyScore, LoyaltyScore.segment, day)
        return _fill_computed(
            codes, accounts, day, lambda: history.segments_on(session, accounts, day)
        )

    return _remembered(session, ("segment", day, len(accounts)), compute)


def grades_at(session: Session, accounts: Accounts, day: date) -> ObjectArray:
    """Each account's credit grade at the end of ``day``: its latest credit score on or before
    the day; for an account without one, the grade the credit scoring would have given it that
    day (``insights.history.grades_on``). UNSCORED for an account created after the day."""
    from flywheel.insights import history

    def compute() -> ObjectArray:
        codes = _stored_codes(session, accounts, CreditScore, CreditScore.grade, day)
        return _fill_computed(
            codes, accounts, day, lambda: history.grades_on(session, accounts, day)
        )

    return _remembered(session, ("grade", day, len(accounts)), compute)


_MEMO = "flywheel.insights.codes"


def _remembered(
    session: Session, key: tuple[str, date, int], compute: Callable[[], ObjectArray]
) -> ObjectArray:
    """Segments and grades of one day, computed once per build: a month's end is the next
    month's start (``forget_codes`` at the end of the build)."""
    memo: dict[tuple[str, date, int], ObjectArray] = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget_codes(session: Session) -> None:
    session.info.pop(_MEMO, None)


@dataclass
class MonthBuild:
    month: date
    as_of: date
    accounts: int
    cells: int
    markets: int
    transitions: int
    facts: int = 0  # rows of per-account facts
    seconds: dict[str, float] = field(default_factory=dict)


def _codes(*columns: ObjectArray | IntArray) -> tuple[IntArray, list[tuple[Any, ...]]]:
    """One integer per distinct combination of the columns, and the combinations."""
    if not columns[0].size:
        return np.zeros(0, dtype=np.int64), []
    frame = pd.DataFrame(dict(enumerate(columns)))
    inverse = frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup()
    codes = inverse.to_numpy(dtype=np.int64)
    _, first = np.unique(codes, return_index=True)
    combos = list(frame.iloc[first].itertuples(index=False, name=None))
    return codes, combos


def _sum_cells(
    key_of_account: IntArray,
    keys: int,
    currencies: list[str],
    account_currency: IntArray,
    contributions: Mapping[str, Contribution],
) -> FloatArray:
    """The measures (columns) of every (key, currency) cell (rows: key * n_currencies + c)."""
    n_cur = len(currencies)
    index = {code: i for i, code in enumerate(currencies)}
    table = np.zeros((keys * n_cur, len(MEASURES)), dtype=np.float64)
    for column, name in enumerate(MEASURES):
        part = contributions.get(name)
        if part is None or not part.account.size:
            continue
        if part.currency is None:
            cur = account_currency[part.account]
        else:
            cur = np.asarray([index[c] for c in part.currency], dtype=np.int64)
        cells = key_of_account[part.account] * n_cur + cur
        table[:, column] = np.bincount(cells, weights=part.value, minlength=keys * n_cur)
    return table


def _write(
    session: Session,
    target: Any,
    base: dict[str, Any],
    combos: list[tuple[Any, ...]],
    names: Sequence[str],
    currencies: list[str],
    table: FloatArray,
) -> int:
    n_cur = len(currencies)
    keep = np.flatnonzero(np.any(table != 0, axis=1))
    rows: list[dict[str, Any]] = []
    written = 0
    for row in keep.tolist():
        record = dict(base)
        record.update(zip(names, combos[row // n_cur], strict=True))
        record["currency"] = currencies[row % n_cur]
        record.update(zip(MEASURES, table[row].tolist(), strict=True))
        rows.append(record)
        if len(rows) >= _BATCH:
            session.execute(insert(target), rows)
            written += len(rows)
            rows = []
    if rows:
        session.execute(insert(target), rows)
        written += len(rows)
    return written


def _write_facts(
    session: Session,
    month: Month,
    accounts: Accounts,
    currencies: list[str],
    account_currency: IntArray,
    contributions: Mapping[str, Contribution],
) -> int:
    """Each account's part of ACCOUNT_FACTS (per currency), for the lists behind figures."""
    n_cur = len(currencies)
    size = len(accounts) * n_cur
    index = {code: i for i, code in enumerate(currencies)}
    table = np.zeros((size, len(ACCOUNT_FACTS)), dtype=np.float64)
    for column, name in enumerate(ACCOUNT_FACTS):
        part = contributions.get(name)
        if part is None or not part.account.size:
            continue
        if part.currency is None:
            cur = account_currency[part.account]
        else:
            cur = np.asarray([index[c] for c in part.currency], dtype=np.int64)
        table[:, column] = np.bincount(
            part.account * n_cur + cur, weights=part.value, minlength=size
        )
    keep = np.flatnonzero(np.any(table != 0, axis=1))
    ids = accounts.ids[keep // n_cur].tolist()
    codes = [currencies[c] for c in (keep % n_cur).tolist()]
    values = table[keep].tolist()
    for chunk in range(0, len(ids), _BATCH):
        session.execute(
            insert(insight_account_facts),
            [
                {
                    "month": month.first,
                    "customer_id": ids[i],
                    "currency": codes[i],
                    **dict(zip(ACCOUNT_FACTS, values[i], strict=True)),
                }
                for i in range(chunk, min(chunk + _BATCH, len(ids)))
            ],
        )
    return len(ids)


def build_month(
    session: Session,
    month: Month,
    *,
    accounts: Accounts,
    sources: Sequence[Source],
) -> MonthBuild:
    """Compute ``month`` from ``sources`` and replace its rows (cells, markets, transitions)."""
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    segment = segments_at(session, accounts, month.last)
    contributions: dict[str, Contribution] = {}
    for source in sources:
        start = time.perf_counter()
        for name, part in source(session, accounts, month).items():
            if name not in MEASURES:
                raise KeyError(f"{source.__module__} gives an unknown measure {name!r}")
            contributions[name] = part
        seconds[source.__module__.rsplit(".", 1)[-1]] = time.perf_counter() - start

    start = time.perf_counter()
    currencies = sorted(
        {str(c) for c in accounts.currency}
        | {str(c) for p in contributions.values() if p.currency is not None for c in p.currency}
    ) or ["CNY"]
    cur_index = {c: i for i, c in enumerate(currencies)}
    account_currency = np.asarray([cur_index[str(c)] for c in accounts.currency], dtype=np.int64)

    cell_key, cell_combos = _codes(accounts.owner_id, accounts.region, accounts.tier, segment)
    market_key, market_combos = _codes(accounts.region, accounts.tier, segment)
    cells = _sum_cells(cell_key, len(cell_combos), currencies, account_currency, contributions)
    markets = _sum_cells(
        market_key, len(market_combos), currencies, account_currency, contributions
    )
    seconds["sum"] = time.perf_counter() - start

    start = time.perf_counter()
    for table in (insight_cells, insight_markets):
        session.execute(delete(table).where(table.c.month == month.first))
    session.execute(delete(insight_transitions).where(insight_transitions.c.month == month.first))
    session.execute(delete(InsightMonth).where(InsightMonth.month == month.first))
    base = {"month": month.first, "as_of": month.last}
    n_cells = _write(
        session,
        insight_cells,
        base,
        [(int(o), str(r), str(t), str(s)) for o, r, t, s in cell_combos],
        ("owner_id", "region", "tier", "segment"),
        currencies,
        cells,
    )
    n_markets = _write(
        session,
        insight_markets,
        base,
        [(str(r), str(t), str(s)) for r, t, s in market_combos],
        ("region", "tier", "segment"),
        currencies,
        markets,
    )
    session.execute(
        delete(insight_account_facts).where(insight_account_facts.c.month == month.first)
    )
    n_facts = _write_facts(session, month, accounts, currencies, account_currency, contributions)
    seconds["write"] = time.perf_counter() - start

    start = time.perf_counter()
    before = month.first - timedelta(days=1)
    moves = 0
    for kind, now, then in (
        ("segment", segment, segments_at(session, accounts, before)),
        ("grade", grades_at(session, accounts, month.last), grades_at(session, accounts, before)),
    ):
        existed = accounts.created_on <= np.datetime64(before)
        key, combos = _codes(
            accounts.owner_id[existed],
            accounts.region[existed],
            accounts.tier[existed],
            then[existed],
            now[existed],
        )
        counts = np.bincount(key, minlength=len(combos))
        rows = [
            {
                "month": month.first,
                "kind": kind,
                "owner_id": int(o),
                "region": str(r),
                "tier": str(t),
                "from_code": str(f),
                "to_code": str(to),
                "accounts": int(n),
            }
            for (o, r, t, f, to), n in zip(combos, counts.tolist(), strict=True)
            if n
        ]
        for chunk in range(0, len(rows), _BATCH):
            session.execute(insert(insight_transitions), rows[chunk : chunk + _BATCH])
        moves += len(rows)
    seconds["transitions"] = time.perf_counter() - start
    seconds["total"] = time.perf_counter() - clock
    session.add(
        InsightMonth(
            month=month.first,
            as_of=month.last,
            accounts=len(accounts),
            cells=n_cells,
            seconds=round(seconds["total"], 3),
        )
    )
    session.flush()
    return MonthBuild(
        month=month.first,
        as_of=month.last,
        accounts=len(accounts),
        cells=n_cells,
        markets=n_markets,
        transitions=moves,
        facts=n_facts,
        seconds={k: round(v, 3) for k, v in seconds.items()},
    )


def months_to_build(
    session: Session, *, as_of: date, history: int = DEFAULT_HISTORY_MONTHS, rebuild: bool = False
) -> list[Month]:
    """The months a run on ``as_of`` computes: the running month and the one before (late data
    still changes it), and any month of the ``history`` that was never built or was built
    before its end — all of them when ``rebuild``."""
    built: dict[date, date] = {
        row[0]: row[1] for row in session.execute(select(InsightMonth.month, InsightMonth.as_of))
    }
    current = month_start(as_of)
    wanted: list[Month] = []
    for back in range(history - 1, -1, -1):
        first = add_months(current, -back)
        month = Month.of(first, as_of=as_of)
        done = built.get(first)
        if rebuild or back <= 1 or done is None or done < month.last:
            wanted.append(month)
    return wanted
