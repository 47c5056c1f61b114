"""Every route of the app, in one table: who may call it, and what a denial looks like.

For each row: anonymous callers get 401 (API) or a 303 to the sign-in page (pages); each role
gets the row's success status when ``auth.permissions.GRANTS`` gives it the row's permission
(``None``: every signed-in role may, a read) and 403 otherwise; a sales rep naming a record of
an account he does not own gets 404, or, in a list, nothing of it. Every denial changes
nothing in the database. ``test_every_route_has_a_row`` fails for a route the table misses:
a new route gets its row here (pages in ``PAGE_ROUTES``; pages not checked yet are named in
``PAGES_AWAITING_ROWS``). The customer's statement link needs no sign-in: its token is the
only key (``test_the_statement_link_is_the_only_key``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.auth.permissions import GRANTS, Permission
from flywheel.collections import templates as message_templates
from flywheel.insights import report as insight_reports
from flywheel.web.contract import today
from tests.factories import TESTER
from tests.web.api_support import (
    CALLERS,
    Company,
    SharedClient,
    World,
    add_documents,
    company_for_module,
    database_state,
    shared_client,
)

P = Permission
Keys = dict[str, Any]
Body = Callable[[Keys], dict[str, Any]]

# Records the module's company adds for the document pages (filled by ``company``).
DOCUMENTS: dict[str, int] = {}

# How a record outside a sales rep's book answers him.
NOT_FOUND = "not found"  # a 404, exactly like a missing record
LEFT_OUT = "left out"  # a list filtered to that account answers 200 with nothing in it


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as the app declares it
    permission: Permission | None  # None: any signed-in role (a read)
    url: str  # ``path`` with the scope's keys, e.g. "/api/v1/invoices/{invoice}"
    body: Body | None = None  # JSON, from the scope's keys
    form: Body | None = None  # a form (with ``files`` a multipart upload)
    files: Callable[[Keys], dict[str, Any]] | None = None
    scope: str | None = None  # NOT_FOUND or LEFT_OUT when the url names an account's record
    ok: int = 200

    @property
    def is_page(self) -> bool:
        return not self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _json(**fields: Any) -> Body:
    return lambda keys: {
        k: (v.format(**keys) if isinstance(v, str) else v) for k, v in fields.items()
    }


CSV_UPLOAD = "code,name\nMATRIX-1,矩阵客户\n"
API_ROUTES = [
    # customers
    Row("GET", "/api/v1/customers", None, "/api/v1/customers?search={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/customers",
        P.EDIT_CUSTOMERS,
        "/api/v1/customers",
        body=_json(code="NEW-1", name="新客户"),
        ok=201,
    ),
    Row("GET", "/api/v1/customers/{code}", None, "/api/v1/customers/{customer}", scope=NOT_FOUND),
    Row(
        "PATCH",
        "/api/v1/customers/{code}",
        P.EDIT_CUSTOMERS,
        "/api/v1/customers/{customer}",
        body=_json(tier="key"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/customers/{code}/contacts",
        None,
        "/api/v1/customers/{customer}/contacts",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/contacts",
        P.EDIT_CUSTOMERS,
        "/api/v1/customers/{customer}/contacts",
        body=_json(name="新联系人"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "GET", "/api/v1/contacts/{contact_id}", None, "/api/v1/contacts/{contact}", scope=NOT_FOUND
    ),
    Row(
        "PATCH",
        "/api/v1/contacts/{contact_id}",
        P.EDIT_CUSTOMERS,
        "/api/v1/contacts/{contact}",
        body=_json(title="总经理"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/touchpoints",
        None,
        "/api/v1/touchpoints?customer={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "GET",
        "/api/v1/customers/{code}/touchpoints",
        None,
        "/api/v1/customers/{customer}/touchpoints",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/touchpoints",
        P.LOG_TOUCHPOINTS,
        "/api/v1/customers/{customer}/touchpoints",
        body=_json(kind="call", occurred_at="2026-05-03T10:00:00+08:00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    # orders
    Row("GET", "/api/v1/orders", None, "/api/v1/orders?customer={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/orders",
        P.EDIT_ORDERS,
        "/api/v1/orders",
        body=_json(
            number="ORD-NEW", customer="{customer}", order_date="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row("GET", "/api/v1/orders/{number}", None, "/api/v1/orders/{order}", scope=NOT_FOUND),
    Row(
        "PUT",
        "/api/v1/orders/{number}",
        P.EDIT_ORDERS,
        "/api/v1/orders/{order}",
        body=_json(customer="{customer}", order_date="2025-12-20", amount="990.00"),
        scope=NOT_FOUND,
    ),
    # invoices
    Row("GET", "/api/v1/invoices", None, "/api/v1/invoices?customer={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/invoices",
        P.EDIT_INVOICES,
        "/api/v1/invoices",
        body=_json(
            number="INV-NEW", customer="{customer}", issue_date="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row("GET", "/api/v1/invoices/{number}", None, "/api/v1/invoices/{invoice}", scope=NOT_FOUND),
    Row(
        "POST",
        "/api/v1/invoices/{number}/cancel",
        P.EDIT_INVOICES,
        "/api/v1/invoices/{cancellable}/cancel",
        body=_json(reason="开错了"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/invoices/{number}/write-off",
        P.EDIT_INVOICES,
        "/api/v1/invoices/{invoice}/write-off",
        body=_json(reason="破产"),
        scope=NOT_FOUND,
    ),
    # payments
    Row("GET", "/api/v1/payments", None, "/api/v1/payments?customer={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/payments",
        P.RECORD_PAYMENTS,
        "/api/v1/payments",
        body=_json(
            reference="PAY-NEW", customer="{customer}", received_on="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/payments/preview",
        P.RECORD_PAYMENTS,
        "/api/v1/payments/preview",
        body=_json(
            reference="PAY-NEW", customer="{customer}", received_on="2026-05-01", amount="10.00"
        ),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/payments/{reference}", None, "/api/v1/payments/{payment}", scope=NOT_FOUND),
    Row(
        "POST",
        "/api/v1/payments/{reference}/allocations",
        P.RECORD_PAYMENTS,
        "/api/v1/payments/{payment}/allocations",
        body=_json(invoice="{cancellable}", amount="10.00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "DELETE",
        "/api/v1/allocations/{allocation_id}",
        P.RECORD_PAYMENTS,
        "/api/v1/allocations/{allocation}",
        scope=NOT_FOUND,
        ok=204,
    ),
    # credit notes
    Row(
        "GET",
        "/api/v1/credit-notes",
        None,
        "/api/v1/credit-notes?customer={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/credit-notes",
        P.ISSUE_CREDIT_NOTES,
        "/api/v1/credit-notes",
        body=_json(number="CN-NEW", invoice="{invoice}", issue_date="2026-05-01", amount="10.00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "GET",
        "/api/v1/credit-notes/{number}",
        None,
        "/api/v1/credit-notes/{credit_note}",
        scope=NOT_FOUND,
    ),
    # receivables analytics
    Row("GET", "/api/v1/ar/aging", P.VIEW_AR_ANALYTICS, "/api/v1/ar/aging"),
    Row(
        "GET",
        "/api/v1/ar/aging/installments",
        P.VIEW_AR_ANALYTICS,
        "/api/v1/ar/aging/installments?by=customer&group={customer}",
        scope=LEFT_OUT,
    ),
    Row("GET", "/api/v1/ar/kpis", P.VIEW_AR_ANALYTICS, "/api/v1/ar/kpis"),
    # credit
    Row(
        "GET",
        "/api/v1/customers/{code}/credit",
        None,
        "/api/v1/customers/{customer}/credit?as_of=2026-07-01",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/credit/limit-reviews",
        P.APPROVE_CREDIT_LIMITS,
        "/api/v1/credit/limit-reviews",
    ),
    Row(
        "POST",
        "/api/v1/credit/limit-reviews/{review_id}/approve",
        P.APPROVE_CREDIT_LIMITS,
        "/api/v1/credit/limit-reviews/{review}/approve",
        body=_json(note="matrix"),
    ),
    Row(
        "POST",
        "/api/v1/credit/limit-reviews/{review_id}/reject",
        P.APPROVE_CREDIT_LIMITS,
        "/api/v1/credit/limit-reviews/{review}/reject",
        body=_json(note="matrix"),
    ),
    Row(
        "GET", "/api/v1/credit/cash-forecast", P.VIEW_CASH_FORECAST, "/api/v1/credit/cash-forecast"
    ),
    # imports
    Row("GET", "/api/v1/imports", P.IMPORT_DATA, "/api/v1/imports"),
    Row("GET", "/api/v1/imports/{batch_id}", P.IMPORT_DATA, "/api/v1/imports/{batch}"),
    Row(
        "GET",
        "/api/v1/imports/{batch_id}/rejects",
        P.IMPORT_DATA,
        "/api/v1/imports/{batch}/rejects",
    ),
    Row(
        "POST",
        "/api/v1/imports/{entity}",
        P.IMPORT_DATA,
        "/api/v1/imports/customers",
        form=_json(dry_run="false"),
        files=lambda keys: {"file": ("matrix.csv", CSV_UPLOAD.encode(), "text/csv")},
    ),
    # users
    Row("GET", "/api/v1/users", P.MANAGE_USERS, "/api/v1/users"),
    Row(
        "POST",
        "/api/v1/users",
        P.MANAGE_USERS,
        "/api/v1/users",
        body=_json(username="new.user", role="viewer"),
        ok=201,
    ),
    Row(
        "PATCH",
        "/api/v1/users/{username}",
        P.MANAGE_USERS,
        "/api/v1/users/viewer",
        body=_json(display_name="只读用户"),
    ),
    Row(
        "POST",
        "/api/v1/users/{username}/reset-password",
        P.MANAGE_USERS,
        "/api/v1/users/viewer/reset-password",
        body=_json(),
    ),
    # collections
    Row(
        "GET",
        "/api/v1/collections/worklist",
        None,
        "/api/v1/collections/worklist?mine=all&q={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/collections/actions/{action_id}/call",
        P.WORK_COLLECTIONS,
        "/api/v1/collections/actions/{action}/call",
        body=_json(outcome="reached", note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/collections/actions/{action_id}/done",
        P.WORK_COLLECTIONS,
        "/api/v1/collections/actions/{action}/done",
        body=_json(note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/collections/actions/{action_id}/cancel",
        P.WORK_COLLECTIONS,
        "/api/v1/collections/actions/{action}/cancel",
        body=_json(reason="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/collections/actions/{action_id}/send",
        P.WORK_COLLECTIONS,
        "/api/v1/collections/actions/{message}/send",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/calls",
        P.WORK_COLLECTIONS,
        "/api/v1/customers/{customer}/calls",
        body=_json(outcome="no_answer"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "GET",
        "/api/v1/customers/{code}/collections",
        None,
        "/api/v1/customers/{customer}/collections",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/collections/promises",
        None,
        "/api/v1/collections/promises?customer={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/promises",
        P.WORK_COLLECTIONS,
        "/api/v1/customers/{customer}/promises",
        body=_json(amount="10.00", promised_on="{soon}"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/collections/promises/{promise_id}/cancel",
        P.WORK_COLLECTIONS,
        "/api/v1/collections/promises/{promise}/cancel",
        body=_json(reason="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/collections/disputes",
        None,
        "/api/v1/collections/disputes?customer={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "GET",
        "/api/v1/collections/disputes/{dispute_id}",
        None,
        "/api/v1/collections/disputes/{dispute}",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/disputes",
        P.WORK_COLLECTIONS,
        "/api/v1/customers/{customer}/disputes",
        body=_json(installment_id="{installment}", reason="quality", amount="10.00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/collections/disputes/{dispute_id}/resolve",
        P.RESOLVE_DISPUTES,
        "/api/v1/collections/disputes/{dispute}/resolve",
        body=_json(resolution="rejected", note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/collections/disputes/{dispute_id}/reassign",
        P.RESOLVE_DISPUTES,
        "/api/v1/collections/disputes/{dispute}/reassign",
        body=_json(owner="collector"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/collections/arrangements",
        None,
        "/api/v1/collections/arrangements?customer={customer}",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/plans",
        P.WORK_COLLECTIONS,
        "/api/v1/customers/{customer}/plans",
        body=lambda keys: {
            "installments": 2,
            "first_due_on": keys["soon"],
            "reason": "矩阵",
            "installment_ids": [keys["free_installment"]],
        },
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/extensions",
        P.WORK_COLLECTIONS,
        "/api/v1/customers/{customer}/extensions",
        body=lambda keys: {
            "installment_id": keys["free_installment"],
            "new_due_on": keys["soon"],
            "reason": "矩阵",
        },
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/collections/arrangements/{arrangement_id}/approve",
        P.APPROVE_ARRANGEMENTS,
        "/api/v1/collections/arrangements/{arrangement}/approve",
        body=_json(note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/collections/arrangements/{arrangement_id}/reject",
        P.APPROVE_ARRANGEMENTS,
        "/api/v1/collections/arrangements/{arrangement}/reject",
        body=_json(note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/collections/arrangements/{arrangement_id}/cancel",
        P.WORK_COLLECTIONS,
        "/api/v1/collections/arrangements/{arrangement}/cancel",
        body=_json(note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/collections/arrangements/{arrangement_id}/confirm",
        P.WORK_COLLECTIONS,
        "/api/v1/collections/arrangements/{arrangement}/confirm",
        body=_json(confirmation="王经理 e-mail"),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/collections/strategies", None, "/api/v1/collections/strategies"),
    Row(
        "PUT",
        "/api/v1/collections/strategies/{grade}",
        P.MANAGE_COLLECTION_STRATEGIES,
        "/api/v1/collections/strategies/A?tier=growth",
        body=lambda keys: {"name": "矩阵", "steps": [{"day_offset": 5, "channel": "call"}]},
    ),
    Row(
        "DELETE",
        "/api/v1/collections/strategies/{strategy_id}",
        P.MANAGE_COLLECTION_STRATEGIES,
        "/api/v1/collections/strategies/{strategy}",
        ok=204,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/credit-hold",
        P.OVERRIDE_CREDIT_HOLD,
        "/api/v1/customers/{customer}/credit-hold",
        body=_json(reason="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "DELETE",
        "/api/v1/customers/{code}/credit-hold",
        P.OVERRIDE_CREDIT_HOLD,
        "/api/v1/customers/{customer}/credit-hold?reason=matrix",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/customers/{code}/statements",
        P.WORK_COLLECTIONS,
        "/api/v1/customers/{customer}/statements",
        body=_json(send=False),
        scope=NOT_FOUND,
        ok=201,
    ),
    # feedback: surveys and campaigns
    Row("GET", "/api/v1/feedback/surveys", None, "/api/v1/feedback/surveys"),
    Row(
        "POST",
        "/api/v1/feedback/surveys",
        P.MANAGE_SURVEYS,
        "/api/v1/feedback/surveys",
        body=_json(
            code="matrix-nps",
            kind="nps",
            name_zh="矩阵",
            name_en="Matrix",
            question_zh="推荐吗？",
            question_en="Recommend?",
        ),
        ok=201,
    ),
    Row("GET", "/api/v1/feedback/surveys/{survey_id}", None, "/api/v1/feedback/surveys/{survey}"),
    Row(
        "PATCH",
        "/api/v1/feedback/surveys/{survey_id}",
        P.MANAGE_SURVEYS,
        "/api/v1/feedback/surveys/{survey}",
        body=_json(name_en="Matrix"),
    ),
    Row("GET", "/api/v1/feedback/campaigns", None, "/api/v1/feedback/campaigns"),
    Row(
        "POST",
        "/api/v1/feedback/campaigns",
        P.MANAGE_SURVEYS,
        "/api/v1/feedback/campaigns",
        body=lambda k: {
            "name": "Matrix",
            "survey_id": k["survey"],
            "trigger": "order_delivered",
            "delay_days": 1,
        },
        ok=201,
    ),
    Row(
        "GET",
        "/api/v1/feedback/campaigns/{campaign_id}",
        None,
        "/api/v1/feedback/campaigns/{campaign}",
    ),
    Row(
        "PATCH",
        "/api/v1/feedback/campaigns/{campaign_id}",
        P.MANAGE_SURVEYS,
        "/api/v1/feedback/campaigns/{campaign}",
        body=lambda k: {"sample_rate": 0.5},
    ),
    Row(
        "GET",
        "/api/v1/feedback/invitations",
        None,
        "/api/v1/feedback/invitations?customer={customer}",
        scope=LEFT_OUT,
    ),
    # feedback: metrics and the inbox
    Row("GET", "/api/v1/feedback/metrics", None, "/api/v1/feedback/metrics?by=owner"),
    Row("GET", "/api/v1/feedback/metrics/trend", None, "/api/v1/feedback/metrics/trend"),
    Row(
        "GET",
        "/api/v1/feedback/accounts/{code}/nps",
        None,
        "/api/v1/feedback/accounts/{customer}/nps",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/feedback/responses",
        None,
        "/api/v1/feedback/responses?customer={customer}",
        scope=LEFT_OUT,
    ),
    # feedback: follow-ups and topics
    Row(
        "GET",
        "/api/v1/feedback/loops",
        None,
        "/api/v1/feedback/loops?customer={customer}&status=all",
        scope=LEFT_OUT,
    ),
    Row("GET", "/api/v1/feedback/loops/kpis", None, "/api/v1/feedback/loops/kpis"),
    Row(
        "GET",
        "/api/v1/feedback/loops/{loop_id}",
        None,
        "/api/v1/feedback/loops/{loop}",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/feedback/loops/{loop_id}/callback",
        P.WORK_FEEDBACK,
        "/api/v1/feedback/loops/{loop}/callback",
        body=_json(note="矩阵回访", outcome="resolved"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/feedback/loops/{loop_id}/assign",
        P.WORK_FEEDBACK,
        "/api/v1/feedback/loops/{loop}/assign",
        body=_json(owner="manager"),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/feedback/topics", None, "/api/v1/feedback/topics"),
    Row(
        "POST",
        "/api/v1/feedback/topics",
        P.MANAGE_SURVEYS,
        "/api/v1/feedback/topics",
        body=_json(code="matrix_topic", name_zh="矩阵", name_en="Matrix", keywords_zh=["矩阵"]),
        ok=201,
    ),
    Row("GET", "/api/v1/feedback/topics/suggestions", None, "/api/v1/feedback/topics/suggestions"),
    Row(
        "PATCH",
        "/api/v1/feedback/topics/{code}",
        P.MANAGE_SURVEYS,
        "/api/v1/feedback/topics/delivery",
        body=_json(keywords_en=["delivery", "late"]),
    ),
    # Loyalty: one account's scores, the health list, referrals and rewards, next best actions.
    Row(
        "GET",
        "/api/v1/loyalty/customers/{customer_id}",
        None,
        "/api/v1/loyalty/customers/{customer_id}?as_of=2026-07-01",
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/loyalty/health", None, "/api/v1/loyalty/health"),
    Row("GET", "/api/v1/loyalty/clv-model", None, "/api/v1/loyalty/clv-model"),
    Row(
        "GET",
        "/api/v1/accounts/{code}/stakeholders",
        None,
        "/api/v1/accounts/{customer}/stakeholders",
        scope=NOT_FOUND,
    ),
    Row(
        "PUT",
        "/api/v1/accounts/{code}/stakeholders/{contact_id}",
        P.EDIT_KEY_ACCOUNTS,
        "/api/v1/accounts/{customer}/stakeholders/{contact}",
        body=_json(attitude="champion", influence=4),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/accounts/{code}/coverage",
        None,
        "/api/v1/accounts/{customer}/coverage",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/accounts/{code}/needs",
        None,
        "/api/v1/accounts/{customer}/needs",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/accounts/{code}/needs",
        P.EDIT_KEY_ACCOUNTS,
        "/api/v1/accounts/{customer}/needs",
        body=_json(title="矩阵需求"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/accounts/{code}/needs/promote",
        P.EDIT_KEY_ACCOUNTS,
        "/api/v1/accounts/{customer}/needs/promote",
        body=lambda keys: {"response_id": keys["comment_response"]},
        scope=NOT_FOUND,
    ),
    Row(
        "PATCH",
        "/api/v1/needs/{need_id}",
        P.EDIT_KEY_ACCOUNTS,
        "/api/v1/needs/{need}",
        body=_json(priority=1),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/loyalty/segments", None, "/api/v1/loyalty/segments?by=owner"),
    Row("GET", "/api/v1/loyalty/cohorts", None, "/api/v1/loyalty/cohorts"),
    Row("GET", "/api/v1/loyalty/retention", None, "/api/v1/loyalty/retention?period=quarter"),
    Row("GET", "/api/v1/loyalty/clv-distribution", None, "/api/v1/loyalty/clv-distribution"),
    Row("GET", "/api/v1/loyalty/at-risk", None, "/api/v1/loyalty/at-risk"),
    Row(
        "GET",
        "/api/v1/loyalty/referrals",
        None,
        "/api/v1/loyalty/referrals?customer={customer}&status=all",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/loyalty/referrals",
        P.WORK_REFERRALS,
        "/api/v1/loyalty/referrals",
        body=_json(customer="{customer}", lead_company="矩阵推荐公司"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row("GET", "/api/v1/loyalty/referrals/kpis", None, "/api/v1/loyalty/referrals/kpis"),
    Row("GET", "/api/v1/loyalty/referrals/rules", None, "/api/v1/loyalty/referrals/rules"),
    Row(
        "POST",
        "/api/v1/loyalty/referrals/rules",
        P.MANAGE_LOYALTY_RULES,
        "/api/v1/loyalty/referrals/rules",
        body=_json(name="矩阵规则", kind="discount", percent="5"),
        ok=201,
    ),
    Row(
        "PATCH",
        "/api/v1/loyalty/referrals/rules/{rule_id}",
        P.MANAGE_LOYALTY_RULES,
        "/api/v1/loyalty/referrals/rules/{referral_rule}",
        body=_json(min_first_order="1000.00"),
    ),
    Row(
        "GET",
        "/api/v1/loyalty/referrals/{referral_id}",
        None,
        "/api/v1/loyalty/referrals/{referral}",
        scope=NOT_FOUND,
    ),
    Row(
        "PATCH",
        "/api/v1/loyalty/referrals/{referral_id}",
        P.WORK_REFERRALS,
        "/api/v1/loyalty/referrals/{referral}",
        body=_json(status="contacted"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/loyalty/referrals/{referral_id}/reward",
        P.GRANT_REFERRAL_REWARDS,
        "/api/v1/loyalty/referrals/{rewarded}/reward",
        body=_json(decision="decline", reason="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/loyalty/actions",
        None,
        "/api/v1/loyalty/actions?customer={customer}&status=all",
        scope=LEFT_OUT,
    ),
    Row(
        "GET",
        "/api/v1/loyalty/actions/{next_action_id}",
        None,
        "/api/v1/loyalty/actions/{next_action}",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/loyalty/actions/{next_action_id}/done",
        P.WORK_NEXT_ACTIONS,
        "/api/v1/loyalty/actions/{next_action}/done",
        body=_json(note="矩阵：已介绍"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/loyalty/actions/{next_action_id}/dismiss",
        P.WORK_NEXT_ACTIONS,
        "/api/v1/loyalty/actions/{next_action}/dismiss",
        body=_json(reason="矩阵：不需要"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/loyalty/actions/{next_action_id}/assign",
        P.WORK_NEXT_ACTIONS,
        "/api/v1/loyalty/actions/{next_action}/assign",
        body=_json(owner="manager"),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/loyalty/rules", None, "/api/v1/loyalty/rules"),
    Row("GET", "/api/v1/loyalty/rules/{rule_code}", None, "/api/v1/loyalty/rules/upsell_growing"),
    Row(
        "PUT",
        "/api/v1/loyalty/rules/{rule_code}",
        P.MANAGE_LOYALTY_RULES,
        "/api/v1/loyalty/rules/matrix_rule",
        body=_json(
            name_en="Matrix",
            name_zh="矩阵",
            action="check_in",
            conditions=[{"field": "health", "op": "ge", "value": 50}],
        ),
    ),
    Row(
        "PATCH",
        "/api/v1/loyalty/rules/{rule_code}",
        P.MANAGE_LOYALTY_RULES,
        "/api/v1/loyalty/rules/upsell_growing",
        body=_json(priority=55),
    ),
    Row(
        "GET",
        "/api/v1/accounts/{code}/terms-cost",
        None,
        "/api/v1/accounts/{customer}/terms-cost?amount=1000.00&terms_days=30",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/negotiations",
        None,
        "/api/v1/negotiations?customer={customer}&status=all",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/negotiations",
        P.NEGOTIATE,
        "/api/v1/negotiations",
        body=_json(customer="{customer}", title="矩阵谈判"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "GET",
        "/api/v1/negotiations/{negotiation_id}",
        None,
        "/api/v1/negotiations/{negotiation}",
        scope=NOT_FOUND,
    ),
    Row(
        "PATCH",
        "/api/v1/negotiations/{negotiation_id}",
        P.NEGOTIATE,
        "/api/v1/negotiations/{negotiation}",
        body=_json(our_objectives="矩阵目标"),
        scope=NOT_FOUND,
    ),
    Row(
        "PUT",
        "/api/v1/negotiations/{negotiation_id}/issues/{issue_name}",
        P.NEGOTIATE,
        "/api/v1/negotiations/{negotiation}/issues/price",
        body=_json(our_target="105"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/negotiations/{negotiation_id}/concessions",
        P.NEGOTIATE,
        "/api/v1/negotiations/{negotiation}/concessions",
        body=_json(give="矩阵让步"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/concessions/{concession_id}/approve",
        P.APPROVE_CONCESSIONS,
        "/api/v1/concessions/{concession}/approve",
        body=_json(note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/concessions/{concession_id}/reject",
        P.APPROVE_CONCESSIONS,
        "/api/v1/concessions/{concession}/reject",
        body=_json(note="矩阵"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/negotiations/{negotiation_id}/meetings",
        P.NEGOTIATE,
        "/api/v1/negotiations/{negotiation}/meetings",
        body=_json(notes="矩阵会谈"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/negotiations/{negotiation_id}/close",
        P.NEGOTIATE,
        "/api/v1/negotiations/{negotiation}/close",
        body=_json(outcome="agreed"),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/contracts", None, "/api/v1/contracts?customer={customer}", scope=LEFT_OUT),
    Row(
        "POST",
        "/api/v1/contracts",
        P.MANAGE_CONTRACTS,
        "/api/v1/contracts",
        body=_json(
            customer="{customer}",
            number="HT-MATRIX-NEW",
            title="矩阵合同",
            value="5000.00",
            start_on="2026-01-01",
            end_on="2026-12-31",
        ),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "GET",
        "/api/v1/contracts/{contract_id}",
        None,
        "/api/v1/contracts/{contract}",
        scope=NOT_FOUND,
    ),
    Row(
        "PATCH",
        "/api/v1/contracts/{contract_id}",
        P.MANAGE_CONTRACTS,
        "/api/v1/contracts/{contract}",
        body=_json(value="120000.00"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/contracts/{contract_id}/milestones",
        P.MANAGE_CONTRACTS,
        "/api/v1/contracts/{contract}/milestones",
        body=_json(title="评审", kind="review", due_on="2026-09-30", checkpoint="task"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "POST",
        "/api/v1/milestones/{milestone_id}/done",
        P.MANAGE_CONTRACTS,
        "/api/v1/milestones/{milestone}/done",
        body=_json(done_on="2026-07-01"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/api/v1/accounts/tasks",
        None,
        "/api/v1/accounts/tasks?customer={customer}&mine=false",
        scope=LEFT_OUT,
    ),
    Row(
        "POST",
        "/api/v1/accounts/tasks/{task_id}/done",
        P.MANAGE_CONTRACTS,
        "/api/v1/accounts/tasks/{account_task}/done",
        body=_json(status="done"),
        scope=NOT_FOUND,
    ),
    Row(
        "GET", "/api/v1/deals", None, "/api/v1/deals?customer={customer}&status=all", scope=LEFT_OUT
    ),
    Row(
        "POST",
        "/api/v1/deals",
        P.WORK_DEALS,
        "/api/v1/deals",
        body=_json(customer="{customer}", title="矩阵商机", value="1000.00"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row("GET", "/api/v1/deals/stages", None, "/api/v1/deals/stages"),
    Row(
        "PUT",
        "/api/v1/deals/stages/{stage_code}",
        P.MANAGE_DEAL_STAGES,
        "/api/v1/deals/stages/matrix",
        body=_json(name_zh="矩阵", probability=30),
    ),
    Row("GET", "/api/v1/deals/figures", None, "/api/v1/deals/figures"),
    Row("GET", "/api/v1/deals/{deal_id}", None, "/api/v1/deals/{deal}", scope=NOT_FOUND),
    Row(
        "PATCH",
        "/api/v1/deals/{deal_id}",
        P.WORK_DEALS,
        "/api/v1/deals/{deal}",
        body=_json(title="矩阵改名"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/deals/{deal_id}/move",
        P.WORK_DEALS,
        "/api/v1/deals/{deal}/move",
        body=_json(stage="proposal"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/deals/{deal_id}/win",
        P.WORK_DEALS,
        "/api/v1/deals/{deal}/win",
        body=_json(),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/deals/{deal_id}/lose",
        P.WORK_DEALS,
        "/api/v1/deals/{deal}/lose",
        body=_json(lost_reason="矩阵"),
        scope=NOT_FOUND,
    ),
    Row("GET", "/api/v1/accounts", None, "/api/v1/accounts?q={customer}"),
    Row(
        "GET",
        "/api/v1/accounts/{code}/plan",
        None,
        "/api/v1/accounts/{customer}/plan",
        scope=NOT_FOUND,
    ),
    Row(
        "PUT",
        "/api/v1/accounts/{code}/plan",
        P.EDIT_KEY_ACCOUNTS,
        "/api/v1/accounts/{customer}/plan",
        body=_json(revenue_target="150000.00"),
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/api/v1/accounts/{code}/plan/objectives",
        P.EDIT_KEY_ACCOUNTS,
        "/api/v1/accounts/{customer}/plan/objectives",
        body=_json(title="矩阵目标二"),
        scope=NOT_FOUND,
        ok=201,
    ),
    Row(
        "PATCH",
        "/api/v1/objectives/{objective_id}",
        P.EDIT_KEY_ACCOUNTS,
        "/api/v1/objectives/{objective}",
        body=_json(status="at_risk"),
        scope=NOT_FOUND,
    ),
    # insights: every figure of the flywheel dashboard for BI tools
    Row("GET", "/api/v1/insights/kpis", None, "/api/v1/insights/kpis"),
    Row("GET", "/api/v1/insights/dashboard", None, "/api/v1/insights/dashboard?period=3m"),
    Row("GET", "/api/v1/insights/kpis/{code}", None, "/api/v1/insights/kpis/nps?months=24"),
    Row(
        "GET",
        "/api/v1/insights/drills/{code}",
        None,
        "/api/v1/insights/drills/overdue_accounts",
    ),
    Row("GET", "/api/v1/insights/months", None, "/api/v1/insights/months"),
    Row("GET", "/api/v1/insights/league", None, "/api/v1/insights/league?by=region"),
    Row("GET", "/api/v1/insights/transitions", None, "/api/v1/insights/transitions?kind=grade"),
    Row("GET", "/api/v1/insights/targets", None, "/api/v1/insights/targets"),
    Row(
        "GET",
        "/api/v1/insights/forecast",
        P.VIEW_CASH_FORECAST,
        "/api/v1/insights/forecast?period=3m",
    ),
    Row(
        "PUT",
        "/api/v1/insights/targets/{kpi}",
        P.SET_KPI_TARGETS,
        "/api/v1/insights/targets/win_rate",
        body=_json(value=35),
    ),
    Row(
        "DELETE",
        "/api/v1/insights/targets/{kpi}",
        P.SET_KPI_TARGETS,
        "/api/v1/insights/targets/win_rate",
        ok=204,
    ),
    Row("GET", "/api/v1/insights/reports", P.MANAGE_REPORTS, "/api/v1/insights/reports"),
    Row(
        "GET",
        "/api/v1/insights/reports/{report_id}",
        P.MANAGE_REPORTS,
        "/api/v1/insights/reports/{report}",
    ),
]

# HTML pages. They take the same bearer tokens; an anonymous visitor is sent to sign in.
PAGE_ROUTES = [
    Row("GET", "/", None, "/", ok=303),
    Row("GET", "/account", None, "/account"),
    Row("GET", "/customers", None, "/customers?q={customer}"),
    Row("GET", "/customers/export.csv", None, "/customers/export.csv"),
    Row("GET", "/customers/export.xlsx", None, "/customers/export.xlsx"),
    Row("GET", "/customers/{code}", None, "/customers/{customer}", scope=NOT_FOUND),
    Row(
        "GET", "/customers/{code}/timeline", None, "/customers/{customer}/timeline", scope=NOT_FOUND
    ),
    Row("GET", "/invoices", None, "/invoices"),
    Row("GET", "/invoices/export.{format}", None, "/invoices/export.csv?customer={customer}"),
    Row("GET", "/invoices/{number:path}", None, "/invoices/{invoice}", scope=NOT_FOUND),
    Row(
        "GET",
        "/invoices/{number:path}/credit-notes/new",
        P.ISSUE_CREDIT_NOTES,
        "/invoices/{invoice}/credit-notes/new",
        scope=NOT_FOUND,
    ),
    Row("GET", "/ar", P.VIEW_AR_ANALYTICS, "/ar"),
    Row("GET", "/ar/export.{format}", P.VIEW_AR_ANALYTICS, "/ar/export.xlsx"),
    Row("GET", "/credit/reviews", P.APPROVE_CREDIT_LIMITS, "/credit/reviews"),
    Row(
        "GET",
        "/credit/reviews/export.{format}",
        P.APPROVE_CREDIT_LIMITS,
        "/credit/reviews/export.csv",
    ),
    Row(
        "POST",
        "/credit/reviews/{review_id}",
        P.APPROVE_CREDIT_LIMITS,
        "/credit/reviews/{review}",
        form=_json(decision="approve", note="matrix"),
        ok=303,
    ),
    Row("GET", "/credit/forecast", P.VIEW_CASH_FORECAST, "/credit/forecast"),
    Row(
        "GET",
        "/credit/forecast/export.{format}",
        P.VIEW_CASH_FORECAST,
        "/credit/forecast/export.xlsx",
    ),
    Row("GET", "/ar/kpis", P.VIEW_AR_ANALYTICS, "/ar/kpis"),
    Row(
        "GET",
        "/ar/aging/installments",
        P.VIEW_AR_ANALYTICS,
        "/ar/aging/installments?by=customer&group={customer}",
    ),
    Row(
        "GET",
        "/ar/aging/installments/export.{format}",
        P.VIEW_AR_ANALYTICS,
        "/ar/aging/installments/export.csv?by=customer&group={customer}",
    ),
    Row("GET", "/payments/new", P.RECORD_PAYMENTS, "/payments/new"),
    Row("GET", "/payments/customers", P.RECORD_PAYMENTS, "/payments/customers?q={customer}"),
    Row("GET", "/imports", P.IMPORT_DATA, "/imports"),
    Row("GET", "/imports/template/{entity}.csv", P.IMPORT_DATA, "/imports/template/customers.csv"),
    Row(
        "GET",
        "/imports/batches/{batch_id}/rejects.csv",
        P.IMPORT_DATA,
        "/imports/batches/{batch}/rejects.csv",
    ),
    Row("GET", "/users", P.MANAGE_USERS, "/users"),
    # Forms. Pages take the bearer token too (then no CSRF token is needed: a browser never
    # sends that header by itself); cookie sessions and their CSRF checks are in test_sign_in.
    Row(
        "POST",
        "/customers/{code}/touchpoints",
        P.LOG_TOUCHPOINTS,
        "/customers/{customer}/touchpoints",
        form=_json(kind="call", occurred_at="2026-01-05 10:00", summary="矩阵回访"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/payments/preview",
        P.RECORD_PAYMENTS,
        "/payments/preview",
        form=_json(customer="{customer}", amount="10.00"),
    ),
    Row(
        "POST",
        "/payments",
        P.RECORD_PAYMENTS,
        "/payments",
        form=_json(
            customer="{customer}", reference="PAGE-PAY-1", received_on="2026-05-01", amount="10.00"
        ),
        ok=303,
    ),
    Row(
        "POST",
        "/invoices/{number:path}/credit-notes/new",
        P.ISSUE_CREDIT_NOTES,
        "/invoices/{invoice}/credit-notes/new",
        form=_json(number="PAGE-CN-1", issue_date="2026-05-01", amount="1.00", reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/users",
        P.MANAGE_USERS,
        "/users",
        form=_json(username="page-new", role="sales", language="zh"),
    ),
    Row(
        "POST",
        "/users/{username}/role",
        P.MANAGE_USERS,
        "/users/viewer/role",
        form=_json(role="finance"),
        ok=303,
    ),
    Row("POST", "/users/{username}/disable", P.MANAGE_USERS, "/users/viewer/disable", ok=303),
    Row("POST", "/users/{username}/enable", P.MANAGE_USERS, "/users/viewer/enable", ok=303),
    Row("POST", "/users/{username}/reset-password", P.MANAGE_USERS, "/users/viewer/reset-password"),
    Row("POST", "/sign-out", None, "/sign-out", ok=303),
    Row(
        "POST",
        "/account/password",
        None,
        "/account/password",
        form=_json(
            current="not the password", new="a new long secret", confirm="a new long secret"
        ),
        ok=422,
    ),
    Row(
        "POST",
        "/imports",
        P.IMPORT_DATA,
        "/imports",
        form=_json(entity="customers"),
        files=lambda keys: {"file": ("matrix.csv", CSV_UPLOAD.encode("utf-8"), "text/csv")},
        ok=303,
    ),
    # collections
    Row("GET", "/collections", None, "/collections?mine=all&q={customer}"),
    Row(
        "GET", "/collections/export.{format}", None, "/collections/export.csv?mine=all&q={customer}"
    ),
    Row(
        "GET",
        "/collections/actions/{action_id}/call",
        P.WORK_COLLECTIONS,
        "/collections/actions/{action}/call",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/collections/actions/{action_id}/letter",
        None,
        "/collections/actions/{letter}/letter",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/collections/actions/{action_id}/letter.pdf",
        None,
        "/collections/actions/{letter}/letter.pdf",
        scope=NOT_FOUND,
    ),
    Row("GET", "/collections/disputes", None, "/collections/disputes?status=open"),
    Row(
        "GET",
        "/collections/disputes/export.{format}",
        None,
        "/collections/disputes/export.csv?status=all",
    ),
    Row(
        "GET",
        "/collections/disputes/{dispute_id}",
        None,
        "/collections/disputes/{dispute}",
        scope=NOT_FOUND,
    ),
    Row("GET", "/collections/plans", None, "/collections/plans"),
    Row("GET", "/collections/plans/export.{format}", None, "/collections/plans/export.xlsx"),
    Row("GET", "/collections/promises", None, "/collections/promises"),
    Row("GET", "/collections/promises/export.{format}", None, "/collections/promises/export.csv"),
    Row("GET", "/collections/strategies", None, "/collections/strategies"),
    Row("GET", "/collections/strategies/{grade}", None, "/collections/strategies/C?tier=key"),
    Row("GET", "/collections/templates", None, "/collections/templates"),
    Row(
        "GET",
        "/collections/templates/{key}/{language}",
        None,
        "/collections/templates/friendly_reminder/zh",
    ),
    Row(
        "GET",
        "/customers/{code}/call",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/call",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/customers/{code}/disputes/new",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/disputes/new?installment={installment}",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/customers/{code}/plans/new",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/plans/new",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/customers/{code}/promises/new",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/promises/new",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/customers/{code}/statement",
        None,
        "/customers/{customer}/statement",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/customers/{code}/statement.pdf",
        None,
        "/customers/{customer}/statement.pdf",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/statements/{statement_id}.pdf",
        None,
        "/statements/{statement}.pdf",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/collections/actions/{action_id}/done",
        P.WORK_COLLECTIONS,
        "/collections/actions/{letter}/done",
        form=_json(note="矩阵：已寄出"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/collections/actions/{action_id}/send",
        P.WORK_COLLECTIONS,
        "/collections/actions/{message}/send",
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/collections/actions/{action_id}/skip",
        P.WORK_COLLECTIONS,
        "/collections/actions/{action}/skip",
        form=_json(reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/collections/disputes/{dispute_id}/reassign",
        P.RESOLVE_DISPUTES,
        "/collections/disputes/{dispute}/reassign",
        form=_json(owner_id="{collector_id}"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/collections/disputes/{dispute_id}/resolve",
        P.RESOLVE_DISPUTES,
        "/collections/disputes/{dispute}/resolve",
        form=_json(resolution="rejected", note="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/collections/plans/{arrangement_id}/{decision}",
        P.WORK_COLLECTIONS,
        "/collections/plans/{arrangement}/confirm",
        form=_json(confirmation="王经理 e-mail"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/collections/promises/{promise_id}/cancel",
        P.WORK_COLLECTIONS,
        "/collections/promises/{promise}/cancel",
        form=_json(reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/collections/strategies/{grade}",
        P.MANAGE_COLLECTION_STRATEGIES,
        "/collections/strategies/A?tier=growth",
        form=_json(
            **{"name": "矩阵", "active": "1", "steps-0-day_offset": "5", "steps-0-channel": "call"}
        ),
        ok=303,
    ),
    Row(
        "POST",
        "/collections/templates/{key}/{language}",
        P.MANAGE_COLLECTION_STRATEGIES,
        "/collections/templates/friendly_reminder/zh",
        form=lambda keys: {"subject": "矩阵提醒", "body": "{{ customer.name }}，您好。"},
        ok=303,
    ),
    Row(
        "POST",
        "/collections/templates/{key}/{language}/preview",
        None,
        "/collections/templates/friendly_reminder/zh/preview",
        form=lambda keys: {"subject": "矩阵提醒", "body": "{{ customer.name }}，您好。"},
    ),
    Row(
        "POST",
        "/collections/templates/{key}/{language}/reset",
        P.MANAGE_COLLECTION_STRATEGIES,
        "/collections/templates/overdue_notice/en/reset",
        ok=303,
    ),
    Row(
        "POST",
        "/customers/{code}/call",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/call",
        form=_json(outcome="no_answer", note="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/customers/{code}/disputes",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/disputes",
        form=_json(installment_id="{installment}", reason="quality", amount="10.00"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/customers/{code}/hold/release",
        P.OVERRIDE_CREDIT_HOLD,
        "/customers/{customer}/hold/release",
        form=_json(reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/customers/{code}/plans/new",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/plans/new",
        form=_json(
            kind="plan",
            count="2",
            first_due_on="{soon}",
            frequency_days="30",
            reason="矩阵",
            items="{free_installment}",
        ),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/customers/{code}/promises",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/promises",
        form=_json(amount="10.00", promised_on="{soon}", items="{free_installment}"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/customers/{code}/statements",
        P.WORK_COLLECTIONS,
        "/customers/{customer}/statements",
        scope=NOT_FOUND,
        ok=303,
    ),
    # feedback
    Row("GET", "/feedback", None, "/feedback?account={customer}"),
    Row("GET", "/feedback/experience", None, "/feedback/experience"),
    Row("GET", "/feedback/export.csv", None, "/feedback/export.csv?account={customer}"),
    Row("GET", "/feedback/export.xlsx", None, "/feedback/export.xlsx"),
    Row("GET", "/feedback/surveys", None, "/feedback/surveys"),
    Row("GET", "/feedback/surveys/new", P.MANAGE_SURVEYS, "/feedback/surveys/new"),
    Row(
        "POST",
        "/feedback/surveys",
        P.MANAGE_SURVEYS,
        "/feedback/surveys",
        form=_json(
            code="matrix-csat",
            kind="csat",
            name_zh="矩阵",
            name_en="Matrix",
            question_zh="满意吗？",
            question_en="Satisfied?",
            active="1",
        ),
        ok=303,
    ),
    Row(
        "POST",
        "/feedback/surveys/preview",
        None,
        "/feedback/surveys/preview",
        form=_json(kind="nps", name_zh="矩阵"),
    ),
    Row("GET", "/feedback/surveys/{survey_id}", None, "/feedback/surveys/{survey}"),
    Row(
        "POST",
        "/feedback/surveys/{survey_id}",
        P.MANAGE_SURVEYS,
        "/feedback/surveys/{survey}",
        form=_json(
            code="nps-relationship",
            kind="nps",
            name_zh="矩阵",
            name_en="Matrix",
            question_zh="推荐吗？",
            question_en="Recommend?",
            active="1",
        ),
        ok=303,
    ),
    Row("GET", "/feedback/campaigns", None, "/feedback/campaigns"),
    Row("GET", "/feedback/campaigns/export.{format}", None, "/feedback/campaigns/export.csv"),
    Row("GET", "/feedback/campaigns/new", P.MANAGE_SURVEYS, "/feedback/campaigns/new"),
    Row(
        "POST",
        "/feedback/campaigns",
        P.MANAGE_SURVEYS,
        "/feedback/campaigns",
        form=_json(
            name="Matrix campaign",
            survey_id="{survey}",
            trigger="order_delivered",
            delay_days="1",
            expires_after_days="30",
            active="1",
        ),
        ok=303,
    ),
    Row("GET", "/feedback/campaigns/{campaign_id}", None, "/feedback/campaigns/{campaign}"),
    Row(
        "POST",
        "/feedback/campaigns/{campaign_id}",
        P.MANAGE_SURVEYS,
        "/feedback/campaigns/{campaign}",
        form=_json(
            name="Matrix campaign 2",
            survey_id="{survey}",
            trigger="order_delivered",
            delay_days="1",
            expires_after_days="30",
            active="1",
        ),
        ok=303,
    ),
    Row("GET", "/feedback/loops", None, "/feedback/loops?owner=all"),
    Row("GET", "/feedback/loops/export.{format}", None, "/feedback/loops/export.csv?owner=all"),
    Row("GET", "/feedback/loops/{loop_id}", None, "/feedback/loops/{loop}", scope=NOT_FOUND),
    Row(
        "POST",
        "/feedback/loops/{loop_id}/callback",
        P.WORK_FEEDBACK,
        "/feedback/loops/{loop}/callback",
        form=_json(note="矩阵回访", outcome="resolved"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/feedback/loops/{loop_id}/assign",
        P.WORK_FEEDBACK,
        "/feedback/loops/{loop}/assign",
        form=_json(owner_id="{collector_id}"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/feedback/topics", None, "/feedback/topics"),
    Row(
        "POST",
        "/feedback/topics",
        P.MANAGE_SURVEYS,
        "/feedback/topics",
        form=_json(code="matrix_topic", name_zh="矩阵", name_en="Matrix", keywords_zh="矩阵"),
        ok=303,
    ),
    Row(
        "POST",
        "/feedback/topics/{code}",
        P.MANAGE_SURVEYS,
        "/feedback/topics/delivery",
        form=_json(name_zh="交付", name_en="Delivery", keywords_zh="交货、物流", active="1"),
        ok=303,
    ),
    Row(
        "POST",
        "/feedback/topics/{code}/deactivate",
        P.MANAGE_SURVEYS,
        "/feedback/topics/delivery/deactivate",
        ok=303,
    ),
    Row("GET", "/feedback/topics/suggestions", None, "/feedback/topics/suggestions"),
    Row("GET", "/loyalty/referrals", None, "/loyalty/referrals?status=all&q={customer}"),
    Row(
        "GET",
        "/loyalty/referrals/export.{format}",
        None,
        "/loyalty/referrals/export.csv?status=all&q={customer}",
    ),
    Row(
        "GET",
        "/loyalty/referrals/new",
        P.WORK_REFERRALS,
        "/loyalty/referrals/new?customer={customer}",
    ),
    Row(
        "POST",
        "/loyalty/referrals",
        P.WORK_REFERRALS,
        "/loyalty/referrals",
        form=_json(customer="{customer}", lead_company="矩阵推荐公司"),
        ok=303,
    ),
    Row("GET", "/loyalty/referrals/rules", None, "/loyalty/referrals/rules"),
    Row(
        "POST",
        "/loyalty/referrals/rules",
        P.MANAGE_LOYALTY_RULES,
        "/loyalty/referrals/rules",
        form=_json(name="矩阵规则", kind="discount", percent="5", active="1"),
        ok=303,
    ),
    Row(
        "POST",
        "/loyalty/referrals/rules/{rule_id}",
        P.MANAGE_LOYALTY_RULES,
        "/loyalty/referrals/rules/{referral_rule}",
        form=_json(
            name="世界奖励规则", kind="credit_note", amount="60.00", currency="CNY", active="1"
        ),
        ok=303,
    ),
    Row(
        "GET",
        "/loyalty/referrals/{referral_id}",
        None,
        "/loyalty/referrals/{referral}",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/loyalty/referrals/{referral_id}/status",
        P.WORK_REFERRALS,
        "/loyalty/referrals/{referral}/status",
        form=_json(status="contacted"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/loyalty/referrals/{referral_id}/reward",
        P.GRANT_REFERRAL_REWARDS,
        "/loyalty/referrals/{rewarded}/reward",
        form=_json(decision="decline", reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/loyalty/actions", None, "/loyalty/actions?owner=all"),
    Row("GET", "/loyalty/actions/export.{format}", None, "/loyalty/actions/export.csv?owner=all"),
    Row(
        "POST",
        "/loyalty/actions/{next_action_id}/done",
        P.WORK_NEXT_ACTIONS,
        "/loyalty/actions/{next_action}/done",
        form=_json(note="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/loyalty/actions/{next_action_id}/dismiss",
        P.WORK_NEXT_ACTIONS,
        "/loyalty/actions/{next_action}/dismiss",
        form=_json(reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/loyalty/rules", None, "/loyalty/rules"),
    Row("GET", "/loyalty/model", None, "/loyalty/model"),
    Row("GET", "/accounts/{code}/map", None, "/accounts/{customer}/map", scope=NOT_FOUND),
    Row(
        "POST",
        "/accounts/{code}/map/{contact_id}",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/map/{contact}",
        form=_json(influence="4", attitude="supporter", trust="3"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/accounts/{code}/needs", None, "/accounts/{customer}/needs", scope=NOT_FOUND),
    Row(
        "POST",
        "/accounts/{code}/needs",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/needs",
        form=_json(title="矩阵需求", kind="need", source="interview", priority="3", status="open"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/needs/promote",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/needs/promote",
        form=_json(response_id="{comment_response}"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/needs/{need_id}",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/needs/{need}",
        form=_json(title="矩阵需求", kind="need", source="interview", priority="2", status="open"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/loyalty", None, "/loyalty"),
    Row("GET", "/loyalty/at-risk/export.{format}", None, "/loyalty/at-risk/export.xlsx"),
    Row("GET", "/loyalty/retention", None, "/loyalty/retention"),
    Row(
        "POST",
        "/loyalty/rules/{rule_code}",
        P.MANAGE_LOYALTY_RULES,
        "/loyalty/rules/upsell_growing",
        form=_json(
            name_zh="向增长中的客户推荐增购",
            name_en="Propose an upsell to a growing account",
            priority="55",
            cooldown_days="120",
            due_days="14",
            conditions='[{{"field": "spend_growth", "op": "ge", "value": 0.2}}]',
            active="1",
        ),
        ok=303,
    ),
    Row("GET", "/accounts/terms-cost", None, "/accounts/terms-cost"),
    Row(
        "GET",
        "/accounts/{code}/terms-cost",
        None,
        "/accounts/{customer}/terms-cost?amount=1000.00&terms=30",
        scope=NOT_FOUND,
    ),
    Row("GET", "/negotiations", None, "/negotiations?scope=all&status=all"),
    Row(
        "GET",
        "/negotiations/export.{format}",
        None,
        "/negotiations/export.csv?scope=all&status=all",
    ),
    Row("GET", "/negotiations/new", P.NEGOTIATE, "/negotiations/new?customer={customer}"),
    Row(
        "POST",
        "/negotiations",
        P.NEGOTIATE,
        "/negotiations",
        form=_json(customer="{customer}", title="矩阵谈判"),
        ok=303,
    ),
    Row(
        "GET",
        "/negotiations/{negotiation_id}",
        None,
        "/negotiations/{negotiation}",
        scope=NOT_FOUND,
    ),
    Row(
        "GET",
        "/negotiations/{negotiation_id}/print",
        None,
        "/negotiations/{negotiation}/print",
        scope=NOT_FOUND,
    ),
    Row(
        "POST",
        "/negotiations/{negotiation_id}/sheet",
        P.NEGOTIATE,
        "/negotiations/{negotiation}/sheet",
        form=_json(title="矩阵谈判"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/negotiations/{negotiation_id}/issues",
        P.NEGOTIATE,
        "/negotiations/{negotiation}/issues",
        form=_json(name="price", our_target="105"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/negotiations/{negotiation_id}/concessions",
        P.NEGOTIATE,
        "/negotiations/{negotiation}/concessions",
        form=_json(give="矩阵让步"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/concessions/{concession_id}/decision",
        P.APPROVE_CONCESSIONS,
        "/concessions/{concession}/decision",
        form=_json(decision="approve"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/negotiations/{negotiation_id}/meetings",
        P.NEGOTIATE,
        "/negotiations/{negotiation}/meetings",
        form=_json(notes="矩阵会谈"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/negotiations/{negotiation_id}/close",
        P.NEGOTIATE,
        "/negotiations/{negotiation}/close",
        form=_json(outcome="agreed"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/contracts", None, "/contracts?status=all&q={customer}"),
    Row("GET", "/contracts/export.{format}", None, "/contracts/export.csv?status=all&q={customer}"),
    Row("GET", "/contracts/new", P.MANAGE_CONTRACTS, "/contracts/new?customer={customer}"),
    Row(
        "POST",
        "/contracts",
        P.MANAGE_CONTRACTS,
        "/contracts",
        form=_json(
            customer="{customer}",
            number="HT-MATRIX-PAGE",
            title="矩阵合同",
            value="5000",
            start_on="2026-01-01",
            end_on="2026-12-31",
            status="active",
        ),
        ok=303,
    ),
    Row("GET", "/contracts/{contract_id}", None, "/contracts/{contract}", scope=NOT_FOUND),
    Row(
        "POST",
        "/contracts/{contract_id}",
        P.MANAGE_CONTRACTS,
        "/contracts/{contract}",
        form=_json(
            title="矩阵合同",
            value="110000",
            currency="CNY",
            start_on="2026-01-01",
            end_on="2026-12-31",
            payment_terms="NET30",
            status="active",
        ),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/contracts/{contract_id}/milestones",
        P.MANAGE_CONTRACTS,
        "/contracts/{contract}/milestones",
        form=_json(title="评审", kind="review", due_on="2026-09-30", checkpoint="task"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/milestones/{milestone_id}/done",
        P.MANAGE_CONTRACTS,
        "/milestones/{milestone}/done",
        form=_json(done_on="2026-07-01"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/accounts/tasks", None, "/accounts/tasks?scope=all"),
    Row("GET", "/accounts/tasks/export.{format}", None, "/accounts/tasks/export.xlsx?scope=all"),
    Row(
        "POST",
        "/accounts/tasks/{task_id}/done",
        P.MANAGE_CONTRACTS,
        "/accounts/tasks/{account_task}/done",
        form=_json(status="done"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/deals", None, "/deals"),
    Row("GET", "/deals/list", None, "/deals/list?status=all&q={customer}"),
    Row(
        "GET",
        "/deals/list/export.{format}",
        None,
        "/deals/list/export.csv?status=all&q={customer}",
    ),
    Row("GET", "/deals/new", P.WORK_DEALS, "/deals/new?customer={customer}"),
    Row(
        "POST",
        "/deals",
        P.WORK_DEALS,
        "/deals",
        form=_json(customer="{customer}", title="矩阵商机", value="1000"),
        ok=303,
    ),
    Row("GET", "/deals/stages", None, "/deals/stages"),
    Row(
        "POST",
        "/deals/stages",
        P.MANAGE_DEAL_STAGES,
        "/deals/stages",
        form=_json(code="matrix", name_zh="矩阵", probability="30", kind="open", active="1"),
        ok=303,
    ),
    Row("GET", "/deals/{deal_id}", None, "/deals/{deal}", scope=NOT_FOUND),
    Row(
        "POST",
        "/deals/{deal_id}",
        P.WORK_DEALS,
        "/deals/{deal}",
        form=_json(title="矩阵改名", value="1000"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/deals/{deal_id}/move",
        P.WORK_DEALS,
        "/deals/{deal}/move",
        form=_json(stage="proposal"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/deals/{deal_id}/win",
        P.WORK_DEALS,
        "/deals/{deal}/win",
        form=_json(),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/deals/{deal_id}/lose",
        P.WORK_DEALS,
        "/deals/{deal}/lose",
        form=_json(lost_reason="矩阵"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row("GET", "/accounts", None, "/accounts?q={customer}"),
    Row("GET", "/accounts/export.{format}", None, "/accounts/export.csv?q={customer}"),
    Row("GET", "/accounts/{code}/plan", None, "/accounts/{customer}/plan", scope=NOT_FOUND),
    Row(
        "POST",
        "/accounts/{code}/plan",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan",
        form=_json(revenue_target="150000"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/plan/reviewed",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan/reviewed",
        form=_json(),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/plan/objectives",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan/objectives",
        form=_json(title="矩阵目标二"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/plan/objectives/{objective_id}",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan/objectives/{objective}",
        form=_json(title="矩阵目标", status="at_risk"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/plan/whitespace",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan/whitespace",
        form=_json(item="越南工厂"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/plan/whitespace/remove",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan/whitespace/remove",
        form=_json(index="0"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/plan/risks",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan/risks",
        form=_json(risk="交期风险"),
        scope=NOT_FOUND,
        ok=303,
    ),
    Row(
        "POST",
        "/accounts/{code}/plan/risks/remove",
        P.EDIT_KEY_ACCOUNTS,
        "/accounts/{customer}/plan/risks/remove",
        form=_json(index="0"),
        scope=NOT_FOUND,
        ok=303,
    ),
    # insights: trends, league tables, transitions and KPI targets
    Row("GET", "/insights/trends", None, "/insights/trends"),
    Row("GET", "/insights/league", None, "/insights/league?by=region"),
    Row("GET", "/insights/transitions", None, "/insights/transitions"),
    Row(
        "GET",
        "/insights/transitions/accounts",
        None,
        "/insights/transitions/accounts?from=unscored&to=unscored",
    ),
    Row("GET", "/insights/targets", None, "/insights/targets"),
    Row(
        "POST",
        "/insights/targets",
        P.SET_KPI_TARGETS,
        "/insights/targets",
        form=_json(kpi="nps", value="30"),
        ok=303,
    ),
    # insights: the management reports
    Row("GET", "/insights/reports", P.MANAGE_REPORTS, "/insights/reports"),
    Row("GET", "/insights/reports/{report_id}", P.MANAGE_REPORTS, "/insights/reports/{report}"),
    Row(
        "GET",
        "/insights/reports/{report_id}.pdf",
        P.MANAGE_REPORTS,
        "/insights/reports/{report}.pdf?lang=en",
    ),
    Row(
        "POST",
        "/insights/reports/send",
        P.MANAGE_REPORTS,
        "/insights/reports/send",
        form=_json(kind="monthly", period="2026-01"),
        ok=303,
    ),
    # insights: the flywheel dashboard and the lists behind its figures
    Row("GET", "/insights", None, "/insights?period=3m"),
    Row("GET", "/insights/top-accounts", None, "/insights/top-accounts"),
    Row("GET", "/insights/drill/{code}", None, "/insights/drill/new_customers"),
    Row(
        "GET",
        "/insights/drill/{code}/export.csv",
        None,
        "/insights/drill/overdue_accounts/export.csv",
    ),
    Row(
        "GET", "/insights/drill/{code}/export.xlsx", None, "/insights/drill/detractors/export.xlsx"
    ),
]

# The steps of one upload need that upload to exist first: tests/web/test_import_pages.py tries
# each of them as the wrong roles (403, nothing written) and as another user (404).
PAGES_AWAITING_ROWS = {
    ("GET", "/imports/{upload_id}"),
    ("POST", "/imports/{upload_id}/mapping"),
    ("POST", "/imports/{upload_id}/dry-run"),
    ("POST", "/imports/{upload_id}/import"),
    ("GET", "/imports/{upload_id}/progress"),
    ("GET", "/imports/{upload_id}/rejects.csv"),
    ("POST", "/imports/{upload_id}/discard"),
}
# Open to everyone, or not the application's own: no row.
PUBLIC = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/healthz"),
    ("GET", "/api/v1/health"),
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    # The language switch works before sign-in too (kept in the session); signed-in users'
    # choice is covered in test_sign_in.
    ("POST", "/language"),
    # The customer's statement behind the link it was sent with: the token is the only key
    # (test_the_statement_link_is_the_only_key below).
    ("GET", "/statement/{token}"),
    ("GET", "/statement/{token}.pdf"),
    ("POST", "/statement/{token}/confirm"),
    ("POST", "/statement/{token}/dispute"),
    # The survey behind its invitation link, the same way (tests/feedback/test_public_page.py).
    ("GET", "/s/{token}"),
    ("POST", "/s/{token}"),
    ("POST", "/s/{token}/opt-out"),
}
MOUNTS = {"/static"}

ROWS = API_ROUTES + PAGE_ROUTES
ROLES = [name for name in CALLERS if name != "rival"]  # "rep" is the sales rep


# ---------------------------------------------------------------- one app for the module


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[SharedClient]:
    # Redirects are answers to check here, not to follow.
    yield from shared_client(engine, follow_redirects=False)


@pytest.fixture
def matrix_client(shared: SharedClient, session: Session) -> TestClient:
    return shared.using(session)


@pytest.fixture(scope="module")
def company(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    for company in company_for_module(engine, tmp_path_factory.mktemp("uploads")):
        # A letter to print and a sent statement in each book, for the document pages.
        add_documents(company.session, company.world.own)
        add_documents(company.session, company.world.other)
        # An edited template, for its reset.
        message_templates.save(
            company.session,
            actor=TESTER,
            key="overdue_notice",
            language="en",
            subject="Overdue: {{ customer.name }}",
            body="Dear {{ customer.name }}, {{ total_overdue }} is overdue.",
        )
        # A management report, for its page and PDF (sending it again changes nothing).
        made, _ = insight_reports.make_report(
            company.session,
            insight_reports.ReportPeriod.containing("monthly", date(2026, 1, 1)),
            as_of=date(2026, 2, 2),
        )
        DOCUMENTS["report"] = made.id
        company.session.flush()
        yield company


@pytest.fixture
def session(company: Company) -> Iterator[Session]:
    """The module's company, in a savepoint rolled back after the test."""
    yield from company.test_session()


