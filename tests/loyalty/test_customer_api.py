"""/api/v1/loyalty/customers/{id} and /api/v1/loyalty/health: an account's stored scores with
factors and history, and the health list with its filters and orders, inside the caller's
scope (another rep's account is "not found")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.enums import ChurnBasis, Role, Tier, Trend
from flywheel.models.users import User
from tests.factories import make_customer, make_user
from tests.loyalty.factories import make_loyalty_score
from tests.web import conftest as web_fixtures
from tests.web.api_support import bearer

app = web_fixtures.app
client = web_fixtures.client

DAY = date(2026, 6, 30)
FACTORS = [["nps", 50.0, 11.25], ["csat", None, 5.0], ["credit_grade", 2.0, 7.5]]


class World:
    def __init__(self, session: Session) -> None:
        self.manager = make_user(session, username="lya.manager", role=Role.MANAGER)
        self.rep = make_user(session, username="lya.rep", role=Role.SALES)
        self.rival = make_user(session, username="lya.rival", role=Role.SALES)
        self.a = make_customer(session, code="LYA-A", owner=self.rep, tier=Tier.KEY)
        self.b = make_customer(session, code="LYA-B", owner=self.rep)
        self.c = make_customer(session, code="LYA-C", owner=self.rival)
        self.d = make_customer(session, code="LYA-D", owner=self.rival)  # never scored
        # a: red, large CLV; b: yellow, small CLV but high risk; c: green, no CLV.
        for days_ago, health in ((120, 80), (60, 55), (30, 45), (0, 35)):
            make_loyalty_score(
                session,
                customer=self.a,
                as_of=DAY - timedelta(days=days_ago),
                health=health,
                clv="100000.00",
                churn_risk=0.3,
                health_factors=FACTORS,
                health_trend=Trend.DOWN.value,
                churn_basis=ChurnBasis.RENEWAL.value,
            )
        make_loyalty_score(
            session, customer=self.b, as_of=DAY, health=60, clv="50000.00", churn_risk=0.9
        )
        make_loyalty_score(
            session, customer=self.c, as_of=DAY, health=90, clv=None, p_alive=None, churn_risk=0.05
        )
        make_loyalty_score(session, customer=self.c, as_of=DAY + timedelta(days=1), health=10)

    def headers(self, session: Session, user: User) -> dict[str, str]:
        return bearer(session, user)


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def test_one_account_with_its_factors_and_the_last_90_days(
    client: TestClient, session: Session, world: World
) -> None:
    answer = client.get(
        f"/api/v1/loyalty/customers/{world.a.id}",
        params={"as_of": DAY.isoformat()},
        headers=world.headers(session, world.rep),
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == "LYA-A"
    scores = body["scores"]
    assert scores["as_of"] == "2026-06-30"
    assert scores["health"] == 35
    assert scores["health_band"] == "red"
    assert scores["health_trend"] == "down"
    assert scores["clv"] == "100000.00"
    assert scores["value_at_risk"] == "30000.00"
    assert scores["churn_basis"] == "renewal"
    assert scores["p_alive"] == 0.9
    assert body["factors"] == [
        {"factor": "nps", "label": "Account NPS (12 months)", "value": 50.0, "points": 11.25},
        {
            "factor": "csat",
            "label": "CSAT, average answer (12 months)",
            "value": None,
            "points": 5.0,
        },
        {"factor": "credit_grade", "label": "Credit grade", "value": 2.0, "points": 7.5},
    ]
    assert [(h["as_of"], h["health"], h["health_band"]) for h in body["history"]] == [
        ("2026-05-01", 55, "yellow"),
        ("2026-05-31", 45, "yellow"),
        ("2026-06-30", 35, "red"),
    ]


def test_an_earlier_day_gives_that_days_scores(
    client: TestClient, session: Session, world: World
) -> None:
    body = client.get(
        f"/api/v1/loyalty/customers/{world.a.id}",
        params={"as_of": "2026-06-15"},
        headers=world.headers(session, world.manager),
    ).json()

    assert body["scores"]["as_of"] == "2026-05-31"
    assert body["scores"]["health"] == 45
    assert [h["as_of"] for h in body["history"]][-1] == "2026-05-31"


def test_another_reps_account_and_an_unscored_one_are_not_found(
    client: TestClient, session: Session, world: World
) -> None:
    hidden = client.get(
        f"/api/v1/loyalty/customers/{world.c.id}", headers=world.headers(session, world.rep)
    )
    unscored = client.get(
        f"/api/v1/loyalty/customers/{world.d.id}", headers=world.headers(session, world.rival)
    )
    missing = client.get(
        "/api/v1/loyalty/customers/999999999", headers=world.headers(session, world.manager)
    )

    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert "LYA-C" not in hidden.text
    assert unscored.status_code == 404
    assert "no loyalty scores yet" in unscored.json()["error"]["message"]
    assert missing.status_code == 404


def test_the_health_list_by_value_at_risk_and_by_health(
    client: TestClient, session: Session, world: World
) -> None:
    headers = world.headers(session, world.manager)

    by_risk = client.get(
        "/api/v1/loyalty/health", params={"as_of": DAY.isoformat()}, headers=headers
    ).json()
    by_health = client.get(
        "/api/v1/loyalty/health",
        params={"as_of": DAY.isoformat(), "sort": "health"},
        headers=headers,
    ).json()

    assert by_risk["as_of"] == "2026-06-30"
    assert by_risk["total"] == 3
    # b: 50000 × 0.9 = 45000; a: 100000 × 0.3 = 30000; c has no CLV: last.
    assert [(i["code"], i["value_at_risk"]) for i in by_risk["items"]] == [
        ("LYA-B", "45000.00"),
        ("LYA-A", "30000.00"),
        ("LYA-C", None),
    ]
    assert by_risk["items"][1]["owner"] == "lya.rep"
    assert by_risk["items"][1]["tier"] == "key"
    assert [i["code"] for i in by_health["items"]] == ["LYA-A", "LYA-B", "LYA-C"]


def test_the_health_list_filters_and_pages_inside_the_scope(
    client: TestClient, session: Session, world: World
) -> None:
    def codes(user: User, **params: str) -> list[str]:
        answer = client.get(
            "/api/v1/loyalty/health",
            params={"as_of": DAY.isoformat(), **params},
            headers=world.headers(session, user),
        )
        assert answer.status_code == 200, answer.text
        return [i["code"] for i in answer.json()["items"]]

    assert codes(world.manager, band="red") == ["LYA-A"]
    assert codes(world.manager, band="green") == ["LYA-C"]
    assert codes(world.manager, owner="lya.rival") == ["LYA-C"]
    assert codes(world.manager, tier="key") == ["LYA-A"]
    assert codes(world.manager, page_size="1", page="2") == ["LYA-A"]
    assert codes(world.rep) == ["LYA-B", "LYA-A"]
    assert codes(world.rival) == ["LYA-C"]
    bad = client.get(
        "/api/v1/loyalty/health",
        params={"band": "purple"},
        headers=world.headers(session, world.manager),
    )
    assert bad.status_code == 422


def test_no_scores_yet_is_an_empty_list(client: TestClient, session: Session) -> None:
    manager = make_user(session, username="lya.empty", role=Role.MANAGER)

    body = client.get(
        "/api/v1/loyalty/health", params={"as_of": "2020-01-01"}, headers=bearer(session, manager)
    ).json()

    assert body == {"as_of": None, "items": [], "total": 0, "page": 1, "page_size": 50}
