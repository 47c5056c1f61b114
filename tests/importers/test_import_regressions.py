"""Import bugs found in review, each with the test that would have caught it."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.models.receivables import Invoice, Payment
from flywheel.receivables.consistency import check_ledger
from flywheel.sales.schemas import OrderIn
from flywheel.sales.service import create_order
from tests.factories import TESTER, make_customer
from tests.importers.conftest import ImportFn, write_csv


def test_blank_cells_keep_what_an_earlier_import_stored(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    customer = make_customer(session, code="B1")
    create_order(
        session,
        actor=TESTER,
        data=OrderIn(
            number="O1", customer_id=customer.id, order_date=date(2026, 1, 1), amount=Decimal("100")
        ),
    )
    full = write_csv(
        tmp_path / "full.csv",
        [
            [
                "number",
                "customer",
                "order",
                "issue_date",
                "due_date",
                "amount",
                "currency",
                "payment_terms",
            ],
            ["F1", "B1", "O1", "2026-01-05", "2026-02-20", "100", "USD", "EOM60"],
        ],
    )
    sparse = write_csv(
        tmp_path / "sparse.csv",
        [["number", "customer", "issue_date", "amount"], ["F1", "B1", "2026-01-05", "100"]],
    )
    run_import("invoices", full)

    result = run_import("invoices", sparse)

    assert (result.updated, result.unchanged) == (0, 1)
    invoice = session.scalars(select(Invoice).where(Invoice.number == "F1")).one()
    assert (invoice.currency, invoice.payment_terms) == ("USD", "EOM60")
    assert invoice.order_id is not None
    assert invoice.installments[0].due_date == date(2026, 2, 20)


def test_blank_cells_keep_a_payments_method_and_invoice(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="B2")
    run_import(
        "payments",
        write_csv(
            tmp_path / "p.csv",
            [
                ["reference", "customer", "received_on", "amount", "method", "invoice"],
                ["R1", "B2", "2026-02-01", "10", "承兑汇票", "X-9"],
            ],
        ),
    )

    again = run_import(
        "payments",
        write_csv(
            tmp_path / "p2.csv",
            [["reference", "customer", "received_on", "amount"], ["R1", "B2", "2026-02-01", "10"]],
        ),
    )

    assert again.unchanged == 1
    payment = session.scalars(select(Payment).where(Payment.reference == "R1")).one()
    assert (payment.method, payment.invoice_reference) == ("acceptance_bill", "X-9")


def test_an_absurd_amount_is_a_rejected_row_not_a_crash(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="H1")
    path = write_csv(
        tmp_path / "huge.csv",
        [
            ["发票号", "客户编号", "开票日期", "金额"],
            ["H-1", "H1", "2026-01-01", "99999999999999999"],
            ["H-2", "H1", "2026-01-01", "1" * 28],
            ["H-3", "H1", "2026-01-01", "1.234"],
            ["H-4", "H1", "2026-01-01", "12.50"],
        ],
    )

    result = run_import("invoices", path)

    assert (result.inserted, result.rejected) == (1, 3)
    assert all(e.column == "金额" for e in result.errors)


def test_a_vat_export_is_owed_the_gross_amount(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="V1")
    path = write_csv(
        tmp_path / "vat.csv",
        [
            ["发票号码", "客户编号", "开票日期", "金额", "税额", "价税合计"],
            ["V-1", "V1", "2026-01-01", "1000.00", "130.00", "1130.00"],
        ],
    )

    result = run_import("invoices", path)

    assert result.columns["amount"] == "价税合计"
    assert session.scalars(select(Invoice.amount).where(Invoice.number == "V-1")).one() == Decimal(
        "1130.00"
    )


def test_a_currency_in_the_amount_cell_counts(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="M1")
    path = write_csv(
        tmp_path / "cur.csv",
        [
            ["发票号", "客户编号", "开票日期", "金额", "币种"],
            ["M-1", "M1", "2026-01-01", "USD 1,000", ""],
            ["M-2", "M1", "2026-01-01", "USD 1,000", "CNY"],
        ],
    )

    result = run_import("invoices", path)

    assert (result.inserted, result.rejected) == (1, 1)
    assert "in USD but the currency column says CNY" in result.errors[0].reason
    assert session.scalars(select(Invoice.currency).where(Invoice.number == "M-1")).one() == "USD"


def test_invisible_and_full_width_characters_do_not_make_a_second_key(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="INV9")
    path = write_csv(
        tmp_path / "keys.csv",
        [
            ["发票号", "客户编号", "开票日期", "金额"],
            ["I2\u200b", "ＩＮＶ９", "2026-01-01", "5"],
            ["X1", "INV9", "2026-01-01", "5"],
            ["I2", "INV9", "2026-01-01", "5"],
        ],
    )

    result = run_import("invoices", path)

    assert (result.inserted, result.rejected) == (2, 1)
    assert "already appeared on row 2" in result.errors[0].reason
    assert session.scalars(select(Invoice.number).where(Invoice.number.like("I2%"))).all() == ["I2"]


def test_money_in_another_currency_is_applied_when_its_invoice_arrives(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="U1")  # a CNY customer
    run_import(
        "payments",
        write_csv(
            tmp_path / "p.csv",
            [
                ["reference", "customer", "received_on", "amount", "currency"],
                ["PU", "U1", "2026-02-01", "100", "USD"],
            ],
        ),
    )

    run_import(
        "invoices",
        write_csv(
            tmp_path / "i.csv",
            [
                ["number", "customer", "issue_date", "amount", "currency"],
                ["IU", "U1", "2026-01-01", "100", "USD"],
            ],
        ),
    )

    assert session.scalars(select(Invoice.status).where(Invoice.number == "IU")).one() == "paid"
    assert check_ledger(session) == []


def test_a_key_that_comes_back_later_is_rejected_with_its_cells(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="D1")
    path = write_csv(
        tmp_path / "dup.csv",
        [
            ["发票号", "客户编号", "开票日期", "金额"],
            ["N1", "D1", "2026-01-01", "1"],
            ["N2", "D1", "2026-01-01", "2"],
            ["N1", "D1", "2026-01-02", "3"],
        ],
    )

    result = run_import("invoices", path)

    assert result.rejected == 1
    with open(str(result.rejects_file), encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert rejects[1][:2] == ["4", "发票号"]
    assert rejects[1][3:] == ["N1", "D1", "2026-01-02", "3"]