@pytest.fixture
def world(company: Company, session: Session) -> World:
    return company.world


def _keys(world: World, book: str) -> Keys:
    return {
        **(world.own if book == "own" else world.other).keys(),
        "batch": world.batch,
        "review": world.review,
        "strategy": world.strategy,
        "survey": world.survey,
        "campaign": world.campaign,
        "referral_rule": world.referral_rule,
        "collector_id": world.users["collector"].id,
        # Promises and plans are for days to come, seen from the day the test runs.
        "soon": (today() + timedelta(days=10)).isoformat(),
        **DOCUMENTS,
    }


def _call(client: TestClient, row: Row, keys: Keys, headers: dict[str, str]) -> Any:
    return client.request(
        row.method,
        row.url.format(**keys),
        json=row.body(keys) if row.body else None,
        data=row.form(keys) if row.form else None,
        files=row.files(keys) if row.files else None,
        headers=headers,
    )


def _allowed(row: Row, caller: str) -> bool:
    return row.permission is None or CALLERS[caller] in GRANTS[row.permission]


# ---------------------------------------------------------------- the checks


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_anonymous(matrix_client: TestClient, session: Session, world: World, row: Row) -> None:
    before = database_state(session)

    response = _call(matrix_client, row, _keys(world, "own"), {})

    if row.is_page:
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("/sign-in")
    else:
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthenticated"
    assert database_state(session) == before


