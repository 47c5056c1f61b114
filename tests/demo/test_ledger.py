"""The demo ledger obeys every rule of the receivables ledger, checked with SQL on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from flywheel.demo.service import DemoSummary
from flywheel.receivables.consistency import check_ledger
from tests.demo.conftest import AS_OF

Built = tuple[Engine, DemoSummary]

# Each query counts the rows that break one rule; every count must be zero.
RULES: dict[str, str] = {
    "allocation amount positive, exactly one source": """
        SELECT COUNT(*) FROM allocations
        WHERE amount <= 0
           OR (payment_id IS NULL AND credit_note_id IS NULL)
           OR (payment_id IS NOT NULL AND credit_note_id IS NOT NULL)""",
    "installment paid_amount = its payment allocations": """
        SELECT COUNT(*) FROM installments i
        LEFT JOIN (SELECT installment_id, SUM(amount) s FROM allocations
                   WHERE payment_id IS NOT NULL GROUP BY installment_id) a
          ON a.installment_id = i.id
        WHERE i.paid_amount <> COALESCE(a.s, 0)""",
    "installment credited_amount = its credit-note allocations": """
        SELECT COUNT(*) FROM installments i
        LEFT JOIN (SELECT installment_id, SUM(amount) s FROM allocations
                   WHERE credit_note_id IS NOT NULL GROUP BY installment_id) a
          ON a.installment_id = i.id
        WHERE i.credited_amount <> COALESCE(a.s, 0)""",
    "installment not over-settled": """
        SELECT COUNT(*) FROM installments
        WHERE paid_amount + credited_amount + written_off_amount > amount
           OR paid_amount < 0 OR credited_amount < 0 OR written_off_amount < 0""",
    "installment status follows its totals": """
        SELECT COUNT(*) FROM installments WHERE status <> CASE
          WHEN written_off_amount > 0 AND paid_amount + credited_amount + written_off_amount
               = amount THEN 'written_off'
          WHEN paid_amount + credited_amount = amount THEN 'paid'
          WHEN paid_amount + credited_amount + written_off_amount > 0 THEN 'partially_paid'
          ELSE 'open' END""",
    "paid installment settled on its last allocation": """
        SELECT COUNT(*) FROM installments i
        JOIN (SELECT installment_id, MAX(applied_on) d FROM allocations
              GROUP BY installment_id) a ON a.installment_id = i.id
        WHERE i.status = 'paid' AND (i.settled_on IS NULL OR i.settled_on <> a.d)""",
    "unsettled installment has no settled_on": """
        SELECT COUNT(*) FROM installments
        WHERE status IN ('open', 'partially_paid') AND settled_on IS NOT NULL""",
    "written-off installment closed after its allocations": """
        SELECT COUNT(*) FROM installments i
        LEFT JOIN (SELECT installment_id, MAX(applied_on) d FROM allocations
                   GROUP BY installment_id) a ON a.installment_id = i.id
        WHERE i.status = 'written_off'
          AND (i.settled_on IS NULL OR (a.d IS NOT NULL AND i.settled_on < a.d))""",
    "invoice totals = sums of its installments": """
        SELECT COUNT(*) FROM invoices v
        JOIN (SELECT invoice_id, SUM(amount) a, SUM(paid_amount) p, SUM(credited_amount) c,
                     SUM(written_off_amount) w
              FROM installments GROUP BY invoice_id) s ON s.invoice_id = v.id
        WHERE v.amount <> s.a OR v.paid_amount <> s.p OR v.credited_amount <> s.c
           OR v.written_off_amount <> s.w""",
    "invoice has installments numbered 1..n": """
        SELECT COUNT(*) FROM invoices v
        LEFT JOIN (SELECT invoice_id, COUNT(*) n, MIN(sequence) lo, MAX(sequence) hi
                   FROM installments GROUP BY invoice_id) s ON s.invoice_id = v.id
        WHERE s.n IS NULL OR s.lo <> 1 OR s.hi <> s.n""",
    "invoice status follows its installments": """
        SELECT COUNT(*) FROM invoices v
        JOIN (SELECT invoice_id, COUNT(*) n,
                     SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) paid,
                     SUM(CASE WHEN status = 'written_off' THEN 1 ELSE 0 END) written,
                     SUM(CASE WHEN status <> 'open' THEN 1 ELSE 0 END) touched
              FROM installments GROUP BY invoice_id) s ON s.invoice_id = v.id
        WHERE v.status <> CASE
          WHEN s.paid = s.n THEN 'paid'
          WHEN s.written > 0 AND s.paid + s.written = s.n THEN 'written_off'
          WHEN s.touched > 0 THEN 'partially_paid'
          ELSE 'open' END""",
    "payment allocated_amount = its allocations, not above its amount": """
        SELECT COUNT(*) FROM payments p
        LEFT JOIN (SELECT payment_id, SUM(amount) s FROM allocations
                   WHERE payment_id IS NOT NULL GROUP BY payment_id) a ON a.payment_id = p.id
        WHERE p.allocated_amount <> COALESCE(a.s, 0) OR p.allocated_amount > p.amount
           OR p.amount <= 0""",
    "payment status follows its allocated amount": """
        SELECT COUNT(*) FROM payments WHERE status <> CASE
          WHEN allocated_amount = 0 THEN 'unallocated'
          WHEN allocated_amount = amount THEN 'allocated'
          ELSE 'partially_allocated' END""",
    "allocation applied on the payment's or credit note's date": """
        SELECT COUNT(*) FROM allocations a
        LEFT JOIN payments p ON p.id = a.payment_id
        LEFT JOIN credit_notes n ON n.id = a.credit_note_id
        WHERE a.applied_on <> COALESCE(p.received_on, n.issue_date)""",
    "allocation stays within one customer and invoice": """
        SELECT COUNT(*) FROM allocations a
        JOIN installments i ON i.id = a.installment_id
        LEFT JOIN payments p ON p.id = a.payment_id
        LEFT JOIN credit_notes n ON n.id = a.credit_note_id
        WHERE a.customer_id <> i.customer_id OR a.invoice_id <> i.invoice_id
           OR COALESCE(p.customer_id, n.customer_id) <> a.customer_id""",
    "documents in the customer's currency": """
        SELECT COUNT(*) FROM allocations a
        JOIN invoices v ON v.id = a.invoice_id
        JOIN customers c ON c.id = a.customer_id
        LEFT JOIN payments p ON p.id = a.payment_id
        LEFT JOIN credit_notes n ON n.id = a.credit_note_id
        WHERE COALESCE(p.currency, n.currency) <> v.currency OR v.currency <> c.currency""",
    "invoices, orders and payments in the customer's currency": """
        SELECT (SELECT COUNT(*) FROM invoices v JOIN customers c ON c.id = v.customer_id
                WHERE v.currency <> c.currency)
             + (SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id
                WHERE o.currency <> c.currency)
             + (SELECT COUNT(*) FROM payments p JOIN customers c ON c.id = p.customer_id
                WHERE p.currency <> c.currency)""",
    "credit note fully allocated to its own invoice": """
        SELECT COUNT(*) FROM credit_notes n
        LEFT JOIN (SELECT credit_note_id, SUM(amount) s, MIN(invoice_id) lo, MAX(invoice_id) hi
                   FROM allocations WHERE credit_note_id IS NOT NULL GROUP BY credit_note_id) a
          ON a.credit_note_id = n.id
        WHERE a.s IS NULL OR a.s <> n.amount OR a.lo <> n.invoice_id OR a.hi <> n.invoice_id""",
    "one invoice per order, same customer and amount": """
        SELECT COUNT(*) FROM invoices v LEFT JOIN orders o ON o.id = v.order_id
        WHERE o.id IS NULL OR o.customer_id <> v.customer_id OR o.amount <> v.amount
           OR o.status NOT IN ('invoiced', 'delivered') OR o.order_date > v.issue_date""",
    "referrer created before the referred customer": """
        SELECT COUNT(*) FROM customers c JOIN customers r ON r.id = c.referred_by_id
        WHERE r.created_on >= c.created_on OR r.id >= c.id""",
    "parent accounts are key accounts": """
        SELECT COUNT(*) FROM customers c JOIN customers p ON p.id = c.parent_id
        WHERE p.tier <> 'key' OR p.id = c.id""",
    "traits stored for every customer": """
        SELECT COUNT(*) FROM customers c
        LEFT JOIN demo_customer_traits t ON t.customer_id = c.id
        WHERE t.customer_id IS NULL
           OR t.payment_discipline NOT BETWEEN 0 AND 1
           OR t.satisfaction_propensity NOT BETWEEN 0 AND 1
           OR t.referral_propensity NOT BETWEEN 0 AND 1
           OR t.language NOT IN ('zh', 'en')""",
    "churned customers are the ones with a churn month": """
        SELECT COUNT(*) FROM customers c JOIN demo_customer_traits t ON t.customer_id = c.id
        WHERE (c.status = 'churned') <> (t.churned_on_month IS NOT NULL)""",
    "owners are sales users": """
        SELECT COUNT(*) FROM customers c LEFT JOIN users u ON u.id = c.owner_id
        WHERE u.id IS NULL OR u.role <> 'sales'""",
    "key accounts have 3-8 contacts, others 1-2": """
        SELECT COUNT(*) FROM customers c
        LEFT JOIN (SELECT customer_id, COUNT(*) n FROM contacts GROUP BY customer_id) k
          ON k.customer_id = c.id
        WHERE (c.tier = 'key' AND (k.n IS NULL OR k.n NOT BETWEEN 3 AND 8))
           OR (c.tier <> 'key' AND (k.n IS NULL OR k.n NOT BETWEEN 1 AND 2))""",
    "company names are unique": "SELECT COUNT(*) - COUNT(DISTINCT name) FROM customers",
    "no business before the customer existed": """
        SELECT (SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id
                WHERE o.order_date < c.created_on)
             + (SELECT COUNT(*) FROM payments p JOIN customers c ON c.id = p.customer_id
                WHERE p.received_on < c.created_on)""",
    "touchpoint contact belongs to its customer": """
        SELECT COUNT(*) FROM touchpoints t JOIN contacts k ON k.id = t.contact_id
        WHERE k.customer_id <> t.customer_id""",
}


@pytest.mark.parametrize("rule", list(RULES))
def test_ledger_rule_holds(built: Built, rule: str) -> None:
    engine, _ = built
    with engine.connect() as conn:
        broken = conn.execute(text(RULES[rule])).scalar_one()
    assert broken == 0, rule


def test_receivables_consistency_check_passes(built: Built) -> None:
    engine, _ = built
    with Session(engine) as session:
        assert check_ledger(session) == []


def test_sqlite_foreign_keys_hold(built: Built) -> None:
    engine, _ = built
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL validates every foreign key when the writer re-adds it")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


COUNT_OF: dict[str, str] = {
    "open overdue installments": f"""
        SELECT COUNT(*) FROM installments
        WHERE status IN ('open', 'partially_paid') AND due_date < '{AS_OF.isoformat()}'""",
    "installments not yet due": f"""
        SELECT COUNT(*) FROM installments
        WHERE status = 'open' AND due_date >= '{AS_OF.isoformat()}'""",
    "split invoices": "SELECT COUNT(*) FROM installments WHERE sequence = 2",
    "part-paid installments (two payments)": """
        SELECT COUNT(*) FROM (SELECT installment_id FROM allocations
        WHERE payment_id IS NOT NULL GROUP BY installment_id HAVING COUNT(*) >= 2) x""",
    "over-payments kept as credit": """
        SELECT COUNT(*) FROM payments WHERE status = 'partially_allocated'""",
    "payments covering several invoices": """
        SELECT COUNT(*) FROM (SELECT payment_id FROM allocations WHERE payment_id IS NOT NULL
        GROUP BY payment_id HAVING COUNT(DISTINCT invoice_id) >= 2) x""",
    "disputes": """
        SELECT COUNT(*) FROM credit_notes
        WHERE reason LIKE '争议:%' OR reason LIKE 'dispute:%'""",
    "write-offs": "SELECT COUNT(*) FROM invoices WHERE status = 'written_off'",
    "churned customers": "SELECT COUNT(*) FROM customers WHERE status = 'churned'",
    "referred customers": "SELECT COUNT(*) FROM customers WHERE referred_by_id IS NOT NULL",
    "subsidiaries": "SELECT COUNT(*) FROM customers WHERE parent_id IS NOT NULL",
    "USD customers": "SELECT COUNT(*) FROM customers WHERE currency = 'USD'",
    "EOM terms": "SELECT COUNT(*) FROM invoices WHERE payment_terms LIKE 'EOM%'",
}


@pytest.mark.parametrize("what", list(COUNT_OF))
def test_story_elements_present(built: Built, what: str) -> None:
    engine, _ = built
    with engine.connect() as conn:
        assert conn.execute(text(COUNT_OF[what])).scalar_one() > 0, what


def test_nothing_happens_after_as_of(built: Built) -> None:
    engine, _ = built
    day = AS_OF.isoformat()
    with engine.connect() as conn:
        late = conn.execute(
            text(
                f"""SELECT (SELECT COUNT(*) FROM invoices WHERE issue_date > '{day}')
                         + (SELECT COUNT(*) FROM payments WHERE received_on > '{day}')
                         + (SELECT COUNT(*) FROM allocations WHERE applied_on > '{day}')
                         + (SELECT COUNT(*) FROM credit_notes WHERE issue_date > '{day}')
                         + (SELECT COUNT(*) FROM installments WHERE settled_on > '{day}')"""
            )
        ).scalar_one()
    assert late == 0


def test_write_offs_are_old_debts(built: Built) -> None:
    engine, _ = built
    limit = (AS_OF - timedelta(days=180)).isoformat()
    with engine.connect() as conn:
        recent = conn.execute(
            text(
                "SELECT COUNT(*) FROM installments "
                f"WHERE status = 'written_off' AND due_date >= '{limit}'"
            )
        ).scalar_one()
    assert recent == 0


def test_tiers_and_languages_mix(built: Built) -> None:
    engine, _ = built
    with engine.connect() as conn:
        tiers = dict(conn.execute(text("SELECT tier, COUNT(*) FROM customers GROUP BY tier")).all())
        languages = dict(
            conn.execute(
                text("SELECT language, COUNT(*) FROM demo_customer_traits GROUP BY language")
            ).all()
        )
    assert set(tiers) == {"key", "growth", "standard"}
    assert tiers["standard"] > tiers["growth"] > tiers["key"]
    assert languages["zh"] > languages["en"] > 0


def test_comments_in_both_languages_follow_satisfaction(built: Built) -> None:
    engine, _ = built
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.summary, t.satisfaction, d.language FROM touchpoints t "
                "JOIN demo_customer_traits d ON d.customer_id = t.customer_id"
            )
        ).all()
    chinese = [s for s, _, lang in rows if lang == "zh"]
    english = [s for s, _, lang in rows if lang == "en"]
    assert chinese
    assert english
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in s) for s in chinese)
    assert all(s.isascii() for s in english)
    assert len(set(chinese)) > len(chinese) // 4  # fragments combine into varied texts
    happy = [s for s, score, lang in rows if score == 5 and lang == "zh"]
    unhappy = [s for s, score, lang in rows if score == 1 and lang == "zh"]
    assert any("满意" in s or "推荐" in s or "认可" in s for s in happy)
    assert not any("非常满意" in s for s in unhappy)


def test_touchpoint_references_unique_and_scores_in_range(built: Built) -> None:
    engine, _ = built
    with engine.connect() as conn:
        total, distinct, bad = conn.execute(
            text(
                "SELECT COUNT(*), COUNT(DISTINCT reference), "
                "SUM(CASE WHEN satisfaction NOT BETWEEN 1 AND 5 THEN 1 ELSE 0 END) "
                "FROM touchpoints"
            )
        ).one()
    assert total == distinct > 0
    assert not bad
