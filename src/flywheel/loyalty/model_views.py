"""The CLV model page: the fitted purchase and spend models with their parameters and
log-likelihood, and the calibration/holdout chart of predicted against actual purchases."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from flywheel.loyalty import model_fits
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import render

router = APIRouter(include_in_schema=False)

MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}


@router.get("/loyalty/model", response_class=HTMLResponse)
def clv_model(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    as_of: Annotated[date | None, Query()] = None,
) -> Response:
    found = model_fits.report(session, as_of=as_of or today())
    chart = {
        "buckets": [row["frequency"] for row in found.holdout.get("by_frequency", [])],
        "actual": [row["actual"] for row in found.holdout.get("by_frequency", [])],
        "predicted": [row["predicted"] for row in found.holdout.get("by_frequency", [])],
    }
    return render(
        request,
        "loyalty/model.html",
        {
            "report": found,
            "chart": chart,
            "symbols": model_fits.PARAMETER_SYMBOLS,
            "model_names": MODEL_NAMES,
        },
        actor=actor,
    )
