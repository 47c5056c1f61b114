"""The next-best-action pages: my actions (ranked, with the reason, due day and the done and
dismiss forms; a manager sees everyone's with an owner filter) and the rules (the facts they
may test, each rule's conditions, and its edit form for those who manage them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import FlywheelError, http_status_for
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.loyalty import action_service as service
from flywheel.loyalty import next_actions
from flywheel.models.base import utcnow
from flywheel.models.enums import NextActionKind, NextActionStatus, Role
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, selected, word
from flywheel.web.pages import flash, page_language, redirect, render

router = APIRouter(include_in_schema=False)

WorkActions = Annotated[Actor, Depends(require(Permission.WORK_NEXT_ACTIONS))]
ManageRules = Annotated[Actor, Depends(require(Permission.MANAGE_LOYALTY_RULES))]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=120)]
Conditions = Annotated[str, Form(max_length=20000)]
RuleCode = Annotated[str, Path(max_length=40)]
Back = Annotated[str, Form(max_length=500)]

PAGE_SIZE = 50
MAX_PAGE = 100_000
Errors = dict[str, str]
STATUSES = ("open", "done", "dismissed", "expired", "all")


def _back(target: str) -> str:
    """Where a form on the list returns to: the list with its filters, nowhere else."""
    return (
        target
        if target.startswith("/loyalty/actions") and "//" not in target
        else "/loyalty/actions"
    )


# ---------------------------------------------------------------- my next best actions


def _filters(
    actor: Actor, status: str, action: str, owner: str
) -> tuple[service.ActionFilter, dict[str, str]]:
    chosen_owner = owner or ("me" if actor.role == Role.SALES else "all")
    owner_id: int | None = None
    if chosen_owner == "me":
        owner_id = actor.user_id or 0
    elif chosen_owner.isdigit():
        owner_id = int(chosen_owner)
    state = status if status in STATUSES else "open"
    kind = action if action in {k.value for k in NextActionKind} else ""
    filters = service.ActionFilter(
        status=None if state == "all" else NextActionStatus(state),
        action=NextActionKind(kind) if kind else None,
        owner_id=owner_id,
        unassigned=chosen_owner == "none",
    )
    return filters, {"status": state, "action": kind, "owner": chosen_owner}


def _actions_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: str = "open",
    action: str = "",
    owner: str = "",
    page: int = 1,
    errors: Mapping[int, Errors] | None = None,
    forms: Mapping[int, Mapping[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    filters, shown = _filters(actor, status, action, owner)
    rows = [
        (row[0], row[1], row[2])
        for row in session.execute(
            service.actions_query(actor, filters)
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        )
    ]
    language = page_language(request, actor)
    shown_rows = rows[:PAGE_SIZE]
    names = service.display_names(
        session, {x for a, _c, _r in shown_rows for x in (a.owner_id, a.closed_by_id)}
    )
    staff = [(u.id, u.display_name or u.username) for u in service.assignable_users(session)]
    return render(
        request,
        "loyalty/actions.html",
        {
            "rows": [
                {
                    "action": a,
                    "customer": c,
                    "title": service.rule_name(r, language),
                    "chips": next_actions.chips(a.reason or [], language, c.currency),
                    "overdue": service.is_overdue(a, today()),
                }
                for a, c, r in shown_rows
            ],
            "rank_start": (page - 1) * PAGE_SIZE,
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "shown": shown,
            "kinds": list(NextActionKind),
            "kind_labels": service.ACTION_LABELS,
            "status_labels": service.STATUS_LABELS,
            "statuses": STATUSES,
            "staff": staff,
            "names": names,
            "errors": errors or {},
            "forms": forms or {},
            "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/loyalty/actions", response_class=HTMLResponse)
def action_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[str, Query(max_length=16)] = "open",
    action: Annotated[str, Query(max_length=24)] = "",
    owner: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    return _actions_page(
        request, session, actor, status=status, action=action, owner=owner, page=page
    )


@router.get("/loyalty/actions/export.{format}")
def action_export(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    status: Annotated[str, Query(max_length=16)] = "open",
    action: Annotated[str, Query(max_length=24)] = "",
    owner: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The filtered actions, every page, in rank order; the reasons as the list's chips."""
    filters, _shown = _filters(actor, status, action, owner)
    rows = list(selected(session, service.actions_query(actor, filters)))
    language = page_language(request, actor)
    names = service.display_names(
        session, {x for a, _c, _r in rows for x in (a.owner_id, a.closed_by_id)}
    )
    day = today()
    return download(
        (
            N_("Rank"),
            N_("Customer code"),
            N_("Customer"),
            N_("Action"),
            N_("Kind"),
            N_("Why"),
            N_("Score"),
            N_("Created on"),
            N_("Due"),
            N_("Overdue"),
            N_("Status"),
            N_("Owner"),
            N_("Closed by"),
            N_("Outcome"),
        ),
        (
            [
                rank,
                c.code,
                c.name,
                service.rule_name(r, language),
                word(service.ACTION_LABELS, a.action),
                "; ".join(next_actions.chips(a.reason or [], language, c.currency)) or None,
                round(a.score, 4),
                a.created_on,
                a.due_on,
                service.is_overdue(a, day),
                word(service.STATUS_LABELS, a.status),
                names.get(a.owner_id) if a.owner_id else None,
                names.get(a.closed_by_id) if a.closed_by_id else None,
                a.outcome_note,
            ]
            for rank, (a, c, r) in enumerate(rows, start=1)
        ),
        stem="next-best-actions",
        format=format,
        title=N_("Next best actions"),
    )


