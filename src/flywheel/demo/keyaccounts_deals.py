"""The demo company's deals pipeline: for every key account, a few open deals spread over the
stages and a few won or lost in the last year, sized on what the account bought last year."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from flywheel.keyaccounts import deals
from flywheel.models.customers import Customer
from flywheel.models.enums import CustomerStatus, OrderStatus, Tier
from flywheel.models.keyaccounts import Deal
from flywheel.models.sales import Order

FALLBACK_ANNUAL = 500_000.0  # a key account with no order last year is sized as if it had this
# Each deal is this share of the account's annual purchases, drawn log-uniform.
SHARE_LOW, SHARE_HIGH = 0.05, 0.45
OPEN_DEALS = (1, 4)  # per account, inclusive
CLOSED_DEALS = (1, 4)
WIN_SHARE = 0.55
_PRODUCTS = (
    ("伺服电机", "Servo motors"),
    ("控制柜", "Control cabinets"),
    ("备件年度框架", "Annual spare parts"),
    ("产线改造", "Line retrofit"),
    ("维保服务", "Maintenance contract"),
    ("传感器", "Sensors"),
    ("自动化软件许可", "Automation software"),
)
_COMPETITORS = ("西门子", "ABB", "施耐德", "汇川技术", "欧姆龙", "Rockwell", "本地代理商")
_LOST_REASONS = (
    "价格高于竞争对手",
    "客户预算削减",
    "选择了现有供应商",
    "交期无法满足",
    "Lost on price to a local supplier",
    "Project postponed to next year",
)


def _key_accounts(session: Session, as_of: date) -> list[tuple[int, int | None, str, float]]:
    """(id, owner, currency, last year's purchases) of the key accounts with no deal yet."""
    bought = (
        select(Order.customer_id, func.sum(Order.amount).label("amount"))
        .where(
            Order.order_date > as_of - timedelta(days=365),
            Order.order_date <= as_of,
            Order.status != OrderStatus.CANCELLED.value,
        )
        .group_by(Order.customer_id)
        .subquery()
    )
    has_deal = select(Deal.id).where(Deal.customer_id == Customer.id).exists()
    rows = session.execute(
        select(Customer.id, Customer.owner_id, Customer.currency, bought.c.amount)
        .outerjoin(bought, bought.c.customer_id == Customer.id)
        .where(
            Customer.tier == Tier.KEY.value,
            Customer.status == CustomerStatus.ACTIVE.value,
            Customer.created_on <= as_of,
            ~has_deal,
        )
        .order_by(Customer.id)
    ).all()
    return [
        (int(i), o, str(c), float(a) if a and float(a) > 0 else FALLBACK_ANNUAL)
        for i, o, c, a in rows
    ]


def _round_value(amount: float) -> Decimal:
    # Deals are quoted in round thousands.
    return Decimal(max(1, round(amount / 1000.0)) * 1000).quantize(Decimal("0.01"))


def write_deals(session: Session, *, as_of: date, seed: int = 0) -> dict[str, int]:
    """Write the demo's deals in the caller's transaction (flushes, never commits); returns the
    rows written per kind. Running it again adds only the accounts still without deals."""
    rng = np.random.default_rng(seed + 808)
    deals.seed_default_stages(session)
    stages = deals.list_stages(session, active_only=True)
    open_stages = [s for s in stages if deals.is_open(s)]
    won_stage = next(s for s in stages if s.is_won)
    lost_stage = next(s for s in stages if s.is_lost)
    accounts = _key_accounts(session, as_of)
    # Early stages hold more deals than late ones, as in any funnel.
    weights = np.arange(len(open_stages), 0, -1, dtype=np.float64)
    funnel = np.cumsum(weights / weights.sum())
    last = len(open_stages) - 1
    rows: list[dict[str, Any]] = []
    counts = {"deals_open": 0, "deals_won": 0, "deals_lost": 0}
    for customer_id, owner_id, currency, annual in accounts:
        n_open = int(rng.integers(OPEN_DEALS[0], OPEN_DEALS[1] + 1))
        n_closed = int(rng.integers(CLOSED_DEALS[0], CLOSED_DEALS[1] + 1))
        shares = np.exp(rng.uniform(np.log(SHARE_LOW), np.log(SHARE_HIGH), n_open + n_closed))
        for k in range(n_open + n_closed):
            zh, en = _PRODUCTS[int(rng.integers(len(_PRODUCTS)))]
            value = _round_value(annual * float(shares[k]))
            quantity = int(rng.integers(1, 50))
            unit_price = (value / quantity).quantize(Decimal("0.01"))
            competitors = sorted(
                {_COMPETITORS[int(i)] for i in rng.integers(len(_COMPETITORS), size=2)}
            )[: int(rng.integers(0, 3))]
            row: dict[str, Any] = {
                "customer_id": customer_id,
                "owner_id": owner_id,
                "title": f"{zh} · {en}",
                "value": value,
                "currency": currency,
                "lines": [
                    {"product": zh, "quantity": str(quantity), "unit_price": f"{unit_price:.2f}"}
                ],
                "competitors": competitors,
                "lost_reason": None,
                "closed_on": None,
                "contract_id": None,
                "order_id": None,
            }
            if k < n_open:
                stage = open_stages[min(int(np.searchsorted(funnel, rng.random())), last)]
                opened = as_of - timedelta(days=int(rng.integers(5, 150)))
                expected = as_of + timedelta(days=int(rng.integers(-20, 150)))
                row.update(
                    stage_id=stage.id,
                    opened_on=opened,
                    expected_close_on=max(expected, opened + timedelta(days=7)),
                )
                counts["deals_open"] += 1
            else:
                closed = as_of - timedelta(days=int(rng.integers(1, 360)))
                opened = closed - timedelta(days=int(rng.integers(20, 180)))
                won = bool(rng.random() < WIN_SHARE)
                expected = closed + timedelta(days=int(rng.integers(-30, 30)))
                row.update(
                    stage_id=(won_stage if won else lost_stage).id,
                    opened_on=opened,
                    expected_close_on=max(expected, opened),
                    closed_on=closed,
                    lost_reason=None
                    if won
                    else _LOST_REASONS[int(rng.integers(len(_LOST_REASONS)))],
                )
                counts["deals_won" if won else "deals_lost"] += 1
            rows.append(row)
    if rows:
        # Core, not the ORM bulk path: one executemany instead of a statement per row.
        session.execute(insert(Deal.metadata.tables[Deal.__tablename__]), rows)
    session.flush()
    return {"deals": len(rows), **counts}
