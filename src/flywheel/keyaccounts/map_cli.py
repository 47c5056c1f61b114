"""``flywheel accounts map|needs CODE``: an account's stakeholder map with its coverage
warnings, and its needs register, from the terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.keyaccounts import map_labels, needs, stakeholders
from flywheel.keyaccounts.cli import app
from flywheel.keyaccounts.map_schemas import StakeholderMapOut, need_list

__all__ = ["app"]


def _as_of(text: str | None) -> date:
    if text is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"as_of: not a date (YYYY-MM-DD): {text!r}", field="as_of") from None


@app.command("map")
def map_command(
    code: Annotated[str, typer.Argument(help="The account's code.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Known on this day (default: today).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """The stakeholder map (by reports-to line) and its coverage warnings."""
    try:
        day = _as_of(as_of)
        with unit_of_work() as session:
            shown = stakeholders.stakeholder_map(session, CLI, code, as_of=day)
            payload = StakeholderMapOut.of(shown).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(payload)
        return
    items = payload["items"]
    by_id = {i["contact_id"]: i for i in items}
    children: dict[int | None, list[int]] = {}
    for item in items:
        boss = item["reports_to_contact_id"]
        children.setdefault(boss if boss in by_id else None, []).append(item["contact_id"])
    tree = Tree(f"{payload['customer']} · {shown.customer.name}")
    placed: set[int] = set()

    def add(branch: Tree, contact_id: int) -> None:
        placed.add(contact_id)
        i = by_id[contact_id]
        role = map_labels.ROLE_LABELS.get(i["buying_role"] or "", i["buying_role"] or "–")
        last = i["last_contact_on"] or "–"
        node = branch.add(
            f"[bold]{escape(i['name'])}[/] {escape(i['title'] or '')} · {role} · {i['attitude']}"
            f" · influence {i['influence']} · trust {i['trust']} · last {last}"
        )
        for child in children.get(contact_id, []):
            if child not in placed:
                add(node, child)

    for top in children.get(None, []):
        add(tree, top)
    for contact_id in by_id:
        if contact_id not in placed:
            add(tree, contact_id)
    console.print(tree)
    console.print(
        f"Met in the last {payload['window_days']} days: {payload['met_recently']} of "
        f"{payload['contacts']}"
    )
    if not payload["warnings"]:
        console.print("[green]No coverage warnings.[/]")
    for warning in payload["warnings"]:
        text = map_labels.WARNING_LABELS.get(warning["code"], warning["code"])
        who = ", ".join(by_id[c]["name"] for c in warning["contact_ids"] if c in by_id)
        console.print(f"[red]! {warning['code']}[/] {text}" + (f" ({who})" if who else ""))


@app.command("needs")
def needs_command(
    code: Annotated[str, typer.Argument(help="The account's code.")],
    status: Annotated[
        str | None, typer.Option(help="open, addressed or declined (default: all).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """The needs and pain points register: open ones first, by priority."""
    try:
        with unit_of_work() as session:
            customer, rows = needs.list_needs(session, CLI, code, status=status)
            payload = need_list(customer.code, rows).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(payload)
        return
    table = Table(
        title=f"Needs of {payload['customer']}: {payload['open']} open of {payload['total']}"
    )
    for column in ("id", "priority", "status", "kind", "source", "title", "offer"):
        table.add_column(column)
    for item in payload["items"]:
        table.add_row(
            str(item["id"]),
            str(item["priority"]),
            item["status"],
            item["kind"],
            item["source"],
            item["title"],
            item["offer"] or "—",
        )
    console.print(table)
