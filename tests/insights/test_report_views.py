"""The management report's pages, signed in through the form: the list with the send-now form,
one report as the managers got it, its PDF in either language, sending a report now (once per
manager, whatever the clicks), a bad period refused, and a sales rep or a viewer turned away
with nothing changed."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.insights import report, snapshot
from flywheel.insights.report import MONTHLY, WEEKLY, ReportPeriod
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import OutboxMessage
from flywheel.models.enums import Role
from flywheel.models.insights import InsightReport
from flywheel.web.contract import today
from tests.insights.report_world import REPORT_DAY, build
from tests.web.pages import csrf_of, make_person, sign_in


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def reports_made(session: Session) -> dict[str, InsightReport]:
    build(session)
    snapshot.run(session, as_of=REPORT_DAY, history=3)
    out = {}
    for kind in (WEEKLY, MONTHLY):
        out[kind], _ = report.make_report(
            session, ReportPeriod.containing(kind, date(2026, 5, 31)), as_of=REPORT_DAY
        )
    return out


def test_a_manager_lists_the_reports_and_opens_one(client: TestClient, session: Session) -> None:
    made = reports_made(session)
    make_person(session, "boss.en", role=Role.MANAGER)
    sign_in(client, "boss.en")

    listing = client.get("/insights/reports")
    page = client.get(f"/insights/reports/{made[WEEKLY].id}")

    assert listing.status_code == 200
    assert f'data-report="{made[WEEKLY].id}" data-kind="weekly"' in listing.text
    assert f'data-report="{made[MONTHLY].id}" data-kind="monthly"' in listing.text
    assert "May 25, 2026 – May 31, 2026" in listing.text
    assert 'data-testid="send-report"' in listing.text
    assert page.status_code == 200
    assert "<h1>Weekly management report: May 25, 2026 – May 31, 2026</h1>" in page.text
    assert 'data-kpi="new_customers"' in page.text
    assert 'href="/customers/RW-OLD1"' in page.text
    assert f'href="/insights/reports/{made[WEEKLY].id}.pdf?lang=zh"' in page.text


def test_the_report_page_speaks_chinese_to_a_chinese_manager(
    client: TestClient, session: Session
) -> None:
    made = reports_made(session)
    make_person(session, "boss.zh", role=Role.MANAGER, language="zh")
    sign_in(client, "boss.zh")

    page = client.get(f"/insights/reports/{made[MONTHLY].id}")

    assert "<h1>经营月报：2026年5月</h1>" in page.text
    assert "最大变动" in page.text
    assert "重点行动" in page.text


@pytest.mark.parametrize(("lang", "font"), [("zh", b"STSong-Light"), ("en", b"/Type /Page")])
def test_the_pdf_in_either_language(
    client: TestClient, session: Session, lang: str, font: bytes
) -> None:
    made = reports_made(session)
    make_person(session, "finance.pdf", role=Role.FINANCE)
    sign_in(client, "finance.pdf")

    answer = client.get(f"/insights/reports/{made[MONTHLY].id}.pdf?lang={lang}")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        f"inline; filename*=UTF-8''flywheel-monthly-report-2026-05-01-{lang}.pdf"
    )
    assert answer.content.startswith(b"%PDF-")
    assert font in answer.content


def test_a_missing_report_is_not_found(client: TestClient, session: Session) -> None:
    make_person(session, "boss.404", role=Role.MANAGER)
    sign_in(client, "boss.404")

    assert client.get("/insights/reports/987654").status_code == 404
    assert client.get("/insights/reports/987654.pdf").status_code == 404


def test_sending_a_report_now_queues_it_once_per_manager(
    client: TestClient, session: Session
) -> None:
    sender = make_person(session, "boss.send", role=Role.MANAGER)
    sender.email = "boss@flywheel.test"
    other = make_person(session, "other.boss", role=Role.MANAGER, language="zh")
    other.email = "other@flywheel.test"
    session.flush()
    csrf = sign_in(client, "boss.send")

    sent = client.post(
        "/insights/reports/send",
        data={"kind": "monthly", "period": "2026-05", "csrf_token": csrf},
        follow_redirects=False,
    )

    [made] = session.scalars(select(InsightReport)).all()
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/insights/reports/{made.id}"
    assert (made.kind, made.period_start, made.period_end, made.as_of) == (
        "monthly",
        date(2026, 5, 1),
        date(2026, 5, 31),
        today(),
    )
    assert made.recipients == 2
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.recipient, r.language, r.subject) for r in rows] == [
        ("boss@flywheel.test", "en", "Monthly management report: May 2026"),
        ("other@flywheel.test", "zh", "经营月报：2026年5月"),
    ]
    shown = client.get(sent.headers["location"])
    assert "Report made and queued to 2 managers." in shown.text

    again = client.post(
        "/insights/reports/send",
        data={"kind": "monthly", "period": "2026-05", "csrf_token": csrf_of(shown.text)},
        follow_redirects=True,
    )
    assert "queued to the 0 managers who had not had it" in again.text
    assert count(session, InsightReport) == 1
    assert count(session, OutboxMessage) == 2
    [event] = session.scalars(  # the second click changed nothing: no event
        select(AuditEvent).where(AuditEvent.action == "insights.report_sent")
    ).all()
    assert (event.actor_name, event.after["made"], event.after["queued"]) == ("boss.send", True, 2)


def test_the_report_page_sends_the_report_to_a_manager_who_joined_since(
    client: TestClient, session: Session
) -> None:
    made = reports_made(session)
    newcomer = make_person(session, "new.boss", role=Role.MANAGER, language="zh")
    newcomer.email = "new@flywheel.test"
    session.flush()
    sign_in(client, "new.boss")
    page = client.get(f"/insights/reports/{made[MONTHLY].id}")
    assert 'name="period" value="2026-05-01"' in page.text

    sent = client.post(
        "/insights/reports/send",
        data={"kind": "monthly", "period": "2026-05-01", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )

    assert sent.headers["location"] == f"/insights/reports/{made[MONTHLY].id}"
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.recipient, r.attachment) for r in rows] == [
        ("zhang@flywheel.test", {"kind": "insight_report", "id": made[MONTHLY].id, "language": "zh"}),
        ("Emma Reed <emma@flywheel.test>", {"kind": "insight_report", "id": made[MONTHLY].id, "language": "en"}),
        ("new@flywheel.test", {"kind": "insight_report", "id": made[MONTHLY].id, "language": "zh"}),
    ]  # fmt: skip
    assert made[MONTHLY].recipients == 3
    assert count(session, InsightReport) == 2


@pytest.mark.parametrize(
    ("kind", "period", "message"),
    [
        ("monthly", "2026/05", "Write the month like 2026-11."),
        ("weekly", "2026-05", "Write a day of the week like 2026-11-30."),
        ("yearly", "2026", "Choose the weekly or the monthly report."),
        ("monthly", today().isoformat()[:7], "That period has not ended yet"),
    ],
)
def test_a_bad_period_is_refused_and_changes_nothing(
    client: TestClient, session: Session, kind: str, period: str, message: str
) -> None:
    manager = make_person(session, "boss.bad", role=Role.MANAGER)
    manager.email = "boss@flywheel.test"
    session.flush()
    csrf = sign_in(client, "boss.bad")
    audits = count(session, AuditEvent)

    answer = client.post(
        "/insights/reports/send", data={"kind": kind, "period": period, "csrf_token": csrf}
    )

    assert answer.status_code == 422
    assert message in answer.text
    assert f'value="{period}"' in answer.text
    assert (count(session, InsightReport), count(session, OutboxMessage)) == (0, 0)
    assert count(session, AuditEvent) == audits


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER])
def test_others_are_turned_away_and_nothing_changes(
    client: TestClient, session: Session, role: Role
) -> None:
    made = reports_made(session)
    manager = make_person(session, "boss.there", role=Role.MANAGER)
    manager.email = "boss@flywheel.test"
    make_person(session, "not.a.boss", role=role)
    session.flush()
    csrf = sign_in(client, "not.a.boss")
    before = (
        count(session, InsightReport),
        count(session, OutboxMessage),
        count(session, AuditEvent),
        made[WEEKLY].recipients,
    )

    pages = [
        client.get("/insights/reports"),
        client.get(f"/insights/reports/{made[WEEKLY].id}"),
        client.get(f"/insights/reports/{made[WEEKLY].id}.pdf?lang=en"),
        client.post(
            "/insights/reports/send",
            data={"kind": "weekly", "period": "2026-05-27", "csrf_token": csrf},
        ),
        client.post(
            "/insights/reports/send",
            data={"kind": "monthly", "period": "2026-04", "csrf_token": csrf},
        ),
    ]

    assert [p.status_code for p in pages] == [403, 403, 403, 403, 403]
    assert b"%PDF" not in pages[2].content
    after = (
        count(session, InsightReport),
        count(session, OutboxMessage),
        count(session, AuditEvent),
        made[WEEKLY].recipients,
    )
    assert after == before
