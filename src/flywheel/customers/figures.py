"""Figures about accounts for the customer pages and the API, each in one statement however many
rows: open and overdue balances of a page of accounts, the 360's key figures, invoiced versus
received per month, where recent payments went, the choices of the list's filters, and whether
related accounts (parent, referrer) are in the actor's scope.

Read-only. Functions that take accounts expect them loaded through the scoped getters of
``customers.service``; functions that take an actor start from ``auth.scope``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple, Protocol

from sqlalchemy import (
    CompoundSelect,
    Select,
    bindparam,
    case,
    func,
    literal,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.customers.repository import LARGE_COUNT_SECONDS, sees_everything
from flywheel.customers.service import Customer360
from flywheel.models.base import Money
from flywheel.models.customers import Customer
from flywheel.models.enums import InvoiceStatus
from flywheel.models.receivables import (
    OPEN_INSTALLMENT_STATUSES,
    ZERO,
    Allocation,
    Installment,
    Invoice,
    Payment,
    still_open,
)
from flywheel.models.users import User

SETTLEABLE = OPEN_INSTALLMENT_STATUSES


# ---------------------------------------------------------------- balances


@dataclass(frozen=True, slots=True)
class Balance:
    """What an account owes in one currency on a day: all open, and the part past due."""

    currency: str
    open: Decimal
    overdue: Decimal


def _in_account_currency_first(balances: list[Balance], currency: str) -> list[Balance]:
    return sorted(balances, key=lambda b: (b.currency != currency, b.currency))


class _Account(Protocol):
    """An account as ``balances_of`` needs it: a ``Customer`` or a ``ListedCustomer``."""

    @property
    def id(self) -> int: ...

    @property
    def currency(self) -> str: ...


def _balances_statement() -> Select[int, str, Decimal, Decimal]:
    open_amount = (
        Installment.amount
        - Installment.paid_amount
        - Installment.credited_amount
        - Installment.written_off_amount
    )
    overdue_amount = case((Installment.due_date < bindparam("as_of"), open_amount), else_=0)
    return (
        select(
            Installment.customer_id,
            Invoice.currency,
            type_coerce(func.sum(open_amount), Money()),
            type_coerce(func.sum(overdue_amount), Money()),
        )
        .join(Invoice, Installment.invoice_id == Invoice.id)
        .where(
            Installment.customer_id.in_(bindparam("ids", expanding=True)),
            still_open(),
        )
        .group_by(Installment.customer_id, Invoice.currency)
    )


# Built once: every list page runs it, and building a statement costs more than running it.
_BALANCES = _balances_statement()


def balances_of(
    session: Session, customers: Collection[_Account], *, as_of: date
) -> dict[int, list[Balance]]:
    """Open and overdue balances of each account (by id), one entry per currency with open
    items, the account's own currency first. Accounts with nothing open are left out."""
    if not customers:
        return {}
    rows = session.execute(_BALANCES, {"ids": [c.id for c in customers], "as_of": as_of}).all()
    found: dict[int, list[Balance]] = defaultdict(list)
    for customer_id, currency, open_sum, overdue_sum in rows:
        found[customer_id].append(Balance(currency, open_sum or ZERO, overdue_sum or ZERO))
    currency_of = {c.id: c.currency for c in customers}
    return {
        customer_id: _in_account_currency_first(balances, currency_of[customer_id])
        for customer_id, balances in found.items()
    }


# ---------------------------------------------------------------- the 360's key figures


@dataclass(frozen=True, slots=True)
class AccountKpis:
    balances: list[Balance]  # the account's currency first; empty when nothing is open
    open_invoices: int
    oldest_days_overdue: int  # of the most overdue open installment; 0 when none is late
    last_payment_on: date | None

    def primary(self, currency: str) -> Balance:
        """The balance in ``currency`` (zero when nothing is open in it)."""
        for balance in self.balances:
            if balance.currency == currency:
                return balance
        return Balance(currency, ZERO, ZERO)

    def others(self, currency: str) -> list[Balance]:
        return [b for b in self.balances if b.currency != currency]


