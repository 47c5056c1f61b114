"""The demo company's negotiations: one per key account, on its biggest open deal (else a
contract up for renewal, else the account), with the preparation sheet, price and payment-term
issues whose walk-aways sometimes overlap and sometimes do not, give-gets planned and given,
meetings; some still open (a few concessions waiting for a manager), some closed with an
outcome and a post-mortem."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from flywheel.config import get_settings
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    ApprovalStatus,
    CustomerStatus,
    NegotiationOutcome,
    NegotiationStatus,
    Role,
    Tier,
)
from flywheel.models.keyaccounts import (
    Concession,
    Contract,
    Deal,
    DealStage,
    Negotiation,
    NegotiationIssue,
    NegotiationMeeting,
)
from flywheel.models.users import User

FALLBACK_VALUE = Decimal("300000")  # an account with no open deal negotiates about this much
CLOSED_SHARE = 0.45
PREPARING_SHARE = 0.35  # of the open ones
OUTCOMES = (
    (NegotiationOutcome.AGREED, 0.45),
    (NegotiationOutcome.WON, 0.25),
    (NegotiationOutcome.NO_DEAL, 0.15),
    (NegotiationOutcome.LOST, 0.15),
)
_OBJECTIVES = (
    "锁定三年框架协议，价格降幅不超过 3%",
    "扩大份额至客户采购额的 40%，进入二号工厂",
    "Keep the price, trade payment terms for volume commitment",
    "续签并增加年度维保服务",
)
_INTERESTS = (
    "采购部今年有 5% 降本指标；更看重交期稳定",
    "账期希望从 30 天延长到 90 天，现金流紧张",
    "Wants a single supplier for spare parts, fewer invoices",
    "技术部倾向我方方案，但财务关注总拥有成本",
)
_OUR_BATNA = (
    "产能可转给华南的两家新客户",
    "Sell the slot to the export order at list price",
    "维持现有订单，不签框架协议",
)
_THEIR_BATNA = (
    "汇川技术报价低约 6%，但交期长 4 周",
    "继续使用现有供应商，维持单次采购",
    "A local distributor with 60-day terms and lower service level",
)
_GIVES = (
    ("免费现场培训两天", "提前确认年度用量"),
    ("交期缩短一周", "预付 30%"),
    ("Free spare-parts kit", "Reference visit for a prospect"),
    ("延保一年", "签三年协议"),
)
_MEETING_NOTES = (
    "对方采购总监出席，重点谈价格与账期；同意下次会议带来用量预测。",
    "技术交流顺利，对方提出交期要求，需内部确认产能。",
    "They asked for 8% off; we held at 3% and offered training instead.",
    "财务部参与，关注账期，倾向 60 天。",
)
_POST_MORTEMS = (
    "提前锚定价格有效；账期让步应更晚提出。",
    "We conceded terms too early; next time trade them for volume.",
    "竞争对手低价，我方未能证明总成本优势。",
    "关键决策人支持是成功关键，应更早接触财务。",
)


def _pick(rng: np.random.Generator, items: tuple[Any, ...]) -> Any:
    return items[int(rng.integers(len(items)))]


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def _accounts(session: Session, as_of: date) -> list[tuple[int, int | None]]:
    has_one = select(Negotiation.id).where(Negotiation.customer_id == Customer.id).exists()
    rows = session.execute(
        select(Customer.id, Customer.owner_id)
        .where(
            Customer.tier == Tier.KEY.value,
            Customer.status == CustomerStatus.ACTIVE.value,
            Customer.created_on <= as_of,
            ~has_one,
        )
        .order_by(Customer.id)
    ).all()
    return [(int(i), o) for i, o in rows]


def _biggest_open_deals(session: Session, ids: list[int]) -> dict[int, tuple[int, str, Decimal]]:
    """customer id → (deal id, title, value) of its biggest open deal."""
    out: dict[int, tuple[int, str, Decimal]] = {}
    rows = session.execute(
        select(Deal.customer_id, Deal.id, Deal.title, Deal.value)
        .join(DealStage, DealStage.id == Deal.stage_id)
        .where(Deal.customer_id.in_(ids), DealStage.is_won.is_(False), DealStage.is_lost.is_(False))
        .order_by(Deal.customer_id, Deal.value.desc(), Deal.id)
    )
    for customer_id, deal_id, title, value in rows:
        out.setdefault(int(customer_id), (int(deal_id), str(title), Decimal(value)))
    return out


def _contracts(session: Session, ids: list[int]) -> dict[int, tuple[int, str, Decimal]]:
    out: dict[int, tuple[int, str, Decimal]] = {}
    rows = session.execute(
        select(Contract.customer_id, Contract.id, Contract.number, Contract.value)
        .where(Contract.customer_id.in_(ids))
        .order_by(Contract.customer_id, Contract.end_on, Contract.id)
    )
    for customer_id, contract_id, number, value in rows:
        out.setdefault(int(customer_id), (int(contract_id), str(number), Decimal(value)))
    return out


def _thousands(value: float) -> Decimal:
    return Decimal(max(1, round(value / 1000.0)) * 1000)


def write_negotiations(session: Session, *, as_of: date, seed: int = 0) -> dict[str, int]:
    """Write the demo's negotiations in the caller's transaction (flushes, never commits);
    returns the rows written per kind. Running it again adds only accounts still without one."""
    rng = np.random.default_rng(seed + 818)
    settings = get_settings()
    max_discount = float(settings.concession_max_discount_percent)
    max_days = settings.concession_max_payment_days
    manager = session.scalar(
        select(User.id).where(User.role == Role.MANAGER.value).order_by(User.id).limit(1)
    )
    accounts = _accounts(session, as_of)
    ids = [a for a, _o in accounts]
    deals = _biggest_open_deals(session, ids) if ids else {}
    contracts = _contracts(session, ids) if ids else {}
    heads: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []  # what to hang off each negotiation once it has an id
    for customer_id, owner_id in accounts:
        deal = deals.get(customer_id)
        contract = None if deal else contracts.get(customer_id)
        value = deal[2] if deal else contract[2] if contract else FALLBACK_VALUE
        if deal:
            title = f"{deal[1]}"[:200]
        elif contract:
            title = f"续签 {contract[1]} · Renewal"[:200]
        else:
            title = "年度框架协议 · Annual frame agreement"
        closed = bool(rng.random() < CLOSED_SHARE)
        started = as_of - timedelta(days=int(rng.integers(10, 200)))
        if closed:
            status = NegotiationStatus.CLOSED
        elif rng.random() < PREPARING_SHARE:
            status = NegotiationStatus.PREPARING
        else:
            status = NegotiationStatus.IN_PROGRESS
        outcome = None
        if closed:
            draw = float(rng.random())
            cumulative = 0.0
            for candidate, share in OUTCOMES:
                cumulative += share
                if draw < cumulative:
                    outcome = candidate
                    break
            outcome = outcome or NegotiationOutcome.AGREED
        closed_on = min(as_of, started + timedelta(days=int(rng.integers(14, 90))))
        heads.append(
            {
                "customer_id": customer_id,
                "deal_id": deal[0] if deal else None,
                "contract_id": contract[0] if contract else None,
                "title": title,
                "owner_id": owner_id,
                "status": status.value,
                "our_objectives": _pick(rng, _OBJECTIVES),
                "their_interests": _pick(rng, _INTERESTS),
                "our_batna": _pick(rng, _OUR_BATNA),
                "their_batna": _pick(rng, _THEIR_BATNA),
                "outcome": outcome.value if outcome else None,
                "outcome_notes": (
                    "按会议纪要签署"
                    if outcome in (NegotiationOutcome.AGREED, NegotiationOutcome.WON)
                    else "未达成一致"
                )
                if outcome
                else None,
                "post_mortem": _pick(rng, _POST_MORTEMS) if outcome else None,
                "created_at": _moment(started),
                "updated_at": _moment(closed_on if closed else as_of),
                "closed_at": _moment(closed_on) if closed else None,
            }
        )
        plans.append(
            {
                "value": float(value),
                "status": status,
                "outcome": outcome,
                "started": started,
                "closed_on": closed_on,
            }
        )
    if not heads:
        return {
            "negotiations": 0,
            "negotiation_issues": 0,
            "concessions": 0,
            "negotiation_meetings": 0,
            "concessions_pending": 0,
        }
    negotiation_ids = list(
        session.scalars(
            insert(Negotiation).returning(Negotiation.id, sort_by_parameter_order=True), heads
        )
    )
    issues: list[dict[str, Any]] = []
    meetings: list[dict[str, Any]] = []
    for negotiation_id, head, plan in zip(negotiation_ids, heads, plans, strict=True):
        value = plan["value"]
        # Their walk-away lands around our own: roughly one in four has no ZOPA on price.
        their_top = value * float(rng.uniform(0.86, 1.04))
        price: dict[str, Any] = {
            "name": "price",
            "unit": "CNY",
            "higher_is_better": True,
            "our_opening": _thousands(value * 1.06),
            "our_target": _thousands(value),
            "our_walkaway": _thousands(value * 0.92),
            "their_opening": _thousands(value * 0.80),
            "their_target": _thousands(value * 0.86),
            "their_walkaway": max(_thousands(their_top), _thousands(value * 0.86)),
            "position": 0,
        }
        their_days = int(_pick(rng, (45, 60, 75, 90)))
        terms: dict[str, Any] = {
            "name": "payment_terms",
            "unit": "days",
            "higher_is_better": False,
            "our_opening": Decimal(30),
            "our_target": Decimal(45),
            "our_walkaway": Decimal(60),
            "their_opening": Decimal(max(their_days + 30, 90)),
            "their_target": Decimal(max(their_days + 15, 75)),
            "their_walkaway": Decimal(their_days),
            "position": 1,
        }
        if plan["outcome"] in (NegotiationOutcome.AGREED, NegotiationOutcome.WON):
            low, high = price["our_walkaway"], max(price["their_walkaway"], price["our_walkaway"])
            price["agreed"] = _thousands(
                float(low) + float(high - low) * float(rng.uniform(0.3, 1.0))
            )
            terms["agreed"] = Decimal(min(max(their_days, 45), 60))
        for issue in (price, terms):
            issues.append(
                {
                    "negotiation_id": negotiation_id,
                    "customer_id": head["customer_id"],
                    "agreed": None,
                    **issue,
                }
            )
        if plan["status"] != NegotiationStatus.PREPARING:
            for k in range(int(rng.integers(1, 4))):
                day = min(as_of, plan["started"] + timedelta(days=7 + 14 * k))
                if plan["status"] == NegotiationStatus.CLOSED:
                    day = min(day, plan["closed_on"])
                meetings.append(
                    {
                        "negotiation_id": negotiation_id,
                        "customer_id": head["customer_id"],
                        "held_on": day,
                        "attendees": _pick(
                            rng, ("王总, 采购部李经理", "CFO, 采购总监", "技术部张工, 采购部")
                        ),
                        "notes": _pick(rng, _MEETING_NOTES),
                        "created_at": _moment(day),
                    }
                )
    session.execute(insert(NegotiationIssue), issues)
    if meetings:
        session.execute(insert(NegotiationMeeting), meetings)
    first_meeting: dict[int, int] = {}
    for meeting in session.execute(
        select(NegotiationMeeting.negotiation_id, NegotiationMeeting.id)
        .where(NegotiationMeeting.negotiation_id.in_(negotiation_ids))
        .order_by(NegotiationMeeting.id)
    ):
        first_meeting.setdefault(int(meeting[0]), int(meeting[1]))
    concessions: list[dict[str, Any]] = []
    for negotiation_id, head, plan in zip(negotiation_ids, heads, plans, strict=True):
        status, started = plan["status"], plan["started"]
        base = {
            "negotiation_id": negotiation_id,
            "customer_id": head["customer_id"],
            "logged_by_id": head["owner_id"],
        }
        give, get = _pick(rng, _GIVES)
        # The plan: a give-get within limits, made before the first meeting.
        concessions.append(
            {
                **base,
                "planned": True,
                "give": give,
                "get": get,
                "discount_percent": None,
                "payment_days": None,
                "meeting_id": None,
                "approval_status": ApprovalStatus.NOT_NEEDED.value,
                "logged_at": _moment(started),
            }
        )
        if status == NegotiationStatus.PREPARING:
            continue
        meeting_id = first_meeting.get(negotiation_id)
        small = Decimal(str(round(float(rng.uniform(1.0, max_discount)), 1)))
        concessions.append(
            {
                **base,
                "planned": False,
                "give": f"价格优惠 {small}%",
                "get": "签订年度用量承诺",
                "discount_percent": small,
                "payment_days": None,
                "meeting_id": meeting_id,
                "approval_status": ApprovalStatus.NOT_NEEDED.value,
                "logged_at": _moment(started + timedelta(days=8)),
            }
        )
        if rng.random() < 0.5:
            # A bigger ask: beyond the threshold, it goes to a manager.
            big = Decimal(str(round(max_discount + float(rng.uniform(1.0, 5.0)), 1)))
            days = int(_pick(rng, (max_days + 30, max_days + 15))) if rng.random() < 0.4 else None
            if status == NegotiationStatus.CLOSED:
                decided = "approved" if rng.random() < 0.7 else "rejected"
            else:
                decided = "pending"
            concessions.append(
                {
                    **base,
                    "planned": False,
                    "give": f"额外折扣 {big}%" + (f"，账期 {days} 天" if days else ""),
                    "get": "三年框架协议 · 3-year frame",
                    "discount_percent": big,
                    "payment_days": days,
                    "meeting_id": meeting_id,
                    "approval_status": decided,
                    "approved_by_id": manager if decided != "pending" else None,
                    "decided_at": _moment(started + timedelta(days=10))
                    if decided != "pending"
                    else None,
                    "decision_note": (
                        "量足够大，同意" if decided == "approved" else "超出该等级客户的政策"
                    )
                    if decided != "pending"
                    else None,
                    "logged_at": _moment(started + timedelta(days=9)),
                }
            )
    for row in concessions:
        row.setdefault("approved_by_id", None)
        row.setdefault("decided_at", None)
        row.setdefault("decision_note", None)
    session.execute(insert(Concession), concessions)
    session.flush()
    return {
        "negotiations": len(heads),
        "negotiation_issues": len(issues),
        "concessions": len(concessions),
        "negotiation_meetings": len(meetings),
        "concessions_pending": sum(1 for c in concessions if c["approval_status"] == "pending"),
    }
