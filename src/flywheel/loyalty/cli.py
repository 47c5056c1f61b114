"""``flywheel loyalty``: segments, CLV, health, referrals and next best actions from the terminal."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="RFM segments, retention, CLV, health, churn risk, referrals and next best actions.",
    no_args_is_help=True,
)

# Each use case adds its commands to ``app`` in a module of its own.
from flywheel.loyalty import action_cli, health_cli, referral_cli, score_cli  # noqa: E402

__all__ = ["action_cli", "app", "health_cli", "referral_cli", "score_cli"]
