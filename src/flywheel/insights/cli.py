"""``flywheel insights``: the flywheel dashboard's monthly snapshot, its figures, the lists
behind them, targets and management reports from the terminal."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The flywheel dashboard: build its monthly snapshot, print its figures and lists.",
    no_args_is_help=True,
)

# Each use case adds its commands to ``app`` in a module of its own.
from flywheel.insights import dashboard_cli  # noqa: E402

__all__ = ["app", "dashboard_cli"]
