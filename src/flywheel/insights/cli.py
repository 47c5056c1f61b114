"""``flywheel insights …``: build the monthly cube, print the dashboard's figures."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The flywheel dashboard: build its monthly snapshot, print its figures, reports.",
    no_args_is_help=True,
)
