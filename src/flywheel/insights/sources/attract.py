"""Attract: accounts gained in the month (and how many came through a referral), the deals
created and their value, and the referrals made.

The definitions are the domains' own: an account came through a referral when its "referred
by" is set (``loyalty.referral_kpis``: ``referred_new_share``); a referral is made on its
``referred_on`` and counts on the referrer; a deal is created on its ``opened_on``
(``keyaccounts.deal_figures``) and its value counts in the deal's currency."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.insights.cube import Accounts, Contribution, Month, contribution, per_account
from flywheel.insights.sources.grouped import columns
from flywheel.models.customers import Customer
from flywheel.models.keyaccounts import Deal
from flywheel.models.loyalty import Referral


def measures(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    created = accounts.created_on
    alive = created <= np.datetime64(month.last)
    new = (created >= np.datetime64(month.first)) & alive
    referred = session.scalars(
        select(Customer.id).where(
            Customer.referred_by_id.is_not(None),
            Customer.created_on >= month.first,
            Customer.created_on <= month.last,
        )
    ).all()
    deals = session.execute(
        select(Deal.customer_id, Deal.currency, func.count(Deal.id), func.sum(Deal.value))
        .where(Deal.opened_on >= month.first, Deal.opened_on <= month.last)
        .group_by(Deal.customer_id, Deal.currency)
    ).all()
    deal_ids, deal_currency, deal_count, deal_value = columns(deals, 4)
    referrals = session.execute(
        select(Referral.customer_id, func.count(Referral.id))
        .where(Referral.referred_on >= month.first, Referral.referred_on <= month.last)
        .group_by(Referral.customer_id)
    ).all()
    referrer_ids, made = columns(referrals, 2)
    return {
        "accounts": per_account(alive.astype(np.float64)),
        "accounts_new": per_account(new.astype(np.float64)),
        "accounts_new_referred": contribution(accounts, referred),
        "deals_created": contribution(accounts, deal_ids, deal_count),
        "pipeline_created": contribution(
            accounts, deal_ids, [float(v or 0) for v in deal_value], deal_currency
        ),
        "referrals_made": contribution(accounts, referrer_ids, made),
    }
