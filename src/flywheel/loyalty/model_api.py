"""JSON route of the fitted CLV models: parameters, log-likelihood, the holdout check."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from flywheel.loyalty import model_fits
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/loyalty", tags=["loyalty"], responses=ERROR_RESPONSES)


class ClvModelOut(BaseModel):
    as_of: date | None
    model: str | None
    params: dict[str, float]
    log_likelihood: float | None
    customers: int
    spend_params: dict[str, float]
    mean_order_value: float | None
    holdout_as_of: date | None
    holdout: dict[str, Any]
    history: list[dict[str, Any]]


@router.get("/clv-model", response_model=ClvModelOut, summary="The fitted CLV models")
def clv_model(
    session: SessionDep,
    actor: CurrentActor,
    as_of: Annotated[date | None, Query()] = None,
) -> ClvModelOut:
    """The purchase model (BG/NBD or Pareto/NBD) and spend model (Gamma-Gamma) of the newest
    cycle on or before ``as_of``, the latest calibration/holdout check (predicted against
    actual repeat purchase days of the last half-year, by calibration frequency) and the last
    30 fits. Company-wide figures: no account is named."""
    found = model_fits.report(session, as_of=as_of or today())
    return ClvModelOut(
        as_of=found.as_of,
        model=found.model,
        params=found.params,
        log_likelihood=found.log_likelihood,
        customers=found.customers,
        spend_params=found.spend_params,
        mean_order_value=found.mean_order_value,
        holdout_as_of=found.holdout_as_of,
        holdout=found.holdout,
        history=found.history,
    )
