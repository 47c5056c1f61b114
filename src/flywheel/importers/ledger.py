"""Import handlers for invoices, payments and credit notes.

New invoices are written in bulk (explicit ids, one executemany per batch) because an ERP
history can hold millions; a changed invoice goes through ``receivables.service`` so that the
same locking rules and audit apply as in the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, bindparam, select
from sqlalchemy.orm import Session

from flywheel.db import bulk_insert, defer_indexes, reserve_ids, restore_indexes
from flywheel.errors import FlywheelError
from flywheel.importers.fields import CREDIT_NOTES, INVOICES, PAYMENTS
from flywheel.importers.lookups import CustomerDirectory, ids_by_key, rows_by_key
from flywheel.importers.runner import ImportContext, Outcome, Record, Result
from flywheel.kit.batches import chunks
from flywheel.kit.terms import due_date_for
from flywheel.models.base import utcnow
from flywheel.models.enums import InvoiceStatus, PaymentMethod
from flywheel.models.receivables import ZERO, CreditNote, Installment, Invoice, Payment
from flywheel.models.sales import Order
from flywheel.receivables import bulk, service
from flywheel.receivables.schemas import (
    CreditNoteCreate,
    InstallmentIn,
    InvoiceCreate,
    PaymentCreate,
)

# From this many rows on, a SQLite import drops the non-unique indexes of invoices and
# installments and builds them again at the end: sorting once is about three times faster than
# keeping random-order indexes up to date row by row. (DDL is transactional in SQLite, and
# readers keep seeing the committed tables and indexes until the import commits.)
LARGE_IMPORT_ROWS = 200_000

_INVOICE_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "order_id",
    "issue_date",
    "payment_terms",
    "amount",
    "currency",
    "paid_amount",
    "credited_amount",
    "written_off_amount",
    "status",
    "created_at",
)
_INSTALLMENT_COLUMNS = (
    "id",
    "invoice_id",
    "customer_id",
    "sequence",
    "due_date",
    "amount",
    "paid_amount",
    "credited_amount",
    "written_off_amount",
    "status",
)
_INVOICE_TABLE = Invoice.__table__
_EXISTING_INVOICES = select(
    _INVOICE_TABLE.c.number,
    _INVOICE_TABLE.c.id,
    _INVOICE_TABLE.c.customer_id,
    _INVOICE_TABLE.c.order_id,
    _INVOICE_TABLE.c.issue_date,
    _INVOICE_TABLE.c.payment_terms,
    _INVOICE_TABLE.c.amount,
    _INVOICE_TABLE.c.currency,
).where(_INVOICE_TABLE.c.number.in_(bindparam("numbers", expanding=True)))
_SHARED = ("customer", "issue_date", "amount", "currency", "payment_terms", "order")


def _duplicates(ctx: ImportContext, group: list[Record], key: str) -> list[Result]:
    """Consecutive rows with one natural key where only one row is allowed."""
    first = group[0].row
    return [ctx.error(r, key, f"duplicate of row {first}") for r in group[1:]]


class InvoicesHandler:
    spec = INVOICES
    group_by: str | None = "number"
    whole_file = False

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.customers: CustomerDirectory | None = None
        self.touched_customers: set[int] = set()
        self.deferred_indexes: list[Index] = []

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        customers = self.customers = self.customers or CustomerDirectory(session)
        customers.load(g[0].values["customer"] for g in groups)
        numbers = [g[0].values["number"] for g in groups]
        existing = self._existing(session, numbers)
        order_numbers = {g[0].values["order"] for g in groups if "order" in g[0].values}
        orders = (
            ids_by_key(session, Order.number, Order.id, sorted(order_numbers))
            if order_numbers
            else {}
        )

        results: list[list[Result]] = []
        new_rows: list[tuple[dict[str, Any], list[tuple[date, Decimal]]]] = []
        for group in groups:
            outcome = self._one(session, group, customers, orders, existing, new_rows)
            results.append(outcome)
        self._insert(session, new_rows)
        return results

    def _existing(self, session: Session, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored invoices among ``numbers``, read with Core: no ORM objects for millions."""
        connection = session.connection()
        found: dict[str, dict[str, Any]] = {}
        by_id: dict[int, dict[str, Any]] = {}
        for part in chunks(sorted(set(numbers))):
            for (
                number,
                inv_id,
                cust,
                order_id,
                issued,
                terms,
                amount,
                currency,
            ) in connection.execute(_EXISTING_INVOICES, {"numbers": part}):
                entry = {
                    "id": inv_id,
                    "customer_id": cust,
                    "order_id": order_id,
                    "issue_date": issued,
                    "payment_terms": terms,
                    "amount": amount,
                    "currency": currency,
                    "schedule": [],
                }
                found[number] = by_id[inv_id] = entry
        if by_id:
            inst = Installment.__table__
            stmt2 = select(inst.c.invoice_id, inst.c.due_date, inst.c.amount).order_by(
                inst.c.invoice_id, inst.c.sequence
            )
            for id_part in chunks(sorted(by_id)):
                for inv_id, due, amount in connection.execute(
                    stmt2.where(inst.c.invoice_id.in_(id_part))
                ):
                    by_id[inv_id]["schedule"].append((due, amount))
        return found

    def _one(
        self,
        session: Session,
        group: list[Record],
        customers: CustomerDirectory,
        orders: dict[str, int],
        existing: dict[str, dict[str, Any]],
        new_rows: list[tuple[dict[str, Any], list[tuple[date, Decimal]]]],
    ) -> list[Result]:
        ctx = self.ctx
        first = group[0]
        head = first.values

        def reject_all(record: Record, field: str | None, reason: str) -> list[Result]:
            error = ctx.error(record, field, reason)
            others = [
                ctx.error(r, None, f"invoice {head['number']} rejected: see row {record.row}")
                for r in group
                if r is not record
            ]
            return [error if r is record else others.pop(0) for r in group]

        for record in group[1:]:
            for name in _SHARED:
                if name in record.values and record.values[name] != head.get(name):
                    return reject_all(
                        record, name, f"{name} differs from row {first.row} of the same invoice"
                    )
        customer = customers.get(head["customer"])
        if customer is None:
            return reject_all(first, "customer", f"unknown customer {head['customer']}")
        customer_id, customer_currency, customer_terms = customer
        currency = head.get("currency") or customer_currency
        terms = head.get("payment_terms") or customer_terms
        order_id = None
        if "order" in head:
            order_id = orders.get(head["order"])
            if order_id is None:
                return reject_all(first, "order", f"unknown order {head['order']}")
        issued: date = head["issue_date"]
        amount: Decimal = head["amount"]
        schedule: list[tuple[date, Decimal]] = []
        if len(group) == 1:
            due = head.get("due_date") or due_date_for(terms, issued)
            part = head.get("installment_amount")
            if part is not None and part != amount:
                return reject_all(
                    first,
                    "installment_amount",
                    f"installment amount {part} differs from the invoice amount {amount}",
                )
            schedule.append((due, amount))
        else:
            for record in group:
                due_date = record.values.get("due_date")
                part = record.values.get("installment_amount")
                if due_date is None:
                    return reject_all(record, "due_date", "each installment row needs its due date")
                if part is None:
                    return reject_all(
                        record, "installment_amount", "each installment row needs its amount"
                    )
                schedule.append((due_date, part))
            total = sum((p for _, p in schedule), ZERO)
            if total != amount:
                return reject_all(
                    first,
                    "amount",
                    f"installments add up to {total}, the invoice amount is {amount}",
                )
            schedule.sort(key=lambda item: item[0])
        for record in group:
            due = record.values.get("due_date")
            if due is not None and due < issued:
                return reject_all(
                    record, "due_date", f"due date {due} is before the issue date {issued}"
                )
        if schedule[0][0] < issued:
            return reject_all(
                first, "payment_terms", "the terms give a due date before the issue date"
            )

        wanted = {
            "customer_id": customer_id,
            "order_id": order_id,
            "issue_date": issued,
            "payment_terms": terms,
            "amount": amount,
            "currency": currency,
        }
        current = existing.get(head["number"])
        if current is None:
            new_rows.append(({"number": head["number"], **wanted}, schedule))
            self.touched_customers.add(customer_id)
            return [Outcome.INSERTED] * len(group)
        if all(current[k] == v for k, v in wanted.items()) and current["schedule"] == schedule:
            return [Outcome.UNCHANGED] * len(group)
        data = InvoiceCreate(
            number=head["number"],
            customer_id=customer_id,
            issue_date=issued,
            amount=amount,
            order_id=order_id,
            payment_terms=terms,
            currency=currency,
            installments=[InstallmentIn(due_date=d, amount=a) for d, a in schedule],
        )
        try:
            with session.begin_nested():
                service.update_invoice(
                    session, actor=ctx.actor, invoice_id=current["id"], data=data
                )
        except FlywheelError as exc:
            return reject_all(first, str(exc.details.get("field") or "amount"), exc.message)
        self.touched_customers.add(customer_id)
        return [Outcome.UPDATED] * len(group)

    def _insert(
        self, session: Session, new_rows: list[tuple[dict[str, Any], list[tuple[date, Decimal]]]]
    ) -> None:
        if not new_rows:
            return
        if self._large_sqlite_import(session) and not self.deferred_indexes:
            self.deferred_indexes = defer_indexes(
                session, (Invoice.__table__, Installment.__table__)
            )
        invoice_ids = reserve_ids(session, "invoices", len(new_rows))
        installment_count = sum(len(s) for _, s in new_rows)
        installment_ids = iter(reserve_ids(session, "installments", installment_count))
        open_status = InvoiceStatus.OPEN.value
        invoices: list[tuple[Any, ...]] = []
        installments: list[tuple[Any, ...]] = []
        now = utcnow()
        for invoice_id, (values, schedule) in zip(invoice_ids, new_rows, strict=True):
            customer_id = values["customer_id"]
            invoices.append(
                (
                    invoice_id,
                    values["number"],
                    customer_id,
                    values["order_id"],
                    values["issue_date"],
                    values["payment_terms"],
                    values["amount"],
                    values["currency"],
                    ZERO,
                    ZERO,
                    ZERO,
                    open_status,
                    now,
                )
            )
            for sequence, (due, part) in enumerate(schedule, start=1):
                installments.append(
                    (
                        next(installment_ids),
                        invoice_id,
                        customer_id,
                        sequence,
                        due,
                        part,
                        ZERO,
                        ZERO,
                        ZERO,
                        open_status,
                    )
                )
        _write(session, invoices, installments)

    def _large_sqlite_import(self, session: Session) -> bool:
        expected = self.ctx.expected_rows or 0
        return session.get_bind().dialect.name == "sqlite" and expected >= LARGE_IMPORT_ROWS

    def finish(self, session: Session) -> None:
        """Rebuild deferred indexes; then money received before its invoices were imported is
        applied to them."""
        if self.deferred_indexes:
            restore_indexes(session, self.deferred_indexes)
            self.deferred_indexes = []
        if not self.touched_customers:
            return
        waiting = {
            customer_id
            for (customer_id,) in rows_by_key(
                session,
                select(Payment.customer_id).where(Payment.status != "allocated").distinct(),
                Payment.customer_id,
                self.touched_customers,
            )
        }
        for customer_id in sorted(waiting):
            service.apply_unallocated_credit(session, actor=self.ctx.actor, customer_id=customer_id)


def _write(
    session: Session, invoices: list[tuple[Any, ...]], installments: list[tuple[Any, ...]]
) -> None:
    bulk_insert(session, Invoice.__table__, _INVOICE_COLUMNS, invoices)
    bulk_insert(session, Installment.__table__, _INSTALLMENT_COLUMNS, installments)


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
            data = PaymentCreate(
                reference=values["reference"],
                customer_id=customer_id,
                received_on=values["received_on"],
                amount=values["amount"],
                currency=values.get("currency") or currency,
                method=PaymentMethod(values.get("method", PaymentMethod.BANK_TRANSFER.value)),
                invoice_number=values.get("invoice"),
            )
            current = existing.get(data.reference)
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
    from flywheel.kit.batches import chunks

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
