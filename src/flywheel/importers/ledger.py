"""Import handlers for payments and credit notes (invoices: ``importers.invoices``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.errors import FlywheelError
from flywheel.importers.fields import CREDIT_NOTES, PAYMENTS
from flywheel.importers.lookups import CustomerDirectory
from flywheel.importers.runner import ImportContext, Outcome, Record, Result
from flywheel.kit.batches import chunks
from flywheel.models.enums import PaymentMethod
from flywheel.models.receivables import ZERO, CreditNote, Invoice, Payment
from flywheel.receivables import bulk, service
from flywheel.receivables.schemas import (
    CreditNoteCreate,
    PaymentCreate,
)


def _duplicates(ctx: ImportContext, group: list[Record], key: str) -> list[Result]:
    """Consecutive rows with one natural key where only one row is allowed."""
    first = group[0].row
    return [ctx.error(r, key, f"duplicate of row {first}") for r in group[1:]]


class PaymentsHandler:
    spec = PAYMENTS
    group_by: str | None = "reference"
    whole_file = False

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.customers: CustomerDirectory | None = None

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        ctx = self.ctx
        customers = self.customers = self.customers or CustomerDirectory(session)
        customers.load(g[0].values["customer"] for g in groups)
        references = [g[0].values["reference"] for g in groups]
        existing = {
            p.reference: p
            for part in _chunked(references)
            for p in session.scalars(select(Payment).where(Payment.reference.in_(part)))
        }
        results: list[list[Result]] = []
        new_items: list[PaymentCreate] = []
        new_slots: list[int] = []
        currencies: dict[int, str] = {}
        for group in groups:
            record = group[0]
            values = record.values
            customer = customers.get(values["customer"])
            if customer is None:
                results.append(
                    [
                        ctx.error(record, "customer", f"unknown customer {values['customer']}"),
                        *_duplicates(ctx, group, "reference"),
                    ]
                )
                continue
            customer_id, currency, _ = customer
            currencies[customer_id] = currency
            current = existing.get(values["reference"])
            # A blank cell keeps what is stored; a new payment takes the defaults.
            data = PaymentCreate(
                reference=values["reference"],
                customer_id=customer_id,
                received_on=values["received_on"],
                amount=values["amount"],
                currency=values.get("currency") or (current.currency if current else currency),
                method=PaymentMethod(
                    values.get("method")
                    or (current.method if current else PaymentMethod.BANK_TRANSFER.value)
                ),
                invoice_number=values.get("invoice")
                or (current.invoice_reference if current else None),
            )
            rest = _duplicates(ctx, group, "reference")
            if current is None:
                new_items.append(data)
                new_slots.append(len(results))
                results.append([Outcome.INSERTED, *rest])
                continue
            results.append([self._update(session, record, current, data), *rest])
        if new_items:
            bulk.record_payments(
                session, actor=ctx.actor, data=new_items, currencies=currencies, audit_each=False
            )
        return results

    def _update(
        self, session: Session, record: Record, current: Payment, data: PaymentCreate
    ) -> Result:
        try:
            with session.begin_nested():
                _, changed = service.update_payment(
                    session, actor=self.ctx.actor, payment_id=current.id, data=data
                )
        except FlywheelError as exc:
            return self.ctx.error(record, str(exc.details.get("field") or "amount"), exc.message)
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    def finish(self, session: Session) -> None:
        return None


def _chunked(keys: list[str]) -> list[list[str]]:

    return list(chunks(keys))


class CreditNotesHandler:
    spec = CREDIT_NOTES
    group_by: str | None = "number"
    whole_file = False

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        results: list[list[Result]] = []
        for group in groups:
            results.append([self._one(session, group[0]), *_duplicates(self.ctx, group, "number")])
        return results

    def _one(self, session: Session, record: Record) -> Result:
        ctx = self.ctx
        values = record.values
        amount = abs(values["amount"])
        if amount == ZERO:
            return ctx.error(record, "amount", "amount is zero")
        invoice = session.scalars(
            select(Invoice).where(Invoice.number == values["invoice"])
        ).one_or_none()
        if invoice is None:
            return ctx.error(record, "invoice", f"unknown invoice {values['invoice']}")
        current = session.scalars(
            select(CreditNote).where(CreditNote.number == values["number"])
        ).one_or_none()
        if current is not None:
            same = (
                current.invoice_id == invoice.id
                and current.issue_date == values["issue_date"]
                and current.amount == amount
                and (current.reason or None) == values.get("reason")
            )
            if same:
                return Outcome.UNCHANGED
            return ctx.error(
                record,
                "number",
                f"credit note {current.number} was issued with other values; "
                "an issued credit note is not changed: issue a new one",
            )
        data = CreditNoteCreate(
            number=values["number"],
            invoice_id=invoice.id,
            issue_date=values["issue_date"],
            amount=amount,
            reason=values.get("reason"),
        )
        try:
            with session.begin_nested():
                service.issue_credit_note(session, actor=ctx.actor, data=data)
        except FlywheelError as exc:
            return ctx.error(record, str(exc.details.get("field") or "amount"), exc.message)
        return Outcome.INSERTED

    def finish(self, session: Session) -> None:
        return None
