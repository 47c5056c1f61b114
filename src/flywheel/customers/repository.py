"""Queries of accounts, contacts and touchpoints, and the data behind the customer 360."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, UnaryExpression, bindparam, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.elements import True_

from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.receivables import Installment, Invoice, Payment, still_open
from flywheel.models.users import User

_Stmt = TypeVar("_Stmt", bound=Select[Any])


def sees_everything(scope: ColumnElement[bool]) -> bool:
    """Whether ``scope`` (from ``auth.scope.visible_customers``) lets every account through, so
    a look-up may skip the restriction (and stay an identity-map hit for system work)."""
    return isinstance(scope, True_)


def in_scope(
    stmt: _Stmt, customer_id: InstrumentedAttribute[int], scope: ColumnElement[bool]
) -> _Stmt:
    """``stmt`` kept to rows whose ``customer_id`` column names an account in ``scope``.

    A sub-select rather than a join, so a ``FOR UPDATE`` still locks only the rows asked for.
    """
    if sees_everything(scope):
        return stmt
    return stmt.where(customer_id.in_(select(Customer.id).where(scope)))


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    search: str | None = None
    tier: str | None = None
    owner: str | None = None
    region: str | None = None
    status: str | None = None


class CustomerSort(StrEnum):
    CODE = "code"
    NAME = "name"
    CREATED_ON = "created_on"


_SORT_COLUMNS = {
    CustomerSort.CODE: Customer.code,
    CustomerSort.NAME: Customer.name,
    CustomerSort.CREATED_ON: Customer.created_on,
}


def get(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def get_visible(
    session: Session, customer_id: int, *, scope: ColumnElement[bool]
) -> Customer | None:
    """The account with ``customer_id`` if it is in ``scope``."""
    if sees_everything(scope):
        return session.get(Customer, customer_id)
    return session.scalars(select(Customer).where(Customer.id == customer_id, scope)).one_or_none()


# The look-ups every 360 makes, built once with bound parameters: building a statement costs
# more than running one of these.
_BY_CODE = select(Customer).where(Customer.code == bindparam("code"))
_CONTACTS_OF = (
    select(Contact).where(Contact.customer_id == bindparam("customer_id")).order_by(Contact.id)
)
_RECENT_TOUCHPOINTS = (
    select(Touchpoint)
    .where(Touchpoint.customer_id == bindparam("customer_id"))
    .order_by(Touchpoint.occurred_at.desc())
    .limit(bindparam("limit"))
)
_RECENT_PAYMENTS = (
    select(Payment)
    .where(Payment.customer_id == bindparam("customer_id"))
    .order_by(Payment.received_on.desc(), Payment.id.desc())
    .limit(bindparam("limit"))
)


def get_by_code(
    session: Session, code: str, *, scope: ColumnElement[bool] | None = None
) -> Customer | None:
    """The account with ``code``; ``scope`` (from ``auth.scope``) hides the ones an actor may
    not see. Without it the look-up is unrestricted, for system work such as imports."""
    if scope is None or sees_everything(scope):
        return session.scalars(_BY_CODE, {"code": code}).one_or_none()
    return session.scalars(_BY_CODE.where(scope), {"code": code}).one_or_none()


def _filtered(stmt: Select[Any], flt: CustomerFilter) -> Select[Any]:
    search = flt.search.strip() if flt.search else ""
    if search:
        # autoescape: a "%" or "_" typed by the user is a character, not a wildcard.
        contact_match = select(Contact.customer_id).where(
            Contact.name.icontains(search, autoescape=True)
        )
        stmt = stmt.where(
            or_(
                Customer.code.icontains(search, autoescape=True),
                Customer.name.icontains(search, autoescape=True),
                Customer.id.in_(contact_match),
            )
        )
    if flt.tier:
        stmt = stmt.where(Customer.tier == flt.tier)
    if flt.region:
        stmt = stmt.where(Customer.region == flt.region)
    if flt.status:
        stmt = stmt.where(Customer.status == flt.status)
    if flt.owner:
        # "=" on a scalar sub-select rather than IN (usernames are unique): SQLite then takes
        # the (owner_id, tier, code) index instead of walking a whole tier in code order.
        owner_id = select(User.id).where(User.username == flt.owner).scalar_subquery()
        stmt = stmt.where(Customer.owner_id == owner_id)
    return stmt


# Counting tens of thousands of index entries is most of a list page's database time, and the
# manager's common views (a tier, a region) are asked for again and again. A total that large
# is kept for a short while: it may lag a few accounts behind for those seconds; small totals
# (any sales rep's book, any search) are always counted afresh.
LARGE_COUNT = 10_000
LARGE_COUNT_SECONDS = 30.0
_large_counts: dict[tuple[object, ...], tuple[float, int]] = {}


def _counted(session: Session, counting: Select[Any], *, key: tuple[object, ...] | None) -> int:
    if key is None:
        return session.scalar(counting) or 0
    # The engine is part of the key: one process may serve (or test) several databases.
    key = (id(session.get_bind()), *key)
    now = time.monotonic()
    kept = _large_counts.get(key)
    if kept is not None and now - kept[0] < LARGE_COUNT_SECONDS:
        return kept[1]
    total = session.scalar(counting) or 0
    if total >= LARGE_COUNT:
        _large_counts[key] = (now, total)
    else:
        _large_counts.pop(key, None)
    return total


@dataclass(frozen=True, slots=True)
class ListedCustomer:
    """An account as the list page and its exports show it: plain values, no ORM object."""

    id: int
    code: str
    name: str
    tier: str
    industry: str | None
    region: str | None
    status: str
    currency: str
    payment_terms: str
    created_on: date | None
    owner: str | None  # username


_LISTED_COLUMNS = (
    Customer.id,
    Customer.code,
    Customer.name,
    Customer.tier,
    Customer.industry,
    Customer.region,
    Customer.status,
    Customer.currency,
    Customer.payment_terms,
    Customer.created_on,
)


def _page(
    session: Session,
    entities: Sequence[Any],
    flt: CustomerFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int,
    sort: CustomerSort,
    descending: bool,
) -> tuple[Sequence[Any], int]:
    """One page of the accounts in ``scope`` matching ``flt`` as rows of ``entities`` followed
    by the owner's username, and the number matching in all. Two statements, however long the
    page.

    Both are served by the indexes on (tier, code) and (owner_id, tier, code): the count reads
    only index entries, and a page in code order walks the index instead of sorting the tier.
    """
    # COUNT(*) straight on the table (not over a sub-select of every column), so the count
    # can be answered from an index alone.
    counting = _filtered(select(func.count()).select_from(Customer).where(scope), flt)
    total = _counted(session, counting, key=(flt,) if sees_everything(scope) else None)
    column = _SORT_COLUMNS[sort]
    # The code is unique, so it makes the order total and the pages stable.
    order: list[UnaryExpression[Any]] = [column.desc() if descending else column.asc()]
    if sort is not CustomerSort.CODE:
        order.append(Customer.code.desc() if descending else Customer.code.asc())
    # A deferred join: the page's ids are found in the index alone (OFFSET skips index
    # entries, not whole rows joined to their owner), then only those 50 rows are read.
    page_ids = (
        _filtered(select(Customer.id).where(scope), flt)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    page = (
        select(*entities, User.username)
        .outerjoin(User, Customer.owner_id == User.id)
        .where(Customer.id.in_(page_ids))
        .order_by(*order)
    )
    return session.execute(page).all(), total


def list_customers(
    session: Session,
    flt: CustomerFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
    sort: CustomerSort = CustomerSort.CODE,
    descending: bool = False,
) -> tuple[list[tuple[Customer, str | None]], int]:
    """One page of the accounts (``_page``), each with its owner's username."""
    rows, total = _page(
        session,
        (Customer,),
        flt,
        scope=scope,
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
    )
    return [(customer, username) for customer, username in rows], total


