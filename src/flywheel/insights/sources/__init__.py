"""The sources of the cube's measures, one module per stage of the flywheel. Each is a function
``(session, accounts, month) -> {measure: Contribution}`` that reads one domain's data for the
month with a few grouped queries and follows that domain's own definitions."""

from __future__ import annotations

from flywheel.insights.cube import Source
from flywheel.insights.sources import attract, cash, delight, engage, loyalty

SOURCES: tuple[Source, ...] = (
    attract.measures,
    engage.measures,
    delight.measures,
    loyalty.measures,
    cash.measures,
)
