"""What each role may do: the one table every page, API route and CLI check reads.

Reading is scoped, not permitted: every role may read, and ``auth.scope.visible_customers``
narrows a sales rep to his own accounts. The table below is about changes (and a few pages that
only some roles need). A permission is granted to whole roles; the scope still applies on top,
so a sales rep allowed to log touchpoints logs them only on accounts he owns.
"""

from __future__ import annotations

from enum import StrEnum

from flywheel.auth.actor import Actor
from flywheel.errors import Forbidden
from flywheel.models.enums import Role


class Permission(StrEnum):
    EDIT_CUSTOMERS = "edit_customers"  # accounts and their contacts
    LOG_TOUCHPOINTS = "log_touchpoints"
    EDIT_ORDERS = "edit_orders"
    EDIT_INVOICES = "edit_invoices"  # issue, change, cancel, write off
    RECORD_PAYMENTS = "record_payments"  # payments and their allocations
    ISSUE_CREDIT_NOTES = "issue_credit_notes"
    IMPORT_DATA = "import_data"
    MANAGE_USERS = "manage_users"
    VIEW_AR_ANALYTICS = "view_ar_analytics"  # aging, DSO/CEI (a sales rep: of his own book)
    APPROVE_CREDIT_LIMITS = "approve_credit_limits"  # the credit limit review queue
    OVERRIDE_CREDIT_HOLD = "override_credit_hold"  # let an order or invoice past a credit check
    VIEW_CASH_FORECAST = "view_cash_forecast"  # company-wide, so not a sales rep's
    # Log calls, record promises to pay, open disputes, send statements, propose arrangements.
    WORK_COLLECTIONS = "work_collections"
    MANAGE_COLLECTION_STRATEGIES = "manage_collection_strategies"  # strategies and templates
    RESOLVE_DISPUTES = "resolve_disputes"
    # Approve plans and extensions, up to the role's limit (FLYWHEEL_ARRANGEMENT_APPROVAL_LIMITS).
    APPROVE_ARRANGEMENTS = "approve_arrangements"
    MANAGE_SURVEYS = "manage_surveys"  # surveys, campaigns, the topic taxonomy; send now
    # Log the call-back on a feedback follow-up and close it; reassign it (scoped like the rest).
    WORK_FEEDBACK = "work_feedback"
    # Record referrals and move them from lead to won or lost (on the accounts in scope).
    WORK_REFERRALS = "work_referrals"
    # Grant or decline a referral reward (a credit note, or a discount on the next order).
    GRANT_REFERRAL_REWARDS = "grant_referral_rewards"
    # Mark a next best action done or dismissed (scoped: a rep his own accounts').
    WORK_NEXT_ACTIONS = "work_next_actions"
    # The loyalty settings kept as data: next-best-action rules and referral reward rules.
    MANAGE_LOYALTY_RULES = "manage_loyalty_rules"
    # Key accounts: plans, stakeholder maps and needs (on the accounts in scope).
    EDIT_KEY_ACCOUNTS = "edit_key_accounts"
    # Deals: create, move through the stages, win or lose (scoped).
    WORK_DEALS = "work_deals"
    MANAGE_DEAL_STAGES = "manage_deal_stages"
    # Negotiations: prepare, log meetings and concessions, close (scoped).
    NEGOTIATE = "negotiate"
    # Approve a concession beyond the discount or payment-term thresholds.
    APPROVE_CONCESSIONS = "approve_concessions"
    # Contracts and their milestones; account tasks are worked with WORK_DEALS' roles.
    MANAGE_CONTRACTS = "manage_contracts"
    # The flywheel dashboard's targets.
    SET_KPI_TARGETS = "set_kpi_targets"
    # The management reports: read them, send one now; the worker sends them to managers.
    MANAGE_REPORTS = "manage_reports"


_A, _M, _S, _C, _F = Role.ADMIN, Role.MANAGER, Role.SALES, Role.COLLECTOR, Role.FINANCE

GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.EDIT_CUSTOMERS: frozenset({_A, _M, _S}),
    Permission.LOG_TOUCHPOINTS: frozenset({_A, _M, _S, _C}),
    Permission.EDIT_ORDERS: frozenset({_A, _M, _S, _F}),
    Permission.EDIT_INVOICES: frozenset({_A, _F}),
    Permission.RECORD_PAYMENTS: frozenset({_A, _C, _F}),
    Permission.ISSUE_CREDIT_NOTES: frozenset({_A, _M, _F}),
    Permission.IMPORT_DATA: frozenset({_A, _M, _F}),
    Permission.MANAGE_USERS: frozenset({_A}),
    Permission.VIEW_AR_ANALYTICS: frozenset({_A, _M, _S, _C, _F}),
    Permission.APPROVE_CREDIT_LIMITS: frozenset({_A, _F}),
    # The credit controller (collector role) and finance decide; sales asks them.
    Permission.OVERRIDE_CREDIT_HOLD: frozenset({_A, _C, _F}),
    Permission.VIEW_CASH_FORECAST: frozenset({_A, _M, _C, _F}),
    Permission.WORK_COLLECTIONS: frozenset({_A, _M, _S, _C, _F}),
    Permission.MANAGE_COLLECTION_STRATEGIES: frozenset({_A, _C, _F}),
    Permission.RESOLVE_DISPUTES: frozenset({_A, _M, _C, _F}),
    Permission.APPROVE_ARRANGEMENTS: frozenset({_A, _C, _F}),
    Permission.MANAGE_SURVEYS: frozenset({_A, _M}),
    Permission.WORK_FEEDBACK: frozenset({_A, _M, _S, _C}),
    Permission.WORK_REFERRALS: frozenset({_A, _M, _S}),
    Permission.GRANT_REFERRAL_REWARDS: frozenset({_A, _M, _F}),
    Permission.WORK_NEXT_ACTIONS: frozenset({_A, _M, _S, _C}),
    Permission.MANAGE_LOYALTY_RULES: frozenset({_A, _M}),
    Permission.EDIT_KEY_ACCOUNTS: frozenset({_A, _M, _S}),
    Permission.WORK_DEALS: frozenset({_A, _M, _S}),
    Permission.MANAGE_DEAL_STAGES: frozenset({_A, _M}),
    Permission.NEGOTIATE: frozenset({_A, _M, _S}),
    Permission.APPROVE_CONCESSIONS: frozenset({_A, _M}),
    Permission.MANAGE_CONTRACTS: frozenset({_A, _M, _S, _F}),
    Permission.SET_KPI_TARGETS: frozenset({_A, _M}),
    Permission.MANAGE_REPORTS: frozenset({_A, _M, _F}),
}


def allows(actor: Actor, permission: Permission) -> bool:
    """Whether ``actor``'s role carries ``permission`` (a viewer's never does)."""
    return actor.role in GRANTS[permission]


def check(actor: Actor, permission: Permission) -> None:
    """Raise ``Forbidden`` unless ``actor`` may do ``permission``."""
    if not allows(actor, permission):
        roles = ", ".join(sorted(GRANTS[permission]))
        raise Forbidden(
            f"{permission.value.replace('_', ' ')} needs one of the roles: {roles}",
            role=actor.role.value,
            permission=permission.value,
        )
