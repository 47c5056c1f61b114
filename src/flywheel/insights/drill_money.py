"""The lists behind the loyalty and cash figures of the dashboard (and the expansions, kept and
broken promises, churn risk, disputes and overdue accounts of force and friction): each lists
what its figure counts, with the definitions of ``insights.sources.loyalty`` and ``cash``, so a
list of accounts or items has as many rows as its figure counts (and a list of money, as much
money) for the same period and filter.

States (buyers, the retention base, CLV, health, churn risk, receivables) are those of the
period's last day; events (payments, promises resolved, disputes opened) those of its days.
Money columns are in the filter's money currency: an item in another currency shows its
currency and no amount.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    case,
    distinct,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased

from flywheel.analytics.retention import months_before
from flywheel.insights.drills import Drill, DrillColumn, DrillQuery, account_clauses, register
from flywheel.insights.figures import CASH_WINDOW_DAYS
from flywheel.kit.i18n import N_
from flywheel.loyalty.dashboard import DEFAULT_MIN_CHURN_RISK
from flywheel.models.base import Money
from flywheel.models.collections import Dispute, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import HealthBand, InvoiceStatus, OrderStatus, PromiseStatus
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.receivables import Allocation, Installment, Invoice, Payment
from flywheel.models.sales import Order
from flywheel.models.users import User

CODE = DrillColumn("code", N_("Code"), "code")
NAME = DrillColumn("name", N_("Account"))
OWNER = DrillColumn("owner", N_("Owner"))
CURRENCY = DrillColumn("currency", N_("Currency"))
ACCOUNT = (CODE, NAME, OWNER)


def _accounts(*columns: Any) -> Select[Any]:
    """A query on ``Customer`` with the account's code, name and owner's name first."""
    owner = aliased(User, name="account_owner")
    return (
        select(
            Customer.code.label("code"),
            Customer.name.label("name"),
            func.coalesce(owner.display_name, owner.username).label("owner"),
            *columns,
        )
        .select_from(Customer)
        .outerjoin(owner, owner.id == Customer.owner_id)
    )


def _in_money(q: DrillQuery, currency: Any, amount: Any) -> ColumnElement[Any]:
    """``amount`` where ``currency`` is the filter's money currency, else nothing."""
    return type_coerce(case((currency == q.flt.money_currency, amount), else_=None), Money())


def _other_currency(q: DrillQuery, currency: Any) -> ColumnElement[int]:
    """0 for the money currency, 1 for another: amounts compared only within a currency."""
    return case((currency == q.flt.money_currency, 0), else_=1)


# ----------------------------------------------------------------------------- loyalty: orders


def _revenue(first: date, last: date, name: str) -> Subquery:
    """Per account: purchase days, revenue and last order day from ``first`` to ``last``
    (orders not cancelled), as ``loyalty.frame`` counts them."""
    return (
        select(
            Order.customer_id.label("customer_id"),
            func.count(distinct(Order.order_date)).label("days"),
            func.sum(Order.amount).label("revenue"),
            func.max(Order.order_date).label("last_order"),
        )
        .where(
            Order.order_date >= first,
            Order.order_date <= last,
            Order.status != OrderStatus.CANCELLED.value,
        )
        .group_by(Order.customer_id)
        .subquery(name)
    )


def _years(q: DrillQuery) -> tuple[Subquery, Subquery]:
    """The twelve months ending on the period's last day and the twelve before them."""
    this_year = months_before(q.last, 12) + timedelta(days=1)
    year_before = months_before(q.last, 24) + timedelta(days=1)
    return (
        _revenue(this_year, q.last, "this_year"),
        _revenue(year_before, this_year - timedelta(days=1), "year_before"),
    )