def list_listed(
    session: Session,
    flt: CustomerFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
    sort: CustomerSort = CustomerSort.CODE,
    descending: bool = False,
) -> tuple[list[ListedCustomer], int]:
    """The same page as ``list_customers``, as plain values: the list page reads ten columns
    of 50 accounts, and loading them as ORM objects cost more than both statements."""
    rows, total = _page(
        session,
        _LISTED_COLUMNS,
        flt,
        scope=scope,
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
    )
    return [ListedCustomer(*row) for row in rows], total


def contacts_of(session: Session, customer_id: int) -> Sequence[Contact]:
    return session.scalars(_CONTACTS_OF, {"customer_id": customer_id}).all()


def find_contact(
    session: Session, customer_id: int, *, email: str | None, name: str
) -> Contact | None:
    stmt = select(Contact).where(Contact.customer_id == customer_id)
    stmt = stmt.where(Contact.email == email) if email else stmt.where(Contact.name == name)
    return session.scalars(stmt.order_by(Contact.id).limit(1)).first()


def recent_touchpoints(session: Session, customer_id: int, limit: int) -> Sequence[Touchpoint]:
    return session.scalars(_RECENT_TOUCHPOINTS, {"customer_id": customer_id, "limit": limit}).all()


# Built once: an aliased class adapts each column on first use, which costs more than the
# query it serves when done on every 360.
_SIBLINGS = aliased(Installment)
_INSTALLMENT_COUNT = (
    select(func.count(_SIBLINGS.id))
    .where(_SIBLINGS.invoice_id == Invoice.id)
    .correlate(Invoice)
    .scalar_subquery()
)
_OPEN_INSTALLMENTS = (
    select(Installment, Invoice, _INSTALLMENT_COUNT)
    .join(Invoice, Installment.invoice_id == Invoice.id)
    .where(Installment.customer_id == bindparam("customer_id"), still_open())
    .order_by(Installment.due_date, Invoice.number, Installment.sequence)
)


