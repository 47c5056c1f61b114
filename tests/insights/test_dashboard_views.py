"""The flywheel dashboard page on the hand-counted company of ``board_world``: the figures of
the last complete month against the month before and the target, the wheel, force against
friction, period and filters, a sales rep's scope, parameters that cannot be read, months the
snapshot does not hold, the running month, the top accounts part and the page in Chinese."""

from __future__ import annotations

import html as html_lib
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.insights.figures import KPIS, STAGES
from flywheel.insights.labels import KEY_FIGURES
from tests.insights.board_world import MARCH, build
from tests.web.pages import sign_in

HTMX = {"HX-Request": "true"}


def page(client: TestClient, query: str = "") -> str:
    answer = client.get("/insights" + (f"?{query}" if query else ""))
    assert answer.status_code == 200, answer.text
    return answer.text


def cell(html: str, testid: str) -> str:
    """The text of the element with ``data-testid``, tags and spacing removed."""
    pattern = rf'<(\w+)[^>]*\bdata-testid="{re.escape(testid)}"[^>]*>(.*?)</\1>'
    match = re.search(pattern, html, re.S)
    assert match, f"no {testid} on the page"
    text = re.sub(r"<[^>]+>", " ", match.group(2))
    return html_lib.unescape(" ".join(text.split()))


def row(html: str, code: str, stage: str) -> str:
    """The row of figure ``code`` on its stage's card."""
    card = html.split(f'id="stage-{stage}"', 1)[1].split("</section>", 1)[0]
    match = re.search(rf'<tr data-kpi="{code}">(.*?)</tr>', card, re.S)
    assert match, f"no row for {code} on the {stage} card"
    return match.group(1)


def problems(html: str) -> dict[str, str]:
    found = re.findall(
        r'<div class="flash flash-error" role="alert" data-field="(\w+)">(.*?)</div>', html
    )
    return {field: html_lib.unescape(text) for field, text in found}


