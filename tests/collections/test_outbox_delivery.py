"""The outbox sender against a real SMTP server (aiosmtpd) and a real HTTP chat robot on
loopback: what arrives, retries and backoff, the dead letter, permanent failures, claims."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Engine, select

from flywheel.collections import outbox
from flywheel.collections.delivery import message_id_for, robot_error
from flywheel.collections.tasks import send_due
from flywheel.db import unit_of_work
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import ActionStatus, OutboxStatus
from tests.collections.smtp_support import (
    SmtpSink,
    WebhookReceiver,
    action_of,
    db,
    outbox_engine,
    outbox_row,
    queue_email,
    queue_emails,
    settings_for,
    smtp_sink,
    webhook,
)

__all__ = ["db", "outbox_engine", "smtp_sink", "webhook"]  # fixtures used by name

WORKER = "test-host:1:aaaaaa"


class FakeClock:
    """Starts at the real time (rows are queued due now) and moves only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def queue_webhook(engine: Engine, *, key: str, url: str, payload: dict[str, Any]) -> int:
    with unit_of_work(engine) as session:
        row = outbox.enqueue_webhook(session, dedupe_key=key, url=url, payload=payload)
        assert row is not None
        return row.id


# ------------------------------------------------------------------------------ e-mail


def test_emails_arrive_with_their_subject_body_and_html_in_chinese(
    db: Engine, smtp_sink: SmtpSink
) -> None:
    zh = queue_email(
        db,
        key="reminder:1:email:2026-03-01",
        subject="【飞轮】付款提醒：发票 INV-001 即将到期",
        body="王经理您好：\n发票 INV-001 将于 2026-03-01 到期，金额 ¥12,000.00。",
        body_html="<p>王经理您好：发票 <b>INV-001</b> 将于 2026-03-01 到期。</p>",
        with_action=True,
    )
    en = queue_email(
        db,
        key="reminder:2:email:2026-03-01",
        to="Ann Lee <ann@customer.com>",
        subject="Payment reminder: invoice INV-002",
        body="Dear Ann, invoice INV-002 falls due on 1 March 2026.",
        language="en",
    )

    report = send_due(db, settings=settings_for(db, smtp_sink), worker_id=WORKER)

    assert (report.sent, report.failed, report.dead) == (2, 0, 0)
    by_subject = {str(m["Subject"]): m for m in smtp_sink.messages}
    assert set(by_subject) == {
        "【飞轮】付款提醒：发票 INV-001 即将到期",
        "Payment reminder: invoice INV-002",
    }
    chinese = by_subject["【飞轮】付款提醒：发票 INV-001 即将到期"]
    assert text_of(chinese).strip() == (
        "王经理您好：\n发票 INV-001 将于 2026-03-01 到期，金额 ¥12,000.00。"
    )
    html = chinese.get_body(preferencelist=("html",))
    assert html is not None
    assert "<b>INV-001</b>" in str(html.get_content())
    assert chinese["To"] == "wang@customer.cn"
    assert chinese["From"].addresses[0].addr_spec == "ar@flywheel.test"
    assert chinese["From"].addresses[0].display_name == "应收账款"
    assert chinese["Content-Language"] == "zh-CN"
    assert chinese["Auto-Submitted"] == "auto-generated"
    english = by_subject["Payment reminder: invoice INV-002"]
    assert english.get_body(preferencelist=("html",)) is None
    assert english.get_content_type() == "text/plain"
    assert smtp_sink.handler.envelopes[0][0] == "ar@flywheel.test"
    assert sorted(rcpt for _from, to in smtp_sink.handler.envelopes for rcpt in to) == [
        "ann@customer.com",
        "wang@customer.cn",
    ]

    row = outbox_row(db, zh)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None
    assert chinese["Message-ID"] == message_id_for(outbox.ClaimedMessage(
        id=row.id, dedupe_key=row.dedupe_key, channel="email", recipient=row.recipient,
        subject=None, body="", body_html=None, language=None, action_id=None,
        customer_id=None, attempts=0, claimed_at=row.created_at,
    ), "ar@flywheel.test")  # fmt: skip
    assert str(chinese["Message-ID"]).startswith(f"<outbox-{zh}-")
    action = action_of(db, zh)
    assert action.status == ActionStatus.SENT.value
    assert action.delivery is not None
    assert action.delivery["status"] == "sent"
    assert action.delivery["attempts"] == 1
    assert action.delivery["error"] is None
    assert action.delivery["message_id"] == chinese["Message-ID"]
    assert action.delivery["sent_at"] == row.sent_at.isoformat()
    assert outbox_row(db, en).status == "sent"
    with unit_of_work(db) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "collections.message_sent")
        ).all()
        assert len(events) == 2
        sent_event = next(e for e in events if e.subject_type == "collection_action")
        assert sent_event.subject_id == action.id
        assert sent_event.customer_id == action.customer_id
        assert sent_event.actor_name == "flywheel worker"


