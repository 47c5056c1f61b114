"""The KPI targets page (``/insights/targets``): every figure of the dashboard with its target,
the range a target may take and the latest month's value; administrators and managers set or
clear a target there, every other role reads them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.errors import FlywheelError
from flywheel.insights import figures, labels, targets
from flywheel.insights.periods import InsightFilter, Period
from flywheel.insights.trend_views import STAGES, kpi_text
from flywheel.kit.i18n import gettext as _
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

# Upper bounds this high only keep nonsense out; the page writes them as "≥ 0".
UNBOUNDED = 1e9
SetTargets = Annotated[Actor, Depends(require(Permission.SET_KPI_TARGETS))]


def error_message(exc: FlywheelError) -> str:
    """The reason a target was refused, in the page language, naming the figure."""
    code = str(exc.details.get("kpi") or "")
    name = _(labels.kpi_label(code)) if code else _("(none)")
    reason = exc.details.get("reason")
    if reason == "unknown_kpi":
        return _("%(kpi)s is not a figure of the dashboard.", kpi=code or _("(none)"))
    if reason == "not_a_number":
        return _(
            "%(kpi)s: the target must be a number, not “%(value)s”.",
            kpi=name,
            value=str(exc.details.get("value", "")),
        )
    if reason == "out_of_range":
        kpi = figures.KPI_BY_CODE[code]
        return _(
            "%(kpi)s: the target must lie between %(low)s and %(high)s.",
            kpi=name,
            low=kpi_text(kpi.unit, float(exc.details["low"]), get_settings().base_currency),
            high=kpi_text(kpi.unit, float(exc.details["high"]), get_settings().base_currency),
        )
    return exc.message


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    month = figures.default_month(session, today=today())
    board = figures.dashboard(
        session, actor=actor, flt=InsightFilter(), period=Period.ending(month), series_months=1
    )
    found = targets.current(session)
    setters = {t.updated_by_id for t in found.values() if t.updated_by_id is not None}
    names: dict[int, str] = {}
    if setters:
        for uid, username, display in session.execute(
            select(User.id, User.username, User.display_name).where(User.id.in_(setters))
        ):
            names[int(uid)] = str(display or username)
    rows: list[dict[str, Any]] = []
    for kpi in figures.KPIS:
        target = found.get(kpi.code)
        bounds = targets.bounds_of(kpi)
        rows.append(
            {
                "kpi": kpi,
                "target": target.value if target else None,
                "set_by": names.get(target.updated_by_id or 0, "") if target else "",
                "set_at": target.updated_at if target else None,
                "low": bounds.low,
                "high": bounds.high,
                "bounded": bounds.high < UNBOUNDED,
                "latest": board.figures[kpi.code].value,
            }
        )
    return render(
        request,
        "insights/targets.html",
        {
            "rows": rows,
            "stages": STAGES,
            "month": month,
            "currency": board.filter.money_currency,
            "kpi_text": kpi_text,
            "kpi_labels": labels.KPI_LABELS,
            "kpi_definitions": labels.KPI_DEFINITIONS,
            "stage_labels": labels.STAGE_LABELS,
            "unit_labels": labels.UNIT_LABELS,
            "errors": errors or {},
            "typed": typed or {},
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/insights/targets", response_class=HTMLResponse)
def target_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    return _page(request, session, actor)


@router.post("/insights/targets", response_class=HTMLResponse)
def target_save(
    request: Request,
    session: SessionDep,
    actor: SetTargets,
    kpi: Annotated[str, Form(max_length=40)] = "",
    value: Annotated[str, Form(max_length=40)] = "",
    action: Annotated[str, Form(max_length=8)] = "set",
) -> Response:
    try:
        with session.begin_nested():
            if action == "clear":
                cleared = targets.clear_target(session, actor=actor, kpi=kpi)
            else:
                target, _changed = targets.set_target(session, actor=actor, kpi=kpi, value=value)
    except FlywheelError as exc:
        code = str(exc.details.get("kpi") or kpi)
        return _page(
            request,
            session,
            actor,
            errors={code: error_message(exc)},
            typed={code: value},
            status_code=422,
        )
    code = kpi.strip()
    name = _(labels.kpi_label(code))
    if action == "clear":
        note = (
            _("The target of %(kpi)s was removed.", kpi=name)
            if cleared
            else _("%(kpi)s had no target.", kpi=name)
        )
    else:
        figure = figures.KPI_BY_CODE[target.kpi]
        shown = kpi_text(figure.unit, target.value, get_settings().base_currency)
        note = _("The target of %(kpi)s is now %(value)s.", kpi=name, value=shown)
    flash(request, note)
    return redirect(f"/insights/targets#kpi-{code}")