def test_the_manager_opens_on_the_last_complete_month(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    html = page(client)

    assert cell(html, "period") == "Mar 2026 · against Feb 2026 · CNY"
    assert "By default the dashboard shows the last complete month, Mar 2026" in html
    assert cell(html, "snapshot") == "Figures from the snapshot built through Mar 31, 2026."
    assert 'data-testid="missing-months"' not in html
    assert problems(html) == {}
    # New customers: 3 in March (B, C, F) against 1 in February (D); the target is 2 a month.
    assert cell(html, "value-new_customers") == "3"
    assert cell(html, "previous-new_customers") == "1"
    assert cell(html, "change-new_customers") == "▲ +2"
    assert 'class="num fw-change ok" data-testid="change-new_customers"' in html
    assert cell(html, "target-new_customers") == "Target value 2 on target"
    # Overdue share: 10,000 of 15,000 past due at March's end, all of 10,000 at February's.
    assert cell(html, "value-overdue_share") == "66.7%"
    assert cell(html, "previous-overdue_share") == "100.0%"
    assert cell(html, "change-overdue_share") == "▼ −33.3 pts"
    assert 'class="num fw-change ok" data-testid="change-overdue_share"' in html  # down is better
    assert cell(html, "value-dso") == "90.0 days"
    assert cell(html, "change-dso") == "= ±0"
    assert 'data-testid="target-dso"' not in html  # no target set
    # Nothing to divide by: no deals, no answers.
    for code in ("win_rate", "nps", "csat", "retention"):
        assert cell(html, f"value-{code}") == "—", code
        assert cell(html, f"change-{code}") == "—", code
    # Every figure has its row on its stage's card, linked to the list behind it.
    for kpi in KPIS:
        assert f'href="/insights/drill/{kpi.drill}?period=1m&amp;month=2026-03"' in row(
            html, kpi.code, kpi.stage
        )


def test_the_wheel_and_force_against_friction(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    html = page(client)

    wheel = html.split('id="wheel"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<g class="fw-node" data-stage="(\w+)"', wheel) == list(STAGES)
    assert re.findall(r'class="fw-fig" href="[^"]+" data-kpi="(\w+)"', wheel) == [
        code for stage in STAGES for code in KEY_FIGURES[stage]
    ]
    assert cell(wheel, "wheel-new_customers") == "3"
    assert cell(wheel, "wheel-overdue_share") == "66.7%"
    assert cell(wheel, "wheel-win_rate") == "—"
    # Force: no promoter, referral, expansion or kept promise; friction: one overdue account.
    assert cell(html, "hub-force") == "0"
    assert cell(html, "hub-friction") == "1"
    assert 'data-testid="balance" data-force-share="0.0"' in html
    assert cell(html, "balance-overdue") == "1"
    assert cell(html, "balance-promoters") == "0"
    assert 'hx-get="/insights/top-accounts?period=1m&amp;month=2026-03"' in html


def test_the_sparkline_follows_the_months(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    html = page(client)

    spark = row(html, "new_customers", "attract").split('<svg class="fw-spark"', 1)[1]
    title = re.search(r"<title>(.*?)</title>", spark, re.S)
    assert title
    months = title.group(1).split("\n")
    assert len(months) == 12
    assert months[0] == "2025-04: 0"
    assert months[2] == "2025-06: 1"  # BW-A
    assert months[-2:] == ["2026-02: 1", "2026-03: 3"]
    lines = re.findall(r'<polyline points="([^"]+)"', spark)
    assert len(lines) == 1
    points = [tuple(map(float, p.split(","))) for p in lines[0].split()]
    assert len(points) == 12
    assert points[-1][1] == min(y for _x, y in points)  # March, the highest, is drawn on top


def test_period_and_filters_change_the_figures(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    quarter = page(client, "period=3m&month=2026-03")
    assert cell(quarter, "period") == "Jan 2026 – Mar 2026 · against Oct 2025 – Dec 2025 · CNY"
    assert cell(quarter, "value-new_customers") == "4"  # B, C, D, F
    assert cell(quarter, "previous-new_customers") == "0"
    assert cell(quarter, "change-new_customers") == "▲ +4"
    assert 'href="/insights/drill/new_customers?period=3m&amp;month=2026-03"' in quarter

    for query, expected in (
        ("owner=bw.rep", "2"),  # B, F
        ("owner=bw.rival", "1"),  # C
        ("region=华东", "2"),  # C, F
        ("tier=key", "1"),  # C
        ("owner=bw.rep&tier=growth", "1"),  # F
        ("segment=champions", "0"),  # nobody has a loyalty score
    ):
        html = page(client, query)
        assert problems(html) == {}, query
        assert cell(html, "value-new_customers") == expected, query

    mine = page(client, "owner=bw.rep&region=华东")
    assert cell(mine, "value-overdue") == "1"  # BW-A
    assert cell(mine, "value-overdue_share") == "100.0%"
    assert (
        'href="/insights/drill/new_customers?period=1m&amp;month=2026-03&amp;owner=bw.rep'
        '&amp;region=%E5%8D%8E%E4%B8%9C"'
    ) in mine
    assert '<option value="bw.rep" selected>' in mine
    # Money in another currency: no receivables in USD, so no overdue share to show.
    dollars = page(client, "currency=usd")
    assert cell(dollars, "period").endswith("· USD")
    assert cell(dollars, "value-overdue_share") == "—"
    assert cell(dollars, "value-new_customers") == "3"  # counts are over every currency


def test_a_sales_rep_sees_only_his_accounts(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.rep.username)

    html = page(client)

    assert cell(html, "value-new_customers") == "2"
    assert cell(html, "value-overdue") == "1"
    assert 'name="owner"' not in html
    # Asking for another rep's accounts changes nothing.
    other = page(client, "owner=bw.rival")
    assert cell(other, "value-new_customers") == "2"
    assert problems(other) == {}
    assert 'href="/insights/drill/new_customers?period=1m&amp;month=2026-03"' in other


def test_parameters_that_cannot_be_read_are_named_and_ignored(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    html = page(client, "period=2m&month=2026-13&owner=nobody&tier=gold&segment=vip&currency=EURO")

    assert problems(html) == {
        "period": "Period “2m” is not one of 1m, 3m, 6m and 12m; it was ignored.",
        "month": "Month “2026-13” is not a month written like 2026-11; it was ignored.",
        "owner": "Owner “nobody” is not a user; it was ignored.",
        "tier": "Tier “gold” is not a choice here; it was ignored.",
        "segment": "Segment “vip” is not a choice here; it was ignored.",
        "currency": "Currency “EURO” is not three letters like CNY or USD; it was ignored.",
    }
    assert re.search(r'<select name="tier" class="invalid" aria-invalid="true">', html)
    # The page still shows the defaults: March, everyone, CNY.
    assert cell(html, "period") == "Mar 2026 · against Feb 2026 · CNY"
    assert cell(html, "value-new_customers") == "3"
    # A month far outside what a ledger holds is refused the same way.
    far = page(client, "month=0001-01&period=12m")
    assert set(problems(far)) == {"month"}
    assert cell(far, "value-new_customers") == "5"  # the twelve months to March: A, B, C, D, F


def test_months_the_snapshot_does_not_hold(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    html = page(client, "month=2025-02")

    assert cell(html, "missing-months").startswith("The snapshot has no figures for Feb 2025")
    assert "<code>flywheel run</code>" in html
    assert cell(html, "snapshot") == "The snapshot holds nothing for the last month of this period."
    assert cell(html, "value-new_customers") == "—"
    assert cell(html, "wheel-new_customers") == "—"
    assert 'data-testid="balance" data-force-share=""' in html


def test_before_the_first_cycle_every_figure_is_a_dash(
    client: TestClient, session: Session
) -> None:
    world = build(session, cube=False)
    sign_in(client, world.boss.username)

    html = page(client, f"month={MARCH}")

    assert "<code>flywheel run</code>" in html
    for kpi in KPIS:
        assert cell(html, f"value-{kpi.code}") == "—", kpi.code
        assert cell(html, f"previous-{kpi.code}") == "—", kpi.code
    assert 'data-testid="balance" data-force-share=""' in html


def test_the_running_month_runs_to_the_day_it_was_built(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    html = page(client, "month=2026-04")

    assert cell(html, "month-note") == (
        "Apr 2026 is not over: its figures run to Apr 15, 2026, the day the snapshot was built."
    )
    assert cell(html, "value-new_customers") == "1"  # BW-E
    assert cell(html, "change-new_customers") == "▼ −2"
    assert 'class="num fw-change bad" data-testid="change-new_customers"' in html
    assert cell(html, "target-new_customers") == "Target value 2 off target"


def test_the_top_accounts_behind_force_and_friction(client: TestClient, session: Session) -> None:
    world = build(session)
    sign_in(client, world.boss.username)

    part = client.get("/insights/top-accounts?period=1m&month=2026-03", headers=HTMX)

    assert part.status_code == 200, part.text
    html = part.text
    assert "<html" not in html
    overdue = html.split('<div data-kpi="overdue">', 1)[1].split("</div>", 1)[0]
    assert 'href="/customers/BW-A">BW-A</a>' in overdue
    assert "1 in all" in overdue
    assert 'href="/insights/drill/overdue_accounts?period=1m&amp;month=2026-03"' in overdue
    promoters = html.split('<div data-kpi="promoters">', 1)[1].split("</div>", 1)[0]
    assert "None in this period." in promoters
    # Opened directly, it is a page of its own; a rep's holds his accounts only.
    assert "<html" in client.get("/insights/top-accounts").text
    sign_in(client, world.rival.username)
    theirs = client.get("/insights/top-accounts?month=2026-03", headers=HTMX).text
    assert "BW-A" not in theirs


def test_the_dashboard_in_chinese(client: TestClient, session: Session) -> None:
    world = build(session, language="zh")
    sign_in(client, world.boss.username)

    html = page(client)

    assert '<html lang="zh-CN">' in html
    assert re.search(r"<h1>飞轮</h1>", html)
    assert cell(html, "period") == "2026年3月 · 对比 2026年2月 · CNY"
    assert cell(html, "value-dso") == "90.0 天"
    assert cell(html, "change-overdue_share") == "▼ −33.3 个百分点"
    text = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
    for english in ("New customers", "Force vs friction", "Attract", "Friction", "This period"):
        assert english not in text, english
