"""The receivables ledger read once, in columns: numpy arrays of installments, the allocations
that settled them and the customers' attributes, for figures as of a date.

Analytics (aging, DSO/CEI, credit scores, payment-date models) start here instead of loading
ORM objects. One SQL statement per table selects only the needed columns as integers (days
since 1970-01-01, cents), so the database driver hands back plain ints and numpy takes them
in one step; nothing creates a Python object per row beyond the driver's tuple. On
PostgreSQL the rows come through a binary COPY parsed by numpy, not even a tuple per row.
A caller whose transaction has written nothing yet (the daily cycle) may ask for a
``committed`` read: it goes through the ADBC drivers into Arrow columns
(``column_reader``), about twice as fast again.

What a read holds (``read_ledger``):

* ``as_of``: the business date of the figures. Invoices issued after it do not exist yet;
  allocations applied after it (``allocations.applied_on``) and write-offs dated after it
  (the installment's ``settled_on``) have not happened yet.
* ``since`` (optional): the read is complete from that day: every installment open on some day
  from ``since`` to ``as_of``, every installment due on or after ``since`` (so every invoice
  issued from ``since`` on, with all its installments), and every allocation applied on or
  after ``since``. ``open_on(day)`` is exact for any day from ``since`` to ``as_of``. Without
  ``since`` the read holds only what is open on ``as_of`` (the aging report's need).

Cancelled invoices are left out everywhere: a cancelled invoice was issued in error.
Money is in integer cents (``int64``); days are ``datetime64[D]``.

The open amount on a day is rolled back from today's running totals: what is open now, plus
the allocations applied after that day, plus a write-off dated after it. So a read needs only
the installments not settled before ``since`` (or ``as_of``) and the allocations after it,
not the whole history. Measured on 100,000 customers: ``benchmarks/bench_ar.py``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from flywheel.models.customers import Customer
from flywheel.models.enums import InvoiceStatus
from flywheel.models.receivables import Allocation, Installment, Invoice
from flywheel.models.users import User
from flywheel.receivables import column_reader

IntArray = npt.NDArray[np.int64]
DayArray = npt.NDArray[np.datetime64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]
AnySelect = Select[*tuple[Any, ...]]
Fetch = Callable[[AnySelect, int], IntArray]  # (statement, width) → its rows of ints

EPOCH = date(1970, 1, 1)
_NO_DAY = 2_147_483_647  # a NULL date in the integer columns; becomes NaT
_CHUNK = 900  # ids per IN (...) list: below SQLite's bound-parameter limit


def to_day(value: date) -> np.datetime64:
    return np.datetime64(value.isoformat(), "D")


def _as_day(value: date | np.datetime64) -> np.datetime64:
    if isinstance(value, np.datetime64):
        day: np.datetime64 = value.astype("datetime64[D]")
        return day
    return to_day(value)


def from_day(value: np.datetime64) -> date:
    return EPOCH + timedelta(days=int(value.astype("datetime64[D]").astype(np.int64)))


# ---------------------------------------------------------------- the columns


@dataclass(frozen=True, slots=True)
class CustomerColumns:
    """The visible customers, ordered by id: what aging groups by."""

    id: IntArray
    code: ObjectArray
    owner_id: IntArray  # 0: no owner
    owner: ObjectArray  # the owner's username, None when there is none
    region: ObjectArray  # None when unknown
    tier: ObjectArray

    def __len__(self) -> int:
        return int(self.id.size)

    def index_of(self, customer_id: npt.ArrayLike) -> IntArray:
        """Row of each customer id (ids must be among ``id``)."""
        return np.searchsorted(self.id, np.asarray(customer_id, dtype=np.int64)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class InstallmentColumns:
    """One entry per installment, ordered by id."""

    id: IntArray
    invoice_id: IntArray
    customer_id: IntArray
    customer: IntArray  # row in ``CustomerColumns``
    issue_day: DayArray  # the invoice's issue date
    due_day: DayArray
    amount: IntArray  # cents
    open_now: IntArray  # cents open today in the ledger (every allocation and write-off)
    written_off: IntArray  # cents written off (today)
    settled_day: DayArray  # when it was settled in full (the write-off date); NaT while open

    def __len__(self) -> int:
        return int(self.id.size)


@dataclass(frozen=True, slots=True)
class AllocationColumns:
    """Money applied to the installments of the read, on or after its ``since`` (or after
    ``as_of``), ordered by installment."""

    installment: IntArray  # row in ``InstallmentColumns``
    applied_day: DayArray
    amount: IntArray  # cents
    from_payment: BoolArray  # False: from a credit note

    def __len__(self) -> int:
        return int(self.installment.size)


@dataclass(frozen=True, slots=True)
class LedgerColumns:
    as_of: date
    since: date | None
    currency: str | None
    customers: CustomerColumns
    installments: InstallmentColumns
    allocations: AllocationColumns
    timings: dict[str, float] = field(default_factory=dict)
    # Installments reach back to here (every one due or settled on or after it) when a read
    # asked for more history than ``since`` (``read_ledger(history_since=…)``); else ``since``.
    history_since: date | None = None

    def reaches_back(self) -> date | None:
        """The first day the installments are complete from (their payment history)."""
        return self.history_since if self.history_since is not None else self.since

    def sizes(self) -> dict[str, int]:
        """Rows read, per table."""
        return {
            "customers": len(self.customers),
            "installments": len(self.installments),
            "allocations": len(self.allocations),
        }

    def exists_on(self, day: date | np.datetime64) -> BoolArray:
        """Installments of invoices issued on or before ``day``."""
        mask: BoolArray = self.installments.issue_day <= _as_day(day)
        return mask

    def open_on(self, day: date | np.datetime64) -> IntArray:
        """Cents open on ``day`` per installment: amount − allocations applied on or before
        ``day`` − a write-off dated on or before it; 0 before the invoice was issued."""
        d = _as_day(day)
        self._check_day(d)
        inst, alloc = self.installments, self.allocations
        later = alloc.applied_day > d
        added_back = np.bincount(
            alloc.installment[later], weights=alloc.amount[later], minlength=len(inst)
        )
        written_later = np.where(inst.settled_day > d, inst.written_off, 0)
        opened = inst.open_now + np.rint(added_back).astype(np.int64) + written_later
        return np.where(inst.issue_day <= d, opened, 0).astype(np.int64)

    def open_on_each(self, days: npt.ArrayLike) -> IntArray:
        """Cents open per installment, each on its own day (``days``, one per installment),
        e.g. its due date + 90 days. Days after ``as_of`` count as ``as_of``."""
        inst, alloc = self.installments, self.allocations
        d = np.minimum(np.asarray(days, dtype="datetime64[D]"), to_day(self.as_of))
        later = alloc.applied_day > d[alloc.installment]
        added_back = np.bincount(
            alloc.installment[later], weights=alloc.amount[later], minlength=len(inst)
        )
        written_later = np.where(inst.settled_day > d, inst.written_off, 0)
        opened = inst.open_now + np.rint(added_back).astype(np.int64) + written_later
        return np.where(inst.issue_day <= d, opened, 0).astype(np.int64)

    def _check_day(self, day: np.datetime64) -> None:
        first = to_day(self.since) if self.since is not None else to_day(self.as_of)
        if day < first or day > to_day(self.as_of):
            raise ValueError(
                f"this read gives open amounts from {from_day(first)} to {self.as_of}, "
                f"not on {from_day(day)}"
            )


# ---------------------------------------------------------------- reading


def _day_sql(column: Any, dialect: str) -> ColumnElement[int]:
    """A date column as days since 1970-01-01 (an integer), NULL as ``_NO_DAY``."""
    if dialect == "sqlite":
        days = cast(func.julianday(column) - 2440587.5, Integer)
    else:
        days = cast(column - literal(EPOCH), Integer)
    return func.coalesce(days, _NO_DAY)


def _cents_sql(expression: Any, dialect: str) -> ColumnElement[int]:
    """A money expression as integer cents, without building a Decimal per value."""
    if dialect == "sqlite":
        return type_coerce(expression, BigInteger)  # stored as cents already
    return cast(expression * 100, BigInteger)


def _rows(session: Session, statement: AnySelect) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the driver's plain tuples. Every column here is an int or
    text needing no conversion, so SQLAlchemy's per-row Row objects (a third of the read's
    time) are skipped: the statement is compiled and run by SQLAlchemy, the fetch is the
    driver's own."""
    result = session.connection().execute(statement)
    try:
        rows: list[tuple[Any, ...]] = list(result.cursor.fetchall())
    finally:
        result.close()
    return rows


