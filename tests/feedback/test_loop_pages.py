"""The follow-up pages and the topic editor, signed in through the form: the rep's task list
with its KPIs, the call-back logged from a row (HTMX), the detail page, and the taxonomy
editor only for those who manage surveys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flywheel.app import create_app
from flywheel.feedback import analysis, loops
from flywheel.models.base import utcnow
from flywheel.models.enums import LoopStatus, Role, Sentiment, TextSource
from flywheel.models.feedback import FeedbackLoop, FeedbackTopic
from flywheel.web.deps import get_session
from tests.factories import make_customer
from tests.feedback.loop_support import SETTINGS, analysis_of, answer
from tests.web.pages import ADMIN, audit_count, make_person, sign_in


@pytest.fixture
def app(engine: Engine, session: Session) -> FastAPI:
    application = create_app(engine=engine)

    def test_session() -> Iterator[Session]:
        yield session

    application.dependency_overrides[get_session] = test_session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _detractor(session: Session, owner_name: str, *, language: str = "en") -> FeedbackLoop:
    owner = make_person(session, owner_name, role=Role.SALES, language=language)
    customer = make_customer(session, name="北风精密", owner=owner)
    opened = utcnow() - timedelta(hours=50)
    response = answer(session, customer, score=3, comment="交货太慢，包装也破了", at=opened)
    analysed = analysis_of(
        session,
        customer=customer,
        source=TextSource.RESPONSE,
        source_id=response.id,
        sentiment=Sentiment.NEGATIVE,
        urgency=["churn_threat"],
        topics={"delivery": [[0, 4]], "packaging": [[8, 10]]},
        at=opened,
    )
    loop = loops.open_for_response(session, response, analysed, SETTINGS, now=opened)
    assert loop is not None
    session.flush()
    return loop


def test_the_rep_sees_his_overdue_follow_up_with_the_kpis(
    client: TestClient, session: Session
) -> None:
    loop = _detractor(session, "li.wei")
    sign_in(client, "li.wei")

    page = client.get("/feedback/loops")

    assert page.status_code == 200
    html = page.text
    assert f'data-loop="{loop.id}"' in html
    assert "交货太慢，包装也破了" in html
    assert "overdue by 2 h" in html
    assert "Churn threat" in html
    assert 'data-testid="loop-kpis"' in html
    assert 'href="/feedback/loops" class="current"' in html


def test_a_call_back_logged_from_the_row_closes_it(client: TestClient, session: Session) -> None:
    loop = _detractor(session, "li.wei")
    csrf = sign_in(client, "li.wei")
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf}

    refused = client.post(
        f"/feedback/loops/{loop.id}/callback", data={"outcome": "resolved"}, headers=htmx
    )
    assert refused.status_code == 422
    assert "Say what the customer said" in refused.text
    assert loop.status == LoopStatus.OPEN

    done = client.post(
        f"/feedback/loops/{loop.id}/callback",
        data={"outcome": "resolved", "note": "已道歉并补发"},
        headers=htmx,
    )

    assert done.status_code == 200
    assert done.text.lstrip().startswith("<tr")
    assert "Call-back logged" in done.text
    session.refresh(loop)
    assert loop.status == LoopStatus.CLOSED
    assert loop.callback_note == "已道歉并补发"


def test_the_detail_page_shows_the_answer_with_its_topic_words_marked(
    client: TestClient, session: Session
) -> None:
    loop = _detractor(session, "wang.fang", language="zh")
    sign_in(client, "wang.fang")

    page = client.get(f"/feedback/loops/{loop.id}")

    assert page.status_code == 200
    assert '<mark class="topic" title="delivery" data-topic="delivery">交货太慢</mark>' in page.text
    assert 'data-topic="packaging">破了</mark>' in page.text
    assert "跟进" in page.text


def test_another_reps_follow_up_is_not_found_and_cannot_be_closed(
    client: TestClient, session: Session
) -> None:
    loop = _detractor(session, "li.wei")
    make_person(session, "zhao.lei", role=Role.SALES)
    csrf = sign_in(client, "zhao.lei")
    audits = audit_count(session)

    shown = client.get(f"/feedback/loops/{loop.id}")
    closed = client.post(
        f"/feedback/loops/{loop.id}/callback",
        data={"outcome": "resolved", "note": "x", "csrf_token": csrf},
        follow_redirects=False,
    )
    listed = client.get("/feedback/loops?owner=all")

    assert shown.status_code == 404
    assert closed.status_code == 404
    assert f'data-loop="{loop.id}"' not in listed.text
    assert audit_count(session) == audits
    assert loop.status == LoopStatus.OPEN


def test_the_topic_editor_adds_and_deactivates_topics(client: TestClient, session: Session) -> None:
    make_person(session, "chen.jing", role=Role.MANAGER)
    csrf = sign_in(client, "chen.jing")

    wrong = client.post(
        "/feedback/topics",
        data={"code": "x", "name_zh": "", "name_en": "Spare parts", "csrf_token": csrf},
    )
    made = client.post(
        "/feedback/topics",
        data={
            "code": "spare_parts",
            "name_zh": "备件",
            "name_en": "Spare parts",
            "keywords_zh": "备件、配件，零件",
            "keywords_en": "spare part, parts",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    off = client.post(
        "/feedback/topics/spare_parts/deactivate",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    listed = client.get("/feedback/topics")

    assert wrong.status_code == 422
    assert "code: 2 to 40 characters" in wrong.text
    assert made.status_code == 303
    assert off.status_code == 303
    topic = session.scalar(select(FeedbackTopic).where(FeedbackTopic.code == "spare_parts"))
    assert topic is not None
    assert topic.keywords_zh == ["备件", "配件", "零件"]
    assert topic.keywords_en == ["spare part", "parts"]
    assert topic.active is False
    assert 'data-topic="spare_parts"' in listed.text
    assert [t.code for t in analysis.list_topics(session, active_only=True)].count(
        "spare_parts"
    ) == 0


def test_a_sales_rep_reads_the_topics_but_cannot_change_them(
    client: TestClient, session: Session
) -> None:
    analysis.save_topic(
        session,
        ADMIN,
        {"code": "delivery_x", "name_zh": "交付", "name_en": "Delivery", "keywords_zh": ["交货"]},
    )
    make_person(session, "li.wei", role=Role.SALES)
    csrf = sign_in(client, "li.wei")
    audits = audit_count(session)

    page = client.get("/feedback/topics")
    refused = client.post(
        "/feedback/topics/delivery_x/deactivate",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )

    assert page.status_code == 200
    assert 'data-topic="delivery_x"' in page.text
    assert "/feedback/topics/delivery_x/deactivate" not in page.text
    assert refused.status_code == 403
    assert audit_count(session) == audits


def test_suggested_topics_can_be_turned_into_a_topic(client: TestClient, session: Session) -> None:
    manager = make_person(session, "chen.jing", role=Role.MANAGER)
    customer = make_customer(session, name="东方仪表", owner=manager)
    for i, text in enumerate(
        [
            "安装说明书看不懂",
            "说明书缺页，安装图纸看不懂",
            "螺丝孔位不对，安装返工",
            "安装图纸与实物不符",
        ]
        * 3
    ):
        point = answer(session, customer, score=4, comment=f"{text}（{i}）")
        analysis_of(
            session,
            customer=customer,
            source=TextSource.RESPONSE,
            source_id=point.id,
            sentiment=Sentiment.NEGATIVE,
        )
    csrf = sign_in(client, "chen.jing")

    page = client.get("/feedback/topics/suggestions")
    api = client.get("/api/v1/feedback/topics/suggestions")

    assert page.status_code == 200
    assert api.status_code == 200
    body = api.json()
    assert body["texts"] == 12
    assert body["items"], body
    first = body["items"][0]
    assert 'data-testid="suggestion"' in page.text
    assert f'value="{first["code"]}"' in page.text
    made = client.post(
        "/feedback/topics",
        data={
            "code": "installation_docs",
            "name_zh": "安装资料",
            "name_en": "Installation documents",
            "keywords_zh": "、".join(first["terms"]),
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303


def test_a_follow_up_opened_by_a_touchpoint_note_shows_the_note(
    client: TestClient, session: Session
) -> None:
    from flywheel.models.customers import Touchpoint

    owner = make_person(session, "li.wei", role=Role.SALES)
    customer = make_customer(session, name="西岭化工", owner=owner)
    note = Touchpoint(
        reference="TP-PAGE-1",
        customer_id=customer.id,
        kind="visit",
        occurred_at=utcnow(),
        summary="客户威胁要起诉我们",
    )
    session.add(note)
    session.flush()
    analysed = analysis_of(
        session,
        customer=customer,
        source=TextSource.TOUCHPOINT,
        source_id=note.id,
        sentiment=Sentiment.NEGATIVE,
        urgency=["legal"],
    )
    loop = loops.open_for_analysis(session, analysed, SETTINGS, now=utcnow())
    assert loop is not None
    sign_in(client, "li.wei")

    page = client.get(f"/feedback/loops/{loop.id}")

    assert page.status_code == 200
    assert "客户威胁要起诉我们" in page.text
    assert "Touchpoint note" in page.text
    assert "Legal" in page.text
