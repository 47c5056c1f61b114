"""``flywheel collections …``: the lists and the records, in process against the test database
(each command's unit of work is a savepoint of the test's transaction), and once end to end in a
real process."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import flywheel.cli  # first: it registers every domain's commands
from flywheel.collections import arrangements
from flywheel.collections import cli as collections_cli
from flywheel.models.collections import CollectionAction, Dispute, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import ActionKind, ActionStatus, Role
from flywheel.models.receivables import Installment, Invoice
from tests.cli.in_process import in_session, one_json
from tests.cli.test_commands import as_json, flywheel
from tests.collections.support import AS_OF, debtor
from tests.factories import TESTER, make_invoice, make_user


@pytest.fixture
def run(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Invoke ``flywheel collections …`` with its unit of work in the test's session."""
    return in_session(session, monkeypatch, collections_cli, prefix=["collections"])


def payload(result: Any) -> dict[str, Any]:
    return one_json(result)


@pytest.fixture
def book(session: Session) -> tuple[Customer, Installment, Installment]:
    """A grade-D customer owing 800.00 due 2026-05-01 and 200.00 due 2026-06-01."""
    customer = debtor(session, letter="D")
    old = make_invoice(session, customer=customer, amount="800.00", due=date(2026, 5, 1))
    new = make_invoice(session, customer=customer, amount="200.00", due=date(2026, 6, 1))
    return customer, first_installment(session, old), first_installment(session, new)


def first_installment(session: Session, invoice: Invoice) -> Installment:
    return session.scalars(select(Installment).where(Installment.invoice_id == invoice.id)).one()


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_promise_recorded_from_the_terminal_is_listed(
    run: Any, session: Session, book: tuple[Customer, Installment, Installment]
) -> None:
    customer, old, new = book
    result = run(
        "promise",
        customer.code,
        "--amount",
        "900",
        "--date",
        "2026-06-25",
        "--note",
        "周五付",
        "--as-of",
        AS_OF.isoformat(),
        "--json",
    )

    assert result.exit_code == 0, result.output
    promise = payload(result)["promise"]
    assert promise["amount"] == "900.00"
    assert promise["promised_on"] == "2026-06-25"
    assert promise["made_on"] == AS_OF.isoformat()
    assert promise["installment_ids"] == sorted([old.id, new.id])
    assert promise["created_by"] is None

    listed = payload(run("promises", "--status", "pending", "--code", customer.code, "--json"))
    assert listed["total"] == 1
    assert [p["id"] for p in listed["promises"]] == [promise["id"]]
    assert payload(run("promises", "--status", "kept", "--json")) == {"total": 0, "promises": []}
    text = run("promises")
    assert text.exit_code == 0
    assert customer.code in text.stdout
    assert "900.00 CNY" in text.stdout


@pytest.mark.parametrize(
    ("amount", "day", "code", "field"),
    [
        ("abc", "2026-06-25", "validation_failed", "amount"),
        ("1000.01", "2026-06-25", "invalid_amount", "amount"),
        ("10", "2026-06-01", "validation_failed", "promised_on"),
    ],
)
def test_a_bad_promise_exits_3_and_writes_nothing(
    run: Any,
    session: Session,
    book: tuple[Customer, Installment, Installment],
    amount: str,
    day: str,
    code: str,
    field: str,
) -> None:
    customer, _, _ = book
    result = run(
        "promise",
        customer.code,
        "--amount",
        amount,
        "--date",
        day,
        "--as-of",
        AS_OF.isoformat(),
        "--json",
    )

    assert result.exit_code == 3, result.output
    error = payload(result)["error"]
    assert (error["code"], error["details"]["field"]) == (code, field)
    assert count(session, PromiseToPay) == 0


def test_an_unknown_account_exits_4(run: Any, session: Session) -> None:
    result = run("promise", "NOPE", "--amount", "1", "--date", "2026-06-25", "--json")

    assert result.exit_code == 4
    assert payload(result)["error"]["message"] == "customer NOPE not found"


