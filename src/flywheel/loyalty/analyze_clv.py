"""``flywheel analyze clv``: BG/NBD or Pareto/NBD with Gamma-Gamma on the user's transactions."""

from __future__ import annotations


def clv() -> None:
    """Fit the purchase and spend models on a transactions CSV (placeholder)."""
