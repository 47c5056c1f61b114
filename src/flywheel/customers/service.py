"""Business rules for accounts, contacts and touchpoints; every change is audited."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.auth.scope import OWNER_SCOPED_ROLES, visible_customers
from flywheel.config import get_settings
from flywheel.customers import repository
from flywheel.customers.repository import (
    CustomerFilter,
    CustomerSort,
    ListedCustomer,
    TouchpointFilter,
)
from flywheel.customers.schemas import (
    ContactChanges,
    ContactIn,
    ContactNew,
    CustomerChanges,
    CustomerIn,
    CustomerNew,
    TouchpointIn,
    TouchpointNew,
)
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.kit.terms import parse_terms
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.receivables import ZERO, Installment, Invoice, Payment
from flywheel.models.users import User

CUSTOMER_FIELDS = (
    "code",
    "name",
    "tier",
    "industry",
    "region",
    "owner_id",
    "parent_id",
    "currency",
    "payment_terms",
    "status",
    "referred_by_id",
    "created_on",
)
CONTACT_FIELDS = ("customer_id", "name", "title", "buying_role", "email", "phone", "language")
TOUCHPOINT_FIELDS = (
    "reference",
    "customer_id",
    "contact_id",
    "user_id",
    "kind",
    "occurred_at",
    "summary",
    "satisfaction",
)


def get_customer(session: Session, customer_id: int) -> Customer:
    """The account with ``customer_id``, unrestricted: for system work that has no actor.
    Anything acting for a user goes through ``get_customer_for``."""
    customer = repository.get(session, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found", customer_id=customer_id)
    return customer


def get_customer_for(session: Session, customer_id: int, *, actor: Actor) -> Customer:
    """The account with ``customer_id`` if ``actor`` may see it; otherwise "not found", exactly
    like a missing one. Every change an actor makes to an account, or to anything of it, loads
    the account through here (or ``get_customer_by_code``)."""
    customer = repository.get_visible(session, customer_id, scope=visible_customers(actor))
    if customer is None:
        raise NotFound(f"customer {customer_id} not found", customer_id=customer_id)
    return customer


def get_customer_by_code(session: Session, code: str, *, actor: Actor) -> Customer:
    """The account with ``code`` if ``actor`` may see it. One outside his scope is "not found"
    exactly like a missing one, so its existence is not revealed."""
    customer = repository.get_by_code(session, code, scope=visible_customers(actor))
    if customer is None:
        raise NotFound(f"customer {code} not found", code=code)
    return customer


def list_customers(
    session: Session,
    flt: CustomerFilter,
    *,
    actor: Actor,
    limit: int = 50,
    offset: int = 0,
    sort: CustomerSort = CustomerSort.CODE,
    descending: bool = False,
) -> tuple[list[tuple[Customer, str | None]], int]:
    """A page of the accounts ``actor`` may see, each with its owner's username, and the total."""
    return repository.list_customers(
        session,
        flt,
        scope=visible_customers(actor),
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
    )


def list_listed(
    session: Session,
    flt: CustomerFilter,
    *,
    actor: Actor,
    limit: int = 50,
    offset: int = 0,
    sort: CustomerSort = CustomerSort.CODE,
    descending: bool = False,
) -> tuple[list[ListedCustomer], int]:
    """``list_customers`` as the list page shows it: plain values with the owner's username."""
    return repository.list_listed(
        session,
        flt,
        scope=visible_customers(actor),
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
    )


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """An account with the names the answers show instead of ids."""

    customer: Customer
    owner: str | None  # username
    parent: str | None  # code
    referred_by: str | None  # code


def customer_card(session: Session, customer: Customer) -> CustomerCard:
    owner = repository.user_by_id(session, customer.owner_id)
    parent = repository.get(session, customer.parent_id) if customer.parent_id else None
    referrer = repository.get(session, customer.referred_by_id) if customer.referred_by_id else None
    return CustomerCard(
        customer=customer,
        owner=owner.username if owner else None,
        parent=parent.code if parent else None,
        referred_by=referrer.code if referrer else None,
    )


def username_of(session: Session, user_id: int | None) -> str | None:
    user = repository.user_by_id(session, user_id)
    return user.username if user else None


def _works_own_book(actor: Actor) -> bool:
    return actor.role in OWNER_SCOPED_ROLES


