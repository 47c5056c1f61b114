"""The loyalty dashboard page: segment map, cohorts, NRR/GRR, CLV and the at-risk list on the
small company of ``retention_world``, a sales rep's scope, the state before the first cycle,
ignored parameters, and the page in Chinese."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.loyalty.retention_world import build, with_scores
from tests.web import conftest as web_fixtures
from tests.web.pages import sign_in

# The web tests' app and client, bound to this test's session.
app = web_fixtures.app
client = web_fixtures.client

DAY = "as_of=2026-03-31"
HTMX = {"HX-Request": "true"}


def retention_part(client: TestClient, query: str = DAY) -> str:
    """The dashboard's retention part, as HTMX loads it."""
    answer = client.get("/loyalty/retention?" + query, headers=HTMX)
    assert answer.status_code == 200, answer.text
    assert "<html" not in answer.text
    return answer.text


def chart_data(html: str, name: str = "loyalty-data") -> dict[str, Any]:
    match = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', html, re.S)
    assert match, "the page carries no chart data"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def at_risk_rows(html: str) -> list[str]:
    section = html.split('data-testid="at-risk"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-account="([^"]+)">', section)


def test_the_dashboard_of_a_manager(client: TestClient, session: Session) -> None:
    world = with_scores(session, build(session))
    sign_in(client, world.manager.username)

    page = client.get("/loyalty?" + DAY)

    assert page.status_code == 200, page.text
    html = page.text
    assert 'class="ly-nav"' in html
    assert 'data-testid="loyalty-empty"' not in html
    assert re.search(r'data-testid="scored">5<', html)
    assert re.search(r'<tr data-segment="champions">.*?Champions', html, re.S)
    assert at_risk_rows(html) == ["RT-R", "RT-Q", "RT-S"]
    assert '<a href="/customers/RT-R">RT-R</a>' in html
    assert "Rival Zhang" in html
    assert 'hx-get="/loyalty/retention?as_of=2026-03-31"' in html
    data = chart_data(html)
    assert {s["name"]: s["value"] for s in data["segments"]} == {
        "Champions": 1,
        "Loyal": 1,
        "Promising": 1,
        "At risk": 1,
        "Hibernating": 1,
    }
    assert sum(data["clv_counts"]) == 4
    assert "flywheel run" not in html
    assert 'data-testid="segment-grid"' in html


def test_the_retention_part(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.manager.username)

    html = retention_part(client)

    assert re.search(r'data-testid="repeat-rate">80\.0%<', html)
    assert re.search(r'data-testid="nrr">69\.7%<', html)  # March against February
    assert '<tr data-cohort="2026-01">' in html
    data = chart_data(html, "loyalty-retention-data")
    assert data["cohort"]["cohorts"][0] == "2026-01 (n=3)"
    assert [0, 0, 100.0] in data["cohort"]["customers"]
    assert [1, 0, 66.7] in data["cohort"]["customers"]
    assert [1, 0, 71.4] in data["cohort"]["revenue"]
    assert data["periods"][-2:] == ["2026-02", "2026-03"]
    assert data["nrr"][-2:] == [71.4, 69.7]
    assert data["grr"][-2:] == [57.1, 69.7]
    # Opened directly, it is a page of its own.
    page = client.get("/loyalty/retention?" + DAY).text
    assert "<html" in page
    assert 'class="ly-nav"' in page


def test_a_sales_rep_sees_only_his_accounts(client: TestClient, session: Session) -> None:
    world = with_scores(session, build(session))
    sign_in(client, world.rep.username)

    html = client.get("/loyalty?" + DAY).text

    assert at_risk_rows(html) == ["RT-Q"]
    assert "RT-R" not in html
    assert {s["name"]: s["value"] for s in chart_data(html)["segments"]} == {
        "Champions": 1,
        "At risk": 1,
    }
    part = retention_part(client)
    assert re.search(r'data-testid="repeat-rate">100\.0%<', part)  # P and Q both bought twice
    assert 'name="owner"' not in html  # no owner filter for a rep


def test_filters_narrow_the_dashboard(client: TestClient, session: Session) -> None:
    world = with_scores(session, build(session))
    sign_in(client, world.manager.username)

    html = client.get("/loyalty?" + DAY + "&owner=ly.rival&region=华东").text

    assert at_risk_rows(html) == ["RT-R"]
    assert {s["name"]: s["value"] for s in chart_data(html)["segments"]} == {"Hibernating": 1}
    quarterly = retention_part(client, DAY + "&period=quarter")
    assert chart_data(quarterly, "loyalty-retention-data")["periods"][-1] == "2026-Q1"


def test_before_the_first_cycle_the_page_says_what_to_run(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    sign_in(client, world.manager.username)

    page = client.get("/loyalty?" + DAY)

    assert page.status_code == 200
    html = page.text
    assert 'data-testid="loyalty-empty"' in html
    assert "<code>flywheel run</code>" in html
    assert 'data-testid="at-risk"' not in html
    # Cohorts and NRR come from the orders, so they are there all the same.
    assert 'id="loyalty-retention"' in html
    assert 'data-testid="cohorts"' in retention_part(client)


def test_an_empty_company(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.manager.username)

    html = retention_part(client, DAY + "&owner=nobody")

    assert "No first purchase in the last 24 months." in html
    assert "No whole period with buyers yet." in html


def test_bad_parameters_are_named_and_ignored(client: TestClient, session: Session) -> None:
    world = with_scores(session, build(session))
    sign_in(client, world.manager.username)

    page = client.get("/loyalty?as_of=31.03.2026&tier=gold&period=week&currency=EURO")

    assert page.status_code == 200
    html = page.text
    assert "As of is not a date; it was ignored." in html
    assert "gold is not a choice here; it was ignored." in html
    assert "week is not a choice here; it was ignored." in html
    assert "A currency is three letters, like CNY or USD." in html
    assert client.get("/loyalty?page=0").status_code == 422
    part = retention_part(client, DAY + "&period=week")
    assert "week is not a choice here" not in part  # a part names no problem; the page does
    assert '<tr data-period="2026-03">' in part  # months, the default


def test_the_dashboard_in_chinese(client: TestClient, session: Session) -> None:
    world = with_scores(session, build(session, language="zh"))
    sign_in(client, world.manager.username)

    html = client.get("/loyalty?" + DAY).text

    assert "忠诚度" in html
    for words in ("冠军客户", "流失风险", "风险价值", "正在计算"):
        assert words in html, words
    part = retention_part(client)
    for words in ("同期群留存", "复购率", "净收入留存率"):
        assert words in part, words
    assert {s["name"] for s in chart_data(html)["segments"]} >= {"冠军客户", "忠诚客户"}


def test_the_empty_state_in_chinese(client: TestClient, session: Session) -> None:
    world = build(session, language="zh")
    sign_in(client, world.manager.username)

    html = client.get("/loyalty?" + DAY).text

    assert "尚无忠诚度评分" in html
    assert "<code>flywheel run</code>" in html
