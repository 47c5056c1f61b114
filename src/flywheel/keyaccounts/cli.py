"""``flywheel accounts``: key-account plans, stakeholder maps, deals, negotiations, contracts."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Key accounts: plans, stakeholder maps, deals, negotiations, terms cost, contracts.",
    no_args_is_help=True,
)

# Each use case adds its commands to ``app`` in a module of its own.
from flywheel.keyaccounts import (  # noqa: E402
    contract_cli,
    deal_cli,
    map_cli,
    negotiation_cli,
    plan_cli,
    terms_cli,
)

__all__ = ["app", "contract_cli", "deal_cli", "map_cli", "negotiation_cli", "plan_cli", "terms_cli"]
