"""Customer statements (对账单): the open items of a customer as of a day with their aging, sent
by e-mail with a token link where the customer confirms the balance or disputes lines.

A sent statement keeps its lines as they were (``Statement.lines``), so the customer's answer
refers to what he saw. The token is shown once (in the e-mail link); only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.analytics.ar_kpis import AgingBuckets
from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import outbox
from flywheel.collections import templates as message_templates
from flywheel.config import Settings, get_settings
from flywheel.errors import Conflict, InvalidAmount, NotFound, ValidationFailed
from flywheel.models.base import utcnow
from flywheel.models.collections import CollectionAction, CollectionActionItem, Statement
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import (
    ActionKind,
    ActionStatus,
    BuyingRole,
    CollectionChannel,
    DisputeReason,
    StatementStatus,
)
from flywheel.models.receivables import Installment, Invoice, still_open
from flywheel.models.users import User

ZERO = Decimal("0.00")
# Current, 1–30, 31–60, 61–90 and over 90 days past due.
BUCKETS = AgingBuckets((30, 60, 90))
STATEMENT_ACTOR = Actor.system("statement")
# Customers handled per batch by the monthly run (one read of lines and contacts per batch).
SCHEDULE_BATCH = 500


@dataclass(frozen=True, slots=True)
class StatementLine:
    installment_id: int
    invoice: str
    sequence: int
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal
    days_overdue: int  # negative: days before due

    def to_json(self) -> dict[str, Any]:
        return {
            "installment_id": self.installment_id,
            "invoice": self.invoice,
            "sequence": self.sequence,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "amount": f"{self.amount:.2f}",
            "open": f"{self.open_amount:.2f}",
            "days_overdue": self.days_overdue,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatementLine:
        return cls(
            installment_id=int(data["installment_id"]),
            invoice=str(data["invoice"]),
            sequence=int(data["sequence"]),
            issue_date=date.fromisoformat(str(data["issue_date"])),
            due_date=date.fromisoformat(str(data["due_date"])),
            amount=Decimal(str(data["amount"])),
            open_amount=Decimal(str(data["open"])),
            days_overdue=int(data["days_overdue"]),
        )

    def as_item(self) -> dict[str, Any]:
        """The line as a message template item."""
        return {
            "invoice": self.invoice,
            "sequence": self.sequence,
            "issue_date": self.issue_date,
            "due_date": self.due_date,
            "amount": self.amount,
            "open_amount": self.open_amount,
            "days_overdue": self.days_overdue,
        }


@dataclass(frozen=True, slots=True)
class StatementData:
    """A statement to show: built live for a preview, or read back from a sent one."""

    company: str
    customer_code: str
    customer_name: str
    as_of: date
    currency: str
    language: str
    lines: list[StatementLine]
    aging: list[Decimal]  # one amount per bucket of ``BUCKETS``
    total: Decimal
    overdue: Decimal
    contact_name: str | None = None
    statement: Statement | None = None  # the stored statement, when it was sent
    # Amounts under open disputes per installment (what the customer already contested).
    disputed: dict[int, Decimal] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.statement is not None and self.statement.status != StatementStatus.SENT


def summarise(lines: Sequence[StatementLine]) -> tuple[list[Decimal], Decimal, Decimal]:
    """Aging per bucket, total and overdue, exact in Decimal."""
    aging = [ZERO] * BUCKETS.count
    if lines:
        for line, bucket in zip(
            lines, BUCKETS.bucket_of([ln.days_overdue for ln in lines]), strict=True
        ):
            aging[int(bucket)] += line.open_amount
    total = sum((ln.open_amount for ln in lines), ZERO)
    overdue = sum((ln.open_amount for ln in lines if ln.days_overdue > 0), ZERO)
    return aging, total, overdue


# ---------------------------------------------------------------- reading the open items


def _lines_query(customer_ids: Sequence[int], as_of: date) -> Any:
    return (
        select(
            Installment.customer_id,
            Installment.id,
            Invoice.number,
            Installment.sequence,
            Invoice.issue_date,
            Installment.due_date,
            Installment.amount,
            Installment.paid_amount,
            Installment.credited_amount,
            Installment.written_off_amount,
        )
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .join(Customer, Customer.id == Installment.customer_id)
        .where(
            Installment.customer_id.in_(customer_ids),
            still_open(),
            # A statement is in the customer's currency; invoices in another are left out.
            Invoice.currency == Customer.currency,
            Invoice.issue_date <= as_of,
        )
        .order_by(
            Installment.customer_id, Installment.due_date, Invoice.number, Installment.sequence
        )
    )


def open_lines_of(
    session: Session, customer_ids: Sequence[int], as_of: date
) -> dict[int, list[StatementLine]]:
    """The open installments of each customer (in the customer's currency), oldest due first."""
    found: dict[int, list[StatementLine]] = defaultdict(list)
    if not customer_ids:
        return found
    for row in session.execute(_lines_query(customer_ids, as_of)):
        open_amount = row.amount - row.paid_amount - row.credited_amount - row.written_off_amount
        if open_amount <= 0:
            continue
        found[int(row.customer_id)].append(
            StatementLine(
                installment_id=int(row.id),
                invoice=row.number,
                sequence=row.sequence,
                issue_date=row.issue_date,
                due_date=row.due_date,
                amount=row.amount,
                open_amount=open_amount,
                days_overdue=(as_of - row.due_date).days,
            )
        )
    return found


def _disputed(session: Session, lines: Iterable[StatementLine]) -> dict[int, Decimal]:
    from flywheel.collections.disputes import disputed_open

    return disputed_open(session, [ln.installment_id for ln in lines])


def build_statement(
    session: Session,
    *,
    customer: Customer,
    as_of: date,
    language: str | None = None,
    settings: Settings | None = None,
) -> StatementData:
    """The statement of ``customer`` as of ``as_of``, not stored (the staff preview)."""
    settings = settings or get_settings()
    lines = open_lines_of(session, [customer.id], as_of).get(customer.id, [])
    contact = pick_contact(session, customer, required=False)
    lang = message_templates.normalize_language(language or (contact.language if contact else None))
    aging, total, overdue = summarise(lines)
    return StatementData(
        company=settings.company_name,
        customer_code=customer.code,
        customer_name=customer.name,
        as_of=as_of,
        currency=customer.currency,
        language=lang,
        lines=lines,
        aging=aging,
        total=total,
        overdue=overdue,
        contact_name=contact.name if contact else None,
        disputed=_disputed(session, lines),
    )


def statement_data(
    session: Session, statement: Statement, *, settings: Settings | None = None
) -> StatementData:
    """A sent statement as the customer saw it."""
    settings = settings or get_settings()
    customer = session.get(Customer, statement.customer_id)
    if customer is None:
        raise NotFound("statement not found")
    lines = [StatementLine.from_json(line) for line in statement.lines]
    aging, total, overdue = summarise(lines)
    contact = session.get(Contact, statement.contact_id) if statement.contact_id else None
    return StatementData(
        company=settings.company_name,
        customer_code=customer.code,
        customer_name=customer.name,
        as_of=statement.as_of,
        currency=statement.currency,
        language=statement.language,
        lines=lines,
        aging=aging,
        total=total,
        overdue=overdue,
        contact_name=contact.name if contact else None,
        statement=statement,
        disputed=_disputed(session, lines),
    )


# ---------------------------------------------------------------- contacts


def _contact_rank(contact: Contact) -> tuple[int, int]:
    """Finance (accounts payable) first, then the oldest contact."""
    return (0 if contact.buying_role == BuyingRole.FINANCE.value else 1, contact.id)


def pick_contact(
    session: Session, customer: Customer, contact_id: int | None = None, *, required: bool = True
) -> Contact | None:
    """The contact a statement goes to: ``contact_id`` when given (it must be the customer's
    and have an e-mail), else the finance contact with an e-mail, else the first with one."""
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.customer_id != customer.id:
            raise NotFound(
                f"contact {contact_id} of customer {customer.code} not found", contact_id=contact_id
            )
        if required and not (contact.email or "").strip():
            raise ValidationFailed(
                f"contact {contact.name} has no e-mail address to send the statement to",
                field="contact_id",
            )
        return contact
    with_email = list(
        session.scalars(
            select(Contact).where(
                Contact.customer_id == customer.id,
                Contact.email.is_not(None),
                Contact.email != "",
            )
        )
    )
    if with_email:
        return min(with_email, key=_contact_rank)
    if required:
        raise ValidationFailed(
            f"customer {customer.code} has no contact with an e-mail address; add one to send "
            "the statement",
            customer=customer.code,
        )
    return None


def _preferred_contacts(session: Session, customer_ids: Sequence[int]) -> dict[int, Contact]:
    best: dict[int, Contact] = {}
    for contact in session.scalars(
        select(Contact).where(
            Contact.customer_id.in_(customer_ids),
            Contact.email.is_not(None),
            Contact.email != "",
        )
    ):
        held = best.get(contact.customer_id)
        if held is None or _contact_rank(contact) < _contact_rank(held):
            best[contact.customer_id] = contact
    return best


# ---------------------------------------------------------------- sending


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def statement_url(settings: Settings, token: str) -> str:
    return settings.public_url.rstrip("/") + "/statement/" + token


def _owner_names(session: Session, owner_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in owner_ids if i is not None}
    if not ids:
        return {}
    return {
        int(uid): name
        for uid, name in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    }


def _issue(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    as_of: date,
    lines: list[StatementLine],
    contact: Contact | None,
    send: bool,
    settings: Settings,
    renderer: message_templates.Renderer,
    owner_name: str | None,
    dedupe_key: str | None,
    automatic: bool,
) -> tuple[Statement, str]:
    aging, total, overdue = summarise(lines)
    language = message_templates.normalize_language(contact.language if contact else None)
    token = secrets.token_urlsafe(32)
    statement = Statement(
        customer_id=customer.id,
        as_of=as_of,
        contact_id=contact.id if contact else None,
        language=language,
        currency=customer.currency,
        total=total,
        overdue=overdue,
        lines=[line.to_json() for line in lines],
        token_hash=token_hash(token),
        status=StatementStatus.SENT.value,
        created_by_id=actor.user_id,
    )
    session.add(statement)
    session.flush()
    if send:
        assert contact is not None
        assert contact.email
        url = statement_url(settings, token)
        context = message_templates.build_context(
            company=settings.company_name,
            customer={"code": customer.code, "name": customer.name},
            contact={"name": contact.name, "email": contact.email},
            owner={"name": owner_name} if owner_name else None,
            as_of=as_of,
            language=language,
            currency=customer.currency,
            items=[line.as_item() for line in lines],
            statement_url=url,
        )
        message = renderer.render("statement", language, context)
        key = dedupe_key or f"statement:{statement.id}"
        action = CollectionAction(
            customer_id=customer.id,
            due_on=as_of,
            kind=ActionKind.STATEMENT.value,
            channel=CollectionChannel.EMAIL.value,
            status=ActionStatus.QUEUED.value,
            automatic=automatic,
            dedupe_key=key,
            template="statement",
            language=language,
            contact_id=contact.id,
            assigned_to_id=actor.user_id,
            amount=total,
            overdue_amount=overdue,
            currency=customer.currency,
            max_days_overdue=max(
                (ln.days_overdue for ln in lines if ln.days_overdue > 0), default=0
            ),
            items=[
                CollectionActionItem(
                    customer_id=customer.id,
                    installment_id=line.installment_id,
                    due_on=line.due_date,
                    day_offset=line.days_overdue,
                    open_amount=line.open_amount,
                )
                for line in lines
            ],
        )
        session.add(action)
        session.flush()
        statement.action_id = action.id
        outbox.enqueue_email(
            session,
            dedupe_key=key,
            to=contact.email,
            subject=message.subject,
            body=message.text,
            body_html=message.html,
            language=language,
            customer_id=customer.id,
            action_id=action.id,
        )
    audit.record(
        session,
        actor,
        "statement.sent" if send else "statement.created",
        subject_type="statement",
        subject_id=statement.id,
        customer_id=customer.id,
        after={
            "as_of": as_of.isoformat(),
            "currency": customer.currency,
            "total": audit.jsonable(total),
            "overdue": audit.jsonable(overdue),
            "aging": [audit.jsonable(a) for a in aging],
            "lines": len(lines),
            "language": language,
            "contact_id": contact.id if contact else None,
            "to": contact.email if (send and contact) else None,
            "action_id": statement.action_id,
        },
    )
    session.flush()
    return statement, token


def create_statement(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    as_of: date,
    contact_id: int | None = None,
    send: bool = True,
    settings: Settings | None = None,
) -> tuple[Statement, str]:
    """Store the statement of ``customer`` as of ``as_of`` and, with ``send``, queue the e-mail
    with its link to the chosen contact (in the contact's language). Returns the statement and
    its token (shown nowhere else)."""
    permissions.check(actor, Permission.WORK_COLLECTIONS)
    settings = settings or get_settings()
    contact = pick_contact(session, customer, contact_id, required=send)
    lines = open_lines_of(session, [customer.id], as_of).get(customer.id, [])
    owners = _owner_names(session, [customer.owner_id])
    return _issue(
        session,
        actor=actor,
        customer=customer,
        as_of=as_of,
        lines=lines,
        contact=contact,
        send=send,
        settings=settings,
        renderer=message_templates.Renderer(session),
        owner_name=owners.get(customer.owner_id) if customer.owner_id else None,
        dedupe_key=None,
        automatic=False,
    )


def scheduled_key(customer_id: int, as_of: date) -> str:
    return f"statement:{customer_id}:{as_of:%Y-%m}"


def statement_day(settings: Settings) -> int:
    """The day of the month statements go out on (``FLYWHEEL_STATEMENT_DAY``; 0: never)."""
    return settings.statement_day


def send_scheduled(
    session: Session, *, as_of: date, settings: Settings | None = None, actor: Actor | None = None
) -> int:
    """On the statement day of the month, send one statement to every customer with open items
    and a contact with an e-mail; once per customer and month however often it runs. Returns
    how many were sent."""
    settings = settings or get_settings()
    if as_of.day != statement_day(settings):
        return 0
    actor = actor or STATEMENT_ACTOR
    month_suffix = f":{as_of:%Y-%m}"
    already = set(
        session.scalars(
            select(CollectionAction.customer_id).where(
                CollectionAction.kind == ActionKind.STATEMENT.value,
                CollectionAction.dedupe_key.like(f"statement:%{month_suffix}"),
            )
        )
    )
    with_open_items = (
        select(Installment.customer_id)
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .join(Customer, Customer.id == Installment.customer_id)
        .where(still_open(), Invoice.currency == Customer.currency, Invoice.issue_date <= as_of)
        .group_by(Installment.customer_id)
        .having(
            func.sum(
                Installment.amount
                - Installment.paid_amount
                - Installment.credited_amount
                - Installment.written_off_amount
            )
            > 0
        )
    )
    candidates = sorted(int(c) for c in session.scalars(with_open_items) if int(c) not in already)
    renderer = message_templates.Renderer(session)
    sent = 0
    for start in range(0, len(candidates), SCHEDULE_BATCH):
        batch = candidates[start : start + SCHEDULE_BATCH]
        contacts = _preferred_contacts(session, batch)
        batch = [c for c in batch if c in contacts]
        if not batch:
            continue
        customers = {
            c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(batch)))
        }
        lines = open_lines_of(session, batch, as_of)
        owners = _owner_names(session, [c.owner_id for c in customers.values()])
        for customer_id in batch:
            customer = customers[customer_id]
            if not lines.get(customer_id):
                continue
            _issue(
                session,
                actor=actor,
                customer=customer,
                as_of=as_of,
                lines=lines[customer_id],
                contact=contacts[customer_id],
                send=True,
                settings=settings,
                renderer=renderer,
                owner_name=owners.get(customer.owner_id) if customer.owner_id else None,
                dedupe_key=scheduled_key(customer_id, as_of),
                automatic=True,
            )
            sent += 1
    return sent