def _customer_values(
    session: Session, data: CustomerIn, *, actor: Actor, current: Customer | None
) -> dict[str, object]:
    """The row values of ``data``, checked: terms, and references the actor may see. A
    reference that does not change is not checked again (an account keeps a parent that
    the rep editing it cannot see)."""
    try:
        terms = parse_terms(data.payment_terms).code
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="payment_terms") from exc
    for field, ref in (("parent_id", data.parent_id), ("referred_by_id", data.referred_by_id)):
        if ref is None or (current is not None and getattr(current, field) == ref):
            continue
        if current is not None and ref == current.id:
            raise ValidationFailed(f"an account cannot be its own {field[:-3]}", field=field)
        if repository.get_visible(session, ref, scope=visible_customers(actor)) is None:
            raise NotFound(f"{field[:-3]} account {ref} not found", field=field)
    owner_changes = current is None or current.owner_id != data.owner_id
    if (
        data.owner_id is not None
        and owner_changes
        and repository.user_by_id(session, data.owner_id) is None
    ):
        raise NotFound(f"owner {data.owner_id} not found", field="owner_id")
    if _works_own_book(actor) and owner_changes and data.owner_id != actor.user_id:
        # Handing an account to someone else is a manager's decision, and the rep would
        # lose sight of it the moment he made it.
        raise ValidationFailed(
            "a sales rep's accounts are his own; a manager assigns them to others",
            field="owner_id",
        )
    values = data.model_dump()
    values["payment_terms"] = terms
    return {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}


def create_customer(session: Session, *, actor: Actor, data: CustomerIn) -> Customer:
    """A new account. A sales rep's new account is his own: an empty owner becomes him."""
    if _works_own_book(actor) and data.owner_id is None:
        data = data.model_copy(update={"owner_id": actor.user_id})
    if repository.get_by_code(session, data.code) is not None:
        raise Conflict(f"customer {data.code} already exists", code=data.code)
    customer = Customer(**_customer_values(session, data, actor=actor, current=None))
    session.add(customer)
    session.flush()
    audit.record(
        session,
        actor,
        "customer.created",
        subject_type="customer",
        subject_id=customer.id,
        customer_id=customer.id,
        after=audit.snapshot(customer, CUSTOMER_FIELDS),
    )
    return customer


def update_customer(
    session: Session, *, actor: Actor, customer_id: int, data: CustomerIn
) -> tuple[Customer, bool]:
    customer = get_customer_for(session, customer_id, actor=actor)
    values = _customer_values(session, data, actor=actor, current=customer)
    if data.code != customer.code and repository.get_by_code(session, data.code) is not None:
        raise Conflict(f"customer {data.code} already exists", code=data.code)
    changed = audit.apply_update(
        session,
        actor,
        customer,
        values,
        action="customer.updated",
        subject_type="customer",
        customer_id=customer.id,
        fields=CUSTOMER_FIELDS,
    )
    return customer, changed


def _user_id(session: Session, username: str | None, *, field: str) -> int | None:
    if username is None:
        return None
    user = repository.user_by_username(session, username)
    if user is None:
        raise NotFound(f"user {username} not found", field=field, username=username)
    return user.id


def _visible_id(session: Session, code: str | None, *, actor: Actor, field: str) -> int | None:
    if code is None:
        return None
    customer = repository.get_by_code(session, code, scope=visible_customers(actor))
    if customer is None:
        raise NotFound(f"customer {code} not found", field=field, code=code)
    return customer.id


def register_customer(
    session: Session, *, actor: Actor, data: CustomerNew, today: date
) -> Customer:
    """A new account from the API or a page (people by username, accounts by code).

    Currency and terms default to the settings, the creation date to ``today``. A sales rep's
    new account is his own; naming another owner is refused.
    """
    settings = get_settings()
    parent_id = _visible_id(session, data.parent, actor=actor, field="parent")
    referrer_id = _visible_id(session, data.referred_by, actor=actor, field="referred_by")
    return create_customer(
        session,
        actor=actor,
        data=CustomerIn(
            code=data.code,
            name=data.name,
            tier=data.tier,
            industry=data.industry,
            region=data.region,
            owner_id=_user_id(session, data.owner, field="owner"),
            parent_id=parent_id,
            currency=data.currency or settings.base_currency,
            payment_terms=data.payment_terms or settings.default_payment_terms,
            status=data.status,
            referred_by_id=referrer_id,
            created_on=data.created_on or today,
        ),
    )


