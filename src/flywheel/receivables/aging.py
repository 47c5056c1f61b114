"""The aging report as of a date: open installments by days past their due date, in buckets,
grouped by customer, owner, region or tier, with totals and the drill-down to the installments.

Everything starts from ``visible_customers(actor)`` (a sales rep sees his own book) and from one
columnar read of the ledger (``ledger_columns.read_ledger``); amounts are summed in exact
integer cents and handed out as ``Decimal``.

Grouping is a mapping customer → group key: ``DIMENSIONS`` holds one ``Dimension`` per way to
group. Another (credit grade, say) is one more entry whose ``group`` function maps each
customer id to a label (``Grouping.from_mapping``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from flywheel.analytics.ar_kpis import AgingBuckets, aging_matrix
from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.config import get_settings
from flywheel.errors import ValidationFailed
from flywheel.kit.shapes import EARLIEST, LATEST
from flywheel.models.customers import Customer
from flywheel.models.receivables import Installment, Invoice
from flywheel.models.users import User
from flywheel.receivables.ledger_columns import (
    CustomerColumns,
    LedgerColumns,
    customer_names,
    days_between,
    read_ledger,
    to_day,
)

IntArray = npt.NDArray[np.int64]
NO_GROUP = ""  # the key of customers without an owner or a region
CENTS = Decimal("0.01")


def money(cents: int | np.integer[Any]) -> Decimal:
    return (Decimal(int(cents)) * CENTS).quantize(CENTS)


# ---------------------------------------------------------------- grouping


@dataclass(frozen=True, slots=True)
class Grouping:
    """Each customer's group: ``of_customer[i]`` indexes ``keys`` for customer row ``i``."""

    keys: list[str]
    labels: list[str]
    of_customer: IntArray

    @classmethod
    def from_values(
        cls, values: Sequence[Any], labels: Mapping[str, str] | None = None
    ) -> Grouping:
        """One group per distinct value (None → ``NO_GROUP``), sorted by key."""
        keys_of = [NO_GROUP if v is None else str(v) for v in values]
        keys = sorted(set(keys_of))
        index = {k: i for i, k in enumerate(keys)}
        of_customer = np.fromiter((index[k] for k in keys_of), dtype=np.int64, count=len(keys_of))
        names = [(labels or {}).get(k, k) for k in keys]
        return cls(keys=keys, labels=names, of_customer=of_customer)

    @classmethod
    def from_mapping(
        cls,
        customers: CustomerColumns,
        group_of: Mapping[int, str],
        labels: Mapping[str, str] | None = None,
    ) -> Grouping:
        """Group by a label per customer id (e.g. its credit grade); customers the mapping
        leaves out fall into ``NO_GROUP``."""
        return cls.from_values([group_of.get(int(c)) for c in customers.id], labels)


@dataclass(frozen=True, slots=True)
class Dimension:
    """A way to group the aging report."""

    name: str
    group: Callable[[Session, CustomerColumns], Grouping]
    # The customers of one group as a WHERE clause, so a drill-down reads only them (None:
    # read every visible customer and pick the group's in memory).
    narrow: Callable[[str], ColumnElement[bool]] | None = None
    # Labels of a page of groups, read only for that page (None: the grouping's own labels).
    names: Callable[[Session, list[str]], Mapping[str, str]] | None = None


def _by_customer(_session: Session, customers: CustomerColumns) -> Grouping:
    # One group per customer: keys are codes; built directly (no sorting of 100,000 keys).
    # Labels are the codes until a page asks for its names (``Dimension.names``).
    keys = [str(c) for c in customers.code]
    return Grouping(keys=keys, labels=keys, of_customer=np.arange(len(customers), dtype=np.int64))


def _by_owner(_session: Session, customers: CustomerColumns) -> Grouping:
    return Grouping.from_values(list(customers.owner))


