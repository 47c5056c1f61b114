"""The referrals pages: the list with the KPIs on top, the new-referral form (from the list, or
from an account's 360 with the referrer preset), one referral with its status and reward forms
and the timeline of its audit events, and the reward rules editor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.loyalty import referral_kpis, referral_labels, referral_rewards, referrals
from flywheel.loyalty.referral_api import filters_for
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import ReferralStatus, RewardKind
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import CreditNote
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, selected, word
from flywheel.web.forms import Errors, field_error, form_day
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

WorkReferrals = Annotated[Actor, Depends(require(Permission.WORK_REFERRALS))]
GrantRewards = Annotated[Actor, Depends(require(Permission.GRANT_REFERRAL_REWARDS))]
ManageRules = Annotated[Actor, Depends(require(Permission.MANAGE_LOYALTY_RULES))]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=4000)]

PAGE_SIZE = 50
MAX_PAGE = 100_000
PERIODS = (30, 90, 365)
STATUS_CHOICES = ("open", "all", "lead", "contacted", "qualified", "won", "lost")
NEW_FIELDS = (
    "customer",
    "referrer_contact_id",
    "referred_customer",
    "lead_company",
    "lead_contact",
    "lead_email",
    "lead_phone",
    "referred_on",
    "notes",
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
        "status_labels": referral_labels.STATUS_LABELS,
        "reward_labels": referral_labels.REWARD_STATUS_LABELS,
        "kind_labels": referral_labels.KIND_LABELS,
        "source_labels": referral_labels.SOURCE_LABELS,
        "action_labels": referral_labels.ACTION_LABELS,
        "field_labels": referral_labels.FIELD_LABELS,
    }
    return render(request, template, {**labels, **context}, actor=actor, status_code=status_code)


# ---------------------------------------------------------------- the list


@router.get("/loyalty/referrals", response_class=HTMLResponse)
def referral_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[str, Query(max_length=16)] = "open",
    q: Annotated[str, Query(max_length=100)] = "",
    days: Annotated[int, Query(ge=1, le=3660)] = 90,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    chosen = status if status in STATUS_CHOICES else "open"
    rows, total = referrals.list_referrals(
        session,
        actor,
        filters_for(chosen, search=q.strip() or None),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    end = today()
    figures = referral_kpis.kpis(session, actor, start=end - timedelta(days=days - 1), end=end)
    return _render(
        request,
        actor,
        "loyalty/referral_list.html",
        {
            "rows": [(r, c, d, referrals.lead_name(r, d)) for r, c, d in rows],
            "total": total,
            "more": page * PAGE_SIZE < total,
            "page": page,
            "shown": {"status": chosen, "q": q, "days": days},
            "statuses": STATUS_CHOICES,
            "periods": PERIODS,
            "kpis": figures,
        },
    )


@router.get("/loyalty/referrals/export.{format}")
def referral_export(
    session: SessionDep,
    actor: CurrentActor,
    format: ExportFormat,
    status: Annotated[str, Query(max_length=16)] = "open",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The filtered referrals, every page, in the list's order."""
    chosen = status if status in STATUS_CHOICES else "open"
    query = referrals.referrals_query(actor, filters_for(chosen, search=q.strip() or None))
    return download(
        (
            N_("Referral"),
            N_("Referred on"),
            N_("Referrer code"),
            N_("Referrer"),
            N_("Referred account"),
            N_("Lead"),
            N_("Lead contact"),
            N_("Status"),
            N_("Won on"),
            N_("Source"),
            N_("Reward"),
            N_("Reward currency"),
            N_("Reward amount"),
            N_("Reward granted on"),
        ),
        (
            [
                referral.id,
                referral.referred_on,
                referrer.code,
                referrer.name,
                referred.code if referred else None,
                referrals.lead_name(referral, referred),
                referral.lead_contact,
                word(referral_labels.STATUS_LABELS, referral.status),
                referral.won_on,
                word(referral_labels.SOURCE_LABELS, referral.source),
                word(referral_labels.REWARD_STATUS_LABELS, referral.reward_status),
                referral.reward_currency,
                referral.reward_amount,
                referral.reward_granted_on,
            ]
            for referral, referrer, referred in selected(session, query)
        ),
        stem="referrals",
        format=format,
        title=N_("Referrals"),
    )


# ---------------------------------------------------------------- a new referral


def _referrer_from(session: Session, actor: Actor, value: str) -> Customer | None:
    """``?customer=`` names the referrer by id (from the 360) or by code."""
    value = value.strip()
    if not value:
        return None
    try:
        if value.isdigit():
            return customers.get_customer_for(session, int(value), actor=actor)
        return customers.get_customer_by_code(session, value, actor=actor)
    except NotFound:
        return None


