"""The ``flywheel`` command: the root Typer app; each domain adds its own commands."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError, ProgrammingError

from flywheel import __version__
from flywheel.errors import DatabaseNotReady, FlywheelError, exit_code_for

app = typer.Typer(
    name="flywheel",
    help="Flywheel (飞轮) — customers, receivables, credit, collections, feedback and loyalty.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err_console = Console(stderr=True)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print one JSON object with stable keys on stdout.")
]


def print_json(payload: dict[str, Any]) -> None:
    """Write one JSON object on stdout (no rich markup, no wrapping)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(error: FlywheelError, *, as_json: bool) -> typer.Exit:
    """Report a domain error and return the Exit to raise, with the error's exit code."""
    if as_json:
        print_json({"error": error.to_dict()})
    else:
        # Escaped: "[code]" and user text must not be read as rich markup.
        err_console.print(f"[bold red]error[/] {escape(f'[{error.code}] {error.message}')}")
    return typer.Exit(exit_code_for(error))


def _version(value: bool) -> None:
    if value:
        console.print(f"flywheel {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Flywheel (飞轮): the sales flywheel platform. Settings come from FLYWHEEL_* variables."""


def _register() -> None:
    from flywheel.analyze_cli import app as analyze_app
    from flywheel.collections.cli import app as collections_app
    from flywheel.collections.worker_cli import worker
    from flywheel.credit.cli import app as credit_app
    from flywheel.credit.cli import run
    from flywheel.customers.cli import app as customers_app
    from flywheel.demo.cli import demo
    from flywheel.feedback.cli import app as feedback_app
    from flywheel.importers.cli import app as import_app
    from flywheel.insights.cli import app as insights_app
    from flywheel.keyaccounts.cli import app as accounts_app
    from flywheel.loyalty.analyze_clv import clv
    from flywheel.loyalty.cli import app as loyalty_app
    from flywheel.receivables.cli import app as ar_app
    from flywheel.system_cli import init, status
    from flywheel.users.cli import app as users_app
    from flywheel.web.cli import serve

    app.command("init")(init)
    app.command("status")(status)
    app.command("demo")(demo)
    app.command("serve")(serve)
    app.command("run")(run)
    app.command("worker")(worker)
    app.add_typer(import_app, name="import")
    app.add_typer(customers_app, name="customers")
    app.add_typer(users_app, name="users")
    app.add_typer(ar_app, name="ar")
    app.add_typer(credit_app, name="credit")
    app.add_typer(collections_app, name="collections")
    app.add_typer(feedback_app, name="feedback")
    app.add_typer(loyalty_app, name="loyalty")
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(insights_app, name="insights")
    analyze_app.command("clv")(clv)
    app.add_typer(analyze_app, name="analyze")


_register()


def main() -> None:
    try:
        app()
    except (OperationalError, ProgrammingError) as exc:
        # A database without Flywheel's tables (or not reachable) is the user's setup, not a
        # crash: say what to do instead of printing a traceback.
        error = DatabaseNotReady(
            "the database is not ready: run `flywheel init` "
            f"({type(exc.orig).__name__ if exc.orig else type(exc).__name__}: "
            f"{str(exc.orig or exc).splitlines()[0]})"
        )
        raise SystemExit(fail(error, as_json="--json" in sys.argv[1:]).exit_code) from None
