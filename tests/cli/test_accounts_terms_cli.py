"""``flywheel accounts terms-cost`` in process against the test database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.keyaccounts import terms_cli
from tests.cli.in_process import in_session, one_json
from tests.keyaccounts.terms_support import AS_OF, TermsWorld, build


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    return in_session(session, monkeypatch, terms_cli, prefix=["accounts"])


@pytest.fixture
def world(session: Session) -> TermsWorld:
    return build(session)


def test_terms_cost_as_json_and_as_a_table(run: Any, world: TermsWorld) -> None:
    args = ["terms-cost", world.graded.code, "--amount", "100000", "--terms", "90"]

    as_json = run(*args, "--as-of", AS_OF.isoformat(), "--json")
    table = run(*args, "--as-of", AS_OF.isoformat(), "--price", "250", "--compare", "30,60")

    assert as_json.exit_code == 0, as_json.output
    body = one_json(as_json)
    assert body["credit"]["grade"] == "C"
    assert body["credit"]["predicted_delay_days"] == 15
    assert body["cost"]["total_cost"] == "3226.03"
    assert body["cost"]["allowed"] is False
    assert [o["terms_days"] for o in body["options"]] == [0, 30, 45, 60, 90, 120]
    assert body["versus_current"]["extra_cost"] == "986.30"
    assert table.exit_code == 0, table.output
    assert "3226.03" in table.stdout
    assert "NOT ALLOWED" in table.stdout
    assert "247.48" in table.stdout


def test_bad_input_and_an_unknown_account(run: Any, world: TermsWorld) -> None:
    bad_amount = run("terms-cost", world.graded.code, "--amount", "abc", "--terms", "30", "--json")
    bad_compare = run(
        "terms-cost",
        world.graded.code,
        "--amount",
        "10",
        "--terms",
        "30",
        "--compare",
        "x",
        "--json",
    )
    unknown = run("terms-cost", "NO-SUCH", "--amount", "10", "--terms", "30", "--json")

    assert bad_amount.exit_code == 3
    assert one_json(bad_amount)["error"]["code"] == "invalid_amount"
    assert bad_compare.exit_code == 3
    assert one_json(bad_compare)["error"]["details"]["field"] == "compare"
    assert unknown.exit_code == 4
    assert one_json(unknown)["error"]["code"] == "not_found"
