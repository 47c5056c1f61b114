"""Scoring every customer from the ledger: the day's snapshot, its reasons, re-runs, the trend
and the audit of grade changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.analytics.credit_expert import DEFAULT_SCORECARD
from flywheel.credit import service
from flywheel.errors import ValidationFailed
from flywheel.models.audit import AuditEvent
from flywheel.models.credit import CreditScore
from tests.factories import make_customer, make_invoice, make_payment


def scores_on(session: Session, day: date) -> dict[int, CreditScore]:
    return {
        s.customer_id: s
        for s in session.scalars(select(CreditScore).where(CreditScore.as_of == day))
    }


def test_a_late_payer_scores_below_a_prompt_one_with_the_reasons_stored(session: Session) -> None:
    # Given two customers with one invoice each, due 2026-03-03: one paid on the day, the
    # other 45 days late; and a third that owes an invoice 60 days past due.
    prompt = make_customer(session, created_on=date(2024, 1, 1))
    late = make_customer(session, created_on=date(2024, 1, 1))
    owing = make_customer(session, created_on=date(2024, 1, 1))
    for customer in (prompt, late, owing):
        make_invoice(
            session,
            customer=customer,
            amount="1000.00",
            issued=date(2026, 2, 1),
            due=date(2026, 3, 3),
        )
    make_payment(session, customer=prompt, amount="1000.00", received=date(2026, 3, 3))
    make_payment(session, customer=late, amount="1000.00", received=date(2026, 4, 17))

    # When every customer is scored as of 2026-05-02
    run = service.score_all(session, as_of=date(2026, 5, 2))

    # Then each has a snapshot, the prompt payer the best, and the reasons add up
    shots = scores_on(session, date(2026, 5, 2))
    assert run.customers == len(shots) >= 3
    assert shots[prompt.id].score > shots[late.id].score > shots[owing.id].score
    for shot in (shots[prompt.id], shots[late.id], shots[owing.id]):
        assert DEFAULT_SCORECARD.base + sum(p for _f, _v, p in shot.factors) == shot.score
    late_reasons = {f: (v, p) for f, v, p in shots[late.id].factors}
    assert late_reasons["days_beyond_terms"] == (45.0, -35)
    assert late_reasons["worst_days_overdue"] == (45.0, -10)
    owing_reasons = {f: (v, p) for f, v, p in shots[owing.id].factors}
    assert owing_reasons["days_beyond_terms"] == (60.0, -35)
    assert owing_reasons["overdue_share"] == (1.0, -35)
    assert shots[prompt.id].model == "expert"


def test_running_the_same_day_again_replaces_the_snapshot(session: Session) -> None:
    customer = make_customer(session)
    make_invoice(session, customer=customer, issued=date(2026, 2, 1), due=date(2026, 3, 3))
    service.score_all(session, as_of=date(2026, 5, 2))
    first = session.scalar(select(func.count()).select_from(CreditScore))
    service.score_all(session, as_of=date(2026, 5, 2))
    assert session.scalar(select(func.count()).select_from(CreditScore)) == first


def test_a_grade_that_changes_is_audited_and_the_history_kept(session: Session) -> None:
    # Given a customer scored on 2026-03-01 before its invoice fell due,
    customer = make_customer(session, created_on=date(2024, 1, 1))
    make_invoice(
        session, customer=customer, amount="5000.00", issued=date(2026, 2, 1), due=date(2026, 3, 3)
    )
    service.score_all(session, as_of=date(2026, 3, 1))
    before = scores_on(session, date(2026, 3, 1))[customer.id]
    # when it is 95 days past due on the next scoring day
    run = service.score_all(session, as_of=date(2026, 6, 6))
    after = scores_on(session, date(2026, 6, 6))[customer.id]
    # then its grade fell, the change is on the audit trail, and the trend holds both days
    assert after.score < before.score
    assert after.grade != before.grade
    assert run.grade_changes >= 1
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "credit.grade_changed", AuditEvent.customer_id == customer.id
        )
    ).one()
    assert event.before == {"grade": before.grade, "score": before.score, "as_of": "2026-03-01"}
    assert event.after == {"grade": after.grade, "score": after.score, "as_of": "2026-06-06"}
    view = service.latest_score(session, customer.id, as_of=date(2026, 6, 30))
    assert view is not None
    assert [(d, s) for d, s, _g in view.history] == [
        (date(2026, 3, 1), before.score),
        (date(2026, 6, 6), after.score),
    ]
    assert view.reasons[0].points == min((p for _f, _v, p in after.factors), key=lambda p: -abs(p))


def test_an_invalid_scorecard_file_is_refused_with_its_reason(tmp_path: Path) -> None:
    card = tmp_path / "card.json"
    card.write_text('{"base": 600, "grades": [["A", 1]], "factors": []}', encoding="utf-8")
    with pytest.raises(ValidationFailed, match="not valid"):
        service.load_scorecard(card)
    card.write_text("{", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="not valid"):
        service.load_scorecard(card)
    assert service.load_scorecard(None) is DEFAULT_SCORECARD


def test_an_approved_limit_feeds_the_utilisation_factor(session: Session) -> None:
    from decimal import Decimal

    from flywheel.models.credit import CreditLimit

    customer = make_customer(session, created_on=date(2024, 1, 1))
    make_invoice(
        session, customer=customer, amount="9000.00", issued=date(2026, 4, 1), due=date(2026, 5, 1)
    )
    session.add(
        CreditLimit(
            customer_id=customer.id,
            amount=Decimal("10000.00"),
            currency="CNY",
            approved_on=date(2026, 1, 1),
        )
    )
    session.flush()

    service.score_all(session, as_of=date(2026, 4, 15))

    reasons = {f: (v, p) for f, v, p in scores_on(session, date(2026, 4, 15))[customer.id].factors}
    assert reasons["limit_utilisation"] == (0.9, -10)  # 9,000 open of 10,000: the 0.80–1.00 band
