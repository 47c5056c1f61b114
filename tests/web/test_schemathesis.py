"""The API against its own OpenAPI document: schemathesis generates requests for every
operation (valid and invalid ones, on random and on existing records) and checks that none is
answered with a server error, and that every answer has a documented status, content type
and body shape.

It runs in-process against a small company (``api_support.make_world``) as an admin. Each
request works in a savepoint that is rolled back, so every case sees the same data, and the
generation is derandomized: the run is the same every time. A few examples per operation keep
it to well under a minute per database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from flywheel.app import create_app
from flywheel.insights import report as insight_reports
from flywheel.web.contract import today
from flywheel.web.deps import get_session
from tests.web.api_support import Company, World, company_for_module

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25

# The document does not depend on the database: read it from an app that never connects.
DOCUMENT = create_app(engine=create_engine("sqlite://")).openapi()
# Only the API: the health check answers 503 by design when the database is not ready.
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT).exclude(path_regex=r"^/(healthz|api/v1/health)$")
REPORT: dict[str, int] = {"id": 1}  # the module company's management report
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


def existing_records(world: World, path: str) -> dict[str, Any]:
    """Path parameters naming records of the company, so that the answers of found records
    are checked too, not only the "not found" ones."""
    own = world.own
    number = (
        own.order
        if path.startswith("/api/v1/orders")
        else own.credit_note
        if path.startswith("/api/v1/credit-notes")
        else own.cancellable
        if path.endswith("/cancel")
        else own.invoice
    )
    return {
        "code": "nps"
        if path.startswith("/api/v1/insights/kpis")
        else "overdue_accounts"
        if path.startswith("/api/v1/insights/drills")
        else own.customer,
        "kpi": "win_rate",
        "report_id": REPORT["id"],
        "contact_id": own.contact,
        "number": number,
        "reference": own.payment,
        "allocation_id": own.allocation,
        "batch_id": world.batch,
        "review_id": world.review,
        "entity": "customers",
        "username": "viewer",
        "action_id": own.message if path.endswith("/send") else own.action,
        "promise_id": own.promise,
        "dispute_id": own.dispute,
        "arrangement_id": own.arrangement,
        "strategy_id": world.strategy,
        "grade": "C",
        "survey_id": world.survey,
        "campaign_id": world.campaign,
        "loop_id": own.loop,
        "customer_id": own.customer_id,
        "referral_id": own.rewarded if path.endswith("/reward") else own.referral,
        "rule_id": world.referral_rule,
        "next_action_id": own.next_action,
        "rule_code": "upsell_growing",
        "need_id": own.need,
        "negotiation_id": own.negotiation,
        "concession_id": own.concession,
        "issue_name": "price",
        "contract_id": own.contract,
        "milestone_id": own.milestone,
        "task_id": own.account_task,
        "deal_id": own.deal,
        "stage_code": "proposal",
        "objective_id": own.objective,
    }


def valid_requests(world: World) -> dict[str, dict[str, Any]]:
    """One request per operation that must succeed: the answers of success are checked
    against the document too, not only errors."""
    own = world.own
    payment = {
        "reference": "PAY-NEW",
        "customer": own.customer,
        "received_on": "2026-05-01",
        "amount": "600.00",
    }
    return {
        "GET /api/v1/customers": {"query": {"search": own.customer}},
        "GET /api/v1/ar/aging": {"query": {"as_of": "2026-05-01", "by": "customer"}},
        "GET /api/v1/ar/aging/installments": {
            "query": {"as_of": "2026-05-01", "group": own.customer}
        },
        "GET /api/v1/ar/kpis": {"query": {"as_of": "2026-05-01", "months": 3}},
        "GET /api/v1/customers/{code}/credit": {
            "path_parameters": {"code": own.customer},
            "query": {"as_of": "2026-07-01"},
        },
        "GET /api/v1/credit/limit-reviews": {"query": {"grade": "B"}},
        "POST /api/v1/credit/limit-reviews/{review_id}/approve": {
            "path_parameters": {"review_id": world.review},
            "body": {"limit": "18000.00", "note": "agreed"},
        },
        "POST /api/v1/credit/limit-reviews/{review_id}/reject": {
            "path_parameters": {"review_id": world.review},
            "body": {"note": "not now"},
        },
        "GET /api/v1/credit/cash-forecast": {},
        "POST /api/v1/customers": {"body": {"code": "NEW-1", "name": "新客户", "owner": "rep"}},
        "GET /api/v1/customers/{code}": {"path_parameters": {"code": own.customer}},
        "PATCH /api/v1/customers/{code}": {
            "path_parameters": {"code": own.customer},
            "body": {"tier": "key", "parent": "OTHER-1"},
        },
        "GET /api/v1/customers/{code}/contacts": {"path_parameters": {"code": own.customer}},
        "POST /api/v1/customers/{code}/contacts": {
            "path_parameters": {"code": own.customer},
            "body": {"name": "李娜", "email": "li.na@example.cn", "buying_role": "finance"},
        },
        "GET /api/v1/contacts/{contact_id}": {"path_parameters": {"contact_id": own.contact}},
        "PATCH /api/v1/contacts/{contact_id}": {
            "path_parameters": {"contact_id": own.contact},
            "body": {"title": "总经理"},
        },
        "GET /api/v1/touchpoints": {"query": {"customer": own.customer}},
        "GET /api/v1/customers/{code}/touchpoints": {"path_parameters": {"code": own.customer}},
        "POST /api/v1/customers/{code}/touchpoints": {
            "path_parameters": {"code": own.customer},
            "body": {"kind": "call", "occurred_at": "2026-05-03T10:00:00+08:00", "satisfaction": 4},
        },
        "GET /api/v1/orders": {"query": {"customer": own.customer}},
        "POST /api/v1/orders": {
            "body": {
                "number": "ORD-NEW",
                "customer": own.customer,
                "order_date": "2026-05-01",
                "amount": "10.00",
            }
        },
        "GET /api/v1/orders/{number}": {"path_parameters": {"number": own.order}},
        "PUT /api/v1/orders/{number}": {
            "path_parameters": {"number": own.order},
            "body": {"customer": own.customer, "order_date": "2025-12-20", "amount": "990.00"},
        },
        "GET /api/v1/invoices": {"query": {"customer": own.customer, "as_of": "2026-04-15"}},
        "POST /api/v1/invoices": {
            "body": {
                "number": "INV-NEW",
                "customer": own.customer,
                "issue_date": "2026-05-01",
                "amount": "100.00",
                "order": own.order,
                "installments": [
                    {"due_date": "2026-06-01", "amount": "40.00"},
                    {"due_date": "2026-07-01", "amount": "60.00"},
                ],
            }
        },
        "GET /api/v1/invoices/{number}": {"path_parameters": {"number": own.invoice}},
        "POST /api/v1/invoices/{number}/cancel": {
            "path_parameters": {"number": own.cancellable},
            "body": {"reason": "开错了"},
        },
        "POST /api/v1/invoices/{number}/write-off": {
            "path_parameters": {"number": own.invoice},
            "body": {"reason": "破产", "on": "2026-06-30"},
        },
        "GET /api/v1/payments": {"query": {"customer": own.customer}},
        "POST /api/v1/payments": {"body": payment},
        "POST /api/v1/payments/preview": {"body": payment},
        "GET /api/v1/payments/{reference}": {"path_parameters": {"reference": own.payment}},
        "POST /api/v1/payments/{reference}/allocations": {
            "path_parameters": {"reference": own.payment},
            "body": {"invoice": own.cancellable, "amount": "100.00"},
        },
        "DELETE /api/v1/allocations/{allocation_id}": {
            "path_parameters": {"allocation_id": own.allocation}
        },
        "GET /api/v1/credit-notes": {"query": {"customer": own.customer}},
        "POST /api/v1/credit-notes": {
            "body": {
                "number": "CN-NEW",
                "invoice": own.invoice,
                "issue_date": "2026-05-01",
                "amount": "10.00",
                "reason": "退货",
            }
        },
        "GET /api/v1/credit-notes/{number}": {"path_parameters": {"number": own.credit_note}},
        "GET /api/v1/imports": {},
        "GET /api/v1/imports/{batch_id}": {"path_parameters": {"batch_id": world.batch}},
        "GET /api/v1/imports/{batch_id}/rejects": {"path_parameters": {"batch_id": world.batch}},
        "POST /api/v1/imports/{entity}": {
            "path_parameters": {"entity": "customers"},
            "body": {"file": b"code,name\nST-1,\xe6\x96\xb0\nST-2,\n", "dry_run": "false"},
            "media_type": "multipart/form-data",
        },
        "GET /api/v1/users": {"query": {"role": "sales"}},
        "POST /api/v1/users": {
            "body": {"username": "new.user", "role": "viewer", "password": "a long passphrase"}
        },
        "PATCH /api/v1/users/{username}": {
            "path_parameters": {"username": "viewer"},
            "body": {"active": False, "language": "en"},
        },
        "POST /api/v1/users/{username}/reset-password": {
            "path_parameters": {"username": "viewer"},
            "body": {},
        },
        **collections_requests(world),
        **loyalty_requests(world),
        **key_account_requests(world),
    }


def key_account_requests(world: World) -> dict[str, dict[str, Any]]:
    own = world.own
    return {
        "GET /api/v1/accounts/{code}/stakeholders": {"path_parameters": {"code": own.customer}},
        "PUT /api/v1/accounts/{code}/stakeholders/{contact_id}": {
            "path_parameters": {"code": own.customer, "contact_id": own.contact},
            "body": {"attitude": "supporter"},
        },
        "GET /api/v1/accounts/{code}/coverage": {
            "path_parameters": {"code": own.customer},
            "query": {"as_of": "2026-07-01"},
        },
        "GET /api/v1/accounts/{code}/needs": {"path_parameters": {"code": own.customer}},
        "GET /api/v1/accounts/{code}/terms-cost": {
            "path_parameters": {"code": own.customer},
            "query": {"amount": "1000.00", "terms_days": 30},
        },
        "POST /api/v1/accounts/{code}/needs": {
            "path_parameters": {"code": own.customer},
            "body": {"title": "schema need"},
        },
        "POST /api/v1/accounts/{code}/needs/promote": {
            "path_parameters": {"code": own.customer},
            "body": {"response_id": own.comment_response},
        },
        "GET /api/v1/negotiations": {"query": {"status": "all"}},
        "POST /api/v1/negotiations": {"body": {"customer": own.customer}},
        "GET /api/v1/negotiations/{negotiation_id}": {
            "path_parameters": {"negotiation_id": own.negotiation}
        },
        "PATCH /api/v1/negotiations/{negotiation_id}": {
            "path_parameters": {"negotiation_id": own.negotiation},
            "body": {"our_objectives": "schema objective"},
        },
        "PUT /api/v1/negotiations/{negotiation_id}/issues/{issue_name}": {
            "path_parameters": {"negotiation_id": own.negotiation, "issue_name": "price"},
            "body": {"our_target": "105"},
        },
        "POST /api/v1/negotiations/{negotiation_id}/concessions": {
            "path_parameters": {"negotiation_id": own.negotiation},
            "body": {"give": "schema training"},
        },
        "POST /api/v1/concessions/{concession_id}/approve": {
            "path_parameters": {"concession_id": own.concession},
            "body": {"note": "ok"},
        },
        "POST /api/v1/concessions/{concession_id}/reject": {
            "path_parameters": {"concession_id": own.concession},
            "body": {"note": "too much"},
        },
        "POST /api/v1/negotiations/{negotiation_id}/meetings": {
            "path_parameters": {"negotiation_id": own.negotiation},
            "body": {"notes": "schema meeting"},
        },
        "POST /api/v1/negotiations/{negotiation_id}/close": {
            "path_parameters": {"negotiation_id": own.negotiation},
            "body": {"outcome": "agreed"},
        },
        "GET /api/v1/contracts": {"query": {"status": "all", "renewing_within": 365}},
        "POST /api/v1/contracts": {
            "body": {
                "customer": own.customer,
                "number": "HT-NEW-1",
                "title": "新合同",
                "value": "5000.00",
                "start_on": "2026-01-01",
                "end_on": "2026-12-31",
            }
        },
        "GET /api/v1/contracts/{contract_id}": {"path_parameters": {"contract_id": own.contract}},
        "PATCH /api/v1/contracts/{contract_id}": {
            "path_parameters": {"contract_id": own.contract},
            "body": {"value": "120000.00"},
        },
        "POST /api/v1/contracts/{contract_id}/milestones": {
            "path_parameters": {"contract_id": own.contract},
            "body": {"title": "评审", "kind": "review", "due_on": "2026-09-30"},
        },
        "POST /api/v1/milestones/{milestone_id}/done": {
            "path_parameters": {"milestone_id": own.milestone},
            "body": {"done_on": "2026-07-01"},
        },
        "GET /api/v1/accounts/tasks": {"query": {"mine": "false", "status": "all"}},
        "POST /api/v1/accounts/tasks/{task_id}/done": {
            "path_parameters": {"task_id": own.account_task},
            "body": {"status": "done"},
        },
        "GET /api/v1/deals": {"query": {"status": "all"}},
        "POST /api/v1/deals": {
            "body": {"customer": own.customer, "title": "schema", "value": "1000.00"}
        },
        "GET /api/v1/deals/stages": {},
        "PUT /api/v1/deals/stages/{stage_code}": {
            "path_parameters": {"stage_code": "demo"},
            "body": {"name_zh": "演示", "probability": 40},
        },
        "GET /api/v1/deals/figures": {},
        "GET /api/v1/deals/{deal_id}": {"path_parameters": {"deal_id": own.deal}},
        "PATCH /api/v1/deals/{deal_id}": {
            "path_parameters": {"deal_id": own.deal},
            "body": {"title": "schema"},
        },
        "POST /api/v1/deals/{deal_id}/move": {
            "path_parameters": {"deal_id": own.deal},
            "body": {"stage": "proposal"},
        },
        "POST /api/v1/deals/{deal_id}/win": {
            "path_parameters": {"deal_id": own.deal},
            "body": {"create_contract": True},
        },
        "POST /api/v1/deals/{deal_id}/lose": {
            "path_parameters": {"deal_id": own.deal},
            "body": {"lost_reason": "schema"},
        },
        "GET /api/v1/accounts": {"query": {"q": own.customer}},
        "GET /api/v1/accounts/{code}/plan": {"path_parameters": {"code": own.customer}},
        "PUT /api/v1/accounts/{code}/plan": {
            "path_parameters": {"code": own.customer},
            "body": {
                "revenue_target": "150000.00",
                "risks": [{"risk": "竞争对手降价", "likelihood": 3, "impact": 4}],
            },
        },
        "POST /api/v1/accounts/{code}/plan/objectives": {
            "path_parameters": {"code": own.customer},
            "body": {"title": "新目标", "target_value": 3},
        },
        "PATCH /api/v1/objectives/{objective_id}": {
            "path_parameters": {"objective_id": own.objective},
            "body": {"status": "at_risk"},
        },
        "PATCH /api/v1/needs/{need_id}": {
            "path_parameters": {"need_id": own.need},
            "body": {"priority": 1},
        },
    }


def loyalty_requests(world: World) -> dict[str, dict[str, Any]]:
    own = world.own
    return {
        "GET /api/v1/loyalty/customers/{customer_id}": {
            "path_parameters": {"customer_id": own.customer_id},
            "query": {"as_of": "2026-07-01"},
        },
        "GET /api/v1/loyalty/health": {},
        "GET /api/v1/loyalty/clv-model": {"query": {"as_of": "2026-07-01"}},
        "GET /api/v1/loyalty/segments": {"query": {"as_of": "2026-07-01", "by": "owner"}},
        "GET /api/v1/insights/kpis": {},
        "GET /api/v1/insights/dashboard": {"query": {"period": "3m", "month": "2026-06"}},
        "GET /api/v1/insights/kpis/{code}": {
            "path_parameters": {"code": "nps"},
            "query": {"months": 24},
        },
        "GET /api/v1/insights/drills/{code}": {
            "path_parameters": {"code": "overdue_accounts"},
            "query": {"month": "2026-06"},
        },
        "GET /api/v1/insights/months": {},
        "GET /api/v1/insights/league": {"query": {"by": "region", "sort": "dso"}},
        "GET /api/v1/insights/transitions": {"query": {"kind": "grade", "month": "2026-06"}},
        "GET /api/v1/insights/targets": {},
        "GET /api/v1/insights/forecast": {"query": {"month": "2026-06", "period": "3m"}},
        "PUT /api/v1/insights/targets/{kpi}": {
            "path_parameters": {"kpi": "win_rate"},
            "body": {"value": 40},
        },
        "DELETE /api/v1/insights/targets/{kpi}": {"path_parameters": {"kpi": "nps"}},
        "GET /api/v1/insights/reports": {},
        "GET /api/v1/insights/reports/{report_id}": {
            "path_parameters": {"report_id": REPORT["id"]}
        },
        "GET /api/v1/loyalty/cohorts": {"query": {"as_of": "2026-07-01"}},
        "GET /api/v1/loyalty/retention": {"query": {"as_of": "2026-07-01", "period": "quarter"}},
        "GET /api/v1/loyalty/clv-distribution": {"query": {"as_of": "2026-07-01"}},
        "GET /api/v1/loyalty/at-risk": {"query": {"as_of": "2026-07-01"}},
        "GET /api/v1/loyalty/referrals": {"query": {"status": "all"}},
        "POST /api/v1/loyalty/referrals": {
            "body": {"customer": own.customer, "lead_company": "新线索公司"}
        },
        "GET /api/v1/loyalty/referrals/kpis": {
            "query": {"start": "2026-01-01", "end": "2026-12-31"}
        },
        "GET /api/v1/loyalty/referrals/rules": {},
        "POST /api/v1/loyalty/referrals/rules": {
            "body": {"name": "schema rule", "kind": "discount", "percent": "5"}
        },
        "PATCH /api/v1/loyalty/referrals/rules/{rule_id}": {
            "path_parameters": {"rule_id": world.referral_rule},
            "body": {"min_first_order": "1000.00"},
        },
        "GET /api/v1/loyalty/referrals/{referral_id}": {
            "path_parameters": {"referral_id": own.referral}
        },
        "PATCH /api/v1/loyalty/referrals/{referral_id}": {
            "path_parameters": {"referral_id": own.referral},
            "body": {"status": "contacted"},
        },
        "POST /api/v1/loyalty/referrals/{referral_id}/reward": {
            "path_parameters": {"referral_id": own.rewarded},
            "body": {"decision": "decline", "reason": "schema"},
        },
        "GET /api/v1/loyalty/actions": {"query": {"status": "all"}},
        "GET /api/v1/loyalty/actions/{next_action_id}": {
            "path_parameters": {"next_action_id": own.next_action}
        },
        "POST /api/v1/loyalty/actions/{next_action_id}/done": {
            "path_parameters": {"next_action_id": own.next_action},
            "body": {"note": "已介绍两家"},
        },
        "POST /api/v1/loyalty/actions/{next_action_id}/dismiss": {
            "path_parameters": {"next_action_id": own.next_action},
            "body": {"reason": "不需要"},
        },
        "POST /api/v1/loyalty/actions/{next_action_id}/assign": {
            "path_parameters": {"next_action_id": own.next_action},
            "body": {"owner": "manager"},
        },
        "GET /api/v1/loyalty/rules": {},
        "GET /api/v1/loyalty/rules/{rule_code}": {
            "path_parameters": {"rule_code": "upsell_growing"}
        },
        "PUT /api/v1/loyalty/rules/{rule_code}": {
            "path_parameters": {"rule_code": "schema_rule"},
            "body": {
                "name_en": "Schema",
                "name_zh": "模式",
                "action": "check_in",
                "conditions": [{"field": "health", "op": "ge", "value": 50}],
            },
        },
        "PATCH /api/v1/loyalty/rules/{rule_code}": {
            "path_parameters": {"rule_code": "upsell_growing"},
            "body": {"priority": 55},
        },
    }


def collections_requests(world: World) -> dict[str, dict[str, Any]]:
    own = world.own
    soon = (today() + timedelta(days=10)).isoformat()
    code = {"code": own.customer}
    return {
        "GET /api/v1/collections/worklist": {
            "query": {"mine": "all", "channel": "call", "q": own.customer}
        },
        "POST /api/v1/collections/actions/{action_id}/call": {
            "path_parameters": {"action_id": own.action},
            "body": {
                "outcome": "promised",
                "note": "下周付",
                "promise": {"amount": "200.00", "promised_on": soon},
            },
        },
        "POST /api/v1/collections/actions/{action_id}/done": {
            "path_parameters": {"action_id": own.action},
            "body": {"note": "已处理"},
        },
        "POST /api/v1/collections/actions/{action_id}/cancel": {
            "path_parameters": {"action_id": own.action},
            "body": {"reason": "客户已付"},
        },
        "POST /api/v1/collections/actions/{action_id}/send": {
            "path_parameters": {"action_id": own.message}
        },
        "POST /api/v1/customers/{code}/calls": {
            "path_parameters": code,
            "body": {
                "outcome": "disputed",
                "dispute": {
                    "installment_id": own.installment,
                    "reason": "quantity",
                    "amount": "20.00",
                },
            },
        },
        "GET /api/v1/customers/{code}/collections": {"path_parameters": code},
        "GET /api/v1/collections/promises": {
            "query": {"status": "pending", "customer": own.customer}
        },
        "POST /api/v1/customers/{code}/promises": {
            "path_parameters": code,
            "body": {"amount": "150.00", "promised_on": soon, "channel": "email"},
        },
        "POST /api/v1/collections/promises/{promise_id}/cancel": {
            "path_parameters": {"promise_id": own.promise},
            "body": {"reason": "改为分期"},
        },
        "GET /api/v1/collections/disputes": {"query": {"status": "open", "reason": "price"}},
        "GET /api/v1/collections/disputes/{dispute_id}": {
            "path_parameters": {"dispute_id": own.dispute}
        },
        "POST /api/v1/customers/{code}/disputes": {
            "path_parameters": code,
            "body": {
                "installment_id": own.installment,
                "reason": "delivery",
                "amount": "30.00",
                "owner": "collector",
            },
        },
        "POST /api/v1/collections/disputes/{dispute_id}/resolve": {
            "path_parameters": {"dispute_id": own.dispute},
            "body": {"resolution": "credit_note", "credit_amount": "50.00"},
        },
        "POST /api/v1/collections/disputes/{dispute_id}/reassign": {
            "path_parameters": {"dispute_id": own.dispute},
            "body": {"owner": None},
        },
        "GET /api/v1/collections/arrangements": {
            "query": {"status": "proposed", "kind": "extension"}
        },
        "POST /api/v1/customers/{code}/plans": {
            "path_parameters": code,
            "body": {
                "installments": 3,
                "first_due_on": soon,
                "frequency_days": 30,
                "reason": "资金紧张",
                "installment_ids": [own.free_installment],
                "annual_interest_rate": 0.06,
            },
        },
        "POST /api/v1/customers/{code}/extensions": {
            "path_parameters": code,
            "body": {
                "installment_id": own.free_installment,
                "new_due_on": soon,
                "reason": "等待验收",
            },
        },
        "POST /api/v1/collections/arrangements/{arrangement_id}/approve": {
            "path_parameters": {"arrangement_id": own.arrangement},
            "body": {"note": "同意"},
        },
        "POST /api/v1/collections/arrangements/{arrangement_id}/reject": {
            "path_parameters": {"arrangement_id": own.arrangement},
            "body": {"note": "不同意"},
        },
        "POST /api/v1/collections/arrangements/{arrangement_id}/cancel": {
            "path_parameters": {"arrangement_id": own.arrangement},
            "body": {},
        },
        "POST /api/v1/collections/arrangements/{arrangement_id}/confirm": {
            "path_parameters": {"arrangement_id": own.arrangement},
            "body": {"confirmation": "王经理回邮件确认", "confirmed_on": "2026-07-01"},
        },
        "GET /api/v1/collections/strategies": {},
        "PUT /api/v1/collections/strategies/{grade}": {
            "path_parameters": {"grade": "B"},
            "query": {"tier": "growth"},
            "body": {
                "name": "B growth",
                "steps": [
                    {"day_offset": -3, "channel": "email", "template": "friendly_reminder"},
                    {"day_offset": 20, "channel": "escalation", "target": "manager"},
                ],
            },
        },
        "DELETE /api/v1/collections/strategies/{strategy_id}": {
            "path_parameters": {"strategy_id": world.strategy}
        },
        "POST /api/v1/customers/{code}/credit-hold": {
            "path_parameters": code,
            "body": {"reason": "逾期 90 天"},
        },
        "DELETE /api/v1/customers/{code}/credit-hold": {
            "path_parameters": code,
            "query": {"reason": "已付清"},
        },
        "POST /api/v1/customers/{code}/statements": {
            "path_parameters": code,
            "body": {"send": False},
        },
        # feedback
        "GET /api/v1/feedback/surveys": {},
        "POST /api/v1/feedback/surveys": {
            "body": {
                "code": "schema-nps",
                "kind": "nps",
                "name_zh": "矩阵",
                "name_en": "Matrix",
                "question_zh": "推荐吗？",
                "question_en": "Recommend?",
            }
        },
        "GET /api/v1/feedback/surveys/{survey_id}": {
            "path_parameters": {"survey_id": world.survey}
        },
        "PATCH /api/v1/feedback/surveys/{survey_id}": {
            "path_parameters": {"survey_id": world.survey},
            "body": {"name_en": "Matrix"},
        },
        "GET /api/v1/feedback/campaigns": {},
        "POST /api/v1/feedback/campaigns": {
            "body": {
                "name": "Schema campaign",
                "survey_id": world.survey,
                "trigger": "order_delivered",
                "delay_days": 1,
            }
        },
        "GET /api/v1/feedback/campaigns/{campaign_id}": {
            "path_parameters": {"campaign_id": world.campaign}
        },
        "PATCH /api/v1/feedback/campaigns/{campaign_id}": {
            "path_parameters": {"campaign_id": world.campaign},
            "body": {"sample_rate": 0.5},
        },
        "GET /api/v1/feedback/invitations": {"query": {"customer": own.customer}},
        "GET /api/v1/feedback/metrics": {
            "query": {"from": "2026-01-01", "to": "2026-06-30", "by": "owner"}
        },
        "GET /api/v1/feedback/metrics/trend": {"query": {"from": "2026-01-01", "to": "2026-06-30"}},
        "GET /api/v1/feedback/accounts/{code}/nps": {"path_parameters": code},
        "GET /api/v1/feedback/responses": {"query": {"account": own.customer}},
        "GET /api/v1/feedback/loops": {"query": {"status": "all"}},
        "GET /api/v1/feedback/loops/kpis": {"query": {"start": "2026-01-01", "end": "2026-12-31"}},
        "GET /api/v1/feedback/loops/{loop_id}": {"path_parameters": {"loop_id": own.loop}},
        "POST /api/v1/feedback/loops/{loop_id}/callback": {
            "path_parameters": {"loop_id": own.loop},
            "body": {"note": "回访", "outcome": "resolved"},
        },
        "POST /api/v1/feedback/loops/{loop_id}/assign": {
            "path_parameters": {"loop_id": own.loop},
            "body": {"owner": "manager"},
        },
        "GET /api/v1/feedback/topics": {},
        "POST /api/v1/feedback/topics": {
            "body": {
                "code": "schema_topic",
                "name_zh": "矩阵",
                "name_en": "Matrix",
                "keywords_zh": ["矩阵"],
            }
        },
        "GET /api/v1/feedback/topics/suggestions": {},
        "PATCH /api/v1/feedback/topics/{code}": {
            "path_parameters": {"code": "delivery"},
            "body": {"keywords_en": ["delivery", "late"]},
        },
    }


@pytest.fixture(scope="module")
def shared_app(engine: Engine) -> tuple[FastAPI, dict[str, Session]]:
    """One app for every operation; each request in a savepoint of the current test's
    transaction, undone afterwards."""
    current: dict[str, Session] = {}
    app = create_app(engine=engine)

    def request_session() -> Iterator[Session]:
        session = current["session"]
        attempt = session.begin_nested()
        try:
            yield session
        finally:
            if attempt.is_active:
                attempt.rollback()
            session.expire_all()

    app.dependency_overrides[get_session] = request_session
    return app, current


@pytest.fixture(scope="module")
def company(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    for company in company_for_module(engine, tmp_path_factory.mktemp("uploads")):
        # A management report, so that reading one is checked too.
        made, _ = insight_reports.make_report(
            company.session,
            insight_reports.ReportPeriod.containing("monthly", date(2026, 1, 1)),
            as_of=date(2026, 2, 2),
        )
        company.session.flush()
        REPORT["id"] = made.id
        yield company


@pytest.fixture
def session(company: Company) -> Iterator[Session]:
    """The module's company, in a savepoint rolled back after the test."""
    yield from company.test_session()


@pytest.fixture
def api(
    shared_app: tuple[FastAPI, dict[str, Session]], company: Company, session: Session
) -> tuple[FastAPI, World]:
    app, current = shared_app
    current["session"] = session
    return app, company.world


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_conforms_to_the_document(api: tuple[FastAPI, World], label: str) -> None:
    app, world = api
    operation = OPERATIONS[label]
    known = {
        name: value
        for name, value in existing_records(world, operation.path).items()
        if f"{{{name}}}" in operation.path
    }
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        *([operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known)] if known else []),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(app=app, headers=world.headers["admin"], checks=CHECKS)

    conforms()


def test_every_operation_has_a_request_that_succeeds(api: tuple[FastAPI, World]) -> None:
    assert set(valid_requests(api[1])) == set(OPERATIONS)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_answer_of_success_conforms_to_the_document(
    api: tuple[FastAPI, World], label: str
) -> None:
    app, world = api
    case = OPERATIONS[label].Case(**valid_requests(world)[label])

    response = case.call_and_validate(app=app, headers=world.headers["admin"], checks=CHECKS)

    assert 200 <= response.status_code < 300, response.text