def _buyers(q: DrillQuery) -> Select[Any]:
    """Accounts with a purchase in the twelve months: the one-time buyers first (the repeat
    rate's headroom), the largest first."""
    now, _before = _years(q)
    return (
        _accounts(
            now.c.days.label("purchase_days"),
            _in_money(q, Customer.currency, now.c.revenue).label("revenue"),
            Customer.currency.label("currency"),
            now.c.last_order.label("last_order"),
        )
        .join(now, now.c.customer_id == Customer.id)
        .where(*account_clauses(q))
        .order_by(
            now.c.days, _other_currency(q, Customer.currency), now.c.revenue.desc(), Customer.code
        )
    )


def _base(q: DrillQuery) -> tuple[Select[Any], Subquery, Subquery]:
    """The retention base: accounts that bought in the twelve months before the last twelve."""
    now, before = _years(q)
    stmt = (
        _accounts()
        .join(before, before.c.customer_id == Customer.id)
        .outerjoin(now, now.c.customer_id == Customer.id)
        .where(before.c.revenue > 0, *account_clauses(q))
    )
    return stmt, now, before


def _bought_now(now: Subquery) -> ColumnElement[bool]:
    return now.c.revenue > 0


def _lost_accounts(q: DrillQuery) -> Select[Any]:
    """The base's accounts that bought nothing in the last twelve months, largest first."""
    stmt, now, before = _base(q)
    return (
        stmt.add_columns(
            _in_money(q, Customer.currency, before.c.revenue).label("revenue_before"),
            Customer.currency.label("currency"),
            before.c.last_order.label("last_order"),
        )
        .where(or_(now.c.customer_id.is_(None), ~_bought_now(now)))
        .order_by(_other_currency(q, Customer.currency), before.c.revenue.desc(), Customer.code)
    )


def _base_accounts(q: DrillQuery) -> Select[Any]:
    """The base in the money currency with its revenue then and now (the NRR's start and end):
    the largest loss first."""
    stmt, now, before = _base(q)
    revenue_now = case((_bought_now(now), now.c.revenue), else_=0)
    change = revenue_now - before.c.revenue
    return (
        stmt.add_columns(
            type_coerce(before.c.revenue, Money()).label("revenue_before"),
            type_coerce(revenue_now, Money()).label("revenue_now"),
            type_coerce(change, Money()).label("change"),
            now.c.last_order.label("last_order"),
        )
        .where(Customer.currency == q.flt.money_currency)
        .order_by(change, Customer.code)
    )


def _expansions(q: DrillQuery) -> Select[Any]:
    """The base's accounts that bought more than in the year before, the largest growth
    first."""
    stmt, now, before = _base(q)
    growth = now.c.revenue - before.c.revenue
    return (
        stmt.add_columns(
            _in_money(q, Customer.currency, before.c.revenue).label("revenue_before"),
            _in_money(q, Customer.currency, now.c.revenue).label("revenue_now"),
            _in_money(q, Customer.currency, growth).label("growth"),
            Customer.currency.label("currency"),
        )
        .where(_bought_now(now), now.c.revenue > before.c.revenue)
        .order_by(_other_currency(q, Customer.currency), growth.desc(), Customer.code)
    )


YEAR_COLUMNS = (
    DrillColumn("revenue_before", N_("Revenue, the year before"), "money"),
    DrillColumn("revenue_now", N_("Revenue, last 12 months"), "money"),
)

register(
    Drill(
        code="buyers",
        title=N_("Buyers of the last 12 months"),
        stage="loyalty",
        columns=(
            *ACCOUNT,
            DrillColumn("purchase_days", N_("Purchase days"), "count"),
            DrillColumn("revenue", N_("Revenue, last 12 months"), "money"),
            CURRENCY,
            DrillColumn("last_order", N_("Last order"), "date"),
        ),
        query=_buyers,
    )
)
register(
    Drill(
        code="lost_accounts",
        title=N_("Accounts that stopped buying"),
        stage="loyalty",
        columns=(
            *ACCOUNT,
            YEAR_COLUMNS[0],
            CURRENCY,
            DrillColumn("last_order", N_("Last order"), "date"),
        ),
        query=_lost_accounts,
    )
)
register(
    Drill(
        code="base_accounts",
        title=N_("Revenue retention: the year before against the last 12 months"),
        stage="loyalty",
        columns=(
            *ACCOUNT,
            *YEAR_COLUMNS,
            DrillColumn("change", N_("Change"), "money"),
            DrillColumn("last_order", N_("Last order"), "date"),
        ),
        query=_base_accounts,
    )
)
register(
    Drill(
        code="expansions",
        title=N_("Accounts buying more than the year before"),
        stage="force",
        columns=(
            *ACCOUNT,
            *YEAR_COLUMNS,
            DrillColumn("growth", N_("Growth"), "money"),
            CURRENCY,
        ),
        query=_expansions,
    )
)


