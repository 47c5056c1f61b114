"""``flywheel feedback``: campaigns, sending, NPS and the follow-ups from the terminal."""

from __future__ import annotations

import typer

app = typer.Typer(help="Surveys, campaigns, NPS and the closed loop.", no_args_is_help=True)
