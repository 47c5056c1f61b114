"""A key account for the stakeholder map and needs tests: its rep and a rival rep, a decision
maker, a finance manager and an engineer (met on known days), and two survey answers (one with
a comment, one without)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, TouchpointIn
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import BuyingRole, Role, Tier, TouchpointKind
from flywheel.models.feedback import Survey, SurveyResponse
from flywheel.models.users import User
from tests.factories import TESTER, make_customer, make_user

AS_OF = date(2026, 6, 30)


@dataclass
class MapWorld:
    rep: User
    rival: User
    account: Customer
    boss: Contact  # decision maker, met 2026-02-01 (out of the 90 days)
    finance: Contact  # met 2026-06-10
    engineer: Contact  # never met; no buying role set
    comment: SurveyResponse  # a detractor's comment
    silent: SurveyResponse  # no comment
    note: Touchpoint  # the finance visit, with a note


def contact(session: Session, account: Customer, name: str, role: BuyingRole | None) -> Contact:
    return customers.add_contact(
        session,
        actor=TESTER,
        data=ContactIn(customer_id=account.id, name=name, title="职位", buying_role=role),
    )


def meet(
    session: Session, account: Customer, person: Contact, when: datetime, summary: str = "拜访"
) -> Touchpoint:
    return customers.log_touchpoint(
        session,
        actor=TESTER,
        data=TouchpointIn(
            customer_id=account.id,
            contact_id=person.id,
            kind=TouchpointKind.VISIT,
            occurred_at=when,
            summary=summary,
        ),
    )


def answer(
    session: Session, account: Customer, person: Contact, comment: str | None, when: datetime
) -> SurveyResponse:
    survey = session.scalar(select(Survey).where(Survey.code == "map-tests"))
    if survey is None:
        survey = Survey(
            code="map-tests",
            kind="nps",
            name_zh="测试",
            name_en="Test",
            question_zh="推荐？",
            question_en="Recommend?",
        )
        session.add(survey)
        session.flush()
    response = SurveyResponse(
        survey_id=survey.id,
        customer_id=account.id,
        contact_id=person.id,
        kind="nps",
        score=3,
        scale_min=0,
        scale_max=10,
        band="detractor",
        comment=comment,
        language="zh",
        answered_at=when,
    )
    session.add(response)
    session.flush()
    return response


def build(session: Session) -> MapWorld:
    rep = make_user(session, username="map.rep", role=Role.SALES)
    rival = make_user(session, username="map.rival", role=Role.SALES)
    account = make_customer(session, code="KA-MAP", name="华东精密", tier=Tier.KEY, owner=rep)
    boss = contact(session, account, "赵总", BuyingRole.DECISION_MAKER)
    finance = contact(session, account, "钱会计", BuyingRole.FINANCE)
    engineer = contact(session, account, "孙工", None)
    meet(session, account, boss, datetime(2026, 2, 1, 9, tzinfo=UTC))
    note = meet(
        session,
        account,
        finance,
        datetime(2026, 6, 10, 9, tzinfo=UTC),
        "对账太慢。希望每月自动对账。",
    )
    comment = answer(
        session, account, boss, "交货总是延迟。上次晚了两周", datetime(2026, 6, 1, tzinfo=UTC)
    )
    silent = answer(session, account, finance, None, datetime(2026, 6, 2, tzinfo=UTC))
    session.flush()
    return MapWorld(rep, rival, account, boss, finance, engineer, comment, silent, note)


def audit_total(session: Session) -> int:
    session.flush()
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def world_map(session: Session, code: str) -> tuple[int, int]:
    """For the API world (tests/web/api_support.py): an open need of the account ``code`` and
    the id of one of its survey answers with a comment (the feedback world's detractor), to
    promote. Returns (need id, response id)."""
    from flywheel.keyaccounts import needs

    need = needs.add_need(
        session, actor=TESTER, code=code, title=f"{code} 缩短交货周期", source="interview"
    )
    customer = customers.get_customer_by_code(session, code, actor=TESTER)
    response_id = session.scalar(
        select(SurveyResponse.id)
        .where(SurveyResponse.customer_id == customer.id, SurveyResponse.comment.is_not(None))
        .order_by(SurveyResponse.id)
        .limit(1)
    )
    assert response_id is not None, "the feedback world gives every book a commented answer"
    return need.id, int(response_id)
