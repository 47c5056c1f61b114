"""Property: messy rows never crash an import, and every row is accounted for."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from flywheel.receivables.consistency import check_ledger
from tests.factories import make_customer
from tests.importers.conftest import ImportFn, write_csv

messy = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "2026-02-30",
            "2026/3/1",
            "2026年3月1日",
            "46082",
            "1,234.50",
            "￥1,234.50",
            "(1.00)",
            "-5",
            "1.5万",
            "abc",
            "C1",
            "C2",
            "NET30",
            "月结60天",
            "CNY",
            "USD",
            "XYZ1",
            "0",
            "1e3",
            "NaN",
            "inf",
            "9" * 30,
            "\u200b",
            "\ufeff",
            "＂",
            "1,2,3",
            "12/13/2026",
            "3/4/2026",
            "INV-1",
            "INV-1",
        ]
    ),
)
INVOICE_HEADER = [
    "发票号",
    "客户编号",
    "开票日期",
    "到期日",
    "金额",
    "币种",
    "付款条件",
    "分期金额",
]
PAYMENT_HEADER = ["收款单号", "客户编号", "收款日期", "金额", "收款方式", "发票号"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(messy, min_size=8, max_size=9), min_size=1, max_size=12))
def test_messy_invoice_rows_are_imported_or_reported(
    session: Session, run_import: ImportFn, rows: list[list[str]]
) -> None:
    _check(session, run_import, "invoices", INVOICE_HEADER, rows)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(messy, min_size=6, max_size=7), min_size=1, max_size=12))
def test_messy_payment_rows_are_imported_or_reported(
    session: Session, run_import: ImportFn, rows: list[list[str]]
) -> None:
    _check(session, run_import, "payments", PAYMENT_HEADER, rows)


def _check(
    session: Session, run_import: ImportFn, entity: str, header: list[str], rows: list[list[str]]
) -> None:
    savepoint = session.begin_nested()
    try:
        make_customer(session, code="C1")
        make_customer(session, code="C2", currency="USD")
        with tempfile.TemporaryDirectory() as folder:
            # A cell may hold a line break or a NUL: write what a spreadsheet could write.
            clean = [[cell.replace("\x00", "") for cell in row] for row in rows]
            path = write_csv(Path(folder) / f"{entity}.csv", [header, *clean])
            result = run_import(entity, path)
            nonblank = result.rows
            assert result.inserted + result.updated + result.unchanged + result.rejected == nonblank
            assert all(e.reason for e in result.errors)
            assert {e.row for e in result.errors} <= set(range(2, 2 + len(rows) * 3))
            if result.rejected:
                assert result.rejects_file is not None
                assert Path(result.rejects_file).exists()
        assert check_ledger(session) == []
    finally:
        savepoint.rollback()
