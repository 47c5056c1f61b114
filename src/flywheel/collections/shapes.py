"""The answers of the collections API and CLI: promises, disputes, plans, actions and holds
shaped for output, with users named by their username and documents by their number, and
one page of a listing with its total."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from flywheel.collections import holds
from flywheel.collections.schemas import (
    ActionOut,
    ArrangementOut,
    CreditHoldOut,
    DisputeOut,
    PromiseOut,
)
from flywheel.models.collections import CollectionAction, Dispute, PaymentArrangement, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.receivables import CreditNote, Invoice
from flywheel.models.users import User
from flywheel.web.contract import PageRequest


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {int(i): name for i, name in rows}


def customer_of(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    assert customer is not None  # the foreign key
    return customer


def action_out(session: Session, action: CollectionAction) -> ActionOut:
    customer = customer_of(session, action.customer_id)
    return ActionOut.of(action, customer.code, usernames(session, [action.assigned_to_id]))


def promise_outs(
    session: Session, rows: Sequence[tuple[PromiseToPay, Customer]]
) -> list[PromiseOut]:
    users = usernames(session, (p.created_by_id for p, _ in rows))
    return [PromiseOut.of(p, c, users) for p, c in rows]


def promise_out(session: Session, promise: PromiseToPay) -> PromiseOut:
    return promise_outs(session, [(promise, customer_of(session, promise.customer_id))])[0]


def dispute_outs(session: Session, rows: Sequence[tuple[Dispute, Customer]]) -> list[DisputeOut]:
    invoices = {d.invoice_id for d, _ in rows}
    numbers: dict[int, str] = (
        dict(
            session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(invoices)))
            .tuples()
            .all()
        )
        if invoices
        else {}
    )
    notes = {d.credit_note_id for d, _ in rows if d.credit_note_id is not None}
    note_numbers: dict[int, str] = (
        dict(
            session.execute(
                select(CreditNote.id, CreditNote.number).where(CreditNote.id.in_(notes))
            )
            .tuples()
            .all()
        )
        if notes
        else {}
    )
    users = usernames(session, (d.owner_id for d, _ in rows))
    return [
        DisputeOut.of(
            d,
            c,
            invoice=numbers[d.invoice_id],
            credit_note=note_numbers.get(d.credit_note_id) if d.credit_note_id else None,
            users=users,
        )
        for d, c in rows
    ]


def dispute_out(session: Session, dispute: Dispute) -> DisputeOut:
    return dispute_outs(session, [(dispute, customer_of(session, dispute.customer_id))])[0]


def arrangement_outs(
    session: Session, rows: Sequence[tuple[PaymentArrangement, Customer]]
) -> list[ArrangementOut]:
    users = usernames(
        session,
        [a.requested_by_id for a, _ in rows] + [a.decided_by_id for a, _ in rows],
    )
    return [ArrangementOut.of(a, c, users) for a, c in rows]


def arrangement_out(session: Session, arrangement: PaymentArrangement) -> ArrangementOut:
    return arrangement_outs(
        session, [(arrangement, customer_of(session, arrangement.customer_id))]
    )[0]


def hold_out(session: Session, customer: Customer) -> CreditHoldOut:
    hold = holds.hold_of(session, customer.id)
    return CreditHoldOut.of(
        customer.code, hold, usernames(session, [hold.placed_by_id if hold else None])
    )


def page_of(session: Session, stmt: Select[Any, Any], paging: PageRequest) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.limit(paging.limit).offset(paging.offset)).all()
    return [tuple(row) for row in rows], int(total)