def kpis_of(view: Customer360) -> AccountKpis:
    """The key figures of a customer 360, from what it already holds (no statement)."""
    by_currency: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for item in view.open_items:
        sums = by_currency[item.currency]
        sums[0] += item.open_amount
        if item.days_overdue > 0:
            sums[1] += item.open_amount
    balances = [Balance(cur, sums[0], sums[1]) for cur, sums in by_currency.items()]
    return AccountKpis(
        balances=_in_account_currency_first(balances, view.customer.currency),
        open_invoices=len({item.invoice_number for item in view.open_items}),
        oldest_days_overdue=max((item.days_overdue for item in view.open_items), default=0),
        # The 360's payments are the most recent first.
        last_payment_on=max((p.received_on for p in view.payments), default=None),
    )


# ---------------------------------------------------------------- invoiced versus received


@dataclass(frozen=True, slots=True)
class MonthlyActivity:
    currency: str
    months: list[str]  # "2026-03", oldest first
    invoiced: list[Decimal]
    received: list[Decimal]


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _daily_activity_statement() -> CompoundSelect[str, date, Decimal]:
    """Per day in [``:start``, ``:as_of``]: the account's invoiced amount (not cancelled) and
    money received, in ``:currency``."""
    invoiced = (
        select(
            literal("invoiced").label("series"),
            Invoice.issue_date.label("day"),
            type_coerce(func.sum(Invoice.amount), Money()).label("amount"),
        )
        .where(
            Invoice.customer_id == bindparam("customer_id"),
            Invoice.currency == bindparam("currency"),
            Invoice.status != InvoiceStatus.CANCELLED.value,
            Invoice.issue_date >= bindparam("start"),
            Invoice.issue_date <= bindparam("as_of"),
        )
        .group_by(Invoice.issue_date)
    )
    received = (
        select(
            literal("received").label("series"),
            Payment.received_on.label("day"),
            type_coerce(func.sum(Payment.amount), Money()).label("amount"),
        )
        .where(
            Payment.customer_id == bindparam("customer_id"),
            Payment.currency == bindparam("currency"),
            Payment.received_on >= bindparam("start"),
            Payment.received_on <= bindparam("as_of"),
        )
        .group_by(Payment.received_on)
    )
    return union_all(invoiced, received)


# Built once: every 360 draws the chart.
_DAILY_ACTIVITY = _daily_activity_statement()


def monthly_activity(
    session: Session, customer: Customer, *, as_of: date, months: int = 12
) -> MonthlyActivity:
    """Per calendar month, the last ``months`` up to ``as_of``'s: the amount invoiced (not
    cancelled) and the money received, in the account's currency. One statement: daily sums
    of both, added up into months here (portable across SQLite and PostgreSQL)."""
    start = _month_start(as_of, months - 1)
    keys = [_month_start(as_of, back).strftime("%Y-%m") for back in range(months - 1, -1, -1)]
    sums: dict[str, dict[str, Decimal]] = {
        "invoiced": dict.fromkeys(keys, ZERO),
        "received": dict.fromkeys(keys, ZERO),
    }
    parameters = {
        "customer_id": customer.id,
        "currency": customer.currency,
        "start": start,
        "as_of": as_of,
    }
    for series, day, amount in session.execute(_DAILY_ACTIVITY, parameters):
        key = day.strftime("%Y-%m")
        sums[series][key] += amount or ZERO
    return MonthlyActivity(
        currency=customer.currency,
        months=keys,
        invoiced=[sums["invoiced"][k] for k in keys],
        received=[sums["received"][k] for k in keys],
    )


# ---------------------------------------------------------------- where payments went


@dataclass(frozen=True, slots=True)
class AllocationLine:
    invoice_number: str
    installment: int
    amount: Decimal
    applied_on: date


# Built once: every 360 lists its recent payments' allocations.
_ALLOCATIONS_OF = (
    select(
        Allocation.payment_id,
        Invoice.number,
        Installment.sequence,
        Allocation.amount,
        Allocation.applied_on,
    )
    .join(Installment, Allocation.installment_id == Installment.id)
    .join(Invoice, Allocation.invoice_id == Invoice.id)
    .where(Allocation.payment_id.in_(bindparam("ids", expanding=True)))
    .order_by(Allocation.payment_id, Allocation.id)
)


def allocations_of_payments(
    session: Session, payments: Sequence[Payment]
) -> dict[int, list[AllocationLine]]:
    """The allocations of each payment (by id), in the order they were made."""
    if not payments:
        return {}
    rows = session.execute(_ALLOCATIONS_OF, {"ids": [p.id for p in payments]}).all()
    lines: dict[int, list[AllocationLine]] = defaultdict(list)
    for payment_id, number, sequence, amount, applied_on in rows:
        if payment_id is None:  # a credit note's (never, given the filter)
            continue
        lines[payment_id].append(AllocationLine(number, sequence, amount, applied_on))
    return dict(lines)


