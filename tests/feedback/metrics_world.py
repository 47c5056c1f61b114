"""A small, hand-countable company for the metrics, inbox, dashboard and API tests: three
accounts (two of the rep "m.rep", one of "m.rival"), their stakeholders with buying roles, and
NPS, CSAT and CES answers in January–March 2026 (one NPS answer in December 2025, outside the
period), written directly as rows.

NPS in the period, by account (score, buying role, month):
  M-A (m.rep, 华东, key):       dm 10 Jan, dm 6 Feb (his latest), user 9 Jan, user 6 Jan, finance 8 Feb
  M-B (m.rep, 华南, standard):  dm 3 Feb, influencer 7 Feb
  M-C (m.rival, 华东, growth):  dm 10 Mar, user 10 Mar, gatekeeper 9 Mar
  → promoters 5, passives 2, detractors 3: NPS 20; the rep's (M-A, M-B) 2/2/3: NPS −14.29.
CSAT: M-A 5, 4, 2 (Jan, delivery), M-C 3 (Mar, delivery) → 2 of 4 satisfied, 50 %.
CES: M-A 6, 4 (Jan, support), M-B 7 (Feb, support) → mean 17/3.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.feedback import surveys
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import Role, SurveyKind, Tier
from flywheel.models.feedback import (
    FeedbackLoop,
    FeedbackTopic,
    Survey,
    SurveyCampaign,
    SurveyResponse,
    TextAnalysis,
)
from flywheel.models.users import User
from tests.factories import make_contact, make_customer
from tests.web.pages import make_person

START = date(2026, 1, 1)
END = date(2026, 3, 31)
_seq = itertools.count(1)


def at(month: int, day: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def survey(session: Session, kind: str) -> Survey:
    surveys.ensure_defaults(session)
    found = session.scalar(select(Survey).where(Survey.kind == kind).order_by(Survey.id))
    assert found is not None
    return found


def stakeholder(session: Session, customer: Customer, role: str | None, name: str) -> Contact:
    contact = make_contact(session, customer=customer, name=name)
    contact.buying_role = role
    session.flush()
    return contact


def answer(
    session: Session,
    *,
    customer: Customer,
    contact: Contact | None,
    kind: str,
    score: int,
    when: datetime,
    comment: str | None = None,
    touchpoint_kind: str | None = None,
    campaign: SurveyCampaign | None = None,
) -> SurveyResponse:
    scale = surveys.scale(kind)
    response = SurveyResponse(
        survey_id=survey(session, kind).id,
        campaign_id=campaign.id if campaign else None,
        customer_id=customer.id,
        contact_id=contact.id if contact else None,
        kind=kind,
        score=score,
        scale_min=scale.low,
        scale_max=scale.high,
        band=surveys.band(kind, score).value,
        answers={},
        comment=comment,
        language="zh",
        touchpoint_kind=touchpoint_kind,
        buying_role=contact.buying_role if contact else None,
        answered_at=when,
    )
    session.add(response)
    session.flush()
    return response


def analyse(
    session: Session,
    *,
    source: str,
    source_id: int,
    customer: Customer,
    when: datetime,
    sentiment: str,
    topics: dict[str, list[list[int]]] | None = None,
    urgency: list[str] | None = None,
) -> TextAnalysis:
    analysis = TextAnalysis(
        source=source,
        source_id=source_id,
        customer_id=customer.id,
        language="zh",
        sentiment=sentiment,
        sentiment_score=-0.8 if sentiment == "negative" else 0.6,
        topics=list((topics or {}).keys()),
        topic_spans=topics or {},
        urgency=urgency or [],
        model_version="test",
        occurred_at=when,
    )
    session.add(analysis)
    session.flush()
    return analysis


def topic(session: Session, code: str, zh: str, en: str) -> FeedbackTopic:
    found = session.scalar(select(FeedbackTopic).where(FeedbackTopic.code == code))
    if found is None:
        found = FeedbackTopic(code=code, name_zh=zh, name_en=en, keywords_zh=[zh], keywords_en=[en])
        session.add(found)
        session.flush()
    return found


@dataclass
class MetricsWorld:
    rep: User
    rival: User
    manager: User
    a: Customer
    b: Customer
    c: Customer
    campaign: SurveyCampaign
    contacts: dict[str, Contact] = field(default_factory=dict)
    responses: dict[str, SurveyResponse] = field(default_factory=dict)


def build(session: Session, *, language: str = "en") -> MetricsWorld:
    n = next(_seq)
    rep = make_person(session, f"m.rep{n}", role=Role.SALES, language=language)
    rival = make_person(session, f"m.rival{n}", role=Role.SALES, language=language)
    manager = make_person(session, f"m.boss{n}", role=Role.MANAGER, language=language)
    a = make_customer(
        session, code=f"M-A{n}", name="Alpha 阿尔法机械", owner=rep, region="华东", tier=Tier.KEY
    )
    b = make_customer(session, code=f"M-B{n}", name="Beta 贝塔", owner=rep, region="华南")
    c = make_customer(
        session, code=f"M-C{n}", name="Gamma 伽马", owner=rival, region="华东", tier=Tier.GROWTH
    )
    campaign = SurveyCampaign(
        name=f"Quarterly NPS {n}",
        survey_id=survey(session, SurveyKind.NPS).id,
        trigger="schedule",
        every_months=3,
    )
    session.add(campaign)
    session.flush()
    world = MetricsWorld(rep, rival, manager, a, b, c, campaign)
    people = {
        "a_dm": (a, "decision_maker", "张总"),
        "a_user1": (a, "user", "李工"),
        "a_user2": (a, "user", "王工"),
        "a_fin": (a, "finance", "赵会计"),
        "b_dm": (b, "decision_maker", "孙总"),
        "b_inf": (b, "influencer", "周经理"),
        "c_dm": (c, "decision_maker", "吴总"),
        "c_user": (c, "user", "郑工"),
        "c_gate": (c, "gatekeeper", "冯秘书"),
    }
    for key, (customer, role, name) in people.items():
        world.contacts[key] = stakeholder(session, customer, role, name)
    nps = SurveyKind.NPS.value
    plan = [
        ("a_dm_old", a, "a_dm", nps, 10, at(1, 5), None, None),
        ("a_dm", a, "a_dm", nps, 6, at(2, 20), "交货太慢，<script>alert(1)</script> 很失望", None),
        ("a_user1", a, "a_user1", nps, 9, at(1, 12), None, None),
        ("a_user2", a, "a_user2", nps, 6, at(1, 14), None, None),
        ("a_fin", a, "a_fin", nps, 8, at(2, 2), None, None),
        ("a_dec", a, "a_dm", nps, 0, at(12, 20, year=2025), None, None),
        ("b_dm", b, "b_dm", nps, 3, at(2, 8), "Invoice errors again", None),
        ("b_inf", b, "b_inf", nps, 7, at(2, 9), None, None),
        ("c_dm", c, "c_dm", nps, 10, at(3, 3), None, None),
        ("c_user", c, "c_user", nps, 10, at(3, 4), None, None),
        ("c_gate", c, "c_gate", nps, 9, at(3, 5), None, None),
        ("a_csat5", a, "a_user1", "csat", 5, at(1, 20), None, "delivery"),
        ("a_csat4", a, "a_user2", "csat", 4, at(1, 21), None, "delivery"),
        ("a_csat2", a, "a_fin", "csat", 2, at(1, 22), "包装破损", "delivery"),
        ("c_csat3", c, "c_user", "csat", 3, at(3, 10), None, "delivery"),
        ("a_ces6", a, "a_user1", "ces", 6, at(1, 25), None, "support"),
        ("a_ces4", a, "a_user2", "ces", 4, at(1, 26), None, "support"),
        ("b_ces7", b, "b_inf", "ces", 7, at(2, 26), None, "support"),
    ]
    for key, customer, who, kind, score, when, comment, touchpoint in plan:
        world.responses[key] = answer(
            session,
            customer=customer,
            contact=world.contacts[who],
            kind=kind,
            score=score,
            when=when,
            comment=comment,
            touchpoint_kind=touchpoint,
            campaign=campaign if kind == nps else None,
        )
    return world


def add_texts(session: Session, world: MetricsWorld) -> dict[str, TextAnalysis]:
    """Analyses of the three comments (the detractor's with a delivery topic span over 交货太慢
    and an urgent flag) and the loop the detractor opened."""
    topic(session, "delivery", "交付", "Delivery")
    topic(session, "billing", "发票", "Billing")
    topic(session, "packaging", "包装", "Packaging")
    a_dm = world.responses["a_dm"]
    b_dm = world.responses["b_dm"]
    a_csat2 = world.responses["a_csat2"]
    found = {
        "a_dm": analyse(
            session,
            source="response",
            source_id=a_dm.id,
            customer=world.a,
            when=a_dm.answered_at,
            sentiment="negative",
            topics={"delivery": [[0, 4]]},
            urgency=["churn_threat"],
        ),
        "b_dm": analyse(
            session,
            source="response",
            source_id=b_dm.id,
            customer=world.b,
            when=b_dm.answered_at,
            sentiment="negative",
            topics={"billing": [[0, 7]]},
        ),
        "a_csat2": analyse(
            session,
            source="response",
            source_id=a_csat2.id,
            customer=world.a,
            when=a_csat2.answered_at,
            sentiment="negative",
            topics={"packaging": [[0, 2]], "delivery": [[0, 2]]},
        ),
    }
    session.add(
        FeedbackLoop(
            customer_id=world.a.id,
            dedupe_key=f"response:{a_dm.id}",
            response_id=a_dm.id,
            reason="detractor",
            urgency=["churn_threat"],
            summary=a_dm.comment,
            owner_id=world.rep.id,
            status="open",
            opened_at=a_dm.answered_at,
            due_at=datetime(2026, 2, 22, 9, 0, tzinfo=UTC),
        )
    )
    session.flush()
    return found