def test_a_second_pass_sends_nothing_new_and_a_queued_key_is_not_queued_again(
    db: Engine, smtp_sink: SmtpSink
) -> None:
    queue_emails(db, 5)
    settings = settings_for(db, smtp_sink)
    first = send_due(db, settings=settings, worker_id=WORKER)

    second = send_due(db, settings=settings, worker_id=WORKER)
    with unit_of_work(db) as session:
        again = outbox.enqueue_email(
            session, dedupe_key="bulk:0", to="c0@customer.cn", subject="x", body="y"
        )

    assert first.sent == 5
    assert (second.claimed, second.sent) == (0, 0)
    assert again is None
    assert len(smtp_sink.messages) == 5
    assert len(set(smtp_sink.handler.message_ids())) == 5


def test_an_smtp_outage_delays_every_message_and_loses_none(db: Engine) -> None:
    sink = SmtpSink()  # not started: nothing listens on its port
    ids = [queue_email(db, key=f"outage:{n}", with_action=(n == 0)) for n in range(3)]
    clock = FakeClock()
    settings = settings_for(db, sink, outbox_backoff_seconds=30.0)

    down = send_due(db, settings=settings, worker_id=WORKER, clock=clock)

    assert (down.sent, down.failed, down.dead) == (0, 3, 0)
    for outbox_id in ids:
        row = outbox_row(db, outbox_id)
        assert row.status == OutboxStatus.PENDING.value
        assert row.attempts == 1
        assert row.next_attempt_at == clock.now + timedelta(seconds=30)
        assert row.last_error is not None
        assert "SMTP server unavailable" in row.last_error
    action = action_of(db, ids[0])
    assert action.status == ActionStatus.QUEUED.value
    assert action.delivery is not None
    assert action.delivery["status"] == "pending"
    assert action.delivery["attempts"] == 1
    assert "SMTP server unavailable" in action.delivery["error"]

    # Before the backoff has passed nothing is tried, even with the server back.
    sink.start()
    try:
        clock.advance(29)
        early = send_due(db, settings=settings, worker_id=WORKER, clock=clock)
        clock.advance(1)
        back = send_due(db, settings=settings, worker_id=WORKER, clock=clock)
    finally:
        sink.stop()

    assert early.claimed == 0
    assert back.sent == 3
    assert sorted(str(m["Message-ID"]) for m in sink.messages) == sorted(
        {str(m["Message-ID"]) for m in sink.messages}
    )
    assert len(sink.messages) == 3
    assert [outbox_row(db, i).attempts for i in ids] == [2, 2, 2]
    assert action_of(db, ids[0]).status == ActionStatus.SENT.value


