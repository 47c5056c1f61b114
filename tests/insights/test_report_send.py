"""Sending the management report: the daily cycle's insights part on Monday 1 June 2026 makes
the weekly and the monthly report and queues them to the managers; the worker renders each
one's PDF and sends it over real SMTP (aiosmtpd on loopback) in the manager's language. Run
again for the same day, it makes and sends nothing."""

from __future__ import annotations

import base64
import os
import re
import zlib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.collections import outbox
from flywheel.collections.tasks import send_due
from flywheel.db import unit_of_work
from flywheel.insights import daily as insights_daily
from flywheel.insights import report_send
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import OutboxMessage
from flywheel.models.enums import OutboxStatus, Role
from flywheel.models.insights import InsightReport
from tests.collections.smtp_support import SmtpSink, settings_for
from tests.databases import PG_ENV, fresh_engine
from tests.insights.report_world import REPORT_DAY, build
from tests.web.pages import make_person

WORKER = "report-test:1:aaaaaa"


# ---------------------------------------------------------------- reading what arrived


def _unescape(literal: bytes) -> bytes:
    """A PDF literal string's bytes (backslash escapes undone)."""
    out = bytearray()
    i = 0
    while i < len(literal):
        c = literal[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        nxt = literal[i + 1 : i + 2]
        if nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
            assert digits is not None
            out.append(int(digits.group(0), 8) & 0xFF)
            i += 1 + len(digits.group(0))
            continue
        out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
        i += 2
    return bytes(out)


def pdf_text(content: bytes) -> str:
    """The text a reportlab PDF shows: its content streams inflated, each shown string decoded
    (UTF-16 in the Chinese CID font STSong-Light, Latin-1 in Helvetica)."""
    cid = b"STSong-Light" in content
    shown: list[str] = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", content, re.S):
        raw = match.group(1).strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            continue
        for literal in re.finditer(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", raw, re.S):
            data = _unescape(literal.group(1))
            shown.append(data.decode("utf-16-be") if cid else data.decode("latin-1"))
    return "\n".join(shown)


def pages(content: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", content))


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def pdf_of(message: EmailMessage) -> tuple[str, bytes]:
    [attached] = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    data = attached.get_content()
    assert isinstance(data, bytes)
    return str(attached.get_filename()), data


# ---------------------------------------------------------------- the company and its Monday


@pytest.fixture(scope="module")
def engine_of_reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    backend = "postgresql" if os.environ.get(PG_ENV) else "sqlite"
    directory: Path = tmp_path_factory.mktemp("reports")
    yield from fresh_engine(backend, directory)


@pytest.fixture(scope="module")
def monday(engine_of_reports: Engine) -> Iterator[dict[str, object]]:
    """The world, the insights part of the cycle on 1 June, and one round of the sender."""
    engine = engine_of_reports
    sink = SmtpSink().start()
    try:
        settings = settings_for(engine, sink, public_url="https://flywheel.example.cn/")
        with unit_of_work(engine) as session:
            build(session)
        with unit_of_work(engine) as session:
            ran = insights_daily.run(session, as_of=REPORT_DAY, settings=settings)
        sent = send_due(engine, settings=settings, worker_id=WORKER)
        yield {"ran": ran, "sent": sent, "sink": sink, "settings": settings}
    finally:
        sink.stop()


def received(monday: dict[str, object]) -> dict[tuple[str, str], EmailMessage]:
    """What arrived, by (recipient, report kind from the PDF's name)."""
    sink = monday["sink"]
    assert isinstance(sink, SmtpSink)
    out = {}
    for message in sink.messages:
        name, _data = pdf_of(message)
        kind = name.split("-")[1]
        out[(message["To"].addresses[0].addr_spec, kind)] = message
    return out


def test_the_cycle_makes_both_reports_and_queues_them_to_the_managers(
    engine_of_reports: Engine, monday: dict[str, object]
) -> None:
    ran = monday["ran"]
    assert isinstance(ran, dict)
    assert [(r["kind"], r["start"], r["end"], r["queued"]) for r in ran["reports"]] == [
        ("weekly", "2026-05-25", "2026-05-31", 2),
        ("monthly", "2026-05-01", "2026-05-31", 2),
    ]
    with unit_of_work(engine_of_reports) as session:
        made = session.scalars(select(InsightReport).order_by(InsightReport.id)).all()
        assert [(r.kind, r.recipients, r.as_of) for r in made] == [
            ("weekly", 2, REPORT_DAY),
            ("monthly", 2, REPORT_DAY),
        ]
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(r.recipient, r.language, r.attachment) for r in rows] == [
            ("zhang@flywheel.test", "zh", {"kind": "insight_report", "id": made[0].id, "language": "zh"}),
            ("Emma Reed <emma@flywheel.test>", "en", {"kind": "insight_report", "id": made[0].id, "language": "en"}),
            ("zhang@flywheel.test", "zh", {"kind": "insight_report", "id": made[1].id, "language": "zh"}),
            ("Emma Reed <emma@flywheel.test>", "en", {"kind": "insight_report", "id": made[1].id, "language": "en"}),
        ]  # fmt: skip
        assert {r.status for r in rows} == {OutboxStatus.SENT.value}
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "insights.report_sent")
        ).all()
        assert [(e.actor_name, e.subject_id, e.after["queued"]) for e in events] == [
            ("management report", made[0].id, 2),
            ("management report", made[1].id, 2),
        ]


