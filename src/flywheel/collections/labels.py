"""What the collections enums are called on the pages, in the user's language."""

from __future__ import annotations

from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.models.enums import (
    ActionKind,
    ActionStatus,
    ArrangementKind,
    ArrangementStatus,
    CallOutcome,
    CollectionChannel,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    OutboxStatus,
    PromiseStatus,
)

CHANNEL_LABELS: dict[str, str] = {
    CollectionChannel.EMAIL: N_("E-mail"),
    CollectionChannel.WEBHOOK: N_("Team chat robot"),
    CollectionChannel.CALL: N_("Call"),
    CollectionChannel.LETTER: N_("Formal letter"),
    CollectionChannel.ESCALATION: N_("Escalation"),
    CollectionChannel.CREDIT_HOLD: N_("Credit hold"),
    CollectionChannel.LEGAL: N_("Hand-over to legal"),
}

# The worklist's channel filter: the action channels, then promises and disputes.
WORKLIST_CHANNELS: dict[str, str] = {
    **CHANNEL_LABELS,
    "promise": N_("Promises due"),
    "dispute": N_("Disputes near SLA"),
}

KIND_LABELS: dict[str, str] = {
    ActionKind.REMINDER: N_("Strategy step"),
    ActionKind.THANK_YOU: N_("Thank-you note"),
    ActionKind.BROKEN_PROMISE: N_("Broken promise"),
    ActionKind.DISPUTE_SLA: N_("Dispute past SLA"),
    ActionKind.STATEMENT: N_("Statement"),
    ActionKind.CALL_LOG: N_("Logged call"),
    "promise_due": N_("Promise due"),
}

ACTION_STATUS_LABELS: dict[str, str] = {
    ActionStatus.OPEN: N_("To do"),
    ActionStatus.QUEUED: N_("Queued"),
    ActionStatus.SENT: N_("Sent"),
    ActionStatus.FAILED: N_("Failed"),
    ActionStatus.DONE: N_("Done"),
    ActionStatus.CANCELLED: N_("Skipped"),
}

DELIVERY_LABELS: dict[str, str] = {
    OutboxStatus.PENDING: N_("waiting to send"),
    OutboxStatus.SENDING: N_("sending"),
    OutboxStatus.SENT: N_("delivered"),
    OutboxStatus.DEAD: N_("gave up"),
}

OUTCOME_LABELS: dict[str, str] = {
    CallOutcome.REACHED: N_("Reached"),
    CallOutcome.NO_ANSWER: N_("No answer"),
    CallOutcome.PROMISED: N_("Promised to pay"),
    CallOutcome.DISPUTED: N_("Disputed"),
    CallOutcome.PAID: N_("Says it is paid"),
}

PROMISE_STATUS_LABELS: dict[str, str] = {
    PromiseStatus.PENDING: N_("Pending"),
    PromiseStatus.KEPT: N_("Kept"),
    PromiseStatus.BROKEN: N_("Broken"),
    PromiseStatus.CANCELLED: N_("Withdrawn"),
}

REASON_LABELS: dict[str, str] = {
    DisputeReason.PRICE: N_("Price"),
    DisputeReason.QUANTITY: N_("Quantity"),
    DisputeReason.QUALITY: N_("Quality"),
    DisputeReason.DELIVERY: N_("Delivery"),
    DisputeReason.MISSING_DOCUMENTS: N_("Missing documents"),
    DisputeReason.DUPLICATE_INVOICE: N_("Duplicate invoice"),
    DisputeReason.OTHER: N_("Other"),
}

DISPUTE_STATUS_LABELS: dict[str, str] = {
    DisputeStatus.OPEN: N_("Open"),
    DisputeStatus.RESOLVED: N_("Resolved"),
}

RESOLUTION_LABELS: dict[str, str] = {
    DisputeResolution.CREDIT_NOTE: N_("Credit note"),
    DisputeResolution.ADJUSTMENT: N_("Adjustment"),
    DisputeResolution.REJECTED: N_("Rejected: the amount is due"),
}

ARRANGEMENT_KIND_LABELS: dict[str, str] = {
    ArrangementKind.PLAN: N_("Installment plan"),
    ArrangementKind.EXTENSION: N_("Extension"),
}

ARRANGEMENT_STATUS_LABELS: dict[str, str] = {
    ArrangementStatus.PROPOSED: N_("Waiting for approval"),
    ArrangementStatus.APPROVED: N_("Approved"),
    ArrangementStatus.REJECTED: N_("Rejected"),
    ArrangementStatus.CANCELLED: N_("Withdrawn"),
}

TARGET_LABELS: dict[str, str] = {
    "owner": N_("Account owner"),
    "manager": N_("Manager"),
}

FREQUENCIES: tuple[tuple[int, str], ...] = (
    (7, N_("Weekly")),
    (14, N_("Every two weeks")),
    (30, N_("Monthly")),
    (92, N_("Quarterly")),
)


# The notes the daily cycle leaves on an action it could not carry out by itself.
NOTE_LABELS: dict[str, str] = {
    "no contact with an e-mail address": N_("no contact with an e-mail address"),
    "no webhook URL configured": N_("no webhook URL configured"),
    "place the credit hold": N_("place the credit hold"),
}


def label(table: dict[str, str], value: str | None) -> str:
    """``value``'s label in the current language; the value itself when it has none."""
    if value is None:
        return ""
    return i18n.gettext(table[value]) if value in table else value


def all_labels() -> dict[str, dict[str, str]]:
    """Every table, for the templates (which translate with ``_()``)."""
    return {
        "channel_labels": CHANNEL_LABELS,
        "worklist_channels": WORKLIST_CHANNELS,
        "kind_labels": KIND_LABELS,
        "action_status_labels": ACTION_STATUS_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "promise_status_labels": PROMISE_STATUS_LABELS,
        "reason_labels": REASON_LABELS,
        "dispute_status_labels": DISPUTE_STATUS_LABELS,
        "resolution_labels": RESOLUTION_LABELS,
        "arrangement_kind_labels": ARRANGEMENT_KIND_LABELS,
        "arrangement_status_labels": ARRANGEMENT_STATUS_LABELS,
        "target_labels": TARGET_LABELS,
        "note_labels": NOTE_LABELS,
    }