# ----------------------------------------------------------------------------- loyalty: scores


def _scored(q: DrillQuery, *columns: Any) -> Select[Any]:
    """Accounts with their rows of the latest loyalty cycle on or before the period's last
    day."""
    day = select(func.max(LoyaltyScore.as_of)).where(LoyaltyScore.as_of <= q.last).scalar_subquery()
    return (
        _accounts(*columns)
        .join(LoyaltyScore, LoyaltyScore.customer_id == Customer.id)
        .where(LoyaltyScore.as_of == day, *account_clauses(q))
    )


def _risk_percent() -> ColumnElement[float]:
    return (LoyaltyScore.churn_risk * 100.0).label("churn_risk")


def _value_at_risk() -> ColumnElement[Any]:
    return LoyaltyScore.clv * LoyaltyScore.churn_risk


def _clv_accounts(q: DrillQuery) -> Select[Any]:
    """Accounts with a CLV in the money currency, the most valuable first."""
    return (
        _scored(
            q,
            LoyaltyScore.segment.label("segment"),
            LoyaltyScore.clv.label("clv"),
            (LoyaltyScore.p_alive * 100.0).label("p_alive"),
            _risk_percent(),
            LoyaltyScore.health.label("health"),
        )
        .where(LoyaltyScore.clv.is_not(None), LoyaltyScore.currency == q.flt.money_currency)
        .order_by(LoyaltyScore.clv.desc(), Customer.code)
    )


def _score_columns(q: DrillQuery) -> tuple[Any, ...]:
    return (
        LoyaltyScore.segment.label("segment"),
        LoyaltyScore.health.label("health"),
        LoyaltyScore.health_trend.label("trend"),
        _risk_percent(),
        _in_money(q, LoyaltyScore.currency, LoyaltyScore.clv).label("clv"),
        LoyaltyScore.currency.label("currency"),
        LoyaltyScore.last_order_on.label("last_order"),
    )


def _health_red(q: DrillQuery) -> Select[Any]:
    """Accounts in the red health band: the most value at risk (CLV × churn risk) first."""
    return (
        _scored(q, *_score_columns(q))
        .where(LoyaltyScore.health_band == HealthBand.RED.value)
        .order_by(
            LoyaltyScore.clv.is_(None),
            _other_currency(q, LoyaltyScore.currency),
            _value_at_risk().desc(),
            LoyaltyScore.health,
            Customer.code,
        )
    )


def _churn_risk(q: DrillQuery) -> Select[Any]:
    """Accounts the loyalty dashboard's at-risk list shows: a CLV and a churn risk of at least
    ``DEFAULT_MIN_CHURN_RISK``, by value at risk."""
    return (
        _scored(q, *_score_columns(q))
        .where(
            LoyaltyScore.clv.is_not(None),
            LoyaltyScore.clv > 0,
            LoyaltyScore.churn_risk > 0,
            LoyaltyScore.churn_risk >= DEFAULT_MIN_CHURN_RISK,
        )
        .order_by(_other_currency(q, LoyaltyScore.currency), _value_at_risk().desc(), Customer.code)
    )


