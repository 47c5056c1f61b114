"""Credit shapes of the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from flywheel.credit.service import CreditView
from flywheel.models.credit import CreditLimitReview
from flywheel.models.customers import Customer


class CreditReasonOut(BaseModel):
    factor: str = Field(description="One of the scorecard's factors, e.g. days_beyond_terms.")
    value: float | None = Field(description="The factor's value; null when nothing to measure.")
    points: int = Field(description="Points the factor added to (or took from) the score.")


class CreditScorePoint(BaseModel):
    as_of: date
    score: int
    grade: str


class CreditOut(BaseModel):
    customer_code: str
    as_of: date
    score: int
    grade: str = Field(description="A (best) to E.")
    model: str = Field(description="expert or trained.")
    reasons: list[CreditReasonOut] = Field(description="Largest effect first.")
    history: list[CreditScorePoint] = Field(
        description="Scores of the last 400 days, oldest first."
    )

    @classmethod
    def of(cls, code: str, view: CreditView) -> CreditOut:
        return cls(
            customer_code=code,
            as_of=view.as_of,
            score=view.score,
            grade=view.grade,
            model=view.model,
            reasons=[
                CreditReasonOut(factor=r.factor, value=r.value, points=r.points)
                for r in view.reasons
            ],
            history=[CreditScorePoint(as_of=d, score=s, grade=g) for d, s, g in view.history],
        )


class LimitReviewOut(BaseModel):
    id: int
    customer_code: str
    customer_name: str
    proposed_on: date
    grade: str
    currency: str
    current_limit: str | None = Field(description="The approved limit now; null when none.")
    recommended_limit: str
    monthly_invoiced: str = Field(description="Average invoiced per month over the last year.")
    terms_days: int = Field(description="Average days from invoice to due date, by amount.")
    status: str = Field(description="pending, approved or rejected.")
    approved_limit: str | None

    @classmethod
    def of(cls, review: CreditLimitReview, customer: Customer) -> LimitReviewOut:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else f"{value:.2f}"

        return cls(
            id=review.id,
            customer_code=customer.code,
            customer_name=customer.name,
            proposed_on=review.proposed_on,
            grade=review.grade,
            currency=review.currency,
            current_limit=text(review.current_limit),
            recommended_limit=f"{review.recommended_limit:.2f}",
            monthly_invoiced=f"{review.monthly_invoiced:.2f}",
            terms_days=review.terms_days,
            status=review.status,
            approved_limit=text(review.approved_limit),
        )


class LimitReviewPage(BaseModel):
    items: list[LimitReviewOut]
    total: int = Field(description="How many reviews wait for a decision, on all pages.")
    page: int
    page_size: int


class LimitDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[
        Decimal | None,
        Field(
            ge=0,
            max_digits=18,
            decimal_places=2,
            description="Approve this figure instead of the recommended one.",
        ),
    ] = None
    note: Annotated[str | None, Field(max_length=500)] = None


class ForecastWeekOut(BaseModel):
    week_start: date
    expected: str
    low: str
    high: str
    received: str | None = Field(description="Payments received in the week, once it has passed.")


class CashForecastOut(BaseModel):
    made_on: date | None = Field(description="The daily cycle that made it; null before any.")
    currency: str = Field(description="The currency of every amount in the weeks.")
    currencies: list[str] = Field(description="Every currency the newest forecast covers.")
    weeks: list[ForecastWeekOut]
