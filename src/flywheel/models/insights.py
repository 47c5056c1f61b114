"""Insights: the monthly snapshot the flywheel dashboard reads, KPI targets and the management
reports sent to managers.

The snapshot is a cube: for each month, one row per combination of the accounts' currency,
owner, region, tier and segment, holding additive measures (counts, sums of money, sums of
days). Any filter on those dimensions is a sum of rows, and every ratio on the dashboard is a
ratio of two sums. ``insight_markets`` is the same cube without the owner, so a figure over all
owners reads a few hundred rows per month instead of one per owner.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, BigId, IdPk, utcnow

# Every measure of the cube, by stage. A measure is additive over accounts; "flow" measures
# are also additive over months (events in the month), "stock" measures are a state at the
# month's last day and the period's figure takes the last month's. ``insights.measures``
# describes each one (stage, kind, money or count, where it comes from).
MEASURES: tuple[str, ...] = (
    # accounts
    "accounts",  # stock: active accounts at the month's end
    # attract
    "accounts_new",
    "accounts_new_referred",
    "deals_created",
    "pipeline_created",  # money
    # engage
    "deals_won",
    "deals_lost",
    "won_value",  # money
    "cycle_days",  # sum of days from creation to win, over the deals won
    "key_accounts",  # stock
    "key_accounts_planned",  # stock: key accounts with an active plan
    # delight
    "nps_responses",
    "nps_promoters",
    "nps_detractors",
    "csat_responses",
    "csat_satisfied",
    "csat_sum",
    "loops_opened",
    "loops_closed",
    "loops_closed_in_sla",
    "loop_close_hours",  # sum of hours from opening to closing, over the loops closed
    # loyalty (stock, trailing twelve months at the month's end)
    "buyers_12m",
    "repeat_buyers_12m",
    "base_accounts",  # bought in the twelve months before the last twelve
    "retained_accounts",  # of those, bought again in the last twelve
    "expanded_accounts",  # of those, bought more
    "base_revenue",  # money
    "retained_revenue",  # money: the base's revenue in the last twelve months (NRR)
    "kept_revenue",  # money: min(now, before) per account (GRR)
    "clv_accounts",
    "clv_sum",  # money
    "health_green",
    "health_yellow",
    "health_red",
    "churn_high",
    # cash (stock at the month's end, a 90-day window as on the receivables page)
    "ar_total",  # money
    "ar_current",  # money
    "ar_beginning",  # money: open the day before the window
    "sales_window",  # money: invoiced in the window
    "overdue_accounts",
    # cash (flow)
    "collected",  # money: payments received
    "promises_kept",
    "promises_broken",
    "disputes_opened",
    # force
    "referrals_made",
)


def _dimensions() -> list[Column[Any]]:
    return [
        Column("month", Date, nullable=False),  # its first day
        Column("as_of", Date, nullable=False),  # computed up to: the month's last day, or before
        Column("currency", String(3), nullable=False),
    ]


def _segments() -> list[Column[Any]]:
    return [
        Column("region", String(80), nullable=False, server_default=""),
        Column("tier", String(16), nullable=False),
        Column("segment", String(20), nullable=False),
    ]


def _measures() -> list[Column[Any]]:
    return [Column(name, Float, nullable=False, server_default="0") for name in MEASURES]


insight_cells = Table(
    "insight_cells",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    *_dimensions(),
    Column("owner_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),  # 0: none
    *_segments(),
    *_measures(),
    Index("ix_insight_cells_owner_month", "owner_id", "month"),
    Index("ix_insight_cells_month", "month"),
)

insight_markets = Table(
    "insight_markets",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    *_dimensions(),
    *_segments(),
    *_measures(),
    Index("ix_insight_markets_month", "month"),
)

# The measures the lists behind the figures read per account (the heavy ones to recompute
# from the ledger and the orders: what was open, the twelve-month revenues and purchases).
ACCOUNT_FACTS: tuple[str, ...] = (
    "ar_total",
    "ar_current",
    "sales_window",
    "overdue_accounts",
    "buyers_12m",
    "repeat_buyers_12m",
    "base_accounts",
    "retained_accounts",
    "expanded_accounts",
    "base_revenue",
    "retained_revenue",
)

# One row per account (and currency) per month holding its part of ACCOUNT_FACTS, so that a
# list behind a figure counts exactly what the figure counts, without recomputing it.
insight_account_facts = Table(
    "insight_account_facts",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("month", Date, nullable=False),
    Column("customer_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("currency", String(3), nullable=False),
    *[Column(name, Float, nullable=False, server_default="0") for name in ACCOUNT_FACTS],
    Index("ix_insight_account_facts_month_customer", "month", "customer_id"),
)

# Accounts moving between segments (kind "segment") or credit grades (kind "grade") from the
# end of the month before to the end of ``month``.
insight_transitions = Table(
    "insight_transitions",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("month", Date, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("owner_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("region", String(80), nullable=False, server_default=""),
    Column("tier", String(16), nullable=False),
    Column("from_code", String(20), nullable=False),
    Column("to_code", String(20), nullable=False),
    Column("accounts", Integer, nullable=False),
    Index("ix_insight_transitions_month_kind", "month", "kind"),
)


class InsightMonth(Base):
    """A month of the cube: when it was built and up to which day."""

    __tablename__ = "insight_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    accounts: Mapped[int] = mapped_column(Integer)
    cells: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class KpiTarget(Base):
    """The company's target for one dashboard figure (a monthly value for flows, a level for
    rates and stocks)."""

    __tablename__ = "kpi_targets"

    id: Mapped[IdPk]
    kpi: Mapped[str] = mapped_column(String(40), unique=True)
    value: Mapped[float] = mapped_column(Float)
    updated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InsightReport(Base):
    """A management report: the figures of one week or month, frozen when it was made, sent to
    the managers through the outbox."""

    __tablename__ = "insight_reports"
    __table_args__ = (UniqueConstraint("kind", "period_start", name="uq_insight_reports_period"),)

    id: Mapped[IdPk]
    kind: Mapped[str] = mapped_column(String(8))  # "weekly" or "monthly"
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    as_of: Mapped[date] = mapped_column(Date)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