# ---------------------------------------------------------------- the customer's answer


@dataclass(frozen=True, slots=True)
class DisputedLine:
    installment_id: int
    reason: DisputeReason | str
    amount: Decimal | None = None  # None: the whole open amount of the line
    note: str | None = None


def _by_token(session: Session, token: str, *, lock: bool = False) -> Statement:
    if not token or len(token) > 128:
        raise NotFound("statement not found")
    query = select(Statement).where(Statement.token_hash == token_hash(token))
    statement = session.scalar(query.with_for_update() if lock else query)
    if statement is None:
        raise NotFound("statement not found")
    return statement


def find_by_token(session: Session, token: str) -> Statement:
    """The statement a link's token opens; "not found" for anything else."""
    return _by_token(session, token)


def answer(
    session: Session,
    token: str,
    *,
    confirm: bool,
    disputed_lines: Sequence[DisputedLine | tuple[int, Any, Decimal | None, str | None]] = (),
    note: str | None = None,
    as_of: date,
) -> Statement:
    """Record the customer's answer: the balance confirmed, or the lines he disputes (each
    opens a dispute with source "statement"). A statement is answered once."""
    statement = _by_token(session, token, lock=True)
    if statement.status != StatementStatus.SENT.value:
        when = statement.answered_at.date().isoformat() if statement.answered_at else ""
        raise Conflict(
            f"this statement was already answered ({statement.status} {when}); contact us to "
            "change the answer",
            status=statement.status,
        )
    disputes = [d if isinstance(d, DisputedLine) else DisputedLine(*d) for d in disputed_lines]
    if confirm and disputes:
        raise ValidationFailed("confirm the balance or dispute lines, not both")
    if not confirm and not disputes:
        raise ValidationFailed("choose at least one line to dispute", field="lines")
    note = (note or "").strip()[:2000] or None
    customer = session.get(Customer, statement.customer_id)
    assert customer is not None
    before = {"status": statement.status}
    if confirm:
        statement.status = StatementStatus.CONFIRMED.value
        statement.answered_at = utcnow()
        statement.answer_note = note
        session.flush()
        audit.record(
            session,
            STATEMENT_ACTOR,
            "statement.confirmed",
            subject_type="statement",
            subject_id=statement.id,
            customer_id=customer.id,
            before=before,
            after={"status": statement.status, "note": note},
        )
        return statement
    from flywheel.collections.disputes import open_dispute

    lines = {int(line["installment_id"]): line for line in statement.lines}
    opened: list[int] = []
    seen: set[int] = set()
    for line in disputes:
        if line.installment_id not in lines:
            raise NotFound(
                f"installment {line.installment_id} is not on this statement",
                installment_id=line.installment_id,
            )
        if line.installment_id in seen:
            raise ValidationFailed("each line can be disputed once", field="lines")
        seen.add(line.installment_id)
        if line.amount is not None:
            shown = Decimal(str(lines[line.installment_id]["open"]))
            if line.amount <= 0 or line.amount > shown:
                raise InvalidAmount(
                    f"the disputed amount of {lines[line.installment_id]['invoice']} must be more "
                    f"than 0 and at most {shown:.2f}",
                    field="amount",
                    installment_id=line.installment_id,
                )
        dispute = open_dispute(
            session,
            actor=STATEMENT_ACTOR,
            customer=customer,
            installment_id=line.installment_id,
            reason=line.reason,
            as_of=as_of,
            amount=line.amount,
            description=(line.note or "").strip()[:2000] or None,
            source="statement",
        )
        opened.append(dispute.id)
    statement.status = StatementStatus.DISPUTED.value
    statement.answered_at = utcnow()
    statement.answer_note = note
    session.flush()
    audit.record(
        session,
        STATEMENT_ACTOR,
        "statement.disputed",
        subject_type="statement",
        subject_id=statement.id,
        customer_id=customer.id,
        before=before,
        after={"status": statement.status, "note": note, "disputes": opened},
    )
    return statement


# ---------------------------------------------------------------- reading for the 360


def recent_statements(session: Session, customer_id: int, limit: int = 5) -> list[Statement]:
    return list(
        session.scalars(
            select(Statement)
            .where(Statement.customer_id == customer_id)
            .order_by(Statement.created_at.desc(), Statement.id.desc())
            .limit(limit)
        )
    )
