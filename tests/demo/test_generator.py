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
from flywheel.demo.ledger import _due_days, _split_evenly
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
