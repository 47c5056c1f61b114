"""``flywheel accounts negotiations|negotiation`` in process against the test database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.keyaccounts import negotiation_cli
from flywheel.keyaccounts import negotiations as ng
from flywheel.models.enums import Tier
from tests.cli.in_process import in_session, one_json
from tests.factories import make_customer

ADMIN = Actor.system("tests")


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, negotiation_cli, prefix=["accounts"])


def test_list_and_show_one_with_its_zopa(run: Any, session: Session) -> None:
    account = make_customer(session, tier=Tier.KEY, name="华东重工")
    n = ng.open_negotiation(session, actor=ADMIN, customer=account.code, title="2027 frame")
    ng.set_issue(
        session,
        actor=ADMIN,
        negotiation_id=n.id,
        name="price",
        values={"our_walkaway": "100", "their_walkaway": "110"},
    )
    ng.log_concession(
        session,
        actor=ADMIN,
        negotiation_id=n.id,
        give="9% off",
        discount_percent=Decimal(9),
        as_of=date(2026, 6, 1),
    )
    session.flush()

    listed = run("negotiations", "--json")
    assert listed.exit_code == 0, listed.output
    payload = one_json(listed)
    assert payload["total"] == 1
    assert payload["negotiations"][0]["title"] == "2027 frame"
    assert payload["negotiations"][0]["status"] == "in_progress"

    shown = run("negotiation", str(n.id), "--json")
    assert shown.exit_code == 0, shown.output
    item = one_json(shown)
    assert item["issues"][0]["zopa"] == {"low": "100", "high": "110"}
    assert item["concessions"][0]["approval_status"] == "pending"

    table = run("negotiation", str(n.id))
    assert "100 – 110" in table.output
    assert run("negotiations", "--status", "closed", "--json").exit_code == 0
    assert one_json(run("negotiations", "--status", "closed", "--json"))["total"] == 0


def test_refusals_exit_with_the_error_code(run: Any) -> None:
    missing = run("negotiation", "999999", "--json")
    assert missing.exit_code != 0
    assert one_json(missing)["error"]["code"] == "not_found"
    bad = run("negotiations", "--status", "nope", "--json")
    assert bad.exit_code != 0
    assert one_json(bad)["error"]["code"] == "validation_failed"
