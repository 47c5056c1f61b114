"""Movement between RFM segments or credit grades from the end of one month to the end of the
next: a from × to matrix of accounts, read from the cube's ``insight_transitions``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.credit.labels import GRADE_MEANINGS
from flywheel.errors import ValidationFailed
from flywheel.insights.cube import (
    UNSCORED,
    Accounts,
    add_months,
    grades_at,
    month_end,
    month_start,
    read_accounts,
    segments_at,
)
from flywheel.insights.periods import InsightFilter
from flywheel.models.customers import Customer
from flywheel.models.enums import Segment
from flywheel.models.insights import InsightMonth, insight_transitions
from flywheel.models.users import User

KINDS = ("segment", "grade")
# Each kind's codes, best first; an account with no score yet comes last.
ORDER: dict[str, tuple[str, ...]] = {
    "segment": (*(s.value for s in Segment), UNSCORED),
    "grade": (*GRADE_MEANINGS, UNSCORED),
}


@dataclass(frozen=True, slots=True)
class Cell:
    from_code: str
    to_code: str
    accounts: int
    share: float | None  # of the row (the accounts that were in ``from_code``), 0–1

    @property
    def stayed(self) -> bool:
        return self.from_code == self.to_code


@dataclass(frozen=True, slots=True)
class Row:
    code: str
    cells: tuple[Cell, ...]
    accounts: int  # in ``code`` at the end of the month before

    @property
    def stayed(self) -> int:
        return sum(c.accounts for c in self.cells if c.stayed)


@dataclass(frozen=True)
class Matrix:
    """Accounts by their code at the end of the month before ``month`` (rows) and at the end
    of ``month`` (columns); accounts created during ``month`` are not counted."""

    month: date
    kind: str
    filter: InsightFilter
    built: bool  # whether the cube holds ``month``
    codes: tuple[str, ...]
    rows: tuple[Row, ...]
    column_totals: tuple[int, ...]  # in each code at the end of ``month``

    @property
    def accounts(self) -> int:
        return sum(r.accounts for r in self.rows)

    @property
    def stayed(self) -> int:
        return sum(r.stayed for r in self.rows)

    @property
    def moved(self) -> int:
        return self.accounts - self.stayed

    @property
    def since(self) -> date:
        """The month whose end the rows describe."""
        return add_months(self.month, -1)

    def cell(self, from_code: str, to_code: str) -> Cell | None:
        for row in self.rows:
            if row.code == from_code:
                return next((c for c in row.cells if c.to_code == to_code), None)
        return None


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed(
            f"a transition is of {' or '.join(KINDS)}, not {kind!r}", field="kind", value=kind
        )
    return kind


def _ordered(kind: str, found: set[str]) -> tuple[str, ...]:
    """The codes met, in the kind's order; codes the order does not know come last, sorted."""
    known = [c for c in ORDER[kind] if c in found]
    return (*known, *sorted(found - set(ORDER[kind])))


def matrix(session: Session, *, actor: Actor, month: date, kind: str, flt: InsightFilter) -> Matrix:
    """The moves of ``kind`` into ``month`` for the accounts of ``flt``'s owner, region and
    tier that ``actor`` may see (a sales rep: his own). The segment and currency of the filter
    do not apply: an account's segment is what moves."""
    kind = check_kind(kind)
    month = month_start(month)
    flt = flt.checked().scoped(actor)
    table = insight_transitions
    clauses = [table.c.month == month, table.c.kind == kind]
    if flt.owner_id is not None:
        clauses.append(table.c.owner_id == flt.owner_id)
    if flt.region is not None:
        clauses.append(table.c.region == flt.region)
    if flt.tier is not None:
        clauses.append(table.c.tier == flt.tier)
    counts: dict[tuple[str, str], int] = {
        (str(f), str(t)): int(n)
        for f, t, n in session.execute(
            select(table.c.from_code, table.c.to_code, func.sum(table.c.accounts))
            .where(*clauses)
            .group_by(table.c.from_code, table.c.to_code)
        )
        if n
    }
    codes = _ordered(kind, {f for f, _ in counts} | {t for _, t in counts})
    rows: list[Row] = []
    for source in codes:
        total = sum(counts.get((source, to), 0) for to in codes)
        cells = tuple(
            Cell(
                from_code=source,
                to_code=to,
                accounts=counts.get((source, to), 0),
                share=counts.get((source, to), 0) / total if total else None,
            )
            for to in codes
        )
        rows.append(Row(code=source, cells=cells, accounts=total))
    built = session.get(InsightMonth, month) is not None
    return Matrix(
        month=month,
        kind=kind,
        filter=flt,
        built=built,
        codes=codes,
        rows=tuple(rows),
        column_totals=tuple(sum(counts.get((f, to), 0) for f in codes) for to in codes),
    )


# ---------------------------------------------------------------- the accounts of one cell


@dataclass(frozen=True)
class CellAccounts:
    total: int
    rows: list[Any]  # id, code, name, region, tier, owner — one page, by account id


def cell_accounts(
    session: Session,
    *,
    actor: Actor,
    month: date,
    kind: str,
    flt: InsightFilter,
    from_code: str,
    to_code: str,
    page: int = 1,
    size: int = 50,
) -> CellAccounts:
    """The accounts behind one cell of ``matrix``: in ``from_code`` at the end of the month
    before ``month`` and in ``to_code`` at the end of ``month`` (or the day the cube built it
    through), of the filter's owner, region and tier, inside ``actor``'s scope.

    Segments and grades come from the functions the cube is built with, so the list holds
    exactly the accounts the cell counts (the accounts' current owner, region and tier, as in
    the cube, which is rebuilt with them)."""
    kind = check_kind(kind)
    month = month_start(month)
    flt = flt.checked().scoped(actor)
    before = month - timedelta(days=1)
    built_through = session.scalar(select(InsightMonth.as_of).where(InsightMonth.month == month))
    end = built_through or month_end(month)

    every = read_accounts(session)
    keep = every.created_on <= np.datetime64(before)
    if flt.owner_id is not None:
        keep &= every.owner_id == flt.owner_id
    if flt.region is not None:
        keep &= every.region == flt.region
    if flt.tier is not None:
        keep &= every.tier == flt.tier
    chosen = Accounts(**{f.name: getattr(every, f.name)[keep] for f in fields(Accounts)})
    codes_at = segments_at if kind == "segment" else grades_at
    moved = (codes_at(session, chosen, before) == from_code) & (
        codes_at(session, chosen, end) == to_code
    )
    ids = chosen.ids[moved].tolist()
    wanted = ids[(page - 1) * size : page * size]
    rows: list[Any] = []
    if wanted:
        rows = list(
            session.execute(
                select(
                    Customer.id,
                    Customer.code,
                    Customer.name,
                    Customer.region,
                    Customer.tier,
                    func.coalesce(User.display_name, User.username).label("owner"),
                )
                .outerjoin(User, User.id == Customer.owner_id)
                .where(Customer.id.in_(wanted), visible_customers(actor))
                .order_by(Customer.id)
            ).all()
        )
    return CellAccounts(total=len(ids), rows=rows)