def edit_customer(
    session: Session, *, actor: Actor, code: str, data: CustomerChanges
) -> tuple[Customer, bool]:
    """Change the fields sent in ``data`` of the account ``code`` (in the actor's scope);
    returns (account, changed). ``owner``, ``parent`` and ``referred_by`` name a username or
    a code, or null to clear them."""
    customer = get_customer_by_code(session, code, actor=actor)
    wanted = data.changes()
    values: dict[str, Any] = {
        name: getattr(customer, name)
        for name in CustomerIn.model_fields
        if name not in ("owner_id", "parent_id", "referred_by_id")
    }
    values.update(
        owner_id=customer.owner_id,
        parent_id=customer.parent_id,
        referred_by_id=customer.referred_by_id,
    )
    for name, value in wanted.items():
        if name == "owner":
            values["owner_id"] = _user_id(session, value, field="owner")
        elif name in ("parent", "referred_by"):
            unchanged = _code_of(session, values[f"{name}_id"]) == value
            if not unchanged:
                values[f"{name}_id"] = _visible_id(session, value, actor=actor, field=name)
        else:
            values[name] = value
    return update_customer(session, actor=actor, customer_id=customer.id, data=CustomerIn(**values))


def _code_of(session: Session, customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    customer = repository.get(session, customer_id)
    return customer.code if customer else None


# ---------------------------------------------------------------- contacts


def get_contact_for(session: Session, contact_id: int, *, actor: Actor) -> Contact:
    """The contact with ``contact_id`` if ``actor`` may see its account; else "not found"."""
    contact = repository.get_contact(session, contact_id, scope=visible_customers(actor))
    if contact is None:
        raise NotFound(f"contact {contact_id} not found", contact_id=contact_id)
    return contact


def list_contacts(
    session: Session, code: str, *, actor: Actor, limit: int = 50, offset: int = 0
) -> tuple[Sequence[Contact], int]:
    """A page of the contacts of the account ``code`` (in the actor's scope) and their number."""
    customer = get_customer_by_code(session, code, actor=actor)
    return repository.page_of_contacts(session, customer.id, limit=limit, offset=offset)


def add_contact(session: Session, *, actor: Actor, data: ContactIn) -> Contact:
    get_customer_for(session, data.customer_id, actor=actor)
    contact = Contact(
        **{k: (v.value if hasattr(v, "value") else v) for k, v in data.model_dump().items()}
    )
    session.add(contact)
    session.flush()
    audit.record(
        session,
        actor,
        "contact.created",
        subject_type="contact",
        subject_id=contact.id,
        customer_id=contact.customer_id,
        after=audit.snapshot(contact, CONTACT_FIELDS),
    )
    return contact


def add_contact_to(session: Session, *, actor: Actor, code: str, data: ContactNew) -> Contact:
    """A new contact of the account ``code`` (in the actor's scope)."""
    customer = get_customer_by_code(session, code, actor=actor)
    return add_contact(
        session,
        actor=actor,
        data=ContactIn(customer_id=customer.id, **data.model_dump()),
    )


def update_contact(
    session: Session, *, actor: Actor, contact_id: int, data: ContactIn
) -> tuple[Contact, bool]:
    contact = get_contact_for(session, contact_id, actor=actor)
    if data.customer_id != contact.customer_id:
        get_customer_for(session, data.customer_id, actor=actor)
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in data.model_dump().items()}
    changed = audit.apply_update(
        session,
        actor,
        contact,
        values,
        action="contact.updated",
        subject_type="contact",
        customer_id=contact.customer_id,
        fields=CONTACT_FIELDS,
    )
    return contact, changed


def edit_contact(
    session: Session, *, actor: Actor, contact_id: int, data: ContactChanges
) -> tuple[Contact, bool]:
    """Change the fields sent in ``data`` of a contact (in the actor's scope)."""
    contact = get_contact_for(session, contact_id, actor=actor)
    values: dict[str, Any] = {name: getattr(contact, name) for name in ContactIn.model_fields}
    values.update(data.changes())
    return update_contact(session, actor=actor, contact_id=contact.id, data=ContactIn(**values))


# ---------------------------------------------------------------- touchpoints


def touchpoint_reference(data: TouchpointIn) -> str:
    """A stable key for a touchpoint that came without one, so re-imports find it again."""
    basis = "|".join(
        str(x)
        for x in (
            data.customer_id,
            data.kind.value,
            data.occurred_at.isoformat(),
            data.contact_id,
            data.summary,
        )
    )
    return "TP-" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:20]


def log_touchpoint(session: Session, *, actor: Actor, data: TouchpointIn) -> Touchpoint:
    get_customer_for(session, data.customer_id, actor=actor)
    _check_contact(session, data)
    values = data.model_dump()
    values["kind"] = data.kind.value
    values["reference"] = data.reference or touchpoint_reference(data)
    if repository.touchpoint_reference_taken(session, values["reference"]):
        raise Conflict(f"touchpoint {values['reference']} already exists")
    touchpoint = Touchpoint(**values)
    session.add(touchpoint)
    session.flush()
    audit.record(
        session,
        actor,
        "touchpoint.logged",
        subject_type="touchpoint",
        subject_id=touchpoint.id,
        customer_id=touchpoint.customer_id,
        after=audit.snapshot(touchpoint, TOUCHPOINT_FIELDS),
    )
    return touchpoint


