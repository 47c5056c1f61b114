"""``flywheel ar``: aging and receivables KPIs in the terminal."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Receivables: aging and KPIs (DSO, CEI, at-risk) for an as-of date.", no_args_is_help=True
)
