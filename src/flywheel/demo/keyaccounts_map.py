"""The demo key accounts' stakeholder maps (a hierarchy from the decision maker down, attitudes
that follow the account's latent satisfaction, influence by buying role) and their needs
registers, including survey comments promoted to needs. Set-based: a few queries, one insert
per table, whatever the number of accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import String, cast, insert, literal, select
from sqlalchemy.orm import Session

from flywheel.keyaccounts.needs import headline
from flywheel.models.customers import Contact, Customer
from flywheel.models.demo import DemoCustomerTraits
from flywheel.models.enums import Attitude, Tier
from flywheel.models.feedback import SurveyResponse
from flywheel.models.keyaccounts import Need, Stakeholder

ATTITUDES = (
    Attitude.CHAMPION.value,
    Attitude.SUPPORTER.value,
    Attitude.NEUTRAL.value,
    Attitude.SCEPTIC.value,
    Attitude.OPPONENT.value,
)
# Influence by buying role: (low, high) of a uniform pick.
INFLUENCE = {
    "decision_maker": (4, 5),
    "influencer": (3, 5),
    "finance": (2, 4),
    "user": (1, 3),
    "gatekeeper": (2, 3),
}
PROMOTE_DAYS = 365
NEEDS_ZH = (
    (
        "need",
        "interview",
        2,
        "缩短交货周期到两周以内",
        "新产线投产，要求供货周期从四周缩短到两周。",
    ),
    (
        "pain_point",
        "support_ticket",
        1,
        "到货批次质量不稳定",
        "上季度两批次来料检验不合格，影响产线节拍。",
    ),
    ("need", "market_research", 3, "希望提供寄售库存", "行业普遍采用VMI，客户希望降低库存占用。"),
    ("pain_point", "interview", 2, "对账流程繁琐", "每月对账需要人工核对发票与送货单，耗时两天。"),
    ("need", "negotiation", 3, "希望延长付款账期", "客户资金周转压力大，提出付款账期延长到90天。"),
    ("need", "interview", 4, "需要现场技术培训", "新入职工程师较多，希望每季度一次现场培训。"),
)
NEEDS_EN = (
    (
        "need",
        "interview",
        2,
        "Lead time under two weeks",
        "A new line starts; they need supply in two weeks, not four.",
    ),
    (
        "pain_point",
        "support_ticket",
        1,
        "Unstable batch quality",
        "Two batches failed incoming inspection last quarter.",
    ),
    (
        "need",
        "market_research",
        3,
        "Consignment stock",
        "VMI is common in their industry; they want less stock on hand.",
    ),
    (
        "pain_point",
        "interview",
        2,
        "Month-end reconciliation is slow",
        "Matching invoices to delivery notes takes two days a month.",
    ),
    (
        "need",
        "negotiation",
        3,
        "Longer payment terms",
        "Cash is tight; they asked for 90-day terms.",
    ),
    (
        "need",
        "interview",
        4,
        "On-site technical training",
        "Many new engineers; they want training once a quarter.",
    ),
)
OFFERS_ZH = ("华东仓备货，承诺10天交付", "驻厂质量工程师+来料全检", "季度现场培训套餐")
OFFERS_EN = (
    "Stock at the East China warehouse, 10-day delivery",
    "Resident quality engineer",
    "Quarterly training package",
)


def _contacts(session: Session) -> list[Any]:
    """Key accounts' contacts without a stakeholder row yet, by account then contact."""
    return list(
        session.execute(
            select(
                Contact.id,
                Contact.customer_id,
                Contact.buying_role,
                DemoCustomerTraits.satisfaction_propensity,
            )
            .join(Customer, Customer.id == Contact.customer_id)
            .outerjoin(DemoCustomerTraits, DemoCustomerTraits.customer_id == Customer.id)
            .outerjoin(Stakeholder, Stakeholder.contact_id == Contact.id)
            .where(Customer.tier == Tier.KEY.value, Stakeholder.id.is_(None))
            .order_by(Contact.customer_id, Contact.id)
        ).all()
    )