def open_installments(
    session: Session, customer_id: int
) -> Sequence[tuple[Installment, Invoice, int]]:
    """Open installments with their invoice and its number of installments (counted in the
    same statement, so the 360 costs the same however many invoices are open)."""
    return session.execute(_OPEN_INSTALLMENTS, {"customer_id": customer_id}).tuples().all()


def recent_payments(session: Session, customer_id: int, limit: int) -> Sequence[Payment]:
    return session.scalars(_RECENT_PAYMENTS, {"customer_id": customer_id, "limit": limit}).all()


def user_by_id(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


# ---------------------------------------------------------------- contacts and touchpoints


def get_contact(session: Session, contact_id: int, *, scope: ColumnElement[bool]) -> Contact | None:
    """The contact with ``contact_id`` if its account is in ``scope``."""
    if sees_everything(scope):
        return session.get(Contact, contact_id)
    stmt = in_scope(select(Contact).where(Contact.id == contact_id), Contact.customer_id, scope)
    return session.scalars(stmt).one_or_none()


def page_of_contacts(
    session: Session, customer_id: int, *, limit: int, offset: int = 0
) -> tuple[Sequence[Contact], int]:
    """One page of an account's contacts in the order they were added, and how many it has."""
    total = session.scalar(
        select(func.count()).select_from(Contact).where(Contact.customer_id == customer_id)
    )
    rows = session.scalars(
        select(Contact)
        .where(Contact.customer_id == customer_id)
        .order_by(Contact.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total or 0


def get_touchpoint(
    session: Session, touchpoint_id: int, *, scope: ColumnElement[bool]
) -> Touchpoint | None:
    """The touchpoint with ``touchpoint_id`` if its account is in ``scope``."""
    if sees_everything(scope):
        return session.get(Touchpoint, touchpoint_id)
    stmt = in_scope(
        select(Touchpoint).where(Touchpoint.id == touchpoint_id), Touchpoint.customer_id, scope
    )
    return session.scalars(stmt).one_or_none()


def touchpoint_reference_taken(session: Session, reference: str) -> bool:
    return (
        session.scalar(select(Touchpoint.id).where(Touchpoint.reference == reference).limit(1))
        is not None
    )


@dataclass(frozen=True, slots=True)
class TouchpointFilter:
    customer: str | None = None  # the account's code
    kind: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def list_touchpoints(
    session: Session,
    flt: TouchpointFilter,
    *,
    scope: ColumnElement[bool],
    limit: int,
    offset: int = 0,
) -> tuple[list[tuple[Touchpoint, str, str | None, str | None]], int]:
    """One page of touchpoints in ``scope``, newest first, each with its account's code, the
    contact's name and the user's username; and how many match in all."""
    base = select(Touchpoint).join(Customer, Touchpoint.customer_id == Customer.id).where(scope)
    if flt.customer:
        base = base.where(Customer.code == flt.customer)
    if flt.kind:
        base = base.where(Touchpoint.kind == flt.kind)
    if flt.since is not None:
        base = base.where(Touchpoint.occurred_at >= flt.since)
    if flt.until is not None:
        base = base.where(Touchpoint.occurred_at < flt.until)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = (
        base.outerjoin(Contact, Touchpoint.contact_id == Contact.id)
        .outerjoin(User, Touchpoint.user_id == User.id)
        .add_columns(Customer.code, Contact.name, User.username)
        .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [(tp, code, contact, user) for tp, code, contact, user in session.execute(page)]
    return rows, total


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()
