"""Attract: accounts gained in the month (and how many came through a referral), the deals
created and their value, and the referrals made."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sqlalchemy.orm import Session

from flywheel.insights.cube import Accounts, Contribution, Month, per_account


def measures(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    created = accounts.created_on
    alive = created <= np.datetime64(month.last)
    new = (created >= np.datetime64(month.first)) & alive
    return {
        "accounts": per_account(alive.astype(np.float64)),
        "accounts_new": per_account(new.astype(np.float64)),
    }
