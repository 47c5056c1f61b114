"""``flywheel loyalty`` commands for referrals."""

from __future__ import annotations

from flywheel.loyalty.cli import app

__all__ = ["app"]