def test_the_server_stopping_mid_way_delays_the_rest(db: Engine) -> None:
    sink = SmtpSink().start()
    ids = queue_emails(db, 4, prefix="midway")
    settings = settings_for(db, sink)
    first = send_due(db, settings=settings, worker_id=WORKER, batch_size=2)
    sink.stop()

    down = send_due(db, settings=settings, worker_id=WORKER)
    sink.start()
    try:
        up = send_due(db, settings=settings, worker_id=WORKER)
    finally:
        sink.stop()

    assert (first.sent, down.failed, up.sent) == (2, 2, 2)
    assert {outbox_row(db, i).status for i in ids} == {"sent"}
    assert len(sink.messages) == 4


def test_retry_delay_doubles_from_the_backoff_and_stops_at_an_hour() -> None:
    assert [outbox.retry_delay(n, 30.0) for n in (1, 2, 3, 4)] == [30.0, 60.0, 120.0, 240.0]
    assert outbox.retry_delay(8, 30.0) == 3600.0
    assert outbox.retry_delay(40, 30.0) == 3600.0
    assert outbox.retry_delay(3, 0.0) == 0.0


def test_a_message_is_dead_after_max_attempts_and_its_action_failed(db: Engine) -> None:
    sink = SmtpSink()  # never started
    outbox_id = queue_email(db, key="dead:1", with_action=True)
    settings = settings_for(db, sink, outbox_max_attempts=3)

    passes = [send_due(db, settings=settings, worker_id=WORKER) for _ in range(4)]

    assert [(p.failed, p.dead) for p in passes] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    row = outbox_row(db, outbox_id)
    assert (row.status, row.attempts) == ("dead", 3)
    action = action_of(db, outbox_id)
    assert action.status == ActionStatus.FAILED.value
    assert action.delivery is not None
    assert action.delivery["status"] == "dead"
    assert action.delivery["attempts"] == 3
    assert "SMTP server unavailable" in action.delivery["error"]
    with unit_of_work(db) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "collections.message_failed")
        ).one()
        assert event.subject_id == action.id
        assert event.after is not None
        assert event.after["attempts"] == 3

    # Put back by hand once the cause is fixed, it goes out.
    sink.start()
    try:
        with unit_of_work(db) as session:
            assert outbox.retry_dead(
                session, actor=outbox.WORKER_ACTOR, outbox_id=outbox_id, now=datetime.now(UTC)
            )
        resent = send_due(db, settings=settings, worker_id=WORKER)
    finally:
        sink.stop()
    assert resent.sent == 1
    assert action_of(db, outbox_id).status == ActionStatus.SENT.value


def test_a_refused_recipient_550_is_dead_at_once_and_the_others_go_out(
    db: Engine, smtp_sink: SmtpSink
) -> None:
    smtp_sink.handler.refuse["nobody@customer.cn"] = "550 5.1.1 <nobody@customer.cn>: no such user"
    bad = queue_email(db, key="refused:1", to="nobody@customer.cn", with_action=True)
    good = queue_email(db, key="refused:2", to="li@customer.cn")

    report = send_due(db, settings=settings_for(db, smtp_sink), worker_id=WORKER)

    assert (report.sent, report.failed, report.dead) == (1, 0, 1)
    row = outbox_row(db, bad)
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error is not None
    assert "550" in row.last_error
    assert action_of(db, bad).status == ActionStatus.FAILED.value
    assert outbox_row(db, good).status == "sent"
    assert [str(m["To"]) for m in smtp_sink.messages] == ["li@customer.cn"]


