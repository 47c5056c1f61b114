"""Invitations end to end, with the real outbox worker and a real SMTP server on loopback: an
event becomes an e-mail whose link opens the survey; running the cycle and the worker again
never sends twice; the protection rules hold on what actually arrives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from flywheel.app import create_app
from flywheel.collections.tasks import send_due
from flywheel.config import Settings
from flywheel.db import unit_of_work
from flywheel.feedback import cycle, tokens
from flywheel.models.base import utcnow
from flywheel.models.enums import BuyingRole
from flywheel.models.feedback import SurveyInvitation, SurveyOptOut
from tests.collections.smtp_support import SmtpSink, settings_for, smtp_sink
from tests.databases import fresh_engine
from tests.feedback.campaign_support import (
    SECRET,
    account,
    delivered,
    only_campaigns,
    person,
)

__all__ = ["smtp_sink"]  # a fixture used by name

DAY = date(2026, 3, 2)
SEND_DAY = DAY + timedelta(days=2)  # "CSAT after delivery" waits two days
WORKER = "test-host:1:feedback"


@pytest.fixture(scope="module")
def module_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    directory: Path = tmp_path_factory.mktemp("invitations")
    yield from fresh_engine("sqlite", directory)


@pytest.fixture
def engine_db(module_engine: Engine) -> Iterator[Engine]:
    yield module_engine
    with module_engine.begin() as conn:
        for table in (
            "survey_responses",
            "survey_opt_outs",
            "survey_invitations",
            "survey_campaigns",
            "surveys",
            "audit_events",
            "outbox",
            "orders",
            "contacts",
            "customers",
        ):
            conn.execute(text(f"DELETE FROM {table}"))


def settings(engine: Engine, sink: SmtpSink, **values: object) -> Settings:
    return settings_for(
        engine,
        sink,
        secret_key=SECRET,
        company_name="Acme Valves 阿克米阀门",
        public_url="https://survey.acme.example",
        **values,
    )


def run_cycle(engine: Engine, day: date, config: Settings) -> cycle.FeedbackCycleResult:
    with unit_of_work(engine) as session:
        return cycle.run(session, day, config)


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def link_of(message: EmailMessage) -> str:
    return next(line for line in plain(message).splitlines() if line.startswith("https://"))


def test_a_delivery_becomes_one_e_mail_whose_link_opens_the_survey(
    engine_db: Engine, smtp_sink: SmtpSink
) -> None:
    config = settings(engine_db, smtp_sink)
    today = utcnow().date()  # the link is opened today: it must not have expired
    with unit_of_work(engine_db) as session:
        only_campaigns(session, "CSAT after delivery")
        customer = account(session, name="Northwind 北风精密")
        wang = person(session, customer, name="王建国", email="wang@northwind.example")
        delivered(session, customer, today - timedelta(days=2))
        wang_id = wang.id

    run_cycle(engine_db, today - timedelta(days=2), config)
    first = run_cycle(engine_db, today, config)
    second = run_cycle(engine_db, today, config)
    sent = send_due(engine_db, settings=config, worker_id=WORKER)
    again = send_due(engine_db, settings=config, worker_id=WORKER)
    third = run_cycle(engine_db, today + timedelta(days=1), config)
    send_due(engine_db, settings=config, worker_id=WORKER)

    assert (first.sent, second.sent, third.sent) == (1, 0, 0)
    assert (sent.sent, again.sent) == (1, 0)
    [message] = smtp_sink.messages
    assert message["To"] == "wang@northwind.example"
    assert str(message["Subject"]) == "Acme Valves 阿克米阀门邀请您参与「交付满意度（CSAT）」"
    assert message["Content-Language"] == "zh-CN"
    assert plain(message).startswith("王建国您好：")
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert link_of(message) in str(html.get_content())
    token = link_of(message).removeprefix("https://survey.acme.example/s/")
    with unit_of_work(engine_db) as session:
        invitation = session.scalars(
            select(SurveyInvitation).where(SurveyInvitation.contact_id == wang_id)
        ).one()
        assert invitation.status == "sent"
        assert tokens.hash_token(token) == invitation.token_hash

    # The link opens the public survey page (no sign-in).
    with TestClient(create_app(config, engine=engine_db)) as client:
        page = client.get(f"/s/{token}")
        wrong = client.get(f"/s/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}")
    assert page.status_code == 200
    assert "您对本次交付满意吗" in page.text
    assert wrong.status_code == 404


def test_what_arrives_respects_opt_outs_the_minimum_days_and_missing_addresses(
    engine_db: Engine, smtp_sink: SmtpSink
) -> None:
    config = settings(engine_db, smtp_sink)
    with unit_of_work(engine_db) as session:
        only_campaigns(session, "CSAT after delivery", "NPS after support touchpoints")
        ordinary, quiet, unknown = account(session), account(session), account(session)
        person(session, ordinary, email="li@ordinary.example", role=BuyingRole.USER)
        zhao = person(session, quiet, email="zhao@quiet.example")
        person(session, unknown, email=None)
        session.add(SurveyOptOut(contact_id=zhao.id, customer_id=quiet.id, source="survey_page"))
        for customer in (ordinary, quiet, unknown):
            delivered(session, customer, DAY)
            delivered(session, customer, DAY)  # two deliveries: still one survey

    result = run_cycle(engine_db, SEND_DAY, config)
    send_due(engine_db, settings=config, worker_id=WORKER)
    run_cycle(engine_db, SEND_DAY + timedelta(days=20), config)  # within 90 days: nothing new
    send_due(engine_db, settings=config, worker_id=WORKER)

    assert result.sent == 1
    assert result.skipped == {"opted_out": 2, "no_email": 2, "recently_surveyed": 1}
    invites = [m for m in smtp_sink.messages if not str(m["Subject"]).startswith("提醒")]
    assert [m["To"] for m in invites] == ["li@ordinary.example"]
    reminders = [m for m in smtp_sink.messages if str(m["Subject"]).startswith("提醒")]
    assert [m["To"] for m in reminders] == ["li@ordinary.example"]  # one reminder, same link
    assert link_of(reminders[0]) == link_of(invites[0])
