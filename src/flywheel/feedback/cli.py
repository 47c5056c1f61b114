"""``flywheel feedback``: campaigns, sending, NPS and the follow-ups from the terminal."""

from __future__ import annotations

import typer

app = typer.Typer(help="Surveys, campaigns, NPS and the closed loop.", no_args_is_help=True)

# Each use case adds its commands to ``app`` in a module of its own.
from flywheel.feedback import campaign_cli, loop_cli, nps_cli  # noqa: E402

__all__ = ["app", "campaign_cli", "loop_cli", "nps_cli"]
