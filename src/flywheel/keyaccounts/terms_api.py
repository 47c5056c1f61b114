"""Key-account JSON routes (terms): what payment terms cost for one customer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from flywheel.analytics.terms_cost import MAX_TERMS_DAYS, STANDARD_TERMS
from flywheel.errors import ValidationFailed
from flywheel.keyaccounts import terms
from flywheel.keyaccounts.terms_schemas import TermsQuoteOut
from flywheel.kit.shapes import EARLIEST, LATEST, PositiveAmount
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, today
from flywheel.web.deps import SessionDep

router = APIRouter(tags=["key accounts"], responses=ERROR_RESPONSES)


@router.get(
    "/accounts/{code}/terms-cost",
    response_model=TermsQuoteOut,
    summary="What payment terms cost for a customer",
)
def terms_cost(
    code: str,
    session: SessionDep,
    actor: CurrentActor,
    amount: Annotated[PositiveAmount, Query(description="The sale, in the account's currency.")],
    terms_days: Annotated[int, Query(ge=0, le=MAX_TERMS_DAYS, description="Proposed terms.")],
    price: Annotated[
        PositiveAmount | None, Query(description="A unit price to translate to other terms.")
    ] = None,
    compare: Annotated[
        list[int] | None,
        Query(
            max_length=terms.MAX_COMPARE,
            description="Terms (days) to compare with; default 0, 30, 45, 60, 90, 120.",
        ),
    ] = None,
    as_of: Annotated[date | None, Query(description="Known on this day (default: today).")] = None,
) -> TermsQuoteOut:
    """Financing days (terms + the customer's predicted delay) at the cost of capital, plus
    the expected loss of its live credit grade; the equivalent amount (and price) on each
    other terms, and whether the credit policy allows each for the grade."""
    if as_of is not None and not EARLIEST <= as_of <= LATEST:
        raise ValidationFailed(f"as_of: dates run from {EARLIEST} to {LATEST}", field="as_of")
    quote = terms.quote(
        session,
        actor,
        code=code,
        amount=amount,
        terms_days=terms_days,
        price=price,
        compare=STANDARD_TERMS if compare is None else compare,
        as_of=as_of or today(),
    )
    return TermsQuoteOut.of(quote)
