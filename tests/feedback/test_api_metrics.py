"""/api/v1/feedback/metrics, /metrics/trend, /accounts/{code}/nps and /responses: their shapes
on the small company of ``metrics_world``, the caller's scope, and refused parameters."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.users import User
from tests.feedback.metrics_world import MetricsWorld, add_texts, build
from tests.web import conftest as web_fixtures
from tests.web.api_support import bearer

# The web tests' app and client, bound to this test's session.
app = web_fixtures.app
client = web_fixtures.client

PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}


@pytest.fixture
def world(session: Session) -> MetricsWorld:
    built = build(session)
    add_texts(session, built)
    return built


def get(client: TestClient, session: Session, user: User, path: str, **params: Any) -> Any:
    answer = client.get("/api/v1" + path, params=params, headers=bearer(session, user))
    return answer


def test_metrics_with_a_breakdown(
    client: TestClient, session: Session, world: MetricsWorld
) -> None:
    answer = get(client, session, world.manager, "/feedback/metrics", **PERIOD, by="region")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["start"], body["end"], body["by"]) == ("2026-01-01", "2026-03-31", "region")
    assert body["nps"] == {
        "n": 10,
        "promoters": 5,
        "passives": 2,
        "detractors": 3,
        "score": 20.0,
        "low": -30.33,
        "high": 61.1,
        "small_sample": True,
    }
    assert body["csat"]["percent"] == 50.0
    assert (body["csat"]["low"], body["csat"]["high"]) == (15.0, 85.0)
    assert body["ces"]["mean"] == pytest.approx(5.667)
    assert [(g["key"], g["nps"]["n"], g["nps"]["score"]) for g in body["groups"]] == [
        ("华东", 8, 37.5),
        ("华南", 2, -50.0),
    ]
    assert set(body["formulas"]) == {"nps", "nps_interval", "csat", "ces", "account_nps"}


def test_a_reps_metrics_count_only_his_accounts(
    client: TestClient, session: Session, world: MetricsWorld
) -> None:
    body = get(client, session, world.rep, "/feedback/metrics", **PERIOD, by="account").json()

    assert body["nps"]["n"] == 7
    assert body["nps"]["score"] == -14.29
    assert {g["key"] for g in body["groups"]} == {world.a.code, world.b.code}


def test_the_trend_has_every_month(
    client: TestClient, session: Session, world: MetricsWorld
) -> None:
    body = get(
        client,
        session,
        world.manager,
        "/feedback/metrics/trend",
        **{"from": "2026-01-01", "to": "2026-04-15"},
    ).json()

    assert [(m["key"], m["nps"]["n"], m["nps"]["score"]) for m in body["months"]] == [
        ("2026-01", 3, 33.33),
        ("2026-02", 4, -50.0),
        ("2026-03", 3, 100.0),
        ("2026-04", 0, None),
    ]


def test_an_accounts_nps(client: TestClient, session: Session, world: MetricsWorld) -> None:
    answer = get(client, session, world.rep, f"/feedback/accounts/{world.a.code}/nps", **PERIOD)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["customer"], body["score"], body["stakeholders"], body["weight"]) == (
        world.a.code,
        -42.86,
        4,
        7.0,
    )
    assert body["formula"] == "account NPS = 100 × Σ wᵢ·(promoterᵢ − detractorᵢ) / Σ wᵢ"
    assert body["weights"]["decision_maker"] == 3.0
    assert [
        (a["contact"], a["buying_role"], a["weight"], a["score"], a["band"])
        for a in body["answers"]
    ] == [
        ("张总", "decision_maker", 3.0, 6, "detractor"),
        ("赵会计", "finance", 2.0, 8, "passive"),
        ("王工", "user", 1.0, 6, "detractor"),
        ("李工", "user", 1.0, 9, "promoter"),
    ]
    assert body["answers"][0]["answered_at"] == "2026-02-20T09:00:00+00:00"


def test_another_reps_account_is_not_found(
    client: TestClient, session: Session, world: MetricsWorld
) -> None:
    answer = get(client, session, world.rep, f"/feedback/accounts/{world.c.code}/nps")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_the_inbox_as_json(client: TestClient, session: Session, world: MetricsWorld) -> None:
    answer = get(
        client, session, world.rep, "/feedback/responses", **PERIOD, band="bad", page_size=2
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (4, 1, 2, 2)
    first = body["items"][0]
    assert first["source"] == "response"
    assert first["id"] == world.responses["a_dm"].id
    assert (first["customer"], first["score"], first["band"], first["kind"]) == (
        world.a.code,
        6,
        "detractor",
        "nps",
    )
    assert first["text"] == "交货太慢，<script>alert(1)</script> 很失望"
    assert first["topic_spans"] == {"delivery": [[0, 4]]}
    assert (first["sentiment"], first["urgency"]) == ("negative", ["churn_threat"])
    assert first["loop"]["status"] == "open"
    second = get(
        client, session, world.rep, "/feedback/responses", **PERIOD, band="bad", page=2, page_size=2
    ).json()
    assert [i["id"] for i in second["items"]] == [
        world.responses["a_csat2"].id,
        world.responses["a_user2"].id,
    ]
    urgent = get(client, session, world.manager, "/feedback/responses", urgent="true").json()
    assert [i["id"] for i in urgent["items"]] == [world.responses["a_dm"].id]
    one = get(
        client, session, world.manager, "/feedback/responses", **PERIOD, customer=world.b.code
    )
    assert one.json()["total"] == 3
    rivals = get(
        client, session, world.rep, "/feedback/responses", owner=world.rival.username
    ).json()
    assert rivals["total"] == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/feedback/metrics", {"from": "2026-03-01", "to": "2026-01-01"}),
        ("/feedback/metrics", {"by": "colour"}),
        ("/feedback/metrics", {"tier": "gold"}),
        ("/feedback/metrics", {"from": "0001-01-01"}),
        ("/feedback/metrics/trend", {"to": "9999-12-31"}),
        ("/feedback/responses", {"band": "great"}),
        ("/feedback/responses", {"from": "2026-03-01", "to": "2026-01-01"}),
    ],
)
def test_bad_parameters_are_refused(
    client: TestClient, session: Session, world: MetricsWorld, path: str, params: dict[str, str]
) -> None:
    answer = get(client, session, world.manager, path, **params)

    assert answer.status_code == 422, answer.text


def test_anonymous_callers_are_refused(client: TestClient, world: MetricsWorld) -> None:
    assert client.get("/api/v1/feedback/metrics").status_code == 401
