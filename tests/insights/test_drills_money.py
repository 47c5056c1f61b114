"""The lists behind the loyalty and cash figures on the hand-counted company (``money_world``):
which accounts or items each lists for June 2026, in which order, with which amounts, as many
as the figure counts, inside a sales rep's scope and a filter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.insights import drills, figures
from flywheel.insights.periods import InsightFilter, Period
from flywheel.kit.i18n import gettext, use_language
from tests.factories import TESTER
from tests.insights.money_world import JUNE, JUNE_END, build, build_cube

MINE = (
    "buyers",
    "lost_accounts",
    "base_accounts",
    "clv_accounts",
    "health_red",
    "receivables",
    "overdue_accounts",
    "promises_resolved",
    "payments",
    "expansions",
    "promises_kept",
    "churn_risk",
    "disputes",
    "promises_broken",
)


def rows(
    session: Session, code: str, *, actor: Actor = TESTER, month: date = JUNE, **flt: Any
) -> list[dict[str, Any]]:
    query = drills.DrillQuery.of(actor, InsightFilter(**flt), Period.ending(month), JUNE_END)
    return drills.all_rows(session, drills.get(code), query)


def codes(found: list[dict[str, Any]]) -> list[str]:
    return [r["code"] for r in found]


def test_every_figure_of_loyalty_and_cash_has_its_list() -> None:
    wanted = {k.drill for k in figures.KPIS if k.stage in ("loyalty", "cash")}
    wanted |= {"expansions", "promises_kept", "churn_risk", "disputes", "promises_broken"}
    assert wanted == set(MINE)
    for code in MINE:
        drill = drills.get(code)
        keys = [c.key for c in drill.columns]
        assert keys[:3] == ["code", "name", "owner"], code


def test_the_labels_are_translated() -> None:
    with use_language("zh"):
        for code in MINE:
            drill = drills.get(code)
            for text in (drill.title, *(c.label for c in drill.columns)):
                assert gettext(text) != text, text


def test_the_loyalty_lists_of_june(session: Session) -> None:
    world = build(session)
    build_cube(session)

    buyers = rows(session, "buyers", currency="CNY")
    # One-time buyers first (the money currency's largest first), then U (2 days), P (3).
    assert codes(buyers) == ["MW-Q", "MW-V", "MW-U", "MW-P"]
    assert [r["purchase_days"] for r in buyers] == [1, 1, 2, 3]
    assert buyers[0]["revenue"] == Decimal("800.00")
    assert buyers[1]["revenue"] is None  # V's revenue is in USD
    assert buyers[0]["owner"] == world.rep.username

    lost = rows(session, "lost_accounts", currency="CNY")
    assert codes(lost) == ["MW-S"]
    assert lost[0]["revenue_before"] == Decimal("1500.00")

    base = rows(session, "base_accounts", currency="CNY")
    assert codes(base) == ["MW-S", "MW-Q", "MW-P"]  # the largest loss first
    assert [r["change"] for r in base] == [
        Decimal("-1500.00"),
        Decimal("-1200.00"),
        Decimal("2500.00"),
    ]
    assert sum(r["revenue_before"] for r in base) == Decimal("4500.00")
    assert sum(r["revenue_now"] for r in base) == Decimal("4300.00")
    assert codes(rows(session, "base_accounts", currency="USD")) == ["MW-V"]

    expansions = rows(session, "expansions", currency="CNY")
    assert codes(expansions) == ["MW-P", "MW-V"]
    assert expansions[0]["growth"] == Decimal("2500.00")

    clv = rows(session, "clv_accounts", currency="CNY")
    assert codes(clv) == ["MW-P", "MW-Q", "MW-U"]
    assert clv[0]["clv"] == Decimal("50000.00")

    red = rows(session, "health_red", currency="CNY")
    assert codes(red) == ["MW-Q", "MW-U"]  # value at risk 16,000 then 5,000
    risky = rows(session, "churn_risk", currency="CNY")
    assert codes(risky) == ["MW-Q", "MW-U", "MW-V"]  # the money currency's first
    assert risky[0]["churn_risk"] == pytest.approx(80.0)
    assert risky[2]["clv"] is None
    assert risky[2]["currency"] == "USD"


def test_the_cash_lists_of_june(session: Session) -> None:
    build(session)
    build_cube(session)

    owed = rows(session, "receivables", currency="CNY")
    assert codes(owed) == ["MW-P", "MW-S", "MW-Q"]
    p, s, q = owed
    assert (p["open"], p["overdue"], p["current"]) == (
        Decimal("600.00") + Decimal("2000.00"),
        Decimal("600.00"),
        Decimal("2000.00"),
    )
    assert (p["oldest_due"], p["sales_window"]) == (date(2026, 3, 31), Decimal("2000.00"))
    assert (s["open"], s["oldest_due"], s["sales_window"]) == (
        Decimal("800.00"),
        date(2026, 2, 9),
        Decimal("0.00"),
    )
    assert q["sales_window"] == Decimal("800.00")
    assert sum(r["open"] for r in owed) == Decimal("3700.00")
    assert [r["open"] for r in rows(session, "receivables", currency="USD")] == [Decimal("750.00")]

    overdue = rows(session, "overdue_accounts", currency="CNY")
    assert codes(overdue) == ["MW-S", "MW-P", "MW-Q", "MW-V"]
    assert [r["overdue"] for r in overdue] == [
        Decimal("800.00"),
        Decimal("600.00"),
        Decimal("300.00"),
        None,
    ]
    assert [r["oldest_due"] for r in overdue][:2] == [date(2026, 2, 9), date(2026, 3, 31)]

    assert [(r["code"], r["amount"]) for r in rows(session, "payments", currency="CNY")] == [
        ("MW-Q", Decimal("500.00"))
    ]
    assert [r["amount"] for r in rows(session, "payments", currency="USD")] == [Decimal("250.00")]
    resolved = rows(session, "promises_resolved")
    assert [(r["code"], r["status"]) for r in resolved] == [("MW-Q", "broken"), ("MW-P", "kept")]
    assert codes(rows(session, "promises_kept")) == ["MW-P"]
    assert codes(rows(session, "promises_broken")) == ["MW-Q"]
    disputes = rows(session, "disputes")
    assert codes(disputes) == ["MW-S", "MW-P"]
    assert disputes[0]["invoice"] is not None


def test_the_lists_count_what_the_figures_count(session: Session) -> None:
    world = build(session)
    build_cube(session)
    counted = {
        "buyers": "buyers_12m",
        "expansions": "expanded_accounts",
        "health_red": "health_red",
        "churn_risk": "churn_high",
        "overdue_accounts": "overdue_accounts",
        "promises_kept": "promises_kept",
        "promises_broken": "promises_broken",
        "disputes": "disputes_opened",
    }
    for actor in (TESTER, Actor.for_user(world.rep), Actor.for_user(world.rival)):
        for flt in ({}, {"region": "华南"}, {"tier": "standard"}):
            chosen = InsightFilter(**flt).checked().scoped(actor)  # type: ignore[arg-type]
            totals = figures.read_totals(session, chosen, JUNE, JUNE)[JUNE].values
            for code, measure in counted.items():
                found = rows(session, code, actor=actor, **flt)
                assert len(found) == totals[measure], (code, actor.name, flt)
            lost = rows(session, "lost_accounts", actor=actor, **flt)
            assert len(lost) == totals["base_accounts"] - totals["retained_accounts"]


def test_a_sales_rep_lists_only_his_accounts(session: Session) -> None:
    world = build(session)
    build_cube(session)
    rep = Actor.for_user(world.rep)

    assert codes(rows(session, "overdue_accounts", actor=rep)) == ["MW-P", "MW-Q", "MW-V"]
    assert codes(rows(session, "disputes", actor=rep)) == ["MW-P"]
    assert codes(rows(session, "churn_risk", actor=rep)) == ["MW-Q", "MW-V"]
    # Asking for another rep's accounts does not widen the scope.
    assert codes(rows(session, "overdue_accounts", actor=rep, owner_id=world.rival.id)) == [
        "MW-P",
        "MW-Q",
        "MW-V",
    ]
    rival = Actor.for_user(world.rival)
    assert codes(rows(session, "overdue_accounts", actor=rival)) == ["MW-S"]
    assert rows(session, "payments", actor=rival, currency="CNY") == []
    # A filter narrows the company's list: 华南 is Q's region only.
    assert codes(rows(session, "buyers", region="华南")) == ["MW-Q"]


def test_a_page_of_a_list(session: Session) -> None:
    build(session)
    build_cube(session)
    query = drills.DrillQuery.of(TESTER, InsightFilter(), Period.ending(JUNE), JUNE_END)
    page = drills.page(session, drills.get("overdue_accounts"), query, page=2, size=3)
    assert (page.total, [r["code"] for r in page.rows]) == (4, ["MW-V"])