def _stakeholders(rng: np.random.Generator, rows: list[Any]) -> list[dict[str, Any]]:
    n = len(rows)
    contact = np.array([r[0] for r in rows], dtype=np.int64)
    customer = np.array([r[1] for r in rows], dtype=np.int64)
    role = np.array([r[2] or "user" for r in rows], dtype=object)
    satisfaction = np.array([0.65 if r[3] is None else float(r[3]) for r in rows])
    # The boss of each: the account's first decision maker for the finance, influencer and
    # further decision makers; its first influencer (else that decision maker) for the rest.
    first: dict[tuple[int, str], int] = {}
    for c, k, r in zip(contact.tolist(), customer.tolist(), role.tolist(), strict=True):
        first.setdefault((k, r), c)
    bosses: list[int | None] = []
    for c, k, r in zip(contact.tolist(), customer.tolist(), role.tolist(), strict=True):
        top = first.get((k, "decision_maker"))
        middle = first.get((k, "influencer"), top)
        boss = top if r in ("decision_maker", "finance", "influencer") else middle
        bosses.append(None if boss == c else boss)
    # Attitude: a latent score from the account's satisfaction plus the person's own noise.
    score = 1.8 * (satisfaction - 0.65) + rng.normal(0.0, 0.7, n)
    cuts = np.array([0.6, 0.1, -0.4, -0.75])  # champion > … > opponent
    attitude_index = np.searchsorted(-cuts, -score, side="right")
    low = np.array([INFLUENCE.get(r, (1, 3))[0] for r in role.tolist()])
    high = np.array([INFLUENCE.get(r, (1, 3))[1] for r in role.tolist()])
    influence = low + np.floor(rng.random(n) * (high - low + 1)).astype(np.int64)
    trust = np.clip(np.round(3 + 1.2 * score + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)
    return [
        {
            "customer_id": int(customer[i]),
            "contact_id": int(contact[i]),
            "influence": int(influence[i]),
            "attitude": ATTITUDES[int(attitude_index[i])],
            "trust": int(trust[i]),
            "reports_to_contact_id": bosses[i],
        }
        for i in range(n)
    ]


def _needs(
    session: Session, rng: np.random.Generator, as_of: date, stamp: datetime
) -> list[dict[str, Any]]:
    """Two to four needs per key account with no needs yet; older ones partly addressed."""
    accounts = session.execute(
        select(Customer.id, DemoCustomerTraits.language)
        .outerjoin(DemoCustomerTraits, DemoCustomerTraits.customer_id == Customer.id)
        .outerjoin(Need, Need.customer_id == Customer.id)
        .where(Customer.tier == Tier.KEY.value, Need.id.is_(None))
        .order_by(Customer.id)
    ).all()
    rows: list[dict[str, Any]] = []
    for customer_id, language in accounts:
        english = language == "en"
        table, offers = (NEEDS_EN, OFFERS_EN) if english else (NEEDS_ZH, OFFERS_ZH)
        count = int(rng.integers(2, 5))
        for pick in rng.choice(len(table), size=count, replace=False).tolist():
            kind, source, priority, title, description = table[pick]
            addressed = rng.random() < 0.3
            created = stamp - timedelta(days=int(rng.integers(5, 300)))
            rows.append(
                {
                    "customer_id": int(customer_id),
                    "title": title,
                    "description": description,
                    "kind": kind,
                    "source": source,
                    "source_ref": None,
                    "priority": priority,
                    "status": "addressed" if addressed else "open",
                    "offer": offers[int(rng.integers(0, len(offers)))] if addressed else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
    return rows


def _promoted(session: Session, as_of: date, stamp: datetime) -> list[dict[str, Any]]:
    """The latest critical or neutral survey comment of each key account in the last year,
    promoted to a need (once: the source is remembered)."""
    start = datetime.combine(as_of - timedelta(days=PROMOTE_DAYS), time(0), tzinfo=UTC)
    ref = literal("response:", String) + cast(SurveyResponse.id, String)
    rows = session.execute(
        select(
            SurveyResponse.id,
            SurveyResponse.customer_id,
            SurveyResponse.comment,
            SurveyResponse.answered_at,
        )
        .join(Customer, Customer.id == SurveyResponse.customer_id)
        .outerjoin(Need, Need.source_ref == ref)
        .where(
            Customer.tier == Tier.KEY.value,
            SurveyResponse.comment.is_not(None),
            SurveyResponse.comment != "",
            SurveyResponse.band != "promoter",
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < stamp,
            Need.id.is_(None),
        )
        .order_by(SurveyResponse.customer_id, SurveyResponse.answered_at.desc())
    ).all()
    out: list[dict[str, Any]] = []
    # One promoted comment per account: a rerun leaves an account that has one alone.
    seen = set(
        session.scalars(select(Need.customer_id).where(Need.source == "survey_comment").distinct())
    )
    for response_id, customer_id, comment, answered_at in rows:
        if customer_id in seen or not (comment or "").strip():
            continue
        seen.add(customer_id)
        text = str(comment).strip()
        out.append(
            {
                "customer_id": int(customer_id),
                "title": headline(text)[:200],
                "description": text[:4000],
                "kind": "pain_point",
                "source": "survey_comment",
                "source_ref": f"response:{response_id}",
                "priority": 2,
                "status": "open",
                "offer": None,
                "created_at": answered_at,
                "updated_at": answered_at,
            }
        )
    return out


def write_map(session: Session, *, as_of: date, seed: int) -> dict[str, int]:
    """Stakeholder rows for the key accounts' contacts and needs per key account; a rerun adds
    only what is missing."""
    rng = np.random.default_rng(seed + 808)
    stamp = datetime.combine(as_of, time(18, 0), tzinfo=UTC)
    holders = _stakeholders(rng, _contacts(session))
    if holders:
        session.execute(insert(Stakeholder), [{**h, "updated_at": stamp} for h in holders])
    registered = _needs(session, rng, as_of, stamp)
    promoted = _promoted(session, as_of, stamp)
    rows = registered + promoted
    if rows:
        session.execute(insert(Need), rows)
    session.flush()
    return {"stakeholders": len(holders), "needs": len(registered), "needs_promoted": len(promoted)}
