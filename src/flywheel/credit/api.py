"""``/api/v1/customers/{code}/credit``: an account's credit score, grade, reasons and trend."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from flywheel.credit import service
from flywheel.credit.schemas import CreditOut
from flywheel.customers import service as customers
from flywheel.errors import NotFound
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, today
from flywheel.web.deps import SessionDep

router = APIRouter(responses=ERROR_RESPONSES)


@router.get(
    "/customers/{code}/credit",
    response_model=CreditOut,
    summary="An account's credit score",
    tags=["credit"],
)
def customer_credit(
    code: str,
    session: SessionDep,
    actor: CurrentActor,
    as_of: Annotated[
        date | None, Query(description="The newest score on or before this day (default: today).")
    ] = None,
) -> CreditOut:
    """Score, grade and each factor's points from the newest daily snapshot, with the scores
    of the 400 days before it. 404 ``not_found`` until the account has been scored."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    view = service.latest_score(session, customer.id, as_of=as_of or today())
    if view is None:
        raise NotFound(
            "this account has no credit score yet (the daily cycle, flywheel run, scores it)"
        )
    return CreditOut.of(customer.code, view)
