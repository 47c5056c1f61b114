"""Building the demo into a database: read-back through the ORM, refusal, replace, CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from flywheel.demo import cli as demo_cli
from flywheel.demo.service import DemoSummary
from flywheel.errors import Conflict
from flywheel.models import AuditEvent, Customer, Installment, Invoice, Payment, Touchpoint, User
from tests.demo.conftest import AS_OF, build_small


def _counts(engine: Engine) -> dict[str, int]:
    names = ["customers", "invoices", "payments", "allocations", "touchpoints", "users"]
    with engine.connect() as conn:
        return {n: conn.execute(text(f"SELECT COUNT(*) FROM {n}")).scalar_one() for n in names}


def test_orm_reads_back_decimals_and_utc_timestamps(empty_engine: Engine) -> None:
    summary = build_small(empty_engine)
    with Session(empty_engine) as session:
        invoice = session.scalars(select(Invoice).where(Invoice.id == 1)).one()
        assert isinstance(invoice.amount, Decimal)
        assert invoice.amount == sum((i.amount for i in invoice.installments), Decimal("0.00"))
        assert invoice.amount.as_tuple().exponent == -2
        assert invoice.created_at.tzinfo is not None
        assert invoice.created_at.utcoffset() == UTC.utcoffset(None)
        assert invoice.issue_date <= AS_OF
        payment = session.scalars(select(Payment).order_by(Payment.id.desc()).limit(1)).one()
        assert isinstance(payment.amount, Decimal)
        assert payment.received_on <= AS_OF
        touchpoint = session.get(Touchpoint, 1)
        assert touchpoint is not None
        assert touchpoint.reference == "TP-000000001"
        assert touchpoint.occurred_at.tzinfo is not None
        customer = session.get(Customer, 1)
        assert customer is not None
        assert customer.code == "C000001"
        total_paid = session.scalar(select(func.sum(Installment.paid_amount)))
        assert isinstance(total_paid, Decimal)
        users = {u.username: u.role for u in session.scalars(select(User))}
        for role in ("admin", "manager", "sales", "collector", "finance", "viewer"):
            assert users[role] == role
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "demo.generated")
        ).one()
        assert event.actor_name == "demo"
        assert event.after is not None
        assert event.after["seed"] == 11
        assert event.after["counts"]["invoices"] == summary.counts["invoices"]
    assert _counts(empty_engine)["invoices"] == summary.counts["invoices"]


def _schema_objects(engine: Engine) -> tuple[int, int]:
    """(foreign keys, indexes) in the database: the writer sets some aside while it loads."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            indexes = conn.execute(
                text("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'")
            ).scalar_one()
            return 0, indexes
        keys = conn.execute(
            text("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'")
        ).scalar_one()
        indexes = conn.execute(
            text("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema()")
        ).scalar_one()
        return keys, indexes


def test_indexes_and_foreign_keys_are_restored(empty_engine: Engine) -> None:
    before = _schema_objects(empty_engine)
    build_small(empty_engine)
    assert _schema_objects(empty_engine) == before
    build_small(empty_engine, replace=True)
    assert _schema_objects(empty_engine) == before


def test_new_rows_get_ids_after_the_demo(empty_engine: Engine) -> None:
    summary = build_small(empty_engine)
    with Session(empty_engine) as session:
        customer = Customer(
            code="NEW-1", name="新客户有限公司", currency="CNY", payment_terms="NET30",
            created_on=date(2025, 7, 1), updated_at=datetime(2025, 7, 1, tzinfo=UTC),
        )  # fmt: skip
        session.add(customer)
        session.flush()
        assert customer.id == summary.counts["customers"] + 1
        session.rollback()


def test_refuses_a_database_with_customers(empty_engine: Engine) -> None:
    build_small(empty_engine)
    before = _counts(empty_engine)
    with pytest.raises(Conflict, match="--replace"):
        build_small(empty_engine, seed=99)
    assert _counts(empty_engine) == before


def test_replace_rebuilds_and_keeps_users(empty_engine: Engine) -> None:
    first = build_small(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE users SET password_hash = 'kept' WHERE username = 'admin'"))
    second = build_small(empty_engine, seed=12, replace=True)
    third = build_small(empty_engine, seed=11, replace=True)
    counts = _counts(empty_engine)
    assert counts["invoices"] == second.counts["invoices"] == third.counts["invoices"] or (
        counts["invoices"] == third.counts["invoices"]
    )
    assert third.counts == first.counts
    assert counts["users"] == first.counts["users"]
    with empty_engine.connect() as conn:
        kept = conn.execute(text("SELECT password_hash FROM users WHERE username = 'admin'"))
        assert kept.scalar_one() == "kept"
        min_id = conn.execute(text("SELECT MIN(id) FROM customers")).scalar_one()
        events = conn.execute(
            text("SELECT COUNT(*) FROM audit_events WHERE action = 'demo.generated'")
        ).scalar_one()
    assert min_id == 1
    assert events == 3


def test_same_seed_same_database_content(tmp_path: object, empty_engine: Engine) -> None:
    build_small(empty_engine)
    with empty_engine.connect() as conn:
        first = conn.execute(
            text("SELECT COUNT(*), SUM(amount), SUM(paid_amount) FROM invoices")
        ).one()
    build_small(empty_engine, replace=True)
    with empty_engine.connect() as conn:
        second = conn.execute(
            text("SELECT COUNT(*), SUM(amount), SUM(paid_amount) FROM invoices")
        ).one()
    assert tuple(first) == tuple(second)


def _cli_app() -> object:
    import typer

    app = typer.Typer()
    app.command("demo")(demo_cli.demo)

    @app.callback()
    def _root() -> None:
        """Test root so that ``demo`` stays a sub-command."""

    return app


def test_cli_json_output_and_refusal(empty_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_cli, "get_engine", lambda: empty_engine)
    runner = CliRunner()
    app = _cli_app()
    args = ["demo", "--customers", "60", "--years", "1", "--as-of", "2025-06-30", "--json"]
    result = runner.invoke(app, args)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {
        "customers", "contacts", "users", "orders", "invoices", "installments", "payments",
        "allocations", "credit_notes", "touchpoints", "promises_to_pay", "disputes", "referrals",
        "seconds",
        "seed", "as_of", "database",
    }  # fmt: skip
    assert payload["customers"] == 60
    assert payload["as_of"] == "2025-06-30"
    assert payload["seed"] == 7
    refused = runner.invoke(app, args)  # type: ignore[arg-type]
    assert refused.exit_code == 5
    assert json.loads(refused.stdout)["error"]["code"] == "conflict"
    replaced = runner.invoke(app, [*args, "--replace", "--seed", "8"])  # type: ignore[arg-type]
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.stdout)["seed"] == 8


def test_cli_shows_a_summary(empty_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_cli, "get_engine", lambda: empty_engine)
    result = CliRunner().invoke(
        _cli_app(),  # type: ignore[arg-type]
        ["demo", "--customers", "40", "--years", "1", "--as-of", "2025-06-30"],
    )
    assert result.exit_code == 0, result.output
    assert "invoices" in result.output
    assert "flywheel customers show C000001" in result.output


def test_summary_to_dict_has_stable_keys() -> None:
    summary = DemoSummary(seed=1, as_of=date(2025, 1, 1), customers=1, years=1, database="x")
    assert list(summary.to_dict())[:3] == ["customers", "contacts", "users"]
