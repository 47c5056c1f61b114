"""What the import page calls each import and each field, in words a user reads (translated
when shown); the field's own name stays visible too, since ``--map`` and the API use it."""

from __future__ import annotations

from flywheel.kit.i18n import N_

ENTITY_LABELS: dict[str, str] = {
    "customers": N_("Customers"),
    "contacts": N_("Contacts"),
    "orders": N_("Orders"),
    "invoices": N_("Invoices"),
    "payments": N_("Payments"),
    "credit-notes": N_("Credit notes"),
    "touchpoints": N_("Touchpoints"),
}

FIELD_LABELS: dict[str, str] = {
    "code": N_("Customer code"),
    "name": N_("Name"),
    "tier": N_("Tier"),
    "industry": N_("Industry"),
    "region": N_("Region"),
    "owner": N_("Account owner"),
    "parent": N_("Parent account"),
    "currency": N_("Currency"),
    "payment_terms": N_("Payment terms"),
    "status": N_("Status"),
    "referred_by": N_("Referred by"),
    "created_on": N_("Customer since"),
    "customer": N_("Customer code"),
    "title": N_("Job title"),
    "buying_role": N_("Buying role"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "language": N_("Language"),
    "number": N_("Number"),
    "order_date": N_("Order date"),
    "amount": N_("Amount"),
    "delivered_on": N_("Delivered on"),
    "order": N_("Order number"),
    "issue_date": N_("Issue date"),
    "due_date": N_("Due date"),
    "installment_amount": N_("Installment amount"),
    "reference": N_("Reference"),
    "received_on": N_("Received on"),
    "method": N_("Payment method"),
    "invoice": N_("Invoice number"),
    "reason": N_("Reason"),
    "kind": N_("Kind"),
    "occurred_at": N_("Date and time"),
    "contact": N_("Contact"),
    "user": N_("Followed up by"),
    "summary": N_("Summary"),
    "satisfaction": N_("Satisfaction"),
}

# Where one name means different things in different imports.
_ENTITY_FIELD_LABELS: dict[tuple[str, str], str] = {
    ("customers", "name"): N_("Customer name"),
    ("contacts", "name"): N_("Contact name"),
    ("orders", "number"): N_("Order number"),
    ("invoices", "number"): N_("Invoice number"),
    ("credit-notes", "number"): N_("Credit note number"),
    ("credit-notes", "invoice"): N_("Original invoice number"),
    ("orders", "status"): N_("Order status"),
    ("customers", "status"): N_("Customer status"),
}


def field_label(entity: str, field: str) -> str:
    """The English label of ``field`` in the ``entity`` import (translate it when shown)."""
    return _ENTITY_FIELD_LABELS.get((entity, field)) or FIELD_LABELS.get(field, field)
