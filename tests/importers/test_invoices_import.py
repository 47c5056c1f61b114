"""Importing invoices: Chinese headers and encodings, rejects with reasons, idempotence."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.errors import ImportFailed, ImportRejected
from flywheel.models.audit import AuditEvent
from flywheel.models.receivables import Installment, Invoice
from flywheel.receivables.consistency import check_ledger
from tests.factories import make_customer, make_payment
from tests.importers.conftest import ImportFn, write_csv

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def gbk_file(tmp_path: Path) -> Path:
    target = tmp_path / "invoices_gbk.csv"
    shutil.copy(FIXTURES / "invoices_gbk.csv", target)
    return target


@pytest.fixture
def three_customers(session: Session) -> None:
    for code in ("C000001", "C000002", "C000003"):
        make_customer(session, code=code)


@pytest.mark.usefixtures("three_customers")
def test_gbk_file_imports_good_rows_and_rejects_bad_ones_with_reasons(
    session: Session, run_import: ImportFn, gbk_file: Path
) -> None:
    result = run_import("invoices", gbk_file)

    assert result.encoding == "gb18030"
    assert (result.rows, result.inserted, result.updated, result.unchanged, result.rejected) == (
        12,
        7,
        0,
        0,
        5,
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (6, "开票日期"),
        (7, "开票日期"),
        (8, "金额"),
        (9, "金额"),
        (13, "到期日"),
    ]
    assert "negative" in result.errors[2].reason
    assert "required" in result.errors[3].reason
    invoice = session.scalars(select(Invoice).where(Invoice.number == "INV-2026-0002")).one()
    assert (invoice.issue_date, invoice.amount, invoice.payment_terms) == (
        date(2026, 3, 1),
        Decimal("3000.00"),
        "EOM30",
    )
    assert invoice.installments[0].due_date == date(2026, 4, 30)
    usd = session.scalars(select(Invoice).where(Invoice.number == "INV-2026-0009")).one()
    assert (usd.currency, usd.amount) == ("USD", Decimal("1500.00"))
    with open(str(result.rejects_file), encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert rejects[0][:4] == ["row", "column", "reason", "发票号"]
    assert [r[0] for r in rejects[1:]] == ["6", "7", "8", "9", "13"]
    assert rejects[1][3] == "INV-2026-0005"
    assert check_ledger(session) == []


@pytest.mark.usefixtures("three_customers")
def test_second_import_of_the_same_file_changes_nothing(
    session: Session, run_import: ImportFn, gbk_file: Path
) -> None:
    run_import("invoices", gbk_file)
    events = _count(session, AuditEvent)
    installments = _count(session, Installment)

    again = run_import("invoices", gbk_file)

    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 7, 5)
    assert _count(session, Installment) == installments
    # only the "import.completed" event of the second batch is new
    assert _count(session, AuditEvent) == events + 1


@pytest.mark.usefixtures("three_customers")
def test_strict_imports_nothing_when_a_row_is_rejected(
    session: Session, run_import: ImportFn, gbk_file: Path
) -> None:
    with pytest.raises(ImportRejected, match="5 row"):
        run_import("invoices", gbk_file, strict=True)
    # the caller rolls back; the rejects file is written for the user
    assert Path(str(gbk_file) + ".rejects.csv").exists()


def test_changed_row_updates_the_invoice_and_is_audited(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="A1")
    path = tmp_path / "inv.csv"
    write_csv(
        path,
        [
            ["invoice no", "customer code", "invoice date", "amount"],
            ["X-1", "A1", "2026-01-10", "100"],
        ],
    )
    run_import("invoices", path)
    write_csv(
        path,
        [
            ["invoice no", "customer code", "invoice date", "amount"],
            ["X-1", "A1", "2026-01-10", "150.5"],
        ],
    )

    result = run_import("invoices", path)

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 0)
    invoice = session.scalars(select(Invoice).where(Invoice.number == "X-1")).one()
    assert invoice.amount == Decimal("150.50")
    assert invoice.installments[0].amount == Decimal("150.50")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "invoice.updated")).one()
    assert event.before is not None
    assert event.after is not None
    assert (event.before["amount"], event.after["amount"]) == ("100.00", "150.50")
    assert event.actor_name == "import:test"


def test_paid_invoice_change_is_rejected_not_applied(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    customer = make_customer(session, code="A2")
    path = write_csv(
        tmp_path / "i.csv",
        [["发票号", "客户编号", "开票日期", "金额"], ["P-1", "A2", "2026-01-10", "100"]],
    )
    run_import("invoices", path)
    make_payment(session, customer=customer, amount="40.00")
    write_csv(path, [["发票号", "客户编号", "开票日期", "金额"], ["P-1", "A2", "2026-01-10", "90"]])

    result = run_import("invoices", path)

    assert result.rejected == 1
    assert "already has 40.00 paid" in result.errors[0].reason
    invoice = session.scalars(select(Invoice).where(Invoice.number == "P-1")).one()
    assert invoice.amount == Decimal("100.00")


def test_consecutive_rows_are_installments_of_one_invoice(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="K1")
    path = write_csv(
        tmp_path / "inst.csv",
        [
            ["发票号", "客户编号", "开票日期", "金额", "到期日", "分期金额"],
            ["BIG-1", "K1", "2026-01-01", "90,000.00", "2026-02-01", "30,000.00"],
            ["BIG-1", "K1", "2026-01-01", "90,000.00", "2026-04-01", "30,000.00"],
            ["BIG-1", "K1", "2026-01-01", "90,000.00", "2026-03-01", "30,000.00"],
            ["BAD-1", "K1", "2026-01-01", "1000", "2026-02-01", "400"],
            ["BAD-1", "K1", "2026-01-01", "1000", "2026-03-01", "500"],
            ["ONE-1", "K1", "2026-01-05", "10", "", ""],
            ["BIG-1", "K1", "2026-01-01", "90,000.00", "2026-05-01", "1"],
        ],
    )

    result = run_import("invoices", path)

    assert (result.inserted, result.rejected) == (4, 3)
    invoice = session.scalars(select(Invoice).where(Invoice.number == "BIG-1")).one()
    assert [(i.sequence, i.due_date) for i in invoice.installments] == [
        (1, date(2026, 2, 1)),
        (2, date(2026, 3, 1)),
        (3, date(2026, 4, 1)),
    ]
    reasons = {e.row: e.reason for e in result.errors}
    assert "add up to 900.00" in reasons[5]
    assert "see row 5" in reasons[6]
    assert "already appeared on row 2" in reasons[8]
    assert check_ledger(session) == []


def test_map_option_names_unrecognised_columns(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="M1")
    path = write_csv(
        tmp_path / "m.csv",
        [["票号", "客户编号", "开票日期", "价款"], ["M-1", "M1", "2026-01-10", "5"]],
    )

    with pytest.raises(ImportFailed, match=r"required column missing: number .*amount"):
        run_import("invoices", path)
    result = run_import("invoices", path, mapping=["票号=number", "价款=amount"])

    assert result.inserted == 1


def test_payments_imported_before_their_invoices_are_applied_when_the_invoices_arrive(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="E1")
    payments = write_csv(
        tmp_path / "p.csv",
        [
            ["收款单号", "客户编号", "收款日期", "收款金额", "收款方式"],
            ["R-1", "E1", "2026-02-01", "¥150.00", "电汇"],
        ],
    )
    invoices = write_csv(
        tmp_path / "i.csv",
        [
            ["发票号", "客户编号", "开票日期", "金额"],
            ["E-1", "E1", "2026-01-01", "100"],
            ["E-2", "E1", "2026-01-02", "100"],
        ],
    )

    first = run_import("payments", payments)
    run_import("invoices", invoices)

    assert first.inserted == 1
    paid = {
        i.number: i.status
        for i in session.scalars(select(Invoice).where(Invoice.number.in_(["E-1", "E-2"])))
    }
    assert paid == {"E-1": "paid", "E-2": "partially_paid"}
    assert check_ledger(session) == []


def test_large_sqlite_import_rebuilds_the_indexes_it_deferred(
    session: Session, run_import: ImportFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import inspect

    from flywheel.importers import invoices

    monkeypatch.setattr(invoices, "LARGE_IMPORT_ROWS", 2)
    make_customer(session, code="L1")
    path = write_csv(
        tmp_path / "large.csv",
        [["发票号", "客户编号", "开票日期", "金额"]]
        + [[f"L-{n}", "L1", "2026-01-10", "10"] for n in range(5)],
    )

    result = run_import("invoices", path)

    assert result.inserted == 5
    names = {ix["name"] for ix in inspect(session.connection()).get_indexes("installments")}
    assert "ix_installments_customer_due" in names
    names = {ix["name"] for ix in inspect(session.connection()).get_indexes("invoices")}
    assert {"ix_invoices_customer_issue", "ix_invoices_order_id"} <= names
    assert check_ledger(session) == []
