"""What the referral enums and audit actions are called on the pages, in the user's language."""

from __future__ import annotations

from flywheel.kit.i18n import N_
from flywheel.models.enums import ReferralStatus, RewardKind, RewardStatus

STATUS_LABELS: dict[str, str] = {
    ReferralStatus.LEAD: N_("Lead"),
    ReferralStatus.CONTACTED: N_("Contacted"),
    ReferralStatus.QUALIFIED: N_("Qualified"),
    ReferralStatus.WON: N_("Won"),
    ReferralStatus.LOST: N_("Lost"),
}

REWARD_STATUS_LABELS: dict[str, str] = {
    RewardStatus.NONE: N_("No reward"),
    RewardStatus.PENDING: N_("Reward pending"),
    RewardStatus.GRANTED: N_("Reward granted"),
    RewardStatus.DECLINED: N_("Reward declined"),
}

KIND_LABELS: dict[str, str] = {
    RewardKind.CREDIT_NOTE: N_("Credit note"),
    RewardKind.DISCOUNT: N_("Discount on the next order"),
}

SOURCE_LABELS: dict[str, str] = {
    "manual": N_("Entered by hand"),
    "survey": N_("Survey"),
    "import": N_("Import"),
    "demo": N_("Demo"),
}

ACTION_LABELS: dict[str, str] = {
    "referral.recorded": N_("Referral recorded"),
    "referral.updated": N_("Lead details changed"),
    "referral.status_changed": N_("Status changed"),
    "referral.reward_earned": N_("Reward earned"),
    "referral.reward_granted": N_("Reward granted"),
    "referral.reward_declined": N_("Reward declined"),
    "credit_note.issued": N_("Credit note issued"),
}

FIELD_LABELS: dict[str, str] = {
    "status": N_("Status"),
    "referred_customer_id": N_("Referred account"),
    "won_on": N_("Won on"),
    "lost_reason": N_("Why lost"),
    "reward_status": N_("Reward"),
    "reward_amount": N_("Reward amount"),
    "reward_currency": N_("Currency"),
    "reward_granted_on": N_("Granted on"),
    "reward_rule_id": N_("Reward rule"),
    "reward_credit_note_id": N_("Credit note"),
    "lead_company": N_("Company"),
    "lead_contact": N_("Contact person"),
    "lead_email": N_("E-mail"),
    "lead_phone": N_("Phone"),
    "notes": N_("Notes"),
    "reason": N_("Reason"),
    "order": N_("Order"),
    "percent": N_("Percent"),
    "credit_note": N_("Credit note"),
    "invoice": N_("Invoice"),
    "number": N_("Number"),
    "amount": N_("Amount"),
    "as_of": N_("As of"),
}
