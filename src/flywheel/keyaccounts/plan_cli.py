"""``flywheel accounts plan CODE`` and ``flywheel accounts list``: account plans and the
key-account list from the terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, NotFound, ValidationFailed
from flywheel.keyaccounts import plan_figures, plans
from flywheel.keyaccounts.cli import app
from flywheel.keyaccounts.plan_api import BandChoice, FlagChoice
from flywheel.keyaccounts.plan_schemas import account_out, plan_out

__all__ = ["app"]


def today() -> date:
    """The day the terminal means: today in UTC."""
    return datetime.now(UTC).date()


def _dash(value: object) -> str:
    return "—" if value is None or value == "" else escape(str(value))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@app.command("plan")
def plan_command(
    code: Annotated[str, typer.Argument(help="The account's code.")],
    json_output: JsonFlag = False,
) -> None:
    """One account's plan: figures, health and its parts, objectives, whitespace, risks."""
    try:
        with unit_of_work() as session:
            customer = plans.account_for(session, code, actor=CLI)
            row = plan_figures.account_row(session, CLI, customer, as_of=today())
            if row.plan is None:
                raise NotFound(f"{code} has no account plan", code=code)
            out = plan_out(session, row, as_of=today()).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(out)
        return
    console.print(
        f"[bold]{escape(out['code'])}[/] {escape(out['name'])} · plan {out['year']} · "
        f"health {out['health']} ({out['health_band']})"
    )
    console.print(
        f"target {_dash(out['revenue_target'])} {out['currency']} · "
        f"progress {_percent(out['target_progress'])} · "
        f"share of wallet {_percent(out['share_of_wallet'])} · "
        f"next review {_dash(out['next_review_on'])}"
    )
    if out["flags"]:
        console.print("warnings: " + ", ".join(out["flags"]))
    parts = Table(title="Health")
    for column in ("part", "points", "weight"):
        parts.add_column(column)
    for part in out["health_parts"]["parts"]:
        parts.add_row(part["name"], f"{part['points']:.1f}", str(part["weight"]))
    console.print(parts)
    objectives = Table(title=f"Objectives: {len(out['objectives'])}")
    for column in ("id", "objective", "current / target", "owner", "due", "status"):
        objectives.add_column(column)
    for o in out["objectives"]:
        objectives.add_row(
            str(o["id"]),
            escape(o["title"]),
            f"{_dash(o['current_value'])} / {_dash(o['target_value'])}",
            _dash(o["owner"]),
            _dash(o["due_on"]) + (" (overdue)" if o["overdue"] else ""),
            o["status"],
        )
    console.print(objectives)
    for w in out["whitespace"]:
        console.print(f"whitespace: {escape(w['item'])} {_dash(w['potential'])}")
    for r in out["risks"]:
        console.print(f"risk: {escape(r['risk'])} (L{r['likelihood']} × I{r['impact']})")


@app.command("list")
def list_command(
    search: Annotated[str | None, typer.Option("--search", "-q", help="In code or name.")] = None,
    band: Annotated[
        str | None, typer.Option(help="Plan health: green, yellow, red or none (no plan).")
    ] = None,
    flag: Annotated[str | None, typer.Option(help="Only accounts with this warning.")] = None,
    review_due: Annotated[bool, typer.Option(help="Only plans due for review.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 200,
    json_output: JsonFlag = False,
) -> None:
    """Key accounts (and any account with a plan), with plan health and coverage warnings."""
    try:
        if band is not None and band not in {b.value for b in BandChoice}:
            raise ValidationFailed("band: green, yellow, red or none", field="band")
        if flag is not None and flag not in {f.value for f in FlagChoice}:
            choices = ", ".join(f.value for f in FlagChoice)
            raise ValidationFailed(f"flag: one of {choices}", field="flag")
        with unit_of_work() as session:
            rows, total = plan_figures.key_account_rows(
                session,
                CLI,
                plan_figures.AccountFilter(
                    search=search, band=band, flag=flag, review_due=review_due
                ),
                as_of=today(),
                limit=limit,
            )
            items = [account_out(r).model_dump(mode="json") for r in rows]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"total": total, "accounts": items})
        return
    table = Table(title=f"Key accounts: {total:,}")
    for column in ("code", "owner", "revenue 12m", "target", "wallet", "health", "warnings"):
        table.add_column(column)
    for item in items:
        table.add_row(
            escape(item["code"]),
            _dash(item["owner"]),
            f"{item['revenue_12m']} {item['currency']}",
            _percent(item["target_progress"]),
            _percent(item["share_of_wallet"]),
            "—" if item["health"] is None else f"{item['health']} {item['health_band']}",
            ", ".join(item["flags"]),
        )
    console.print(table)
