"""Statement and letter pages.

Staff (signed in, scoped to the accounts they may see): the statement preview of a customer,
its PDF, sending it, the PDF of a sent one, and the printable letter of a letter action.

Public (no sign-in): ``/statement/{token}``, where the customer reads the statement sent to him,
confirms the balance or disputes lines. The unguessable token in the link is the only key and
opens that one statement and nothing else; these routes take no session cookie, so they need no
CSRF token either (a forged request would have to know the token).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import documents, statements

# The activity panel registers first, so it heads the collections slot of the 360.
from flywheel.collections import views as _activity  # noqa: F401
from flywheel.customers import service as customers
from flywheel.errors import FlywheelError, NotFound, ValidationFailed, http_status_for
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.collections import CollectionAction, Statement
from flywheel.models.customers import Contact, Customer
from flywheel.web import panels, sessions
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id, today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, redirect, render, templates

router = APIRouter()

WorkCollections = Annotated[Actor, Depends(require(Permission.WORK_COLLECTIONS))]
CodeParam = Annotated[str, Path(max_length=64)]
TokenParam = Annotated[str, Path(max_length=128)]
AsOfParam = Annotated[date | None, Query()]
HISTORY = 10


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"},
    )


def _email_contacts(session: Session, customer: Customer) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .where(
                Contact.customer_id == customer.id,
                Contact.email.is_not(None),
                Contact.email != "",
            )
            .order_by(Contact.id)
        )
    )


# ---------------------------------------------------------------- staff


@router.get("/customers/{code}/statement.pdf", include_in_schema=False)
def statement_preview_pdf(
    session: SessionDep, actor: CurrentActor, code: CodeParam, as_of: AsOfParam = None
) -> Response:
    customer = customers.get_customer_by_code(session, code, actor=actor)
    data = statements.build_statement(session, customer=customer, as_of=as_of or today())
    return _pdf(documents.statement_pdf(data), f"statement-{customer.code}-{data.as_of}.pdf")


@router.get("/customers/{code}/statement", response_class=HTMLResponse, include_in_schema=False)
def statement_preview(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    code: CodeParam,
    as_of: AsOfParam = None,
) -> Response:
    """Today's statement of the customer as the contact would receive it."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    data = statements.build_statement(session, customer=customer, as_of=as_of or today())
    chosen = statements.pick_contact(session, customer, required=False)
    return render(
        request,
        "collections/statement_preview.html",
        {
            "customer": customer,
            "as_of": data.as_of,
            "contacts": _email_contacts(session, customer),
            "chosen": chosen,
            "history": statements.recent_statements(session, customer.id, HISTORY),
            "statement_status_labels": documents.STATUS_LABELS,
            "document": Markup(documents.statement_fragment(data)),
        },
        actor=actor,
    )


