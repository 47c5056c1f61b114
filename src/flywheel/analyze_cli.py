"""``flywheel analyze``: the models on the user's own CSV exports, without any database."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Run the credit and payment models on your own CSV files (no database).",
    no_args_is_help=True,
)
