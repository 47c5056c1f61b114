"""``flywheel accounts deals`` and ``flywheel accounts deal-figures``: the pipeline from the
terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.keyaccounts import deal_figures, deals
from flywheel.keyaccounts.cli import app
from flywheel.keyaccounts.deal_schemas import deal_outs
from flywheel.models.users import User

__all__ = ["app"]


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


def _owner_id(session: Session, owner: str | None) -> int | None:
    """``--owner`` by user name or number."""
    if owner is None:
        return None
    if owner.isdigit():
        user_id = session.scalar(select(User.id).where(User.id == int(owner)))
    else:
        user_id = session.scalar(select(User.id).where(User.username == owner))
    if user_id is None:
        raise ValidationFailed(f"owner: no user {owner!r}", field="owner")
    return int(user_id)


def _money(amounts: dict[str, str]) -> str:
    return ", ".join(f"{a} {c}" for c, a in amounts.items()) or "—"


@app.command("deals")
def deals_command(
    stage: Annotated[str | None, typer.Option(help="Only this stage (its code).")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner (user name).")] = None,
    status: Annotated[str, typer.Option(help="all, open, won or lost.")] = "open",
    search: Annotated[str | None, typer.Option("--search", "-q", help="In titles.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 200,
    json_output: JsonFlag = False,
) -> None:
    """Deals, soonest expected close first (open ones unless --status says otherwise)."""
    try:
        if status not in deals.STATUSES:
            raise ValidationFailed(f"status: one of {', '.join(deals.STATUSES)}", field="status")
        with unit_of_work() as session:
            rows, total = deals.list_deals(
                session,
                CLI,
                deals.DealFilter(
                    stage=stage,
                    status=status,
                    owner_id=_owner_id(session, owner),
                    search=search,
                ),
                limit=limit,
                offset=0,
            )
            items = [o.model_dump(mode="json") for o in deal_outs(session, rows)]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"total": total, "deals": items})
        return
    table = Table(title=f"Deals: {total:,}")
    for column in ("id", "account", "title", "stage", "value", "close", "owner"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["customer"],
            item["title"],
            f"{item['stage']} ({item['probability']}%)",
            f"{item['value']} {item['currency']}",
            item["closed_on"] or item["expected_close_on"] or "—",
            item["owner"] or "—",
        )
    console.print(table)


@app.command("deal-figures")
def deal_figures_command(
    start: Annotated[str | None, typer.Option(help="First day (default: a year ago).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day, included (default: today).")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner (user name).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Open and weighted pipeline per stage, win rate and sales cycle of the period, per owner."""
    try:
        first, last = deal_figures.period(_day(start, "start"), _day(end, "end"), today=today())
        with unit_of_work() as session:
            figures: dict[str, Any] = deal_figures.pipeline_figures(
                session,
                CLI,
                as_of=last,
                start=first,
                end=last,
                owner_id=_owner_id(session, owner),
            )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(figures)
        return
    table = Table(title=f"Pipeline on {figures['as_of']}")
    for column in ("stage", "probability", "deals", "value", "weighted"):
        table.add_column(column)
    for row in figures["stages"]:
        table.add_row(
            row["code"],
            f"{row['probability']}%",
            str(row["open_deals"]),
            _money(row["open_value"]),
            _money(row["weighted_value"]),
        )
    console.print(table)
    rate = figures["win_rate"]
    console.print(
        f"Open {_money(figures['open_value'])} · weighted {_money(figures['weighted_value'])}"
        f" · {figures['start']}–{figures['end']}: won {figures['won']}, lost {figures['lost']}"
        f", win rate {'—' if rate is None else f'{rate:.1%}'}"
        f", average cycle {figures['average_cycle_days'] or '—'} days"
    )
    owners = Table(title="By owner")
    for column in ("owner", "open", "value", "weighted", "won", "lost", "win rate", "cycle"):
        owners.add_column(column)
    for row in figures["owners"]:
        owner_rate = row["win_rate"]
        owners.add_row(
            row["owner"] or "—",
            str(row["open_deals"]),
            _money(row["open_value"]),
            _money(row["weighted_value"]),
            str(row["won"]),
            str(row["lost"]),
            "—" if owner_rate is None else f"{owner_rate:.1%}",
            "—" if row["average_cycle_days"] is None else str(row["average_cycle_days"]),
        )
    console.print(owners)
