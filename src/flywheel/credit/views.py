"""Credit pages: the 360's credit panel (grade, score, reasons, trend) and the credit limit
review queue where finance approves, edits or rejects the recommended limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.credit import labels, limits, predictions, service
from flywheel.errors import FlywheelError
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.customers import Customer
from flywheel.web import panels
from flywheel.web.auth import require
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, paged
from flywheel.web.pages import flash, redirect, render

router = APIRouter()

SPARK_WIDTH, SPARK_HEIGHT = 240, 48
SHOWN_REASONS = 6
SHOWN_PREDICTIONS = 5


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
    expected = sorted(
        predictions.predictions_of(session, customer.id).values(), key=lambda p: p.predicted_on
    )[:SHOWN_PREDICTIONS]
    return {
        "view": view,
        "predictions": expected,
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


# ---------------------------------------------------------------- the credit limit review queue

ApproveLimits = Annotated[Actor, Depends(require(Permission.APPROVE_CREDIT_LIMITS))]
REVIEWS_PER_PAGE = 50


@router.get("/credit/reviews", response_class=HTMLResponse, include_in_schema=False)
def review_queue(
    request: Request,
    session: SessionDep,
    actor: ApproveLimits,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    grade: Annotated[str, Query(pattern="^[A-E]?$")] = "",
) -> Response:
    """Recommended limits waiting for finance, biggest change first."""
    rows, total = limits.pending_reviews(
        session,
        limit=REVIEWS_PER_PAGE,
        offset=(page - 1) * REVIEWS_PER_PAGE,
        grade=grade or None,
    )
    return render(
        request,
        "credit/reviews.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // REVIEWS_PER_PAGE)),
            "grade": grade,
            "grades": "ABCDE",
            "meanings": labels.GRADE_MEANINGS,
        },
        actor=actor,
    )


@router.get("/credit/reviews/export.{format}", include_in_schema=False)
def review_export(
    session: SessionDep,
    actor: ApproveLimits,
    format: ExportFormat,
    grade: Annotated[str, Query(pattern="^[A-E]?$")] = "",
) -> Response:
    """The waiting proposals, every page, biggest change first."""
    rows = paged(
        lambda size, offset: limits.pending_reviews(
            session, limit=size, offset=offset, grade=grade or None
        )[0]
    )
    return download(
        (
            N_("Customer code"),
            N_("Customer"),
            N_("Grade"),
            N_("Proposed on"),
            N_("Currency"),
            N_("Invoiced per month"),
            N_("Terms (days)"),
            N_("Current limit"),
            N_("Recommended"),
        ),
        (
            [
                customer.code,
                customer.name,
                review.grade,
                review.proposed_on,
                review.currency,
                review.monthly_invoiced,
                review.terms_days,
                review.current_limit,
                review.recommended_limit,
            ]
            for review, customer in rows
        ),
        stem="credit-limit-reviews",
        format=format,
        title=N_("Credit limit reviews"),
    )


@router.post("/credit/reviews/{review_id}", include_in_schema=False)
def decide_review(
    request: Request,
    session: SessionDep,
    actor: ApproveLimits,
    review_id: int,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    limit: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Approve (the recommended figure, or the one typed in) or reject one review."""
    figure: Decimal | None = None
    if decision == "approve" and limit.strip():
        try:
            figure = Decimal(limit.strip().replace(",", ""))
        except InvalidOperation:
            flash(request, _("The limit must be a number."), level="error")
            return redirect("/credit/reviews")
    try:
        review = limits.decide(
            session,
            actor=actor,
            review_id=review_id,
            approve=decision == "approve",
            limit=figure,
            note=note.strip() or None,
            on=today(),
        )
    except FlywheelError as exc:
        flash(request, exc.message, level="error")
        return redirect("/credit/reviews")
    customer = session.get(Customer, review.customer_id)
    code = customer.code if customer else str(review.customer_id)
    if review.approved_limit is not None:
        flash(
            request,
            _(
                "Credit limit of %(code)s set to %(limit)s.",
                code=code,
                limit=i18n.money(review.approved_limit, review.currency),
            ),
        )
    else:
        flash(request, _("Proposal for %(code)s rejected; its limit stays.", code=code))
    return redirect("/credit/reviews")


# ---------------------------------------------------------------- the cash forecast

ViewForecast = Annotated[Actor, Depends(require(Permission.VIEW_CASH_FORECAST))]


def _forecast_currency(session: Session, day: date, currency: str | None) -> tuple[str, list[str]]:
    """The currency shown (the one asked for; else the base currency, or the first one
    forecast when the base has none) and the currencies forecast on ``day``."""
    _made, currencies = predictions.forecast_currencies(session, as_of=day)
    shown = (currency or get_settings().base_currency).upper()
    if shown not in currencies and currencies and currency is None:
        shown = currencies[0]
    return shown, currencies


@router.get("/credit/forecast", response_class=HTMLResponse, include_in_schema=False)
def cash_forecast(
    request: Request,
    session: SessionDep,
    actor: ViewForecast,
    as_of: Annotated[date | None, Query()] = None,
    currency: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    """Expected receipts per week for 13 weeks, with the band, and what came in; one currency
    at a time (the base currency first)."""
    day = as_of or today()
    shown, currencies = _forecast_currency(session, day, currency)
    made, weeks = predictions.forecast(session, as_of=day, currency=shown)
    peak = max((float(w.high) for w in weeks), default=0.0) or 1.0
    return render(
        request,
        "credit/forecast.html",
        {
            "made": made,
            "weeks": weeks,
            "as_of": day,
            "peak": peak,
            "total": sum((w.expected for w in weeks), Decimal("0.00")),
            "currency": shown,
            "currencies": currencies,
        },
        actor=actor,
    )


@router.get("/credit/forecast/export.{format}", include_in_schema=False)
def forecast_export(
    session: SessionDep,
    actor: ViewForecast,
    format: ExportFormat,
    as_of: Annotated[date | None, Query()] = None,
    currency: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    """The forecast's weeks in the currency the page shows, with the band and what came in."""
    day = as_of or today()
    shown, _currencies = _forecast_currency(session, day, currency)
    made, weeks = predictions.forecast(session, as_of=day, currency=shown)
    return download(
        (
            N_("Week from"),
            N_("Currency"),
            N_("Expected"),
            N_("Low"),
            N_("High"),
            N_("Received"),
            N_("Forecast made on"),
        ),
        ([w.week_start, shown, w.expected, w.low, w.high, w.actual, made] for w in weeks),
        stem="cash-forecast",
        format=format,
        title=N_("Cash forecast"),
        day=day,
    )
