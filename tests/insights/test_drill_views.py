"""The lists behind the dashboard's figures (``/insights/drill/{code}``) on the hand-counted
company of ``board_world``: the rows of a figure in the dashboard's period and filters, a sales
rep's scope, paging, both exports read back, parameters that cannot be read, an unknown list
and the list in Chinese."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from datetime import datetime

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.insights import views
from tests.insights.board_world import NEW_IN_MARCH, build
from tests.web.pages import sign_in

MARCH = "period=1m&month=2026-03"
# New in March, most important first: the key account, then growth, then standard.
MARCH_ROWS = ["BW-C", "BW-F", "BW-B"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def drill(client: TestClient, code: str, query: str) -> str:
    answer = client.get(f"/insights/drill/{code}?{query}")
    assert answer.status_code == 200, answer.text
    return answer.text


def codes(html: str) -> list[str]:
    if 'data-testid="drill-rows"' not in html:
        assert 'data-testid="drill-empty"' in html
        return []
    table = html.split('data-testid="drill-rows"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td data-column="code"><a href="/customers/([^"]+)">', table)


def total(html: str) -> int:
    match = re.search(r'data-testid="total">([\d,]+)<', html)
    assert match
    return int(match.group(1).replace(",", ""))


def read_csv(client: TestClient, code: str, query: str) -> list[list[str]]:
    answer = client.get(f"/insights/drill/{code}/export.csv?{query}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith(b"\xef\xbb\xbf")  # a byte order mark, for Excel
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def read_xlsx(client: TestClient, code: str, query: str) -> list[tuple[object, ...]]:
    answer = client.get(f"/insights/drill/{code}/export.xlsx?{query}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    return [tuple(r) for r in book.active.iter_rows(values_only=True)]


def test_the_list_behind_a_figure(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    html = drill(client, "new_customers", MARCH)

    assert re.search(r"<h1>New customers</h1>", html)
    assert "Mar 2026: Mar 1, 2026 – Mar 31, 2026 · CNY" in html_lib.unescape(html)
    assert total(html) == 3
    assert codes(html) == MARCH_ROWS
    assert sorted(codes(html)) == sorted(NEW_IN_MARCH)
    rows = html.split('data-testid="drill-rows"', 1)[1]
    assert '<td data-column="tier">Key</td>' in rows
    assert '<td data-column="created_on">2026-03-20</td>' in rows
    assert '<td data-column="region">华东</td>' in rows
    # The way back and the exports keep the period and filters.
    assert 'href="/insights?period=1m&amp;month=2026-03" data-testid="back"' in html
    assert 'href="/insights/drill/new_customers/export.csv?period=1m&amp;month=2026-03"' in html
    assert 'href="/insights/drill/new_customers/export.xlsx?period=1m&amp;month=2026-03"' in html
    assert (
        '<a href="/insights?period=1m&amp;month=2026-03#stage-cards" data-kpi="new_customers">'
        in html
    )
    assert 'action="/insights/drill/new_customers"' in html  # its own filters


def test_the_list_follows_the_period_and_filters(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    assert codes(drill(client, "new_customers", "period=3m&month=2026-03")) == [
        "BW-C",
        "BW-F",
        "BW-D",
        "BW-B",
    ]
    assert codes(drill(client, "new_customers", MARCH + "&owner=bw.rep")) == ["BW-F", "BW-B"]
    assert codes(drill(client, "new_customers", MARCH + "&region=华东")) == ["BW-C", "BW-F"]
    assert codes(drill(client, "new_customers", MARCH + "&tier=key")) == ["BW-C"]
    empty = drill(client, "new_customers", "month=2025-12")
    assert total(empty) == 0
    assert 'data-testid="drill-empty"' in empty
    # The overdue accounts at March's end: A's invoice was due on 31 January.
    assert codes(drill(client, "overdue_accounts", MARCH)) == ["BW-A"]


def test_a_sales_rep_lists_only_his_accounts(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.rep.username)

    html = drill(client, "new_customers", MARCH + "&owner=bw.rival")

    assert codes(html) == ["BW-F", "BW-B"]
    assert "your accounts only" in html
    assert 'name="owner"' not in html
    assert [r[0] for r in read_csv(client, "new_customers", MARCH)[1:]] == ["BW-F", "BW-B"]
    assert [r[0] for r in read_xlsx(client, "new_customers", MARCH)[1:]] == ["BW-F", "BW-B"]
    # The rival's overdue account is not his.
    sign_in(client, world.rival.username)
    assert codes(drill(client, "overdue_accounts", MARCH)) == []


def test_the_list_comes_a_page_at_a_time(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build(session)
    sign_in(client, world.boss.username)
    monkeypatch.setattr(views, "DRILL_PAGE_SIZE", 2)

    first = drill(client, "new_customers", MARCH)
    second = drill(client, "new_customers", MARCH + "&page=2")

    assert codes(first) == MARCH_ROWS[:2]
    assert codes(second) == MARCH_ROWS[2:]
    assert total(first) == total(second) == 3
    assert "Page 1 of 2" in first
    assert (
        'href="/insights/drill/new_customers?period=1m&amp;month=2026-03&amp;page=2" rel="next"'
        in first
    )
    assert (
        'href="/insights/drill/new_customers?period=1m&amp;month=2026-03&amp;page=1" rel="prev"'
        in second
    )
    # The exports hold every page.
    assert [r[0] for r in read_csv(client, "new_customers", MARCH)[1:]] == MARCH_ROWS


def test_both_exports_read_back(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    table = read_csv(client, "new_customers", MARCH)
    book = read_xlsx(client, "new_customers", MARCH)

    header = ["Code", "Account", "Owner", "Tier", "Region", "Created on", "Referred by", "Referrer"]
    assert table[0] == header
    assert list(book[0]) == header
    assert [r[0] for r in table[1:]] == MARCH_ROWS
    assert table[1] == ["BW-C", "Board C 公司", "Li Wei", "Key", "华东", "2026-03-20", "", ""]
    # Excel keeps the date a date; empty cells at a row's end are not stored.
    assert book[1][:6] == ("BW-C", "Board C 公司", "Li Wei", "Key", "华东", datetime(2026, 3, 20))
    assert set(book[1][6:]) <= {None}
    assert [r[0] for r in book[1:]] == MARCH_ROWS
    answer = client.get(f"/insights/drill/new_customers/export.csv?{MARCH}&region=华东")
    assert answer.headers["content-disposition"].startswith(
        'attachment; filename="new_customers-2026-03-'
    )
    assert [r[0] for r in list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))[1:]] == [
        "BW-C",
        "BW-F",
    ]
    quarter = client.get("/insights/drill/new_customers/export.xlsx?period=3m&month=2026-03")
    assert 'filename="new_customers-2026-01_2026-03-' in quarter.headers["content-disposition"]


def test_parameters_that_cannot_be_read(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    # The page names them and shows the default list…
    html = drill(client, "new_customers", "month=2026-3x&tier=gold")
    assert 'data-field="month"' in html
    assert "Tier “gold” is not a choice here; it was ignored." in html_lib.unescape(html)
    assert codes(html) == MARCH_ROWS
    # …an export refuses them: it never holds a wider list than the one asked for.
    refused = client.get("/insights/drill/new_customers/export.csv?month=2026-03&tier=gold")
    assert refused.status_code == 422
    assert "attachment" not in refused.headers.get("content-disposition", "")
    assert "Tier “gold” is not a choice here" in refused.text


def test_an_unknown_list_is_not_found(client: TestClient, session: Session) -> None:
    world = build(session, cube=False)
    sign_in(client, world.boss.username)

    assert client.get("/insights/drill/nothing_here").status_code == 404
    assert client.get("/insights/drill/nothing_here/export.csv").status_code == 404
    assert client.get("/insights/drill/nothing_here/export.xlsx").status_code == 404


def test_the_list_in_chinese(client: TestClient, session: Session) -> None:
    world = build(session, language="zh")
    sign_in(client, world.boss.username)

    html = drill(client, "new_customers", MARCH)
    table = read_csv(client, "new_customers", MARCH)

    assert re.search(r"<h1>新客户</h1>", html)
    assert "导出 XLSX" in html
    assert codes(html) == MARCH_ROWS
    assert table[0][0] != "Code"
    assert table[1][3] == "重点客户"