def _ints(session: Session, statement: AnySelect, width: int) -> IntArray:
    """Run ``statement`` (integer columns only, never NULL) and return its rows as an
    (n, width) array. PostgreSQL sends them through a binary COPY on the session's own
    connection (so the read sees the transaction's own changes), parsed by numpy: no Python
    object per value. Other databases go through the driver's tuples."""
    if session.get_bind().dialect.name == "postgresql":
        return _copy_ints(session, statement, width)
    rows = _rows(session, statement)
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.int64, count=len(rows) * width).reshape(len(rows), width)


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_PIECE = 1 << 24  # bytes parsed at a time, so the raw stream is never held whole


def _copy_ints(session: Session, statement: AnySelect, width: int) -> IntArray:
    """PostgreSQL: ``COPY (statement) TO STDOUT (FORMAT BINARY)`` with every column cast to
    bigint. Each row is then a field count (int16) and, per field, a length (int32, always 8)
    and the value (int64), all big-endian: a fixed-size record numpy reads in one step."""
    inner = statement.subquery()
    wide = select(*(cast(column, BigInteger) for column in inner.c))
    compiled = wide.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i in range(width):
        fields += [(f"size{i}", ">i4"), (f"value{i}", ">i8")]
    record = np.dtype(fields)
    parts: list[IntArray] = []
    pending = bytearray()
    started = False

    def take(final: bool) -> None:
        whole = len(pending) // record.itemsize * record.itemsize
        if final and bytes(pending[whole:]) != b"\xff\xff":
            raise RuntimeError("the COPY stream from PostgreSQL did not end as expected")
        if not whole:
            return
        rows = np.frombuffer(pending, dtype=record, count=whole // record.itemsize)
        sizes_ok = all(bool((rows[f"size{i}"] == 8).all()) for i in range(width))
        if not (rows["count"] == width).all() or not sizes_ok:
            raise RuntimeError("a column of a binary COPY was not a bigint or was NULL")
        parts.append(np.stack([rows[f"value{i}"] for i in range(width)], axis=1).astype(np.int64))
        del rows
        del pending[:whole]

    raw = session.connection().connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT BINARY)") as copy,
    ):
        for block in copy:
            pending.extend(block)
            if not started and len(pending) >= 19:
                if bytes(pending[:11]) != _COPY_SIGNATURE:
                    raise RuntimeError("PostgreSQL sent a COPY stream that is not binary")
                extension = int.from_bytes(pending[15:19], "big")
                del pending[: 19 + extension]
                started = True
            if started and len(pending) >= _COPY_PIECE:
                take(final=False)
    take(final=True)
    if not parts:
        return np.empty((0, width), dtype=np.int64)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _days(values: IntArray) -> DayArray:
    days = values.astype("datetime64[D]")
    days[values == _NO_DAY] = np.datetime64("NaT")
    return days


