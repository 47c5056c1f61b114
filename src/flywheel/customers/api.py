"""JSON routes for accounts: the scoped, filtered list and the customer 360."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query

from flywheel.customers import service
from flywheel.customers.repository import CustomerFilter, CustomerSort
from flywheel.customers.schemas import Customer360Out, CustomerListItem, CustomerPage
from flywheel.models.enums import CustomerStatus, Tier
from flywheel.web.auth import CurrentActor
from flywheel.web.deps import SessionDep

MAX_PAGE_SIZE = 200

router = APIRouter(prefix="/customers", tags=["customers"])


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


@router.get("", response_model=CustomerPage, summary="List accounts")
def list_customers(
    session: SessionDep,
    actor: CurrentActor,
    search: Annotated[
        str | None, Query(max_length=200, description="Part of the code, name or a contact name.")
    ] = None,
    tier: Tier | None = None,
    owner: Annotated[str | None, Query(description="The owner's username.")] = None,
    region: str | None = None,
    status: CustomerStatus | None = None,
    sort: CustomerSort = CustomerSort.CODE,
    order: SortOrder = SortOrder.ASC,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> CustomerPage:
    """The accounts the caller may see (a sales rep: his own), filtered, sorted and paged."""
    flt = CustomerFilter(
        search=search,
        tier=tier.value if tier else None,
        owner=owner,
        region=region,
        status=status.value if status else None,
    )
    rows, total = service.list_customers(
        session,
        flt,
        actor=actor,
        limit=page_size,
        offset=(page - 1) * page_size,
        sort=sort,
        descending=order is SortOrder.DESC,
    )
    return CustomerPage(
        items=[CustomerListItem.of(customer, owner_name) for customer, owner_name in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get(
    "/{code}",
    response_model=Customer360Out,
    summary="The customer 360",
    responses={404: {"description": "No such account, or not one the caller may see."}},
)
def customer_360(
    code: str,
    session: SessionDep,
    actor: CurrentActor,
    as_of: Annotated[
        date | None, Query(description="Business date for days overdue (default: today, UTC).")
    ] = None,
) -> Customer360Out:
    """Profile, contacts, open items with days overdue, balances, recent payments and
    touchpoints of one account."""
    day = as_of or datetime.now(UTC).date()
    return Customer360Out.of(service.customer_360(session, code, actor=actor, as_of=day))
