"""JSON routes for accounts, their contacts and touchpoints: scoped lists, the customer 360,
and the changes a role may make (a sales rep only to his own accounts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service
from flywheel.customers.repository import CustomerFilter, CustomerSort, TouchpointFilter
from flywheel.customers.schemas import (
    ContactChanges,
    ContactNew,
    ContactPage,
    ContactRead,
    Customer360Out,
    CustomerChanges,
    CustomerListItem,
    CustomerNew,
    CustomerPage,
    CustomerProfile,
    TouchpointNew,
    TouchpointPage,
    TouchpointRead,
    profile_of,
)
from flywheel.errors import ValidationFailed
from flywheel.kit.shapes import LATEST
from flywheel.models.customers import Touchpoint
from flywheel.models.enums import CustomerStatus, Tier, TouchpointKind
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, MAX_PAGE_SIZE, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(responses=ERROR_RESPONSES)

EditCustomers = Annotated[Actor, Depends(require(Permission.EDIT_CUSTOMERS))]
LogTouchpoints = Annotated[Actor, Depends(require(Permission.LOG_TOUCHPOINTS))]
Code = Annotated[str, Query(max_length=64, description="The account's code.")]


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


# ---------------------------------------------------------------- accounts


@router.get("/customers", response_model=CustomerPage, summary="List accounts", tags=["customers"])
def list_customers(
    session: SessionDep,
    actor: CurrentActor,
    search: Annotated[
        str | None, Query(max_length=200, description="Part of the code, name or a contact name.")
    ] = None,
    tier: Tier | None = None,
    owner: Annotated[str | None, Query(max_length=64, description="The owner's username.")] = None,
    region: Annotated[str | None, Query(max_length=80)] = None,
    status: CustomerStatus | None = None,
    sort: CustomerSort = CustomerSort.CODE,
    order: SortOrder = SortOrder.ASC,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
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


@router.post(
    "/customers",
    response_model=CustomerProfile,
    status_code=201,
    summary="Open an account",
    tags=["customers"],
)
def create_customer(
    body: CustomerNew, session: SessionDep, actor: EditCustomers
) -> CustomerProfile:
    """A new account; a sales rep's new account is his own."""
    customer = service.register_customer(session, actor=actor, data=body, today=today())
    return profile_of(service.customer_card(session, customer))