def test_a_dispute_opened_from_the_terminal_is_listed(
    run: Any, session: Session, book: tuple[Customer, Installment, Installment]
) -> None:
    customer, old, _ = book
    result = run(
        "dispute",
        customer.code,
        "--installment",
        str(old.id),
        "--reason",
        "quality",
        "--amount",
        "120.50",
        "--description",
        "破损",
        "--as-of",
        AS_OF.isoformat(),
        "--json",
    )

    assert result.exit_code == 0, result.output
    dispute = payload(result)["dispute"]
    assert (dispute["amount"], dispute["reason"], dispute["source"]) == ("120.50", "quality", "cli")
    assert dispute["sla_due_on"] == (AS_OF + timedelta(days=10)).isoformat()
    listed = payload(run("disputes", "--status", "open", "--reason", "quality", "--json"))
    assert [d["id"] for d in listed["disputes"]] == [dispute["id"]]
    assert payload(run("disputes", "--reason", "price", "--json"))["total"] == 0

    too_much = run(
        "dispute",
        customer.code,
        "--installment",
        str(old.id),
        "--reason",
        "price",
        "--amount",
        "679.51",
        "--json",
    )
    assert too_much.exit_code == 3
    assert payload(too_much)["error"]["details"]["field"] == "amount"
    assert count(session, Dispute) == 1


def test_plans_lists_arrangements_by_status_and_kind(
    run: Any, session: Session, book: tuple[Customer, Installment, Installment]
) -> None:
    customer, old, _ = book
    extension = arrangements.propose_extension(
        session,
        actor=TESTER,
        customer=customer,
        installment_id=old.id,
        new_due_on=date(2026, 7, 15),
        reason="等待验收",
        as_of=AS_OF,
    )

    listed = payload(run("plans", "--status", "proposed", "--kind", "extension", "--json"))

    assert listed["total"] == 1
    [item] = listed["arrangements"]
    assert (item["id"], item["amount"], item["first_due_on"]) == (
        extension.id,
        "800.00",
        "2026-07-15",
    )
    assert payload(run("plans", "--kind", "plan", "--json"))["total"] == 0
    refused = run("plans", "--kind", "loan")
    assert refused.exit_code == 2


def test_the_worklist_in_the_terminal(
    run: Any, session: Session, book: tuple[Customer, Installment, Installment]
) -> None:
    customer, _, _ = book
    collector = make_user(session, username="cli.collector", role=Role.COLLECTOR)
    for channel, assigned, value in (("call", None, 50.0), ("letter", collector.id, 80.0)):
        session.add(
            CollectionAction(
                customer_id=customer.id,
                due_on=AS_OF,
                kind=ActionKind.REMINDER.value,
                channel=channel,
                status=ActionStatus.OPEN.value,
                dedupe_key=f"cli:{channel}",
                assigned_to_id=assigned,
                amount="1000.00",
                currency="CNY",
                max_days_overdue=45,
                expected_value=value,
            )
        )
    session.flush()

    unassigned = payload(run("worklist", "--as-of", AS_OF.isoformat(), "--json"))
    everyone = payload(run("worklist", "--all", "--as-of", AS_OF.isoformat(), "--json"))
    his = payload(
        run("worklist", "--user", "cli.collector", "--as-of", AS_OF.isoformat(), "--json")
    )

    assert [i["channel"] for i in unassigned["items"]] == ["call"]
    assert [i["channel"] for i in everyone["items"]] == ["letter", "call"]
    assert everyone["items"][0]["assigned_to"] == "cli.collector"
    assert everyone["items"][0]["grade"] == "D"
    assert everyone["items"][0]["amount"] == "1000.00"
    assert [i["channel"] for i in his["items"]] == ["letter", "call"]
    letters = payload(run("worklist", "--all", "--channel", "letter", "--json"))
    assert letters["total"] == 1
    text = run("worklist", "--all", "--as-of", AS_OF.isoformat())
    assert text.exit_code == 0
    assert "Worklist 2026-06-15: 2 items" in text.stdout
    nobody = run("worklist", "--user", "ghost", "--json")
    assert nobody.exit_code == 4


def test_strategies_prints_every_grades_steps(run: Any) -> None:
    listed = payload(run("strategies", "--json"))

    assert [s["grade"] for s in listed["strategies"]] == ["A", "B", "C", "D", "E"]
    e_steps = [(s["day_offset"], s["channel"]) for s in listed["strategies"][4]["steps"]]
    assert e_steps[:3] == [(-7, "email"), (0, "email"), (1, "credit_hold")]
    text = run("strategies")
    assert text.exit_code == 0
    assert "Grade E — early reminders, hold at +1" in text.stdout
    assert "+1 d  credit_hold" in text.stdout


def test_end_to_end_in_a_real_process(tmp_path: Path) -> None:
    db = tmp_path / "flywheel.db"
    assert flywheel(db, "init").returncode == 0

    strategies = flywheel(db, "collections", "strategies", "--json")

    assert strategies.returncode == 0, strategies.stderr
    assert len(as_json(strategies)["strategies"]) == 5
