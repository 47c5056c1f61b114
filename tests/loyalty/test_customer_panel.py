"""The 360's loyalty panel: CLV, probability alive, health with its band, factors, trend and
history, churn risk with its basis, in English and Chinese; only for an account the reader may
see."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.customers import Customer
from flywheel.models.enums import ChurnBasis, Role, Segment, Trend
from tests.factories import make_customer
from tests.loyalty.factories import make_loyalty_score
from tests.web import conftest as web_fixtures
from tests.web.pages import make_person, sign_in

app = web_fixtures.app
client = web_fixtures.client

DAY = date(2026, 6, 30)
FACTORS = [
    ["nps", 50.0, 11.25],
    ["csat", None, 5.0],
    ["purchase_recency", 1.0, 18.0],
    ["spend_trend", -0.25, 5.36],
    ["credit_grade", 2.0, 7.5],
    ["days_beyond_terms", 6.0, 8.0],
    ["open_issues", 1.0, 6.67],
    ["engagement", 2.0, 2.92],
    ["support_load", 1.0, 5.0],
]


def scored(session: Session, customer: Customer) -> None:
    for k, health in enumerate((75, 62, 38)):
        make_loyalty_score(
            session,
            customer=customer,
            as_of=DAY - timedelta(days=60 - 30 * k),
            health=health,
            segment=Segment.AT_RISK,
            clv="81234.50",
            p_alive=0.42,
            churn_risk=0.58,
            health_trend=Trend.DOWN.value,
            health_factors=FACTORS,
            churn_basis=ChurnBasis.P_ALIVE.value,
        )
    # Older than 90 days: not in the history line.
    make_loyalty_score(session, customer=customer, as_of=DAY - timedelta(days=200), health=90)


def panel_of(page: str) -> str:
    start = page.index('data-panel="loyalty.health"')
    return page[start : page.index("</section>", start)]


def test_the_360_shows_the_loyalty_panel(client: TestClient, session: Session) -> None:
    rep = make_person(session, "ly.rep", role=Role.SALES)
    mine = make_customer(session, code="LY-MINE", owner=rep)
    scored(session, mine)
    sign_in(client, "ly.rep")

    page = client.get(f"/customers/{mine.code}", params={"as_of": DAY.isoformat()})

    assert page.status_code == 200
    panel = panel_of(page.text)
    assert re.search(r'class="lyp-health band-red"[^>]*>38<', panel)
    assert 'data-testid="loyalty-trend"' in panel
    assert "↓" in panel
    assert "CN¥81,234.50" in panel
    assert "42%" in panel  # probability alive
    assert re.search(r'data-testid="loyalty-churn">58%<', panel)
    assert "1 − probability alive" in panel
    assert re.search(r'data-testid="loyalty-segment">At risk<', panel)
    rows = re.findall(
        r'<tr data-factor="(\w+)"><td>([^<]+)</td><td class="num ?(\w*)">([^<]+)</td>'
        r'<td class="num">([^<]+)</td>',
        panel,
    )
    assert [r[0] for r in rows] == [f[0] for f in FACTORS]
    shown = {r[0]: (r[2], r[3], r[4]) for r in rows}
    assert shown["nps"] == ("", "50.0", "11.2")
    assert shown["csat"] == ("unknown", "no data", "5.0")
    assert shown["spend_trend"] == ("", "-25%", "5.4")
    assert shown["credit_grade"] == ("", "B", "7.5")
    assert shown["days_beyond_terms"] == ("", "6 days", "8.0")
    assert 'data-testid="loyalty-history"' in panel
    assert "(38–75)" in panel  # the three stored days of the last 90


def test_the_panel_in_chinese(client: TestClient, session: Session) -> None:
    make_person(session, "ly.zh", role=Role.MANAGER, language="zh")
    customer = make_customer(session, code="LY-ZH")
    make_loyalty_score(
        session,
        customer=customer,
        as_of=DAY,
        health=82,
        health_factors=FACTORS,
        churn_basis=ChurnBasis.RENEWAL.value,
    )
    sign_in(client, "ly.zh")

    panel = panel_of(client.get(f"/customers/{customer.code}").text)

    assert 'class="lyp-health band-green"' in panel
    assert "客户终身价值" in panel
    assert "健康" in panel
    assert "续约风险" in panel
    assert "无数据" in panel


def test_an_unscored_account_says_so(client: TestClient, session: Session) -> None:
    make_person(session, "ly.viewer", role=Role.VIEWER)
    customer = make_customer(session, code="LY-NEW")
    sign_in(client, "ly.viewer")

    panel = panel_of(client.get(f"/customers/{customer.code}").text)

    assert 'data-testid="loyalty-not-scored"' in panel


def test_a_rep_sees_no_panel_of_an_account_he_does_not_own(
    client: TestClient, session: Session
) -> None:
    make_person(session, "ly.rival", role=Role.SALES)
    owner = make_person(session, "ly.owner", role=Role.SALES)
    theirs = make_customer(session, code="LY-THEIRS", owner=owner)
    scored(session, theirs)
    sign_in(client, "ly.rival")

    page = client.get(f"/customers/{theirs.code}", params={"as_of": DAY.isoformat()})

    assert page.status_code == 404
    assert 'data-panel="loyalty.health"' not in page.text
    assert "81,234.50" not in page.text
