"""What the feedback enums are called on the pages, in the user's language."""

from __future__ import annotations

from flywheel.kit.i18n import N_
from flywheel.models.enums import (
    CampaignTrigger,
    InvitationStatus,
    LoopOutcome,
    LoopReason,
    LoopStatus,
    ScoreBand,
    Sentiment,
    SkipReason,
    SurveyKind,
    TextSource,
    UrgencyFlag,
)

KIND_LABELS: dict[str, str] = {
    SurveyKind.NPS: N_("NPS (0–10)"),
    SurveyKind.CSAT: N_("CSAT (1–5)"),
    SurveyKind.CES: N_("CES (1–7)"),
}

TRIGGER_LABELS: dict[str, str] = {
    CampaignTrigger.ORDER_DELIVERED: N_("Order delivered"),
    CampaignTrigger.INVOICE_PAID: N_("Invoice paid"),
    CampaignTrigger.MILESTONE_DONE: N_("Contract milestone done"),
    CampaignTrigger.TOUCHPOINT: N_("Touchpoint logged"),
    CampaignTrigger.DISPUTE_RESOLVED: N_("Dispute resolved"),
    CampaignTrigger.SCHEDULE: N_("On a schedule"),
}

INVITATION_STATUS_LABELS: dict[str, str] = {
    InvitationStatus.SCHEDULED: N_("Scheduled"),
    InvitationStatus.SENT: N_("Sent"),
    InvitationStatus.ANSWERED: N_("Responded"),
    InvitationStatus.EXPIRED: N_("Expired"),
    InvitationStatus.SKIPPED: N_("Not sent"),
}

SKIP_REASON_LABELS: dict[str, str] = {
    SkipReason.OPTED_OUT: N_("opted out"),
    SkipReason.RECENTLY_SURVEYED: N_("surveyed recently"),
    SkipReason.SAMPLED_OUT: N_("not in the sample"),
    SkipReason.NO_EMAIL: N_("no e-mail address"),
    SkipReason.INACTIVE: N_("campaign switched off"),
}

BAND_LABELS: dict[str, str] = {
    ScoreBand.PROMOTER: N_("Promoter"),
    ScoreBand.PASSIVE: N_("Passive"),
    ScoreBand.DETRACTOR: N_("Detractor"),
    ScoreBand.POSITIVE: N_("Satisfied"),
    ScoreBand.NEUTRAL: N_("Neutral"),
    ScoreBand.NEGATIVE: N_("Dissatisfied"),
}

SENTIMENT_LABELS: dict[str, str] = {
    Sentiment.NEGATIVE: N_("Negative"),
    Sentiment.NEUTRAL: N_("Neutral"),
    Sentiment.POSITIVE: N_("Positive"),
}

SOURCE_LABELS: dict[str, str] = {
    TextSource.RESPONSE: N_("Survey comment"),
    TextSource.TOUCHPOINT: N_("Touchpoint note"),
    TextSource.DISPUTE: N_("Dispute"),
}

URGENCY_LABELS: dict[str, str] = {
    UrgencyFlag.CHURN_THREAT: N_("Churn threat"),
    UrgencyFlag.LEGAL: N_("Legal"),
    UrgencyFlag.SAFETY: N_("Safety"),
    UrgencyFlag.ESCALATION: N_("Wants management"),
    UrgencyFlag.REPEATED: N_("Repeated complaint"),
}

LOOP_REASON_LABELS: dict[str, str] = {
    LoopReason.DETRACTOR: N_("Detractor"),
    LoopReason.LOW_SCORE: N_("Low score"),
    LoopReason.NEGATIVE_COMMENT: N_("Negative comment"),
    LoopReason.URGENT: N_("Urgent"),
}

LOOP_STATUS_LABELS: dict[str, str] = {
    LoopStatus.OPEN: N_("Open"),
    LoopStatus.CLOSED: N_("Closed"),
}

LOOP_OUTCOME_LABELS: dict[str, str] = {
    LoopOutcome.RESOLVED: N_("Resolved"),
    LoopOutcome.PARTLY_RESOLVED: N_("Partly resolved"),
    LoopOutcome.NOT_RESOLVED: N_("Not resolved"),
    LoopOutcome.NO_CONTACT: N_("Could not reach"),
}
