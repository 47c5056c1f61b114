"""Real receivers for the outbox tests: an SMTP server (aiosmtpd) on loopback that keeps what it
receives, and an HTTP server that plays a chat robot."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, text

from flywheel.collections import outbox
from flywheel.config import Settings
from flywheel.db import unit_of_work
from flywheel.models.collections import CollectionAction, OutboxMessage
from flywheel.models.enums import ActionKind, ActionStatus, CollectionChannel
from tests.databases import PG_ENV, fresh_engine
from tests.factories import make_customer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], *, timeout: float = 30.0, every: float = 0.05) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


@dataclass
class SmtpHandler:
    """Keeps every accepted message. ``refuse`` maps an address to the reply its RCPT gets;
    ``hold_first`` makes the first DATA wait (after keeping the message) until released;
    ``delay`` slows every DATA down (seconds)."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    hold_first: bool = False
    delay: float = 0.0
    data_started: threading.Event = field(default_factory=threading.Event)
    release: asyncio.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            first = not self.data_started.is_set()
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.data_started.set()
        if self.hold_first and first:
            # The message is here, but the client waits for the "250": a sender killed now
            # cannot know it went out.
            self.release = asyncio.Event()
            await self.release.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1:``port`` that can be started and stopped (an outage)."""

    def __init__(self, port: int | None = None, handler: SmtpHandler | None = None) -> None:
        self.port = port or free_port()
        self.handler = handler or SmtpHandler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> SmtpSink:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            if self.handler.release is not None and controller.loop.is_running():
                controller.loop.call_soon_threadsafe(self.handler.release.set)
            controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


class WebhookReceiver:
    """A chat robot on 127.0.0.1: keeps each POSTed JSON body and answers from ``replies``
    (status, body) in order, then with ``{"errcode": 0, "errmsg": "ok"}``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.replies: list[tuple[int, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(json.loads(body.decode("utf-8")))
                status, text = (
                    receiver.replies.pop(0) if receiver.replies else (200, '{"errcode":0}')
                )
                payload = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?key=test"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def fail(self, times: int, status: int = 500, body: str = '{"error": "busy"}') -> None:
        self.replies.extend([(status, body)] * times)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


# ------------------------------------------------------------------ a database that commits


def _fresh_database(directory: Path) -> Iterator[Engine]:
    """The backend the suite runs on (PostgreSQL when FLYWHEEL_TEST_DATABASE_URL is set), in a
    database of its own: the worker commits, so the rolled-back ``session`` fixture won't do."""
    backend = "postgresql" if os.environ.get(PG_ENV) else "sqlite"
    yield from fresh_engine(backend, directory)


@pytest.fixture(scope="module")
def outbox_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from _fresh_database(tmp_path_factory.mktemp("outbox"))


@pytest.fixture
def db(outbox_engine: Engine) -> Iterator[Engine]:
    """The module's database, emptied of outbox rows, actions, customers and leases."""
    yield outbox_engine
    with outbox_engine.begin() as conn:
        for table in (
            "audit_events",
            "outbox",
            "collection_actions",
            "worker_leases",
            "contacts",
            "customers",
        ):
            conn.execute(text(f"DELETE FROM {table}"))


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def settings_for(engine: Engine, sink: SmtpSink | None = None, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": url_of(engine),
        "smtp_host": "127.0.0.1" if sink else None,
        "smtp_port": sink.port if sink else 25,
        "smtp_timeout_seconds": 5.0,
        "webhook_timeout_seconds": 5.0,
        "outbox_backoff_seconds": 0.0,
        "smtp_from": "应收账款 <ar@flywheel.test>",
    }
    base.update(values)
    return Settings(_env_file=None, **base)


def queue_email(
    engine: Engine,
    *,
    key: str,
    to: str = "wang@customer.cn",
    subject: str = "付款提醒 Payment reminder",
    body: str = "王经理您好：发票 INV-001 将于 3 月 1 日到期，金额 ¥12,000.00。",
    body_html: str | None = None,
    language: str | None = "zh",
    with_action: bool = False,
) -> int:
    """Queue one e-mail (with its collection action when asked), committed; its outbox id."""
    with unit_of_work(engine) as session:
        action_id = customer_id = None
        if with_action:
            customer = make_customer(session)
            action = CollectionAction(
                customer_id=customer.id,
                due_on=date(2026, 3, 1),
                kind=ActionKind.REMINDER.value,
                channel=CollectionChannel.EMAIL.value,
                status=ActionStatus.QUEUED.value,
                dedupe_key=f"action:{key}",
            )
            session.add(action)
            session.flush()
            action_id, customer_id = action.id, customer.id
        row = outbox.enqueue_email(
            session,
            dedupe_key=key,
            to=to,
            subject=subject,
            body=body,
            body_html=body_html,
            language=language,
            customer_id=customer_id,
            action_id=action_id,
        )
        assert row is not None
        return row.id


def queue_emails(engine: Engine, count: int, *, prefix: str = "bulk") -> list[int]:
    """``count`` e-mails queued in one transaction (fast)."""
    with unit_of_work(engine) as session:
        rows = [
            outbox.enqueue_email(
                session,
                dedupe_key=f"{prefix}:{n}",
                to=f"c{n}@customer.cn",
                subject=f"对账单 Statement {n}",
                body=f"客户 {n} 您好，请查收对账单。",
            )
            for n in range(count)
        ]
        return [row.id for row in rows if row is not None]


def outbox_row(engine: Engine, outbox_id: int) -> OutboxMessage:
    with unit_of_work(engine) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        session.expunge(row)
        return row


def action_of(engine: Engine, outbox_id: int) -> CollectionAction:
    with unit_of_work(engine) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        assert row.action_id is not None
        action = session.get(CollectionAction, row.action_id)
        assert action is not None
        session.expunge(action)
        return action
