"""The collections part of the daily cycle: for every open installment, which strategy step is
due today, and the actions (messages in the outbox, tasks, credit holds) that follow.

- One action per customer, channel and day; a message lists all the customer's dunnable items.
- Idempotent: each step fires at most once per installment and due date, and an action's dedupe
  key is unique, so a second run on the same day creates nothing.
- After days without a run only the latest due step fires (``collections_catch_up=all``: every
  missed step).
- Items under a pending promise, the disputed part of items and items given an extension are
  left alone.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.collections import arrangements, disputes, holds, outbox, promises, strategies
from flywheel.collections.messages import MessageParty, contacts_for, webhook_payload
from flywheel.collections.templates import Renderer
from flywheel.config import CatchUp, Settings
from flywheel.credit import service as credit
from flywheel.kit.money import ZERO
from flywheel.models.base import utcnow
from flywheel.models.collections import (
    CollectionAction,
    CollectionActionItem,
    CollectionStep,
    PromiseToPay,
)
from flywheel.models.credit import PaymentPrediction
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    MESSAGE_CHANNELS,
    ActionKind,
    ActionStatus,
    CollectionChannel,
)
from flywheel.models.receivables import Installment, Invoice, still_open

SYSTEM = Actor.system("collections")
ACTIONS = cast(Table, CollectionAction.__table__)
ITEMS = cast(Table, CollectionActionItem.__table__)
BATCH = 5000


@dataclass
class CycleResult:
    as_of: date
    actions: int = 0
    messages: int = 0
    tasks: int = 0
    items_fired: int = 0
    skipped_items: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    thank_yous: int = 0
    holds_placed: int = 0
    holds_released: int = 0
    disputes_escalated: int = 0
    statements: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "actions": self.actions,
            "messages": self.messages,
            "tasks": self.tasks,
            "items_fired": self.items_fired,
            "skipped_items": self.skipped_items,
            "promises_kept": self.promises_kept,
            "promises_broken": self.promises_broken,
            "thank_yous": self.thank_yous,
            "holds_placed": self.holds_placed,
            "holds_released": self.holds_released,
            "disputes_escalated": self.disputes_escalated,
            "statements": self.statements,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


@dataclass(frozen=True, slots=True)
class OpenItem:
    installment_id: int
    customer_id: int
    invoice: str
    sequence: int
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal  # what is dunned: open minus the disputed part
    currency: str

    def days_overdue(self, as_of: date) -> int:
        return (as_of - self.due_date).days

    def context(self, as_of: date) -> dict[str, Any]:
        return {
            "invoice": self.invoice,
            "sequence": self.sequence,
            "issue_date": self.issue_date,
            "due_date": self.due_date,
            "amount": self.amount,
            "open_amount": self.open_amount,
            "days_overdue": self.days_overdue(as_of),
        }


@dataclass
class Firing:
    """The steps that fire for one customer and channel today, and the items they fire for."""

    customer_id: int
    channel: CollectionChannel
    steps: list[tuple[CollectionStep, OpenItem]] = field(default_factory=list)

    @property
    def lead(self) -> CollectionStep:
        """The most advanced step: its template and target speak for the message."""
        return max((s for s, _ in self.steps), key=lambda s: (s.day_offset, s.id))


def run(session: Session, *, as_of: date, settings: Settings) -> CycleResult:
    """Run the collection strategies for ``as_of``; flushes, the caller commits."""
    result = CycleResult(as_of=as_of)
    clock = time.perf_counter()
    strategies.ensure_defaults(session)
    book = strategies.load_book(session)
    checked = promises.evaluate(session, as_of=as_of)
    result.promises_kept, result.promises_broken = len(checked.kept), len(checked.broken)
    result.seconds["promises"] = time.perf_counter() - clock

    clock = time.perf_counter()
    lead_days = max((-s.day_offset for st in book.by_grade.values() for s in st.steps), default=0)
    lead_days = max(
        lead_days,
        max((-s.day_offset for st in book.by_grade_tier.values() for s in st.steps), default=0),
    )
    items = _open_items(session, as_of=as_of, lead_days=lead_days)
    paused = promises.paused_installments(session, as_of=as_of)
    paused |= arrangements.extended_installments(session, as_of=as_of)
    disputed = disputes.disputed_open(session)
    dunnable: list[OpenItem] = []
    for item in items:
        if item.installment_id in paused:
            result.skipped_items += 1
            continue
        held_back = disputed.get(item.installment_id)
        if held_back is not None:
            rest = item.open_amount - held_back
            if rest <= ZERO:
                result.skipped_items += 1
                continue
            item = OpenItem(**{**_fields(item), "open_amount": rest})
        dunnable.append(item)
    customer_ids = {i.customer_id for i in dunnable}
    grades = credit.grades_of(session, as_of=as_of)
    tiers = _customer_column(session, Customer.tier, customer_ids)
    fired = _fired_steps(session)
    result.seconds["read"] = time.perf_counter() - clock

    clock = time.perf_counter()
    firings: dict[tuple[int, CollectionChannel], Firing] = {}
    catch_up_all = settings.collections_catch_up is CatchUp.ALL
    for item in dunnable:
        strategy = book.for_customer(grades.get(item.customer_id), tiers.get(item.customer_id))
        if strategy is None or not strategy.steps:
            continue
        days = item.days_overdue(as_of)
        due = [s for s in strategy.steps if s.day_offset <= days]
        if not due:
            continue
        done = fired.get((item.installment_id, item.due_date), set())
        if catch_up_all:
            last_fired = max((s.day_offset for s in strategy.steps if s.id in done), default=None)
            chosen = [
                s
                for s in due
                if s.id not in done and (last_fired is None or s.day_offset > last_fired)
            ]
        else:
            latest = due[-1].day_offset
            chosen = [s for s in due if s.day_offset == latest and s.id not in done]
        for step in chosen:
            channel = CollectionChannel(step.channel)
            key = (item.customer_id, channel)
            firings.setdefault(key, Firing(item.customer_id, channel)).steps.append((step, item))
    result.seconds["decide"] = time.perf_counter() - clock

    clock = time.perf_counter()
    by_customer: dict[int, list[OpenItem]] = defaultdict(list)
    for item in dunnable:
        if item.days_overdue(as_of) >= -lead_days:
            by_customer[item.customer_id].append(item)
    _act(session, firings, by_customer, as_of=as_of, settings=settings, result=result)
    result.seconds["act"] = time.perf_counter() - clock

    clock = time.perf_counter()
    _after_broken_promises(
        session, checked.broken, book, grades, as_of=as_of, settings=settings, result=result
    )
    if settings.collections_thank_you:
        result.thank_yous = _thank_paid_up(session, as_of=as_of, settings=settings)
    result.holds_released = _release_paid_up_holds(session, as_of=as_of)
    result.disputes_escalated = disputes.escalate_past_sla(session, actor=SYSTEM, as_of=as_of)
    result.statements = _scheduled_statements(session, as_of=as_of, settings=settings)
    session.flush()
    result.seconds["follow_up"] = time.perf_counter() - clock
    return result


def _fields(item: OpenItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in OpenItem.__slots__}


def open_item_rows(session: Session, stmt_filter: Any) -> list[OpenItem]:
    """The installments ``stmt_filter`` (a function adding joins and conditions to the select)
    keeps, as items with their invoice and open amount, by customer and due date."""
    open_amount = (
        Installment.amount
        - Installment.paid_amount
        - Installment.credited_amount
        - Installment.written_off_amount
    )
    stmt = select(
        Installment.id,
        Installment.customer_id,
        Invoice.number,
        Installment.sequence,
        Invoice.issue_date,
        Installment.due_date,
        Installment.amount,
        open_amount,
        Invoice.currency,
    ).join(Invoice, Invoice.id == Installment.invoice_id)
    rows = session.execute(
        stmt_filter(stmt).order_by(Installment.customer_id, Installment.due_date, Installment.id)
    ).all()
    return [
        OpenItem(i, c, n, s, issued, due, Decimal(a), Decimal(o), cur)
        for i, c, n, s, issued, due, a, o, cur in rows
    ]


def _open_items(session: Session, *, as_of: date, lead_days: int) -> list[OpenItem]:
    """Open installments due on or before ``as_of + lead_days``, from the partial index."""
    last_due = as_of + timedelta(days=lead_days)
    return open_item_rows(
        session, lambda stmt: stmt.where(still_open(), Installment.due_date <= last_due)
    )


def _customer_column(session: Session, column: Any, ids: Iterable[int]) -> dict[int, Any]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {
        cid: value
        for cid, value in session.execute(select(Customer.id, column)).all()
        if cid in wanted
    }


def _fired_steps(session: Session) -> dict[tuple[int, date], set[int]]:
    """(installment, due date) → the steps already fired, for the installments still open."""
    rows = session.execute(
        select(
            CollectionActionItem.installment_id,
            CollectionActionItem.due_on,
            CollectionActionItem.step_id,
        )
        .join(Installment, Installment.id == CollectionActionItem.installment_id)
        .where(still_open(), CollectionActionItem.step_id.is_not(None))
    ).all()
    fired: dict[tuple[int, date], set[int]] = defaultdict(set)
    for installment_id, due_on, step_id in rows:
        if step_id is not None:
            fired[(installment_id, due_on)].add(step_id)
    return fired


def _dedupe_key(kind: ActionKind, customer_id: int, channel: CollectionChannel, day: date) -> str:
    return f"{kind.value}:{customer_id}:{channel.value}:{day.isoformat()}"


def _act(
    session: Session,
    firings: dict[tuple[int, CollectionChannel], Firing],
    by_customer: dict[int, list[OpenItem]],
    *,
    as_of: date,
    settings: Settings,
    result: CycleResult,
) -> None:
    if not firings:
        return
    taken = set(
        session.scalars(select(CollectionAction.dedupe_key).where(CollectionAction.due_on == as_of))
    )
    customers = {f.customer_id for f in firings.values()}
    parties = contacts_for(session, customers)
    grades = credit.grades_of(session, as_of=as_of)
    p_late = late_probabilities(session, customers, grades)
    renderer = Renderer(session)
    action_rows: list[dict[str, Any]] = []
    plans: list[tuple[Firing, dict[str, Any]]] = []
    messages: dict[str, dict[str, Any]] = {}
    for firing in firings.values():
        key = _dedupe_key(ActionKind.REMINDER, firing.customer_id, firing.channel, as_of)
        if key in taken:
            continue
        lead = firing.lead
        listed = _listed_items(firing, by_customer.get(firing.customer_id, []), as_of)
        currency = listed[0].currency
        total = sum((i.open_amount for i in listed if i.currency == currency), ZERO)
        overdue = sum(
            (i.open_amount for i in listed if i.currency == currency and i.due_date < as_of),
            ZERO,
        )
        party = parties.get(firing.customer_id)
        row: dict[str, Any] = {
            "customer_id": firing.customer_id,
            "due_on": as_of,
            "kind": ActionKind.REMINDER.value,
            "channel": firing.channel.value,
            "status": ActionStatus.OPEN.value,
            "automatic": lead.automatic,
            "dedupe_key": key,
            "grade": grades.get(firing.customer_id),
            "step_id": lead.id,
            "template": lead.template,
            "language": party.language if party else None,
            "contact_id": party.contact_id if party else None,
            "assigned_to_id": _assignee(lead, party),
            "amount": total,
            "overdue_amount": overdue,
            "currency": currency,
            "max_days_overdue": max(i.days_overdue(as_of) for i in listed),
            "expected_value": expected_value(
                total, p_late[firing.customer_id], max(i.days_overdue(as_of) for i in listed)
            ),
            "note": None,
            "created_at": utcnow(),
        }
        status, note, message = _decide(
            firing,
            row,
            by_customer,
            parties,
            renderer,
            as_of=as_of,
            settings=settings,
            result=result,
        )
        row["status"], row["note"] = status, note
        if message is not None:
            messages[key] = message
        action_rows.append(row)
        plans.append((firing, row))
    if not action_rows:
        return
    # A plain executemany, then the ids by dedupe key: RETURNING over tens of thousands of rows
    # costs more than reading them back.
    for start in range(0, len(action_rows), BATCH):
        session.execute(insert(ACTIONS), action_rows[start : start + BATCH])
    id_of: dict[str, int] = {
        key: action_id
        for action_id, key in session.execute(
            select(CollectionAction.id, CollectionAction.dedupe_key).where(
                CollectionAction.due_on == as_of,
                CollectionAction.kind == ActionKind.REMINDER.value,
            )
        ).all()
    }
    item_rows: list[dict[str, Any]] = []
    for firing, row in plans:
        action_id = id_of[str(row["dedupe_key"])]
        row["id"] = action_id
        firing_steps = {item.installment_id: step for step, item in firing.steps}
        listed = _listed_items(firing, by_customer.get(firing.customer_id, []), as_of)
        for item in listed:
            step = firing_steps.get(item.installment_id)
            item_rows.append(_item_row(action_id, item, step, as_of))
        # With catch-up "all" several steps of one channel can fire for one item on one day:
        # each is recorded, so none fires again.
        for step, item in firing.steps:
            if firing_steps[item.installment_id] is not step:
                item_rows.append(_item_row(action_id, item, step, as_of))
        result.items_fired += len(firing.steps)
    for start in range(0, len(item_rows), BATCH):
        session.execute(insert(ITEMS), item_rows[start : start + BATCH])
    result.actions += len(plans)
    for key, message in messages.items():
        message["action_id"] = id_of[key]
    outbox.insert_many(session, list(messages.values()))
    result.holds_placed += holds.place_many(
        session,
        actor=SYSTEM,
        as_of=as_of,
        holds=[
            (
                firing.customer_id,
                row["id"],
                f"collection strategy step at {firing.lead.day_offset:+d} days",
            )
            for firing, row in plans
            if firing.channel is CollectionChannel.CREDIT_HOLD
            and row["status"] == ActionStatus.DONE.value
        ],
    )


# Without a payment-date prediction, how likely a customer of each grade is to pay late.
LATE_BY_GRADE = {"A": 0.1, "B": 0.2, "C": 0.35, "D": 0.55, "E": 0.75}


def late_probabilities(
    session: Session, customer_ids: Iterable[int], grades: dict[int, str]
) -> dict[int, float]:
    """Per customer: the highest predicted probability that an open item is paid late (the
    daily cycle's payment-date model), else the grade's usual rate."""
    ids = sorted(set(customer_ids))
    predicted: dict[int, float] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        predicted.update(
            session.execute(
                select(PaymentPrediction.customer_id, func.max(PaymentPrediction.p_late))
                .where(PaymentPrediction.customer_id.in_(chunk))
                .group_by(PaymentPrediction.customer_id)
            ).all()
        )
    return {
        c: float(predicted[c])
        if predicted.get(c) is not None
        else LATE_BY_GRADE.get(grades.get(c, strategies.UNSCORED_GRADE), 0.35)
        for c in ids
    }


def expected_value(amount: Decimal, p_late: float, days_overdue: int) -> float:
    """What acting on an item is worth: the amount at stake × the chance it comes late × how
    urgent it is (1 before the due date, growing to 4 at 90 days overdue)."""
    urgency = 1.0 + min(max(days_overdue, 0), 90) / 30.0
    return round(float(amount) * p_late * urgency, 2)


def _item_row(
    action_id: int, item: OpenItem, step: CollectionStep | None, as_of: date
) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "customer_id": item.customer_id,
        "installment_id": item.installment_id,
        "step_id": step.id if step is not None else None,
        "due_on": item.due_date,
        "day_offset": item.days_overdue(as_of),
        "open_amount": item.open_amount,
    }


def _listed_items(
    firing: Firing, customer_items: Sequence[OpenItem], as_of: date
) -> list[OpenItem]:
    """The items a customer's message lists: every dunnable item that is overdue or comes due
    within the strategies' lead time, in the currency of the items that fired (at least those)."""
    fired_ids = {item.installment_id for _, item in firing.steps}
    currency = next(item.currency for _, item in firing.steps)
    listed = [i for i in customer_items if i.currency == currency]
    if not fired_ids <= {i.installment_id for i in listed}:
        listed = sorted(
            {i.installment_id: i for i in [*listed, *(it for _, it in firing.steps)]}.values(),
            key=lambda i: (i.due_date, i.installment_id),
        )
    return listed


def _assignee(step: CollectionStep, party: MessageParty | None) -> int | None:
    if step.channel == CollectionChannel.ESCALATION.value and step.target == "owner":
        return party.owner_id if party else None
    return None


def _decide(
    firing: Firing,
    row: dict[str, Any],
    by_customer: dict[int, list[OpenItem]],
    parties: dict[int, MessageParty],
    renderer: Renderer,
    *,
    as_of: date,
    settings: Settings,
    result: CycleResult,
) -> tuple[str, str | None, dict[str, Any] | None]:
    """What the action becomes: its status, a note, and the outbox row of its message (written
    with the action). Nothing is written here; a credit hold is placed once the action exists."""
    lead = firing.lead
    channel = firing.channel
    party = parties.get(firing.customer_id)
    if channel is CollectionChannel.CREDIT_HOLD:
        if not lead.automatic:
            result.tasks += 1
            return ActionStatus.OPEN.value, "place the credit hold", None
        return ActionStatus.DONE.value, None, None
    if channel not in MESSAGE_CHANNELS or not lead.automatic:
        result.tasks += 1
        return ActionStatus.OPEN.value, None, None
    listed = _listed_items(firing, by_customer.get(firing.customer_id, []), as_of)
    context = message_context(
        party, listed, as_of=as_of, settings=settings, currency=row["currency"]
    )
    if channel is CollectionChannel.EMAIL:
        if party is None or not party.email:
            result.tasks += 1
            return ActionStatus.OPEN.value, "no contact with an e-mail address", None
        rendered = renderer.render(lead.template or "due_reminder", party.language, context)
        message = outbox.row(
            dedupe_key=row["dedupe_key"],
            channel=CollectionChannel.EMAIL,
            recipient=party.email,
            subject=rendered.subject,
            body=rendered.text,
            body_html=rendered.html,
            language=party.language,
            customer_id=firing.customer_id,
        )
    else:
        url = lead.target or settings.webhook_url
        if not url:
            result.tasks += 1
            return ActionStatus.OPEN.value, "no webhook URL configured", None
        language = party.team_language if party else "zh"
        rendered = renderer.render(lead.template or "team_alert", language, context)
        message = outbox.row(
            dedupe_key=row["dedupe_key"],
            channel=CollectionChannel.WEBHOOK,
            recipient=url,
            subject=rendered.subject,
            body=json.dumps(
                webhook_payload(settings.webhook_style, rendered, context), ensure_ascii=False
            ),
            body_html=None,
            language=language,
            customer_id=firing.customer_id,
        )
    result.messages += 1
    return ActionStatus.QUEUED.value, None, message


def message_context(
    party: MessageParty | None,
    items: Sequence[OpenItem],
    *,
    as_of: date,
    settings: Settings,
    currency: str,
    promise: PromiseToPay | None = None,
) -> dict[str, Any]:
    same = [i for i in items if i.currency == currency]
    return {
        "company": settings.company_name,
        "customer": {"code": party.code, "name": party.name} if party else None,
        "contact": {"name": party.contact_name, "email": party.email}
        if party and party.contact_name
        else None,
        "owner": {"name": party.owner_name} if party and party.owner_name else None,
        "as_of": as_of,
        "language": party.language if party else "zh",
        "currency": currency,
        "items": [i.context(as_of) for i in same],
        "total_open": sum((i.open_amount for i in same), ZERO),
        "total_overdue": sum((i.open_amount for i in same if i.due_date < as_of), ZERO),
        "max_days_overdue": max((i.days_overdue(as_of) for i in same), default=0),
        "promise": {"amount": promise.amount, "promised_on": promise.promised_on}
        if promise
        else None,
        "statement_url": None,
    }


def _after_broken_promises(
    session: Session,
    broken: Sequence[PromiseToPay],
    book: strategies.StrategyBook,
    grades: dict[int, str],
    *,
    as_of: date,
    settings: Settings,
    result: CycleResult,
) -> None:
    """A broken promise: the customer is told (e-mail) and the strategy's escalation follows
    (a task for the account owner or the manager)."""
    if not broken:
        return
    ids = {p.customer_id for p in broken}
    parties = contacts_for(session, ids)
    tiers = _customer_column(session, Customer.tier, ids)
    items_of = _customer_open_items(session, ids, as_of=as_of)
    renderer = Renderer(session)
    for promise in broken:
        party = parties.get(promise.customer_id)
        strategy = book.for_customer(
            grades.get(promise.customer_id), tiers.get(promise.customer_id)
        )
        escalation = next(
            (
                s
                for s in (strategy.steps if strategy else [])
                if s.channel == CollectionChannel.ESCALATION.value
            ),
            None,
        )
        target = escalation.target if escalation else "owner"
        task = CollectionAction(
            customer_id=promise.customer_id,
            due_on=as_of,
            kind=ActionKind.BROKEN_PROMISE.value,
            channel=CollectionChannel.ESCALATION.value,
            status=ActionStatus.OPEN.value,
            automatic=True,
            dedupe_key=f"broken-promise:{promise.id}:escalation",
            grade=grades.get(promise.customer_id),
            step_id=escalation.id if escalation else None,
            assigned_to_id=party.owner_id if party and target == "owner" else None,
            amount=promise.amount - promise.paid_amount,
            currency=promise.currency,
            note=f"promise {promise.id} to pay {promise.amount:.2f} {promise.currency} by "
            f"{promise.promised_on.isoformat()} was broken ({promise.paid_amount:.2f} paid); "
            f"escalate to the {target}",
        )
        session.add(task)
        result.actions += 1
        result.tasks += 1
        if party is None or not party.email:
            continue
        listed = items_of.get(promise.customer_id, [])
        context = message_context(
            party,
            listed,
            as_of=as_of,
            settings=settings,
            currency=promise.currency,
            promise=promise,
        )
        rendered = renderer.render("broken_promise", party.language, context)
        mail = CollectionAction(
            customer_id=promise.customer_id,
            due_on=as_of,
            kind=ActionKind.BROKEN_PROMISE.value,
            channel=CollectionChannel.EMAIL.value,
            status=ActionStatus.QUEUED.value,
            automatic=True,
            dedupe_key=f"broken-promise:{promise.id}:email",
            grade=grades.get(promise.customer_id),
            template="broken_promise",
            language=party.language,
            contact_id=party.contact_id,
            amount=context["total_open"],
            overdue_amount=context["total_overdue"],
            currency=promise.currency,
        )
        session.add(mail)
        session.flush()
        outbox.enqueue_email(
            session,
            dedupe_key=mail.dedupe_key,
            to=party.email,
            subject=rendered.subject,
            body=rendered.text,
            body_html=rendered.html,
            language=party.language,
            customer_id=promise.customer_id,
            action_id=mail.id,
        )
        result.actions += 1
        result.messages += 1
    session.flush()


def _customer_open_items(
    session: Session, customer_ids: Iterable[int], *, as_of: date
) -> dict[int, list[OpenItem]]:
    ids = list(customer_ids)
    if not ids:
        return {}
    out: dict[int, list[OpenItem]] = defaultdict(list)
    for item in open_item_rows(
        session,
        lambda stmt: stmt.where(
            still_open(), Installment.customer_id.in_(ids), Installment.due_date <= as_of
        ),
    ):
        out[item.customer_id].append(item)
    return out


def _overdue_customers(session: Session, customer_ids: Iterable[int], *, as_of: date) -> set[int]:
    ids = list(customer_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Installment.customer_id)
            .where(still_open(), Installment.customer_id.in_(ids), Installment.due_date < as_of)
            .distinct()
        )
    )


