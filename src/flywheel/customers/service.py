"""Business rules for accounts, contacts and touchpoints; every change is audited."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.customers import repository
from flywheel.customers.repository import CustomerFilter, CustomerSort
from flywheel.customers.schemas import ContactIn, CustomerIn, TouchpointIn
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
    customer = repository.get(session, customer_id)
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


def _customer_values(
    session: Session, data: CustomerIn, *, self_id: int | None
) -> dict[str, object]:
    try:
        terms = parse_terms(data.payment_terms).code
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="payment_terms") from exc
    for field, ref in (("parent_id", data.parent_id), ("referred_by_id", data.referred_by_id)):
        if ref is None:
            continue
        if self_id is not None and ref == self_id:
            raise ValidationFailed(f"an account cannot be its own {field[:-3]}", field=field)
        if repository.get(session, ref) is None:
            raise NotFound(f"{field[:-3]} account {ref} not found", field=field)
    if data.owner_id is not None and repository.user_by_id(session, data.owner_id) is None:
        raise NotFound(f"owner {data.owner_id} not found", field="owner_id")
    values = data.model_dump()
    values["payment_terms"] = terms
    return {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}


def create_customer(session: Session, *, actor: Actor, data: CustomerIn) -> Customer:
    if repository.get_by_code(session, data.code) is not None:
        raise Conflict(f"customer {data.code} already exists", code=data.code)
    customer = Customer(**_customer_values(session, data, self_id=None))
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
    customer = get_customer(session, customer_id)
    values = _customer_values(session, data, self_id=customer.id)
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


def add_contact(session: Session, *, actor: Actor, data: ContactIn) -> Contact:
    get_customer(session, data.customer_id)
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


def update_contact(
    session: Session, *, actor: Actor, contact_id: int, data: ContactIn
) -> tuple[Contact, bool]:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found", contact_id=contact_id)
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
    get_customer(session, data.customer_id)
    _check_contact(session, data)
    values = data.model_dump()
    values["kind"] = data.kind.value
    values["reference"] = data.reference or touchpoint_reference(data)
    if session.query(Touchpoint.id).filter_by(reference=values["reference"]).first() is not None:
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
    touchpoint = session.get(Touchpoint, touchpoint_id)
    if touchpoint is None:
        raise NotFound(f"touchpoint {touchpoint_id} not found")
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
