"""/api/v1/loyalty: segments, cohorts, retention, CLV distribution and the at-risk list on the
small company of ``retention_world``; the caller's scope; the empty state; refused input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.users import User
from tests.loyalty.retention_world import LoyaltyWorld, build, with_scores
from tests.web import conftest as web_fixtures
from tests.web.api_support import bearer

# The web tests' app and client, bound to this test's session.
app = web_fixtures.app
client = web_fixtures.client

AS_OF = {"as_of": "2026-03-31"}


@pytest.fixture
def world(session: Session) -> LoyaltyWorld:
    return with_scores(session, build(session))


def get(client: TestClient, session: Session, user: User, path: str, **params: Any) -> Any:
    return client.get("/api/v1/loyalty" + path, params=params, headers=bearer(session, user))


def test_segments(client: TestClient, session: Session, world: LoyaltyWorld) -> None:
    answer = get(client, session, world.manager, "/segments", **AS_OF)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["as_of"], body["scores_day"], body["accounts"]) == ("2026-03-31", "2026-03-31", 5)
    assert body["filters"] == {"owner": None, "region": None, "tier": None, "currency": "CNY"}
    shown = {s["segment"]: (s["accounts"], s["clv"], s["revenue_12m"]) for s in body["segments"]}
    assert [s["segment"] for s in body["segments"]] == [
        "champions",
        "loyal",
        "promising",
        "needs_attention",
        "at_risk",
        "hibernating",
        "lost",
        "no_purchase",
    ]
    assert shown["champions"] == (1, "50000.00", "120000.00")
    assert shown["at_risk"] == (1, "20000.00", "120000.00")  # X (USD) is not counted
    assert shown["promising"] == (1, "0.00", "120000.00")  # U has no CLV
    assert shown["lost"] == (0, "0.00", "0.00")
    champions = body["segments"][0]
    assert (champions["label"], champions["share"]) == ("Champions", 0.2)
    assert body["definitions"]["frequency"] == "purchase days in the last 24 months"


def test_segments_by_owner_and_of_an_earlier_day(
    client: TestClient, session: Session, world: LoyaltyWorld
) -> None:
    body = get(client, session, world.manager, "/segments", **AS_OF, by="owner").json()

    groups = {g["key"]: g for g in body["groups"]}
    assert (groups["ly.rival"]["accounts"], groups["ly.rival"]["label"]) == (3, "Rival Zhang")
    assert groups["ly.rep"]["accounts"] == 2
    rep_counts = {s["segment"]: s["accounts"] for s in groups["ly.rep"]["segments"]}
    assert (rep_counts["champions"], rep_counts["at_risk"], rep_counts["loyal"]) == (1, 1, 0)

    earlier = get(client, session, world.manager, "/segments", as_of="2026-03-15").json()
    assert earlier["scores_day"] == "2026-03-01"
    assert [(s["segment"], s["accounts"]) for s in earlier["segments"] if s["accounts"]] == [
        ("lost", 1)
    ]


def test_a_sales_rep_sees_his_own_accounts(
    client: TestClient, session: Session, world: LoyaltyWorld
) -> None:
    segments = get(client, session, world.rep, "/segments", **AS_OF).json()
    risk = get(client, session, world.rep, "/at-risk", **AS_OF).json()
    retention = get(client, session, world.rep, "/retention", **AS_OF, periods=2).json()

    assert segments["accounts"] == 2
    assert [i["code"] for i in risk["items"]] == ["RT-Q"]
    assert (risk["total"], risk["value_at_risk"]) == (1, "16000.00")
    february = retention["periods"][0]
    assert (february["period"], february["start_revenue"], february["nrr"]) == (
        "2026-02",
        "3000.00",
        0.8333,
    )
    # The rival's accounts by name: still only his own scope, so nothing.
    other = get(client, session, world.rep, "/at-risk", **AS_OF, owner="ly.rival").json()
    assert other["total"] == 0


def test_cohorts(client: TestClient, session: Session, world: LoyaltyWorld) -> None:
    answer = get(client, session, world.manager, "/cohorts", **AS_OF, months=3)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["repeat_purchase"] == {
        "accounts": 5,
        "buyers": 5,
        "repeat_buyers": 4,
        "rate": 0.8,
    }
    january = body["cohorts"][0]
    assert (january["month"], january["size"], january["customers"]) == ("2026-01", 3, [3, 2, 2])
    assert january["revenue"] == ["3500.00", "2500.00", "2200.00"]
    assert january["customer_retention"] == [1.0, 0.6667, 0.6667]
    assert january["revenue_retention"] == [1.0, 0.7143, 0.6286]
    assert body["cohorts"][1]["customers"] == [1, 1, None]


def test_retention_per_month_and_region(
    client: TestClient, session: Session, world: LoyaltyWorld
) -> None:
    body = get(client, session, world.manager, "/retention", **AS_OF, periods=2).json()

    assert body["period"] == "month"
    february, march = body["periods"]
    assert february == {
        "period": "2026-02",
        "start": "2026-02-01",
        "end": "2026-02-28",
        "start_customers": 3,
        "retained_customers": 2,
        "start_revenue": "3500.00",
        "expansion": "500.00",
        "contraction": "1000.00",
        "churn": "500.00",
        "end_revenue": "2500.00",
        "new_revenue": "800.00",
        "nrr": 0.7143,
        "grr": 0.5714,
    }
    assert (march["nrr"], march["grr"]) == (0.697, 0.697)
    # 华东: P and R. February: start 1,500; P +500, R churned 500 → NRR 1, GRR 2/3.
    east = get(client, session, world.manager, "/retention", **AS_OF, periods=2, region="华东")
    assert [(p["nrr"], p["grr"]) for p in east.json()["periods"]] == [
        (1.0, 0.6667),
        (1.0, 1.0),
    ]
    quarters = get(client, session, world.manager, "/retention", **AS_OF, period="quarter")
    assert len(quarters.json()["periods"]) == 8


def test_clv_distribution(client: TestClient, session: Session, world: LoyaltyWorld) -> None:
    body = get(client, session, world.manager, "/clv-distribution", **AS_OF).json()

    # CLVs 10,000, 20,000, 40,000 and 50,000 in bins of 5,000 up to the 99th percentile.
    assert body["edges"][:3] == ["0.00", "5000.00", "10000.00"]
    assert body["counts"] == [0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1]
    assert (body["accounts"], body["without_clv"], body["total"]) == (4, 1, "120000.00")
    assert (body["mean"], body["median"]) == ("30000.00", "30000.00")


def test_at_risk_by_value_at_risk(
    client: TestClient, session: Session, world: LoyaltyWorld
) -> None:
    body = get(client, session, world.manager, "/at-risk", **AS_OF, page_size=2).json()

    assert (body["total"], body["value_at_risk"], body["min_churn_risk"]) == (3, "45000.00", 0.5)
    assert [(i["code"], i["value_at_risk"]) for i in body["items"]] == [
        ("RT-R", "24000.00"),
        ("RT-Q", "16000.00"),
    ]
    first = body["items"][0]
    assert (first["owner"], first["owner_name"], first["segment"], first["health"]) == (
        "ly.rival",
        "Rival Zhang",
        "hibernating",
        45,
    )
    second = get(client, session, world.manager, "/at-risk", **AS_OF, page_size=2, page=2).json()
    assert [i["code"] for i in second["items"]] == ["RT-S"]
    everyone = get(client, session, world.manager, "/at-risk", **AS_OF, min_churn_risk=0).json()
    assert [i["code"] for i in everyone["items"]] == ["RT-R", "RT-Q", "RT-P", "RT-S"]
    usd = get(client, session, world.manager, "/at-risk", **AS_OF, currency="USD").json()
    assert [(i["code"], i["value_at_risk"]) for i in usd["items"]] == [("RT-X", "89999.10")]


def test_before_the_cycle_ran_the_answers_are_empty(client: TestClient, session: Session) -> None:
    world = build(session)

    segments = get(client, session, world.manager, "/segments", **AS_OF).json()
    clv = get(client, session, world.manager, "/clv-distribution", **AS_OF).json()
    risk = get(client, session, world.manager, "/at-risk", **AS_OF).json()

    assert (segments["scores_day"], segments["accounts"], segments["segments"]) == (None, 0, [])
    assert (clv["scores_day"], clv["counts"], clv["mean"]) == (None, [], None)
    assert (risk["total"], risk["items"]) == (0, [])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/segments", {"as_of": "31/03/2026"}),
        ("/segments", {"as_of": "1800-01-01"}),
        ("/segments", {"by": "colour"}),
        ("/retention", {"period": "week"}),
        ("/retention", {"periods": "0"}),
        ("/cohorts", {"months": "500"}),
        ("/at-risk", {"min_churn_risk": "2"}),
        ("/at-risk", {"tier": "gold"}),
        ("/clv-distribution", {"currency": "EURO"}),
    ],
)
def test_bad_input_is_a_422(
    client: TestClient, session: Session, world: LoyaltyWorld, path: str, params: dict[str, str]
) -> None:
    answer = get(client, session, world.manager, path, **params)

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "validation_failed"


def test_without_a_token_it_is_a_401(client: TestClient) -> None:
    assert client.get("/api/v1/loyalty/segments").status_code == 401
