"""Every table of Flywheel, one module per domain; import this package to register them all."""

from flywheel.models.audit import AuditEvent
from flywheel.models.auth import ApiToken
from flywheel.models.base import Base
from flywheel.models.collections import (
    ArrangementItem,
    CollectionAction,
    CollectionActionItem,
    CollectionStep,
    CollectionStrategy,
    CreditHoldPlacement,
    Dispute,
    MessageTemplate,
    OutboxMessage,
    PaymentArrangement,
    PromiseItem,
    PromiseToPay,
    Statement,
    WorkerLease,
)
from flywheel.models.credit import (
    CashForecast,
    CreditLimit,
    CreditLimitReview,
    CreditScore,
    PaymentPrediction,
)
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.demo import DemoCustomerTraits
from flywheel.models.feedback import (
    FeedbackLoop,
    FeedbackTopic,
    Survey,
    SurveyCampaign,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
    TextAnalysis,
)
from flywheel.models.importers import ImportBatch
from flywheel.models.loyalty import (
    LoyaltyModelFit,
    LoyaltyScore,
    NextAction,
    NextActionRule,
    Referral,
    ReferralRewardRule,
)
from flywheel.models.receivables import Allocation, CreditNote, Installment, Invoice, Payment
from flywheel.models.sales import Order
from flywheel.models.users import User

__all__ = [
    "Allocation",
    "ApiToken",
    "ArrangementItem",
    "AuditEvent",
    "Base",
    "CashForecast",
    "CollectionAction",
    "CollectionActionItem",
    "CollectionStep",
    "CollectionStrategy",
    "Contact",
    "CreditHoldPlacement",
    "CreditLimit",
    "CreditLimitReview",
    "CreditNote",
    "CreditScore",
    "Customer",
    "DemoCustomerTraits",
    "Dispute",
    "FeedbackLoop",
    "FeedbackTopic",
    "ImportBatch",
    "Installment",
    "Invoice",
    "LoyaltyModelFit",
    "LoyaltyScore",
    "MessageTemplate",
    "NextAction",
    "NextActionRule",
    "Order",
    "OutboxMessage",
    "Payment",
    "PaymentArrangement",
    "PaymentPrediction",
    "PromiseItem",
    "PromiseToPay",
    "Referral",
    "ReferralRewardRule",
    "Statement",
    "Survey",
    "SurveyCampaign",
    "SurveyInvitation",
    "SurveyOptOut",
    "SurveyResponse",
    "TextAnalysis",
    "Touchpoint",
    "User",
    "WorkerLease",
]
