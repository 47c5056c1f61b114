"""Key-account pages (plan): the key-account list with plan health and coverage, one account's
plan with its forms (plan, objectives, whitespace, risks, review), and the customer 360's
key-account panel, which also shows what the other key-account parts summarise."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import ColumnElement, Exists, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.keyaccounts import plan_figures, plans
from flywheel.keyaccounts.plan_api import BandChoice, FlagChoice, owner_filter
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Customer
from flywheel.models.enums import Tier
from flywheel.models.keyaccounts import (
    AccountPlan,
    AccountTask,
    Contract,
    Deal,
    Need,
    Negotiation,
    PlanObjective,
)
from flywheel.models.users import User
from flywheel.web import panels
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import EXPORT_LIMIT, ExportFormat, download, word
from flywheel.web.forms import Errors, field_error
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

EditKeyAccounts = Annotated[Actor, Depends(require(Permission.EDIT_KEY_ACCOUNTS))]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=2000)]
Small = Annotated[str, Form(max_length=40)]
PAGE_SIZE = 50
MAX_PAGE = 100_000

STATUS_LABELS = {
    "on_track": N_("On track"),
    "at_risk": N_("At risk"),
    "done": N_("Done"),
    "dropped": N_("Dropped"),
}
BAND_LABELS = {
    "green": N_("Healthy"),
    "yellow": N_("Watch"),
    "red": N_("At risk"),
    "none": N_("No plan"),
}
PART_LABELS = {
    "objectives": N_("Objectives on track"),
    "coverage": N_("Stakeholder coverage"),
    "executive_contact": N_("Last executive contact"),
    "review": N_("Review not overdue"),
}
FLAG_LABELS = {
    "no_plan": N_("No plan"),
    "no_decision_maker": N_("No decision maker known"),
    "decision_maker_not_met": N_("No decision maker met in 90 days"),
    "single_threaded": N_("Single-threaded"),
    "high_influence_opponent": N_("Influential opponent"),
    "review_overdue": N_("Review overdue"),
    "review_not_planned": N_("No review planned"),
}
ACTION_LABELS = {
    "account_plan.created": N_("Plan created"),
    "account_plan.updated": N_("Plan changed"),
    "plan_objective.created": N_("Objective added"),
    "plan_objective.updated": N_("Objective changed"),
}
PLAN_FORM_FIELDS = (
    "year",
    "revenue_target",
    "currency",
    "estimated_wallet",
    "review_every_days",
    "next_review_on",
    "owner",
)
OBJECTIVE_FORM_FIELDS = (
    "title",
    "measure",
    "target_value",
    "current_value",
    "owner",
    "due_on",
    "status",
)


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "band_labels": BAND_LABELS,
        "part_labels": PART_LABELS,
        "flag_labels": FLAG_LABELS,
        "action_labels": ACTION_LABELS,
    }


def _reraise(exc: FlywheelError) -> None:
    if http_status_for(exc) in (403, 404) and not exc.details.get("field"):
        raise exc


# ---------------------------------------------------------------- the list


def _account_filter(
    session: Session, q: str, owner: str, band: str, flag: str, review_due: str
) -> tuple[plan_figures.AccountFilter, dict[str, str]]:
    """The list's filters (an unknown band or flag is ignored) and what the form shows."""
    shown = {
        "q": q,
        "owner": owner,
        "band": band if band in {b.value for b in BandChoice} else "",
        "flag": flag if flag in {f.value for f in FlagChoice} else "",
        "review_due": "1" if review_due == "1" else "",
    }
    flt = plan_figures.AccountFilter(
        search=q.strip() or None,
        owner_id=owner_filter(session, owner.strip() or None),
        band=shown["band"] or None,
        flag=shown["flag"] or None,
        review_due=bool(shown["review_due"]),
    )
    return flt, shown