SCORE_COLUMNS = (
    *ACCOUNT,
    DrillColumn("segment", N_("Segment")),
    DrillColumn("health", N_("Health"), "score"),
    DrillColumn("trend", N_("Trend")),
    DrillColumn("churn_risk", N_("Churn risk"), "percent"),
    DrillColumn("clv", N_("CLV"), "money"),
    CURRENCY,
    DrillColumn("last_order", N_("Last order"), "date"),
)

register(
    Drill(
        code="clv_accounts",
        title=N_("Accounts by CLV"),
        stage="loyalty",
        columns=(
            *ACCOUNT,
            DrillColumn("segment", N_("Segment")),
            DrillColumn("clv", N_("CLV"), "money"),
            DrillColumn("p_alive", N_("P(alive)"), "percent"),
            DrillColumn("churn_risk", N_("Churn risk"), "percent"),
            DrillColumn("health", N_("Health"), "score"),
        ),
        query=_clv_accounts,
    )
)
register(
    Drill(
        code="health_red",
        title=N_("Accounts in red health"),
        stage="loyalty",
        columns=SCORE_COLUMNS,
        query=_health_red,
    )
)
register(
    Drill(
        code="churn_risk",
        title=N_("Accounts at risk of churning"),
        stage="friction",
        columns=SCORE_COLUMNS,
        query=_churn_risk,
    )
)


# ----------------------------------------------------------------------------- cash: ledger


def open_items(day: date) -> Subquery:
    """Every installment open at the end of ``day``, with its open amount then: what is open
    now plus the allocations applied after the day plus a write-off dated after it
    (``LedgerColumns.open_on``)."""
    later = (
        select(
            Allocation.installment_id.label("installment_id"),
            func.sum(Allocation.amount).label("amount"),
        )
        .where(Allocation.applied_on > day)
        .group_by(Allocation.installment_id)
        .subquery("later")
    )
    open_amount = (
        Installment.amount
        - Installment.paid_amount
        - Installment.credited_amount
        - Installment.written_off_amount
        + func.coalesce(later.c.amount, 0)
        + case((Installment.settled_on > day, Installment.written_off_amount), else_=0)
    )
    items = (
        select(
            Installment.id.label("installment_id"),
            Installment.customer_id.label("customer_id"),
            Installment.due_date.label("due_date"),
            Invoice.currency.label("currency"),
            type_coerce(open_amount, Money()).label("open_amount"),
        )
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .outerjoin(later, later.c.installment_id == Installment.id)
        .where(
            Installment.status != InvoiceStatus.CANCELLED.value,
            Invoice.issue_date <= day,
            # Settled by the day and untouched since: nothing open then.
            or_(
                Installment.settled_on.is_(None),
                Installment.settled_on > day,
                later.c.installment_id.is_not(None),
            ),
        )
        .subquery("open_items")
    )
    return select(items).where(items.c.open_amount > 0).subquery("open_on_day")


def _receivables(q: DrillQuery) -> Select[Any]:
    """Accounts owing in the money currency at the period's end, the largest first, with the
    part overdue and what was invoiced in the DSO window."""
    items = open_items(q.last)
    overdue = items.c.due_date < q.last
    start = q.last - timedelta(days=CASH_WINDOW_DAYS - 1)
    owed = (
        select(
            items.c.customer_id.label("customer_id"),
            func.sum(items.c.open_amount).label("open"),
            func.sum(case((overdue, items.c.open_amount), else_=0)).label("overdue"),
            func.min(case((overdue, items.c.due_date), else_=None)).label("oldest_due"),
        )
        .where(items.c.currency == q.flt.money_currency)
        .group_by(items.c.customer_id)
        .subquery("owed")
    )
    invoiced = (
        select(
            Installment.customer_id.label("customer_id"),
            func.sum(Installment.amount).label("amount"),
        )
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(
            Invoice.issue_date >= start,
            Invoice.issue_date <= q.last,
            Invoice.currency == q.flt.money_currency,
            Installment.status != InvoiceStatus.CANCELLED.value,
        )
        .group_by(Installment.customer_id)
        .subquery("invoiced")
    )
    total = type_coerce(owed.c.open, Money())
    return (
        _accounts(
            total.label("open"),
            type_coerce(owed.c.overdue, Money()).label("overdue"),
            type_coerce(owed.c.open - owed.c.overdue, Money()).label("current"),
            owed.c.oldest_due.label("oldest_due"),
            type_coerce(func.coalesce(invoiced.c.amount, 0), Money()).label("sales_window"),
        )
        .join(owed, owed.c.customer_id == Customer.id)
        .outerjoin(invoiced, invoiced.c.customer_id == Customer.id)
        .where(*account_clauses(q))
        .order_by(owed.c.open.desc(), Customer.code)
    )