def visible_customer_ids(customers: ColumnElement[bool]) -> Select[int] | None:
    """The customer-id subquery of a WHERE clause on ``Customer`` (None: every customer)."""
    if isinstance(customers, True_):
        return None
    return select(Customer.id).where(customers)


def read_customers(
    session: Session, customers: ColumnElement[bool] | None = None
) -> CustomerColumns:
    """Every customer ``customers`` (a WHERE clause on Customer) keeps, ordered by id. Names
    are left out (the widest column): ``customer_names`` gives those of a page."""
    statement = (
        select(
            Customer.id,
            Customer.code,
            func.coalesce(Customer.owner_id, 0),
            Customer.region,
            Customer.tier,
        )
        .where(customers if customers is not None else true())
        .order_by(Customer.id)
    )
    rows = _rows(session, statement)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 5
    usernames = {int(r[0]): str(r[1]) for r in session.execute(select(User.id, User.username))}
    owner_id = np.asarray(columns[2], dtype=np.int64)
    return CustomerColumns(
        id=np.asarray(columns[0], dtype=np.int64),
        code=np.asarray(columns[1], dtype=object),
        owner_id=owner_id,
        owner=np.asarray([usernames.get(int(o)) for o in owner_id], dtype=object),
        region=np.asarray(columns[3], dtype=object),
        tier=np.asarray(columns[4], dtype=object),
    )


