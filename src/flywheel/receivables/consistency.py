"""Checks that the stored totals and statuses of the ledger equal what its rows say."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# Each query returns the ids breaking one invariant; an empty result means it holds.
_CHECKS: dict[str, str] = {
    "installment paid_amount differs from its payment allocations": """
        SELECT i.id FROM installments i
        LEFT JOIN (SELECT installment_id, SUM(amount) s FROM allocations
                   WHERE payment_id IS NOT NULL GROUP BY installment_id) a
          ON a.installment_id = i.id
        WHERE i.paid_amount <> COALESCE(a.s, 0)""",
    "installment credited_amount differs from its credit-note allocations": """
        SELECT i.id FROM installments i
        LEFT JOIN (SELECT installment_id, SUM(amount) s FROM allocations
                   WHERE credit_note_id IS NOT NULL GROUP BY installment_id) a
          ON a.installment_id = i.id
        WHERE i.credited_amount <> COALESCE(a.s, 0)""",
    "installment settled beyond its amount": """
        SELECT id FROM installments
        WHERE paid_amount + credited_amount + written_off_amount > amount
           OR paid_amount < 0 OR credited_amount < 0 OR written_off_amount < 0""",
    "installment status disagrees with its totals": """
        SELECT id FROM installments WHERE status <> 'cancelled' AND status <> CASE
          WHEN paid_amount + credited_amount + written_off_amount = amount
            THEN CASE WHEN written_off_amount > 0 THEN 'written_off' ELSE 'paid' END
          WHEN paid_amount + credited_amount + written_off_amount > 0 THEN 'partially_paid'
          ELSE 'open' END""",
    "settled installment without settled_on, or open one with it": """
        SELECT id FROM installments
        WHERE (status IN ('paid', 'written_off') AND settled_on IS NULL)
           OR (status IN ('open', 'partially_paid') AND settled_on IS NOT NULL)""",
    "invoice totals differ from its installments": """
        SELECT v.id FROM invoices v
        JOIN (SELECT invoice_id, SUM(amount) a, SUM(paid_amount) p, SUM(credited_amount) c,
                     SUM(written_off_amount) w
              FROM installments GROUP BY invoice_id) s ON s.invoice_id = v.id
        WHERE v.amount <> s.a OR v.paid_amount <> s.p OR v.credited_amount <> s.c
           OR v.written_off_amount <> s.w""",
    "invoice without installments": """
        SELECT v.id FROM invoices v
        WHERE NOT EXISTS (SELECT 1 FROM installments i WHERE i.invoice_id = v.id)""",
    "invoice status disagrees with its totals": """
        SELECT id FROM invoices WHERE status <> 'cancelled' AND status <> CASE
          WHEN paid_amount + credited_amount + written_off_amount = amount
            THEN CASE WHEN written_off_amount > 0 THEN 'written_off' ELSE 'paid' END
          WHEN paid_amount + credited_amount + written_off_amount > 0 THEN 'partially_paid'
          ELSE 'open' END""",
    "payment allocated_amount differs from its allocations": """
        SELECT p.id FROM payments p
        LEFT JOIN (SELECT payment_id, SUM(amount) s FROM allocations
                   WHERE payment_id IS NOT NULL GROUP BY payment_id) a ON a.payment_id = p.id
        WHERE p.allocated_amount <> COALESCE(a.s, 0) OR p.allocated_amount > p.amount""",
    "payment status disagrees with its allocated amount": """
        SELECT id FROM payments WHERE status <> CASE
          WHEN allocated_amount = 0 THEN 'unallocated'
          WHEN allocated_amount = amount THEN 'allocated'
          ELSE 'partially_allocated' END""",
    "credit note allocations differ from its amount": """
        SELECT n.id FROM credit_notes n
        LEFT JOIN (SELECT credit_note_id, SUM(amount) s FROM allocations
                   WHERE credit_note_id IS NOT NULL GROUP BY credit_note_id) a
          ON a.credit_note_id = n.id
        WHERE n.amount <> COALESCE(a.s, 0)""",
    "allocation crosses customers or invoices": """
        SELECT a.id FROM allocations a
        JOIN installments i ON i.id = a.installment_id
        LEFT JOIN payments p ON p.id = a.payment_id
        LEFT JOIN credit_notes n ON n.id = a.credit_note_id
        WHERE a.customer_id <> i.customer_id OR a.invoice_id <> i.invoice_id
           OR (p.id IS NOT NULL AND p.customer_id <> a.customer_id)
           OR (n.id IS NOT NULL AND n.customer_id <> a.customer_id)""",
    "allocation in another currency than its invoice": """
        SELECT a.id FROM allocations a
        JOIN invoices v ON v.id = a.invoice_id
        LEFT JOIN payments p ON p.id = a.payment_id
        LEFT JOIN credit_notes n ON n.id = a.credit_note_id
        WHERE COALESCE(p.currency, n.currency) <> v.currency""",
    "money applied to a cancelled invoice": """
        SELECT v.id FROM invoices v WHERE v.status = 'cancelled'
          AND (v.paid_amount + v.credited_amount + v.written_off_amount) > 0""",
}


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    ids: list[int]


def check_ledger(session: Session, *, sample: int = 10) -> list[Violation]:
    """Every broken invariant with up to ``sample`` offending ids; [] when the ledger is sound."""
    found: list[Violation] = []
    for rule, sql in _CHECKS.items():
        ids = [row[0] for row in session.execute(text(sql + f" LIMIT {int(sample)}"))]
        if ids:
            found.append(Violation(rule, ids))
    return found
