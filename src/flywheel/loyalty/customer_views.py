"""The customer 360 loyalty panel: CLV and probability alive, health with its band, factors,
trend and history, churn risk with its basis, and the account's referrals."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.kit.i18n import N_
from flywheel.loyalty import health_labels, health_queries
from flywheel.models.customers import Customer
from flywheel.web import panels

router = APIRouter(include_in_schema=False)

SPARK_WIDTH, SPARK_HEIGHT = 240, 48
BAND_COLOURS = {"green": "#1a7f37", "yellow": "#bf8700", "red": "#cf222e"}


def health_sparkline(points: list[health_queries.HistoryPoint]) -> dict[str, Any] | None:
    """An SVG polyline of the stored health (0–100 on a fixed scale, oldest left) with the
    band thresholds; None under two points."""
    if len(points) < 2:
        return None
    first, last = points[0].as_of, points[-1].as_of
    span = max((last - first).days, 1)

    def y(health: float) -> float:
        return SPARK_HEIGHT - health / 100 * SPARK_HEIGHT

    return {
        "points": " ".join(
            f"{(p.as_of - first).days / span * SPARK_WIDTH:.1f},{y(p.health):.1f}" for p in points
        ),
        "green_y": f"{y(70):.1f}",
        "red_y": f"{y(40):.1f}",
        "low": min(p.health for p in points),
        "high": max(p.health for p in points),
        "first": first,
        "last": last,
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "colour": BAND_COLOURS.get(points[-1].band, "#1f6feb"),
    }


def _referrals(session: Session, customer: Customer, as_of: date) -> dict[str, Any] | None:
    """The referrals capability's summary of the account, when that capability is there."""
    for module in ("flywheel.loyalty.referrals", "flywheel.loyalty.referral_kpis"):
        try:
            summary = importlib.import_module(module).referral_summary
        except (ImportError, AttributeError):
            continue
        found: dict[str, Any] = summary(session, customer.id, as_of=as_of)
        return found
    return None


def _load(
    session: Session, actor: Actor, customer: Customer, as_of: date
) -> Mapping[str, Any] | None:
    score = health_queries.latest_score(session, customer.id, as_of=as_of)
    if score is None:
        return {"score": None, "referrals": _referrals(session, customer, as_of)}
    factors = [
        {
            "factor": factor,
            "label": health_labels.factor_label(factor),
            "value": health_labels.factor_value(factor, value),
            "known": value is not None,
            "points": float(points),
        }
        for factor, value, points in score.health_factors
    ]
    from flywheel.loyalty.segments import SEGMENT_LABELS

    return {
        "score": score,
        "customer": customer,
        "factors": factors,
        "spark": health_sparkline(health_queries.history(session, customer.id, until=score.as_of)),
        "band_labels": health_labels.BAND_LABELS,
        "trend_labels": health_labels.TREND_LABELS,
        "trend_arrows": health_labels.TREND_ARROWS,
        "basis_labels": health_labels.BASIS_LABELS,
        "segment_labels": SEGMENT_LABELS,
        "neutral_note": health_labels.NEUTRAL_NOTE,
        "referrals": _referrals(session, customer, as_of),
    }


panels.register(
    "loyalty",
    panels.Panel(
        name="loyalty.health",
        label=N_("Loyalty and health"),
        template="loyalty/_panel.html",
        loader=_load,
    ),
)
