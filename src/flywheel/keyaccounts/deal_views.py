"""The deals pages: the kanban board (a column per open stage, cards with move forms, the
pipeline figures on top), the filtered list, the new-deal form, one deal with its edit, move,
win and lose forms and its history, and the stage editor for managers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.keyaccounts import deal_figures, deals
from flywheel.kit.i18n import N_, current_language
from flywheel.kit.i18n import gettext as _
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Customer
from flywheel.models.enums import Role
from flywheel.models.keyaccounts import Deal, DealStage
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, paged
from flywheel.web.forms import Errors, field_error, form_day
from flywheel.web.pages import flash, redirect, render, safe_next

router = APIRouter(include_in_schema=False)

WorkDeals = Annotated[Actor, Depends(require(Permission.WORK_DEALS))]
ManageStages = Annotated[Actor, Depends(require(Permission.MANAGE_DEAL_STAGES))]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=4000)]
DayText = Annotated[str, Form(max_length=20)]

PAGE_SIZE = 50
MAX_PAGE = 100_000
BOARD_CARDS = 200  # per column: a board longer than that is read as the list
FIGURE_DAYS = 365

STATUS_LABELS = {
    "all": N_("All"),
    "open": N_("Open"),
    "won": N_("Won"),
    "lost": N_("Lost"),
}
ACTION_LABELS = {
    "deal.created": N_("Deal opened"),
    "deal.updated": N_("Deal changed"),
    "deal.moved": N_("Moved"),
    "deal.reopened": N_("Reopened"),
    "deal.won": N_("Won"),
    "deal.lost": N_("Lost"),
}
FIELD_LABELS = {
    "title": N_("Deal title"),
    "owner_id": N_("Owner"),
    "value": N_("Deal value"),
    "currency": N_("Currency"),
    "expected_close_on": N_("Expected close"),
    "closed_on": N_("Closed on"),
    "lost_reason": N_("Why lost"),
    "lines": N_("Products"),
    "competitors": N_("Competitors"),
    "stage": N_("Stage"),
    "contract_id": N_("Contract"),
    "order_id": N_("Order"),
}
NEW_FIELDS = (
    "customer",
    "title",
    "value",
    "currency",
    "stage",
    "owner_id",
    "expected_close_on",
    "lines",
    "competitors",
)
EDIT_FIELDS = (
    "title",
    "value",
    "currency",
    "owner_id",
    "expected_close_on",
    "lines",
    "competitors",
)
WIN_FIELDS = (
    "closed_on",
    "create_contract",
    "contract_number",
    "contract_end_on",
    "create_order",
    "order_number",
)


def _render(
    request: Request,
    actor: Actor,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    labels = {
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "field_labels": FIELD_LABELS,
    }
    return render(request, template, {**labels, **context}, actor=actor, status_code=status_code)


def _owner_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(
        select(User.id, User.display_name)
        .where(
            User.is_active.is_(True),
            User.role.in_([Role.ADMIN.value, Role.MANAGER.value, Role.SALES.value]),
        )
        .order_by(User.display_name, User.id)
    )
    return [(int(i), str(n)) for i, n in rows]


def _owner_id(text: str, errors: Errors) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        errors["owner_id"] = _("Choose one of the options.")
        return None
    return int(text)


def lines_text(lines: list[dict[str, Any]]) -> str:
    """The lines as the form shows them: product | quantity | unit price, one a line."""
    return "\n".join(
        " | ".join(str(v) for v in (line["product"], line["quantity"], line.get("unit_price")) if v)
        for line in lines
    )


def _lines(text: str, errors: Errors) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.replace("｜", "|").split("|")]
        line: dict[str, Any] = {"product": parts[0]}
        if len(parts) > 1 and parts[1]:
            line["quantity"] = parts[1]
        if len(parts) > 2 and parts[2]:
            line["unit_price"] = parts[2]
        if len(parts) > 3:
            errors["lines"] = _("One line each: product | quantity | unit price.")
        lines.append(line)
    return lines


def _figures(session: Session, actor: Actor, owner_id: int | None = None) -> dict[str, Any]:
    end = today()
    return deal_figures.pipeline_figures(
        session,
        actor,
        as_of=end,
        start=end - timedelta(days=FIGURE_DAYS - 1),
        end=end,
        owner_id=owner_id,
    )


# ---------------------------------------------------------------- the board and the list


@router.get("/deals", response_class=HTMLResponse)
def deal_board(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    owner: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    errors: Errors = {}
    owner_id = _owner_id(owner, errors)
    stages = [s for s in deals.list_stages(session, active_only=True) if deals.is_open(s)]
    rows, _total = deals.list_deals(
        session,
        actor,
        deals.DealFilter(status="open", owner_id=owner_id, search=q.strip() or None),
        limit=BOARD_CARDS * max(len(stages), 1),
        offset=0,
    )
    columns: dict[int, list[tuple[Deal, Customer, DealStage]]] = {s.id: [] for s in stages}
    for row in rows:
        columns.setdefault(row[2].id, []).append(row)
    names = deals.owner_names(session, [d.owner_id for d, _c, _s in rows])
    return _render(
        request,
        actor,
        "keyaccounts/deal_board.html",
        {
            "stages": stages,
            "columns": columns,
            "names": names,
            "figures": _figures(session, actor, owner_id),
            "owners": _owner_choices(session),
            "shown": {"owner": owner_id, "q": q},
            "today": today(),
        },
    )


def _deal_filter(status: str, stage: str, owner: str, q: str) -> deals.DealFilter:
    """The list's filters; an unknown status lists the open deals, an unreadable owner all."""
    return deals.DealFilter(
        status=status if status in deals.STATUSES else "open",
        stage=stage or None,
        owner_id=_owner_id(owner, {}),
        search=q.strip() or None,
    )