@router.get("/accounts", response_class=HTMLResponse)
def account_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    q: Annotated[str, Query(max_length=100)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
    band: Annotated[str, Query(max_length=10)] = "",
    flag: Annotated[str, Query(max_length=30)] = "",
    review_due: Annotated[str, Query(max_length=2)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    flt, shown = _account_filter(session, q, owner, band, flag, review_due)
    first = (page - 1) * PAGE_SIZE
    rows, total = plan_figures.key_account_rows(
        session, actor, flt, as_of=today(), limit=PAGE_SIZE, offset=first
    )
    owners = session.execute(
        select(User.username)
        .where(User.id.in_(select(Customer.owner_id).where(Customer.tier == Tier.KEY.value)))
        .order_by(User.username)
    ).scalars()
    return render(
        request,
        "keyaccounts/accounts_list.html",
        {
            **_labels(),
            "rows": rows,
            "total": total,
            "page": page,
            "more": first + PAGE_SIZE < total,
            "shown": shown,
            "bands": [b.value for b in BandChoice],
            "flags": [f.value for f in FlagChoice],
            "owners": list(owners),
            "as_of": today(),
        },
        actor=actor,
    )


@router.get("/accounts/export.{format}")
def account_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    q: Annotated[str, Query(max_length=100)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
    band: Annotated[str, Query(max_length=10)] = "",
    flag: Annotated[str, Query(max_length=30)] = "",
    review_due: Annotated[str, Query(max_length=2)] = "",
) -> Response:
    """The filtered key-account list, every page, with its figures."""
    flt, _shown = _account_filter(session, q, owner, band, flag, review_due)
    # Without a limit the figures are read with grouped queries over the whole list.
    rows, _total = plan_figures.key_account_rows(session, actor, flt, as_of=today())
    return download(
        (
            N_("Account code"),
            N_("Account"),
            N_("Owner"),
            N_("Currency"),
            N_("Revenue, 12 months"),
            N_("Revenue target"),
            N_("Target progress"),
            N_("Share of wallet"),
            N_("Plan health"),
            N_("Health band"),
            N_("Coverage"),
            N_("Next review"),
        ),
        (
            [
                row.customer.code,
                row.customer.name,
                row.owner,
                row.currency,
                row.revenue_12m,
                row.plan.revenue_target if row.plan else None,
                _rounded(row.target_progress),
                _rounded(row.share_of_wallet),
                row.health.score if row.health else None,
                word(BAND_LABELS, row.health.band if row.health else "none"),
                "; ".join(word(FLAG_LABELS, f) or f for f in row.flags) or None,
                row.plan.next_review_on if row.plan else None,
            ]
            for row in rows[:EXPORT_LIMIT]
        ),
        stem="key-accounts",
        format=format,
        title=N_("Key accounts"),
    )


def _rounded(share: float | None) -> float | None:
    return None if share is None else round(share, 4)


# ---------------------------------------------------------------- one plan


def _plan_form(plan: AccountPlan | None, customer: Customer, owner: str | None) -> dict[str, str]:
    if plan is None:
        return {
            "year": str(today().year),
            "revenue_target": "",
            "currency": customer.currency,
            "estimated_wallet": "",
            "review_every_days": "90",
            "next_review_on": "",
            "owner": owner or "",
        }
    return {
        "year": str(plan.year),
        "revenue_target": f"{plan.revenue_target:.2f}" if plan.revenue_target is not None else "",
        "currency": plan.currency,
        "estimated_wallet": (
            f"{plan.estimated_wallet:.2f}" if plan.estimated_wallet is not None else ""
        ),
        "review_every_days": str(plan.review_every_days),
        "next_review_on": plan.next_review_on.isoformat() if plan.next_review_on else "",
        "owner": owner or "",
    }


def _timeline(session: Session, plan: AccountPlan) -> list[AuditEvent]:
    objective_ids = select(PlanObjective.id).where(PlanObjective.plan_id == plan.id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    and_(
                        AuditEvent.subject_type == "account_plan", AuditEvent.subject_id == plan.id
                    ),
                    and_(
                        AuditEvent.subject_type == "plan_objective",
                        AuditEvent.subject_id.in_(objective_ids),
                    ),
                )
            )
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(30)
        )
    )


