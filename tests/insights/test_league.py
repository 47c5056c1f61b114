"""League tables: every KPI per owner or region for a period, ranked by a chosen KPI, with the
period before; money in one currency; a sales rep sees only his own row; the total row is the
dashboard's figure."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.insights import figures
from flywheel.insights.league import League, league
from flywheel.insights.periods import InsightFilter, Period
from tests.factories import TESTER
from tests.insights.league_world import NOV, build
from tests.web.pages import sign_in


def run(
    session: Session,
    *,
    actor: Actor = TESTER,
    by: str = "owner",
    period: str = "1m",
    month: date = NOV,
    sort: str = "collected",
    kpis: tuple[str, ...] = ("collected", "win_rate", "overdue_share"),
    worst_first: bool = False,
    **flt: object,
) -> League:
    return league(
        session,
        actor=actor,
        by=by,
        flt=InsightFilter(**flt),  # type: ignore[arg-type]
        period=Period.ending(month, period),
        sort=sort,
        kpis=kpis,
        worst_first=worst_first,
        no_owner="No owner",
        no_region="No region",
    )


def table(result: League, code: str) -> list[tuple[str, int | None, float | None]]:
    return [(r.key, r.rank, r.values[code]) for r in result.rows]


def test_owners_ranked_by_cash_collected_with_the_month_before(session: Session) -> None:
    world = build(session)

    result = run(session)

    # Money in CNY only: A's 50 USD is not in his 1,000. C held accounts in October only.
    assert table(result, "collected") == [
        ("rep.b", 1, 3000.0),
        ("rep.a", 2, 1000.0),
        ("", 3, 10.0),
        ("rep.c", 4, 0.0),
    ]
    rows = {r.key: r for r in result.rows}
    assert rows["rep.a"].owner_id == world.rep_a.id
    assert rows[""].owner_id == 0
    assert rows[""].name == "No owner"
    assert rows["rep.a"].accounts == 12.0  # a stock: November's, both currencies
    assert rows["rep.c"].accounts == 0.0  # not October's 3
    assert rows["rep.a"].values["win_rate"] == pytest.approx(4 / 6 * 100)
    assert rows["rep.b"].values["win_rate"] == 25.0
    assert rows[""].values["win_rate"] is None
    assert rows["rep.a"].values["overdue_share"] == 25.0
    assert rows["rep.b"].previous == {"collected": 1000.0, "win_rate": 100.0, "overdue_share": None}
    assert rows["rep.c"].previous["collected"] == 70.0
    assert rows["rep.b"].change("collected") == 2000.0
    assert rows[""].change("win_rate") is None
    assert result.total.accounts == 18.0
    assert result.total.values["collected"] == 4010.0
    assert result.total.values["win_rate"] == 50.0
    assert result.total.previous["collected"] == 1570.0
    assert result.total.previous["win_rate"] == 75.0
    assert result.missing_months == []


def test_the_sort_figure_decides_the_order_and_which_way_is_better(session: Session) -> None:
    build(session)

    by_win = run(session, sort="win_rate")
    by_overdue = run(session, sort="overdue_share")  # lower is better
    worst = run(session, worst_first=True)

    assert table(by_win, "win_rate") == [
        ("rep.a", 1, pytest.approx(4 / 6 * 100)),
        ("rep.b", 2, 25.0),
        ("rep.c", None, None),  # no value: last, by name ("Li Wei" before "No owner")
        ("", None, None),
    ]
    assert table(by_overdue, "overdue_share")[:2] == [("rep.a", 1, 25.0), ("rep.b", 2, 50.0)]
    assert [(r.key, r.rank) for r in worst.rows] == [
        ("rep.c", 4),
        ("", 3),
        ("rep.a", 2),
        ("rep.b", 1),
    ]


def test_the_sort_figure_is_shown_even_when_not_among_the_columns(session: Session) -> None:
    build(session)

    result = run(session, sort="new_customers", kpis=("collected",))

    assert [k.code for k in result.kpis] == ["new_customers", "collected"]
    assert all(r.values["new_customers"] == 0.0 for r in result.rows)
    assert {r.rank for r in result.rows} == {1}  # all equal: all first


def test_a_quarter_sums_flows_keeps_the_last_stock_and_has_no_previous_when_unbuilt(
    session: Session,
) -> None:
    build(session)

    result = run(session, period="3m")

    rows = {r.key: r for r in result.rows}
    assert rows["rep.a"].values["collected"] == 1600.0  # 100 + 500 + 1,000
    assert rows["rep.b"].values["collected"] == 4100.0
    assert rows["rep.c"].values["collected"] == 70.0
    assert rows["rep.a"].accounts == 12.0
    assert rows["rep.a"].previous == {"collected": None, "win_rate": None, "overdue_share": None}

    half = run(session, period="6m")
    assert half.missing_months == [date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)]
    assert {r.key: r.values["collected"] for r in half.rows}["rep.a"] == 1600.0


def test_regions_read_the_cube_without_owners_and_ties_share_a_rank(session: Session) -> None:
    build(session)

    cny = run(session, by="region")
    usd = run(session, by="region", currency="usd")

    assert [(r.key, r.name, r.rank, r.values["collected"], r.accounts) for r in cny.rows] == [
        ("华东", "华东", 1, 4000.0, 15.0),
        ("", "No region", 2, 10.0, 1.0),
        ("华北", "华北", 3, 0.0, 0.0),
        ("华南", "华南", 3, 0.0, 2.0),
    ]
    assert {r.key: r.values["win_rate"] for r in cny.rows}["华南"] == 50.0
    assert table(usd, "collected") == [
        ("华南", 1, 50.0),
        ("", 2, 0.0),
        ("华东", 2, 0.0),
        ("华北", 2, 0.0),
    ]


def test_filters_narrow_the_rows(session: Session) -> None:
    build(session)

    east = run(session, region="华东")
    champions = run(session, segment="champions", currency="USD")

    assert table(east, "collected") == [("rep.b", 1, 3000.0), ("rep.a", 2, 1000.0)]
    assert table(champions, "collected") == [("rep.a", 1, 50.0)]
    assert champions.rows[0].accounts == 2.0


def test_a_sales_rep_sees_only_his_own_row_whatever_he_asks(session: Session) -> None:
    world = build(session)
    rep = Actor.for_user(world.rep_a)

    own = run(session, actor=rep)
    asked_for_b = run(session, actor=rep, owner_id=world.rep_b.id)
    regions = run(session, actor=rep, by="region")

    assert table(own, "collected") == [("rep.a", 1, 1000.0)]
    assert own.total.values["collected"] == 1000.0
    assert table(asked_for_b, "collected") == [("rep.a", 1, 1000.0)]
    assert [(r.key, r.values["collected"]) for r in regions.rows] == [
        ("华东", 1000.0),
        ("华南", 0.0),
    ]
    assert regions.total.accounts == 12.0


@pytest.mark.parametrize(
    "flt",
    [InsightFilter(), InsightFilter(region="华东"), InsightFilter(currency="USD", tier="key")],
)
def test_the_total_row_is_the_dashboards_figure(session: Session, flt: InsightFilter) -> None:
    build(session)
    codes = tuple(k.code for k in figures.KPIS)

    for by in ("owner", "region"):
        result = league(
            session,
            actor=TESTER,
            by=by,
            flt=flt,
            period=Period.ending(NOV, "3m"),
            kpis=codes,
        )
        board = figures.dashboard(
            session, actor=TESTER, flt=flt, period=Period.ending(NOV, "3m"), series_months=1
        )
        for code in codes:
            expected = board.figures[code].value
            got = result.total.values[code]
            assert got == (None if expected is None else pytest.approx(expected)), (by, code)


def test_unknown_grouping_or_figure_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="owner or region"):
        run(session, by="team")
    with pytest.raises(ValidationFailed, match="bogus"):
        run(session, sort="bogus")


# ---------------------------------------------------------------- the page


def test_the_league_page_links_each_owner_to_his_dashboard(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    page = client.get("/insights/league?month=2026-11&region=华东")

    assert page.status_code == 200, page.text
    html = page.text
    assert html.index('data-key="rep.b"') < html.index('data-key="rep.a"')
    assert 'href="/insights?month=2026-11&amp;owner=rep.b&amp;region=%E5%8D%8E%E4%B8%9C"' in html
    assert 'data-sort="collected" class="tr-sorted"' in html
    by_win = client.get("/insights/league?month=2026-11&region=华东&sort=win_rate").text
    assert by_win.index('data-key="rep.a"') < by_win.index('data-key="rep.b"')


def test_the_league_page_of_regions_and_of_a_stage(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    page = client.get("/insights/league?by=region&month=2026-11&columns=cash&period=3m")

    assert page.status_code == 200, page.text
    assert 'data-by="region"' in page.text
    assert 'href="/insights?period=3m&amp;month=2026-11&amp;region=%E5%8D%8E%E4%B8%9C"' in page.text
    for code in ("dso", "cei", "overdue_share", "promise_keeping", "collected"):
        assert f'data-sort="{code}"' in page.text
    assert 'data-sort="win_rate"' not in page.text


def test_the_league_page_of_a_sales_rep_has_only_his_row(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    sign_in(client, world.rep_a.username)

    page = client.get("/insights/league?month=2026-11&owner=rep.b")

    assert page.status_code == 200, page.text
    assert 'data-key="rep.a"' in page.text
    assert 'data-key="rep.b"' not in page.text
    assert 'name="owner"' not in page.text


def test_unreadable_choices_are_named_and_ignored(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    page = client.get("/insights/league?month=2026-11&by=team&sort=bogus&owner=nobody&tier=gold")

    assert page.status_code == 200, page.text
    assert "team is not a choice here" in page.text
    assert "bogus is not a choice here" in page.text
    assert "There is no user nobody" in page.text
    assert "gold is not a choice here" in page.text
    assert 'data-key="rep.b"' in page.text  # owners, by cash collected