def _contacts_of(session: Session, customer: Customer | None) -> list[tuple[int, str]]:
    if customer is None:
        return []
    rows = session.execute(
        select(Contact.id, Contact.name, Contact.title)
        .where(Contact.customer_id == customer.id)
        .order_by(Contact.name, Contact.id)
    ).all()
    return [(int(i), f"{n} ({t})" if t else str(n)) for i, n, t in rows]


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: Mapping[str, str],
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    referrer = _referrer_from(session, actor, form.get("customer", ""))
    return _render(
        request,
        actor,
        "loyalty/referral_form.html",
        {
            "form": dict.fromkeys(NEW_FIELDS, "") | dict(form),
            "referrer": referrer,
            "contacts": _contacts_of(session, referrer),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/loyalty/referrals/new", response_class=HTMLResponse)
def referral_new(
    request: Request,
    session: SessionDep,
    actor: WorkReferrals,
    customer: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    referrer = _referrer_from(session, actor, customer)
    form = {
        "customer": referrer.code if referrer else "",
        "referred_on": today().isoformat(),
    }
    return _new_page(request, session, actor, form=form)


@router.post("/loyalty/referrals", response_class=HTMLResponse)
def referral_create(
    request: Request,
    session: SessionDep,
    actor: WorkReferrals,
    customer: Annotated[str, Form(max_length=64)] = "",
    referrer_contact_id: Annotated[str, Form(max_length=20)] = "",
    referred_customer: Annotated[str, Form(max_length=64)] = "",
    lead_company: Short = "",
    lead_contact: Short = "",
    lead_email: Annotated[str, Form(max_length=254)] = "",
    lead_phone: Annotated[str, Form(max_length=40)] = "",
    referred_on: Annotated[str, Form(max_length=20)] = "",
    notes: Text = "",
) -> Response:
    form = {
        "customer": customer,
        "referrer_contact_id": referrer_contact_id,
        "referred_customer": referred_customer,
        "lead_company": lead_company,
        "lead_contact": lead_contact,
        "lead_email": lead_email,
        "lead_phone": lead_phone,
        "referred_on": referred_on,
        "notes": notes,
    }
    errors: Errors = {}
    if not customer.strip():
        errors["customer"] = _("Name the account that made the referral.")
    day = form_day(referred_on, "referred_on", errors, default=today())
    if day > today():
        errors["referred_on"] = _("The referral cannot be dated in the future.")
    contact_id: int | None = None
    if referrer_contact_id.strip():
        if not referrer_contact_id.strip().isdigit():
            errors["referrer_contact_id"] = _("Choose one of the options.")
        else:
            contact_id = int(referrer_contact_id)
    if not errors:
        try:
            with session.begin_nested():
                referral = referrals.record_referral(
                    session,
                    actor=actor,
                    customer=customer.strip(),
                    referrer_contact_id=contact_id,
                    referred_customer=referred_customer.strip() or None,
                    lead_company=lead_company,
                    lead_contact=lead_contact,
                    lead_email=lead_email,
                    lead_phone=lead_phone,
                    referred_on=day,
                    notes=notes,
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = field_error(exc, NEW_FIELDS)
        else:
            flash(request, _("Referral recorded."))
            return redirect(f"/loyalty/referrals/{referral.id}")
    return _new_page(request, session, actor, form=form, errors=errors, status_code=422)


# ---------------------------------------------------------------- reward rules


def _rule_form(rule: Any | None = None) -> dict[str, str]:
    if rule is None:
        return {
            "name": "",
            "kind": RewardKind.CREDIT_NOTE.value,
            "amount": "",
            "percent": "",
            "currency": "CNY",
            "min_first_order": "",
            "active": "1",
        }
    return {
        "name": rule.name,
        "kind": rule.kind,
        "amount": f"{rule.amount:.2f}" if rule.amount is not None else "",
        "percent": f"{rule.percent:.2f}" if rule.percent is not None else "",
        "currency": rule.currency,
        "min_first_order": f"{rule.min_first_order:.2f}" if rule.min_first_order else "",
        "active": "1" if rule.active else "",
    }


RULE_FIELDS = ("name", "kind", "amount", "percent", "currency", "min_first_order", "active")


def _rules_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: Mapping[str, str] | None = None,
    editing: int | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rules = referral_rewards.list_rules(session)
    forms = {r.id: _rule_form(r) for r in rules}
    new_form = _rule_form()
    if form is not None and editing is not None:
        forms[editing] = dict(form)
    elif form is not None:
        new_form = dict(form)
    return _render(
        request,
        actor,
        "loyalty/referral_rules.html",
        {
            "rules": rules,
            "forms": forms,
            "new_form": new_form,
            "editing": editing,
            "errors": errors or {},
            "kinds": list(RewardKind),
        },
        status_code=status_code,
    )


def _rule_values(form: Mapping[str, str], errors: Errors) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": form["name"],
        "kind": form["kind"],
        "currency": form["currency"] or "CNY",
        "active": form["active"] == "1",
    }
    for name in ("amount", "percent", "min_first_order"):
        text = form[name].strip().replace(",", "")
        if not text:
            values[name] = None
            continue
        try:
            number = Decimal(text)
        except InvalidOperation:
            errors[name] = _("Not a number.")
            continue
        if not number.is_finite() or abs(number) >= Decimal("1e16"):
            errors[name] = _("Not a number.")
            continue
        values[name] = number
    if form["kind"] == RewardKind.CREDIT_NOTE:
        values["percent"] = None
    elif form["kind"] == RewardKind.DISCOUNT:
        values["amount"] = None
    return values


def _posted_rule(
    name: str, kind: str, amount: str, percent: str, currency: str, minimum: str, active: str
) -> dict[str, str]:
    return {
        "name": name,
        "kind": kind,
        "amount": amount,
        "percent": percent,
        "currency": currency.strip().upper(),
        "min_first_order": minimum,
        "active": "1" if active == "1" else "",
    }


@router.get("/loyalty/referrals/rules", response_class=HTMLResponse)
def rule_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    return _rules_page(request, session, actor)


@router.post("/loyalty/referrals/rules", response_class=HTMLResponse)
def rule_create(
    request: Request,
    session: SessionDep,
    actor: ManageRules,
    name: Annotated[str, Form(max_length=120)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    amount: Annotated[str, Form(max_length=30)] = "",
    percent: Annotated[str, Form(max_length=30)] = "",
    currency: Annotated[str, Form(max_length=3)] = "CNY",
    min_first_order: Annotated[str, Form(max_length=30)] = "",
    active: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    form = _posted_rule(name, kind, amount, percent, currency, min_first_order, active)
    errors: Errors = {}
    values = _rule_values(form, errors)
    if not errors:
        try:
            with session.begin_nested():
                rule = referral_rewards.create_rule(session, actor=actor, values=values)
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = field_error(exc, RULE_FIELDS)
        else:
            flash(request, _("Reward rule %(name)s added.", name=rule.name))
            return redirect("/loyalty/referrals/rules")
    return _rules_page(request, session, actor, form=form, errors=errors, status_code=422)


@router.post("/loyalty/referrals/rules/{rule_id}", response_class=HTMLResponse)
def rule_change(
    request: Request,
    session: SessionDep,
    actor: ManageRules,
    rule_id: Id,
    name: Annotated[str, Form(max_length=120)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    amount: Annotated[str, Form(max_length=30)] = "",
    percent: Annotated[str, Form(max_length=30)] = "",
    currency: Annotated[str, Form(max_length=3)] = "CNY",
    min_first_order: Annotated[str, Form(max_length=30)] = "",
    active: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    rule = referral_rewards.get_rule(session, rule_id)
    form = _posted_rule(name, kind, amount, percent, currency, min_first_order, active)
    errors: Errors = {}
    values = _rule_values(form, errors)
    if not errors:
        try:
            with session.begin_nested():
                referral_rewards.update_rule(session, actor=actor, rule_id=rule.id, changes=values)
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404):
                raise
            errors = field_error(exc, RULE_FIELDS)
        else:
            flash(request, _("Reward rule %(name)s saved.", name=rule.name))
            return redirect("/loyalty/referrals/rules")
    return _rules_page(
        request, session, actor, form=form, editing=rule.id, errors=errors, status_code=422
    )


# ---------------------------------------------------------------- one referral


def _timeline(session: Session, referral: Referral) -> list[AuditEvent]:
    """The referral's audit events, and the credit note its reward issued, oldest first."""
    mine = and_(AuditEvent.subject_type == "referral", AuditEvent.subject_id == referral.id)
    condition = mine
    if referral.reward_credit_note_id is not None:
        condition = or_(
            mine,
            and_(
                AuditEvent.subject_type == "credit_note",
                AuditEvent.subject_id == referral.reward_credit_note_id,
            ),
        )
    return list(
        session.scalars(
            select(AuditEvent).where(condition).order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    referral: Referral,
    *,
    status_form: Mapping[str, str] | None = None,
    reward_form: Mapping[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _r, referrer, referred = referrals.referral_row(session, actor, referral)
    contact = session.get(Contact, referral.referrer_contact_id or 0)
    note = session.get(CreditNote, referral.reward_credit_note_id or 0)
    rule = session.get(ReferralRewardRule, referral.reward_rule_id or 0)
    revenue = (
        referral_kpis.revenue_attributed(
            session,
            actor,
            end=today(),
            attribution_days=get_settings().referral_attribution_days,
            referral_id=referral.id,
        )
        if referral.won_on
        else {}
    )
    allowed = [
        s.value
        for s in ReferralStatus
        if s in referrals.TRANSITIONS[ReferralStatus(referral.status)]
    ]
    waiting = referral.reward_status == "none" and referral.reward_rule_id is not None
    return _render(
        request,
        actor,
        "loyalty/referral_detail.html",
        {
            "referral": referral,
            "referrer": referrer,
            "referred": referred,
            "lead": referrals.lead_name(referral, referred),
            "contact": contact,
            "note": note,
            "rule": rule,
            "revenue": revenue,
            "attribution_days": get_settings().referral_attribution_days,
            "allowed": allowed,
            "decidable": referral.reward_status == "pending" or waiting,
            "waiting": waiting,
            "events": _timeline(session, referral),
            "status_form": {
                "status": "",
                "won_on": today().isoformat(),
                "referred_customer": referred.code if referred else "",
                "lost_reason": "",
                **(status_form or {}),
            },
            "reward_form": {"decision": "", "invoice": "", "reason": "", **(reward_form or {})},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/loyalty/referrals/{referral_id}", response_class=HTMLResponse)
def referral_detail(
    request: Request, session: SessionDep, actor: CurrentActor, referral_id: Id
) -> Response:
    referral = referrals.get_referral_for(session, referral_id, actor=actor)
    return _detail_page(request, session, actor, referral)


@router.post("/loyalty/referrals/{referral_id}/status", response_class=HTMLResponse)
def referral_status(
    request: Request,
    session: SessionDep,
    actor: WorkReferrals,
    referral_id: Id,
    status: Annotated[str, Form(max_length=16)] = "",
    won_on: Annotated[str, Form(max_length=20)] = "",
    referred_customer: Annotated[str, Form(max_length=64)] = "",
    lost_reason: Text = "",
) -> Response:
    referral = referrals.get_referral_for(session, referral_id, actor=actor)
    form = {
        "status": status,
        "won_on": won_on,
        "referred_customer": referred_customer,
        "lost_reason": lost_reason,
    }
    errors: Errors = {}
    if status not in {s.value for s in ReferralStatus}:
        errors["status"] = _("Choose the new status.")
    day = form_day(won_on, "won_on", errors, default=today())
    if status == ReferralStatus.WON and day > today():
        errors["won_on"] = _("A referral cannot be won in the future.")
    if (
        status == ReferralStatus.WON
        and not referred_customer.strip()
        and referral.referred_customer_id is None
    ):
        errors["referred_customer"] = _("Name the account the lead became.")
    if not errors:
        try:
            with session.begin_nested():
                referrals.change_status(
                    session,
                    actor=actor,
                    referral_id=referral.id,
                    status=status,
                    on=day,
                    referred_customer=referred_customer.strip() or None,
                    lost_reason=lost_reason,
                )
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404) and not exc.details.get("field"):
                raise
            errors = field_error(exc, ("status", "won_on", "referred_customer", "lost_reason"))
        else:
            flash(request, _("Status changed."))
            return redirect(f"/loyalty/referrals/{referral.id}")
    session.refresh(referral)
    return _detail_page(
        request, session, actor, referral, status_form=form, errors=errors, status_code=422
    )


@router.post("/loyalty/referrals/{referral_id}/reward", response_class=HTMLResponse)
def referral_reward(
    request: Request,
    session: SessionDep,
    actor: GrantRewards,
    referral_id: Id,
    decision: Annotated[str, Form(max_length=10)] = "",
    invoice: Annotated[str, Form(max_length=64)] = "",
    reason: Text = "",
) -> Response:
    referral = referrals.get_referral_for(session, referral_id, actor=actor)
    form = {"decision": decision, "invoice": invoice, "reason": reason}
    errors: Errors = {}
    if decision not in ("grant", "decline"):
        errors["decision"] = _("Choose to grant or to decline the reward.")
    elif decision == "decline" and not reason.strip():
        errors["reason"] = _("Say why the reward is declined.")
    if not errors:
        try:
            with session.begin_nested():
                if decision == "grant":
                    referral_rewards.grant_reward(
                        session,
                        actor=actor,
                        referral_id=referral.id,
                        on=today(),
                        invoice=invoice.strip() or None,
                    )
                else:
                    referral_rewards.decline_reward(
                        session, actor=actor, referral_id=referral.id, reason=reason
                    )
        except FlywheelError as exc:
            if http_status_for(exc) in (403, 404) and not exc.details.get("field"):
                raise
            errors = field_error(exc, ("decision", "invoice", "reason"))
        else:
            flash(request, _("Reward granted.") if decision == "grant" else _("Reward declined."))
            return redirect(f"/loyalty/referrals/{referral.id}")
    session.refresh(referral)
    return _detail_page(
        request, session, actor, referral, reward_form=form, errors=errors, status_code=422
    )
