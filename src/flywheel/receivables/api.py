"""JSON routes for the receivables ledger: invoices, payments and their allocation (with a
preview that writes nothing), credit notes. Reads are scoped; changes need their permission."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import ValidationFailed
from flywheel.models.enums import InvoiceStatus, PaymentMethod, PaymentStatus
from flywheel.models.receivables import CreditNote, Payment
from flywheel.receivables import service
from flywheel.receivables.repository import (
    CreditNoteFilter,
    InvoiceFilter,
    InvoiceSort,
    PaymentFilter,
)
from flywheel.receivables.schemas import (
    AllocationNew,
    AllocationOut,
    AllocationPreviewOut,
    CreditNoteNew,
    CreditNoteOut,
    CreditNotePage,
    InstallmentOut,
    InvoiceAllocationOut,
    InvoiceCancel,
    InvoiceDetailOut,
    InvoiceListItem,
    InvoiceNew,
    InvoicePage,
    InvoiceWriteOff,
    PaymentAllocationOut,
    PaymentDetailOut,
    PaymentNew,
    PaymentOut,
    PaymentPage,
    PlannedAllocationOut,
)
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(responses=ERROR_RESPONSES)

EditInvoices = Annotated[Actor, Depends(require(Permission.EDIT_INVOICES))]
RecordPayments = Annotated[Actor, Depends(require(Permission.RECORD_PAYMENTS))]
IssueCreditNotes = Annotated[Actor, Depends(require(Permission.ISSUE_CREDIT_NOTES))]

CustomerCode = Annotated[str | None, Query(max_length=64, description="The account's code.")]
AsOf = Annotated[
    date | None, Query(description="Business date for overdue and days overdue (default: today).")
]


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


def _range(start: date | None, end: date | None, *, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationFailed(f"{field} range ends before it starts", field=field)


# ---------------------------------------------------------------- invoices


def _list_item(row: service.InvoiceRow) -> InvoiceListItem:
    invoice = row.invoice
    return InvoiceListItem(
        number=invoice.number,
        customer=row.customer_code,
        customer_name=row.customer_name,
        issue_date=invoice.issue_date,
        due_date=row.due_date,
        next_due_date=row.next_due_date,
        payment_terms=invoice.payment_terms,
        amount=invoice.amount,
        paid_amount=invoice.paid_amount,
        credited_amount=invoice.credited_amount,
        written_off_amount=invoice.written_off_amount,
        open_amount=invoice.open_amount,
        currency=invoice.currency,
        status=invoice.status,
        state=row.state,
        days_overdue=row.days_overdue,
    )


def _credit_note_out(note: CreditNote, customer: str, invoice: str) -> CreditNoteOut:
    return CreditNoteOut(
        number=note.number,
        customer=customer,
        invoice=invoice,
        issue_date=note.issue_date,
        amount=note.amount,
        currency=note.currency,
        reason=note.reason,
    )


def _invoice_detail(
    session: SessionDep, number: str, actor: Actor, as_of: date
) -> InvoiceDetailOut:
    detail = service.invoice_detail(session, number, actor=actor, as_of=as_of)
    row = detail.row
    return InvoiceDetailOut(
        **_list_item(row).model_dump(),
        as_of=detail.as_of,
        order=detail.order_number,
        installments=[
            InstallmentOut(
                sequence=inst.sequence,
                due_date=inst.due_date,
                amount=inst.amount,
                paid_amount=inst.paid_amount,
                credited_amount=inst.credited_amount,
                written_off_amount=inst.written_off_amount,
                open_amount=inst.open_amount,
                status=inst.status,
                settled_on=inst.settled_on,
                days_overdue=days,
            )
            for inst, days in detail.installments
        ],
        allocations=[
            InvoiceAllocationOut(
                id=line.allocation.id,
                source=line.source,
                reference=line.reference,
                installment=line.installment,
                amount=line.allocation.amount,
                applied_on=line.allocation.applied_on,
            )
            for line in detail.allocations
        ],
        credit_notes=[
            _credit_note_out(note, row.customer_code, row.invoice.number)
            for note in detail.credit_notes
        ],
    )


@router.get("/invoices", response_model=InvoicePage, summary="List invoices", tags=["invoices"])
def list_invoices(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    customer: CustomerCode = None,
    status: Annotated[InvoiceStatus | None, Query(description="The stored status.")] = None,
    overdue: Annotated[
        bool | None, Query(description="true: only late on as_of; false: only the others.")
    ] = None,
    as_of: AsOf = None,
    due_from: Annotated[date | None, Query(description="An installment due on or after.")] = None,
    due_to: Annotated[date | None, Query(description="An installment due on or before.")] = None,
    search: Annotated[str | None, Query(max_length=64, description="Part of the number.")] = None,
    order: Annotated[str | None, Query(max_length=64, description="The order's number.")] = None,
    sort: InvoiceSort = InvoiceSort.ISSUE_DATE,
    direction: SortOrder = SortOrder.DESC,
) -> InvoicePage:
    """The invoices of the accounts the caller may see, as they stand on ``as_of``."""
    _range(due_from, due_to, field="due")
    day = as_of or today()
    flt = InvoiceFilter(
        customer=customer,
        status=status.value if status else None,
        overdue=overdue,
        due_from=due_from,
        due_to=due_to,
        search=search,
        order=order,
    )
    rows, total = service.list_invoices(
        session,
        flt,
        actor=actor,
        as_of=day,
        limit=paging.limit,
        offset=paging.offset,
        sort=sort,
        descending=direction is SortOrder.DESC,
    )
    return InvoicePage(
        as_of=day,
        items=[_list_item(row) for row in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get(
    "/invoices/{number}",
    response_model=InvoiceDetailOut,
    summary="One invoice: installments, allocations, credit notes",
    tags=["invoices"],
)
def get_invoice(
    number: str, session: SessionDep, actor: CurrentActor, as_of: AsOf = None
) -> InvoiceDetailOut:
    return _invoice_detail(session, number, actor, as_of or today())


@router.post(
    "/invoices",
    response_model=InvoiceDetailOut,
    status_code=201,
    summary="Issue an invoice",
    tags=["invoices"],
)
def issue_invoice(body: InvoiceNew, session: SessionDep, actor: EditInvoices) -> InvoiceDetailOut:
    """One installment due by the terms (or on ``due_date``), or the schedule given."""
    invoice = service.issue_invoice(session, actor=actor, data=body)
    return _invoice_detail(session, invoice.number, actor, today())


@router.post(
    "/invoices/{number}/cancel",
    response_model=InvoiceDetailOut,
    summary="Cancel an invoice (nothing applied to it yet)",
    tags=["invoices"],
)
def cancel_invoice(
    number: str, body: InvoiceCancel, session: SessionDep, actor: EditInvoices
) -> InvoiceDetailOut:
    service.cancel_invoice_by_number(session, actor=actor, number=number, reason=body.reason)
    return _invoice_detail(session, number, actor, today())


@router.post(
    "/invoices/{number}/write-off",
    response_model=InvoiceDetailOut,
    summary="Write off what is still open (坏账核销)",
    tags=["invoices"],
)
def write_off_invoice(
    number: str, body: InvoiceWriteOff, session: SessionDep, actor: EditInvoices
) -> InvoiceDetailOut:
    day = today()
    service.write_off_invoice_by_number(
        session, actor=actor, number=number, on=body.on or day, reason=body.reason
    )
    return _invoice_detail(session, number, actor, day)


# ---------------------------------------------------------------- payments


def _payment_out(payment: Payment, customer: str) -> PaymentOut:
    return PaymentOut(
        reference=payment.reference,
        customer=customer,
        received_on=payment.received_on,
        amount=payment.amount,
        allocated_amount=payment.allocated_amount,
        unallocated_amount=payment.unallocated_amount,
        currency=payment.currency,
        method=payment.method,
        status=payment.status,
        invoice=payment.invoice_reference,
    )


def _payment_detail(detail: service.PaymentDetail) -> PaymentDetailOut:
    return PaymentDetailOut(
        **_payment_out(detail.payment, detail.customer_code).model_dump(),
        allocations=[
            PaymentAllocationOut(
                id=line.allocation.id,
                invoice=line.invoice_number,
                installment=line.installment,
                due_date=line.due_date,
                amount=line.allocation.amount,
                applied_on=line.allocation.applied_on,
            )
            for line in detail.allocations
        ],
    )


@router.get(
    "/payments",
    response_model=PaymentPage,
    summary="List payments, newest first",
    tags=["payments"],
)
def list_payments(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    customer: CustomerCode = None,
    status: PaymentStatus | None = None,
    method: PaymentMethod | None = None,
    received_from: Annotated[date | None, Query(description="Received on or after.")] = None,
    received_to: Annotated[date | None, Query(description="Received on or before.")] = None,
    search: Annotated[
        str | None, Query(max_length=64, description="Part of the reference.")
    ] = None,
) -> PaymentPage:
    """The payments of the accounts the caller may see."""
    _range(received_from, received_to, field="received")
    flt = PaymentFilter(
        customer=customer,
        status=status.value if status else None,
        method=method.value if method else None,
        received_from=received_from,
        received_to=received_to,
        search=search,
    )
    rows, total = service.list_payments(
        session, flt, actor=actor, limit=paging.limit, offset=paging.offset
    )
    return PaymentPage(
        items=[_payment_out(payment, code) for payment, code in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/payments/preview",
    response_model=AllocationPreviewOut,
    summary="What recording a payment would allocate (writes nothing)",
    tags=["payments"],
)
def preview_payment(
    body: PaymentNew, session: SessionDep, actor: RecordPayments
) -> AllocationPreviewOut:
    """The same checks, order and split as POST /payments, without recording anything."""
    preview = service.preview_payment(session, actor=actor, data=body)
    return AllocationPreviewOut(
        customer=body.customer,
        currency=preview.currency,
        amount=preview.amount,
        allocations=[
            PlannedAllocationOut(
                invoice=step.invoice_number,
                installment=step.installment,
                due_date=step.due_date,
                open_before=step.open_before,
                amount=step.amount,
            )
            for step in preview.allocations
        ],
        unallocated=preview.unallocated,
    )


@router.get(
    "/payments/{reference}",
    response_model=PaymentDetailOut,
    summary="One payment with its allocations",
    tags=["payments"],
)
def get_payment(reference: str, session: SessionDep, actor: CurrentActor) -> PaymentDetailOut:
    return _payment_detail(service.payment_detail(session, reference, actor=actor))


@router.post(
    "/payments",
    response_model=PaymentDetailOut,
    status_code=201,
    summary="Record a payment and allocate it",
    tags=["payments"],
)
def record_payment(
    body: PaymentNew, session: SessionDep, actor: RecordPayments
) -> PaymentDetailOut:
    """Applied to the invoice the payer named first, then to the oldest open items; what
    is left stays unallocated on the payment."""
    payment = service.receive_payment(session, actor=actor, data=body)
    return _payment_detail(service.payment_detail_of(session, payment))


@router.post(
    "/payments/{reference}/allocations",
    response_model=AllocationOut,
    status_code=201,
    summary="Allocate part of a payment by hand",
    tags=["payments"],
)
def allocate_payment(
    reference: str, body: AllocationNew, session: SessionDep, actor: RecordPayments
) -> AllocationOut:
    row = service.allocate_payment(session, actor=actor, reference=reference, data=body)
    return AllocationOut(
        id=row.id,
        payment=reference,
        invoice=body.invoice,
        installment=body.installment,
        amount=row.amount,
        applied_on=row.applied_on,
    )


@router.delete(
    "/allocations/{allocation_id}",
    status_code=204,
    response_class=Response,
    summary="Undo a payment's allocation",
    tags=["payments"],
)
def undo_allocation(allocation_id: Id, session: SessionDep, actor: RecordPayments) -> Response:
    """The money is unallocated on the payment again. A credit note's cannot be undone."""
    service.unallocate(session, actor=actor, allocation_id=allocation_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- credit notes


@router.get(
    "/credit-notes",
    response_model=CreditNotePage,
    summary="List credit notes, newest first",
    tags=["credit notes"],
)
def list_credit_notes(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    customer: CustomerCode = None,
    invoice: Annotated[
        str | None, Query(max_length=64, description="The invoice's number.")
    ] = None,
    issued_from: Annotated[date | None, Query(description="Issued on or after.")] = None,
    issued_to: Annotated[date | None, Query(description="Issued on or before.")] = None,
    search: Annotated[str | None, Query(max_length=64, description="Part of the number.")] = None,
) -> CreditNotePage:
    _range(issued_from, issued_to, field="issued")
    flt = CreditNoteFilter(
        customer=customer,
        invoice=invoice,
        issued_from=issued_from,
        issued_to=issued_to,
        search=search,
    )
    rows, total = service.list_credit_notes(
        session, flt, actor=actor, limit=paging.limit, offset=paging.offset
    )
    return CreditNotePage(
        items=[_credit_note_out(*row) for row in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get(
    "/credit-notes/{number}",
    response_model=CreditNoteOut,
    summary="One credit note",
    tags=["credit notes"],
)
def get_credit_note(number: str, session: SessionDep, actor: CurrentActor) -> CreditNoteOut:
    note = service.get_credit_note_for(session, number, actor=actor)
    return _credit_note_out(note, *service.credit_note_refs(session, note))


@router.post(
    "/credit-notes",
    response_model=CreditNoteOut,
    status_code=201,
    summary="Credit an invoice",
    tags=["credit notes"],
)
def issue_credit_note(
    body: CreditNoteNew, session: SessionDep, actor: IssueCreditNotes
) -> CreditNoteOut:
    """Reduces the invoice from its last installment backwards; at most its open amount."""
    note = service.credit_invoice(session, actor=actor, data=body)
    return _credit_note_out(note, *service.credit_note_refs(session, note))