# ---------------------------------------------------------------- the list's filter choices


class OwnerChoice(NamedTuple):
    username: str
    display_name: str


def _owners_where(owns: ColumnElement[bool]) -> Select[str, str]:
    return (
        select(User.username, User.display_name)
        .where(owns)
        .order_by(User.display_name, User.username)
    )


# Everyone who owns an account: one index probe per user on (owner_id, …), instead of reading
# every account's owner. Built once: the list page asks on every visit.
_OWNERS_OF_ANY = _owners_where(select(Customer.id).where(Customer.owner_id == User.id).exists())


# A long list of everyone's owners (one index probe per user: about 2 ms on PostgreSQL with
# 250 reps, on every visit of the list page) is kept for as long as a large count of the list,
# so a new owner may show up in the filter those few seconds late. A short list, and a sales
# rep's own, are always read afresh.
MANY_OWNERS = 100
_every_owner: dict[int, tuple[float, list[OwnerChoice]]] = {}


def owner_choices(session: Session, *, actor: Actor) -> list[OwnerChoice]:
    """The people who own at least one account ``actor`` may see, by display name."""
    scope = visible_customers(actor)
    if not sees_everything(scope):
        statement = _owners_where(User.id.in_(select(Customer.owner_id).where(scope)))
        return _owners(session, statement)
    # The engine is the key: one process may serve (or test) several databases.
    bind = session.get_bind()
    key, now = id(getattr(bind, "engine", bind)), time.monotonic()
    kept = _every_owner.get(key)
    if kept is not None and now - kept[0] < LARGE_COUNT_SECONDS:
        return list(kept[1])
    owners = _owners(session, _OWNERS_OF_ANY)
    if len(owners) >= MANY_OWNERS:
        _every_owner[key] = (now, owners)
    else:
        _every_owner.pop(key, None)
    return list(owners)


def _owners(session: Session, statement: Select[str, str]) -> list[OwnerChoice]:
    return [
        OwnerChoice(username, display_name or username)
        for username, display_name in session.execute(statement)
    ]


# A loose index scan: each step jumps along the index on region to the next greater value, so
# the distinct regions of 100,000 accounts cost one index probe per region, not a full scan.
_EVERY_REGION = text(
    """
    WITH RECURSIVE regions(region) AS (
        SELECT MIN(region) FROM customers WHERE region > ''
        UNION ALL
        SELECT (SELECT MIN(c.region) FROM customers c WHERE c.region > regions.region)
        FROM regions WHERE regions.region IS NOT NULL
    )
    SELECT region FROM regions WHERE region IS NOT NULL
    """
)


def region_choices(session: Session, *, actor: Actor) -> list[str]:
    """The regions of the accounts ``actor`` may see, in order."""
    scope = visible_customers(actor)
    if sees_everything(scope):
        return [str(region) for region in session.scalars(_EVERY_REGION)]
    return list(
        session.scalars(
            select(Customer.region)
            .where(scope, Customer.region.is_not(None), Customer.region != "")
            .distinct()
            .order_by(Customer.region)
        )
    )


# ---------------------------------------------------------------- related accounts


@dataclass(frozen=True, slots=True)
class RelatedAccount:
    """An account named on another one's 360 (its parent, its referrer).

    Its code and name are facts of the account in view, so they are shown; ``visible`` says
    whether the actor may open it. For a sales rep, the group account he does not own is
    shown by name and code, without a link (its own 360 would answer "not found").
    """

    code: str
    name: str
    visible: bool


def related_accounts(
    session: Session, view: Customer360, *, actor: Actor
) -> dict[str, RelatedAccount]:
    """``"parent"`` and ``"referred_by"`` of the account in view, when it has them."""
    named = {
        role: account
        for role, account in (("parent", view.parent), ("referred_by", view.referred_by))
        if account is not None
    }
    if not named:
        return {}
    scope = visible_customers(actor)
    if sees_everything(scope):
        visible = {account.id for account in named.values()}
    else:
        visible = set(
            session.scalars(
                select(Customer.id).where(Customer.id.in_([a.id for a in named.values()]), scope)
            )
        )
    return {
        role: RelatedAccount(account.code, account.name, account.id in visible)
        for role, account in named.items()
    }
