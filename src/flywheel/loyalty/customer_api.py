"""JSON routes of one account's loyalty (scores, health factors and history) and the health
list. Reads only, for every role, inside the caller's scope: an account a sales rep does not
own is "not found", exactly like a missing one."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from flywheel.customers import service as customers
from flywheel.errors import NotFound
from flywheel.loyalty import health_queries
from flywheel.loyalty.health_queries import HealthFilter, HealthSort
from flywheel.loyalty.health_schemas import (
    CustomerLoyaltyOut,
    FactorOut,
    HealthItemOut,
    HealthPageOut,
    HistoryOut,
    ScoresOut,
)
from flywheel.models.enums import HealthBand, Tier
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/loyalty", tags=["loyalty"], responses=ERROR_RESPONSES)

AsOf = Annotated[
    date | None, Query(description="The newest scores on or before this day (default: today).")
]


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerLoyaltyOut,
    summary="An account's loyalty scores, health factors and history",
)
def customer_loyalty(
    customer_id: Id, session: SessionDep, actor: CurrentActor, as_of: AsOf = None
) -> CustomerLoyaltyOut:
    """The newest stored day's CLV, probability alive, segment, health with each factor's value
    and points, churn risk with its basis, and health of the stored days of the 90 before.
    404 ``not_found`` for an account outside the caller's scope, and until the loyalty cycle
    (flywheel run) has scored it."""
    customer = customers.get_customer_for(session, customer_id, actor=actor)
    score = health_queries.latest_score(session, customer.id, as_of=as_of or today())
    if score is None:
        raise NotFound(
            "this account has no loyalty scores yet (the daily cycle, flywheel run, scores it)",
            customer_id=customer_id,
        )
    return CustomerLoyaltyOut(
        customer_id=customer.id,
        code=customer.code,
        name=customer.name,
        scores=ScoresOut.of(score),
        factors=[FactorOut.of(entry) for entry in score.health_factors],
        history=[
            HistoryOut.of(p)
            for p in health_queries.history(session, customer.id, until=score.as_of)
        ],
    )


@router.get(
    "/health",
    response_model=HealthPageOut,
    summary="Accounts' health, by value at risk or by health",
)
def health_list(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    as_of: AsOf = None,
    band: Annotated[HealthBand | None, Query(description="green, yellow or red.")] = None,
    owner: Annotated[
        str | None, Query(max_length=64, description="The account owner's username.")
    ] = None,
    tier: Annotated[Tier | None, Query(description="The account's tier.")] = None,
    currency: Annotated[
        str | None,
        Query(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$", description="Scores in it."),
    ] = None,
    sort: Annotated[
        HealthSort,
        Query(description="value_at_risk (CLV × churn risk, highest first) or health (lowest)."),
    ] = HealthSort.VALUE_AT_RISK,
) -> HealthPageOut:
    """The accounts of the newest stored day on or before ``as_of`` the caller may see."""
    page = health_queries.health_page(
        session,
        actor=actor,
        as_of=as_of or today(),
        flt=HealthFilter(
            band=band.value if band else None,
            owner=owner,
            tier=tier.value if tier else None,
            currency=currency,
        ),
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    return HealthPageOut(
        as_of=page.day,
        items=[HealthItemOut.of(row) for row in page.items],
        total=page.total,
        page=paging.page,
        page_size=paging.page_size,
    )
