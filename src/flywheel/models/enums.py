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
