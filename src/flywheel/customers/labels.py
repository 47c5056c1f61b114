"""What the customer pages and exports call the stored values: tiers, statuses, buying roles,
touchpoint kinds, payment methods, audit actions and fields, in English source text marked for
the catalog (translated when shown)."""

from __future__ import annotations

from flywheel.kit.i18n import N_
from flywheel.models.enums import (
    BuyingRole,
    CustomerStatus,
    PaymentMethod,
    Tier,
    TouchpointKind,
)

# Tier and status labels are also the export's cells. In English they are the stored values
# capitalised, which the account importer reads back; the Chinese catalog should use the words
# the importer knows (大客户 / 成长 / 普通, 活跃 / 停用 / 潜在 / 流失) so an export re-imports.
TIER_LABELS: dict[str, str] = {
    Tier.KEY: N_("Key"),
    Tier.GROWTH: N_("Growth"),
    Tier.STANDARD: N_("Standard"),
}

STATUS_LABELS: dict[str, str] = {
    CustomerStatus.PROSPECT: N_("Prospect"),
    CustomerStatus.ACTIVE: N_("Active"),
    CustomerStatus.INACTIVE: N_("Inactive"),
    CustomerStatus.CHURNED: N_("Churned"),
}

BUYING_ROLE_LABELS: dict[str, str] = {
    BuyingRole.DECISION_MAKER: N_("Decision maker"),
    BuyingRole.INFLUENCER: N_("Influencer"),
    BuyingRole.USER: N_("User"),
    BuyingRole.FINANCE: N_("Finance / AP"),
    BuyingRole.GATEKEEPER: N_("Gatekeeper"),
}

TOUCHPOINT_KIND_LABELS: dict[str, str] = {
    TouchpointKind.CALL: N_("Call"),
    TouchpointKind.VISIT: N_("Visit"),
    TouchpointKind.MEETING: N_("Meeting"),
    TouchpointKind.EMAIL: N_("Email"),
    TouchpointKind.DELIVERY: N_("Delivery"),
    TouchpointKind.SUPPORT: N_("Support"),
    TouchpointKind.QBR: N_("Business review (QBR)"),
}

PAYMENT_METHOD_LABELS: dict[str, str] = {
    PaymentMethod.BANK_TRANSFER: N_("Bank transfer"),
    PaymentMethod.ACCEPTANCE_BILL: N_("Acceptance bill"),
    PaymentMethod.CHEQUE: N_("Cheque"),
    PaymentMethod.CASH: N_("Cash"),
    PaymentMethod.CARD: N_("Card"),
    PaymentMethod.ONLINE: N_("Online"),
    PaymentMethod.OTHER: N_("Other"),
}

SATISFACTION_LABELS: dict[int, str] = {
    1: N_("1 – very dissatisfied"),
    2: N_("2 – dissatisfied"),
    3: N_("3 – neutral"),
    4: N_("4 – satisfied"),
    5: N_("5 – very satisfied"),
}

