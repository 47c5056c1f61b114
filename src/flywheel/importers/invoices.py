"""The invoice import, built for ERP histories of millions of rows.

It works in two steps per batch. ``prepare`` reads and decides (no writes): which rows are new,
unchanged, changed or rejected, with the new rows already in the database driver's form.
``apply`` writes: changed invoices through ``receivables.service`` (same locking rules and audit
as in the application), new ones in bulk with explicit ids. For a large file the two steps run
in two processes (``importers.pipeline``): one reads and prepares the next batch while the
other writes this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, bindparam, select
from sqlalchemy.orm import Session

from flywheel.db import (
    bulk_insert,
    defer_indexes,
    reserve_ids,
    restore_indexes,
    storage_converters,
    to_storage,
)
from flywheel.errors import FlywheelError
from flywheel.importers.fields import INVOICES
from flywheel.importers.lookups import CustomerDirectory, ids_by_key, rows_by_key
from flywheel.importers.runner import ImportContext, Outcome, Record, Result, RowError
from flywheel.kit.batches import chunks
from flywheel.kit.terms import due_date_for
from flywheel.models.base import utcnow
from flywheel.models.enums import InvoiceStatus
from flywheel.models.receivables import ZERO, Installment, Invoice, Payment
from flywheel.models.sales import Order
from flywheel.receivables import service
from flywheel.receivables.schemas import InstallmentIn, InvoiceCreate

# From this many rows on, a SQLite import drops the non-unique indexes of invoices and
# installments and builds them again at the end: sorting once is about three times faster than
# keeping random-order indexes up to date row by row. (DDL is transactional in SQLite, and
# readers keep seeing the committed tables and indexes until the import commits.)
LARGE_IMPORT_ROWS = 200_000

# Columns a new invoice's prepared values hold, in order; the ids and the constant columns
# (zero totals, status, creation time) are added when the batch is written.
_PREPARED_INVOICE = (
    "number",
    "customer_id",
    "order_id",
    "issue_date",
    "payment_terms",
    "amount",
    "currency",
)
_INVOICE_COLUMNS = (
    "id",
    *_PREPARED_INVOICE,
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
_INSTALLMENT_TABLE = Installment.__table__
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
_EXISTING_SCHEDULES = (
    select(
        _INSTALLMENT_TABLE.c.invoice_id, _INSTALLMENT_TABLE.c.due_date, _INSTALLMENT_TABLE.c.amount
    )
    .where(_INSTALLMENT_TABLE.c.invoice_id.in_(bindparam("ids", expanding=True)))
    .order_by(_INSTALLMENT_TABLE.c.invoice_id, _INSTALLMENT_TABLE.c.sequence)
)
_SHARED = ("customer", "issue_date", "amount", "currency", "payment_terms", "order")

Schedule = list[tuple[date, Decimal]]


@dataclass(slots=True)
class InvoiceBatch:
    """What ``prepare`` decided for a batch; plain data, so it can cross a process boundary.

    ``results[i]`` is the outcome of group ``i`` row by row, or None while ``apply`` decides.
    ``new`` holds (group, invoice values as in ``_PREPARED_INVOICE``, installments as
    (due date, amount)) in the driver's form; ``updates`` holds (group, invoice id, data).
    """

    rows: list[list[int]]
    results: list[list[Result] | None]
    new: list[tuple[int, tuple[Any, ...], list[tuple[Any, Any]]]] = field(default_factory=list)
    updates: list[tuple[int, int, InvoiceCreate]] = field(default_factory=list)
    raw: dict[int, list[str | None]] = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)


class InvoicesHandler:
    spec = INVOICES
    group_by: str | None = "number"
    whole_file = False

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.customers: CustomerDirectory | None = None
        self.touched_customers: set[int] = set()
        self.deferred_indexes: list[Index] = []
        self.stored_dates: dict[Any, Any] = {}
        self.ledger_was_empty: bool | None = None

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        return self.apply(session, self.prepare(session, groups))

    # ------------------------------------------------------------ prepare: read and decide

    def prepare(self, session: Session, groups: list[list[Record]]) -> InvoiceBatch:
        customers = self.customers = self.customers or CustomerDirectory(session)
        customers.load(g[0].values["customer"] for g in groups)
        if self.ledger_was_empty is None:
            self.ledger_was_empty = session.execute(select(Invoice.id).limit(1)).first() is None
        # A first load into an empty ledger has nothing to compare with: a number cannot come
        # back within the file (grouping rejects it), so every lookup would come back empty.
        existing = (
            {}
            if self.ledger_was_empty
            else _existing(session, [g[0].values["number"] for g in groups])
        )
        order_numbers = {g[0].values["order"] for g in groups if "order" in g[0].values}
        orders = (
            ids_by_key(session, Order.number, Order.id, sorted(order_numbers))
            if order_numbers
            else {}
        )
        batch = InvoiceBatch(rows=[[r.row for r in g] for g in groups], results=[])
        fresh: list[tuple[int, dict[str, Any], Schedule]] = []
        for index, group in enumerate(groups):
            outcome = self._decide(group, customers, orders, existing)
            if isinstance(outcome, list):
                batch.results.append(outcome)
                for record, result in zip(group, outcome, strict=True):
                    if isinstance(result, RowError):
                        batch.raw[record.row] = record.raw
                continue
            batch.results.append(None)
            values, schedule, current = outcome
            batch.touched.add(values["customer_id"])
            if current is None:
                fresh.append((index, values, schedule))
                continue
            batch.updates.append((index, current["id"], _invoice_data(values, schedule)))
            for record in group:
                batch.raw[record.row] = record.raw
        batch.new = _to_storage(session, fresh, self.stored_dates)
        return batch

    def _decide(
        self,
        group: list[Record],
        customers: CustomerDirectory,
        orders: dict[str, int],
        existing: dict[str, dict[str, Any]],
    ) -> list[Result] | tuple[dict[str, Any], Schedule, dict[str, Any] | None]:
        """Rejected or unchanged rows as results; otherwise the invoice wanted and the stored
        one (None when new)."""
        ctx = self.ctx
        first = group[0]
        head = first.values

        def reject_all(record: Record, field_name: str | None, reason: str) -> list[Result]:
            return _reject_group(
                ctx, [r.row for r in group], record.row, field_name, reason, head["number"]
            )

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
        # A blank cell keeps what is stored; a new invoice takes the customer's defaults.
        current = existing.get(head["number"])
        terms = head.get("payment_terms") or (
            current["payment_terms"] if current else customer_terms
        )
        order_id = current["order_id"] if current else None
        if "order" in head:
            order_id = orders.get(head["order"])
            if order_id is None:
                return reject_all(first, "order", f"unknown order {head['order']}")
        issued: date = head["issue_date"]
        amount: Decimal = head["amount"]
        schedule: Schedule = []
        if len(group) == 1:
            part = head.get("installment_amount")
            if part is not None and part != amount:
                return reject_all(
                    first,
                    "installment_amount",
                    f"installment amount {part} differs from the invoice amount {amount}",
                )
            due = head.get("due_date")
            if due is None and current is not None and len(current["schedule"]) == 1:
                same_basis = current["issue_date"] == issued and current["payment_terms"] == terms
                due = current["schedule"][0][0] if same_basis else None
            schedule.append((due or due_date_for(terms, issued), amount))
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
        values = {
            "number": head["number"],
            "customer_id": customer_id,
            "order_id": order_id,
            "issue_date": issued,
            "payment_terms": terms,
            "amount": amount,
            "currency": head.get("currency")
            or (current["currency"] if current else customer_currency),
        }
        if (
            current is not None
            and current["schedule"] == schedule
            and all(current[k] == values[k] for k in _PREPARED_INVOICE if k != "number")
        ):
            return [Outcome.UNCHANGED] * len(group)
        return values, schedule, current

    # ------------------------------------------------------------ apply: write

    def apply(self, session: Session, batch: InvoiceBatch) -> list[list[Result]]:
        results = batch.results
        for index, invoice_id, data in batch.updates:
            results[index] = self._update(session, batch.rows[index], invoice_id, data)
        for index, _, _ in batch.new:
            results[index] = [Outcome.INSERTED] * len(batch.rows[index])
        self._insert(session, batch.new)
        self.touched_customers |= batch.touched
        return [r if r is not None else [] for r in results]

    def _update(
        self, session: Session, rows: list[int], invoice_id: int, data: InvoiceCreate
    ) -> list[Result]:
        try:
            with session.begin_nested():
                service.update_invoice(
                    session, actor=self.ctx.actor, invoice_id=invoice_id, data=data
                )
        except FlywheelError as exc:
            field_name = str(exc.details.get("field") or "amount")
            return _reject_group(self.ctx, rows, rows[0], field_name, exc.message, data.number)
        return [Outcome.UPDATED] * len(rows)

    def _insert(
        self, session: Session, new: list[tuple[int, tuple[Any, ...], list[tuple[Any, Any]]]]
    ) -> None:
        if not new:
            return
        if self._large_sqlite_import(session) and not self.deferred_indexes:
            self.deferred_indexes = defer_indexes(session, (_INVOICE_TABLE, _INSTALLMENT_TABLE))
        invoice_ids = reserve_ids(session, "invoices", len(new))
        installment_ids = iter(reserve_ids(session, "installments", sum(len(s) for _, _, s in new)))
        # The constant columns, once in the driver's form.
        zero, open_status, created = (
            to_storage([value], process)[0]
            for value, process in zip(
                (ZERO, InvoiceStatus.OPEN.value, utcnow()),
                storage_converters(session, _INVOICE_TABLE, ("amount", "status", "created_at")),
                strict=True,
            )
        )
        invoices: list[tuple[Any, ...]] = []
        installments: list[tuple[Any, ...]] = []
        for invoice_id, (_, values, schedule) in zip(invoice_ids, new, strict=True):
            invoices.append((invoice_id, *values, zero, zero, zero, open_status, created))
            customer_id = values[1]
            for sequence, (due, part) in enumerate(schedule, start=1):
                installments.append(
                    (
                        next(installment_ids),
                        invoice_id,
                        customer_id,
                        sequence,
                        due,
                        part,
                        zero,
                        zero,
                        zero,
                        open_status,
                    )
                )
        bulk_insert(session, _INVOICE_TABLE, _INVOICE_COLUMNS, invoices, converted=True)
        bulk_insert(session, _INSTALLMENT_TABLE, _INSTALLMENT_COLUMNS, installments, converted=True)

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


def _reject_group(
    ctx: ImportContext,
    rows: list[int],
    culprit: int,
    field_name: str | None,
    reason: str,
    number: str,
) -> list[Result]:
    """The culprit row gets the reason; the other rows of the invoice point at it."""
    column = ctx.column(field_name) if field_name else None
    return [
        RowError(row, column, reason)
        if row == culprit
        else RowError(row, None, f"invoice {number} rejected: see row {culprit}")
        for row in rows
    ]


def _invoice_data(values: dict[str, Any], schedule: Schedule) -> InvoiceCreate:
    return InvoiceCreate(
        number=values["number"],
        customer_id=values["customer_id"],
        issue_date=values["issue_date"],
        amount=values["amount"],
        order_id=values["order_id"],
        payment_terms=values["payment_terms"],
        currency=values["currency"],
        installments=[InstallmentIn(due_date=d, amount=a) for d, a in schedule],
    )


def _to_storage(
    session: Session,
    fresh: list[tuple[int, dict[str, Any], Schedule]],
    dates: dict[Any, Any],
) -> list[tuple[int, tuple[Any, ...], list[tuple[Any, Any]]]]:
    """New invoices and their installments in the driver's form, converted column by column;
    ``dates`` remembers converted dates across batches."""
    if not fresh:
        return []
    columns = [
        to_storage(
            [values[name] for _, values, _ in fresh],
            process,
            dates if name == "issue_date" else None,
        )
        for name, process in zip(
            _PREPARED_INVOICE,
            storage_converters(session, _INVOICE_TABLE, _PREPARED_INVOICE),
            strict=True,
        )
    ]
    due_process, amount_process = storage_converters(
        session, _INSTALLMENT_TABLE, ("due_date", "amount")
    )
    flat = [part for _, _, schedule in fresh for part in schedule]
    dues = iter(to_storage([d for d, _ in flat], due_process, dates))
    whole_amounts = columns[_PREPARED_INVOICE.index("amount")]
    # Most invoices have one installment of the whole amount, converted once already.
    split = [a for _, _, schedule in fresh if len(schedule) > 1 for _, a in schedule]
    split_amounts = iter(to_storage(split, amount_process))
    prepared: list[tuple[int, tuple[Any, ...], list[tuple[Any, Any]]]] = []
    for (index, _, schedule), row, whole in zip(
        fresh, zip(*columns, strict=True), whole_amounts, strict=True
    ):
        if len(schedule) == 1:
            prepared.append((index, row, [(next(dues), whole)]))
        else:
            prepared.append((index, row, [(next(dues), next(split_amounts)) for _ in schedule]))
    return prepared


def _existing(session: Session, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored invoices among ``numbers``, read with Core: no ORM objects for millions."""
    connection = session.connection()
    found: dict[str, dict[str, Any]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(numbers))):
        for number, inv_id, cust, order_id, issued, terms, amount, currency in connection.execute(
            _EXISTING_INVOICES, {"numbers": part}
        ):
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
    for id_part in chunks(sorted(by_id)):
        for inv_id, due, amount in connection.execute(_EXISTING_SCHEDULES, {"ids": id_part}):
            by_id[inv_id]["schedule"].append((due, amount))
    return found
