"""Credit in the API: an account's score, grade, reasons and trend; the limit review queue."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.credit import limits, predictions, service
from flywheel.credit.schemas import (
    CashForecastOut,
    CreditOut,
    ForecastWeekOut,
    LimitDecision,
    LimitReviewOut,
    LimitReviewPage,
)
from flywheel.customers import service as customers
from flywheel.errors import NotFound
from flywheel.models.credit import CreditLimitReview
from flywheel.models.customers import Customer
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
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


ApproveLimits = Annotated[Actor, Depends(require(Permission.APPROVE_CREDIT_LIMITS))]
ViewForecast = Annotated[Actor, Depends(require(Permission.VIEW_CASH_FORECAST))]


@router.get(
    "/credit/limit-reviews",
    response_model=LimitReviewPage,
    summary="Credit limits waiting for a decision",
    tags=["credit"],
)
def limit_reviews(
    session: SessionDep,
    actor: ApproveLimits,
    paging: Paging,
    grade: Annotated[str | None, Query(pattern="^[A-E]$")] = None,
) -> LimitReviewPage:
    """Recommended limits the daily cycle proposed, biggest change first."""
    rows, total = limits.pending_reviews(
        session, limit=paging.limit, offset=paging.offset, grade=grade
    )
    return LimitReviewPage(
        items=[LimitReviewOut.of(r, c) for r, c in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/credit/limit-reviews/{review_id}/approve",
    response_model=LimitReviewOut,
    summary="Approve a credit limit",
    tags=["credit"],
)
def approve_limit(
    review_id: Id, body: LimitDecision, session: SessionDep, actor: ApproveLimits
) -> LimitReviewOut:
    """Sets the customer's limit to the recommended figure, or to ``limit`` when given."""
    review = limits.decide(
        session,
        actor=actor,
        review_id=review_id,
        approve=True,
        limit=body.limit,
        note=body.note,
        on=today(),
    )
    return _review_out(session, review)


@router.post(
    "/credit/limit-reviews/{review_id}/reject",
    response_model=LimitReviewOut,
    summary="Reject a credit limit proposal",
    tags=["credit"],
)
def reject_limit(
    review_id: Id, body: LimitDecision, session: SessionDep, actor: ApproveLimits
) -> LimitReviewOut:
    """Keeps the current limit; the next cycle proposes again only if the figures move."""
    review = limits.decide(
        session, actor=actor, review_id=review_id, approve=False, note=body.note, on=today()
    )
    return _review_out(session, review)


def _review_out(session: Session, review: CreditLimitReview) -> LimitReviewOut:
    customer = session.get(Customer, review.customer_id)
    assert customer is not None  # the foreign key
    return LimitReviewOut.of(review, customer)


@router.get(
    "/credit/cash-forecast",
    response_model=CashForecastOut,
    summary="Expected receipts per week for 13 weeks",
    tags=["credit"],
)
def cash_forecast(
    session: SessionDep,
    actor: ViewForecast,
    as_of: Annotated[
        date | None, Query(description="The newest forecast made on or before.")
    ] = None,
    currency: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=3,
            description="The forecast of this currency (default: the base currency). "
            "Amounts in different currencies are never added up.",
        ),
    ] = None,
) -> CashForecastOut:
    """From the predicted payment day of every open installment; the band shifts those days by
    the model's 10th and 90th percentile errors. Past weeks carry what was received."""
    day = as_of or today()
    shown = (currency or get_settings().base_currency).upper()
    made, weeks = predictions.forecast(session, as_of=day, currency=shown)
    _made, currencies = predictions.forecast_currencies(session, as_of=day)
    return CashForecastOut(
        made_on=made,
        currency=shown,
        currencies=currencies,
        weeks=[
            ForecastWeekOut(
                week_start=w.week_start,
                expected=f"{w.expected:.2f}",
                low=f"{w.low:.2f}",
                high=f"{w.high:.2f}",
                received=None if w.actual is None else f"{w.actual:.2f}",
            )
            for w in weeks
        ],
    )
