"""The collections pages about disputes: the list, one dispute with its resolution and owner,
and opening one on an installment from the customer 360."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import disputes, forms, labels
from flywheel.collections.page_kit import (
    MAX_PAGE,
    PAGE_SIZE,
    Short,
    Text,
    WorkCollections,
    open_lines,
    refuse_hard,
    render_page,
    user_names,
)
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, NotFound, http_status_for
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.collections import Dispute
from flywheel.models.customers import Customer
from flywheel.models.enums import DisputeReason, DisputeResolution, DisputeStatus, Role
from flywheel.models.receivables import Installment, Invoice
from flywheel.models.users import User
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, selected, word
from flywheel.web.pages import flash, redirect

router = APIRouter(include_in_schema=False)

ResolveDisputes = Annotated[Actor, Depends(require(Permission.RESOLVE_DISPUTES))]


# ---------------------------------------------------------------- disputes


@dataclass(frozen=True, slots=True)
class DisputeFilter:
    status: DisputeStatus | None
    reason: DisputeReason | None


def dispute_filter(
    status: Annotated[str, Query(max_length=16)] = "open",
    reason: Annotated[str, Query(max_length=24)] = "",
) -> DisputeFilter:
    """The list's filters; "all" (or anything else) lists every status or reason."""
    return DisputeFilter(
        status=DisputeStatus(status) if status in {s.value for s in DisputeStatus} else None,
        reason=DisputeReason(reason) if reason in {r.value for r in DisputeReason} else None,
    )


DisputeFilterParam = Annotated[DisputeFilter, Depends(dispute_filter)]


