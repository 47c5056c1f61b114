"""The dashboard's periods and filters: a run of whole months ending with a chosen month, the
run just before it, and which accounts count."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import OWNER_SCOPED_ROLES
from flywheel.config import get_settings
from flywheel.errors import ValidationFailed
from flywheel.insights.cube import add_months, month_end, month_start
from flywheel.models.enums import Tier
from flywheel.models.users import User

PERIOD_MONTHS = {"1m": 1, "3m": 3, "6m": 6, "12m": 12}
DEFAULT_PERIOD = "1m"
SERIES_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Period:
    """``months`` whole months ending with the month of ``last``; the running month ends on the
    day the cube was built."""

    first: date  # the first month's first day
    last: date  # the last month's first day
    months: int

    @classmethod
    def ending(cls, month: date, code: str = DEFAULT_PERIOD) -> Period:
        if code not in PERIOD_MONTHS:
            raise ValidationFailed(
                f"the period is one of {', '.join(PERIOD_MONTHS)}, not {code!r}",
                field="period",
                value=code,
            )
        months = PERIOD_MONTHS[code]
        last = month_start(month)
        return cls(first=add_months(last, -(months - 1)), last=last, months=months)

    @property
    def code(self) -> str:
        return f"{self.months}m"

    @property
    def end(self) -> date:
        return month_end(self.last)

    @property
    def previous(self) -> Period:
        return Period(
            first=add_months(self.first, -self.months),
            last=add_months(self.first, -1),
            months=self.months,
        )

    def month_list(self) -> list[date]:
        return [add_months(self.first, i) for i in range(self.months)]


def parse_month(value: str | None, *, default: date) -> date:
    """A ``YYYY-MM`` month (its first day); ``default`` when empty."""
    if not value:
        return month_start(default)
    try:
        year, month = value.strip().split("-")[:2]
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed(
            f"a month is written YYYY-MM, like 2026-11, not {value!r}", field="month", value=value
        ) from None


@dataclass(frozen=True, slots=True)
class InsightFilter:
    """Which accounts count: of one owner (a user id), region, tier and segment. Money figures
    are in ``currency`` (None: the base currency) and count the accounts and documents in it;
    counts and rates of people count every account."""

    owner_id: int | None = None
    region: str | None = None
    tier: str | None = None
    segment: str | None = None
    currency: str | None = None

    def checked(self) -> InsightFilter:
        if self.tier and self.tier not in {t.value for t in Tier}:
            raise ValidationFailed(
                f"tier must be one of {', '.join(t.value for t in Tier)}, not {self.tier!r}",
                field="tier",
                value=self.tier,
            )
        code = (self.currency or get_settings().base_currency).strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValidationFailed(
                "a currency is three letters, like CNY or USD", field="currency", value=code
            )
        return replace(
            self,
            region=(self.region or "").strip() or None,
            tier=self.tier or None,
            segment=(self.segment or "").strip() or None,
            currency=code,
        )

    def scoped(self, actor: Actor) -> InsightFilter:
        """The filter an actor may use: a sales rep sees his own accounts only."""
        if actor.role in OWNER_SCOPED_ROLES:
            return replace(self, owner_id=actor.user_id if actor.user_id is not None else -1)
        return self

    @property
    def money_currency(self) -> str:
        return self.currency or get_settings().base_currency


def owner_id_of(session: Session, username: str | None) -> int | None:
    """The id of the user named ``username`` (None for none); an unknown name is an error."""
    name = (username or "").strip()
    if not name:
        return None
    found = session.scalar(select(User.id).where(User.username == name))
    if found is None:
        raise ValidationFailed(f"there is no user {name!r}", field="owner", value=name)
    return int(found)
