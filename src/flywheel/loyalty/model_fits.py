"""The fitted CLV models as the diagnostics page and API show them: the purchase and spend
models of the newest day, the latest calibration/holdout check and the fits' history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.models.loyalty import LoyaltyModelFit

HISTORY_FITS = 30

# The parameters under their usual names, in the papers' order, with the symbol shown.
PARAMETER_SYMBOLS: dict[str, str] = {
    "r": "r",
    "alpha": "α",
    "a": "a",
    "b": "b",
    "s": "s",
    "beta": "β",
    "p": "p",
    "q": "q",
    "v": "γ",
}


@dataclass
class ModelReport:
    as_of: date | None = None
    model: str | None = None
    params: dict[str, float] = field(default_factory=dict)
    log_likelihood: float | None = None
    customers: int = 0
    spend_params: dict[str, float] = field(default_factory=dict)
    mean_order_value: float | None = None
    holdout: dict[str, Any] = field(default_factory=dict)
    holdout_as_of: date | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def report(session: Session, *, as_of: date) -> ModelReport:
    """The newest fits on or before ``as_of``; an empty report before the first cycle."""
    fits = session.scalars(
        select(LoyaltyModelFit)
        .where(LoyaltyModelFit.kind == "purchase", LoyaltyModelFit.as_of <= as_of)
        .order_by(LoyaltyModelFit.as_of.desc(), LoyaltyModelFit.id.desc())
        .limit(HISTORY_FITS)
    ).all()
    result = ModelReport()
    if not fits:
        return result
    newest = fits[0]
    result.as_of = newest.as_of
    result.model = newest.model
    result.params = dict(newest.params)
    result.log_likelihood = newest.log_likelihood
    result.customers = newest.n_customers
    spend = session.scalars(
        select(LoyaltyModelFit)
        .where(LoyaltyModelFit.kind == "spend", LoyaltyModelFit.as_of == newest.as_of)
        .limit(1)
    ).first()
    if spend is not None:
        result.spend_params = dict(spend.params)
        p, q, v = (spend.params.get(k) for k in ("p", "q", "v"))
        if p is not None and q is not None and v is not None and q > 1:
            result.mean_order_value = round(p * v / (q - 1), 2)
    checked = next((fit for fit in fits if fit.diagnostics.get("holdout")), None)
    if checked is not None:
        result.holdout = dict(checked.diagnostics["holdout"])
        result.holdout_as_of = checked.as_of
    result.history = [
        {
            "as_of": fit.as_of.isoformat(),
            "model": fit.model,
            "params": fit.params,
            "log_likelihood": fit.log_likelihood,
            "customers": fit.n_customers,
        }
        for fit in fits
    ]
    return result