@router.get("/collections/disputes", response_class=HTMLResponse)
def dispute_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    flt: DisputeFilterParam,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    chosen, why = flt.status, flt.reason
    rows = session.execute(
        disputes.disputes_query(actor, status=chosen, reason=why)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    owners = user_names(session, {d.owner_id for d, _c in rows if d.owner_id})
    return render_page(
        request,
        actor,
        "collections/disputes.html",
        {
            "rows": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "status": chosen.value if chosen else "",
            "reason": why.value if why else "",
            "statuses": list(DisputeStatus),
            "reasons": list(DisputeReason),
            "owners": owners,
            "as_of": today(),
        },
    )


@router.get("/collections/disputes/export.{format}")
def dispute_export(
    session: SessionDep, actor: CurrentActor, flt: DisputeFilterParam, format: ExportFormat
) -> Response:
    """The filtered disputes, every page, oldest SLA first."""
    rows = list(
        selected(session, disputes.disputes_query(actor, status=flt.status, reason=flt.reason))
    )
    owners = user_names(session, {d.owner_id for d, _c in rows if d.owner_id})
    return download(
        (
            N_("Dispute"),
            N_("Customer code"),
            N_("Customer"),
            N_("Reason"),
            N_("Currency"),
            N_("Disputed amount"),
            N_("Opened"),
            N_("SLA"),
            N_("Owner"),
            N_("Status"),
            N_("Resolution"),
            N_("Description"),
        ),
        (
            [
                d.id,
                customer.code,
                customer.name,
                word(labels.REASON_LABELS, d.reason),
                d.currency,
                d.amount,
                d.opened_on,
                d.sla_due_on,
                owners.get(d.owner_id) if d.owner_id else None,
                word(labels.DISPUTE_STATUS_LABELS, d.status),
                word(labels.RESOLUTION_LABELS, d.resolution),
                d.description,
            ]
            for d, customer in rows
        ),
        stem="disputes",
        format=format,
        title=N_("Disputes"),
    )


def _staff(session: Session) -> list[tuple[int, str]]:
    """Who may own a dispute: active users of the roles that resolve them or work collections."""
    roles = [r.value for r in Role if r is not Role.VIEWER]
    rows = session.execute(
        select(User.id, User.display_name, User.username)
        .where(User.is_active.is_(True), User.role.in_(roles))
        .order_by(User.username)
    ).all()
    return [(i, f"{d or u} ({u})") for i, d, u in rows]


def _dispute_page(
    request: Request,
    session: Session,
    actor: Actor,
    dispute: Dispute,
    *,
    form: Mapping[str, str] | None = None,
    errors: forms.Errors | None = None,
    status_code: int = 200,
) -> Response:
    customer = customers.get_customer_for(session, dispute.customer_id, actor=actor)
    invoice = session.get(Invoice, dispute.invoice_id)
    installment = (
        session.get(Installment, dispute.installment_id) if dispute.installment_id else None
    )
    return render_page(
        request,
        actor,
        "collections/dispute.html",
        {
            "dispute": dispute,
            "customer": customer,
            "invoice": invoice,
            "installment": installment,
            "owners": user_names(
                session, {i for i in (dispute.owner_id, dispute.created_by_id) if i}
            ),
            "staff": _staff(session),
            "resolutions": list(DisputeResolution),
            "form": {"resolution": "", "amount": "", "note": "", **(form or {})},
            "errors": errors or {},
            "as_of": today(),
        },
        status_code=status_code,
    )


@router.get("/collections/disputes/{dispute_id}", response_class=HTMLResponse)
def dispute_detail(
    request: Request, session: SessionDep, actor: CurrentActor, dispute_id: Id
) -> Response:
    dispute = disputes.get_dispute_for(session, dispute_id, actor=actor)
    return _dispute_page(request, session, actor, dispute)


@router.post("/collections/disputes/{dispute_id}/resolve", response_class=HTMLResponse)
def dispute_resolve(
    request: Request,
    session: SessionDep,
    actor: ResolveDisputes,
    dispute_id: Id,
    resolution: Short = "",
    amount: Short = "",
    note: Text = "",
) -> Response:
    """Close the dispute: a credit note, an adjustment or a rejection."""
    dispute = disputes.get_dispute_for(session, dispute_id, actor=actor)
    errors: forms.Errors = {}
    if resolution not in {r.value for r in DisputeResolution}:
        errors["resolution"] = _("Choose how the dispute is resolved.")
    credit = forms.amount(amount, "amount", errors, required=False)
    if not errors:
        try:
            with session.begin_nested():
                disputes.resolve_dispute(
                    session,
                    actor=actor,
                    dispute_id=dispute.id,
                    resolution=resolution,
                    as_of=today(),
                    note=note,
                    credit_amount=credit,
                )
        except FlywheelError as exc:
            refuse_hard(exc)
            errors = forms.service_error(
                exc, {"resolution": "resolution", "note": "note", "amount": "amount"}
            )
        else:
            flash(
                request,
                _(
                    "Dispute resolved: %(how)s.",
                    how=labels.label(labels.RESOLUTION_LABELS, resolution),
                ),
            )
            return redirect(f"/collections/disputes/{dispute.id}")
    form = {"resolution": resolution, "amount": amount, "note": note}
    return _dispute_page(
        request, session, actor, dispute, form=form, errors=errors, status_code=422
    )


@router.post("/collections/disputes/{dispute_id}/reassign")
def dispute_reassign(
    request: Request,
    session: SessionDep,
    actor: ResolveDisputes,
    dispute_id: Id,
    owner_id: Short = "",
) -> Response:
    errors: forms.Errors = {}
    owner = forms.ident(owner_id, "owner_id", errors)
    if owner is not None and owner not in {i for i, _n in _staff(session)}:
        errors["owner_id"] = _("Choose one of the options.")
    if errors:
        flash(request, errors["owner_id"], level="error")
    else:
        with session.begin_nested():
            disputes.reassign(session, actor=actor, dispute_id=dispute_id, owner_id=owner)
        flash(request, _("Dispute reassigned."))
    return redirect(f"/collections/disputes/{dispute_id}")


@router.get("/customers/{code}/disputes/new", response_class=HTMLResponse)
def dispute_form(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    code: str,
    installment: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    form = {"installment_id": installment.strip()}
    return _new_dispute_page(request, session, actor, customer, form, {})


def _new_dispute_page(
    request: Request,
    session: Session,
    actor: Actor,
    customer: Customer,
    form: Mapping[str, str],
    errors: forms.Errors,
    *,
    status_code: int = 200,
) -> Response:
    day = today()
    return render_page(
        request,
        actor,
        "collections/dispute_new.html",
        {
            "customer": customer,
            "form": {"installment_id": "", "reason": "", "amount": "", "description": "", **form},
            "errors": errors,
            "lines": open_lines(session, customer, day),
            "reasons": list(DisputeReason),
            "as_of": day,
        },
        status_code=status_code,
    )


@router.post("/customers/{code}/disputes", response_class=HTMLResponse)
def dispute_open(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    code: str,
    installment_id: Short = "",
    reason: Short = "",
    amount: Short = "",
    description: Text = "",
) -> Response:
    """Open a dispute on one installment: reason, the disputed part (empty: all of it)."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    errors: forms.Errors = {}
    line = forms.ident(installment_id, "installment_id", errors, required=True)
    if reason not in {r.value for r in DisputeReason}:
        errors["reason"] = _("Choose the reason of the dispute.")
    value = forms.amount(amount, "amount", errors, required=False)
    if not errors and line is not None:
        try:
            with session.begin_nested():
                dispute = disputes.open_dispute(
                    session,
                    actor=actor,
                    customer=customer,
                    installment_id=line,
                    reason=reason,
                    as_of=today(),
                    amount=value,
                    description=description,
                )
        except FlywheelError as exc:
            if http_status_for(exc) == 403:
                raise
            errors = forms.service_error(
                exc, {"amount": "amount", "reason": "reason", "installment_id": "installment_id"}
            )
            if isinstance(exc, NotFound):
                errors = {"installment_id": exc.message}
        else:
            flash(
                request,
                _(
                    "Dispute opened for %(amount)s; that part leaves dunning until it is resolved.",
                    amount=i18n.money(dispute.amount, dispute.currency),
                ),
            )
            return redirect(f"/collections/disputes/{dispute.id}")
    form = {
        "installment_id": installment_id,
        "reason": reason,
        "amount": amount,
        "description": description,
    }
    return _new_dispute_page(request, session, actor, customer, form, errors, status_code=422)
