"""What the collections pages share: the permission and form-field types, paging bounds, links
to an account, the open items and contacts a form offers, users' names, and rendering a page
with the collections labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import labels
from flywheel.collections.templates import KEY_LABELS
from flywheel.errors import FlywheelError, http_status_for
from flywheel.models.customers import Contact, Customer
from flywheel.models.receivables import Installment, Invoice, still_open
from flywheel.models.users import User
from flywheel.web.auth import require
from flywheel.web.pages import render

WorkCollections = Annotated[Actor, Depends(require(Permission.WORK_COLLECTIONS))]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=64)]

PAGE_SIZE = 50
MAX_PAGE = 100_000


def customer_url(code: str) -> str:
    return "/customers/" + quote(code, safe="")


def refuse_hard(exc: FlywheelError, *, statuses: tuple[int, ...] = (403, 404)) -> None:
    """Not-found and forbidden are pages of their own, not a note on a form."""
    if http_status_for(exc) in statuses:
        raise exc


@dataclass(frozen=True, slots=True)
class OpenLine:
    id: int
    invoice: str
    sequence: int
    due_date: date
    open_amount: Decimal
    currency: str
    days_overdue: int


def open_lines(session: Session, customer: Customer, as_of: date) -> list[OpenLine]:
    """The customer's open installments, oldest due first (the forms' choices)."""
    rows = session.execute(
        select(Installment, Invoice.number, Invoice.currency)
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(Installment.customer_id == customer.id, still_open())
        .order_by(Installment.due_date, Installment.id)
    ).all()
    return [
        OpenLine(
            id=i.id,
            invoice=number,
            sequence=i.sequence,
            due_date=i.due_date,
            open_amount=i.open_amount,
            currency=currency,
            days_overdue=max((as_of - i.due_date).days, 0),
        )
        for i, number, currency in rows
    ]


def contacts_of(session: Session, customer: Customer) -> Sequence[Contact]:
    return session.scalars(
        select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.name)
    ).all()


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    ).all()
    return {i: d or u for i, d, u in rows}


def render_page(
    request: Request,
    actor: Actor,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        template,
        {**labels.all_labels(), "template_labels": KEY_LABELS, **context},
        actor=actor,
        status_code=status_code,
    )
