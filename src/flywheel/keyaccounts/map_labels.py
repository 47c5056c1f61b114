"""What the stakeholder map's and the needs register's codes are called on the pages, in the
user's language, and the colours of the attitudes."""

from __future__ import annotations

from flywheel.kit.i18n import N_
from flywheel.models.enums import Attitude, BuyingRole

ATTITUDE_LABELS: dict[str, str] = {
    Attitude.CHAMPION: N_("Champion"),
    Attitude.SUPPORTER: N_("Supporter"),
    Attitude.NEUTRAL: N_("Neutral"),
    Attitude.SCEPTIC: N_("Sceptic"),
    Attitude.OPPONENT: N_("Opponent"),
}
# Green for friends, grey for neutral, orange and red for resistance: read at a glance.
ATTITUDE_COLOURS: dict[str, str] = {
    Attitude.CHAMPION: "#1a7f37",
    Attitude.SUPPORTER: "#4ac26b",
    Attitude.NEUTRAL: "#8c959f",
    Attitude.SCEPTIC: "#d4a72c",
    Attitude.OPPONENT: "#cf222e",
}
ROLE_LABELS: dict[str, str] = {
    BuyingRole.DECISION_MAKER: N_("Decision maker"),
    BuyingRole.INFLUENCER: N_("Influencer"),
    BuyingRole.USER: N_("User"),
    BuyingRole.FINANCE: N_("Finance / AP"),
    BuyingRole.GATEKEEPER: N_("Gatekeeper"),
}
WARNING_LABELS: dict[str, str] = {
    "no_decision_maker": N_("No decision maker is known at this account."),
    "decision_maker_not_met": N_("No decision maker met in the last 90 days."),
    "single_threaded": N_("Single-threaded: at most one person met in the last 90 days."),
    "high_influence_opponent": N_("An opponent with high influence (4 or 5)."),
}
KIND_LABELS: dict[str, str] = {"need": N_("Need"), "pain_point": N_("Pain point")}
SOURCE_LABELS: dict[str, str] = {
    "interview": N_("Interview"),
    "market_research": N_("Market research"),
    "survey_comment": N_("Survey comment"),
    "support_ticket": N_("Support ticket"),
    "negotiation": N_("Negotiation"),
}
STATUS_LABELS: dict[str, str] = {
    "open": N_("Open"),
    "addressed": N_("Addressed"),
    "declined": N_("Declined"),
}
