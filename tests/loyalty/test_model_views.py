"""The CLV model page and its API: the fitted parameters and log-likelihood of the newest
cycle, the calibration/holdout check, and the empty state before the first cycle."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.loyalty import cycle
from flywheel.models.enums import Role
from tests.factories import make_customer
from tests.loyalty.factories import make_order
from tests.web import conftest as web_fixtures
from tests.web.pages import make_person, sign_in

app = web_fixtures.app
client = web_fixtures.client

AS_OF = date(2026, 6, 29)  # a Monday: the cycle checks the model against a holdout


def _company(session: Session) -> None:
    """Sixty accounts buying every 20 to 80 days for two years, some of them stopping."""
    for k in range(60):
        customer = make_customer(session, code=f"CLV{k:03d}")
        gap = 20 + k
        stop = AS_OF - timedelta(days=30 * (k % 7))
        day = AS_OF - timedelta(days=730 - k)
        while day <= stop:
            make_order(session, customer=customer, on=day, amount=f"{500 + 10 * k}.00")
            day += timedelta(days=gap)


def test_the_model_page_shows_the_fitted_models_and_the_holdout_check(
    client: TestClient, session: Session
) -> None:
    _company(session)
    run = cycle.run(session, as_of=AS_OF, settings=Settings())
    manager = make_person(session, "manager.li", role=Role.MANAGER)
    sign_in(client, manager.username)

    page = client.get(f"/loyalty/model?as_of={AS_OF.isoformat()}")

    assert page.status_code == 200, page.text
    assert 'id="purchase-params"' in page.text
    assert "BG/NBD" in page.text
    assert 'id="holdout-chart"' in page.text
    answer = client.get(f"/api/v1/loyalty/clv-model?as_of={AS_OF.isoformat()}").json()
    assert answer["model"] == "bgnbd"
    assert answer["params"] == run.clv_model["params"]
    assert answer["log_likelihood"] is not None
    assert answer["customers"] == 60
    assert answer["holdout_as_of"] == AS_OF.isoformat()
    holdout = answer["holdout"]
    assert holdout["calibration_end"] == (AS_OF - timedelta(days=182)).isoformat()
    assert sum(row["customers"] for row in holdout["by_frequency"]) == holdout["customers"]
    assert holdout["actual_total"] > 0
    assert holdout["predicted_total"] > 0


def test_before_the_first_cycle_the_page_says_how_to_get_a_model(
    client: TestClient, session: Session
) -> None:
    viewer = make_person(session, "viewer.li", role=Role.VIEWER)
    sign_in(client, viewer.username)

    page = client.get("/loyalty/model")

    assert page.status_code == 200
    assert "flywheel run" in page.text
    answer = client.get("/api/v1/loyalty/clv-model").json()
    assert answer["model"] is None
    assert answer["params"] == {}
