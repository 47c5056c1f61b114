"""``flywheel accounts contracts|tasks``: contracts (those renewing soon) and the key-account
tasks from the terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.customers import service as customers
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.keyaccounts import contracts, tasks
from flywheel.keyaccounts.cli import app
from flywheel.keyaccounts.contract_schemas import ContractOut, TaskOut
from flywheel.models.enums import AccountTaskStatus, ContractStatus

__all__ = ["app"]

CONTRACT_STATUSES = ("all", "live", *(s.value for s in ContractStatus))
TASK_STATUSES = ("open", "done", "cancelled", "all")


def today() -> date:
    """The day the terminal means: today in UTC."""
    return datetime.now(UTC).date()


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{field}: not a date (YYYY-MM-DD): {text!r}", field=field) from None


@app.command("contracts")
def contracts_command(
    renewing_within: Annotated[
        int | None,
        typer.Option(
            "--renewing-within", min=0, max=3660, help="Live contracts renewing within DAYS."
        ),
    ] = None,
    status: Annotated[str, typer.Option(help="all, live (draft or active) or one status.")] = "all",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count renewals from (default today).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Contracts, soonest renewal first."""
    try:
        if status not in CONTRACT_STATUSES:
            raise ValidationFailed(f"status: one of {', '.join(CONTRACT_STATUSES)}", field="status")
        day = _day(as_of, "as_of") or today()
        with unit_of_work() as session:
            rows, total = contracts.list_contracts(
                session,
                CLI,
                contracts.ContractFilter(
                    status=None if status == "all" else status,
                    renewing_within=renewing_within,
                    as_of=day,
                ),
                limit=limit,
                offset=0,
            )
            items = [ContractOut.of(c, a, as_of=day).model_dump(mode="json") for c, a in rows]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"as_of": day.isoformat(), "total": total, "contracts": items})
        return
    table = Table(title=f"Contracts: {total:,}")
    for column in ("number", "account", "value", "end", "renewal", "in days", "status"):
        table.add_column(column)
    for item in items:
        table.add_row(
            item["number"],
            item["customer"],
            f"{item['value']} {item['currency']}",
            item["end_on"],
            item["renewal_on"],
            str(item["renewal_in_days"]),
            item["status"],
        )
    console.print(table)


@app.command("tasks")
def tasks_command(
    status: Annotated[str, typer.Option(help="open, done, cancelled or all.")] = "open",
    customer: Annotated[str | None, typer.Option(help="Only this account (its code).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Key-account tasks (renewals, milestone checkpoints, overdue milestones), soonest due
    first."""
    try:
        if status not in TASK_STATUSES:
            raise ValidationFailed(f"status: one of {', '.join(TASK_STATUSES)}", field="status")
        with unit_of_work() as session:
            customer_id = None
            if customer:
                customer_id = customers.get_customer_by_code(session, customer, actor=CLI).id
            rows, total = tasks.list_tasks(
                session,
                CLI,
                tasks.TaskFilter(
                    mine=False,
                    status=None if status == "all" else AccountTaskStatus(status),
                    customer_id=customer_id,
                ),
                limit=limit,
                offset=0,
            )
            items = [TaskOut.of(t, c).model_dump(mode="json") for t, c in rows]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"total": total, "tasks": items})
        return
    table = Table(title=f"Key-account tasks: {total:,}")
    for column in ("id", "due", "account", "kind", "task", "status"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["due_on"],
            item["customer"],
            item["kind"],
            item["title"],
            item["status"],
        )
    console.print(table)
