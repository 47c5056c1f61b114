"""Credit shapes of the API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from flywheel.credit.service import CreditView


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