@router.post("/customers/{code}/statements", include_in_schema=False)
def statement_send(
    request: Request,
    session: SessionDep,
    actor: WorkCollections,
    code: CodeParam,
    contact_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Send the customer's statement as of today; back to the 360 with a note."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    chosen: int | None = None
    if contact_id.strip():
        if not contact_id.strip().isdigit():
            raise ValidationFailed("contact_id must be a number", field="contact_id")
        chosen = int(contact_id)
    try:
        statement, _token = statements.create_statement(
            session, actor=actor, customer=customer, as_of=today(), contact_id=chosen
        )
    except FlywheelError as exc:
        if http_status_for(exc) == 404:
            raise
        flash(request, exc.message, level="error")
        return redirect(f"/customers/{quote(customer.code)}/statement")
    contact = session.get(Contact, statement.contact_id) if statement.contact_id else None
    flash(
        request,
        _(
            "Statement sent to %(name)s <%(email)s>.",
            name=contact.name if contact else "",
            email=contact.email if contact else "",
        ),
    )
    return redirect(f"/customers/{quote(customer.code)}")


def _statement_for(session: Session, statement_id: int, actor: Actor) -> Statement:
    statement = session.get(Statement, statement_id)
    if statement is None:
        raise NotFound(f"statement {statement_id} not found", statement_id=statement_id)
    # Scoped: a statement of an account outside the actor's book is "not found" too.
    try:
        customers.get_customer_for(session, statement.customer_id, actor=actor)
    except NotFound:
        raise NotFound(f"statement {statement_id} not found", statement_id=statement_id) from None
    return statement


@router.get("/statements/{statement_id}.pdf", include_in_schema=False)
def statement_sent_pdf(session: SessionDep, actor: CurrentActor, statement_id: Id) -> Response:
    """A sent statement as the customer received it."""
    statement = _statement_for(session, statement_id, actor)
    data = statements.statement_data(session, statement)
    return _pdf(documents.statement_pdf(data), f"statement-{data.customer_code}-{data.as_of}.pdf")


def _letter_action(session: Session, action_id: int, actor: Actor) -> CollectionAction:
    action = session.get(CollectionAction, action_id)
    if action is None:
        raise NotFound(f"action {action_id} not found", action_id=action_id)
    try:
        customers.get_customer_for(session, action.customer_id, actor=actor)
    except NotFound:
        raise NotFound(f"action {action_id} not found", action_id=action_id) from None
    return action


@router.get(
    "/collections/actions/{action_id}/letter", response_class=HTMLResponse, include_in_schema=False
)
def letter_page(session: SessionDep, actor: CurrentActor, action_id: Id) -> Response:
    """The letter of a letter action, ready to print."""
    action = _letter_action(session, action_id, actor)
    return HTMLResponse(documents.letter_html(session, action))


@router.get("/collections/actions/{action_id}/letter.pdf", include_in_schema=False)
def letter_pdf(session: SessionDep, actor: CurrentActor, action_id: Id) -> Response:
    action = _letter_action(session, action_id, actor)
    return _pdf(
        documents.letter_pdf(session, action), f"letter-{documents.letter_reference(action)}.pdf"
    )


# ---------------------------------------------------------------- the 360 panel


def _panel(
    session: Session, _actor: Actor, customer: Customer, _as_of: date
) -> Mapping[str, Any] | None:
    return {
        "code": customer.code,
        "history": statements.recent_statements(session, customer.id, 5),
        "status_labels": documents.STATUS_LABELS,
    }


panels.register(
    "collections",
    panels.Panel(
        name="collections.statements",
        label=N_("Statements"),
        template="collections/statement_panel.html",
        loader=_panel,
    ),
)


# ---------------------------------------------------------------- public: the customer's answer

_NOTICES = {
    "confirmed": N_("Thank you! You confirmed the balance; we have recorded it."),
    "disputed": N_("Thank you! We have received the lines you dispute and will come back to you."),
}


def _public_language(request: Request, statement: Statement) -> str:
    """The language the customer chose with the switcher, else the statement's."""
    chosen = request.session.get("lang") if sessions.has_session(request) else None
    return i18n.normalize(chosen) or i18n.normalize(statement.language) or i18n.DEFAULT_LANGUAGE


def _render_public(
    request: Request,
    session: Session,
    token: str,
    statement: Statement,
    *,
    notice: str | None = None,
    notice_level: str = "success",
    status_code: int = 200,
) -> Response:
    data = statements.statement_data(session, statement)
    language = _public_language(request, statement)
    with i18n.use_language(language) as lang:
        values: dict[str, Any] = {
            "request": request,
            "actor": None,
            "nav": [],
            "active_nav": None,
            "lang": lang,
            "html_lang": "zh-CN" if lang == "zh" else "en",
            "csrf_token": sessions.csrf_token(request) if sessions.has_session(request) else "",
            "flashes": [],
            "can": lambda _p: False,
            "query": lambda **_k: "?",
            "htmx": False,
            "token": token,
            "answerable": not data.answered,
            "reasons": list(documents.REASON_LABELS.items()),
            "status_labels": documents.STATUS_LABELS,
            "notice": i18n.gettext(notice) if notice else None,
            "notice_level": notice_level,
            **documents.statement_context(data),
        }
        body = templates.get_template("collections/statement_public.html").render(values)
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/statement/{token}.pdf", include_in_schema=False)
def public_statement_pdf(session: SessionDep, token: TokenParam) -> Response:
    statement = statements.find_by_token(session, token)
    data = statements.statement_data(session, statement)
    response = _pdf(documents.statement_pdf(data), f"statement-{data.as_of}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/statement/{token}", response_class=HTMLResponse, include_in_schema=False)
def public_statement(
    request: Request,
    session: SessionDep,
    token: TokenParam,
    answer: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    """The statement behind the link, with the confirm and dispute forms until answered."""
    statement = statements.find_by_token(session, token)
    return _render_public(request, session, token, statement, notice=_NOTICES.get(answer))


def _answer_error(
    request: Request, session: Session, token: str, statement: Statement, exc: FlywheelError
) -> Response:
    """The statement again with what was wrong; the savepoint undid whatever the answer wrote."""
    session.refresh(statement)
    return _render_public(
        request,
        session,
        token,
        statement,
        notice=exc.message,
        notice_level="error",
        status_code=http_status_for(exc),
    )


@router.post("/statement/{token}/confirm", include_in_schema=False)
def public_confirm(
    request: Request,
    session: SessionDep,
    token: TokenParam,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    statement = statements.find_by_token(session, token)
    try:
        with session.begin_nested():
            statements.answer(session, token, confirm=True, note=note, as_of=today())
    except FlywheelError as exc:
        return _answer_error(request, session, token, statement, exc)
    return redirect(f"/statement/{token}?answer=confirmed")


async def _dispute_form(request: Request) -> dict[str, str]:
    form = await request.form()
    picked = [str(v) for v in form.getlist("dispute")]
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    values["dispute"] = ",".join(picked)
    return values


DisputeForm = Annotated[dict[str, str], Depends(_dispute_form)]


def _reason(value: str) -> str:
    if not value.strip():
        raise ValidationFailed(
            i18n.gettext("Choose a reason for each line you dispute."), field="reason"
        )
    return value.strip()


def _disputed_lines(form: Mapping[str, str]) -> list[statements.DisputedLine]:
    lines: list[statements.DisputedLine] = []
    for raw in filter(None, form.get("dispute", "").split(",")):
        if not raw.isdigit():
            raise ValidationFailed("a disputed line is not valid", field="dispute")
        amount_text = form.get(f"amount_{raw}", "").strip().replace(",", "").replace("，", "")
        amount: Decimal | None = None
        if amount_text:
            try:
                amount = Decimal(amount_text)
            except InvalidOperation:
                raise ValidationFailed(
                    i18n.gettext("The disputed amount must be a number."), field="amount"
                ) from None
            if not amount.is_finite():
                raise ValidationFailed(
                    i18n.gettext("The disputed amount must be a number."), field="amount"
                )
        lines.append(
            statements.DisputedLine(
                installment_id=int(raw),
                reason=_reason(form.get(f"reason_{raw}", "")),
                amount=amount,
                note=form.get(f"note_{raw}", "")[:500] or None,
            )
        )
    return lines


@router.post("/statement/{token}/dispute", include_in_schema=False)
def public_dispute(
    request: Request, session: SessionDep, token: TokenParam, form: DisputeForm
) -> Response:
    statement = statements.find_by_token(session, token)
    try:
        with i18n.use_language(_public_language(request, statement)):
            lines = _disputed_lines(form)
        # All lines or none: a line that fails undoes the disputes opened before it.
        with session.begin_nested():
            statements.answer(
                session,
                token,
                confirm=False,
                disputed_lines=lines,
                note=form.get("note", "")[:2000],
                as_of=today(),
            )
    except FlywheelError as exc:
        return _answer_error(request, session, token, statement, exc)
    return redirect(f"/statement/{token}?answer=disputed")