# The audit actions an account's timeline shows by name; any other is shown as stored.
ACTION_LABELS: dict[str, str] = {
    "customer.created": N_("Account created"),
    "customer.updated": N_("Account changed"),
    "contact.created": N_("Contact added"),
    "contact.updated": N_("Contact changed"),
    "touchpoint.logged": N_("Touchpoint logged"),
    "touchpoint.updated": N_("Touchpoint changed"),
    "order.created": N_("Order created"),
    "order.updated": N_("Order changed"),
    "invoice.created": N_("Invoice issued"),
    "invoice.updated": N_("Invoice changed"),
    "invoice.cancelled": N_("Invoice cancelled"),
    "invoice.written_off": N_("Invoice written off"),
    "payment.recorded": N_("Payment recorded"),
    "payment.updated": N_("Payment corrected"),
    "payment.allocated": N_("Payment applied"),
    "allocation.created": N_("Payment allocated"),
    "allocation.reversed": N_("Allocation reversed"),
    "credit_note.issued": N_("Credit note issued"),
    "promise.recorded": N_("Promise to pay recorded"),
    "promise.kept": N_("Promise to pay kept"),
    "promise.broken": N_("Promise to pay broken"),
    "promise.cancelled": N_("Promise to pay withdrawn"),
    "dispute.opened": N_("Dispute opened"),
    "dispute.resolved": N_("Dispute resolved"),
    "dispute.reassigned": N_("Dispute reassigned"),
    "dispute.escalated": N_("Dispute escalated past its SLA"),
    "arrangement.proposed": N_("Payment arrangement proposed"),
    "arrangement.approved": N_("Payment arrangement approved"),
    "arrangement.rejected": N_("Payment arrangement rejected"),
    "arrangement.cancelled": N_("Payment arrangement withdrawn"),
    "arrangement.confirmed_by_customer": N_("Arrangement confirmed by the customer"),
    "collections.call_logged": N_("Collection call logged"),
    "collections.action_done": N_("Collection task done"),
    "collections.action_cancelled": N_("Collection task skipped"),
    "collections.message_sent": N_("Collection message sent"),
    "collections.message_failed": N_("Message not delivered (gave up)"),
    "collections.message_requeued": N_("Message queued again"),
    "credit.hold_placed": N_("Credit hold placed"),
    "credit.hold_released": N_("Credit hold released"),
    "statement.sent": N_("Statement sent"),
    "statement.created": N_("Statement created"),
    "statement.confirmed": N_("Statement confirmed by the customer"),
    "statement.disputed": N_("Statement disputed by the customer"),
    "referral.recorded": N_("Referral recorded"),
    "referral.updated": N_("Referral details changed"),
    "referral.status_changed": N_("Referral status changed"),
    "referral.reward_earned": N_("Referral reward earned"),
    "referral.reward_granted": N_("Referral reward granted"),
    "referral.reward_declined": N_("Referral reward declined"),
}

# The fields of audit snapshots, as the timeline names them.
FIELD_LABELS: dict[str, str] = {
    "code": N_("Code"),
    "name": N_("Name"),
    "tier": N_("Tier"),
    "industry": N_("Industry"),
    "region": N_("Region"),
    "owner_id": N_("Owner"),
    "parent_id": N_("Parent account"),
    "referred_by_id": N_("Referred by"),
    "currency": N_("Currency"),
    "payment_terms": N_("Payment terms"),
    "status": N_("Status"),
    "created_on": N_("Customer since"),
    "title": N_("Title"),
    "buying_role": N_("Buying role"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "language": N_("Language"),
    "contact_id": N_("Contact"),
    "user_id": N_("Our person"),
    "kind": N_("Kind"),
    "occurred_at": N_("When"),
    "summary": N_("Summary"),
    "satisfaction": N_("Satisfaction"),
    "reference": N_("Reference"),
    "number": N_("Number"),
    "order_id": N_("Order"),
    "issue_date": N_("Issued"),
    "due_date": N_("Due"),
    "amount": N_("Amount"),
    "installments": N_("Installments"),
    "received_on": N_("Received on"),
    "method": N_("Method"),
    "invoice_reference": N_("Invoice referenced"),
    "allocated_amount": N_("Allocated"),
    "allocations": N_("Applied to"),
    "invoice": N_("Invoice"),
    "invoice_id": N_("Invoice"),
    "payment": N_("Payment"),
    "payment_id": N_("Payment"),
    "installment": N_("Installment"),
    "reason": N_("Reason"),
    "written_off_amount": N_("Written off"),
}

# Stored values of these fields have a label table of their own.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "tier": TIER_LABELS,
    "buying_role": BUYING_ROLE_LABELS,
    "kind": TOUCHPOINT_KIND_LABELS,
    "method": PAYMENT_METHOD_LABELS,
}
