"""Synthesis of the demo's receivables ledger: orders, invoices, installments, payments, credits.

Everything is vectorised over rows and kept in exact integer cents; the running totals of
installments, invoices and payments are derived from the allocation rows so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel.demo import text
from flywheel.demo.accounts import (
    KEY,
    TERMS,
    TERMS_DAYS,
    TERMS_IS_EOM,
    Accounts,
    office_stamps,
    pick,
)
from flywheel.demo.seasons import BusinessCalendar, days_to_dates
from flywheel.demo.tables import (
    NULLABLE_TEXT,
    TEXT,
    BoolArray,
    Cents,
    Codes,
    Dates,
    Int64Array,
    Ints,
    Stamps,
    Table,
    TextArray,
    Texts,
    empty_texts,
    texts,
)

CNY_PER_USD = 7.1
# Relative order frequency by tier; calibrated so the base reaches the target volume.
_TIER_ORDER_RATE = np.array([8.0, 2.5, 1.0])
# Typical order value in CNY by tier.
_TIER_ORDER_VALUE = np.array([120_000.0, 25_000.0, 5_000.0])
# Invoices above this (CNY) are usually billed in installments (分期).
_INSTALLMENT_THRESHOLD_CENTS = 200_000 * 100
_WRITE_OFF_AFTER_DAYS = 180
_STATUS = ("open", "partially_paid", "paid", "written_off")
OPEN, PARTIALLY_PAID, PAID, WRITTEN_OFF = 0, 1, 2, 3
_NO_DAY = np.iinfo(np.int64).max // 4


@dataclass(slots=True)
class Ledger:
    orders: Table
    invoices: Table
    installments: Table
    credit_notes: Table
    payments: Table
    allocations: Table
    invoice_customer: Int64Array  # customer index of each invoice, for customer status


def order_counts(
    rng: np.random.Generator, cal: BusinessCalendar, acc: Accounts, per_customer_year: float
) -> Int64Array:
    """Orders per customer and month: tier, growth, season, acquisition ramp-up and churn."""
    months = np.arange(cal.months, dtype=np.int64)[None, :]
    first = acc.first_month[:, None]
    active = (months >= first) & (months < acc.churn_month[:, None])
    # Customers won during the period start small while they try us out.
    newcomer = (acc.created_day >= cal.period_start)[:, None]
    ramp = np.where(newcomer & (months - first < 3), 0.5, 1.0)
    years_from_middle = (months - cal.months / 2.0) / 12.0
    growth = np.power(1.0 + acc.growth[:, None], years_from_middle)
    frequency = np.exp(rng.normal(0.0, 0.4, acc.count))[:, None]
    rate = _TIER_ORDER_RATE[acc.tier][:, None] * frequency * growth * ramp
    rate = rate * cal.month_activity[None, :] * active
    target = per_customer_year * acc.count * cal.months / 12.0
    total = float(rate.sum())
    if total > 0:
        rate *= target / total
    counts: Int64Array = rng.poisson(rate).astype(np.int64)
    return counts


def build_ledger(
    rng: np.random.Generator, cal: BusinessCalendar, acc: Accounts, per_customer_year: float
) -> Ledger:
    counts = order_counts(rng, cal, acc, per_customer_year)
    cells = np.repeat(np.arange(counts.size, dtype=np.int64), counts.ravel())
    del counts
    customer = cells // cal.months
    month = cells % cal.months
    del cells
    issue_day = np.maximum(cal.sample_days(rng, month), acc.created_day[customer])
    order = np.lexsort((rng.random(len(customer)), customer, issue_day))
    customer, issue_day = customer[order], issue_day[order]
    del order, month
    n = len(customer)
    invoice_ids = np.arange(1, n + 1, dtype=np.int64)
    usd = acc.usd[customer]
    currency = np.where(usd, "USD", "CNY").astype(TEXT)

    lead = rng.choice([0, 1, 2, 3, 5, 7, 10], n, p=[0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.05])
    order_day = np.maximum(issue_day - lead, acc.created_day[customer])
    value = _TIER_ORDER_VALUE[acc.tier[customer]] * acc.scale[customer]
    value *= np.exp(rng.normal(-0.18, 0.6, n))
    value = np.where(usd, value / CNY_PER_USD, value)
    cents = np.maximum(np.rint(value * 100.0), 100).astype(np.int64)
    cny_cents = np.where(usd, cents * CNY_PER_USD, cents)

    terms = np.where(rng.random(n) < 0.9, acc.terms[customer], rng.integers(0, len(TERMS), n))
    due_day = _due_days(issue_day, terms)

    orders = Table(
        "orders",
        {
            "id": Ints(invoice_ids),
            "number": Codes("SO-", 8, invoice_ids),
            "customer_id": Ints(customer + 1),
            "order_date": Dates(days_to_dates(order_day)),
            "amount": Cents(cents),
            "currency": Texts(currency),
            "status": Texts(np.full(n, "invoiced", dtype=TEXT)),
            "delivered_on": Dates(days_to_dates(issue_day)),
            "created_at": Stamps(office_stamps(rng, order_day)),
        },
    )

    # Installment schedules: big invoices are split into 2–4 parts a month apart.
    split = (cny_cents > _INSTALLMENT_THRESHOLD_CENTS) & (rng.random(n) < 0.7)
    parts = np.where(split, rng.integers(2, 5, n), 1).astype(np.int64)
    inst_invoice = np.repeat(np.arange(n, dtype=np.int64), parts)
    first_row = np.concatenate([[0], np.cumsum(parts)[:-1]])
    sequence = np.arange(len(inst_invoice), dtype=np.int64) - first_row[inst_invoice]
    inst_due = due_day[inst_invoice] + 30 * sequence
    inst_amount = _split_evenly(cents, parts, inst_invoice, sequence)

    settlement = _settle(rng, cal, acc, customer, issue_day, cny_cents, inst_invoice, sequence,
                         inst_due, inst_amount)  # fmt: skip

    inst_customer = customer[inst_invoice]
    installments = Table(
        "installments",
        {
            "id": Ints(np.arange(1, len(inst_invoice) + 1, dtype=np.int64)),
            "invoice_id": Ints(inst_invoice + 1),
            "customer_id": Ints(inst_customer + 1),
            "sequence": Ints(sequence + 1),
            "due_date": Dates(days_to_dates(inst_due)),
            "amount": Cents(inst_amount),
            "paid_amount": Cents(settlement.inst_paid),
            "credited_amount": Cents(settlement.inst_credited),
            "written_off_amount": Cents(settlement.inst_written_off),
            "status": Texts(texts(_STATUS)[settlement.inst_status]),
            "settled_on": Dates(settlement.inst_settled_on),
        },
    )
    invoice_status = _invoice_status(n, inst_invoice, settlement.inst_status)
    invoices = Table(
        "invoices",
        {
            "id": Ints(invoice_ids),
            "number": Codes("INV-", 8, invoice_ids),
            "customer_id": Ints(customer + 1),
            "order_id": Ints(invoice_ids, nullable=True),
            "issue_date": Dates(days_to_dates(issue_day)),
            "payment_terms": Texts(texts(TERMS)[terms]),
            "amount": Cents(cents),
            "currency": Texts(currency),
            "paid_amount": Cents(_sum_by(inst_invoice, settlement.inst_paid, n)),
            "credited_amount": Cents(_sum_by(inst_invoice, settlement.inst_credited, n)),
            "written_off_amount": Cents(_sum_by(inst_invoice, settlement.inst_written_off, n)),
            "status": Texts(texts(_STATUS)[invoice_status]),
            "created_at": Stamps(office_stamps(rng, issue_day)),
        },
    )
    return Ledger(
        orders=orders,
        invoices=invoices,
        installments=installments,
        credit_notes=settlement.credit_notes,
        payments=settlement.payments,
        allocations=settlement.allocations,
        invoice_customer=customer,
    )


def _due_days(issue_day: Int64Array, terms: Int64Array) -> Int64Array:
    """Due dates of ``kit.terms``: NETn counts from the issue date, EOMn from its month end."""
    issue = days_to_dates(issue_day)
    next_month = (issue.astype("datetime64[M]") + 1).astype("datetime64[D]")
    month_end_day = next_month.astype(np.int64) - 1  # datetime64[D] counts days from 1970
    base = np.where(TERMS_IS_EOM[terms], month_end_day, issue_day)
    return (base + TERMS_DAYS[terms]).astype(np.int64)


def _split_evenly(
    cents: Int64Array, parts: Int64Array, inst_invoice: Int64Array, sequence: Int64Array
) -> Int64Array:
    """``kit.money.split_evenly`` in integer cents: round-half-up shares, the last takes the rest."""
    total = cents[inst_invoice]
    count = parts[inst_invoice]
    share = (2 * total + count) // (2 * count)
    last = total - share * (count - 1)
    return np.where(sequence == count - 1, last, share).astype(np.int64)


def _sum_by(index: Int64Array, values: Int64Array, size: int) -> Int64Array:
    result = np.zeros(size, dtype=np.int64)
    np.add.at(result, index, values)
    return result


# Payment habits: share of customers per kind, by tier (key, standard, small).
_AD_HOC, _WEEKLY, _MONTHLY = 0, 1, 2
_HABIT_SHARES = np.array([[0.15, 0.25, 0.60], [0.25, 0.30, 0.45], [0.40, 0.30, 0.30]])
_MONTHLY_RUN_DAYS = np.array([5, 10, 15, 20, 25, 31])  # 31 = the month's last day


@dataclass(slots=True)
class _PaymentHabits:
    """How each customer releases payments: whenever it decides to (ad hoc), in a weekly run
    on a fixed weekday, or in a monthly run on a fixed day of the month."""

    rng: np.random.Generator
    kind: Int64Array
    weekday: Int64Array  # 0 = Monday
    day_of_month: Int64Array

    def run_day(self, cust: Int64Array, intended: Int64Array, misses: BoolArray) -> Int64Array:
        """The day each payment meant for ``intended`` is released; a missed run means the
        next one."""
        kind = self.kind[cust]
        weekly = _nearest_weekday(intended, self.weekday[cust])
        weekly = np.where(misses & (weekly <= intended), weekly + 7, weekly)
        monthly = _nearest_day_of_month(intended, self.day_of_month[cust], misses)
        released = np.where(kind == _WEEKLY, weekly, np.where(kind == _MONTHLY, monthly, intended))
        return np.asarray(released, dtype=np.int64)


def _payment_habits(rng: np.random.Generator, n: int, tier: Int64Array) -> _PaymentHabits:
    roll = rng.random(n)
    cumulative = np.cumsum(_HABIT_SHARES[tier], axis=1)
    kind = (roll[:, None] >= cumulative[:, :-1]).sum(axis=1).astype(np.int64)
    weekday = rng.choice(5, n, p=[0.10, 0.25, 0.20, 0.30, 0.15]).astype(np.int64)
    day = _MONTHLY_RUN_DAYS[rng.choice(len(_MONTHLY_RUN_DAYS), n)].astype(np.int64)
    return _PaymentHabits(rng=rng, kind=kind, weekday=weekday, day_of_month=day)


def _weekday(days: Int64Array) -> Int64Array:
    return np.asarray((days + 3) % 7, dtype=np.int64)  # 1970-01-01 was a Thursday


def _nearest_weekday(days: Int64Array, weekday: Int64Array) -> Int64Array:
    """The day with the given weekday nearest to each day (the later one on a tie)."""
    ahead = (weekday - _weekday(days)) % 7
    return np.asarray(np.where(ahead <= 3, days + ahead, days + ahead - 7), dtype=np.int64)


def _run_in_month(months: Int64Array, day: Int64Array) -> Int64Array:
    """The run on ``day`` of each month (months since 1970-01), on the month's last day when it
    is shorter, and on the Friday before when that falls on a weekend."""
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    following = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    run = first + np.minimum(day, following - first) - 1
    weekday = _weekday(run)
    return np.asarray(run - np.maximum(weekday - 4, 0), dtype=np.int64)


def _nearest_day_of_month(days: Int64Array, day: Int64Array, misses: BoolArray) -> Int64Array:
    """The monthly run nearest to each day; the one after it when the run is missed."""
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    runs = np.stack([_run_in_month(month + shift, day) for shift in (-1, 0, 1, 2)])
    gap = np.abs(runs - days)
    nearest = np.argmin(gap[:3], axis=0)
    position = np.minimum(nearest + (misses & (runs[nearest, np.arange(len(days))] <= days)), 3)
    return np.asarray(runs[position, np.arange(len(days))], dtype=np.int64)


@dataclass(slots=True)
class _Settlement:
    inst_paid: Int64Array
    inst_credited: Int64Array
    inst_written_off: Int64Array
    inst_status: Int64Array
    inst_settled_on: np.typing.NDArray[np.datetime64]
    credit_notes: Table
    payments: Table
    allocations: Table


def _settle(
    rng: np.random.Generator,
    cal: BusinessCalendar,
    acc: Accounts,
    invoice_customer: Int64Array,
    issue_day: Int64Array,
    invoice_cny_cents: Int64Array,
    inst_invoice: Int64Array,
    sequence: Int64Array,
    due: Int64Array,
    amount: Int64Array,
) -> _Settlement:
    """When and how each installment was paid, credited or written off, up to ``as_of``."""
    n_invoices = len(invoice_customer)
    size = len(inst_invoice)
    cust = invoice_customer[inst_invoice]
    discipline = acc.discipline[cust]
    slack = 1.0 - discipline
    issued = issue_day[inst_invoice]

    # Invoice-level fates: bad payers sometimes never pay, worst just before they churn.
    churn_day = cal.month_start[np.minimum(acc.churn_month, cal.months)]
    churning = (acc.churn_month < cal.months)[invoice_customer] & (
        churn_day[invoice_customer] - issue_day < 120
    )
    p_never = 0.35 * (1.0 - acc.discipline[invoice_customer]) ** 4 + np.where(churning, 0.12, 0.0)
    never_invoice = rng.random(n_invoices) < p_never
    unhappy = 1.0 - acc.satisfaction[invoice_customer]
    roll = rng.random(n_invoices)
    dispute_invoice = roll < 0.008 + 0.05 * unhappy**2
    return_invoice = ~dispute_invoice & (roll > 0.992)
    never = never_invoice[inst_invoice]
    first_part = sequence == 0
    disputed = dispute_invoice[inst_invoice] & first_part
    returned = return_invoice[inst_invoice] & first_part

    # Days beyond terms: discipline, size (approval chains) and key-account processes, and a
    # customer heading for the door pays later and later in its last half year.
    size_effect = 3.0 * np.log10(np.maximum(invoice_cny_cents[inst_invoice] / 1_000_000.0, 1.0))
    leaving = (acc.churn_month < cal.months)[cust]
    worsening = np.where(leaving, np.clip(1.0 - (churn_day[cust] - due) / 180.0, 0.0, 1.0), 0.0)
    mean_delay = (
        -4.0
        + 70.0 * slack**2
        + size_effect
        + np.where(acc.tier[cust] == KEY, 5.0, 0.0)
        + 20.0 * worsening
    )
    noise = rng.normal(0.0, 1.0, size) * (3.0 + 14.0 * slack)
    # Most companies pay suppliers in payment runs (付款日), which schedule invoices by their
    # due date: the transfer lands on the run nearest to the day the customer means to pay, and
    # on the next one when the approval misses it. A run is steadier than ad-hoc payments.
    habits = _payment_habits(rng.spawn(1)[0], acc.count, acc.tier)
    steadiness = np.array([1.0, 0.6, 0.35])[habits.kind[cust]]
    delay = np.rint(mean_delay + noise * steadiness).astype(np.int64)
    misses = habits.rng.random(size) < 0.03 + 0.15 * slack
    pay_day = np.maximum(habits.run_day(cust, due + delay, misses), issued)
    # Spring Festival: finance departments are away, transfers wait until after the holiday.
    slowdown = cal.in_new_year_slowdown(pay_day)
    pay_day = pay_day + np.where(slowdown, rng.integers(7, 21, size), 0)

    # Credit notes: disputes settle weeks after the due date and delay the payment; returns
    # are credited soon after delivery.
    credit_fraction = np.where(
        disputed, rng.uniform(0.05, 0.35, size), rng.uniform(0.05, 0.5, size)
    )
    has_credit_event = disputed | returned
    credit_cents = np.clip(
        (credit_fraction * amount).astype(np.int64), 1, np.maximum(amount - 2, 1)
    )
    credit_day = np.where(
        disputed, due + rng.integers(5, 60, size), issued + rng.integers(3, 30, size)
    )
    pay_day = np.where(
        disputed, np.maximum(pay_day, credit_day) + rng.integers(5, 30, size), pay_day
    )
    pay_day = np.where(returned, np.maximum(pay_day, credit_day), pay_day)
    has_credit = has_credit_event & (credit_day <= cal.as_of) & (amount > 2)
    credit_cents = np.where(has_credit, credit_cents, 0)

    pay_day = np.where(never, _NO_DAY, pay_day)
    remaining = amount - credit_cents
    # Part-payments: a first transfer before the rest (or before giving up, for bad payers).
    wants_part = rng.random(size) < np.where(never, 0.3, 0.04 + 0.08 * slack)
    part_horizon = np.where(never, np.minimum(due + 120, cal.as_of), np.minimum(pay_day, cal.as_of))
    # A first transfer comes a week or more after the invoice.
    part_span = np.maximum(part_horizon - issued - 7, 0)
    part_day = issued + 7 + (rng.random(size) * part_span).astype(np.int64)
    has_part = wants_part & (remaining >= 2) & (part_day <= part_horizon)
    part_cents = np.where(
        has_part,
        np.clip((rng.uniform(0.3, 0.7, size) * remaining).astype(np.int64), 1, remaining - 1),
        0,
    )
    final_paid = pay_day <= cal.as_of
    final_cents = np.where(final_paid, remaining - part_cents, 0)

    written_off = never & (due < cal.as_of - _WRITE_OFF_AFTER_DAYS)
    # Bad debt is written off (坏账核销) half a year to a year after the due date.
    write_off_day = np.minimum(due + rng.integers(_WRITE_OFF_AFTER_DAYS, 400, size), cal.as_of)
    paid = part_cents + final_cents
    inst_written_off = np.where(written_off, amount - paid - credit_cents, 0)

    payments, allocations, credit_notes = _documents(
        rng, cal, acc, cust, inst_invoice, pay_day, final_paid, final_cents, has_part, part_day,
        part_cents, has_credit, credit_day, credit_cents, disputed,
    )  # fmt: skip

    # Totals and states come from the allocation rows themselves.
    alloc_inst = allocations.inst_index
    alloc_day = allocations.applied_day
    from_payment = allocations.from_payment
    inst_paid = _sum_by(alloc_inst[from_payment], allocations.cents[from_payment], size)
    inst_credited = _sum_by(alloc_inst[~from_payment], allocations.cents[~from_payment], size)
    settled = inst_paid + inst_credited + inst_written_off
    status = np.where(
        inst_written_off > 0,
        WRITTEN_OFF,
        np.where(settled == amount, PAID, np.where(settled > 0, PARTIALLY_PAID, OPEN)),
    ).astype(np.int64)
    last_day = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last_day, alloc_inst, alloc_day)
    # As ``receivables.allocation`` records it: the day the last allocation or the write-off
    # closed the installment.
    settled_on = np.where(status == PAID, last_day, np.maximum(last_day, write_off_day))
    settled_on_dates = days_to_dates(settled_on)
    settled_on_dates[(status != PAID) & (status != WRITTEN_OFF)] = np.datetime64("NaT")
    return _Settlement(
        inst_paid=inst_paid,
        inst_credited=inst_credited,
        inst_written_off=inst_written_off.astype(np.int64),
        inst_status=status,
        inst_settled_on=settled_on_dates,
        credit_notes=credit_notes,
        payments=payments,
        allocations=allocations.table,
    )


def _invoice_status(n: int, inst_invoice: Int64Array, inst_status: Int64Array) -> Int64Array:
    """Paid when every installment is; written off when the rest is; partly paid when touched."""
    parts = np.bincount(inst_invoice, minlength=n)
    paid = np.bincount(inst_invoice[inst_status == PAID], minlength=n)
    written = np.bincount(inst_invoice[inst_status == WRITTEN_OFF], minlength=n)
    touched = np.bincount(inst_invoice[inst_status != OPEN], minlength=n)
    status = np.select(
        [paid == parts, (written > 0) & (paid + written == parts), touched > 0],
        [PAID, WRITTEN_OFF, PARTIALLY_PAID],
        OPEN,
    )
    return status.astype(np.int64)


@dataclass(slots=True)
class _Allocations:
    table: Table
    inst_index: Int64Array
    applied_day: Int64Array
    cents: Int64Array
    from_payment: BoolArray


def _documents(
    rng: np.random.Generator,
    cal: BusinessCalendar,
    acc: Accounts,
    cust: Int64Array,
    inst_invoice: Int64Array,
    pay_day: Int64Array,
    final_paid: BoolArray,
    final_cents: Int64Array,
    has_part: BoolArray,
    part_day: Int64Array,
    part_cents: Int64Array,
    has_credit: BoolArray,
    credit_day: Int64Array,
    credit_cents: Int64Array,
    disputed: BoolArray,
) -> tuple[Table, _Allocations, Table]:
    """Payments (single, part, over, batched and unallocated), credit notes and allocations."""
    # Final payments: some customers pay several invoices with one transfer (合并付款),
    # a few round up and leave the difference as unallocated credit.
    finals = np.flatnonzero(final_paid)
    over = rng.random(len(finals)) < 0.01
    batchable = finals[~over]
    order = np.lexsort((pay_day[batchable], cust[batchable]))
    batchable = batchable[order]
    b_cust = cust[batchable]
    b_day = pay_day[batchable]
    join_chance = np.array([0.5, 0.3, 0.15])[acc.tier[b_cust]]
    with_previous = np.zeros(len(batchable), dtype=bool)
    with_previous[1:] = (b_cust[1:] == b_cust[:-1]) & (b_day[1:] - b_day[:-1] <= 20)
    with_previous &= rng.random(len(batchable)) < join_chance
    group = np.cumsum(~with_previous) - 1
    group_starts = np.flatnonzero(~with_previous)
    group_day = np.maximum.reduceat(b_day, group_starts) if len(b_day) else b_day
    pay_day = pay_day.copy()
    pay_day[batchable] = group_day[group]
    group_count = len(group_starts)
    group_size = np.diff(np.append(group_starts, len(batchable)))

    over_rows = finals[over]
    over_extra = (final_cents[over_rows] + 9_999) // 10_000 * 10_000 - final_cents[over_rows]
    over_extra = np.where(over_extra == 0, 10_000, over_extra)

    parts = np.flatnonzero(has_part)
    # Prepayments not yet matched to any invoice.
    active = np.flatnonzero(acc.churn_month >= cal.months)
    n_pre = max(1, len(finals) // 1000) if len(active) else 0
    pre_cust = active[rng.integers(0, max(len(active), 1), n_pre)] if n_pre else active[:0]
    pre_day = np.maximum(cal.as_of - rng.integers(0, 30, n_pre), acc.created_day[pre_cust])
    pre_cents = rng.integers(10, 500, n_pre) * 10_000

    # Payment rows: batched finals, over-payments, part-payments, prepayments.
    pay_cust = np.concatenate([b_cust[group_starts], cust[over_rows], cust[parts], pre_cust])
    pay_day_all = np.concatenate([group_day, pay_day[over_rows], part_day[parts], pre_day])
    group_cents = np.add.reduceat(final_cents[batchable], group_starts) if len(b_day) else b_day
    pay_cents = np.concatenate(
        [group_cents, final_cents[over_rows] + over_extra, part_cents[parts], pre_cents]
    )
    # The remittance names an invoice when it pays exactly one.
    single_invoice = np.concatenate(
        [
            np.where(group_size == 1, inst_invoice[batchable[group_starts]] + 1, -1),
            inst_invoice[over_rows] + 1,
            inst_invoice[parts] + 1,
            np.full(n_pre, -1),
        ]
    ).astype(np.int64)
    pay_order = np.lexsort((pay_cust, pay_day_all))
    pay_rank = np.empty(len(pay_order), dtype=np.int64)
    pay_rank[pay_order] = np.arange(len(pay_order))

    # Allocations from payments (payment index before ordering) and from credit notes.
    offset_over = group_count
    offset_part = offset_over + len(over_rows)
    alloc_payment = np.concatenate(
        [group, offset_over + np.arange(len(over_rows)), offset_part + np.arange(len(parts))]
    )
    alloc_inst_pay = np.concatenate([batchable, over_rows, parts])
    alloc_cents_pay = np.concatenate(
        [final_cents[batchable], final_cents[over_rows], part_cents[parts]]
    )
    alloc_day_pay = pay_day_all[alloc_payment]
    payment_id = pay_rank[alloc_payment] + 1

    credits = np.flatnonzero(has_credit)
    credit_order = np.lexsort((credits, credit_day[credits]))
    credits = credits[credit_order]
    credit_ids = np.arange(1, len(credits) + 1, dtype=np.int64)

    alloc_inst = np.concatenate([alloc_inst_pay, credits])
    alloc_day = np.concatenate([alloc_day_pay, credit_day[credits]])
    alloc_cents = np.concatenate([alloc_cents_pay, credit_cents[credits]])
    from_payment = np.concatenate(
        [np.ones(len(alloc_inst_pay), dtype=bool), np.zeros(len(credits), dtype=bool)]
    )
    alloc_payment_id = np.concatenate([payment_id, np.full(len(credits), -1)])
    alloc_credit_id = np.concatenate([np.full(len(alloc_inst_pay), -1), credit_ids])
    alloc_order = np.lexsort((alloc_inst, alloc_payment_id, alloc_day))
    alloc_inst, alloc_day, alloc_cents = (
        alloc_inst[alloc_order],
        alloc_day[alloc_order],
        alloc_cents[alloc_order],
    )
    from_payment = from_payment[alloc_order]
    alloc_payment_id = alloc_payment_id[alloc_order]
    alloc_credit_id = alloc_credit_id[alloc_order]
    n_alloc = len(alloc_inst)
    allocations = Table(
        "allocations",
        {
            "id": Ints(np.arange(1, n_alloc + 1, dtype=np.int64)),
            "customer_id": Ints(cust[alloc_inst] + 1),
            "payment_id": Ints(alloc_payment_id, nullable=True),
            "credit_note_id": Ints(alloc_credit_id, nullable=True),
            "installment_id": Ints(alloc_inst + 1),
            "invoice_id": Ints(inst_invoice[alloc_inst] + 1),
            "amount": Cents(alloc_cents),
            "applied_on": Dates(days_to_dates(alloc_day)),
            "created_at": Stamps(office_stamps(rng, alloc_day)),
        },
    )

    # Payment rows in id order; allocated totals from the allocation rows.
    pay_cust, pay_day_all = pay_cust[pay_order], pay_day_all[pay_order]
    pay_cents, single_invoice = pay_cents[pay_order], single_invoice[pay_order]
    n_pay = len(pay_order)
    allocated = _sum_by(alloc_payment_id[from_payment] - 1, alloc_cents[from_payment], n_pay)
    pay_status = np.where(
        allocated == 0,
        "unallocated",
        np.where(allocated == pay_cents, "allocated", "partially_allocated"),
    ).astype(TEXT)
    usd = acc.usd[pay_cust]
    big = pay_cents >= 5_000_000
    method = np.where(
        usd,
        pick(rng, ["bank_transfer", "cheque", "card"], n_pay, [0.85, 0.1, 0.05]),
        np.where(
            big,
            pick(rng, ["bank_transfer", "acceptance_bill"], n_pay, [0.7, 0.3]),
            pick(
                rng, ["bank_transfer", "online", "cash", "other"], n_pay, [0.82, 0.12, 0.03, 0.03]
            ),
        ),
    )
    payments = Table(
        "payments",
        {
            "id": Ints(np.arange(1, n_pay + 1, dtype=np.int64)),
            "reference": Codes("RC-", 9, np.arange(1, n_pay + 1, dtype=np.int64)),
            "customer_id": Ints(pay_cust + 1),
            "received_on": Dates(days_to_dates(pay_day_all)),
            "amount": Cents(pay_cents),
            "currency": Texts(np.where(usd, "USD", "CNY").astype(TEXT)),
            "method": Texts(method),
            "invoice_reference": Codes("INV-", 8, single_invoice),
            "allocated_amount": Cents(allocated),
            "status": Texts(pay_status),
            "created_at": Stamps(office_stamps(rng, pay_day_all)),
        },
    )

    credit_notes = Table(
        "credit_notes",
        {
            "id": Ints(credit_ids),
            "number": Codes("CN-", 7, credit_ids),
            "customer_id": Ints(cust[credits] + 1),
            "invoice_id": Ints(inst_invoice[credits] + 1),
            "issue_date": Dates(days_to_dates(credit_day[credits])),
            "amount": Cents(credit_cents[credits]),
            "currency": Texts(np.where(acc.usd[cust[credits]], "USD", "CNY").astype(TEXT)),
            "reason": Texts(_credit_reasons(rng, acc.english[cust[credits]], disputed[credits])),
            "created_at": Stamps(office_stamps(rng, credit_day[credits])),
        },
    )
    return (
        payments,
        _Allocations(allocations, alloc_inst, alloc_day, alloc_cents, from_payment),
        credit_notes,
    )


def _credit_reasons(rng: np.random.Generator, english: BoolArray, disputed: BoolArray) -> TextArray:
    n = len(english)
    reasons = empty_texts(n)
    for is_en, lang in ((False, "zh"), (True, "en")):
        for is_dispute, table in ((True, text.DISPUTE_REASONS), (False, text.RETURN_REASONS)):
            rows = np.flatnonzero((english == is_en) & (disputed == is_dispute))
            reasons[rows] = pick(rng, table[lang], len(rows))
    return reasons.astype(NULLABLE_TEXT)


def customer_status(
    cal: BusinessCalendar, acc: Accounts, invoice_customer: Int64Array
) -> TextArray:
    has_orders = np.bincount(invoice_customer, minlength=acc.count) > 0
    churned = acc.churn_month < cal.months
    return np.where(churned, "churned", np.where(has_orders, "active", "prospect")).astype(TEXT)