def _overdue_accounts(q: DrillQuery) -> Select[Any]:
    """Accounts with something open past its due date at the period's end (any currency): the
    most overdue in the money currency first, then the oldest."""
    items = open_items(q.last)
    late = (
        select(
            items.c.customer_id.label("customer_id"),
            func.sum(
                case((items.c.currency == q.flt.money_currency, items.c.open_amount), else_=None)
            ).label("overdue"),
            func.count().label("overdue_items"),
            func.min(items.c.due_date).label("oldest_due"),
        )
        .where(items.c.due_date < q.last)
        .group_by(items.c.customer_id)
        .subquery("late")
    )
    return (
        _accounts(
            type_coerce(late.c.overdue, Money()).label("overdue"),
            late.c.overdue_items.label("items"),
            late.c.oldest_due.label("oldest_due"),
        )
        .join(late, late.c.customer_id == Customer.id)
        .where(*account_clauses(q))
        .order_by(late.c.overdue.is_(None), late.c.overdue.desc(), late.c.oldest_due, Customer.code)
    )


register(
    Drill(
        code="receivables",
        title=N_("Receivables at the period's end"),
        stage="cash",
        columns=(
            *ACCOUNT,
            DrillColumn("open", N_("Open"), "money"),
            DrillColumn("overdue", N_("Overdue"), "money"),
            DrillColumn("current", N_("Not yet due"), "money"),
            DrillColumn("oldest_due", N_("Oldest overdue since"), "date"),
            DrillColumn("sales_window", N_("Invoiced in the last 90 days"), "money"),
        ),
        query=_receivables,
    )
)
register(
    Drill(
        code="overdue_accounts",
        title=N_("Overdue accounts"),
        stage="cash",
        columns=(
            *ACCOUNT,
            DrillColumn("overdue", N_("Overdue"), "money"),
            DrillColumn("items", N_("Overdue items"), "count"),
            DrillColumn("oldest_due", N_("Oldest overdue since"), "date"),
        ),
        query=_overdue_accounts,
    )
)


# ----------------------------------------------------------------------------- cash: events


def _payments(q: DrillQuery) -> Select[Any]:
    """Payments received in the period in the money currency, the largest first."""
    return (
        _accounts(
            Payment.reference.label("reference"),
            Payment.received_on.label("received_on"),
            Payment.method.label("method"),
            Payment.amount.label("amount"),
        )
        .join(Payment, Payment.customer_id == Customer.id)
        .where(
            Payment.received_on >= q.first,
            Payment.received_on <= q.last,
            Payment.currency == q.flt.money_currency,
            *account_clauses(q),
        )
        .order_by(Payment.amount.desc(), Payment.received_on, Payment.id)
    )


