"""Sending the management report through the outbox: to every active manager with an e-mail
address (to the administrators when the company has no such manager), each in his own
language, with the report as the HTML body and its PDF attached by the worker when it sends.
Once per report and person: the dedupe key says which. Also the daily cycle's part: make and
send the reports that fall due that day."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.collections import outbox
from flywheel.config import Settings
from flywheel.insights import report as reports
from flywheel.insights import report_display
from flywheel.insights.report import REPORT_ACTOR, ReportPeriod
from flywheel.kit import i18n
from flywheel.models.enums import Role
from flywheel.models.insights import InsightReport
from flywheel.models.users import User

ATTACHMENT_KIND = "insight_report"
_ = i18n.gettext


def recipients(session: Session) -> list[User]:
    """The active managers with an e-mail address; the active administrators with one when
    there are none."""
    for role in (Role.MANAGER, Role.ADMIN):
        found = list(
            session.scalars(
                select(User)
                .where(
                    User.role == role.value,
                    User.is_active.is_(True),
                    User.email.is_not(None),
                    User.email != "",
                )
                .order_by(User.id)
            )
        )
        if found:
            return found
    return []


def dedupe_key(report: InsightReport, user: User) -> str:
    return f"insight-report:{report.kind}:{report.period_start.isoformat()}:{user.id}"


def email_view(report: InsightReport, language: str, *, settings: Settings) -> dict[str, Any]:
    """The report written out in ``language``, its links to the public address."""
    return report_display.display(
        report,
        language,
        company=settings.company_name,
        base_url=settings.public_url.rstrip("/"),
    )


def email_html(view: dict[str, Any]) -> str:
    """The e-mail's HTML: the whole report, self-contained (inline styles, no files)."""
    from flywheel.web.pages import templates

    with i18n.use_language(view["lang"]):
        return str(templates.get_template("insights/report_email.html").render(r=view))


def email_text(view: dict[str, Any]) -> str:
    """The plain-text part: the figures, the movements and the top actions in short."""
    with i18n.use_language(view["lang"]):
        lines = [view["title"], f"{_('As of')} {view['as_of']}", "", view["figures"]["heading"]]
        lines += view["notes"]
        for stage in view["figures"]["stages"]:
            lines.append(f"\n{stage['label']}")
            lines += [
                f"  {row['label']}: {row['value']} ({_('Previous period')} {row['previous']})"
                for row in stage["rows"]
            ]
        if view["week"]:
            lines.append(f"\n{view['week']['heading']}")
            lines += [
                f"  {row['label']}: {row['value']} ({row['previous']})"
                for row in view["week"]["rows"]
            ]
        moves = view["movements"]
        for heading, items in ((_("Improved most"), moves["improved"]),
                               (_("Declined most"), moves["declined"])):  # fmt: skip
            lines.append(f"\n{heading}")
            lines += [f"  {m['label']} {m['relative']} ({m['value']})" for m in items] or ["  –"]
        lines.append(f"\n{_('Next best actions ranked highest')}")
        lines += [
            f"  {n}. {a['code']} {a['name']}: {a['title']} ({a['owner']}, {a['due']})"
            for n, a in enumerate(view["actions"]["next_actions"], start=1)
        ] or ["  –"]
        lines.append(f"\n{_('Largest overdue accounts')}")
        lines += [
            f"  {a['code']} {a['name']}: {a['overdue']}"
            for a in view["actions"]["overdue_accounts"]
        ] or ["  –"]
        lines.append(f"\n{_('Follow-ups past their SLA')}")
        lines += [
            f"  {loop['code']} {loop['name']}: {loop['reason']}, {loop['late']}"
            for loop in view["actions"]["late_loops"]
        ] or ["  –"]
        lines += ["", f"{_('The report is attached as a PDF. Online:')} {view['link']}"]
    return "\n".join(lines) + "\n"


def queue(session: Session, report: InsightReport, *, settings: Settings) -> int:
    """Queue the report to every recipient who has not had it; how many were queued."""
    queued = 0
    emails: dict[str, tuple[str, str, str]] = {}  # language: subject, text, HTML
    for user in recipients(session):
        language = i18n.normalize(user.language) or i18n.DEFAULT_LANGUAGE
        key = dedupe_key(report, user)
        if outbox.exists(session, key):
            continue
        if language not in emails:
            view = email_view(report, language, settings=settings)
            emails[language] = (view["title"], email_text(view), email_html(view))
        subject, text, html = emails[language]
        row = outbox.enqueue_email(
            session,
            dedupe_key=key,
            to=str(user.email).strip(),
            subject=subject,
            body=text,
            body_html=html,
            language=language,
            attachment={"kind": ATTACHMENT_KIND, "id": report.id, "language": language},
        )
        if row is not None:
            queued += 1
    report.recipients += queued
    session.flush()
    return queued


def make_and_send(
    session: Session,
    *,
    actor: Actor,
    period: ReportPeriod,
    as_of: date,
    settings: Settings,
) -> tuple[InsightReport, bool, int]:
    """The report of ``period`` (made now as of ``as_of`` unless it was made before) queued
    to the recipients who have not had it: (report, made now, how many queued)."""
    report, made = reports.make_report(session, period, as_of=as_of)
    queued = queue(session, report, settings=settings)
    if made or queued:
        audit.record(
            session,
            actor,
            "insights.report_sent",
            subject_type="insight_report",
            subject_id=report.id,
            customer_id=None,
            after={
                "kind": report.kind,
                "period_start": report.period_start.isoformat(),
                "period_end": report.period_end.isoformat(),
                "made": made,
                "queued": queued,
            },
        )
        session.flush()
    return report, made, queued


def run_due(session: Session, *, as_of: date, settings: Settings) -> list[dict[str, Any]]:
    """The daily cycle's part: make and send each report due on ``as_of`` that was not made
    yet (``report.due_periods``). A report made already is left alone, so running the day
    again sends nothing."""
    done: list[dict[str, Any]] = []
    for period in reports.due_periods(as_of, reports.parse_kinds(settings.management_reports)):
        if reports.find_report(session, period) is not None:
            continue
        report, _made, queued = make_and_send(
            session, actor=REPORT_ACTOR, period=period, as_of=as_of, settings=settings
        )
        done.append({**period.as_dict(), "id": report.id, "queued": queued})
    return done