def _plan_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    forms: Mapping[str, Mapping[str, str]] | None = None,
    errors: Mapping[str, Errors] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    customer = plans.account_for(session, code, actor=actor)
    as_of = today()
    row = plan_figures.account_row(session, actor, customer, as_of=as_of)
    plan = row.plan
    objectives = plan_figures.objectives_of(session, plan.id) if plan else []
    user_ids = {o.owner_id for o in objectives if o.owner_id} | {
        i for i in (plan.owner_id if plan else None, customer.owner_id) if i
    }
    names = (
        dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    plan_owner = names.get((plan.owner_id if plan else None) or customer.owner_id or 0)
    forms = dict(forms or {})
    objective_forms = {
        o.id: {
            "title": o.title,
            "measure": o.measure or "",
            "target_value": "" if o.target_value is None else f"{o.target_value:g}",
            "current_value": "" if o.current_value is None else f"{o.current_value:g}",
            "owner": names.get(o.owner_id or 0, ""),
            "due_on": o.due_on.isoformat() if o.due_on else "",
            "status": o.status,
        }
        for o in objectives
    }
    for key, form in forms.items():
        if key.startswith("objective:"):
            objective_forms[int(key.split(":", 1)[1])] = dict(form)
    return render(
        request,
        "keyaccounts/plan.html",
        {
            **_labels(),
            "customer": customer,
            "row": row,
            "plan": plan,
            "objectives": objectives,
            "owner_names": names,
            "plan_owner": plan_owner,
            "as_of": as_of,
            "overdue": {o.id for o in objectives if plan_figures.objective_overdue(o, as_of)},
            "plan_form": forms.get("plan") or _plan_form(plan, customer, plan_owner),
            "objective_form": forms.get("objective")
            or dict.fromkeys(OBJECTIVE_FORM_FIELDS, "") | {"status": "on_track"},
            "objective_forms": objective_forms,
            "whitespace_form": forms.get("whitespace") or {"item": "", "note": "", "potential": ""},
            "risk_form": forms.get("risk")
            or {"risk": "", "likelihood": "3", "impact": "3", "mitigation": ""},
            "errors": dict(errors or {}),
            "statuses": plans.OBJECTIVE_STATUSES,
            "events": _timeline(session, plan) if plan else [],
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/accounts/{code}/plan", response_class=HTMLResponse)
def plan_page(request: Request, session: SessionDep, actor: CurrentActor, code: str) -> Response:
    return _plan_page(request, session, actor, code)


@router.post("/accounts/{code}/plan", response_class=HTMLResponse)
def plan_save(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: str,
    year: Small = "",
    revenue_target: Small = "",
    currency: Small = "",
    estimated_wallet: Small = "",
    review_every_days: Small = "",
    next_review_on: Small = "",
    owner: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    customer = plans.account_for(session, code, actor=actor)
    form = {
        "year": year,
        "revenue_target": revenue_target,
        "currency": currency,
        "estimated_wallet": estimated_wallet,
        "review_every_days": review_every_days,
        "next_review_on": next_review_on,
        "owner": owner,
    }
    values: dict[str, Any] = {k: v.strip() for k, v in form.items()}
    if not values["next_review_on"]:
        values.pop("next_review_on")
    for name in ("year", "currency", "review_every_days"):
        if not values[name]:
            values.pop(name)
    try:
        with session.begin_nested():
            plans.save_plan(session, actor=actor, code=customer.code, values=values, as_of=today())
    except FlywheelError as exc:
        _reraise(exc)
        errors = {"plan": field_error(exc, PLAN_FORM_FIELDS)}
        return _plan_page(
            request, session, actor, code, forms={"plan": form}, errors=errors, status_code=422
        )
    flash(request, _("Plan saved."))
    return redirect(f"/accounts/{customer.code}/plan")


@router.post("/accounts/{code}/plan/reviewed", response_class=HTMLResponse)
def plan_reviewed(
    request: Request, session: SessionDep, actor: EditKeyAccounts, code: str
) -> Response:
    customer = plans.account_for(session, code, actor=actor)
    plans.mark_reviewed(session, actor=actor, code=customer.code, on=today())
    flash(request, _("Review recorded."))
    return redirect(f"/accounts/{customer.code}/plan")


def _objective_values(form: Mapping[str, str]) -> dict[str, Any]:
    """The form's fields as the service takes them: an empty optional field clears it."""
    values: dict[str, Any] = {k: v.strip() for k, v in form.items()}
    for name in ("measure", "target_value", "current_value", "owner", "due_on"):
        if values.get(name) == "":
            values[name] = None
    return values


@router.post("/accounts/{code}/plan/objectives", response_class=HTMLResponse)
def objective_add(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: str,
    title: Short = "",
    measure: Short = "",
    target_value: Small = "",
    current_value: Small = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    due_on: Small = "",
    status: Small = "on_track",
) -> Response:
    customer = plans.account_for(session, code, actor=actor)
    form = {
        "title": title,
        "measure": measure,
        "target_value": target_value,
        "current_value": current_value,
        "owner": owner,
        "due_on": due_on,
        "status": status,
    }
    try:
        with session.begin_nested():
            plans.add_objective(
                session,
                actor=actor,
                code=customer.code,
                values=_objective_values(form),
            )
    except FlywheelError as exc:
        _reraise(exc)
        errors = {"objective": field_error(exc, OBJECTIVE_FORM_FIELDS)}
        return _plan_page(
            request, session, actor, code, forms={"objective": form}, errors=errors, status_code=422
        )
    flash(request, _("Objective added."))
    return redirect(f"/accounts/{customer.code}/plan#objectives")


@router.post("/accounts/{code}/plan/objectives/{objective_id}", response_class=HTMLResponse)
def objective_change(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: str,
    objective_id: Id,
    title: Short = "",
    measure: Short = "",
    target_value: Small = "",
    current_value: Small = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    due_on: Small = "",
    status: Small = "",
) -> Response:
    customer = plans.account_for(session, code, actor=actor)
    objective = plans.get_objective_for(session, objective_id, actor=actor)
    if objective.customer_id != customer.id:
        raise NotFound(f"objective {objective_id} not found", objective_id=objective_id)
    form = {
        "title": title,
        "measure": measure,
        "target_value": target_value,
        "current_value": current_value,
        "owner": owner,
        "due_on": due_on,
        "status": status,
    }
    try:
        with session.begin_nested():
            plans.update_objective(
                session,
                actor=actor,
                objective_id=objective.id,
                changes=_objective_values(form),
            )
    except FlywheelError as exc:
        _reraise(exc)
        key = f"objective:{objective.id}"
        errors = {key: field_error(exc, OBJECTIVE_FORM_FIELDS)}
        session.refresh(objective)
        return _plan_page(
            request, session, actor, code, forms={key: form}, errors=errors, status_code=422
        )
    flash(request, _("Objective saved."))
    return redirect(f"/accounts/{customer.code}/plan#objectives")


def _list_change(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    name: str,
    form_key: str,
    fields: tuple[str, ...],
    add: Mapping[str, str] | None = None,
    remove: str = "",
) -> Response:
    """Add one item to, or remove one from, the plan's whitespace or risks."""
    customer = plans.account_for(session, code, actor=actor)
    plan = plans.plan_of(session, customer.id)
    if plan is None:
        flash(request, _("Create the plan first."), level="error")
        return redirect(f"/accounts/{customer.code}/plan")
    items = [dict(i) for i in getattr(plan, name) or []]
    if add is not None:
        items.append({k: (v.strip() or None) for k, v in add.items()})
    elif remove.isdigit() and int(remove) < len(items):
        del items[int(remove)]
    try:
        with session.begin_nested():
            plans.save_plan(
                session, actor=actor, code=customer.code, values={name: items}, as_of=today()
            )
    except FlywheelError as exc:
        _reraise(exc)
        errors = {form_key: field_error(exc, fields)}
        return _plan_page(
            request,
            session,
            actor,
            code,
            forms={form_key: dict(add or {})},
            errors=errors,
            status_code=422,
        )
    flash(request, _("Plan saved."))
    return redirect(f"/accounts/{customer.code}/plan#{name}")


@router.post("/accounts/{code}/plan/whitespace", response_class=HTMLResponse)
def whitespace_add(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: str,
    item: Short = "",
    note: Text = "",
    potential: Small = "",
) -> Response:
    return _list_change(
        request,
        session,
        actor,
        code,
        name="whitespace",
        form_key="whitespace",
        fields=("item", "note", "potential"),
        add={"item": item, "note": note, "potential": potential},
    )


@router.post("/accounts/{code}/plan/whitespace/remove", response_class=HTMLResponse)
def whitespace_remove(
    request: Request, session: SessionDep, actor: EditKeyAccounts, code: str, index: Small = ""
) -> Response:
    return _list_change(
        request,
        session,
        actor,
        code,
        name="whitespace",
        form_key="whitespace",
        fields=(),
        remove=index,
    )


@router.post("/accounts/{code}/plan/risks", response_class=HTMLResponse)
def risk_add(
    request: Request,
    session: SessionDep,
    actor: EditKeyAccounts,
    code: str,
    risk: Short = "",
    likelihood: Small = "3",
    impact: Small = "3",
    mitigation: Text = "",
) -> Response:
    return _list_change(
        request,
        session,
        actor,
        code,
        name="risks",
        form_key="risk",
        fields=("risk", "likelihood", "impact", "mitigation"),
        add={"risk": risk, "likelihood": likelihood, "impact": impact, "mitigation": mitigation},
    )


@router.post("/accounts/{code}/plan/risks/remove", response_class=HTMLResponse)
def risk_remove(
    request: Request, session: SessionDep, actor: EditKeyAccounts, code: str, index: Small = ""
) -> Response:
    return _list_change(
        request, session, actor, code, name="risks", form_key="risk", fields=(), remove=index
    )


# ---------------------------------------------------------------- the 360 panel

# The other key-account parts, each with its ``summary_for_360`` loader; a part that is not
# there (yet) or has nothing for the account leaves its section out.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("coverage", "flywheel.keyaccounts.stakeholders", N_("Stakeholder map")),
    ("needs", "flywheel.keyaccounts.needs", N_("Open needs")),
    ("deals", "flywheel.keyaccounts.deals", N_("Open deals")),
    ("negotiations", "flywheel.keyaccounts.negotiations", N_("Open negotiations")),
    ("contracts", "flywheel.keyaccounts.contracts", N_("Contracts and renewal")),
    ("terms", "flywheel.keyaccounts.terms", N_("Cost of payment terms")),
)
LINKS: dict[str, str] = {
    "coverage": "/accounts/{code}/map",
    "needs": "/accounts/{code}/needs",
    "deals": "/deals/list?status=all&q={code}",
    "negotiations": "/negotiations/new?customer={code}",
    "contracts": "/contracts?status=all&q={code}",
    "terms": "/accounts/terms-cost?code={code}",
}


# What the other parts' summary keys are called in the panel; a key not here shows as it is.
SUMMARY_LABELS: dict[str, str] = {
    "open": N_("Open"),
    "open_pain_points": N_("Open pain points"),
    "addressed": N_("Addressed"),
    "total": N_("Total"),
    "top": N_("Most pressing"),
    "contracts_total": N_("Contracts"),
    "contracts": N_("Live contracts"),
    "next_milestones": N_("Next milestones"),
    "open_tasks": N_("Open tasks"),
    "tasks": N_("Tasks"),
    "negotiations": N_("Negotiations"),
    "open_deals": N_("Open deals"),
    "open_value": N_("Open value"),
    "weighted_value": N_("Weighted value"),
    "won": N_("Won"),
    "lost": N_("Lost"),
    "contacts": N_("Contacts"),
    "champions": N_("Champions"),
    "supporters": N_("Supporters"),
    "sceptics": N_("Sceptics"),
    "opponents": N_("Opponents"),
    "warnings": N_("Warnings"),
    "grade": N_("Credit grade"),
    "predicted_delay_days": N_("Predicted delay, days"),
    "max_terms_days": N_("Longest terms allowed, days"),
    "current_terms": N_("Current terms"),
    "current_terms_allowed": N_("Current terms allowed"),
    "typical_order": N_("Typical order"),
    "cost": N_("Cost of the terms"),
    "expected_loss_rate": N_("Expected loss rate"),
    "mapped": N_("Mapped"),
    "met_recently": N_("Met in 90 days"),
    "decision_makers": N_("Decision makers"),
    "decision_maker_met": N_("Decision maker met"),
    "high_influence_opponents": N_("Influential opponents"),
    "pending_concessions": N_("Concessions waiting"),
    "last_meeting_on": N_("Last meeting"),
}
# Keys that are plumbing (ids, links, the day, units), not something to read.
SUMMARY_HIDDEN = frozenset(
    {
        "id",
        "url",
        "link",
        "as_of",
        "code",
        "currency",
        "window_days",
        "graded_on",
        "priced_as",
        "delay_source",
        "current_terms_days",
        "contract_id",
        "stage_name_en",
        "stage_name_zh",
    }
)


def _value_labels() -> dict[str, str]:
    """Codes the other parts' summaries carry as values, in words (the panel translates)."""
    from flywheel.keyaccounts import contract_views, map_labels, negotiation_views

    return {
        **map_labels.KIND_LABELS,
        **map_labels.SOURCE_LABELS,
        **map_labels.STATUS_LABELS,
        **contract_views.KIND_LABELS,
        **contract_views.STATUS_LABELS,
        **negotiation_views.STATUS_LABELS,
        **FLAG_LABELS,
    }


def _any_row(model: Any) -> Exists:
    return select(model.id).where(model.customer_id == bindparam("customer_id")).exists()


# Sections whose tables hold nothing for most accounts, and the rows without which their
# summary is always empty: one statement tells which to read, instead of one (or two) per
# section on every account's 360. A section's summary must stay empty when its probe is false.
# By the module whose summary they stand for (a section may be given another module).
_PROBES: dict[str, Exists | ColumnElement[bool]] = {
    "flywheel.keyaccounts.needs": _any_row(Need),
    "flywheel.keyaccounts.deals": _any_row(Deal),
    "flywheel.keyaccounts.negotiations": _any_row(Negotiation),
    "flywheel.keyaccounts.contracts": or_(_any_row(Contract), _any_row(AccountTask)),
}
_PRESENCE = select(*(probe.label(f"p{n}") for n, probe in enumerate(_PROBES.values())))


def other_sections(session: Session, customer: Customer, as_of: date) -> list[dict[str, Any]]:
    row = session.execute(_PRESENCE, {"customer_id": customer.id}).one()
    present = dict(zip(_PROBES, row, strict=True))
    found = []
    for key, module, label in SECTIONS:
        if not present.get(module, True):
            continue
        try:
            loader = importlib.import_module(module).summary_for_360
        except (ImportError, AttributeError):
            continue
        summary = loader(session, customer.id, as_of=as_of)
        if summary:
            found.append(
                {
                    "key": key,
                    "label": label,
                    "data": summary,
                    "link": LINKS[key].format(code=customer.code),
                }
            )
    return found


def _panel(
    session: Session, actor: Actor, customer: Customer, as_of: date
) -> Mapping[str, Any] | None:
    summary = plans.summary_for_360(session, customer.id, as_of=as_of)
    sections = other_sections(session, customer, as_of)
    if summary is None and not sections and customer.tier != Tier.KEY.value:
        return None
    return {
        **_labels(),
        "summary_labels": SUMMARY_LABELS,
        "summary_hidden": SUMMARY_HIDDEN,
        "value_labels": _value_labels(),
        "customer": customer,
        "summary": summary,
        "sections": sections,
        "as_of": as_of,
    }


panels.register(
    "key_account",
    panels.Panel(
        name="keyaccounts.plan",
        label=N_("Key account"),
        template="keyaccounts/_plan_panel.html",
        loader=_panel,
    ),
)
