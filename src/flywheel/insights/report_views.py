"""The management report's pages: the reports made so far, one report as managers received it,
its PDF in Chinese or English, and the form that makes and sends a report now."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.errors import NotFound, ValidationFailed
from flywheel.insights import report as reports
from flywheel.insights import report_display, report_pdf, report_send
from flywheel.kit import i18n
from flywheel.kit.i18n import gettext as _
from flywheel.models.insights import InsightReport
from flywheel.web.auth import require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, page_language, redirect, render

router = APIRouter(include_in_schema=False)

ManageReports = Annotated[Actor, Depends(require(Permission.MANAGE_REPORTS))]
PAGE_SIZE = 50
MAX_PAGE = 100_000


def _report(session: Session, report_id: int) -> InsightReport:
    found = session.get(InsightReport, report_id)
    if found is None:
        raise NotFound(f"management report {report_id} not found", report_id=report_id)
    return found


def _list_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    page: int = 1,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = list(
        session.scalars(
            select(InsightReport)
            .order_by(InsightReport.period_start.desc(), InsightReport.kind, InsightReport.id)
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    day = today()
    defaults = {
        reports.WEEKLY: reports.latest_complete(reports.WEEKLY, day).start.isoformat(),
        reports.MONTHLY: reports.latest_complete(reports.MONTHLY, day).start.isoformat()[:7],
    }
    with i18n.use_language(page_language(request, actor)):
        rows = [
            {
                "id": r.id,
                "kind": r.kind,
                "period": report_display.period_text(r.kind, r.period_start, r.period_end),
                "as_of": r.as_of,
                "recipients": r.recipients,
            }
            for r in found[:PAGE_SIZE]
        ]
    return render(
        request,
        "insights/report_list.html",
        {
            "rows": rows,
            "page": page,
            "more": len(found) > PAGE_SIZE,
            "kinds": reports.KINDS,
            "kind_labels": report_display.KIND_LABELS,
            "defaults": defaults,
            "form": form or {"kind": reports.MONTHLY, "period": defaults[reports.MONTHLY]},
            "errors": errors or {},
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/insights/reports", response_class=HTMLResponse)
def report_list(
    request: Request,
    session: SessionDep,
    actor: ManageReports,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    return _list_page(request, session, actor, page=page)


@router.get("/insights/reports/{report_id}.pdf")
def report_pdf_file(
    request: Request,
    session: SessionDep,
    actor: ManageReports,
    report_id: Id,
    lang: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    report = _report(session, report_id)
    language = i18n.normalize(lang) or page_language(request, actor)
    name = report_pdf.filename(report, language)
    return Response(
        report_pdf.report_pdf(report, language),
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"},
    )


@router.get("/insights/reports/{report_id}", response_class=HTMLResponse)
def report_page(
    request: Request, session: SessionDep, actor: ManageReports, report_id: Id
) -> Response:
    report = _report(session, report_id)
    view = report_display.display(
        report, page_language(request, actor), company=get_settings().company_name
    )
    return render(request, "insights/report_page.html", {"r": view, "report": report}, actor=actor)


def _period(kind: str, text: str) -> reports.ReportPeriod:
    """The period a form names: a month (YYYY-MM, or a day of it) for a monthly report, any
    day of the week (YYYY-MM-DD) for a weekly one. The error says, in the page's language, what to write."""
    value = text.strip()
    if kind == reports.MONTHLY:
        try:
            if len(value) == 10:  # a day of the month (the report page's resend form)
                start = date.fromisoformat(value)
            else:
                year, month = value.split("-")
                start = date(int(year), int(month), 1)
        except ValueError:
            raise ValidationFailed(_("Write the month like 2026-11."), field="period") from None
        return reports.ReportPeriod.containing(kind, start)
    if kind == reports.WEEKLY:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(
                _("Write a day of the week like 2026-11-30."), field="period"
            ) from None
        return reports.ReportPeriod.containing(kind, day)
    raise ValidationFailed(_("Choose the weekly or the monthly report."), field="kind")


@router.post("/insights/reports/send", response_class=HTMLResponse)
def report_send_now(
    request: Request,
    session: SessionDep,
    actor: ManageReports,
    kind: Annotated[str, Form(max_length=16)] = "",
    period: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {"kind": kind, "period": period}
    day = today()
    try:
        chosen = _period(kind, period)
    except ValidationFailed as exc:
        return _list_page(
            request, session, actor, form=form, errors={"period": exc.message}, status_code=422
        )
    if chosen.end >= day:
        return _list_page(
            request,
            session,
            actor,
            form=form,
            errors={"period": _("That period has not ended yet: a report is made once it has.")},
            status_code=422,
        )
    settings = get_settings()
    report, made, queued = report_send.make_and_send(
        session, actor=actor, period=chosen, as_of=day, settings=settings
    )
    if not report_send.recipients(session):
        flash(
            request,
            _("No active manager has an e-mail address: the report was sent to nobody."),
            level="warning",
        )
    elif made:
        flash(request, _("Report made and queued to %(count)s managers.", count=queued))
    else:
        flash(
            request,
            _(
                "That report had been made before; queued to the %(count)s managers who had not "
                "had it.",
                count=queued,
            ),
        )
    return redirect(f"/insights/reports/{report.id}")
