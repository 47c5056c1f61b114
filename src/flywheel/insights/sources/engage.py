"""Engage: the deals won and lost in the month, the value won and the days they took, and the
key accounts with and without an account plan at the month's end.

The definitions are ``keyaccounts.deal_figures.pipeline_figures``': a deal is closed on its
``closed_on`` in a won or lost stage (a deal opened after the day counted is left out), the win
rate is won / (won + lost) and the sales cycle is the days from ``opened_on`` to ``closed_on``
of the deals won. Key accounts are the key-tier accounts (the key-account list of
``keyaccounts.plan_figures``); one is planned when its account plan (one per account, with no
state of its own) existed at the month's end, the opposite of that list's "no plan" flag."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from flywheel.insights.cube import Accounts, Contribution, Month, contribution, per_account
from flywheel.insights.sources.grouped import columns, days_between
from flywheel.models.enums import Tier
from flywheel.models.keyaccounts import AccountPlan, Deal, DealStage


def day_end(day: date) -> datetime:
    """The first moment (UTC) after ``day``."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def measures(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    won = DealStage.is_won.is_(True)
    lost = DealStage.is_lost.is_(True)
    closed = session.execute(
        select(
            Deal.customer_id,
            Deal.currency,
            func.sum(case((won, 1), else_=0)),
            func.sum(case((lost, 1), else_=0)),
            func.sum(case((won, Deal.value), else_=None)),
            func.sum(case((won, days_between(Deal.opened_on, Deal.closed_on)), else_=0)),
        )
        .join(DealStage, DealStage.id == Deal.stage_id)
        .where(
            won | lost,
            Deal.closed_on >= month.first,
            Deal.closed_on <= month.last,
            Deal.opened_on <= month.last,
        )
        .group_by(Deal.customer_id, Deal.currency)
    ).all()
    ids, currency, n_won, n_lost, value, days = columns(closed, 6)
    key = (accounts.tier == Tier.KEY.value) & (accounts.created_on <= np.datetime64(month.last))
    planned_ids = session.scalars(
        select(AccountPlan.customer_id).where(AccountPlan.created_at < day_end(month.last))
    ).all()
    planned = np.zeros(len(accounts), dtype=bool)
    at = accounts.positions(planned_ids)
    planned[at[at >= 0]] = True
    return {
        "deals_won": contribution(accounts, ids, n_won),
        "deals_lost": contribution(accounts, ids, n_lost),
        "won_value": contribution(accounts, ids, [float(v or 0) for v in value], currency),
        "cycle_days": contribution(accounts, ids, days),
        "key_accounts": per_account(key.astype(np.float64)),
        "key_accounts_planned": per_account((key & planned).astype(np.float64)),
    }