def test_a_recipient_deferred_with_451_is_retried(db: Engine, smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.refuse["busy@customer.cn"] = "451 4.3.0 try again later"
    outbox_id = queue_email(db, key="deferred:1", to="busy@customer.cn")
    settings = settings_for(db, smtp_sink)

    first = send_due(db, settings=settings, worker_id=WORKER)
    del smtp_sink.handler.refuse["busy@customer.cn"]
    second = send_due(db, settings=settings, worker_id=WORKER)

    assert (first.failed, second.sent) == (1, 1)
    assert outbox_row(db, outbox_id).attempts == 2


def test_an_address_that_is_not_one_is_dead_without_trying(db: Engine, smtp_sink: SmtpSink) -> None:
    outbox_id = queue_email(db, key="bad-address", to="王经理")

    report = send_due(db, settings=settings_for(db, smtp_sink), worker_id=WORKER)

    assert report.dead == 1
    assert smtp_sink.messages == []
    assert "not an e-mail address" in (outbox_row(db, outbox_id).last_error or "")


def test_without_an_smtp_host_emails_wait_and_webhooks_go(
    db: Engine, webhook: WebhookReceiver
) -> None:
    mail = queue_email(db, key="no-host:mail")
    hook = queue_webhook(db, key="no-host:hook", url=webhook.url, payload={"msgtype": "text"})

    report = send_due(db, settings=settings_for(db, None), worker_id=WORKER)

    assert report.sent == 1
    assert outbox_row(db, hook).status == "sent"
    row = outbox_row(db, mail)
    assert (row.status, row.attempts) == ("pending", 0)


# ------------------------------------------------------------------------------ webhooks


def test_a_webhook_posts_its_json_and_a_500_is_retried(
    db: Engine, webhook: WebhookReceiver
) -> None:
    payload = {"msgtype": "markdown", "markdown": {"content": "**逾期提醒** 客户 华东机械 ¥8,000"}}
    outbox_id = queue_webhook(db, key="hook:1", url=webhook.url, payload=payload)
    webhook.fail(2, status=500)
    settings = settings_for(db, None)

    passes = [send_due(db, settings=settings, worker_id=WORKER) for _ in range(3)]

    assert [(p.sent, p.failed) for p in passes] == [(0, 1), (0, 1), (1, 0)]
    assert webhook.received == [payload, payload, payload]
    row = outbox_row(db, outbox_id)
    assert (row.status, row.attempts) == ("sent", 3)
    assert row.last_error is not None
    assert "HTTP 500" in row.last_error


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"errcode": 93000, "errmsg": "invalid webhook url"}', "errcode 93000"),
        ('{"errcode": 310000, "errmsg": "keywords not in content"}', "errcode 310000"),
        ('{"code": 19001, "msg": "param invalid"}', "code 19001"),
    ],
)
def test_a_robot_answering_200_with_an_error_code_is_a_failure(
    db: Engine, webhook: WebhookReceiver, reply: str, expected: str
) -> None:
    outbox_id = queue_webhook(db, key="hook:errcode", url=webhook.url, payload={"a": 1})
    webhook.replies.append((200, reply))

    report = send_due(db, settings=settings_for(db, None), worker_id=WORKER)

    assert (report.sent, report.failed) == (0, 1)
    row = outbox_row(db, outbox_id)
    assert row.status == "pending"
    assert row.last_error is not None
    assert expected in row.last_error


def test_robot_answers_that_mean_success() -> None:
    assert robot_error(b'{"errcode":0,"errmsg":"ok"}') is None
    assert robot_error(b'{"code":0,"msg":"success","StatusCode":0}') is None
    assert robot_error(b"") is None
    assert robot_error(b"ok") is None
    assert robot_error(json.dumps({"code": "ok"}).encode()) is None


def test_a_webhook_404_is_dead_at_once_and_an_unreachable_one_is_retried(
    db: Engine, webhook: WebhookReceiver
) -> None:
    gone = queue_webhook(db, key="hook:404", url=webhook.url, payload={"a": 1})
    webhook.fail(1, status=404, body="not found")
    down = queue_webhook(db, key="hook:down", url="http://127.0.0.1:9/robot", payload={"a": 2})

    report = send_due(db, settings=settings_for(db, None), worker_id=WORKER)

    assert (report.dead, report.failed) == (1, 1)
    assert outbox_row(db, gone).status == "dead"
    row = outbox_row(db, down)
    assert row.status == "pending"
    assert row.last_error is not None
    assert "unreachable" in row.last_error