def test_each_manager_gets_the_html_report_and_its_pdf_in_his_language(
    monday: dict[str, object],
) -> None:
    got = received(monday)
    assert sorted(got) == [
        ("emma@flywheel.test", "monthly"),
        ("emma@flywheel.test", "weekly"),
        ("zhang@flywheel.test", "monthly"),
        ("zhang@flywheel.test", "weekly"),
    ]

    chinese = got[("zhang@flywheel.test", "weekly")]
    assert chinese["Subject"] == "经营周报：2026年5月25日 – 2026年5月31日"
    assert chinese["Content-Language"] == "zh-CN"
    html = html_of(chinese)
    assert "<h1" in html
    assert "经营周报" in html
    assert 'data-kpi="new_customers"' in html
    assert "本周" in html
    assert "北方重工集团" in html
    assert 'href="https://flywheel.example.cn/customers/RW-OLD1"' in html
    assert "https://flywheel.example.cn/insights/reports/" in html
    # Self-contained: no style sheet, script, image or frame to fetch.
    assert not re.search(r"<(link|script|img|iframe|style)\b", html)
    assert "src=" not in html
    assert "经营周报" in text_of(chinese)
    name, data = pdf_of(chinese)
    assert name == "flywheel-weekly-report-2026-05-25-zh.pdf"
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert pages(data) >= 1
    shown = pdf_text(data)
    assert "经营周报" in shown
    assert "北方重工集团" in shown
    assert "RW-OLD2" in shown
    assert "¥50,000.00" in shown

    english = got[("emma@flywheel.test", "monthly")]
    assert english["Subject"] == "Monthly management report: May 2026"
    assert english["Content-Language"] == "en"
    html = html_of(english)
    assert "Biggest movements" in html
    assert "Top actions" in html
    assert "经营" not in html
    name, data = pdf_of(english)
    assert name == "flywheel-monthly-report-2026-05-01-en.pdf"
    shown = pdf_text(data)
    assert "Monthly management report" in shown
    assert "May 2026" in shown
    assert "CN¥50,000.00" in shown
    assert "经营月报" not in shown


def test_running_the_day_again_sends_nothing_new(
    engine_of_reports: Engine, monday: dict[str, object]
) -> None:
    settings = monday["settings"]
    sink = monday["sink"]
    assert isinstance(sink, SmtpSink)
    before = len(sink.messages)

    with unit_of_work(engine_of_reports) as session:
        again = insights_daily.run(session, as_of=REPORT_DAY, settings=settings)  # type: ignore[arg-type]
    report = send_due(engine_of_reports, settings=settings, worker_id=WORKER)  # type: ignore[arg-type]

    assert again["reports"] == []
    assert (report.claimed, report.sent) == (0, 0)
    assert len(sink.messages) == before
    with unit_of_work(engine_of_reports) as session:
        assert session.scalar(select(func.count()).select_from(InsightReport)) == 2
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4


def test_an_attachment_that_cannot_be_made_is_given_up(
    engine_of_reports: Engine, monday: dict[str, object]
) -> None:
    settings = monday["settings"]
    sink = monday["sink"]
    assert isinstance(sink, SmtpSink)
    before = len(sink.messages)
    with unit_of_work(engine_of_reports) as session:
        ids = [
            row.id
            for row in (
                outbox.enqueue_email(
                    session,
                    dedupe_key=f"attachment-test:{n}",
                    to="zhang@flywheel.test",
                    subject="附件",
                    body="见附件",
                    attachment=spec,
                )
                for n, spec in enumerate(
                    ({"kind": "insight_report", "id": 999_999}, {"kind": "no_such_document"})
                )
            )
            if row is not None
        ]

    report = send_due(engine_of_reports, settings=settings, worker_id=WORKER)  # type: ignore[arg-type]

    assert (report.sent, report.dead) == (0, 2)
    assert len(sink.messages) == before
    with unit_of_work(engine_of_reports) as session:
        errors = [session.get(OutboxMessage, i).last_error for i in ids]  # type: ignore[union-attr]
    assert errors == [
        "management report 999999 no longer exists",
        "no renderer for attachments of kind 'no_such_document'",
    ]


# ---------------------------------------------------------------- who gets it


def test_the_administrators_get_it_when_no_manager_has_an_address(session: Session) -> None:
    make_person(session, "mgr.noaddress", role=Role.MANAGER)
    boss = make_person(session, "boss.admin", role=Role.ADMIN)
    boss.email = "boss@flywheel.test"
    rep = make_person(session, "rep.addr", role=Role.SALES)
    rep.email = "rep@flywheel.test"
    session.flush()

    assert [u.username for u in report_send.recipients(session)] == ["boss.admin"]

    manager = make_person(session, "mgr.addr", role=Role.MANAGER)
    manager.email = "mgr@flywheel.test"
    session.flush()
    assert [u.username for u in report_send.recipients(session)] == ["mgr.addr"]
