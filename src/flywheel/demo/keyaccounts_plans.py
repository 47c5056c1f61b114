"""The demo company's account plans: for every key account a plan for the year (revenue target
and share of wallet sized on last year's purchases, whitespace, risks, a review cadence with
some reviews overdue) and its objectives, with owners, due dates and a spread of statuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from flywheel.models.customers import Customer
from flywheel.models.enums import CustomerStatus, OrderStatus, Tier
from flywheel.models.keyaccounts import AccountPlan, PlanObjective
from flywheel.models.sales import Order

FALLBACK_ANNUAL = 500_000.0  # a key account with no order last year is planned as if it had this
GROWTH = (1.05, 1.35)  # next year's target over last year's purchases
SHARE_OF_WALLET = (0.15, 0.7)  # what we think we have of the account's spend
CADENCES = np.array([60, 90, 90, 90, 120])
# A review a bit past its date is common; the draw runs to 1.4 cadences back.
LAST_REVIEW_SPREAD = 1.4
_WHITESPACE = (
    ("华南新工厂", "South China plant", 0.25),
    ("维保服务合同", "Maintenance contract", 0.10),
    ("自动化软件许可", "Automation software licences", 0.08),
    ("备件年度框架", "Annual spare-parts frame", 0.12),
    ("二期产线改造", "Phase-two line retrofit", 0.30),
    ("越南工厂", "Vietnam plant", 0.20),
    ("传感器升级", "Sensor upgrade", 0.05),
)
_RISKS = (
    ("竞争对手低价切入", "A competitor undercutting on price", "锁定年度框架价格，突出总拥有成本"),
    ("关键决策人即将调岗", "Our sponsor is moving to another role", "尽快认识继任者，安排高层拜访"),
    ("客户预算收紧", "The customer's budget is being cut", "分阶段交付，调整付款节奏"),
    ("交期不稳定影响满意度", "Unstable lead times hurt satisfaction", "设立安全库存，周度交付例会"),
    ("付款逾期增加", "Payments are slipping", "与财务对接，约定对账与付款计划"),
    (
        "Single-threaded through purchasing",
        "Single-threaded through purchasing",
        "Map and meet the plant managers",
    ),
)
# (title zh, title en, measure, target low, target high)
_OBJECTIVES = (
    ("扩大备件份额", "Grow the spare-parts share", "备件份额 %", 30.0, 60.0),
    ("签下维保服务合同", "Sign the maintenance contract", "合同数", 1.0, 1.0),
    ("完成华南工厂试点", "Pilot at the South China plant", "试点订单数", 2.0, 5.0),
    ("提升满意度", "Raise satisfaction", "NPS", 30.0, 60.0),
    ("缩短回款周期", "Shorten payment days", "平均回款天数", 45.0, 60.0),
    ("建立高层关系", "Build executive relationships", "高层会面次数", 2.0, 6.0),
    ("Expand to the second line", "Expand to the second line", "orders", 1.0, 3.0),
)
_STATUSES = np.array(["on_track", "on_track", "on_track", "at_risk", "done", "dropped"])


def _key_accounts(session: Session, as_of: date) -> list[tuple[int, int | None, str, float]]:
    """(id, owner, currency, last year's purchases) of the active key accounts with no plan."""
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
    has_plan = select(AccountPlan.id).where(AccountPlan.customer_id == Customer.id).exists()
    rows = session.execute(
        select(Customer.id, Customer.owner_id, Customer.currency, bought.c.amount)
        .outerjoin(bought, bought.c.customer_id == Customer.id)
        .where(
            Customer.tier == Tier.KEY.value,
            Customer.status == CustomerStatus.ACTIVE.value,
            Customer.created_on <= as_of,
            ~has_plan,
        )
        .order_by(Customer.id)
    ).all()
    return [
        (int(i), o, str(c), float(a) if a and float(a) > 0 else FALLBACK_ANNUAL)
        for i, o, c, a in rows
    ]


def _round(amount: float, step: float = 10_000.0) -> Decimal:
    return Decimal(max(1, round(amount / step)) * int(step)).quantize(Decimal("0.01"))


def write_plans(session: Session, *, as_of: date, seed: int = 0) -> dict[str, int]:
    """Write the plans in the caller's transaction (flushes, never commits); returns the rows
    written per kind. A rerun adds plans only for the key accounts still without one."""
    rng = np.random.default_rng(seed + 909)
    accounts = _key_accounts(session, as_of)
    if not accounts:
        return {"account_plans": 0, "plan_objectives": 0}
    stamp = datetime.combine(as_of, time(18, 0), tzinfo=UTC)
    n = len(accounts)
    annual = np.array([a[3] for a in accounts])
    growth = rng.uniform(*GROWTH, n)
    share = rng.uniform(*SHARE_OF_WALLET, n)
    cadence = rng.choice(CADENCES, n)
    back = np.floor(rng.uniform(0, LAST_REVIEW_SPREAD, n) * cadence).astype(int)
    plans: list[dict[str, Any]] = []
    for k, (customer_id, owner_id, currency, _bought) in enumerate(accounts):
        last = as_of - timedelta(days=int(back[k]))
        picks = rng.choice(len(_WHITESPACE), int(rng.integers(1, 4)), replace=False)
        whitespace = [
            {
                "item": _WHITESPACE[i][0] if rng.random() < 0.8 else _WHITESPACE[i][1],
                "note": None,
                "potential": f"{_round(annual[k] * _WHITESPACE[i][2]):.2f}",
            }
            for i in picks
        ]
        risks = [
            {
                "risk": _RISKS[i][0],
                "likelihood": int(rng.integers(2, 5)),
                "impact": int(rng.integers(2, 6)),
                "mitigation": _RISKS[i][2],
            }
            for i in rng.choice(len(_RISKS), int(rng.integers(1, 3)), replace=False)
        ]
        plans.append(
            {
                "customer_id": customer_id,
                "owner_id": owner_id,
                "year": as_of.year,
                "revenue_target": _round(annual[k] * growth[k]),
                "currency": currency,
                "estimated_wallet": _round(annual[k] / share[k]),
                "whitespace": whitespace,
                "risks": risks,
                "review_every_days": int(cadence[k]),
                "last_reviewed_on": last,
                "next_review_on": last + timedelta(days=int(cadence[k])),
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    session.execute(insert(AccountPlan), plans)
    ids = dict(
        session.execute(
            select(AccountPlan.customer_id, AccountPlan.id).where(
                AccountPlan.customer_id.in_([a[0] for a in accounts])
            )
        ).all()
    )
    year_end = date(as_of.year, 12, 31)
    objectives: list[dict[str, Any]] = []
    for customer_id, owner_id, _currency, _bought in accounts:
        for i in rng.choice(len(_OBJECTIVES), int(rng.integers(2, 5)), replace=False):
            title_zh, title_en, measure, low, high = _OBJECTIVES[i]
            target = float(round(rng.uniform(low, high)))
            status = str(rng.choice(_STATUSES))
            progress = 1.0 if status == "done" else float(rng.uniform(0.1, 0.9))
            # Mostly later this year; one in six already past its date.
            due = as_of + timedelta(
                days=int(rng.integers(-45, max((year_end - as_of).days, 30) + 90))
            )
            objectives.append(
                {
                    "plan_id": ids[customer_id],
                    "customer_id": customer_id,
                    "title": title_zh if rng.random() < 0.8 else title_en,
                    "measure": measure,
                    "target_value": target,
                    "current_value": round(target * progress, 1),
                    "owner_id": owner_id,
                    "due_on": due,
                    "status": status,
                    "updated_at": stamp,
                }
            )
    session.execute(insert(PlanObjective), objectives)
    session.flush()
    return {"account_plans": len(plans), "plan_objectives": len(objectives)}
