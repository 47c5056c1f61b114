"""/api/v1/insights: the catalogue of figures, the dashboard, one figure with its series, the
months of the snapshot and the lists behind figures, in the caller's scope; bad input named."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.insights import figures
from tests.insights.cube_world import build, build_cube
from tests.web.api_support import bearer


def test_the_catalogue_of_figures(client: TestClient, session: Session) -> None:
    world = build(session)

    answer = client.get("/api/v1/insights/kpis", headers=bearer(session, world.rep))

    assert answer.status_code == 200
    body = answer.json()
    assert [k["code"] for k in body] == [k.code for k in figures.KPIS]
    assert body[0] == {
        "code": "new_customers",
        "stage": "attract",
        "unit": "count",
        "better": "up",
        "drill": "new_customers",
    }


def test_the_dashboard_of_a_month(client: TestClient, session: Session) -> None:
    world = build(session)
    build_cube(session)

    answer = client.get(
        "/api/v1/insights/dashboard?period=1m&month=2026-11",
        headers=bearer(session, world.manager),
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["period"] == {
        "code": "1m",
        "first_month": "2026-11",
        "last_month": "2026-11",
        "previous_first_month": "2026-10",
        "previous_last_month": "2026-10",
    }
    assert body["filters"]["currency"] == "CNY"
    assert body["built_through"] == "2026-11-30"
    by_code = {f["code"]: f for f in body["figures"]}
    assert by_code["pipeline_created"]["value"] == 350.0
    assert by_code["pipeline_created"]["previous"] == 1000.0
    assert by_code["pipeline_created"]["change"] == -650.0
    assert by_code["pipeline_created"]["improved"] is False
    assert len(by_code["win_rate"]["series"]) == 12
    assert by_code["win_rate"]["series"][-1]["month"] == "2026-11"


def test_a_rep_gets_his_own_figures(client: TestClient, session: Session) -> None:
    world = build(session)
    build_cube(session)

    answer = client.get(
        "/api/v1/insights/dashboard?month=2026-11&owner=cube_rep",
        headers=bearer(session, world.other_rep),
    )

    assert answer.status_code == 200
    by_code = {f["code"]: f for f in answer.json()["figures"]}
    assert by_code["pipeline_created"]["value"] == 50.0  # his account C, not cube_rep's
    assert answer.json()["filters"]["owner_id"] == world.other_rep.id


def test_one_figure_with_a_longer_series(client: TestClient, session: Session) -> None:
    world = build(session)
    build_cube(session)

    answer = client.get(
        "/api/v1/insights/kpis/pipeline_created?month=2026-11&months=24&currency=USD&region=华南",
        headers=bearer(session, world.manager),
    )

    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["value"], len(body["series"])) == ("pipeline_created", 70.0, 24)


def test_bad_input_is_named(client: TestClient, session: Session) -> None:
    world = build(session)
    auth = bearer(session, world.manager)

    unknown = client.get("/api/v1/insights/kpis/happiness", headers=auth)
    assert unknown.status_code == 404
    assert "happiness" in unknown.json()["error"]["message"]
    owner = client.get("/api/v1/insights/dashboard?owner=nobody", headers=auth)
    assert owner.status_code == 422
    assert "nobody" in owner.json()["error"]["message"]
    period = client.get("/api/v1/insights/dashboard?period=2w", headers=auth)
    assert period.status_code == 422
    drill = client.get("/api/v1/insights/drills/nothing", headers=auth)
    assert drill.status_code == 404


def test_the_months_of_the_snapshot(client: TestClient, session: Session) -> None:
    world = build(session)
    build_cube(session, history=3)

    answer = client.get("/api/v1/insights/months", headers=bearer(session, world.rep))

    assert answer.status_code == 200
    assert [(m["month"], m["as_of"], m["accounts"]) for m in answer.json()] == [
        ("2026-10", "2026-10-31", 4),
        ("2026-11", "2026-11-30", 4),
        ("2026-12", "2026-12-04", 4),
    ]


def test_anonymous_callers_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/insights/dashboard").status_code == 401


def test_the_league_by_owner(client: TestClient, session: Session) -> None:
    world = build(session)
    build_cube(session)

    answer = client.get(
        "/api/v1/insights/league?by=owner&month=2026-11&sort=win_rate",
        headers=bearer(session, world.manager),
    )

    assert answer.status_code == 200
    body = answer.json()
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["cube_rep"]["values"]["win_rate"] == 2 / 6 * 100
    assert rows["cube_rep2"]["values"]["win_rate"] == 0.0
    assert rows["cube_rep"]["rank"] == 1
    assert body["total"]["values"]["win_rate"] == 2 / 7 * 100
    own = client.get(
        "/api/v1/insights/league?by=owner&month=2026-11",
        headers=bearer(session, world.other_rep),
    )
    assert [r["key"] for r in own.json()["rows"]] == ["cube_rep2"]


def test_the_segment_transitions(client: TestClient, session: Session) -> None:
    world = build(session)
    build_cube(session)

    answer = client.get(
        "/api/v1/insights/transitions?kind=segment&month=2026-10&owner=cube_rep",
        headers=bearer(session, world.manager),
    )

    assert answer.status_code == 200
    body = answer.json()
    assert (body["month"], body["since"], body["accounts"]) == ("2026-10", "2026-09", 1)
    [row] = [r for r in body["rows"] if r["accounts"]]
    assert row["from_code"] != "champions"
    assert [c["to_code"] for c in row["cells"] if c["accounts"]] == ["champions"]


def test_targets_are_set_by_managers_and_audited(client: TestClient, session: Session) -> None:
    world = build(session)
    boss, rep = bearer(session, world.manager), bearer(session, world.rep)

    denied = client.put("/api/v1/insights/targets/nps", json={"value": 40}, headers=rep)
    assert denied.status_code == 403
    assert client.get("/api/v1/insights/targets", headers=rep).json() == []

    out_of_range = client.put("/api/v1/insights/targets/nps", json={"value": 400}, headers=boss)
    assert out_of_range.status_code == 422
    assert "nps" in out_of_range.json()["error"]["message"].lower()

    done = client.put("/api/v1/insights/targets/nps", json={"value": 40}, headers=boss)
    assert done.status_code == 200
    assert done.json()["value"] == 40.0
    assert [t["kpi"] for t in client.get("/api/v1/insights/targets", headers=rep).json()] == ["nps"]
    assert client.delete("/api/v1/insights/targets/nps", headers=boss).status_code == 204
    assert client.get("/api/v1/insights/targets", headers=boss).json() == []


def test_reports_are_for_managers(client: TestClient, session: Session) -> None:
    world = build(session)

    assert (
        client.get("/api/v1/insights/reports", headers=bearer(session, world.rep)).status_code
        == 403
    )
    answer = client.get("/api/v1/insights/reports", headers=bearer(session, world.manager))
    assert answer.status_code == 200
    assert answer.json() == []
    missing = client.get("/api/v1/insights/reports/99999", headers=bearer(session, world.manager))
    assert missing.status_code == 404


def test_the_cash_forecast_against_what_came_in(client: TestClient, session: Session) -> None:
    world = build(session)
    build_cube(session)

    denied = client.get("/api/v1/insights/forecast", headers=bearer(session, world.rep))
    assert denied.status_code == 403
    answer = client.get(
        "/api/v1/insights/forecast?month=2026-11", headers=bearer(session, world.manager)
    )
    assert answer.status_code == 200
    body = answer.json()
    # No forecast was made and no payment received: nothing expected, nothing in.
    assert (body["made_on"], body["expected"], body["actual"]) == (None, None, "0.00")
    assert (body["first"], body["currency"]) == ("2026-11-01", "CNY")