def log_touchpoint_on(
    session: Session, *, actor: Actor, code: str, data: TouchpointNew
) -> Touchpoint:
    """A touchpoint with the account ``code`` (in the actor's scope); ``user`` defaults to
    the actor himself."""
    customer = get_customer_by_code(session, code, actor=actor)
    user_id = _user_id(session, data.user, field="user") if data.user is not None else actor.user_id
    return log_touchpoint(
        session,
        actor=actor,
        data=TouchpointIn(
            reference=data.reference,
            customer_id=customer.id,
            contact_id=data.contact_id,
            user_id=user_id,
            kind=data.kind,
            occurred_at=data.occurred_at,
            summary=data.summary,
            satisfaction=data.satisfaction,
        ),
    )


def list_touchpoints(
    session: Session,
    flt: TouchpointFilter,
    *,
    actor: Actor,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Touchpoint, str, str | None, str | None]], int]:
    """A page of the touchpoints ``actor`` may see, newest first, each with its account's
    code, contact name and username; and the number matching."""
    return repository.list_touchpoints(
        session, flt, scope=visible_customers(actor), limit=limit, offset=offset
    )


def _check_contact(session: Session, data: TouchpointIn) -> None:
    if data.contact_id is None:
        return
    contact = session.get(Contact, data.contact_id)
    if contact is None or contact.customer_id != data.customer_id:
        raise ValidationFailed(
            f"contact {data.contact_id} is not a contact of this customer", field="contact_id"
        )


def update_touchpoint(
    session: Session, *, actor: Actor, touchpoint_id: int, data: TouchpointIn
) -> tuple[Touchpoint, bool]:
    touchpoint = repository.get_touchpoint(session, touchpoint_id, scope=visible_customers(actor))
    if touchpoint is None:
        raise NotFound(f"touchpoint {touchpoint_id} not found")
    if data.customer_id != touchpoint.customer_id:
        get_customer_for(session, data.customer_id, actor=actor)
    _check_contact(session, data)
    values = data.model_dump(exclude={"reference"})
    values["kind"] = data.kind.value
    changed = audit.apply_update(
        session,
        actor,
        touchpoint,
        values,
        action="touchpoint.updated",
        subject_type="touchpoint",
        customer_id=touchpoint.customer_id,
        fields=TOUCHPOINT_FIELDS,
    )
    return touchpoint, changed


# ---------------------------------------------------------------- customer 360


@dataclass(frozen=True, slots=True)
class OpenItem:
    invoice_number: str
    sequence: int
    installments: int
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal
    currency: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class Customer360:
    customer: Customer
    owner: User | None
    parent: Customer | None
    referred_by: Customer | None
    contacts: Sequence[Contact]
    open_items: list[OpenItem]
    open_balance: Decimal
    overdue_balance: Decimal
    payments: Sequence[Payment]
    touchpoints: Sequence[Touchpoint]
    as_of: date


def customer_360(
    session: Session, code: str, *, actor: Actor, as_of: date, recent: int = 5
) -> Customer360:
    """Everything about one account in ``actor``'s scope, in a fixed number of statements."""
    customer = get_customer_by_code(session, code, actor=actor)
    items = [
        _open_item(installment, invoice, count, as_of)
        for installment, invoice, count in repository.open_installments(session, customer.id)
    ]
    return Customer360(
        customer=customer,
        owner=repository.user_by_id(session, customer.owner_id),
        parent=repository.get(session, customer.parent_id) if customer.parent_id else None,
        referred_by=repository.get(session, customer.referred_by_id)
        if customer.referred_by_id
        else None,
        contacts=repository.contacts_of(session, customer.id),
        open_items=items,
        open_balance=sum((i.open_amount for i in items), ZERO),
        overdue_balance=sum((i.open_amount for i in items if i.days_overdue > 0), ZERO),
        payments=repository.recent_payments(session, customer.id, recent),
        touchpoints=repository.recent_touchpoints(session, customer.id, recent),
        as_of=as_of,
    )


def _open_item(installment: Installment, invoice: Invoice, count: int, as_of: date) -> OpenItem:
    overdue = (as_of - installment.due_date).days if installment.due_date < as_of else 0
    return OpenItem(
        invoice_number=invoice.number,
        sequence=installment.sequence,
        installments=count,
        issue_date=invoice.issue_date,
        due_date=installment.due_date,
        amount=installment.amount,
        open_amount=installment.open_amount,
        currency=invoice.currency,
        days_overdue=overdue,
    )
