"""``flywheel loyalty health|clv|train-churn`` in process against the test database (its unit
of work is a savepoint of the test's transaction)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.loyalty import health_cli
from flywheel.models.enums import ChurnBasis, Trend
from flywheel.models.loyalty import LoyaltyModelFit
from tests.cli.in_process import in_session, one_json
from tests.factories import make_customer
from tests.loyalty.factories import make_loyalty_score
from tests.loyalty.test_churn import AS_OF as CHURN_DAY
from tests.loyalty.test_churn import _company

DAY = date(2026, 6, 30)
FACTORS = [["nps", 50.0, 11.25], ["csat", None, 5.0]]


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, health_cli, prefix=["loyalty"])


def scored(session: Session) -> None:
    usd = make_customer(session, code="LYC-USD", currency="USD")
    red = make_customer(session, code="LYC-RED")
    green = make_customer(session, code="LYC-GREEN")
    make_loyalty_score(
        session, customer=red, as_of=DAY - timedelta(days=30), health=50, clv="20000.00"
    )
    make_loyalty_score(
        session,
        customer=red,
        as_of=DAY,
        health=30,
        clv="20000.00",
        churn_risk=0.8,
        health_factors=FACTORS,
        health_trend=Trend.DOWN.value,
    )
    make_loyalty_score(session, customer=green, as_of=DAY, health=85, clv="90000.00")
    make_loyalty_score(session, customer=usd, as_of=DAY, health=75, clv="5000.00")


def test_health_lists_by_value_at_risk_and_filters_by_band(run: Any, session: Session) -> None:
    scored(session)

    listed = run("health", "--as-of", "2026-07-15", "--json")
    red = run("health", "--band", "red", "--as-of", DAY.isoformat(), "--json")
    table = run("health", "--as-of", DAY.isoformat(), "--limit", "2")

    assert listed.exit_code == 0, listed.output
    body = one_json(listed)
    assert body["as_of"] == "2026-06-30"
    assert body["total"] == 3
    # 20000 × 0.8 = 16000 before 90000 × 0.1 = 9000 and 5000 × 0.1 = 500 (USD)
    assert [(i["code"], i["value_at_risk"]) for i in body["items"]] == [
        ("LYC-RED", "16000.00"),
        ("LYC-GREEN", "9000.00"),
        ("LYC-USD", "500.00"),
    ]
    assert [i["code"] for i in one_json(red)["items"]] == ["LYC-RED"]
    assert table.exit_code == 0
    assert "Health as of 2026-06-30 (3 accounts)" in table.output


def test_health_of_one_customer_with_its_factors_and_history(run: Any, session: Session) -> None:
    scored(session)

    one = run("health", "--customer", "LYC-RED", "--as-of", DAY.isoformat(), "--json")
    text = run("health", "--customer", "LYC-RED", "--as-of", DAY.isoformat())
    unknown = run("health", "--customer", "NOBODY", "--json")

    assert one.exit_code == 0, one.output
    body = one_json(one)
    assert body["code"] == "LYC-RED"
    assert body["scores"]["health"] == 30
    assert body["scores"]["health_trend"] == "down"
    assert body["scores"]["churn_basis"] == ChurnBasis.P_ALIVE.value
    assert body["factors"] == [
        {"factor": "nps", "label": "Account NPS (12 months)", "value": 50.0, "points": 11.25},
        {
            "factor": "csat",
            "label": "CSAT, average answer (12 months)",
            "value": None,
            "points": 5.0,
        },
    ]
    assert [h["health"] for h in body["history"]] == [50, 30]
    assert text.exit_code == 0
    assert "Why this health" in text.output
    assert "no data" in text.output
    assert unknown.exit_code == 4
    assert one_json(unknown)["error"]["code"] == "not_found"


def test_clv_shows_the_largest_and_totals_per_currency(run: Any, session: Session) -> None:
    scored(session)

    result = run("clv", "--top", "2", "--as-of", DAY.isoformat(), "--json")
    table = run("clv", "--as-of", DAY.isoformat())

    assert result.exit_code == 0, result.output
    body = one_json(result)
    assert body["as_of"] == "2026-06-30"
    assert [(t["currency"], t["accounts"], t["clv"]) for t in body["totals"]] == [
        ("CNY", 2, "110000.00"),
        ("USD", 1, "5000.00"),
    ]
    assert [(r["code"], r["clv"]) for r in body["top"]] == [
        ("LYC-GREEN", "90000.00"),
        ("LYC-RED", "20000.00"),
    ]
    assert table.exit_code == 0
    assert "Total CLV CNY: 110000.00 over 2 accounts" in table.output


def test_no_scores_yet(run: Any) -> None:
    result = run("clv", "--as-of", "2020-01-01", "--json")

    assert one_json(result) == {"as_of": None, "totals": [], "top": []}


def test_train_churn_says_clearly_when_too_few_were_lost(run: Any, session: Session) -> None:
    _company(session, dormant_before_loss=False, lost_each=2)

    result = run("train-churn", "--as-of", CHURN_DAY.isoformat(), "--json")

    assert result.exit_code == 3
    error = one_json(result)["error"]
    assert error["code"] == "not_enough_data"
    assert "too few lost customers" in error["message"]
    assert session.scalar(select(func.count()).select_from(LoyaltyModelFit)) == 0


def test_train_churn_prints_both_aucs(
    run: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flywheel.loyalty import churn

    _company(session, dormant_before_loss=False)
    # Six lost per window in this small company.
    monkeypatch.setattr(churn, "MIN_LOST_TRAIN", 5)
    monkeypatch.setattr(churn, "MIN_LOST_TEST", 5)

    result = run("train-churn", "--as-of", CHURN_DAY.isoformat(), "--json")
    text = run("train-churn", "--as-of", CHURN_DAY.isoformat())

    assert result.exit_code == 0, result.output
    body = one_json(result)
    assert body["auc_model"] == 1.0
    assert body["auc_rule"] == 0.75
    assert body["adopted"] is True
    assert body["test"]["lost"] == 12
    assert text.exit_code == 0
    assert "adopted" in text.output
