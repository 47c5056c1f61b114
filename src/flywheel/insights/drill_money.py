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
    Numeric,
    Select,
    Subquery,
    case,
    cast,
    distinct,
    func,
    or_,
    select,
    type_coerce,
)

from flywheel.analytics.retention import months_before
from flywheel.insights.drills import (
    Drill,
    DrillColumn,
    DrillQuery,
    account_clauses,
    account_query,
    register,
)
from flywheel.kit.i18n import N_
from flywheel.loyalty.dashboard import DEFAULT_MIN_CHURN_RISK
from flywheel.models.base import Money
from flywheel.models.collections import Dispute, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import HealthBand, InvoiceStatus, OrderStatus, PromiseStatus
from flywheel.models.insights import insight_account_facts
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.receivables import Installment, Invoice, Payment
from flywheel.models.sales import Order

CODE = DrillColumn("code", N_("Code"), "code")
NAME = DrillColumn("name", N_("Account"))
OWNER = DrillColumn("owner", N_("Owner"))
CURRENCY = DrillColumn("currency", N_("Currency"))
ACCOUNT = (CODE, NAME, OWNER)


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
        account_query(
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


YEAR_COLUMNS = (
    DrillColumn("revenue_before", N_("Revenue, the year before"), "money"),
    DrillColumn("revenue_now", N_("Revenue, last 12 months"), "money"),
)


# ------------------------------------------------------ the heavy lists, from the cube's facts
#
# What was open at a month's end and the twelve-month revenues take the whole ledger and every
# order to recompute; the cube's build keeps each account's part of them
# (``insight_account_facts``), so these lists read it: they count exactly what their figures
# count, in a fraction of a second on a large company.


def _facts(q: DrillQuery, name: str, *where: ColumnElement[bool]) -> Subquery:
    f = insight_account_facts
    return select(f).where(f.c.month == q.last.replace(day=1), *where).subquery(name)


def _last_order(q: DrillQuery) -> Any:
    return (
        select(func.max(Order.order_date))
        .where(
            Order.customer_id == Customer.id,
            Order.order_date <= q.last,
            Order.status != OrderStatus.CANCELLED.value,
        )
        .scalar_subquery()
    )


def _oldest_due(q: DrillQuery) -> Any:
    """The earliest due date of the account's installments open past due at the day's end."""
    return (
        select(func.min(Installment.due_date))
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(
            Installment.customer_id == Customer.id,
            Installment.due_date < q.last,
            Installment.status != InvoiceStatus.CANCELLED.value,
            or_(Installment.settled_on.is_(None), Installment.settled_on > q.last),
            Invoice.issue_date <= q.last,
        )
        .scalar_subquery()
    )


def _fact_money(value: Any) -> Any:
    """An amount of the facts (float64 sums) as Decimal cents."""
    return cast(value, Numeric(18, 2))


def _receivables_facts(q: DrillQuery) -> Select[Any]:
    f = _facts(q, "owed", insight_account_facts.c.currency == q.flt.money_currency)
    return (
        account_query(
            _fact_money(f.c.ar_total).label("open"),
            _fact_money(f.c.ar_total - f.c.ar_current).label("overdue"),
            _fact_money(f.c.ar_current).label("current"),
            _oldest_due(q).label("oldest_due"),
            _fact_money(f.c.sales_window).label("sales_window"),
        )
        .join(f, f.c.customer_id == Customer.id)
        .where(f.c.ar_total > 0, *account_clauses(q))
        .order_by(f.c.ar_total.desc(), Customer.code)
    )


def _overdue_facts(q: DrillQuery) -> Select[Any]:
    late = _facts(q, "late", insight_account_facts.c.overdue_accounts > 0)
    money = _facts(q, "money", insight_account_facts.c.currency == q.flt.money_currency)
    overdue = money.c.ar_total - money.c.ar_current
    return (
        account_query(
            _fact_money(overdue).label("overdue"),
            _oldest_due(q).label("oldest_due"),
        )
        .join(late, late.c.customer_id == Customer.id)
        .outerjoin(money, money.c.customer_id == Customer.id)
        .where(*account_clauses(q))
        .order_by(overdue.is_(None), overdue.desc(), Customer.code)
    )


def _base_facts(q: DrillQuery, *where: ColumnElement[bool]) -> tuple[Select[Any], Subquery]:
    base = _facts(q, "base", insight_account_facts.c.base_accounts > 0, *where)
    stmt = account_query().join(base, base.c.customer_id == Customer.id).where(*account_clauses(q))
    return stmt, base


def _in_money_fact(q: DrillQuery, base: Subquery, value: Any) -> Any:
    return case((base.c.currency == q.flt.money_currency, _fact_money(value)), else_=None)


def _lost_facts(q: DrillQuery) -> Select[Any]:
    stmt, base = _base_facts(q, insight_account_facts.c.retained_accounts == 0)
    return stmt.add_columns(
        _in_money_fact(q, base, base.c.base_revenue).label("revenue_before"),
        base.c.currency.label("currency"),
        _last_order(q).label("last_order"),
    ).order_by(
        case((base.c.currency == q.flt.money_currency, 0), else_=1),
        base.c.base_revenue.desc(),
        Customer.code,
    )


def _base_accounts_facts(q: DrillQuery) -> Select[Any]:
    stmt, base = _base_facts(q, insight_account_facts.c.currency == q.flt.money_currency)
    change = base.c.retained_revenue - base.c.base_revenue
    return stmt.add_columns(
        _fact_money(base.c.base_revenue).label("revenue_before"),
        _fact_money(base.c.retained_revenue).label("revenue_now"),
        _fact_money(change).label("change"),
        _last_order(q).label("last_order"),
    ).order_by(change, Customer.code)


def _expansions_facts(q: DrillQuery) -> Select[Any]:
    stmt, base = _base_facts(q, insight_account_facts.c.expanded_accounts > 0)
    growth = base.c.retained_revenue - base.c.base_revenue
    return stmt.add_columns(
        _in_money_fact(q, base, base.c.base_revenue).label("revenue_before"),
        _in_money_fact(q, base, base.c.retained_revenue).label("revenue_now"),
        _in_money_fact(q, base, growth).label("growth"),
        base.c.currency.label("currency"),
    ).order_by(
        case((base.c.currency == q.flt.money_currency, 0), else_=1), growth.desc(), Customer.code
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
        query=_lost_facts,
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
        query=_base_accounts_facts,
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
        query=_expansions_facts,
    )
)


# ----------------------------------------------------------------------------- loyalty: scores


def _scored(q: DrillQuery, *columns: Any) -> Select[Any]:
    """Accounts with their rows of the latest loyalty cycle on or before the period's last
    day."""
    day = select(func.max(LoyaltyScore.as_of)).where(LoyaltyScore.as_of <= q.last).scalar_subquery()
    return (
        account_query(*columns)
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
        query=_receivables_facts,
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
            DrillColumn("oldest_due", N_("Oldest overdue since"), "date"),
        ),
        query=_overdue_facts,
    )
)


# ----------------------------------------------------------------------------- cash: events


def _payments(q: DrillQuery) -> Select[Any]:
    """Payments received in the period in the money currency, the largest first."""
    return (
        account_query(
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
        account_query(
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
        account_query(
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
