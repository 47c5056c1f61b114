"""The deals pipeline's figures: open and weighted value per stage, win rate and sales cycle of
a period, the same per owner; and the open deals of one account for the customer 360."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.errors import ValidationFailed
from flywheel.keyaccounts.deals import CENT, is_open, list_stages, owner_names
from flywheel.kit.shapes import EARLIEST, LATEST
from flywheel.models.customers import Customer
from flywheel.models.keyaccounts import Deal, DealStage

PERIOD_DAYS = 365


def period(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The figures' period: ``end`` (default today) and ``start`` (default a year before it),
    both plausible days, the start not after the end."""
    for field, day in (("start", start), ("end", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ValidationFailed(f"{field}: a day from {EARLIEST} to {LATEST}", field=field)
    last = end or today
    first = start or max(EARLIEST, last - timedelta(days=PERIOD_DAYS - 1))
    if first > last:
        raise ValidationFailed("start: the period starts after it ends", field="start")
    return first, last


def _money_text(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {c: f"{a.quantize(CENT):.2f}" for c, a in sorted(amounts.items())}


def pipeline_figures(
    session: Session,
    actor: Actor,
    *,
    as_of: date,
    start: date,
    end: date,
    owner_id: int | None = None,
) -> dict[str, Any]:
    """The pipeline the actor may see, known on ``as_of``: per stage the open deals, their value
    and weighted value (value × probability) per currency; the deals won and lost in
    [start, end], the win rate (won / closed) and the average sales cycle in days (opened →
    won); and the same per owner. Deals opened after ``as_of`` are left out."""
    if start > end:
        raise ValidationFailed("start: the period starts after it ends", field="start")
    stages = list_stages(session)
    stmt = (
        select(
            Deal.owner_id,
            Deal.stage_id,
            Deal.value,
            Deal.currency,
            Deal.opened_on,
            Deal.closed_on,
        )
        .join(Customer, Customer.id == Deal.customer_id)
        .where(visible_customers(actor), Deal.opened_on <= as_of)
    )
    if owner_id is not None:
        stmt = stmt.where(Deal.owner_id == owner_id)
    by_id = {s.id: s for s in stages}
    per_stage: dict[int, dict[str, Any]] = {
        s.id: {"count": 0, "value": defaultdict(Decimal), "weighted": defaultdict(Decimal)}
        for s in stages
    }
    owners: dict[int | None, dict[str, Any]] = {}
    total_open: dict[str, Decimal] = defaultdict(Decimal)
    total_weighted: dict[str, Decimal] = defaultdict(Decimal)
    won = lost = 0
    cycle_days: list[int] = []
    won_value: dict[str, Decimal] = defaultdict(Decimal)

    def owner_entry(key: int | None) -> dict[str, Any]:
        if key not in owners:
            owners[key] = {
                "open_count": 0,
                "open_value": defaultdict(Decimal),
                "weighted_value": defaultdict(Decimal),
                "won": 0,
                "lost": 0,
                "won_value": defaultdict(Decimal),
                "cycle_days": [],
            }
        return owners[key]

    for owner, stage_id, value, currency, opened_on, closed_on in session.execute(stmt):
        stage = by_id[stage_id]
        amount = Decimal(value)
        entry = owner_entry(owner)
        closed_by_then = closed_on is not None and closed_on <= as_of
        if is_open(stage) or not closed_by_then:
            if not is_open(stage):
                continue  # closed after as_of: its stage then is not known; leave it out
            weighted = amount * stage.probability / 100
            bucket = per_stage[stage_id]
            bucket["count"] += 1
            bucket["value"][currency] += amount
            bucket["weighted"][currency] += weighted
            total_open[currency] += amount
            total_weighted[currency] += weighted
            entry["open_count"] += 1
            entry["open_value"][currency] += amount
            entry["weighted_value"][currency] += weighted
            continue
        assert closed_on is not None
        if not start <= closed_on <= end:
            continue
        if stage.is_won:
            won += 1
            entry["won"] += 1
            won_value[currency] += amount
            entry["won_value"][currency] += amount
            days = (closed_on - opened_on).days
            cycle_days.append(days)
            entry["cycle_days"].append(days)
        else:
            lost += 1
            entry["lost"] += 1
    names = owner_names(session, [k for k in owners if k is not None])

    def rate(w: int, lo: int) -> float | None:
        return round(w / (w + lo), 4) if w + lo else None

    def mean(days: list[int]) -> float | None:
        return round(sum(days) / len(days), 1) if days else None

    return {
        "as_of": as_of.isoformat(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "stages": [
            {
                "code": s.code,
                "name_en": s.name_en,
                "name_zh": s.name_zh,
                "probability": s.probability,
                "is_won": s.is_won,
                "is_lost": s.is_lost,
                "open_deals": per_stage[s.id]["count"],
                "open_value": _money_text(per_stage[s.id]["value"]),
                "weighted_value": _money_text(per_stage[s.id]["weighted"]),
            }
            for s in stages
            if s.active and is_open(s)
        ],
        "open_deals": sum(per_stage[s.id]["count"] for s in stages),
        "open_value": _money_text(total_open),
        "weighted_value": _money_text(total_weighted),
        "won": won,
        "lost": lost,
        "won_value": _money_text(won_value),
        "win_rate": rate(won, lost),
        "average_cycle_days": mean(cycle_days),
        "owners": [
            {
                "owner_id": key,
                "owner": names.get(key) if key is not None else None,
                "open_deals": e["open_count"],
                "open_value": _money_text(e["open_value"]),
                "weighted_value": _money_text(e["weighted_value"]),
                "won": e["won"],
                "lost": e["lost"],
                "won_value": _money_text(e["won_value"]),
                "win_rate": rate(e["won"], e["lost"]),
                "average_cycle_days": mean(e["cycle_days"]),
            }
            for key, e in sorted(
                owners.items(), key=lambda kv: (kv[0] is None, names.get(kv[0] or 0, ""))
            )
        ],
    }


# ----------------------------------------------------------------------------- the 360


# Built once with bound parameters: every account's 360 runs it.
_DEALS_OF = (
    select(Deal, DealStage)
    .join(DealStage, DealStage.id == Deal.stage_id)
    .where(Deal.customer_id == bindparam("customer_id"))
    .order_by(Deal.expected_close_on.is_(None), Deal.expected_close_on, Deal.id)
)


def summary_for_360(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    """The account's open deals for the 360's key-account panel (None when it has no deal at
    all); the caller has already checked the account is in scope."""
    rows = session.execute(_DEALS_OF, {"customer_id": customer_id}).tuples().all()
    if not rows:
        return None
    open_rows = [(d, s) for d, s in rows if is_open(s) and d.opened_on <= as_of]
    value: dict[str, Decimal] = defaultdict(Decimal)
    weighted: dict[str, Decimal] = defaultdict(Decimal)
    for deal, stage in open_rows:
        value[deal.currency] += deal.value
        weighted[deal.currency] += deal.value * stage.probability / 100
    return {
        "open_deals": [
            {
                "id": deal.id,
                "title": deal.title,
                "stage": stage.code,
                "stage_name_en": stage.name_en,
                "stage_name_zh": stage.name_zh,
                "probability": stage.probability,
                "value": f"{deal.value:.2f}",
                "currency": deal.currency,
                "expected_close_on": (
                    deal.expected_close_on.isoformat() if deal.expected_close_on else None
                ),
                "overdue": deal.expected_close_on is not None and deal.expected_close_on < as_of,
            }
            for deal, stage in open_rows
        ],
        "open_value": _money_text(value),
        "weighted_value": _money_text(weighted),
        "won": sum(1 for _d, s in rows if s.is_won),
        "lost": sum(1 for _d, s in rows if s.is_lost),
    }