@router.get("/deals/list", response_class=HTMLResponse)
def deal_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[str, Query(max_length=8)] = "open",
    stage: Annotated[str, Query(max_length=32)] = "",
    owner: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    flt = _deal_filter(status, stage, owner, q)
    rows, total = deals.list_deals(
        session, actor, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return _render(
        request,
        actor,
        "keyaccounts/deal_list.html",
        {
            "rows": rows,
            "names": deals.owner_names(session, [d.owner_id for d, _c, _s in rows]),
            "total": total,
            "more": page * PAGE_SIZE < total,
            "page": page,
            "stages": deals.list_stages(session),
            "owners": _owner_choices(session),
            "statuses": deals.STATUSES,
            "shown": {"status": flt.status, "stage": stage, "owner": flt.owner_id, "q": q},
            "today": today(),
        },
    )


@router.get("/deals/list/export.{format}")
def deal_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    status: Annotated[str, Query(max_length=8)] = "open",
    stage: Annotated[str, Query(max_length=32)] = "",
    owner: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The filtered deal list, every page, soonest expected close first."""
    flt = _deal_filter(status, stage, owner, q)
    rows = list(
        paged(
            lambda size, offset: deals.list_deals(session, actor, flt, limit=size, offset=offset)[0]
        )
    )
    names = deals.owner_names(session, [d.owner_id for d, _c, _s in rows])
    chinese = current_language() == "zh"
    return download(
        (
            N_("Deal"),
            N_("Deal title"),
            N_("Account code"),
            N_("Account"),
            N_("Stage"),
            N_("Probability"),
            N_("Currency"),
            N_("Deal value"),
            N_("Opened on"),
            N_("Expected close"),
            N_("Owner"),
            N_("Closed on"),
            N_("Why lost"),
        ),
        (
            [
                deal.id,
                deal.title,
                account.code,
                account.name,
                stage_row.name_zh if chinese else stage_row.name_en,
                stage_row.probability / 100,
                deal.currency,
                deal.value,
                deal.opened_on,
                deal.expected_close_on,
                names.get(deal.owner_id) if deal.owner_id else None,
                deal.closed_on,
                deal.lost_reason,
            ]
            for deal, account, stage_row in rows
        ),
        stem="deals",
        format=format,
        title=N_("Deals"),
    )


# ---------------------------------------------------------------- a new deal


def _account_from(session: Session, actor: Actor, value: str) -> Customer | None:
    """``?customer=`` names the account by id (from the 360) or by code."""
    value = value.strip()
    if not value:
        return None
    try:
        if value.isdigit():
            return customers.get_customer_for(session, int(value), actor=actor)
        return customers.get_customer_by_code(session, value, actor=actor)
    except NotFound:
        return None


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: Mapping[str, str],
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        actor,
        "keyaccounts/deal_form.html",
        {
            "form": dict.fromkeys(NEW_FIELDS, "") | dict(form),
            "stages": [s for s in deals.list_stages(session, active_only=True) if deals.is_open(s)],
            "owners": _owner_choices(session),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/deals/new", response_class=HTMLResponse)
def deal_new(
    request: Request,
    session: SessionDep,
    actor: WorkDeals,
    customer: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    account = _account_from(session, actor, customer)
    form = {
        "customer": account.code if account else "",
        "currency": account.currency if account else "",
        "owner_id": str(account.owner_id or "") if account else str(actor.user_id or ""),
    }
    return _new_page(request, session, actor, form=form)


@router.post("/deals", response_class=HTMLResponse)
def deal_create(
    request: Request,
    session: SessionDep,
    actor: WorkDeals,
    customer: Annotated[str, Form(max_length=64)] = "",
    title: Short = "",
    value: Annotated[str, Form(max_length=30)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    stage: Annotated[str, Form(max_length=32)] = "",
    owner_id: Annotated[str, Form(max_length=20)] = "",
    expected_close_on: DayText = "",
    lines: Text = "",
    competitors: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {
        "customer": customer,
        "title": title,
        "value": value,
        "currency": currency,
        "stage": stage,
        "owner_id": owner_id,
        "expected_close_on": expected_close_on,
        "lines": lines,
        "competitors": competitors,
    }
    errors: Errors = {}
    if not customer.strip():
        errors["customer"] = _("Name the account (its code).")
    if not value.strip():
        errors["value"] = _("Give the deal's value.")
    close = form_day(expected_close_on, "expected_close_on", errors)
    owner = _owner_id(owner_id, errors)
    parsed_lines = _lines(lines, errors)
    if not errors:
        try:
            with session.begin_nested():
                deal = deals.create_deal(
                    session,
                    actor=actor,
                    customer=customer.strip(),
                    title=title,
                    value=value,
                    opened_on=today(),
                    stage=stage or None,
                    owner_id=owner,
                    currency=currency.strip().upper() or None,
                    expected_close_on=close,
                    lines=parsed_lines,
                    competitors=competitors,
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = field_error(exc, NEW_FIELDS)
        else:
            flash(request, _("Deal opened."))
            return redirect(f"/deals/{deal.id}")
    return _new_page(request, session, actor, form=form, errors=errors, status_code=422)


# ---------------------------------------------------------------- the stages


def _stages_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        actor,
        "keyaccounts/deal_stages.html",
        {
            "stages": deals.list_stages(session),
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/deals/stages", response_class=HTMLResponse)
def stage_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    return _stages_page(request, session, actor)


@router.post("/deals/stages", response_class=HTMLResponse)
def stage_save(
    request: Request,
    session: SessionDep,
    actor: ManageStages,
    code: Annotated[str, Form(max_length=32)] = "",
    name_en: Annotated[str, Form(max_length=80)] = "",
    name_zh: Annotated[str, Form(max_length=80)] = "",
    position: Annotated[str, Form(max_length=8)] = "",
    probability: Annotated[str, Form(max_length=4)] = "",
    kind: Annotated[str, Form(max_length=8)] = "open",
    active: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    form = {
        "code": code,
        "name_en": name_en,
        "name_zh": name_zh,
        "position": position,
        "probability": probability,
        "kind": kind,
        "active": active,
    }
    errors: Errors = {}
    values: dict[str, Any] = {
        "name_en": name_en.strip() or None,
        "name_zh": name_zh.strip() or None,
        "is_won": kind == "won",
        "is_lost": kind == "lost",
        "active": active == "1",
    }
    for name, text in (("position", position), ("probability", probability)):
        if text.strip():
            if not text.strip().isdigit():
                errors[name] = _("Not a number.")
            else:
                values[name] = int(text)
    if not errors:
        try:
            with session.begin_nested():
                stage, _created = deals.save_stage(session, actor=actor, code=code, values=values)
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = field_error(exc, tuple(form))
        else:
            flash(request, _("Stage %(code)s saved.", code=stage.code))
            return redirect("/deals/stages")
    return _stages_page(request, session, actor, form=form, errors=errors, status_code=422)


# ---------------------------------------------------------------- one deal


def _history(session: Session, deal: Deal) -> list[AuditEvent]:
    """The deal's audit events, and the contract it created, oldest first."""
    condition = and_(AuditEvent.subject_type == "deal", AuditEvent.subject_id == deal.id)
    if deal.contract_id is not None:
        condition = or_(
            condition,
            and_(AuditEvent.subject_type == "contract", AuditEvent.subject_id == deal.contract_id),
        )
    return list(
        session.scalars(
            select(AuditEvent).where(condition).order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def _edit_form(deal: Deal) -> dict[str, str]:
    return {
        "title": deal.title,
        "value": f"{deal.value:.2f}",
        "currency": deal.currency,
        "owner_id": str(deal.owner_id or ""),
        "expected_close_on": deal.expected_close_on.isoformat() if deal.expected_close_on else "",
        "lines": lines_text(list(deal.lines or [])),
        "competitors": ", ".join(deal.competitors or []),
    }


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    deal: Deal,
    *,
    forms: Mapping[str, Mapping[str, str]] | None = None,
    errors: Errors | None = None,
    failed: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    _d, account, stage = deals.deal_row(session, actor, deal)
    forms = forms or {}
    stages = deals.list_stages(session)
    names = deals.owner_names(session, [deal.owner_id])
    return _render(
        request,
        actor,
        "keyaccounts/deal_detail.html",
        {
            "deal": deal,
            "account": account,
            "stage": stage,
            "stages": stages,
            "stage_codes": {s.id: s.code for s in stages},
            "open_stages": [s for s in stages if s.active and deals.is_open(s)],
            "owner": names.get(deal.owner_id or 0),
            "owners": _owner_choices(session),
            "is_open": deals.is_open(stage),
            "weighted": deal.value * stage.probability / 100,
            "events": _history(session, deal),
            "edit_form": {**_edit_form(deal), **forms.get("edit", {})},
            "win_form": {
                "closed_on": today().isoformat(),
                "create_contract": "",
                "contract_number": "",
                "contract_end_on": "",
                "create_order": "",
                "order_number": "",
                **forms.get("win", {}),
            },
            "lose_form": {
                "closed_on": today().isoformat(),
                "lost_reason": "",
                **forms.get("lose", {}),
            },
            "errors": errors or {},
            "failed": failed,
        },
        status_code=status_code,
    )


def _refused(exc: FlywheelError) -> bool:
    """Whether the error is the request's own (no such deal, no right): raised as a page."""
    return http_status_for(exc) in (403, 404) and not exc.details.get("field")


@router.get("/deals/{deal_id}", response_class=HTMLResponse)
def deal_detail(
    request: Request, session: SessionDep, actor: CurrentActor, deal_id: Id
) -> Response:
    deal = deals.get_deal_for(session, deal_id, actor=actor)
    return _detail_page(request, session, actor, deal)


@router.post("/deals/{deal_id}", response_class=HTMLResponse)
def deal_edit(
    request: Request,
    session: SessionDep,
    actor: WorkDeals,
    deal_id: Id,
    title: Short = "",
    value: Annotated[str, Form(max_length=30)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    owner_id: Annotated[str, Form(max_length=20)] = "",
    expected_close_on: DayText = "",
    lines: Text = "",
    competitors: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    deal = deals.get_deal_for(session, deal_id, actor=actor)
    form = {
        "title": title,
        "value": value,
        "currency": currency,
        "owner_id": owner_id,
        "expected_close_on": expected_close_on,
        "lines": lines,
        "competitors": competitors,
    }
    errors: Errors = {}
    account = customers.get_customer(session, deal.customer_id)
    changes: dict[str, Any] = {
        "title": title,
        "value": value,
        "currency": currency.strip().upper() or deal.currency,
        # The empty choice reads "the account's owner": it is, not "nobody".
        "owner_id": _owner_id(owner_id, errors) or account.owner_id,
        "expected_close_on": form_day(expected_close_on, "expected_close_on", errors),
        "lines": _lines(lines, errors),
        "competitors": competitors,
    }
    if not value.strip():
        errors["value"] = _("Give the deal's value.")
    if not errors:
        try:
            with session.begin_nested():
                deals.edit_deal(session, actor=actor, deal_id=deal.id, changes=changes)
        except FlywheelError as exc:
            if _refused(exc):
                raise
            errors = field_error(exc, EDIT_FIELDS)
        else:
            flash(request, _("Deal saved."))
            return redirect(f"/deals/{deal.id}")
    session.refresh(deal)
    return _detail_page(
        request,
        session,
        actor,
        deal,
        forms={"edit": form},
        errors=errors,
        failed="edit",
        status_code=422,
    )


@router.post("/deals/{deal_id}/move", response_class=HTMLResponse)
def deal_move(
    request: Request,
    session: SessionDep,
    actor: WorkDeals,
    deal_id: Id,
    stage: Annotated[str, Form(max_length=32)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    deal = deals.get_deal_for(session, deal_id, actor=actor)
    back = safe_next(next, f"/deals/{deal.id}")
    try:
        with session.begin_nested():
            deals.move_deal(session, actor=actor, deal_id=deal.id, stage=stage)
    except FlywheelError as exc:
        if _refused(exc):
            raise
        session.refresh(deal)
        return _detail_page(
            request,
            session,
            actor,
            deal,
            errors={"stage": exc.message},
            failed="move",
            status_code=422,
        )
    flash(request, _("Deal moved."))
    return redirect(back)


@router.post("/deals/{deal_id}/win", response_class=HTMLResponse)
def deal_win(
    request: Request,
    session: SessionDep,
    actor: WorkDeals,
    deal_id: Id,
    closed_on: DayText = "",
    create_contract: Annotated[str, Form(max_length=2)] = "",
    contract_number: Annotated[str, Form(max_length=64)] = "",
    contract_end_on: DayText = "",
    create_order: Annotated[str, Form(max_length=2)] = "",
    order_number: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    deal = deals.get_deal_for(session, deal_id, actor=actor)
    form = {
        "closed_on": closed_on,
        "create_contract": create_contract,
        "contract_number": contract_number,
        "contract_end_on": contract_end_on,
        "create_order": create_order,
        "order_number": order_number,
    }
    errors: Errors = {}
    day = form_day(closed_on, "closed_on", errors) or today()
    if day > today():
        errors["closed_on"] = _("A deal cannot be closed in the future.")
    end = form_day(contract_end_on, "contract_end_on", errors)
    if not errors:
        try:
            with session.begin_nested():
                deals.win_deal(
                    session,
                    actor=actor,
                    deal_id=deal.id,
                    on=day,
                    contract=(
                        deals.ContractTerms(number=contract_number or None, end_on=end)
                        if create_contract == "1"
                        else None
                    ),
                    create_order=create_order == "1",
                    order_number=order_number or None,
                )
        except FlywheelError as exc:
            if _refused(exc):
                raise
            errors = field_error(exc, WIN_FIELDS)
        else:
            flash(request, _("Deal won."))
            return redirect(f"/deals/{deal.id}")
    session.refresh(deal)
    return _detail_page(
        request,
        session,
        actor,
        deal,
        forms={"win": form},
        errors=errors,
        failed="win",
        status_code=422,
    )


@router.post("/deals/{deal_id}/lose", response_class=HTMLResponse)
def deal_lose(
    request: Request,
    session: SessionDep,
    actor: WorkDeals,
    deal_id: Id,
    closed_on: DayText = "",
    lost_reason: Text = "",
) -> Response:
    deal = deals.get_deal_for(session, deal_id, actor=actor)
    form = {"closed_on": closed_on, "lost_reason": lost_reason}
    errors: Errors = {}
    day = form_day(closed_on, "closed_on", errors) or today()
    if day > today():
        errors["closed_on"] = _("A deal cannot be closed in the future.")
    if not lost_reason.strip():
        errors["lost_reason"] = _("Say why the deal was lost.")
    if not errors:
        try:
            with session.begin_nested():
                deals.lose_deal(session, actor=actor, deal_id=deal.id, on=day, reason=lost_reason)
        except FlywheelError as exc:
            if _refused(exc):
                raise
            errors = field_error(exc, ("closed_on", "lost_reason"))
        else:
            flash(request, _("Deal lost."))
            return redirect(f"/deals/{deal.id}")
    session.refresh(deal)
    return _detail_page(
        request,
        session,
        actor,
        deal,
        forms={"lose": form},
        errors=errors,
        failed="lose",
        status_code=422,
    )
