"""The credit panel of the customer 360: grade, score, the reasons, the score's trend."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.credit import labels, service
from flywheel.kit.i18n import N_
from flywheel.models.customers import Customer
from flywheel.web import panels

router = APIRouter()

SPARK_WIDTH, SPARK_HEIGHT = 240, 48
SHOWN_REASONS = 6


def sparkline(history: list[tuple[date, int, str]]) -> dict[str, Any] | None:
    """An SVG polyline of the scores (oldest left), scaled to the box; None under two points."""
    if len(history) < 2:
        return None
    first, last = history[0][0], history[-1][0]
    span = max((last - first).days, 1)
    scores = [s for _d, s, _g in history]
    low, high = min(scores), max(scores)
    rise = max(high - low, 1)
    points = " ".join(
        f"{(d - first).days / span * SPARK_WIDTH:.1f},{SPARK_HEIGHT - (s - low) / rise * SPARK_HEIGHT:.1f}"
        for d, s, _g in history
    )
    return {
        "points": points,
        "low": low,
        "high": high,
        "first": first,
        "last": last,
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
    }


def _load(session: Session, actor: Actor, customer: Customer, as_of: date) -> dict[str, Any] | None:
    view = service.latest_score(session, customer.id, as_of=as_of)
    if view is None:
        return {"view": None}
    reasons = [
        {
            "label": labels.factor_label(r.factor),
            "value": labels.factor_value(r.factor, r.value),
            "points": r.points,
        }
        for r in view.reasons
        if r.points != 0
    ][:SHOWN_REASONS]
    return {
        "view": view,
        "reasons": reasons,
        "meaning": labels.GRADE_MEANINGS.get(view.grade, ""),
        "model": labels.MODEL_LABELS.get(view.model, view.model),
        "spark": sparkline(view.history),
    }


panels.register(
    "credit",
    panels.Panel(
        name="credit.score",
        label=N_("Credit grade"),
        template="credit/_score_panel.html",
        loader=_load,
    ),
)