def _promises(q: DrillQuery, statuses: tuple[PromiseStatus, ...]) -> Select[Any]:
    """Promises to pay resolved in the period with one of ``statuses``: broken ones first, the
    largest first."""
    return (
        _accounts(
            PromiseToPay.status.label("status"),
            _in_money(q, PromiseToPay.currency, PromiseToPay.amount).label("amount"),
            _in_money(q, PromiseToPay.currency, PromiseToPay.paid_amount).label("paid"),
            PromiseToPay.currency.label("currency"),
            PromiseToPay.made_on.label("made_on"),
            PromiseToPay.promised_on.label("promised_on"),
            PromiseToPay.resolved_on.label("resolved_on"),
        )
        .join(PromiseToPay, PromiseToPay.customer_id == Customer.id)
        .where(
            PromiseToPay.status.in_([s.value for s in statuses]),
            PromiseToPay.resolved_on >= q.first,
            PromiseToPay.resolved_on <= q.last,
            *account_clauses(q),
        )
        .order_by(
            case((PromiseToPay.status == PromiseStatus.BROKEN.value, 0), else_=1),
            _other_currency(q, PromiseToPay.currency),
            PromiseToPay.amount.desc(),
            PromiseToPay.id,
        )
    )


def _disputes(q: DrillQuery) -> Select[Any]:
    """Disputes opened in the period: those still open first, the largest first."""
    still_open = or_(Dispute.resolved_on.is_(None), Dispute.resolved_on > q.last)
    return (
        _accounts(
            Invoice.number.label("invoice"),
            Dispute.reason.label("reason"),
            _in_money(q, Dispute.currency, Dispute.amount).label("amount"),
            Dispute.currency.label("currency"),
            Dispute.opened_on.label("opened_on"),
            Dispute.sla_due_on.label("sla_due_on"),
            Dispute.resolved_on.label("resolved_on"),
        )
        .join(Dispute, Dispute.customer_id == Customer.id)
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .where(Dispute.opened_on >= q.first, Dispute.opened_on <= q.last, *account_clauses(q))
        .order_by(
            case((still_open, 0), else_=1),
            _other_currency(q, Dispute.currency),
            Dispute.amount.desc(),
            Dispute.id,
        )
    )


PROMISE_COLUMNS = (
    *ACCOUNT,
    DrillColumn("status", N_("Status")),
    DrillColumn("amount", N_("Promised"), "money"),
    DrillColumn("paid", N_("Paid"), "money"),
    CURRENCY,
    DrillColumn("made_on", N_("Made on"), "date"),
    DrillColumn("promised_on", N_("Promised for"), "date"),
    DrillColumn("resolved_on", N_("Resolved on"), "date"),
)

register(
    Drill(
        code="payments",
        title=N_("Payments received"),
        stage="cash",
        columns=(
            *ACCOUNT,
            DrillColumn("reference", N_("Reference")),
            DrillColumn("received_on", N_("Received on"), "date"),
            DrillColumn("method", N_("Method")),
            DrillColumn("amount", N_("Amount"), "money"),
        ),
        query=_payments,
    )
)
register(
    Drill(
        code="promises_resolved",
        title=N_("Promises to pay kept or broken"),
        stage="cash",
        columns=PROMISE_COLUMNS,
        query=lambda q: _promises(q, (PromiseStatus.KEPT, PromiseStatus.BROKEN)),
    )
)
register(
    Drill(
        code="promises_kept",
        title=N_("Promises to pay kept"),
        stage="force",
        columns=PROMISE_COLUMNS,
        query=lambda q: _promises(q, (PromiseStatus.KEPT,)),
    )
)
register(
    Drill(
        code="promises_broken",
        title=N_("Promises to pay broken"),
        stage="friction",
        columns=PROMISE_COLUMNS,
        query=lambda q: _promises(q, (PromiseStatus.BROKEN,)),
    )
)
register(
    Drill(
        code="disputes",
        title=N_("Disputes opened"),
        stage="friction",
        columns=(
            *ACCOUNT,
            DrillColumn("invoice", N_("Invoice")),
            DrillColumn("reason", N_("Reason")),
            DrillColumn("amount", N_("Disputed"), "money"),
            CURRENCY,
            DrillColumn("opened_on", N_("Opened on"), "date"),
            DrillColumn("sla_due_on", N_("Due by (SLA)"), "date"),
            DrillColumn("resolved_on", N_("Resolved on"), "date"),
        ),
        query=_disputes,
    )
)
