"""Commands of ``flywheel feedback`` (being built)."""

from __future__ import annotations

from flywheel.feedback.cli import app

__all__ = ["app"]
