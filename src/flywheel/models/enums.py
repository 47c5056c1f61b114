"""The closed vocabularies of the ledger. Stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SALES = "sales"
    COLLECTOR = "collector"
    FINANCE = "finance"
    VIEWER = "viewer"


class Tier(StrEnum):
    KEY = "key"
    GROWTH = "growth"
    STANDARD = "standard"


class CustomerStatus(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    INACTIVE = "inactive"
    CHURNED = "churned"


class BuyingRole(StrEnum):
    DECISION_MAKER = "decision_maker"
    INFLUENCER = "influencer"
    USER = "user"
    FINANCE = "finance"
    GATEKEEPER = "gatekeeper"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class TouchpointKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    MEETING = "meeting"
    EMAIL = "email"
    DELIVERY = "delivery"
    SUPPORT = "support"
    QBR = "qbr"


class OrderStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DELIVERED = "delivered"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"


class InvoiceStatus(StrEnum):
    """Stored status. "overdue" is not stored: it depends on the day you ask (see ``state_as_of``)."""

    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    CANCELLED = "cancelled"


OVERDUE = "overdue"


class PaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    ACCEPTANCE_BILL = "acceptance_bill"  # 承兑汇票
    CHEQUE = "cheque"
    CASH = "cash"
    CARD = "card"
    ONLINE = "online"
    OTHER = "other"


class PaymentStatus(StrEnum):
    UNALLOCATED = "unallocated"
    PARTIALLY_ALLOCATED = "partially_allocated"
    ALLOCATED = "allocated"


class CollectionChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"  # a chat robot (WeCom / DingTalk / Feishu style JSON POST)
    CALL = "call"  # a task for the collector
    LETTER = "letter"  # a formal letter to print (HTML / PDF)
    ESCALATION = "escalation"  # a task for the account owner or the manager
    CREDIT_HOLD = "credit_hold"
    LEGAL = "legal"  # hand-over to legal: a task


MESSAGE_CHANNELS = frozenset({CollectionChannel.EMAIL, CollectionChannel.WEBHOOK})


class ActionKind(StrEnum):
    REMINDER = "reminder"  # a strategy step
    THANK_YOU = "thank_you"  # an overdue customer paid in full
    BROKEN_PROMISE = "broken_promise"  # escalation after a broken promise
    DISPUTE_SLA = "dispute_sla"  # a dispute past its SLA
    STATEMENT = "statement"
    CALL_LOG = "call_log"  # a call a collector logged by hand


class ActionStatus(StrEnum):
    OPEN = "open"  # a task to do, or a manual step waiting for a person
    QUEUED = "queued"  # a message in the outbox
    SENT = "sent"
    FAILED = "failed"  # the outbox gave up (dead letter)
    DONE = "done"
    CANCELLED = "cancelled"


class CallOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    PROMISED = "promised"
    DISPUTED = "disputed"
    PAID = "paid"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the configured number of attempts


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class DisputeReason(StrEnum):
    PRICE = "price"
    QUANTITY = "quantity"
    QUALITY = "quality"
    DELIVERY = "delivery"
    MISSING_DOCUMENTS = "missing_documents"
    DUPLICATE_INVOICE = "duplicate_invoice"
    OTHER = "other"


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DisputeResolution(StrEnum):
    CREDIT_NOTE = "credit_note"
    ADJUSTMENT = "adjustment"
    REJECTED = "rejected"


class ArrangementKind(StrEnum):
    PLAN = "plan"
    EXTENSION = "extension"


class ArrangementStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class StatementStatus(StrEnum):
    SENT = "sent"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


# ----------------------------------------------------------------------------- feedback


class SurveyKind(StrEnum):
    NPS = "nps"  # 0–10, "how likely are you to recommend us"
    CSAT = "csat"  # 1–5, satisfaction
    CES = "ces"  # 1–7, "it was easy to …" (7 = strongly agree)


class CampaignTrigger(StrEnum):
    ORDER_DELIVERED = "order_delivered"
    INVOICE_PAID = "invoice_paid"
    MILESTONE_DONE = "milestone_done"  # a contract milestone (key accounts)
    TOUCHPOINT = "touchpoint"  # a touchpoint of the campaign's kind was logged
    DISPUTE_RESOLVED = "dispute_resolved"
    SCHEDULE = "schedule"  # relationship survey every N months


class InvitationStatus(StrEnum):
    SCHEDULED = "scheduled"  # waits for its send day
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    SKIPPED = "skipped"  # a protection rule held it back (see skip_reason)


class SkipReason(StrEnum):
    OPTED_OUT = "opted_out"
    RECENTLY_SURVEYED = "recently_surveyed"
    SAMPLED_OUT = "sampled_out"
    NO_EMAIL = "no_email"
    INACTIVE = "inactive"  # the campaign was switched off before the send day


class ScoreBand(StrEnum):
    PROMOTER = "promoter"  # NPS 9–10
    PASSIVE = "passive"  # NPS 7–8
    DETRACTOR = "detractor"  # NPS 0–6
    POSITIVE = "positive"  # CSAT 4–5, CES 5–7
    NEUTRAL = "neutral"  # CSAT 3, CES 4
    NEGATIVE = "negative"  # CSAT 1–2, CES 1–3


class TextSource(StrEnum):
    RESPONSE = "response"  # a survey comment
    TOUCHPOINT = "touchpoint"  # a touchpoint's note
    DISPUTE = "dispute"  # a dispute's description


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class UrgencyFlag(StrEnum):
    CHURN_THREAT = "churn_threat"
    LEGAL = "legal"
    SAFETY = "safety"
    ESCALATION = "escalation"
    REPEATED = "repeated"


class LoopReason(StrEnum):
    DETRACTOR = "detractor"  # NPS 0–6
    LOW_SCORE = "low_score"  # CSAT 1–2, CES 1–3
    NEGATIVE_COMMENT = "negative_comment"
    URGENT = "urgent"


class LoopStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class LoopOutcome(StrEnum):
    RESOLVED = "resolved"
    PARTLY_RESOLVED = "partly_resolved"
    NOT_RESOLVED = "not_resolved"
    NO_CONTACT = "no_contact"


class Segment(StrEnum):
    """RFM segments, best first."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    PROMISING = "promising"
    NEEDS_ATTENTION = "needs_attention"
    AT_RISK = "at_risk"
    HIBERNATING = "hibernating"
    LOST = "lost"
    NO_PURCHASE = "no_purchase"  # an account that has not bought yet