# ------------------------------------------------------------------------------ claims


def test_a_stale_claim_is_taken_back_after_the_claim_timeout_and_counts_as_an_attempt(
    db: Engine, smtp_sink: SmtpSink
) -> None:
    outbox_id = queue_email(db, key="stale:1", with_action=True)
    settings = settings_for(db, smtp_sink, outbox_claim_timeout_seconds=60)
    clock = FakeClock()
    with unit_of_work(db) as session:  # a worker claims it, starts sending, and dies
        [claimed] = outbox.claim_due(
            session,
            worker_id="dead-host:1:000000",
            now=clock(),
            limit=10,
            claim_timeout_seconds=60,
            max_attempts=5,
        )
        outbox.mark_started(session, claimed.id, worker_id="dead-host:1:000000")

    clock.advance(59)
    before_timeout = send_due(db, settings=settings, worker_id=WORKER, clock=clock)
    clock.advance(2)
    after_timeout = send_due(db, settings=settings, worker_id=WORKER, clock=clock)
    with unit_of_work(db) as session:  # the dead worker's late result is ignored
        late = outbox.mark_failed(
            session,
            claimed,
            worker_id="dead-host:1:000000",
            now=clock(),
            error="late",
            permanent=True,
            max_attempts=5,
            backoff_seconds=0,
        )

    assert before_timeout.claimed == 0
    assert after_timeout.sent == 1
    assert late is None
    row = outbox_row(db, outbox_id)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, WORKER)
    assert row.last_error is not None
    assert "dead-host:1:000000 stopped without recording a result" in row.last_error
    assert len(smtp_sink.messages) == 1


def test_a_message_that_keeps_killing_its_worker_ends_dead(db: Engine) -> None:
    outbox_id = queue_email(db, key="poison:1")
    clock = FakeClock()
    tries = []
    for n in range(4):
        with unit_of_work(db) as session:
            claimed = outbox.claim_due(
                session,
                worker_id=f"host:{n}:x",
                now=clock(),
                limit=10,
                claim_timeout_seconds=10,
                max_attempts=3,
            )
            for message in claimed:
                outbox.mark_started(session, message.id, worker_id=f"host:{n}:x")
        clock.advance(11)
        tries.append(len(claimed))

    assert tries == [1, 1, 1, 0]  # three tries, each cut short; the fourth claim gives up
    row = outbox_row(db, outbox_id)
    assert (row.status, row.attempts) == ("dead", 3)


def test_stopping_gives_the_rest_of_the_batch_back_untried(db: Engine, smtp_sink: SmtpSink) -> None:
    ids = queue_emails(db, 5, prefix="stop")
    answers = iter([True, True, False])

    report = send_due(
        db,
        settings=settings_for(db, smtp_sink),
        worker_id=WORKER,
        keep_going=lambda: next(answers, False),
    )

    assert (report.sent, report.released) == (2, 3)
    rows = [outbox_row(db, i) for i in ids]
    assert [r.status for r in rows] == ["sent", "sent", "pending", "pending", "pending"]
    assert [r.attempts for r in rows] == [1, 1, 0, 0, 0]
    assert rows[2].claimed_by is None


def test_no_send_starts_after_half_the_claim_timeout(db: Engine, smtp_sink: SmtpSink) -> None:
    queue_emails(db, 3, prefix="slow")
    clock = FakeClock()
    ticks = iter(range(100))

    def slow_clock() -> datetime:  # each look at the clock is 2 s later
        return clock.now + timedelta(seconds=2 * next(ticks))

    report = send_due(
        db,
        settings=settings_for(db, smtp_sink, outbox_claim_timeout_seconds=10),
        worker_id=WORKER,
        clock=slow_clock,
    )

    assert report.sent + report.released == 3
    assert report.released >= 1
