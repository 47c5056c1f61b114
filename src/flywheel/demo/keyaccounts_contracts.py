"""The demo company's contracts: one live contract per key account (about a third renewing
within 90 days), for some an older one that expired or was renewed, each live one with its
milestones (kick-off delivery, acceptance with a survey checkpoint, payments linked to the
account's invoices, a quarterly review with a task checkpoint), most of those due already done
and a few overdue; then the contracts' daily run opens the renewal and overdue tasks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from flywheel.config import get_settings
from flywheel.keyaccounts import daily
from flywheel.models.customers import Customer
from flywheel.models.enums import ContractStatus, CustomerStatus, MilestoneKind, Tier
from flywheel.models.keyaccounts import Contract, ContractMilestone
from flywheel.models.receivables import Invoice
from flywheel.models.sales import Order

CHUNK = 2000
RENEWING_SHARE = 0.35  # live contracts ending within RENEWING_DAYS
RENEWING_DAYS = 90
HISTORY_SHARE = 0.4  # accounts with an older contract too
RENEWED_SHARE = 0.6  # of the older ones: renewed (else expired)
OVERDUE_SHARE = 0.12  # milestones due already but not done
MIN_VALUE = Decimal("100000")
_TITLES = (
    "年度供货框架协议",
    "设备采购及安装合同",
    "备品备件年度供应协议",
    "Annual supply agreement",
    "维保服务合同",
    "Service level agreement",
)


def _thousands(value: float) -> Decimal:
    return Decimal(max(1, round(value / 1000.0)) * 1000)


def _accounts(session: Session, as_of: date) -> list[tuple[int, str, str, int | None]]:
    has_one = select(Contract.id).where(Contract.customer_id == Customer.id).exists()
    rows = session.execute(
        select(Customer.id, Customer.currency, Customer.payment_terms, Customer.owner_id)
        .where(
            Customer.tier == Tier.KEY.value,
            Customer.status == CustomerStatus.ACTIVE.value,
            Customer.created_on <= as_of,
            ~has_one,
        )
        .order_by(Customer.id)
    ).all()
    return [(int(i), str(c), str(t), o) for i, c, t, o in rows]


def _yearly_orders(session: Session, ids: list[int], as_of: date) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for customer_id, total in session.execute(
            select(Order.customer_id, func.sum(Order.amount))
            .where(
                Order.customer_id.in_(chunk),
                Order.order_date > as_of - timedelta(days=365),
                Order.order_date <= as_of,
            )
            .group_by(Order.customer_id)
        ):
            out[int(customer_id)] = Decimal(total or 0)
    return out


def _invoices(
    session: Session, ids: list[int], since: date, until: date
) -> dict[int, list[tuple[int, date, Decimal]]]:
    out: dict[int, list[tuple[int, date, Decimal]]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for invoice_id, customer_id, issued, amount in session.execute(
            select(Invoice.id, Invoice.customer_id, Invoice.issue_date, Invoice.amount)
            .where(
                Invoice.customer_id.in_(chunk),
                Invoice.issue_date >= since,
                Invoice.issue_date <= until,
            )
            .order_by(Invoice.customer_id, Invoice.issue_date, Invoice.id)
        ):
            out.setdefault(int(customer_id), []).append((int(invoice_id), issued, Decimal(amount)))
    return out


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def write_contracts(session: Session, *, as_of: date, seed: int = 0) -> dict[str, int]:
    """Write the demo's contracts and milestones in the caller's transaction (flushes, never
    commits); returns the rows written per kind. Running it again adds only accounts still
    without a contract."""
    rng = np.random.default_rng(seed + 606)
    accounts = _accounts(session, as_of)
    if not accounts:
        return {"contracts": 0, "contract_milestones": 0, "account_tasks": 0}
    ids = [a[0] for a in accounts]
    yearly = _yearly_orders(session, ids, as_of)
    invoices = _invoices(session, ids, as_of - timedelta(days=3 * 365), as_of)
    rows: list[dict[str, Any]] = []
    live_of: dict[str, tuple[int, date, date, Decimal]] = {}  # number → account, start, end, value
    for customer_id, currency, terms, owner_id in accounts:
        months = int(rng.choice((12, 24, 36), p=(0.5, 0.3, 0.2)))
        if rng.random() < RENEWING_SHARE:
            end = as_of + timedelta(days=int(rng.integers(5, RENEWING_DAYS + 1)))
        else:
            end = as_of + timedelta(days=int(rng.integers(RENEWING_DAYS + 1, months * 30)))
        start = _add_months(end, -months) + timedelta(days=1)
        yearly_value = max(yearly.get(customer_id, Decimal(0)), MIN_VALUE)
        value = _thousands(float(yearly_value) * months / 12 * float(rng.uniform(0.6, 1.1)))
        title = str(rng.choice(_TITLES))
        number = f"HT-{start.year}-{customer_id:07d}-1"
        # Some contracts name a renewal date a month before the end (notice period).
        renewal = end - timedelta(days=int(rng.choice((0, 0, 30))))
        if renewal <= as_of:
            renewal = end
        rows.append(
            {
                "customer_id": customer_id,
                "number": number,
                "title": title,
                "value": value,
                "currency": currency,
                "start_on": start,
                "end_on": end,
                "renewal_on": renewal,
                "payment_terms": terms,
                "status": ContractStatus.ACTIVE.value,
                "owner_id": owner_id,
            }
        )
        live_of[number] = (customer_id, start, end, value)
        if rng.random() < HISTORY_SHARE:
            old_end = start - timedelta(days=1)
            old_start = _add_months(old_end, -12) + timedelta(days=1)
            renewed = rng.random() < RENEWED_SHARE
            rows.append(
                {
                    "customer_id": customer_id,
                    "number": f"HT-{old_start.year}-{customer_id:07d}-0",
                    "title": title,
                    "value": _thousands(float(value) / months * 12 * float(rng.uniform(0.7, 1.0))),
                    "currency": currency,
                    "start_on": old_start,
                    "end_on": old_end,
                    "renewal_on": old_end,
                    "payment_terms": terms,
                    "status": (ContractStatus.RENEWED if renewed else ContractStatus.EXPIRED).value,
                    "owner_id": owner_id,
                }
            )
    for start_at in range(0, len(rows), CHUNK):
        session.execute(insert(Contract), rows[start_at : start_at + CHUNK])
    ids_by_number: dict[str, int] = {}
    numbers = list(live_of)
    for start_at in range(0, len(numbers), CHUNK):
        for cid, number in session.execute(
            select(Contract.id, Contract.number).where(
                Contract.number.in_(numbers[start_at : start_at + CHUNK])
            )
        ):
            ids_by_number[str(number)] = int(cid)

    milestones: list[dict[str, Any]] = []
    for number, (customer_id, start, end, value) in live_of.items():
        contract_id = ids_by_number[number]
        term_days = max((end - start).days, 60)
        own_invoices = [i for i in invoices.get(customer_id, []) if i[1] >= start]
        plan: list[tuple[str, str, date, Decimal | None, str | None]] = [
            (
                "首批交付 · First delivery",
                MilestoneKind.DELIVERABLE.value,
                start + timedelta(days=30),
                None,
                None,
            ),
            (
                "验收 · Acceptance",
                MilestoneKind.ACCEPTANCE.value,
                start + timedelta(days=60),
                None,
                "survey",
            ),
            (
                "预付款 30% · Down payment",
                MilestoneKind.PAYMENT.value,
                start + timedelta(days=15),
                (value * Decimal("0.30")).quantize(Decimal("0.01")),
                None,
            ),
            (
                "进度款 · Progress payment",
                MilestoneKind.PAYMENT.value,
                start + timedelta(days=term_days // 2),
                (value * Decimal("0.40")).quantize(Decimal("0.01")),
                None,
            ),
        ]
        review = start + timedelta(days=90)
        while review < end and len(plan) < 8:
            plan.append(("季度业务回顾 · QBR", MilestoneKind.REVIEW.value, review, None, "task"))
            review += timedelta(days=91)
        for title, kind, due, amount, checkpoint in plan:
            done_on = None
            if due <= as_of and rng.random() >= OVERDUE_SHARE:
                done_on = min(as_of, due + timedelta(days=int(rng.integers(-5, 10))))
            invoice_id = None
            if kind == MilestoneKind.PAYMENT.value and own_invoices:
                near = [i for i in own_invoices if i[1] <= due] or own_invoices
                invoice_id = near[-1][0]
            milestones.append(
                {
                    "contract_id": contract_id,
                    "customer_id": customer_id,
                    "title": title,
                    "kind": kind,
                    "due_on": due,
                    "done_on": done_on,
                    "amount": amount,
                    "invoice_id": invoice_id,
                    "checkpoint": checkpoint,
                }
            )
    for start_at in range(0, len(milestones), CHUNK):
        session.execute(insert(ContractMilestone), milestones[start_at : start_at + CHUNK])
    session.flush()
    result = daily.run(session, as_of=as_of, settings=get_settings())
    return {
        "contracts": len(rows),
        "contract_milestones": len(milestones),
        "account_tasks": int(result["renewal_tasks"]) + int(result["overdue_milestone_tasks"]),
    }
