"""The monthly cube: every account's contributions summed per cell, the market rows equal to
the cells summed over owners, months rebuilt only when needed, reruns replace."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.insights import snapshot
from flywheel.insights.cube import (
    Month,
    add_months,
    build_month,
    month_end,
    months_to_build,
    read_accounts,
)
from flywheel.models.insights import (
    InsightMonth,
    insight_cells,
    insight_markets,
    insight_transitions,
)
from tests.insights.cube_world import AS_OF, build, build_cube


def _cells(session: Session, month: date) -> list[dict[str, object]]:
    rows = session.execute(select(insight_cells).where(insight_cells.c.month == month)).mappings()
    return [dict(r) for r in rows]


def test_month_helpers() -> None:
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 11, 1), 14) == date(2028, 1, 1)
    running = Month.of(date(2026, 12, 20), as_of=AS_OF)
    assert (running.first, running.last, running.complete) == (date(2026, 12, 1), AS_OF, False)
    assert Month.of(date(2026, 11, 3), as_of=AS_OF).complete


def test_contributions_land_in_their_accounts_cells(session: Session) -> None:
    world = build(session)
    build_cube(session)

    november = _cells(session, date(2026, 11, 1))
    by_owner = {(c["owner_id"], c["region"], c["tier"], c["currency"]): c for c in november}
    a = by_owner[(world.rep.id, "华东", "key", "CNY")]
    assert (a["deals_won"], a["deals_lost"], a["pipeline_created"], a["ar_total"]) == (
        1.0,
        1.0,
        300.0,
        800.0,
    )
    assert a["segment"] == "champions"  # its segment at the end of November
    b = by_owner[(world.rep.id, "华南", "standard", "USD")]
    assert (b["deals_won"], b["deals_lost"], b["pipeline_created"]) == (1.0, 3.0, 70.0)
    # The EUR deal has a cell of its own currency, on the same account's dimensions.
    b_eur = by_owner[(world.rep.id, "华南", "standard", "EUR")]
    assert (b_eur["pipeline_created"], b_eur["deals_won"], b_eur["accounts"]) == (999.0, 0.0, 0.0)
    c = by_owner[(world.other_rep.id, "华东", "growth", "CNY")]
    assert (c["accounts_new"], c["deals_lost"], c["ar_total"]) == (1.0, 1.0, 200.0)
    # The unowned account without a region: owner 0, region "".
    d = by_owner[(0, "", "standard", "CNY")]
    assert (d["accounts"], d["accounts_new"], d["deals_won"]) == (1.0, 0.0, 0.0)


def test_markets_are_the_cells_summed_over_owners(session: Session) -> None:
    build(session)
    build_cube(session)

    def totals(table: object) -> dict[tuple[object, ...], float]:
        rows = session.execute(
            select(
                table.c.month,  # type: ignore[attr-defined]
                table.c.currency,  # type: ignore[attr-defined]
                table.c.region,  # type: ignore[attr-defined]
                func.sum(table.c.pipeline_created),  # type: ignore[attr-defined]
                func.sum(table.c.accounts),  # type: ignore[attr-defined]
            ).group_by(table.c.month, table.c.currency, table.c.region)  # type: ignore[attr-defined]
        ).all()
        return {(m, cur, r): (p, a) for m, cur, r, p, a in rows}

    assert totals(insight_cells) == totals(insight_markets)
    assert totals(insight_markets)[(date(2026, 10, 1), "CNY", "华东")] == (1000.0, 1.0)


def test_accounts_created_after_the_month_are_not_counted(session: Session) -> None:
    build(session)
    build_cube(session)

    def accounts_in(month: date) -> float:
        return float(
            session.scalar(
                select(func.sum(insight_markets.c.accounts)).where(insight_markets.c.month == month)
            )
            or 0
        )

    assert [accounts_in(date(2026, m, 1)) for m in (9, 10, 11, 12)] == [2.0, 3.0, 4.0, 4.0]


def test_a_rerun_replaces_the_month(session: Session) -> None:
    build(session)
    build_cube(session)
    before = len(_cells(session, date(2026, 11, 1)))

    again = build_cube(session)

    assert [m.month for m in again.months] == [date(2026, 11, 1), date(2026, 12, 1)]
    assert len(_cells(session, date(2026, 11, 1))) == before
    assert session.scalar(select(func.count()).select_from(InsightMonth)) == 6


def test_which_months_a_run_builds(session: Session) -> None:
    build(session)
    assert [m.first for m in months_to_build(session, as_of=AS_OF, history=3)] == [
        date(2026, 10, 1),
        date(2026, 11, 1),
        date(2026, 12, 1),
    ]
    build_cube(session, history=3)
    # Complete months built to their end are kept; the last two are always recomputed.
    assert [m.first for m in months_to_build(session, as_of=AS_OF, history=3)] == [
        date(2026, 11, 1),
        date(2026, 12, 1),
    ]
    # A month built before its end (the running month of an earlier run) is built again; a
    # complete one is kept.
    later = date(2027, 2, 10)
    assert [m.first for m in months_to_build(session, as_of=later, history=4)] == [
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert len(months_to_build(session, as_of=AS_OF, history=3, rebuild=True)) == 3


def test_segment_transitions_between_month_ends(session: Session) -> None:
    world = build(session)
    build_cube(session)

    rows = session.execute(
        select(
            insight_transitions.c.owner_id,
            insight_transitions.c.from_code,
            insight_transitions.c.to_code,
            insight_transitions.c.accounts,
        ).where(
            insight_transitions.c.month == date(2026, 10, 1),
            insight_transitions.c.kind == "segment",
            insight_transitions.c.owner_id == world.rep.id,
        )
    ).all()
    # A became a champion at the end of October; B did not exist at the end of September.
    moves = {(f, t): n for _, f, t, n in rows}
    assert moves[(moves_from := next(f for f, t in moves if t == "champions"), "champions")] == 1
    assert moves_from != "champions"
    assert sum(moves.values()) == 1


def test_an_unknown_measure_is_refused(session: Session) -> None:
    build(session)

    def wrong(*_: object) -> dict[str, object]:
        from flywheel.insights.cube import per_account

        return {"not_a_measure": per_account([1.0])}

    with pytest.raises(KeyError, match="not_a_measure"):
        build_month(
            session,
            Month.of(AS_OF, as_of=AS_OF),
            accounts=read_accounts(session),
            sources=[wrong],  # type: ignore[list-item]
        )


def test_an_empty_company_builds_empty_months(session: Session) -> None:
    result = snapshot.run(session, as_of=AS_OF, history=2, sources=[])
    assert [(m.cells, m.markets) for m in result.months] == [(0, 0), (0, 0)]