def customer_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """Code → name of the given customers (a page of them)."""
    if not codes:
        return {}
    rows = session.execute(select(Customer.code, Customer.name).where(Customer.code.in_(codes)))
    return {str(r[0]): str(r[1]) for r in rows}


_INSTALLMENT_WIDTH = 9


def _with_invoice(
    statement: AnySelect, invoice_id: Any, dialect: str, as_of: date, currency: str | None
) -> tuple[AnySelect, ColumnElement[Any]]:
    """Join each row's invoice by its key, keeping invoices issued by ``as_of`` in
    ``currency``; returns the statement and the invoice's issue day column.

    For reads of a small part of the ledger (what is open on a day): the database must start
    from the rows' own filter and look each invoice up, not go through every invoice. SQLite
    does when the key is an expression ("+ 0" hides its index on the other side); PostgreSQL
    does with a LATERAL subquery (a plain join there hashes all the invoices first).
    """
    inv = Invoice.__table__.c
    if dialect == "postgresql":
        # LIMIT 1 (the key is unique anyway) keeps PostgreSQL from flattening the subquery
        # back into that plain join.
        found = (
            select(inv.issue_date, inv.currency)
            .where(inv.id == invoice_id)
            .limit(1)
            .lateral("invoice")
        )
        statement = statement.join(found, true())
        issue, currency_of = found.c.issue_date, found.c.currency
    else:
        statement = statement.join(Invoice, inv.id == invoice_id + 0)
        issue, currency_of = inv.issue_date, inv.currency
    statement = statement.where(issue <= as_of)
    if currency is not None:
        statement = statement.where(currency_of == currency)
    return statement, _day_sql(issue, dialect)


def _installment_select(
    dialect: str,
    scope: Select[int] | None,
    invoice: tuple[date, str | None] | None = None,
) -> AnySelect:
    """The installments' columns (``_INSTALLMENT_WIDTH``). With ``invoice`` (as_of,
    currency) each row's invoice is joined (``_with_invoice``); without, the issue day is a
    placeholder filled from one scan of the invoices (a read of most of the ledger)."""
    inst = Installment.__table__.c
    base = select(inst.id).where(inst.status != InvoiceStatus.CANCELLED.value)
    issue: ColumnElement[Any] = literal(0)
    if invoice is not None:
        base, issue = _with_invoice(base, inst.invoice_id, dialect, *invoice)
    statement = base.with_only_columns(
        inst.id,
        inst.invoice_id,
        inst.customer_id,
        issue,
        _day_sql(inst.due_date, dialect),
        _cents_sql(inst.amount, dialect),
        _cents_sql(
            inst.amount - inst.paid_amount - inst.credited_amount - inst.written_off_amount,
            dialect,
        ),
        _cents_sql(inst.written_off_amount, dialect),
        _day_sql(inst.settled_on, dialect),
        maintain_column_froms=True,
    )
    if scope is not None:
        statement = statement.where(inst.customer_id.in_(scope))
    return statement


@dataclass(frozen=True, slots=True)
class _Invoices:
    """Id, issue day and currency match of the invoices from some id on, ordered by id."""

    id: IntArray
    issue_day: IntArray
    wanted: BoolArray  # in the currency asked for (every one when none is)

    def find(self, invoice_id: IntArray) -> tuple[IntArray, BoolArray]:
        """Row of each invoice id, and whether it is there."""
        if not self.id.size:
            return np.zeros(invoice_id.size, dtype=np.int64), np.zeros(invoice_id.size, bool)
        row = np.minimum(np.searchsorted(self.id, invoice_id), self.id.size - 1)
        return row.astype(np.int64), self.id[row] == invoice_id


def _read_invoices(
    ints: Fetch, dialect: str, currency: str | None, from_id: int, scope: Select[int] | None
) -> _Invoices:
    inv = Invoice.__table__.c
    wanted = cast(inv.currency == currency, Integer) if currency is not None else literal(1)
    statement = select(inv.id, _day_sql(inv.issue_date, dialect), wanted).where(inv.id >= from_id)
    if scope is not None:
        statement = statement.where(inv.customer_id.in_(scope))
    rows = ints(statement, 3)
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    return _Invoices(id=rows[:, 0], issue_day=rows[:, 1], wanted=rows[:, 2].astype(bool))


