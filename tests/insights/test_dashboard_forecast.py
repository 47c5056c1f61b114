"""The cash card's forecast against actual: company-wide, for the roles that see the cash
forecast; a sales rep's dashboard does not show it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.credit import CashForecast
from tests.insights.cube_world import build, build_cube
from tests.web.api_support import bearer


def test_the_cash_card_shows_the_forecast_against_what_came_in(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    build_cube(session)
    session.add(
        CashForecast(
            as_of=date(2026, 10, 30),
            currency="CNY",
            week_start=date(2026, 11, 2),
            expected=Decimal("1200.00"),
            low=Decimal("900.00"),
            high=Decimal("1500.00"),
        )
    )
    session.flush()

    page = client.get("/insights?month=2026-11", headers=bearer(session, world.manager))
    assert page.status_code == 200
    assert 'data-testid="forecast-vs-actual"' in page.text
    assert "1,200.00" in page.text

    mine = client.get("/insights?month=2026-11", headers=bearer(session, world.rep))
    assert mine.status_code == 200
    assert 'data-testid="forecast-vs-actual"' not in mine.text