def _by_region(_session: Session, customers: CustomerColumns) -> Grouping:
    return Grouping.from_values(list(customers.region))


def _by_tier(_session: Session, customers: CustomerColumns) -> Grouping:
    return Grouping.from_values(list(customers.tier))


def _by_grade(session: Session, customers: CustomerColumns) -> Grouping:
    # The grade of the newest credit snapshot; accounts never scored fall into NO_GROUP.
    from flywheel.credit.service import grades_of

    return Grouping.from_mapping(customers, grades_of(session, as_of=date.max))


def _owner_is(key: str) -> ColumnElement[bool]:
    if key == NO_GROUP:
        return Customer.owner_id.is_(None)
    return Customer.owner_id.in_(select(User.id).where(User.username == key))


# Narrowing a drill-down in SQL pays for small groups (a customer, an owner's book), read
# through the customer index; a region or a tier is a large part of the ledger, read faster
# by the scan of open items and picked in memory.
DIMENSIONS: dict[str, Dimension] = {
    "customer": Dimension(
        "customer", _by_customer, lambda key: Customer.code == key, names=customer_names
    ),
    "owner": Dimension("owner", _by_owner, _owner_is),
    "region": Dimension("region", _by_region),
    "tier": Dimension("tier", _by_tier),
    "grade": Dimension("grade", _by_grade),
}


def dimension(name: str) -> Dimension:
    found = DIMENSIONS.get(name)
    if found is None:
        raise ValidationFailed(
            f"cannot group aging by {name!r}; choose one of: {', '.join(DIMENSIONS)}",
            field="by",
            value=name,
        )
    return found


def check_as_of(as_of: date) -> date:
    """A business date the figures can be computed for (1900 to 2999)."""
    if not EARLIEST <= as_of <= LATEST:
        raise ValidationFailed(
            f"as_of must be between {EARLIEST} and {LATEST}", field="as_of", value=as_of
        )
    return as_of


def default_currency() -> str:
    """The currency figures are in when none is named: the base currency of the settings."""
    return get_settings().base_currency


def buckets_from(text: str | None) -> AgingBuckets:
    """Bucket edges as typed (``30,60,90,180``); the default buckets when empty."""
    if not text or not text.strip():
        return AgingBuckets()
    try:
        return AgingBuckets.parse(text)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="buckets", value=text) from None


# ---------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class AgingRow:
    key: str
    label: str
    buckets: list[Decimal]  # one amount per bucket, in ``AgingReport.bucket_keys`` order
    total: Decimal
    overdue: Decimal
    items: int  # open installments
    customers: int  # customers with an open installment


@dataclass(frozen=True, slots=True)
class AgingReport:
    as_of: date
    currency: str
    by: str
    bucket_keys: list[str]
    rows: list[AgingRow]  # the requested page, sorted
    groups: int  # groups with an open amount (all pages)
    totals: AgingRow
    sort: str
    timings: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # rows read, per table


SORTS = ("total", "overdue", "key")


@dataclass(frozen=True, slots=True)
class _Aged:
    """The open installments of a read, with their bucket and group."""

    ledger: LedgerColumns
    rows: IntArray  # installment rows open on as_of
    open: IntArray  # cents open on as_of, per entry of ``rows``
    days_past_due: IntArray
    bucket: IntArray
    group: IntArray
    grouping: Grouping


def _aged(
    session: Session,
    *,
    actor: Actor,
    as_of: date,
    currency: str,
    dim: Dimension,
    buckets: AgingBuckets,
    narrow: ColumnElement[bool] | None = None,
    timings: dict[str, float],
) -> _Aged:
    check_as_of(as_of)
    where = visible_customers(actor)
    if narrow is not None:
        where = and_(where, narrow)
    clock = time.perf_counter()
    ledger = read_ledger(session, as_of=as_of, currency=currency, customers=where)
    timings["read"] = time.perf_counter() - clock
    clock = time.perf_counter()
    inst = ledger.installments
    open_cents = ledger.open_on(as_of)
    rows = np.flatnonzero(open_cents > 0)
    days = days_between(to_day(as_of), inst.due_day[rows])
    grouping = dim.group(session, ledger.customers)
    aged = _Aged(
        ledger=ledger,
        rows=rows,
        open=open_cents[rows],
        days_past_due=days,
        bucket=buckets.bucket_of(days),
        group=grouping.of_customer[inst.customer[rows]],
        grouping=grouping,
    )
    timings["group"] = time.perf_counter() - clock
    return aged


