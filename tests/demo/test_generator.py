"""The generator on its own: deterministic, exact in cents, true to payment terms and the brief."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flywheel.demo.generator import DemoSpec, generate_company
from flywheel.demo.ledger import _due_days, _nearest_day_of_month, _nearest_weekday, _split_evenly
from flywheel.demo.seasons import business_calendar, to_day
from flywheel.demo.tables import Cents, Codes, DemoCompany, Ints
from flywheel.kit.money import split_evenly
from flywheel.kit.terms import parse_terms
from tests.demo.conftest import AS_OF


def _company(seed: int, customers: int = 150) -> DemoCompany:
    return generate_company(DemoSpec(customers=customers, years=2, seed=seed, as_of=AS_OF))


def _fingerprint(company: DemoCompany) -> str:
    digest = hashlib.sha256()
    for name in ("invoices", "installments", "payments", "allocations"):
        for _, column in company.tables[name]:
            if isinstance(column, Cents | Ints):
                digest.update(column.values.tobytes())
    return digest.hexdigest()


def test_same_seed_gives_the_same_company() -> None:
    first, second = _company(3), _company(3)
    assert first.counts() == second.counts()
    assert _fingerprint(first) == _fingerprint(second)


def test_another_seed_gives_another_company() -> None:
    first, second = _company(3), _company(4)
    assert _fingerprint(first) != _fingerprint(second)


def test_as_of_ends_the_history() -> None:
    company = _company(5)
    issue = company.tables["invoices"].columns["issue_date"].values  # type: ignore[union-attr]
    assert issue.max() <= np.datetime64(AS_OF)
    assert issue.min() >= np.datetime64("2023-07-01")


def test_volume_scales_with_customers_and_tiers() -> None:
    company = _company(6, customers=600)
    counts = company.counts()
    # About 7.5 invoices per customer and year.
    assert 600 * 2 * 6 < counts["invoices"] < 600 * 2 * 9
    assert counts["orders"] == counts["invoices"]
    assert counts["installments"] > counts["invoices"]
    sales = company.tables["users"].columns["role"].values.tolist()  # type: ignore[union-attr]
    assert sales.count("sales") == 1 + 5  # the demo ``sales`` login plus the minimum five reps


def test_document_numbers_are_unique() -> None:
    company = _company(8)
    for table, column in (
        ("invoices", "number"),
        ("payments", "reference"),
        ("touchpoints", "reference"),
    ):
        codes = company.tables[table].columns[column]
        assert isinstance(codes, Codes)
        texts = codes.format(0, len(codes.numbers))
        assert len(set(texts)) == len(texts)


@given(
    total=st.integers(min_value=100, max_value=10**12),
    parts=st.integers(min_value=1, max_value=4),
)
def test_installment_split_matches_kit_money(total: int, parts: int) -> None:
    cents = np.array([total], dtype=np.int64)
    counts = np.array([parts], dtype=np.int64)
    rows = np.zeros(parts, dtype=np.int64)
    sequence = np.arange(parts, dtype=np.int64)
    ours = _split_evenly(cents, counts, rows, sequence)
    expected = split_evenly(Decimal(total) / 100, parts)
    assert [Decimal(int(c)) / 100 for c in ours] == expected
    assert int(ours.sum()) == total


@pytest.mark.parametrize("code", ["NET30", "NET45", "NET60", "NET90", "EOM30", "EOM60"])
def test_due_dates_match_kit_terms(code: str) -> None:
    from flywheel.demo.accounts import TERMS

    issued = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 12, 15), date(2025, 6, 1)]
    days = np.array([to_day(d) for d in issued], dtype=np.int64)
    terms = np.full(len(issued), TERMS.index(code), dtype=np.int64)
    due = _due_days(days, terms)
    expected = [to_day(parse_terms(code).due_date(d)) for d in issued]
    assert due.tolist() == expected


def test_calendar_dips_at_chinese_new_year_and_peaks_in_q4() -> None:
    cal = business_calendar(date(2025, 12, 31), 2)
    activity = dict(zip(cal.year_month.tolist(), cal.month_activity.tolist(), strict=True))
    assert activity[202402] < 0.85 * activity[202403]  # Spring Festival 2024-02-10
    assert activity[202412] > activity[202409]


def _days(*values: str) -> np.ndarray:
    return np.array(values, dtype="datetime64[D]").astype(np.int64)


def test_a_weekly_run_pays_on_the_nearest_run_weekday() -> None:
    # Wednesday 5 March 2025 → the Thursday run of 6 March; Monday 3 March → the Friday run of
    # 28 February (3 days back, 4 ahead).
    got = _nearest_weekday(_days("2025-03-05", "2025-03-03"), np.array([3, 4]))
    assert got.tolist() == _days("2025-03-06", "2025-02-28").tolist()


def test_a_monthly_run_pays_on_the_nearest_run_or_the_next_when_missed() -> None:
    intended = _days("2025-03-22", "2025-03-02", "2025-03-22", "2025-02-27")
    day = np.array([25, 25, 25, 31])
    missed = np.array([False, False, True, False])
    got = _nearest_day_of_month(intended, day, missed)
    # 25 March; 25 February (nearer than 25 March); a miss of the 25 March run waits for 25
    # April (a Friday); the last day of February 2025 is a Friday.
    assert got.tolist() == _days("2025-03-25", "2025-02-25", "2025-03-25", "2025-02-28").tolist()


def test_a_run_on_a_weekend_moves_to_the_friday_before() -> None:
    # 25 May 2025 is a Sunday, 31 August 2025 too.
    got = _nearest_day_of_month(
        _days("2025-05-24", "2025-08-30"), np.array([25, 31]), np.array([False, False])
    )
    assert got.tolist() == _days("2025-05-23", "2025-08-29").tolist()


def test_many_customers_pay_on_a_usual_day() -> None:
    company = _company(5, customers=400)
    payments = company.tables["payments"]
    customer = payments.columns["customer_id"].values
    received = payments.columns["received_on"].values.astype("datetime64[D]")
    day = (received - received.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    weekday = (received.astype(np.int64) + 3) % 7
    concentrated = 0
    customers = np.unique(customer)
    for one in customers:
        mine = customer == one
        if mine.sum() < 8:
            continue
        top_day = np.bincount(day[mine]).max() / mine.sum()
        top_weekday = np.bincount(weekday[mine]).max() / mine.sum()
        concentrated += top_day >= 0.4 or top_weekday >= 0.6
    assert concentrated >= 0.3 * len(customers)
