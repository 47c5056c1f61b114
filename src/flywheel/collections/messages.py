"""Who a customer's collection messages go to, in which language, and the shapes of the chat
robot payloads (WeCom, DingTalk, Feishu, or Flywheel's own JSON)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.collections import templates
from flywheel.config import WebhookStyle
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import BuyingRole
from flywheel.models.users import User

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class MessageParty:
    customer_id: int
    code: str
    name: str
    currency: str
    owner_id: int | None
    owner_name: str | None
    team_language: str  # the account owner's language, for messages to the team
    contact_id: int | None
    contact_name: str | None
    email: str | None
    language: str  # the contact's language


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def contacts_for(session: Session, customer_ids: Iterable[int]) -> dict[int, MessageParty]:
    """For each customer: the contact collection messages go to (its finance contact with an
    e-mail address, else the first contact with one) and the account owner."""
    ids = sorted(set(customer_ids))
    parties: dict[int, MessageParty] = {}
    for chunk in _chunks(ids):
        customers = session.execute(
            select(
                Customer.id,
                Customer.code,
                Customer.name,
                Customer.currency,
                Customer.owner_id,
                User.display_name,
                User.language,
            )
            .outerjoin(User, User.id == Customer.owner_id)
            .where(Customer.id.in_(chunk))
        ).all()
        contacts = session.execute(
            select(
                Contact.customer_id,
                Contact.id,
                Contact.name,
                Contact.email,
                Contact.language,
                Contact.buying_role,
            )
            .where(Contact.customer_id.in_(chunk), Contact.email.is_not(None), Contact.email != "")
            .order_by(Contact.customer_id, Contact.id)
        ).all()
        best: dict[int, Any] = {}
        for row in contacts:
            current = best.get(row.customer_id)
            if current is None or (
                row.buying_role == BuyingRole.FINANCE.value
                and current.buying_role != BuyingRole.FINANCE.value
            ):
                best[row.customer_id] = row
        for cid, code, name, currency, owner_id, owner_name, owner_language in customers:
            contact = best.get(cid)
            parties[cid] = MessageParty(
                customer_id=cid,
                code=code,
                name=name,
                currency=currency,
                owner_id=owner_id,
                owner_name=owner_name,
                team_language=owner_language or "zh",
                contact_id=contact.id if contact else None,
                contact_name=contact.name if contact else None,
                email=contact.email if contact else None,
                language=(contact.language if contact else None) or "zh",
            )
    return parties


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def webhook_payload(
    style: WebhookStyle, rendered: templates.Rendered, context: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON a chat robot of ``style`` expects, carrying the rendered text."""
    text = rendered.text
    if style is WebhookStyle.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if style is WebhookStyle.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": rendered.subject, "text": text}}
    if style is WebhookStyle.FEISHU:
        return {"msg_type": "text", "content": {"text": text}}
    customer = context.get("customer") or {}
    return {
        "customer": customer.get("code"),
        "customer_name": customer.get("name"),
        "subject": rendered.subject,
        "text": text,
        "currency": context.get("currency"),
        "total_open": _money(context.get("total_open") or Decimal(0)),
        "total_overdue": _money(context.get("total_overdue") or Decimal(0)),
        "items": [
            {
                "invoice": item["invoice"],
                "sequence": item["sequence"],
                "due_date": item["due_date"].isoformat(),
                "open_amount": _money(item["open_amount"]),
                "days_overdue": item["days_overdue"],
            }
            for item in context.get("items", [])
        ],
    }
