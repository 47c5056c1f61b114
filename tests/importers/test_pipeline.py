"""Large imports read in a second process: same outcomes as in one process, and idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ImportFailed
from flywheel.importers import runner
from flywheel.importers.service import import_file
from flywheel.models.receivables import Installment, Invoice
from flywheel.receivables.consistency import check_ledger
from tests.databases import BACKENDS, fresh_engine
from tests.factories import make_customer, make_invoice
from tests.importers.conftest import write_csv


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request.param, tmp_path)


def _import(engine: Engine, path: Path, **options: object) -> runner.ImportResult:
    with Session(engine) as session:
        result = import_file(
            session,
            entity="invoices",
            path=path,
            actor=Actor.system("test"),
            today=date(2026, 6, 30),
            **options,  # type: ignore[arg-type]
        )
        session.commit()
    return result


def test_two_process_import_matches_the_rules(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PIPELINE_ROWS", 1)
    monkeypatch.setattr("flywheel.importers.invoices.LARGE_IMPORT_ROWS", 1)
    with Session(engine) as session:
        customer = make_customer(session, code="PP1", payment_terms="EOM30")
        make_customer(session, code="PP2")
        make_invoice(
            session, customer=customer, number="OLD-1", amount="10.00", issued=date(2026, 1, 1)
        )
        session.commit()
    rows = [["发票号", "客户编号", "开票日期", "金额", "到期日", "分期金额"]]
    rows += [
        [f"N-{n}", "PP1" if n % 2 else "PP2", "2026/3/1", "1,000.50", "", ""] for n in range(12)
    ]
    rows += [
        ["OLD-1", "PP1", "2026-01-01", "10.00", "", ""],  # unchanged
        ["BAD-1", "NOPE", "2026-03-01", "5", "", ""],  # unknown customer
        ["BAD-2", "PP1", "2026-02-30", "5", "", ""],  # no such date
        ["SPLIT-1", "PP1", "2026-03-01", "300", "2026-04-01", "100"],
        ["SPLIT-1", "PP1", "2026-03-01", "300", "2026-05-01", "200"],
    ]
    path = write_csv(tmp_path / "big.csv", rows)

    first = _import(engine, path, batch_size=4)
    second = _import(engine, path, batch_size=4)

    assert (first.rows, first.inserted, first.unchanged, first.rejected) == (17, 14, 1, 2)
    assert [(e.row, e.column) for e in first.errors] == [(15, "客户编号"), (16, "开票日期")]
    assert (second.inserted, second.unchanged, second.rejected) == (0, 15, 2)
    assert Path(str(first.rejects_file)).exists()
    with Session(engine) as session:
        invoice = session.scalars(select(Invoice).where(Invoice.number == "N-1")).one()
        assert (invoice.amount, invoice.installments[0].due_date) == (
            Decimal("1000.50"),
            date(2026, 4, 30),
        )
        split = session.scalars(select(Invoice).where(Invoice.number == "SPLIT-1")).one()
        assert [i.amount for i in split.installments] == [Decimal("100.00"), Decimal("200.00")]
        assert session.scalar(select(func.count()).select_from(Installment)) == 15
        assert check_ledger(session) == []


def test_a_reader_that_dies_fails_the_import(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PIPELINE_ROWS", 1)
    monkeypatch.setattr("flywheel.importers.pipeline.sys.executable", "/bin/false")
    path = write_csv(
        tmp_path / "inv.csv",
        [["发票号", "客户编号", "开票日期", "金额"], ["X-1", "C1", "2026-01-01", "1"]],
    )

    with pytest.raises(ImportFailed, match="reader process stopped unexpectedly"):
        _import(engine, path)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0
