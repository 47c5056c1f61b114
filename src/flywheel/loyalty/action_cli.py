"""``flywheel loyalty`` commands for next best actions."""

from __future__ import annotations

from flywheel.loyalty.cli import app

__all__ = ["app"]