class HealthBand(StrEnum):
    GREEN = "green"  # healthy
    YELLOW = "yellow"  # watch
    RED = "red"  # at risk


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"


class ChurnBasis(StrEnum):
    """Where a customer's churn risk came from."""

    P_ALIVE = "p_alive"  # transactional: 1 − probability alive (CLV model)
    RENEWAL = "renewal"  # contract customer: renewal risk from health and contract signals
    CLASSIFIER = "classifier"  # the trained churn model, adopted because it beat the rule
    NO_HISTORY = "no_history"  # not enough purchases to say
    MARKED_LOST = "marked_lost"  # the company marked the account as lost (status churned)


class ReferralStatus(StrEnum):
    LEAD = "lead"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


class RewardKind(StrEnum):
    CREDIT_NOTE = "credit_note"  # a fixed amount credited to the referrer's account
    DISCOUNT = "discount"  # a percentage off the referrer's next order


class RewardStatus(StrEnum):
    NONE = "none"  # no rule applies (yet)
    PENDING = "pending"  # earned, waiting for approval or for the next order
    GRANTED = "granted"
    DECLINED = "declined"


class NextActionKind(StrEnum):
    REFERRAL_ASK = "referral_ask"
    RESCUE_DETRACTOR = "rescue_detractor"
    RE_ENGAGE = "re_engage"
    UPSELL = "upsell"
    RENEWAL = "renewal"
    GENTLE_REMINDER = "gentle_reminder"
    CHECK_IN = "check_in"


class NextActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DISMISSED = "dismissed"
    EXPIRED = "expired"  # the reason went away before anyone acted


class Attitude(StrEnum):
    """A stakeholder's attitude to us, best first."""

    CHAMPION = "champion"
    SUPPORTER = "supporter"
    NEUTRAL = "neutral"
    SCEPTIC = "sceptic"
    OPPONENT = "opponent"


class NegotiationStatus(StrEnum):
    PREPARING = "preparing"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class NegotiationOutcome(StrEnum):
    AGREED = "agreed"  # a deal on the terms logged
    WON = "won"  # agreed at or better than our targets
    NO_DEAL = "no_deal"  # we walked away (or they did)
    LOST = "lost"  # to a competitor


class ApprovalStatus(StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    RENEWED = "renewed"
    TERMINATED = "terminated"


class MilestoneKind(StrEnum):
    DELIVERABLE = "deliverable"
    ACCEPTANCE = "acceptance"
    PAYMENT = "payment"
    REVIEW = "review"


class AccountTaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
