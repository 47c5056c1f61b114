"""Loyalty: to be written."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from flywheel.insights.cube import Accounts, Contribution, Month


def measures(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    return {}
