"""The feedback part of the daily cycle: campaigns invite and remind, new free texts are
analysed, follow-ups past their SLA escalate to a manager, and on Mondays the sentiment model
retrains on the company's own scored comments (kept only when it does not do worse)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from flywheel.config import Settings

RETRAIN_WEEKDAY = 0  # Monday


def run(
    session: Session, *, as_of: date, settings: Settings, now: datetime | None = None
) -> dict[str, Any]:
    """Run it for ``as_of``; ``now`` (default: the present moment when ``as_of`` is today or
    later, else the end of ``as_of``) is the clock the SLAs are measured against."""
    from flywheel.feedback import analysis, cycle, loops

    if now is None:
        present = datetime.now(UTC)
        now = present if present.date() <= as_of else datetime.combine(as_of, time(23, 59), UTC)
    invited = cycle.run(session, as_of=as_of, settings=settings, now=now)
    analysed = analysis.analyse_pending(session, settings, now)
    escalated = loops.escalate_overdue(session, now, settings)
    retrained = (
        analysis.retrain(session, settings, now=now).as_dict()
        if as_of.weekday() == RETRAIN_WEEKDAY
        else None
    )
    return {
        "campaigns": invited.as_dict(),
        "texts_analysed": analysed,
        "loops_escalated": escalated,
        "sentiment_retrained": retrained,
    }
