"""The ``flywheel demo`` command: build the demo company with progress bars and a summary."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from flywheel.db import get_engine
from flywheel.demo.accounts import DEMO_PASSWORD
from flywheel.demo.service import DemoSummary, build_demo
from flywheel.errors import FlywheelError


def demo(
    customers: Annotated[
        int, typer.Option(min=1, help="How many customers the demo company has.")
    ] = 300,
    years: Annotated[int, typer.Option(min=1, max=10, help="Years of history.")] = 3,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same company.")
    ] = 7,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Last day of the history (YYYY-MM-DD); today (UTC) by default.",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Delete all customers and their ledger first."),
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Build a realistic demo company (customers, invoices, payments, touchpoints) in the database."""
    last_day: date = as_of.date() if as_of is not None else datetime.now(UTC).date()
    engine = get_engine()
    try:
        if json_output:
            summary = build_demo(
                engine, customers=customers, years=years, seed=seed, as_of=last_day, replace=replace
            )
        else:
            with _StageBars() as bars:
                summary = build_demo(
                    engine,
                    customers=customers,
                    years=years,
                    seed=seed,
                    as_of=last_day,
                    replace=replace,
                    progress=bars.update,
                )
    except FlywheelError as error:
        raise fail(error, as_json=json_output) from error
    if json_output:
        print_json(summary.to_dict())
        return
    _print_summary(summary)


class _StageBars:
    """One rich progress bar per stage, created when the stage first reports."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _StageBars:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, stage: str, done: int, total: int) -> None:
        task = self._tasks.get(stage)
        if task is None:
            task = self._progress.add_task(stage, total=max(total, 1))
            self._tasks[stage] = task
        self._progress.update(task, completed=done if total else 1, total=max(total, 1))


def _print_summary(summary: DemoSummary) -> None:
    table = Table(
        title=f"Demo company · seed {summary.seed} · as of {summary.as_of.isoformat()}",
        min_width=48,
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.counts.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("[bold]total[/]", f"[bold]{summary.total_rows:,}[/]")
    console.print(table)
    console.print(
        f"Built in {summary.seconds:.1f} s (generate {summary.generate_seconds:.1f} s, "
        f"write {summary.write_seconds:.1f} s) into {summary.database}"
    )
    console.print("\n[bold]What to try next[/]")
    console.print("  flywheel serve                 [dim]# then open http://127.0.0.1:8000/[/]")
    console.print("  flywheel customers list")
    console.print("  flywheel customers show C000001")
    console.print(
        "  flywheel demo --replace --customers 5000 --seed 42   [dim]# a bigger company[/]"
    )
    if summary.survey_link:
        console.print("  [dim]# an open survey, as the customer sees it (no sign-in):[/]")
        console.print(f"  {summary.survey_link}", soft_wrap=True)
    sign_ins = Table(title="Demo sign-ins (one per role)", min_width=48)
    sign_ins.add_column("username")
    sign_ins.add_column("password")
    sign_ins.add_column("may")
    for username, may in DEMO_SIGN_INS:
        sign_ins.add_row(username, DEMO_PASSWORD, may)
    console.print(sign_ins)
    console.print("  [dim]The password is set for new demo users only.[/]")


# What each demo user is for, as shown after the build (the usernames are the role names).
DEMO_SIGN_INS = (
    ("admin", "everything, users included"),
    ("manager", "all accounts; credit notes, imports"),
    ("sales", "his own accounts; contacts, touchpoints"),
    ("collector", "all accounts; payments, touchpoints"),
    ("finance", "all accounts; invoices, payments, credit notes, imports"),
    ("viewer", "read only"),
)


# Imported last: ``flywheel.cli`` imports this module while registering commands, and this
# order lets either module be imported first.
from flywheel.cli import JsonFlag, console, fail, print_json  # noqa: E402