THANK_YOU_LOOKBACK_DAYS = 120


def _thank_paid_up(session: Session, *, as_of: date, settings: Settings) -> int:
    """Thank, once per dunning episode, a customer that was reminded of overdue items and has now
    paid everything that was overdue."""
    since = as_of - timedelta(days=THANK_YOU_LOOKBACK_DAYS)
    last = dict(
        session.execute(
            select(CollectionAction.customer_id, func.max(CollectionAction.id))
            .where(
                CollectionAction.kind == ActionKind.REMINDER.value,
                CollectionAction.due_on >= since,
                CollectionAction.due_on <= as_of,
                CollectionAction.max_days_overdue > 0,
            )
            .group_by(CollectionAction.customer_id)
        ).all()
    )
    if not last:
        return 0
    still_overdue = _overdue_customers(session, last, as_of=as_of)
    candidates = {c: a for c, a in last.items() if c not in still_overdue}
    if not candidates:
        return 0
    keys = {c: f"thank-you:{c}:{a}" for c, a in candidates.items()}
    taken = set(
        session.scalars(
            select(CollectionAction.dedupe_key).where(
                CollectionAction.dedupe_key.in_(list(keys.values()))
            )
        )
    )
    parties = contacts_for(session, candidates)
    renderer = Renderer(session)
    sent = 0
    for customer_id, key in keys.items():
        party = parties.get(customer_id)
        if key in taken or party is None or not party.email:
            continue
        context = message_context(
            party, [], as_of=as_of, settings=settings, currency=party.currency
        )
        rendered = renderer.render("thank_you", party.language, context)
        action = CollectionAction(
            customer_id=customer_id,
            due_on=as_of,
            kind=ActionKind.THANK_YOU.value,
            channel=CollectionChannel.EMAIL.value,
            status=ActionStatus.QUEUED.value,
            automatic=True,
            dedupe_key=key,
            template="thank_you",
            language=party.language,
            contact_id=party.contact_id,
            currency=party.currency,
        )
        session.add(action)
        session.flush()
        outbox.enqueue_email(
            session,
            dedupe_key=key,
            to=party.email,
            subject=rendered.subject,
            body=rendered.text,
            body_html=rendered.html,
            language=party.language,
            customer_id=customer_id,
            action_id=action.id,
        )
        sent += 1
    return sent


def _release_paid_up_holds(session: Session, *, as_of: date) -> int:
    held = holds.held_customers(session)
    if not held:
        return 0
    still_overdue = _overdue_customers(session, held, as_of=as_of)
    released = 0
    for customer_id in sorted(held - still_overdue):
        released += holds.release(
            session, actor=SYSTEM, customer_id=customer_id, reason="nothing is overdue any more"
        )
    return released


def _scheduled_statements(session: Session, *, as_of: date, settings: Settings) -> int:
    from flywheel.collections import statements

    sender = getattr(statements, "send_scheduled", None)
    if sender is None or settings.statement_day != as_of.day:
        return 0
    return int(sender(session, as_of=as_of, settings=settings))