@router.get(
    "/customers/{code}",
    response_model=Customer360Out,
    summary="The customer 360",
    tags=["customers"],
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
    return Customer360Out.of(
        service.customer_360(session, code, actor=actor, as_of=as_of or today())
    )


@router.patch(
    "/customers/{code}",
    response_model=CustomerProfile,
    summary="Change an account",
    tags=["customers"],
)
def change_customer(
    code: str, body: CustomerChanges, session: SessionDep, actor: EditCustomers
) -> CustomerProfile:
    """Only the fields sent change; null clears an optional one (owner, parent …)."""
    customer, _ = service.edit_customer(session, actor=actor, code=code, data=body)
    return profile_of(service.customer_card(session, customer))


# ---------------------------------------------------------------- contacts


@router.get(
    "/customers/{code}/contacts",
    response_model=ContactPage,
    summary="An account's contacts",
    tags=["contacts"],
)
def list_contacts(
    code: str, session: SessionDep, actor: CurrentActor, paging: Paging
) -> ContactPage:
    contacts, total = service.list_contacts(
        session, code, actor=actor, limit=paging.limit, offset=paging.offset
    )
    return ContactPage(
        items=[ContactRead.of(contact, code) for contact in contacts],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/customers/{code}/contacts",
    response_model=ContactRead,
    status_code=201,
    summary="Add a contact",
    tags=["contacts"],
)
def add_contact(
    code: str, body: ContactNew, session: SessionDep, actor: EditCustomers
) -> ContactRead:
    contact = service.add_contact_to(session, actor=actor, code=code, data=body)
    return _contact_read(session, contact.id, actor)


@router.get(
    "/contacts/{contact_id}", response_model=ContactRead, summary="One contact", tags=["contacts"]
)
def get_contact(contact_id: Id, session: SessionDep, actor: CurrentActor) -> ContactRead:
    return _contact_read(session, contact_id, actor)


@router.patch(
    "/contacts/{contact_id}",
    response_model=ContactRead,
    summary="Change a contact",
    tags=["contacts"],
)
def change_contact(
    contact_id: Id, body: ContactChanges, session: SessionDep, actor: EditCustomers
) -> ContactRead:
    """Only the fields sent change; null clears an optional one."""
    service.edit_contact(session, actor=actor, contact_id=contact_id, data=body)
    return _contact_read(session, contact_id, actor)


def _contact_read(session: SessionDep, contact_id: int, actor: Actor) -> ContactRead:
    contact = service.get_contact_for(session, contact_id, actor=actor)
    customer = service.get_customer(session, contact.customer_id)
    return ContactRead.of(contact, customer.code)


# ---------------------------------------------------------------- touchpoints


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _touchpoint_filter(
    customer: str | None, kind: TouchpointKind | None, since: date | None, until: date | None
) -> TouchpointFilter:
    if since is not None and until is not None and until < since:
        raise ValidationFailed("until is before since", field="until")
    return TouchpointFilter(
        customer=customer,
        kind=kind.value if kind else None,
        since=_day_start(since) if since else None,
        until=_day_start(until + timedelta(days=1)) if until and until < LATEST else None,
    )


def _touchpoint_page(
    rows: list[tuple[Touchpoint, str, str | None, str | None]], total: int, paging: Paging
) -> TouchpointPage:
    return TouchpointPage(
        items=[TouchpointRead.of(*row) for row in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


Since = Annotated[date | None, Query(description="From this day (UTC), inclusive.")]
Until = Annotated[date | None, Query(description="To this day (UTC), inclusive.")]


@router.get(
    "/touchpoints",
    response_model=TouchpointPage,
    summary="Touchpoints, newest first",
    tags=["touchpoints"],
)
def list_touchpoints(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    customer: Code | None = None,
    kind: TouchpointKind | None = None,
    since: Since = None,
    until: Until = None,
) -> TouchpointPage:
    """The touchpoints of the accounts the caller may see."""
    flt = _touchpoint_filter(customer, kind, since, until)
    rows, total = service.list_touchpoints(
        session, flt, actor=actor, limit=paging.limit, offset=paging.offset
    )
    return _touchpoint_page(rows, total, paging)


@router.get(
    "/customers/{code}/touchpoints",
    response_model=TouchpointPage,
    summary="An account's touchpoints, newest first",
    tags=["touchpoints"],
)
def list_customer_touchpoints(
    code: str,
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    kind: TouchpointKind | None = None,
    since: Since = None,
    until: Until = None,
) -> TouchpointPage:
    service.get_customer_by_code(session, code, actor=actor)
    flt = _touchpoint_filter(code, kind, since, until)
    rows, total = service.list_touchpoints(
        session, flt, actor=actor, limit=paging.limit, offset=paging.offset
    )
    return _touchpoint_page(rows, total, paging)


@router.post(
    "/customers/{code}/touchpoints",
    response_model=TouchpointRead,
    status_code=201,
    summary="Log a touchpoint",
    tags=["touchpoints"],
)
def log_touchpoint(
    code: str, body: TouchpointNew, session: SessionDep, actor: LogTouchpoints
) -> TouchpointRead:
    """A call, visit, meeting … with the account; ``user`` defaults to the caller."""
    touchpoint = service.log_touchpoint_on(session, actor=actor, code=code, data=body)
    contact = (
        service.get_contact_for(session, touchpoint.contact_id, actor=actor)
        if touchpoint.contact_id
        else None
    )
    user = service.username_of(session, touchpoint.user_id)
    return TouchpointRead.of(touchpoint, code, contact.name if contact else None, user)
