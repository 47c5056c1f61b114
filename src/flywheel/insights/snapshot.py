"""Build the cube: the insights part of the daily cycle and of ``flywheel insights build``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from flywheel.insights import history as past_reads
from flywheel.insights.cube import (
    DEFAULT_HISTORY_MONTHS,
    MonthBuild,
    Source,
    build_month,
    forget_codes,
    months_to_build,
    read_accounts,
)


@dataclass
class SnapshotRun:
    as_of: date
    months: list[MonthBuild] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "months": [
                {
                    "month": m.month.isoformat()[:7],
                    "as_of": m.as_of.isoformat(),
                    "cells": m.cells,
                    "markets": m.markets,
                    "transitions": m.transitions,
                    "facts": m.facts,
                    "seconds": m.seconds,
                }
                for m in self.months
            ],
            "seconds": round(self.seconds, 3),
        }


def run(
    session: Session,
    *,
    as_of: date,
    history: int = DEFAULT_HISTORY_MONTHS,
    rebuild: bool = False,
    sources: Sequence[Source] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SnapshotRun:
    """Compute the months of the cube a run on ``as_of`` needs (see ``cube.months_to_build``)."""
    from flywheel.insights.sources import SOURCES

    clock = time.perf_counter()
    result = SnapshotRun(as_of=as_of)
    months = months_to_build(session, as_of=as_of, history=history, rebuild=rebuild)
    accounts = read_accounts(session)
    try:
        for done, month in enumerate(months, start=1):
            result.months.append(
                build_month(session, month, accounts=accounts, sources=sources or SOURCES)
            )
            if progress is not None:
                progress(done, len(months))
    finally:
        past_reads.forget(session)  # the orders and ledger read once for every month
        forget_codes(session)
    result.seconds = time.perf_counter() - clock
    return result