def _close(
    request: Request,
    session: Session,
    actor: Actor,
    action_id: int,
    *,
    done: bool,
    text: str,
    back: str,
) -> Response:
    service.get_action_for(session, action_id, actor=actor)
    name = "note" if done else "reason"
    try:
        with session.begin_nested():
            if done:
                service.mark_done(session, action_id, actor, note=text, at=utcnow())
            else:
                service.dismiss(session, action_id, actor, reason=text, at=utcnow())
    except FlywheelError as exc:
        if http_status_for(exc) in (403, 404):
            raise
        message = (
            (_("Say what came of it.") if done else _("Say why it is not worth doing."))
            if exc.details.get("field") == name
            else exc.message
        )
        return _actions_page(
            request,
            session,
            actor,
            errors={action_id: {name: message}},
            forms={action_id: {name: text}},
            status_code=422,
        )
    flash(request, _("Action marked done.") if done else _("Action dismissed."))
    return redirect(_back(back))


@router.post("/loyalty/actions/{next_action_id}/done")
def action_done(
    request: Request,
    session: SessionDep,
    actor: WorkActions,
    next_action_id: Id,
    note: Text = "",
    back: Back = "/loyalty/actions",
) -> Response:
    return _close(request, session, actor, next_action_id, done=True, text=note, back=back)


@router.post("/loyalty/actions/{next_action_id}/dismiss")
def action_dismiss(
    request: Request,
    session: SessionDep,
    actor: WorkActions,
    next_action_id: Id,
    reason: Text = "",
    back: Back = "/loyalty/actions",
) -> Response:
    return _close(request, session, actor, next_action_id, done=False, text=reason, back=back)


# ---------------------------------------------------------------- the rules


def _rule_form(rule: Any) -> dict[str, str]:
    return {
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "priority": str(rule.priority),
        "cooldown_days": str(rule.cooldown_days),
        "due_days": str(rule.due_days),
        "conditions": json.dumps(rule.conditions, ensure_ascii=False, indent=1),
        "active": "1" if rule.active else "",
    }


def _rules_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    editing: str | None = None,
    form: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    rules = service.list_rules(session)
    language = page_language(request, actor)
    forms = {r.code: _rule_form(r) for r in rules}
    if editing is not None and form is not None:
        forms[editing] = {**forms.get(editing, {}), **form}
    return render(
        request,
        "loyalty/rules.html",
        {
            "rules": [
                {
                    "rule": r,
                    "name": service.rule_name(r, language),
                    "conditions": [
                        next_actions.describe_condition(c, language) for c in r.conditions or []
                    ],
                }
                for r in rules
            ],
            "fields": [
                {
                    "spec": spec,
                    "label": spec.label(language),
                    "choices": [
                        (c.value, spec.choice_label(c.value, language)) for c in spec.choices
                    ],
                }
                for spec in next_actions.FIELDS.values()
            ],
            "forms": forms,
            "editing": editing,
            "errors": errors or {},
            "kind_labels": service.ACTION_LABELS,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/loyalty/rules", response_class=HTMLResponse)
def rule_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    return _rules_page(request, session, actor)


_RULE_FIELDS = ("name_zh", "name_en", "priority", "cooldown_days", "due_days", "conditions")


@router.post("/loyalty/rules/{rule_code}", response_class=HTMLResponse)
def rule_change(
    request: Request,
    session: SessionDep,
    actor: ManageRules,
    rule_code: RuleCode,
    name_zh: Short = "",
    name_en: Short = "",
    priority: Short = "",
    cooldown_days: Short = "",
    due_days: Short = "",
    conditions: Conditions = "",
    active: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    """Save the rule; bad input shows the error on the form and changes nothing."""
    rule = service.get_rule(session, rule_code)
    shown = {
        "name_zh": name_zh,
        "name_en": name_en,
        "priority": priority,
        "cooldown_days": cooldown_days,
        "due_days": due_days,
        "conditions": conditions,
        "active": "1" if active == "1" else "",
    }
    errors: Errors = {}
    parsed: Any = None
    try:
        parsed = json.loads(conditions)
    except ValueError as exc:
        errors["conditions"] = _(
            "The conditions are not valid JSON (line %(line)s, column %(column)s).",
            line=getattr(exc, "lineno", 1),
            column=getattr(exc, "colno", 1),
        )
    if not errors:
        data = {
            "name_zh": name_zh,
            "name_en": name_en,
            "priority": priority,
            "cooldown_days": cooldown_days,
            "due_days": due_days,
            "conditions": parsed,
            "active": active == "1",
        }
        try:
            with session.begin_nested():
                service.save_rule(session, actor, rule.code, data)
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404):
                raise
            name = str(exc.details.get("field") or "form")
            errors = {name if name in _RULE_FIELDS else "form": exc.message}
    if errors:
        return _rules_page(
            request, session, actor, editing=rule.code, form=shown, errors=errors, status_code=422
        )
    flash(request, _("Rule %(code)s saved.", code=rule.code))
    return redirect("/loyalty/rules")