def cut_ledger(ledger: LedgerColumns, *, as_of: date, since: date) -> LedgerColumns:
    """What ``read_ledger(as_of=as_of, since=since)`` (every customer and currency) holds, cut
    from a read that covers more (earlier ``since``, later ``as_of``): the installments of
    invoices issued by ``as_of`` that are open, settled on or after ``since``, due on or after
    it, or touched by an allocation applied on or after it; and those allocations."""
    if ledger.since is None or ledger.since > since or ledger.as_of < as_of:
        raise ValueError(
            f"a read from {ledger.since} to {ledger.as_of} cannot give {since} to {as_of}"
        )
    inst, alloc = ledger.installments, ledger.allocations
    first = to_day(since)
    late_allocation = alloc.applied_day >= first
    touched = np.zeros(len(inst), dtype=bool)
    touched[alloc.installment[late_allocation]] = True
    keep: BoolArray = (inst.issue_day <= to_day(as_of)) & (
        np.isnat(inst.settled_day) | (inst.settled_day >= first) | (inst.due_day >= first) | touched
    )
    row = np.cumsum(keep, dtype=np.int64) - 1
    kept_allocation = late_allocation & keep[alloc.installment]
    return LedgerColumns(
        as_of=as_of,
        since=since,
        currency=ledger.currency,
        customers=ledger.customers,
        installments=InstallmentColumns(
            id=inst.id[keep],
            invoice_id=inst.invoice_id[keep],
            customer_id=inst.customer_id[keep],
            customer=inst.customer[keep],
            issue_day=inst.issue_day[keep],
            due_day=inst.due_day[keep],
            amount=inst.amount[keep],
            open_now=inst.open_now[keep],
            written_off=inst.written_off[keep],
            settled_day=inst.settled_day[keep],
        ),
        allocations=AllocationColumns(
            installment=row[alloc.installment[kept_allocation]],
            applied_day=alloc.applied_day[kept_allocation],
            amount=alloc.amount[kept_allocation],
            from_payment=alloc.from_payment[kept_allocation],
        ),
    )


def read_ledger(
    session: Session,
    *,
    as_of: date,
    since: date | None = None,
    currency: str | None = None,
    customers: ColumnElement[bool] | None = None,
    history_since: date | None = None,
    committed: bool = False,
) -> LedgerColumns:
    """Read the columns of the customers ``customers`` keeps (a WHERE clause on ``Customer``,
    e.g. ``visible_customers(actor)``), in ``currency`` (None: every currency), as of
    ``as_of``; complete from ``since`` (see the module's docstring).

    Without ``since`` (what is open on one day: a small part of the ledger) each candidate
    installment looks its invoice up; with it (most of the ledger) the invoices are read in
    one scan of their own and joined in memory.

    ``history_since`` (before ``since``): the installments reach further back, to every one
    due or settled from that day (their payment history: issue, due and settled days), while
    the allocations, and so the open amounts on past days, still start at ``since``.

    ``committed``: the caller's transaction has changed nothing the read must see, so on
    SQLite the rows may come through a connection of the read's own (``_own_reader``).
    """
    if since is not None and since > as_of:
        raise ValueError(f"since ({since}) is after as_of ({as_of})")
    if history_since is not None and (since is None or history_since > since):
        raise ValueError(f"history_since ({history_since}) needs a since on or after it")
    with _own_reader(session) if committed else _session_reader(session) as ints:
        return _read_ledger(
            session,
            ints,
            as_of=as_of,
            since=since,
            currency=currency,
            customers=customers,
            history_since=history_since,
        )


def import_readers() -> None:
    """Import what a ``committed`` read uses, before other threads start importing (two
    threads importing the same modules at once can see them half initialised)."""
    import adbc_driver_postgresql.dbapi  # type: ignore[import-untyped]  # noqa: F401
    import pyarrow  # type: ignore[import-untyped]  # noqa: F401


@contextmanager
def _session_reader(session: Session) -> Iterator[Fetch]:
    yield lambda statement, width: _ints(session, statement, width)


