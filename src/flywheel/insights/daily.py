"""The insights part of the daily cycle: the cube, then the management reports that are due."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.insights import report_send, snapshot


def run(session: Session, *, as_of: date, settings: Settings) -> dict[str, Any]:
    built = snapshot.run(session, as_of=as_of, history=settings.insights_history_months)
    # After the cube: a report reads the months just built.
    sent = report_send.run_due(session, as_of=as_of, settings=settings)
    return {"cube": built.as_dict(), "reports": sent}
