"""``flywheel feedback campaigns`` and ``flywheel feedback send``: in process against the test
database (the command's unit of work is a savepoint of the test's transaction), and once end to
end in a real process."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.feedback import campaign_cli
from tests.cli.in_process import in_session, one_json
from tests.cli.test_commands import as_json, flywheel
from tests.feedback.campaign_support import (
    account,
    default_campaign,
    delivered,
    invitations,
    only_campaigns,
    person,
)

DAY = date(2026, 3, 2)


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, campaign_cli, prefix=["feedback"])


def payload(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return one_json(result)


def test_send_runs_the_cycle_for_the_day_and_campaigns_counts_what_it_did(
    run: Any, session: Session
) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    person(session, customer)
    delivered(session, customer, DAY)

    planned = payload(run("send", "--as-of", DAY.isoformat(), "--json"))
    sent = payload(run("send", "--as-of", (DAY + timedelta(days=2)).isoformat(), "--json"))
    again = payload(run("send", "--as-of", (DAY + timedelta(days=2)).isoformat(), "--json"))
    listed = payload(run("campaigns", "--json"))

    assert (planned["planned"], planned["sent"]) == (1, 0)
    assert (sent["as_of"], sent["sent"], again["sent"]) == ("2026-03-04", 1, 0)
    assert [i.status for i in invitations(session, customer_id=customer.id)] == ["sent"]
    csat = default_campaign(session, "CSAT after delivery")
    [row] = [c for c in listed["campaigns"] if c["id"] == csat.id]
    assert row["survey_code"] == "csat-delivery"
    assert row["counts"] == {
        "scheduled": 0,
        "sent": 1,
        "answered": 0,
        "expired": 0,
        "skipped": 0,
        "response_rate": 0.0,
    }
    assert {c["name"] for c in listed["campaigns"]} >= {
        "CSAT after delivery",
        "Quarterly relationship NPS of key accounts",
    }


def test_the_tables_print_for_people(run: Any, session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")

    sent = run("send", "--as-of", DAY.isoformat())
    listed = run("campaigns")

    assert sent.exit_code == 0, sent.output
    assert "e-mails queued" in sent.stdout
    assert listed.exit_code == 0, listed.output
    assert "Survey campaigns: 5" in listed.stdout
    assert "CSAT" in listed.stdout


def test_a_bad_date_is_refused(run: Any) -> None:
    result = run("send", "--as-of", "2026-13-01")

    assert result.exit_code == 2


def test_send_end_to_end_in_a_real_process(tmp_path: Path) -> None:
    db = tmp_path / "flywheel.db"
    assert flywheel(db, "init").returncode == 0

    sent = flywheel(db, "feedback", "send", "--as-of", "2026-03-02", "--json")
    listed = flywheel(db, "feedback", "campaigns", "--json")

    assert sent.returncode == 0, sent.stderr
    assert as_json(sent)["sent"] == 0
    assert listed.returncode == 0, listed.stderr
    assert len(as_json(listed)["campaigns"]) == 5  # the shipped ones, made by the first run
