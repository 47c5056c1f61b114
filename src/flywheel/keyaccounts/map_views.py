"""Key-account pages of the stakeholder map (the org chart by reports-to, coloured by attitude,
a table to edit each stakeholder, the coverage warnings) and of the needs register (add, edit,
close, and promote the account's recent survey comments)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.keyaccounts import map_labels, needs, stakeholders
from flywheel.kit.i18n import gettext as _
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.forms import Errors, field_error
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

EditKeyAccounts = Annotated[Actor, Depends(require(Permission.EDIT_KEY_ACCOUNTS))]
Text = Annotated[str, Form(max_length=4000)]
Small = Annotated[str, Form(max_length=20)]
Code = Annotated[str, Path(min_length=1, max_length=64)]
NEED_FIELDS = ("title", "description", "kind", "source", "priority", "status", "offer")
ROW_FIELDS = ("influence", "attitude", "trust", "reports_to_contact_id", "notes", "buying_role")


def _labels() -> dict[str, Any]:
    return {
        "attitude_labels": map_labels.ATTITUDE_LABELS,
        "attitude_colours": map_labels.ATTITUDE_COLOURS,
        "buying_role_labels": map_labels.ROLE_LABELS,
        "warning_labels": map_labels.WARNING_LABELS,
        "kind_labels": map_labels.KIND_LABELS,
        "source_labels": map_labels.SOURCE_LABELS,
        "status_labels": map_labels.STATUS_LABELS,
    }


def _whole(text: str, field: str, errors: Errors) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        errors[field] = _("Not a whole number.")
        return None
    return int(text)


# ---------------------------------------------------------------- the map


def chart_of(shown: stakeholders.StakeholderMap) -> dict[str, Any]:
    """The org chart as an ECharts tree: the account at the root, each contact under the one
    he reports to (or under the account); colour by attitude, size by influence."""
    by_id = {r.contact_id: r for r in shown.rows}
    children: dict[int | None, list[int]] = {}
    for row in shown.rows:
        boss = row.reports_to_contact_id if row.reports_to_contact_id in by_id else None
        children.setdefault(boss, []).append(row.contact_id)
    placed: set[int] = set()

    def node(contact_id: int) -> dict[str, Any]:
        placed.add(contact_id)
        row = by_id[contact_id]
        role = map_labels.ROLE_LABELS.get(row.buying_role or "")
        label = "\n".join(
            part for part in (row.name, row.title or "", _(role) if role else "") if part
        )
        return {
            "name": label,
            "contact_id": row.contact_id,
            "value": row.influence,
            "symbolSize": 10 + row.influence * 6,
            "itemStyle": {"color": map_labels.ATTITUDE_COLOURS.get(row.attitude, "#8c959f")},
            "attitude": _(map_labels.ATTITUDE_LABELS.get(row.attitude, row.attitude)),
            "trust": row.trust,
            "last": row.last_contact_on.isoformat() if row.last_contact_on else "–",
            "children": [node(c) for c in children.get(contact_id, []) if c not in placed],
        }

    tops = [node(c) for c in children.get(None, [])]
    # A line that goes round (only old data could hold one) still shows every contact.
    tops += [node(c) for c in by_id if c not in placed]
    return {
        "tree": {
            "name": shown.customer.name,
            "symbolSize": 8,
            "itemStyle": {"color": "#0969da"},
            "children": tops,
        },
        "labels": {
            "influence": _("Influence"),
            "trust": _("Trust"),
            "attitude": _("Attitude"),
            "last": _("Last contact"),
        },
    }


def _map_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: Code,
    *,
    editing: int | None = None,
    form: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    shown = stakeholders.stakeholder_map(session, actor, code, as_of=today())
    names = {r.contact_id: r.name for r in shown.rows}
    forms = {
        r.contact_id: {
            "influence": str(r.influence),
            "attitude": r.attitude,
            "trust": str(r.trust),
            "reports_to_contact_id": str(r.reports_to_contact_id or ""),
            "notes": r.notes or "",
            "buying_role": r.buying_role or "",
        }
        for r in shown.rows
    }
    if editing is not None and form is not None:
        forms[editing] = dict(form)
    return render(
        request,
        "keyaccounts/map.html",
        {
            **_labels(),
            "customer": shown.customer,
            "shown": shown,
            "names": names,
            "forms": forms,
            "editing": editing,
            "errors": errors or {},
            "chart": chart_of(shown),
            "window_days": stakeholders.COVERAGE_DAYS,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/accounts/{code}/map", response_class=HTMLResponse)
def map_page(request: Request, session: SessionDep, actor: CurrentActor, code: Code) -> Response:
    return _map_page(request, session, actor, code)


@router.post("/accounts/{code}/map/{contact_id}", response_class=HTMLResponse)
def map_save(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: Code,
    contact_id: Id,
    influence: Small = "",
    attitude: Small = "",
    trust: Small = "",
    reports_to_contact_id: Small = "",
    notes: Text = "",
    buying_role: Small = "",
) -> Response:
    stakeholders.stakeholder_map(session, actor, code, as_of=today())  # 404 out of scope
    form = {
        "influence": influence,
        "attitude": attitude,
        "trust": trust,
        "reports_to_contact_id": reports_to_contact_id,
        "notes": notes,
        "buying_role": buying_role,
    }
    errors: Errors = {}
    changes: dict[str, Any] = {
        "influence": _whole(influence, "influence", errors),
        "attitude": attitude,
        "trust": _whole(trust, "trust", errors),
        "reports_to_contact_id": _whole(reports_to_contact_id, "reports_to_contact_id", errors),
        "notes": notes,
        "buying_role": buying_role or None,
    }
    if not errors:
        try:
            with session.begin_nested():
                stakeholders.set_stakeholder(
                    session, actor=actor, code=code, contact_id=contact_id, changes=changes
                )
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404) and not exc.details.get("field"):
                raise
            errors = field_error(exc, ROW_FIELDS)
        else:
            flash(request, _("Stakeholder saved."))
            return redirect(f"/accounts/{code}/map#contact-{contact_id}")
    return _map_page(
        request,
        session,
        actor,
        code,
        editing=contact_id,
        form=form,
        errors=errors,
        status_code=422,
    )


# ---------------------------------------------------------------- the needs register


def _need_form(need: Any | None = None) -> dict[str, str]:
    if need is None:
        return {
            "title": "",
            "description": "",
            "kind": "need",
            "source": "interview",
            "priority": "3",
            "status": "open",
            "offer": "",
        }
    return {
        "title": need.title,
        "description": need.description or "",
        "kind": need.kind,
        "source": need.source,
        "priority": str(need.priority),
        "status": need.status,
        "offer": need.offer or "",
    }


def _needs_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: Code,
    *,
    form: Mapping[str, str] | None = None,
    editing: int | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    customer, rows = needs.list_needs(session, actor, code)
    forms = {n.id: _need_form(n) for n in rows}
    new_form = _need_form()
    if form is not None and editing is not None:
        forms[editing] = dict(form)
    elif form is not None:
        new_form = dict(form)
    return render(
        request,
        "keyaccounts/needs.html",
        {
            **_labels(),
            "customer": customer,
            "rows": rows,
            "forms": forms,
            "new_form": new_form,
            "editing": editing,
            "errors": errors or {},
            "comments": needs.recent_comments(session, customer.id, as_of=today()),
            "kinds": needs.KINDS,
            "sources": needs.SOURCES,
            "statuses": needs.STATUSES,
        },
        actor=actor,
        status_code=status_code,
    )


def _posted(
    title: str,
    description: str,
    kind: str,
    source: str,
    priority: str,
    status: str,
    offer: str,
) -> dict[str, str]:
    return {
        "title": title,
        "description": description,
        "kind": kind,
        "source": source,
        "priority": priority,
        "status": status,
        "offer": offer,
    }


def _need_values(form: Mapping[str, str], errors: Errors) -> dict[str, Any]:
    values: dict[str, Any] = dict(form)
    values["priority"] = _whole(form["priority"], "priority", errors)
    if values["priority"] is None and "priority" not in errors:
        errors["priority"] = _("Choose a priority.")
    return values


@router.get("/accounts/{code}/needs", response_class=HTMLResponse)
def needs_page(request: Request, session: SessionDep, actor: CurrentActor, code: Code) -> Response:
    return _needs_page(request, session, actor, code)


@router.post("/accounts/{code}/needs", response_class=HTMLResponse)
def need_add(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: Code,
    title: Annotated[str, Form(max_length=200)] = "",
    description: Text = "",
    kind: Small = "need",
    source: Small = "interview",
    priority: Small = "3",
    status: Small = "open",
    offer: Text = "",
) -> Response:
    needs.list_needs(session, actor, code)  # 404 out of scope
    form = _posted(title, description, kind, source, priority, status, offer)
    errors: Errors = {}
    values = _need_values(form, errors)
    if not errors:
        try:
            with session.begin_nested():
                needs.add_need(session, actor=actor, code=code, **values)
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404) and not exc.details.get("field"):
                raise
            errors = field_error(exc, NEED_FIELDS)
        else:
            flash(request, _("Need added."))
            return redirect(f"/accounts/{code}/needs")
    return _needs_page(request, session, actor, code, form=form, errors=errors, status_code=422)


@router.post("/accounts/{code}/needs/promote", response_class=HTMLResponse)
def need_promote(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: Code,
    response_id: Small = "",
) -> Response:
    errors: Errors = {}
    chosen = _whole(response_id, "form", errors)
    if chosen is None and not errors:
        errors["form"] = _("Choose a survey comment to promote.")
    if not errors:
        try:
            with session.begin_nested():
                promoted = needs.promote(session, actor=actor, code=code, response_id=chosen)
        except FlywheelError as exc:
            if http_status_for(exc) == 403 or (
                http_status_for(exc) == 404 and not exc.details.get("field")
            ):
                raise
            errors = {"form": exc.message}
        else:
            flash(
                request,
                _("The comment became a need.")
                if promoted.created
                else _("This comment was already a need."),
            )
            return redirect(f"/accounts/{code}/needs#need-{promoted.need.id}")
    return _needs_page(request, session, actor, code, errors=errors, status_code=422)


@router.post("/accounts/{code}/needs/{need_id}", response_class=HTMLResponse)
def need_edit(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: Code,
    need_id: Id,
    title: Annotated[str, Form(max_length=200)] = "",
    description: Text = "",
    kind: Small = "need",
    source: Small = "interview",
    priority: Small = "3",
    status: Small = "open",
    offer: Text = "",
) -> Response:
    customer, _rows = needs.list_needs(session, actor, code)
    need = needs.get_need_for(session, need_id, actor=actor)
    if need.customer_id != customer.id:
        raise NotFound(f"need {need_id} not found", need_id=need_id)
    form = _posted(title, description, kind, source, priority, status, offer)
    errors: Errors = {}
    values = _need_values(form, errors)
    if not errors:
        try:
            with session.begin_nested():
                needs.edit_need(session, actor=actor, need_id=need.id, changes=values)
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404) and not exc.details.get("field"):
                raise
            errors = field_error(exc, NEED_FIELDS)
        else:
            flash(request, _("Need saved."))
            return redirect(f"/accounts/{code}/needs#need-{need.id}")
    return _needs_page(
        request,
        session,
        actor,
        code,
        form=form,
        editing=need.id,
        errors=errors,
        status_code=422,
    )
