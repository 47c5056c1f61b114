"""``flywheel accounts negotiations|negotiation``: the negotiations and one workspace from the
terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.customers import service as customers
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.keyaccounts import negotiations
from flywheel.keyaccounts.cli import app
from flywheel.keyaccounts.negotiation_api import filters_for
from flywheel.keyaccounts.negotiation_schemas import StatusChoice, detail_out, negotiation_outs

STATUS_CHOICES = tuple(s.value for s in StatusChoice)


def _or_dash(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


@app.command("negotiations")
def negotiations_command(
    status: Annotated[
        str, typer.Option(help="open, all, preparing, in_progress or closed.")
    ] = "open",
    customer: Annotated[str | None, typer.Option(help="Only this account (its code).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Negotiations, most recently changed first."""
    try:
        if status not in STATUS_CHOICES:
            raise ValidationFailed(f"status: one of {', '.join(STATUS_CHOICES)}", field="status")
        with unit_of_work() as session:
            customer_id = (
                customers.get_customer_by_code(session, customer, actor=CLI).id
                if customer
                else None
            )
            rows, total = negotiations.list_negotiations(
                session,
                CLI,
                filters_for(status, customer_id=customer_id),
                limit=limit,
                offset=0,
            )
            items = [o.model_dump(mode="json") for o in negotiation_outs(session, rows)]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"total": total, "negotiations": items})
        return
    table = Table(title=f"Negotiations: {total:,}")
    for column in ("id", "account", "title", "owner", "status", "outcome"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["customer"],
            item["title"],
            _or_dash(item["owner"]),
            item["status"],
            _or_dash(item["outcome"]),
        )
    console.print(table)


def _show(item: dict[str, Any]) -> None:
    console.print(
        f"[bold]Negotiation {item['id']}[/bold]: {item['title']} · {item['customer']} "
        f"{item['customer_name']} · {item['status']}"
        + (f" · {item['outcome']}" if item["outcome"] else "")
    )
    for label, key in (
        ("Our objectives", "our_objectives"),
        ("Their interests", "their_interests"),
        ("Our BATNA", "our_batna"),
        ("Their BATNA", "their_batna"),
    ):
        if item[key]:
            console.print(f"{label}: {item[key]}")
    if item["issues"]:
        table = Table(title="Issues")
        for column in ("issue", "unit", "our target", "our walk-away", "their walk-away", "ZOPA"):
            table.add_column(column)
        for issue in item["issues"]:
            zone = issue["zopa"]
            table.add_row(
                issue["name"],
                _or_dash(issue["unit"]),
                _or_dash(issue["our_target"]),
                _or_dash(issue["our_walkaway"]),
                _or_dash(issue["their_walkaway"]),
                f"{zone['low']} – {zone['high']}" if zone else "none",
            )
        console.print(table)
    if item["concessions"]:
        table = Table(title="Concessions")
        for column in ("id", "planned", "give", "get", "discount %", "days", "approval"):
            table.add_column(column)
        for c in item["concessions"]:
            table.add_row(
                str(c["id"]),
                "yes" if c["planned"] else "",
                c["give"],
                _or_dash(c["get"]),
                _or_dash(c["discount_percent"]),
                _or_dash(c["payment_days"]),
                c["approval_status"],
            )
        console.print(table)
    for meeting in item["meetings"]:
        console.print(f"Meeting {meeting['held_on']}: {_or_dash(meeting['notes'])}")


@app.command("negotiation")
def negotiation_command(
    negotiation_id: Annotated[int, typer.Argument(help="The negotiation's number.", min=1)],
    json_output: JsonFlag = False,
) -> None:
    """One negotiation: the sheet, the issues with their ZOPA, concessions, meetings."""
    try:
        with unit_of_work() as session:
            negotiation = negotiations.get_negotiation_for(session, negotiation_id, actor=CLI)
            customer = customers.get_customer(session, negotiation.customer_id)
            item = detail_out(
                session, negotiation, customer, as_of=datetime.now(UTC).date()
            ).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(item)
        return
    _show(item)