def aging_report(
    session: Session,
    *,
    actor: Actor,
    as_of: date,
    currency: str,
    by: str = "customer",
    buckets: AgingBuckets | None = None,
    sort: str = "total",
    descending: bool = True,
    limit: int | None = 50,
    offset: int = 0,
) -> AgingReport:
    """The aging of the accounts ``actor`` may see, by ``by``, as of ``as_of``, in ``currency``.

    Only groups with an open amount are listed; ``limit=None`` lists them all.
    """
    dim = dimension(by)
    buckets = buckets or AgingBuckets()
    if sort not in SORTS and sort not in buckets.keys:
        raise ValidationFailed(
            f"cannot sort by {sort!r}; choose one of: {', '.join([*SORTS, *buckets.keys])}",
            field="sort",
            value=sort,
        )
    timings: dict[str, float] = {}
    aged = _aged(
        session,
        actor=actor,
        as_of=as_of,
        currency=currency,
        dim=dim,
        buckets=buckets,
        timings=timings,
    )
    clock = time.perf_counter()
    groups = len(aged.grouping.keys)
    matrix = aging_matrix(aged.group, aged.bucket, aged.open, groups=groups, buckets=buckets.count)
    items = np.bincount(aged.group, minlength=groups)
    customer_of = aged.ledger.installments.customer[aged.rows]
    pairs = np.unique(aged.group * max(len(aged.ledger.customers), 1) + customer_of)
    customers = np.bincount(pairs // max(len(aged.ledger.customers), 1), minlength=groups)
    totals = matrix.sum(axis=1)
    overdue = totals - matrix[:, 0]
    present = np.flatnonzero(totals > 0)
    order = _order(present, sort, descending, totals, overdue, matrix, aged.grouping, buckets)
    page = order[offset : None if limit is None else offset + limit]
    names: Mapping[str, str] = {}
    if dim.names is not None:
        names = dim.names(session, [aged.grouping.keys[g] for g in page])
    rows = [
        AgingRow(
            key=aged.grouping.keys[g],
            label=names.get(aged.grouping.keys[g], aged.grouping.labels[g]),
            buckets=[money(v) for v in matrix[g]],
            total=money(totals[g]),
            overdue=money(overdue[g]),
            items=int(items[g]),
            customers=int(customers[g]),
        )
        for g in page
    ]
    column_totals = matrix.sum(axis=0)
    grand = AgingRow(
        key="",
        label="",
        buckets=[money(v) for v in column_totals],
        total=money(column_totals.sum()),
        overdue=money(column_totals[1:].sum()),
        items=int(aged.rows.size),
        customers=int(np.unique(customer_of).size),
    )
    timings["compute"] = time.perf_counter() - clock + timings.pop("group")
    return AgingReport(
        as_of=as_of,
        currency=currency,
        by=by,
        bucket_keys=buckets.keys,
        rows=rows,
        groups=int(present.size),
        totals=grand,
        sort=sort,
        timings=timings,
        sizes=aged.ledger.sizes(),
    )


def _order(
    present: IntArray,
    sort: str,
    descending: bool,
    totals: IntArray,
    overdue: IntArray,
    matrix: IntArray,
    grouping: Grouping,
    buckets: AgingBuckets,
) -> IntArray:
    if sort == "key":
        ranked = sorted(present.tolist(), key=lambda g: grouping.keys[g])
        return np.asarray(ranked[::-1] if descending else ranked, dtype=np.int64)
    if sort == "total":
        values = totals[present]
    elif sort == "overdue":
        values = overdue[present]
    else:
        values = matrix[present, buckets.keys.index(sort)]
    # Ties in key order, so pages are stable.
    order = np.lexsort((present, -values if descending else values))
    return present[order]


# ---------------------------------------------------------------- drill-down


@dataclass(frozen=True, slots=True)
class AgedInstallment:
    installment_id: int
    invoice_number: str
    sequence: int
    customer_code: str
    customer_name: str
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal  # on as_of
    days_past_due: int
    bucket: str


@dataclass(frozen=True, slots=True)
class InstallmentPage:
    as_of: date
    currency: str
    by: str
    group: str
    bucket: str | None
    items: list[AgedInstallment]
    total: int
    open_amount: Decimal


def aging_installments(
    session: Session,
    *,
    actor: Actor,
    as_of: date,
    currency: str,
    by: str,
    group: str,
    bucket: str | None = None,
    buckets: AgingBuckets | None = None,
    limit: int = 50,
    offset: int = 0,
) -> InstallmentPage:
    """The open installments behind one cell of the aging report (``bucket`` None: the whole
    row), most days past due first. A group the actor cannot see answers with no items."""
    dim = dimension(by)
    buckets = buckets or AgingBuckets()
    if bucket is not None and bucket not in buckets.keys:
        raise ValidationFailed(
            f"no bucket {bucket!r}; the buckets are: {', '.join(buckets.keys)}",
            field="bucket",
            value=bucket,
        )
    aged = _aged(
        session,
        actor=actor,
        as_of=as_of,
        currency=currency,
        dim=dim,
        buckets=buckets,
        narrow=dim.narrow(group) if dim.narrow is not None else None,
        timings={},
    )
    keys = aged.grouping.keys
    wanted = keys.index(group) if group in keys else -1
    mask = aged.group == wanted
    if bucket is not None:
        mask &= aged.bucket == buckets.keys.index(bucket)
    picked = np.flatnonzero(mask)
    inst = aged.ledger.installments
    # Most days past due first, then the larger amount, then by id: a stable page order.
    order = np.lexsort(
        (inst.id[aged.rows[picked]], -aged.open[picked], -aged.days_past_due[picked])
    )
    picked = picked[order]
    page = picked[offset : offset + limit]
    details = _details(session, [int(inst.id[aged.rows[p]]) for p in page])
    items = []
    for p in page:
        installment_id = int(inst.id[aged.rows[p]])
        number, sequence, code, name, issued, due, amount = details[installment_id]
        items.append(
            AgedInstallment(
                installment_id=installment_id,
                invoice_number=number,
                sequence=sequence,
                customer_code=code,
                customer_name=name,
                issue_date=issued,
                due_date=due,
                amount=amount,
                open_amount=money(aged.open[p]),
                days_past_due=int(aged.days_past_due[p]),
                bucket=buckets.keys[int(aged.bucket[p])],
            )
        )
    return InstallmentPage(
        as_of=as_of,
        currency=currency,
        by=by,
        group=group,
        bucket=bucket,
        items=items,
        total=int(picked.size),
        open_amount=money(aged.open[picked].sum()),
    )


def _details(session: Session, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Invoice number, sequence, customer code and name, dates and amount of a page."""
    if not ids:
        return {}
    rows = session.execute(
        select(
            Installment.id,
            Invoice.number,
            Installment.sequence,
            Customer.code,
            Customer.name,
            Invoice.issue_date,
            Installment.due_date,
            Installment.amount,
        )
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .join(Customer, Customer.id == Installment.customer_id)
        .where(Installment.id.in_(ids))
    ).all()
    return {int(r[0]): tuple(r[1:]) for r in rows}