@contextmanager
def _own_reader(session: Session) -> Iterator[Fetch]:
    """Integer rows through a connection of their own, the ADBC driver's
    (``column_reader``): Arrow columns, no Python object per value. On the 100,000-customer
    demo the three-year read takes about half the time of the session's own. It sees only
    what is committed. An in-memory SQLite database has no other connection: there the
    session's own is used."""
    bind = session.get_bind()
    url = bind.engine.url
    opened: AbstractContextManager[Any]
    if bind.dialect.name == "postgresql":
        uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
        opened = column_reader.postgresql_reader(uri)
    elif bind.dialect.name == "sqlite" and _is_file(url.database):
        opened = column_reader.sqlite_reader(str(url.database))
    else:
        with _session_reader(session) as ints:
            yield ints
        return
    with opened as reader:

        def ints(statement: AnySelect, width: int) -> IntArray:
            sql = statement.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True})
            return reader.ints(str(sql), width)

        yield ints


def _is_file(database: str | None) -> bool:
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _read_ledger(
    session: Session,
    ints: Fetch,
    *,
    as_of: date,
    since: date | None,
    currency: str | None,
    customers: ColumnElement[bool] | None,
    history_since: date | None,
) -> LedgerColumns:
    dialect = session.get_bind().dialect.name
    where = customers if customers is not None else true()
    scope = visible_customer_ids(where)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    customer_columns = read_customers(session, where)
    timings["customers"] = time.perf_counter() - clock

    clock = time.perf_counter()
    inst = Installment.__table__.c
    first = since if since is not None else as_of + timedelta(days=1)
    reach = history_since if history_since is not None else first
    candidates = [inst.settled_on.is_(None), inst.settled_on >= reach]
    last_day = int((to_day(as_of) - np.datetime64(EPOCH, "D")).astype(np.int64))
    invoices: _Invoices | None = None
    if since is None:
        statement = _installment_select(dialect, scope, (as_of, currency))
        rows = ints(statement.where(or_(*candidates)), _INSTALLMENT_WIDTH)
    else:
        candidates.append(inst.due_date >= reach)
        statement = _installment_select(dialect, scope)
        rows = ints(statement.where(or_(*candidates)), _INSTALLMENT_WIDTH)
        invoice_clock = time.perf_counter()
        from_id = int(rows[:, 1].min()) if rows.size else 0
        invoices = _read_invoices(ints, dialect, currency, from_id, scope)
        rows = _with_issue_day(rows, invoices, last_day)
        timings["invoices"] = time.perf_counter() - invoice_clock
    timings["installments"] = time.perf_counter() - clock - timings.get("invoices", 0.0)

    clock = time.perf_counter()
    alloc_rows = _read_allocations(
        ints, dialect, first, scope, invoice=(as_of, currency) if since is None else None
    )
    if invoices is not None:
        # Only money on invoices of the currency that exist on as_of (the joined read of
        # a day's open items filtered these in SQL).
        row, found = invoices.find(alloc_rows[:, 4])
        keep = found & invoices.wanted[row] & (invoices.issue_day[row] <= last_day)
        alloc_rows = alloc_rows[keep]
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    # An allocation dated after an installment was settled in full (a payment entered late
    # with an earlier date closed it): that installment was open in the window too.
    missing = np.unique(alloc_rows[~_among(alloc_rows[:, 0], rows[:, 0]), 0])
    if missing.size:
        extra = [
            ints(statement.where(inst.id.in_(chunk.tolist())), _INSTALLMENT_WIDTH)
            for chunk in np.array_split(missing, max(1, -(-missing.size // _CHUNK)))
        ]
        more = np.concatenate(extra)
        if invoices is not None:
            more = _with_issue_day(more, invoices, last_day)
        rows = np.concatenate([rows, more])
        rows = rows[np.argsort(rows[:, 0], kind="stable")]
    timings["allocations"] = time.perf_counter() - clock

    installments = InstallmentColumns(
        id=rows[:, 0].copy(),
        invoice_id=rows[:, 1].copy(),
        customer_id=rows[:, 2].copy(),
        customer=customer_columns.index_of(rows[:, 2]),
        issue_day=_days(rows[:, 3]),
        due_day=_days(rows[:, 4]),
        amount=rows[:, 5].copy(),
        open_now=rows[:, 6].copy(),
        written_off=rows[:, 7].copy(),
        settled_day=_days(rows[:, 8]),
    )
    position = np.searchsorted(installments.id, alloc_rows[:, 0])
    position = np.minimum(position, max(len(installments) - 1, 0))
    known = (
        installments.id[position] == alloc_rows[:, 0]
        if len(installments)
        else np.zeros(alloc_rows.shape[0], dtype=bool)
    )
    alloc_rows, position = alloc_rows[known], position[known]
    by_installment = np.argsort(position, kind="stable")
    allocations = AllocationColumns(
        installment=position[by_installment].astype(np.int64),
        applied_day=_days(alloc_rows[by_installment, 1]),
        amount=alloc_rows[by_installment, 2].copy(),
        from_payment=alloc_rows[by_installment, 3].astype(bool),
    )
    return LedgerColumns(
        as_of=as_of,
        since=since,
        currency=currency,
        customers=customer_columns,
        installments=installments,
        allocations=allocations,
        timings=timings,
        history_since=history_since,
    )


def _among(values: IntArray, sorted_ids: IntArray) -> BoolArray:
    """Whether each of ``values`` is one of ``sorted_ids`` (ascending)."""
    if not sorted_ids.size:
        return np.zeros(values.size, dtype=bool)
    row = np.minimum(np.searchsorted(sorted_ids, values), sorted_ids.size - 1)
    found: BoolArray = sorted_ids[row] == values
    return found


def _with_issue_day(rows: IntArray, invoices: _Invoices, last_day: int) -> IntArray:
    """Fill in each installment's issue day; keep those of wanted invoices issued by as_of."""
    row, found = invoices.find(rows[:, 1])
    keep = found & invoices.wanted[row] & (invoices.issue_day[row] <= last_day)
    rows = rows[keep]
    rows[:, 3] = invoices.issue_day[row[keep]]
    return rows


def _read_allocations(
    ints: Fetch,
    dialect: str,
    first: date,
    scope: Select[int] | None,
    *,
    invoice: tuple[date, str | None] | None,
) -> IntArray:
    """Allocations applied on or after ``first``: installment id, day, cents, from a payment,
    invoice id. With ``invoice`` (as_of, currency; few rows) only those on invoices issued by
    as_of in the currency, by a join (``_with_invoice``)."""
    a = Allocation.__table__.c
    statement = select(a.id).where(a.applied_on >= first)
    if invoice is not None:
        statement, _issue = _with_invoice(statement, a.invoice_id, dialect, *invoice)
    statement = statement.with_only_columns(
        a.installment_id,
        _day_sql(a.applied_on, dialect),
        _cents_sql(a.amount, dialect),
        cast(a.payment_id.is_not(None), Integer),
        a.invoice_id,
        maintain_column_froms=True,
    )
    if scope is not None:
        statement = statement.where(a.customer_id.in_(scope))
    return ints(statement, 5)


def currencies_in_use(session: Session) -> list[str]:
    """The currencies the customers are invoiced in, most common first (read from the
    customers, not the far longer invoice table)."""
    rows = session.execute(
        select(Customer.currency, func.count())
        .group_by(Customer.currency)
        .order_by(func.count().desc(), Customer.currency)
    ).all()
    return [str(r[0]) for r in rows]


def days_between(later: DayArray | np.datetime64, earlier: DayArray | np.datetime64) -> IntArray:
    """Whole days from ``earlier`` to ``later`` as int64."""
    gap = np.asarray(later, dtype="datetime64[D]") - np.asarray(earlier, dtype="datetime64[D]")
    days: IntArray = gap.astype(np.int64)
    return days


def group_rows(values: Sequence[Any]) -> tuple[IntArray, list[Any]]:
    """Distinct values (sorted, None last) and each entry's index among them."""
    keys = sorted({v for v in values if v is not None})
    has_none = any(v is None for v in values)
    lookup = {k: i for i, k in enumerate(keys)}
    if has_none:
        lookup[None] = len(keys)
        keys.append(None)
    return np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values)), keys


__all__ = [
    "AllocationColumns",
    "CustomerColumns",
    "InstallmentColumns",
    "LedgerColumns",
    "currencies_in_use",
    "customer_names",
    "cut_ledger",
    "days_between",
    "import_readers",
    "read_customers",
    "read_ledger",
]
