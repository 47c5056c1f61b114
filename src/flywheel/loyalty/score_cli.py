"""``flywheel loyalty`` commands for segments, retention, CLV and health."""

from __future__ import annotations

from flywheel.loyalty.cli import app

__all__ = ["app"]
