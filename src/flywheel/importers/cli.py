"""``flywheel import ENTITY FILE``: CSV/XLSX imports with a progress bar and a summary."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flywheel.auth.actor import Actor
from flywheel.cli import JsonFlag, console, err_console, fail, print_json
from flywheel.db import session_factory
from flywheel.errors import FlywheelError, ImportRejected
from flywheel.importers.fields import ENTITIES
from flywheel.importers.runner import ImportResult
from flywheel.importers.service import HANDLERS, import_file

app = typer.Typer(
    help="Import customers, contacts, orders, invoices, payments, credit notes or touchpoints "
    "from CSV/XLSX (UTF-8, UTF-8 BOM or GBK). Idempotent: the same file twice changes nothing.",
    no_args_is_help=True,
)

MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        "-m",
        help="COLUMN=field, when a column's name is not recognised; COLUMN= (nothing after the =) leaves a column out. Repeatable.",
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check and report, write nothing.")]
Strict = Annotated[bool, typer.Option("--strict", help="Import nothing if any row is rejected.")]
Sheet = Annotated[str | None, typer.Option("--sheet", help="XLSX worksheet (default: the first).")]
FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or XLSX file.")
]


def _run(
    entity: str,
    path: Path,
    mapping: list[str] | None,
    dry_run: bool,
    strict: bool,
    sheet: str | None,
    as_json: bool,
) -> None:
    session = session_factory()()
    actor = Actor.system(f"import:{path.name}")
    today = datetime.now(UTC).date()

    def run(progress: Any = None) -> ImportResult:
        return import_file(
            session,
            entity=entity,
            path=path,
            actor=actor,
            today=today,
            mapping=mapping,
            strict=strict,
            dry_run=dry_run,
            sheet=sheet,
            progress=progress,
        )

    try:
        if as_json:
            result = run()
        else:
            with Progress(
                TextColumn(f"importing {entity}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task(entity, total=None)
                result = run(lambda done, total: bar.update(task, completed=done, total=total))
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except ImportRejected as exc:
        session.rollback()
        report = exc.details.get("result", {})
        if as_json:
            print_json({**report, "error": exc.to_dict()})
        else:
            _print_report(report)
        raise fail(exc, as_json=False) if not as_json else typer.Exit(3) from None
    except FlywheelError as exc:
        session.rollback()
        raise fail(exc, as_json=as_json) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    if as_json:
        print_json(result.to_dict())
    else:
        _print_report(result.to_dict())


def _print_report(report: dict[str, Any]) -> None:
    title = f"{report.get('entity')} · {Path(str(report.get('file'))).name}"
    if report.get("dry_run"):
        title += " · dry run, nothing written"
    table = Table(title=title)
    for name in ("rows", "inserted", "updated", "unchanged", "rejected"):
        table.add_column(name, justify="right")
    table.add_row(
        *(
            f"{int(report.get(n, 0)):,}"
            for n in ("rows", "inserted", "updated", "unchanged", "rejected")
        )
    )
    console.print(table)
    seconds = float(report.get("seconds") or 0)
    rows = int(report.get("rows") or 0)
    if seconds > 0:
        console.print(
            f"{seconds:.2f} s · {rows / seconds:,.0f} rows/s · encoding {report.get('encoding') or '-'}"
        )
    if report.get("ignored_columns"):
        console.print(f"[yellow]ignored columns:[/] {', '.join(report['ignored_columns'])}")
    if report.get("users_created"):
        console.print(f"[yellow]users created as sales:[/] {', '.join(report['users_created'])}")
    errors = report.get("errors") or []
    if errors:
        shown = Table(title="rejected rows (first 20)")
        shown.add_column("row", justify="right")
        shown.add_column("column")
        shown.add_column("reason")
        for error in errors[:20]:
            shown.add_row(str(error["row"]), error.get("column") or "", error["reason"])
        console.print(shown)
        console.print(f"all rejected rows with reasons: [bold]{report.get('rejects_file')}[/]")


def _command(entity: str) -> Any:
    spec = ENTITIES[entity]

    def command(
        file: FileArg,
        mapping: MapOption = None,
        dry_run: DryRun = False,
        strict: Strict = False,
        sheet: Sheet = None,
        json_output: JsonFlag = False,
    ) -> None:
        _run(entity, file, mapping, dry_run, strict, sheet, json_output)

    required = ", ".join(f.name for f in spec.fields if f.required)
    command.__doc__ = (
        f"Import {entity} (key: {spec.key}). Required: {required}. "
        f"See `flywheel import columns {entity}` for the accepted column names. {spec.notes}"
    )
    return command


for _entity in HANDLERS:
    app.command(_entity)(_command(_entity))


@app.command("columns")
def columns(
    entity: Annotated[
        str,
        typer.Argument(
            help="customers, contacts, orders, invoices, payments, credit-notes or touchpoints"
        ),
    ],
    json_output: JsonFlag = False,
) -> None:
    """List the fields of an import and the column names (English and Chinese) recognised for each."""
    spec = ENTITIES.get(entity)
    if spec is None:
        err_console.print(f"[red]unknown entity {entity!r}[/]; one of: {', '.join(ENTITIES)}")
        raise typer.Exit(2)
    if json_output:
        print_json(
            {
                "entity": entity,
                "key": spec.key,
                "fields": [
                    {
                        "name": f.name,
                        "required": f.required,
                        "aliases": list(f.aliases),
                        "help": f.help,
                    }
                    for f in spec.fields
                ],
            }
        )
        return
    table = Table(title=f"{entity} · key {spec.key}")
    table.add_column("field")
    table.add_column("required")
    table.add_column("column names recognised")
    for f in spec.fields:
        table.add_row(
            f.name,
            "yes" if f.required else "",
            " / ".join(f.aliases) + (f"\n{f.help}" if f.help else ""),
        )
    console.print(table)
    if spec.notes:
        console.print(spec.notes)


__all__ = ["ImportResult", "app"]
