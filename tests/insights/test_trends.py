"""The trends page: every KPI as a monthly series over 12 or 24 months with its target, under
the dashboard's filters and the actor's scope, charted with the app's own ECharts."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.insights import figures
from flywheel.models.insights import KpiTarget
from tests.insights.league_world import build, people
from tests.web.pages import sign_in

NOTHING = [None] * 9  # December 2025 to August 2026: not in the cube


def chart_data(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="trends-data">(.*?)</script>', html, re.S
    )
    assert match, "the page carries no chart data"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def series(data: dict[str, Any], code: str) -> list[float | None]:
    return next(k["values"] for k in data["kpis"] if k["code"] == code)


def test_each_figure_by_month_with_its_target(client: TestClient, session: Session) -> None:
    world = build(session)
    session.add(KpiTarget(kpi="win_rate", value=60.0))
    session.flush()
    sign_in(client, world.boss.username)

    page = client.get("/insights/trends?month=2026-11")

    assert page.status_code == 200, page.text
    data = chart_data(page.text)
    assert len(data["months"]) == 12
    assert (data["months"][0], data["months"][-1]) == ("2025-12", "2026-11")
    assert [k["code"] for k in data["kpis"]] == [k.code for k in figures.KPIS]
    assert series(data, "collected") == [*NOTHING, 200.0, 1570.0, 4010.0]
    assert series(data, "win_rate") == [*NOTHING, None, 75.0, 50.0]
    assert series(data, "new_customers") == [*NOTHING, 0.0, 0.0, 0.0]
    win = next(k for k in data["kpis"] if k["code"] == "win_rate")
    assert (win["target"], win["unit"], win["label"]) == (60.0, "percent", "Win rate")
    assert next(k for k in data["kpis"] if k["code"] == "nps")["target"] is None
    html = page.text
    assert 'id="trend-win_rate"' in html
    assert 'id="trend-promises_broken"' in html
    assert "target 60.0%" in html
    assert '<td class="num" data-month="2026-10">75.0%</td>' in html
    assert '<td class="num" data-month="2026-11">CN¥4,010.00</td>' in html
    assert re.search(r'<script src="/static/vendor/echarts\.min\.js[^"]*"', html)
    assert not re.search(r'src="(https?:)?//', html)  # nothing from a CDN


def test_24_months_and_the_filters(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    long = chart_data(client.get("/insights/trends?month=2026-11&months=24").text)
    of_a = chart_data(client.get("/insights/trends?month=2026-11&owner=rep.a").text)
    usd = chart_data(client.get("/insights/trends?month=2026-11&region=华南&currency=USD").text)
    key = chart_data(client.get("/insights/trends?month=2026-11&tier=key").text)

    assert len(long["months"]) == 24
    assert long["months"][0] == "2024-12"
    assert series(long, "collected")[-3:] == [200.0, 1570.0, 4010.0]
    assert series(of_a, "collected")[-3:] == [100.0, 500.0, 1000.0]
    assert series(of_a, "win_rate")[-2:] == [50.0, 66.6667]  # 4 of 6, to 4 decimals
    assert usd["currency"] == "USD"
    assert series(usd, "collected")[-3:] == [0.0, 0.0, 50.0]
    assert series(key, "collected")[-3:] == [0.0, 0.0, 1000.0]


def test_a_sales_rep_sees_his_own_series(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.rep_b.username)

    page = client.get("/insights/trends?month=2026-11&owner=rep.a")

    assert page.status_code == 200, page.text
    assert series(chart_data(page.text), "collected")[-3:] == [100.0, 1000.0, 3000.0]
    assert 'name="owner"' not in page.text


def test_unreadable_choices_are_named_and_the_empty_cube_explained(
    client: TestClient, session: Session
) -> None:
    world = people(session)
    sign_in(client, world.boss.username)

    page = client.get("/insights/trends?months=7&month=last&currency=EURO")

    assert page.status_code == 200, page.text
    assert "7 is not a choice here; it was ignored." in page.text
    assert "last is not a month (YYYY-MM); it was ignored." in page.text
    assert "A currency is three letters" in page.text
    assert 'data-testid="trends-empty"' in page.text
    assert len(chart_data(page.text)["months"]) == 12
