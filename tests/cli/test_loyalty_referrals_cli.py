"""``flywheel loyalty referrals list|add|status|kpis`` in process against the test database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.loyalty import referral_cli
from flywheel.models.loyalty import Referral
from tests.cli.in_process import in_session, one_json
from tests.loyalty.referral_support import REFERRED_ON, WON_ON, ReferralWorld, audit_total, build


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, referral_cli, prefix=["loyalty", "referrals"])


@pytest.fixture
def world(session: Session) -> ReferralWorld:
    return build(session)


def test_add_move_to_won_list_and_kpis(run: Any, session: Session, world: ReferralWorld) -> None:
    added = run(
        "add",
        world.referrer.code,
        "--company",
        "南山精工",
        "--contact",
        "钱经理",
        "--on",
        REFERRED_ON.isoformat(),
        "--json",
    )
    assert added.exit_code == 0, added.output
    referral_id = one_json(added)["id"]
    assert one_json(added)["status"] == "lead"

    won = run(
        "status",
        str(referral_id),
        "won",
        "--referred",
        world.newcomer.code,
        "--on",
        WON_ON.isoformat(),
        "--json",
    )
    listed = run("list", "--status", "won", "--json")
    table = run("list")
    kpis = run("kpis", "--start", "2026-03-01", "--end", "2026-03-31", "--json")
    kpi_table = run("kpis", "--start", "2026-03-01", "--end", "2026-03-31")

    assert won.exit_code == 0, won.output
    assert one_json(won)["reward_status"] == "pending"
    assert one_json(won)["reward_amount"] == "500.00"
    assert [i["id"] for i in one_json(listed)["referrals"]] == [referral_id]
    assert one_json(listed)["total"] == 1
    assert "Referrals: 1" in table.stdout
    assert one_json(kpis)["made"] == 1
    assert one_json(kpis)["won"] == 1
    assert one_json(kpis)["conversion_rate"] == 1.0
    assert kpi_table.exit_code == 0
    assert "referral rate" in kpi_table.stdout


def test_refusals_exit_with_the_error_code_and_change_nothing(
    run: Any, session: Session, world: ReferralWorld
) -> None:
    added = run("add", world.referrer.code, "--company", "某公司", "--json")
    referral_id = one_json(added)["id"]
    before = (audit_total(session), session.scalar(select(func.count(Referral.id))))

    nameless = run("add", world.referrer.code, "--json")
    unknown = run("add", "NOPE-9", "--company", "x", "--json")
    backwards = run("status", str(referral_id), "won", "--json")
    bad_status = run("status", str(referral_id), "signed", "--json")
    bad_day = run("kpis", "--start", "March", "--json")

    assert nameless.exit_code == 3
    assert one_json(nameless)["error"]["code"] == "validation_failed"
    assert unknown.exit_code == 4
    assert backwards.exit_code == 3
    assert one_json(backwards)["error"]["details"]["field"] == "referred_customer"
    assert bad_status.exit_code == 3
    assert bad_day.exit_code == 3
    assert (audit_total(session), session.scalar(select(func.count(Referral.id)))) == before