@pytest.mark.parametrize("caller", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_each_role(
    matrix_client: TestClient, session: Session, world: World, row: Row, caller: str
) -> None:
    before = database_state(session)

    response = _call(matrix_client, row, _keys(world, "own"), world.headers[caller])

    if _allowed(row, caller):
        assert response.status_code == row.ok, response.text
    else:
        assert response.status_code == 403, response.text
        assert database_state(session) == before


SCOPED = [row for row in ROWS if row.scope is not None and _allowed(row, "rep")]


@pytest.mark.parametrize("row", SCOPED, ids=lambda r: r.id)
def test_a_sales_rep_outside_his_book(
    matrix_client: TestClient, session: Session, world: World, row: Row
) -> None:
    before = database_state(session)

    response = _call(matrix_client, row, _keys(world, "other"), world.headers["rep"])

    if row.scope == NOT_FOUND:
        assert response.status_code == 404, response.text
    else:
        assert response.status_code == 200, response.text
        assert response.json()["total"] == 0
        assert response.json()["items"] == []
    assert database_state(session) == before


def test_the_same_requests_succeed_for_the_owner_of_the_other_book(
    matrix_client: TestClient, session: Session, world: World
) -> None:
    """The out-of-scope requests above are refused because of the owner, not the request."""
    for row in SCOPED:
        if row.method != "GET":
            continue
        response = _call(matrix_client, row, _keys(world, "other"), world.headers["rival"])
        assert response.status_code == row.ok, row.id
        if row.scope == LEFT_OUT:
            assert response.json()["total"] > 0, row.id


# ---------------------------------------------------------------- the statement link


def test_the_statement_link_is_the_only_key(
    matrix_client: TestClient, session: Session, world: World
) -> None:
    """The customer's pages need no sign-in: the token opens its statement and nothing else; a
    wrong token is "not found" and changes nothing, whoever sends it."""
    token = world.own.statement_token
    wrong = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    before = database_state(session)
    for headers in ({}, world.headers["admin"]):
        for method, url, form in (
            ("GET", f"/statement/{wrong}", None),
            ("GET", f"/statement/{wrong}.pdf", None),
            ("POST", f"/statement/{wrong}/confirm", {"note": "矩阵"}),
            ("POST", f"/statement/{wrong}/dispute", {"dispute": str(world.own.installment)}),
        ):
            response = matrix_client.request(method, url, data=form, headers=headers)
            assert response.status_code == 404, (method, url)
    assert database_state(session) == before

    page = matrix_client.get(f"/statement/{token}")
    assert page.status_code == 200
    assert world.own.invoice in page.text
    assert world.other.invoice not in page.text
    pdf = matrix_client.get(f"/statement/{token}.pdf")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert database_state(session) == before

    confirmed = matrix_client.post(f"/statement/{token}/confirm", data={"note": "矩阵"})
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"/statement/{token}?answer=confirmed"
    assert database_state(session) != before


def test_a_customer_disputes_lines_of_his_statement_by_its_link(
    matrix_client: TestClient, session: Session, world: World
) -> None:
    line = str(world.own.free_installment)
    before = database_state(session)

    response = matrix_client.post(
        f"/statement/{world.own.statement_token}/dispute",
        data={"dispute": line, f"reason_{line}": "quality", f"amount_{line}": "10.00"},
    )

    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("?answer=disputed")
    changed = database_state(session)
    assert len(changed["disputes"]) == len(before["disputes"]) + 1


# ---------------------------------------------------------------- coverage


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route of ``app``, routers included at any depth; mounts by
    their path alone."""
    found: set[tuple[str, str]] = set()

    def visit(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                for context in route.effective_route_contexts():
                    for method in context.methods or ():
                        found.add((method, context.path))
            elif getattr(route, "methods", None):
                for method in route.methods:
                    found.add((method, route.path))
            elif hasattr(route, "routes") and route.path not in MOUNTS:
                visit(list(route.routes))
            else:
                found.add(("MOUNT", route.path))

    visit(list(app.routes))
    return {(m, p) for m, p in found if m != "HEAD"}


def test_every_route_has_a_row(app: FastAPI) -> None:
    routes = app_routes(app)
    covered = {(row.method, row.path) for row in ROWS}
    known = covered | PAGES_AWAITING_ROWS | PUBLIC | {("MOUNT", m) for m in MOUNTS}

    assert sorted(routes - known) == [], "routes without a row in the permission matrix"
    assert sorted(covered - routes) == [], "rows for routes the app no longer has"
    assert sorted(PAGES_AWAITING_ROWS - routes) == [], "awaiting rows for routes that are gone"
    assert not covered & PAGES_AWAITING_ROWS, "a page with a row is still listed as awaiting"


def test_rows_are_unique_and_writes_have_a_permission() -> None:
    ids = [row.id for row in ROWS]

    assert len(ids) == len(set(ids))
    assert [row.id for row in API_ROUTES if row.method != "GET" and row.permission is None] == []
