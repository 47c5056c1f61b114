"""``flywheel accounts`` commands (negotiation)."""

from __future__ import annotations

from flywheel.keyaccounts.cli import app

__all__ = ["app"]
