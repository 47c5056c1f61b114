"""``flywheel init`` and ``flywheel status``: create or upgrade the database and report on it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from flywheel import models
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.config import get_settings
from flywheel.db import get_engine, schema_revision, unit_of_work, upgrade_database
from flywheel.errors import DatabaseNotReady

_COUNTED = [
    ("users", models.User),
    ("customers", models.Customer),
    ("contacts", models.Contact),
    ("touchpoints", models.Touchpoint),
    ("orders", models.Order),
    ("invoices", models.Invoice),
    ("installments", models.Installment),
    ("payments", models.Payment),
    ("allocations", models.Allocation),
    ("credit_notes", models.CreditNote),
    ("audit_events", models.AuditEvent),
]


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database_url).render_as_string(hide_password=True)


def init(json_output: JsonFlag = False) -> None:
    """Create the database, or upgrade it to the newest schema. Safe to run again."""
    before = schema_revision()
    upgrade_database()
    after = schema_revision()
    if json_output:
        print_json({"database": _safe_url(), "revision_before": before, "revision": after})
        return
    verb = "created" if before is None else ("upgraded" if before != after else "up to date")
    console.print(f"[green]database {verb}[/] {_safe_url()} (schema {after})")


def status(json_output: JsonFlag = False) -> None:
    """Show the database, its schema revision and how many rows each table holds."""
    revision = schema_revision(get_engine())
    if revision is None:
        raise fail(
            DatabaseNotReady("the database has no Flywheel schema; run `flywheel init`"),
            as_json=json_output,
        )
    counts: dict[str, int] = {}
    try:
        with unit_of_work() as session:
            for name, model in _COUNTED:
                counts[name] = session.scalar(select(func.count()).select_from(model)) or 0
    except (OperationalError, ProgrammingError) as exc:
        raise fail(
            DatabaseNotReady(f"cannot read the database: {exc}"), as_json=json_output
        ) from None
    if json_output:
        print_json({"database": _safe_url(), "revision": revision, "counts": counts})
        return
    from rich.table import Table

    table = Table(title=f"{_safe_url()} · schema {revision}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
