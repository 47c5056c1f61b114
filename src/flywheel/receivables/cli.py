"""``flywheel ar``: aging and receivables KPIs in the terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.errors import FlywheelError

app = typer.Typer(
    help="Receivables: aging and KPIs (DSO, CEI, at-risk) for an as-of date.", no_args_is_help=True
)

AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="Business date of the figures (default: today)."
    ),
]
Currency = Annotated[
    str | None,
    typer.Option("--currency", help="Documents in this currency (default: the base currency)."),
]


def _as_of(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


def _amount(text: str) -> str:
    return f"{float(text):,.2f}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


@app.command("aging")
def aging_command(
    as_of: AsOf = None,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Group by customer, owner, region, tier or grade (the newest credit score).",
        ),
    ] = "customer",
    buckets: Annotated[
        str,
        typer.Option("--buckets", help="Days ending each overdue bucket, e.g. 30,60,90,180."),
    ] = "30,60,90,180",
    currency: Currency = None,
    limit: Annotated[
        int, typer.Option(min=0, help="Rows to list, largest total first (0: all).")
    ] = 20,
    json_output: JsonFlag = False,
) -> None:
    """The aging report: open installments by days past due on the as-of date."""
    from flywheel.db import unit_of_work
    from flywheel.receivables import aging
    from flywheel.receivables.ar_schemas import AgingOut

    day = _as_of(as_of)
    try:
        with unit_of_work() as session:
            report = aging.aging_report(
                session,
                actor=CLI,
                as_of=day,
                currency=currency or aging.default_currency(),
                by=by,
                buckets=aging.buckets_from(buckets),
                limit=limit or None,
            )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    data = AgingOut.of(report, page=1, page_size=limit or max(report.groups, 1)).model_dump(
        mode="json"
    )
    if json_output:
        print_json(data)
        return
    _print_aging(data)


def _print_aging(data: dict[str, Any]) -> None:
    shown = len(data["items"])
    table = Table(
        title=f"aging by {data['by']} · {data['currency']} · as of {data['as_of']} · "
        f"{shown:,} of {data['total']:,} groups",
        show_footer=True,
    )
    totals = data["totals"]
    table.add_column(data["by"], footer="total")
    for key in data["buckets"]:
        table.add_column(key, justify="right", footer=_amount(totals["buckets"][key]))
    table.add_column("total", justify="right", footer=_amount(totals["total"]))
    table.add_column("overdue", justify="right", footer=_amount(totals["overdue"]))
    for row in data["items"]:
        name = row["key"] or "—"
        if row["label"] and row["label"] != row["key"]:
            name = f"{name} {row['label']}"
        table.add_row(
            name,
            *(_amount(row["buckets"][k]) for k in data["buckets"]),
            _amount(row["total"]),
            f"[red]{_amount(row['overdue'])}[/]" if float(row["overdue"]) else "0.00",
        )
    console.print(table)


@app.command("kpis")
def kpis_command(
    as_of: AsOf = None,
    currency: Currency = None,
    period: Annotated[int, typer.Option(min=1, max=366, help="Days of the DSO period.")] = 90,
    json_output: JsonFlag = False,
) -> None:
    """DSO (simple, countback), best possible DSO, ADD, CEI, at-risk rate, days beyond terms
    and the promise-keeping rate, on the as-of date and at each of the 11 month ends before it."""
    from flywheel.db import unit_of_work
    from flywheel.receivables import aging, kpis
    from flywheel.receivables.ar_schemas import KpisOut

    day = _as_of(as_of)
    try:
        with unit_of_work() as session:
            report = kpis.receivables_kpis(
                session,
                actor=CLI,
                as_of=day,
                currency=currency or aging.default_currency(),
                period_days=period,
            )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    data = KpisOut.of(report).model_dump(mode="json")
    if json_output:
        print_json(data)
        return
    table = Table(
        title=f"receivables KPIs · {data['currency']} · period {data['period_days']} days"
    )
    for column in (
        "as of",
        "AR",
        "overdue",
        "DSO",
        "countback",
        "best",
        "ADD",
        "CEI %",
        "at-risk",
        "beyond terms",
        "promises kept",
    ):
        table.add_column(column, justify="left" if column == "as of" else "right")
    for point in data["trend"]:
        rate = point["at_risk_rate"]
        table.add_row(
            point["as_of"],
            _amount(point["receivables"]),
            _amount(point["overdue"]),
            _days(point["dso"]),
            _days(point["dso_countback"]),
            _days(point["best_possible_dso"]),
            _days(point["add"]),
            _days(point["cei"]),
            "—" if rate is None else f"{rate:.1%} ({point['at_risk_month']})",
            _days(point["days_beyond_terms"]),
            "—"
            if point["promise_keeping_rate"] is None
            else f"{point['promise_keeping_rate']:.1%} of {point['promises_resolved']}",
        )
    console.print(table)
    console.print(f"[dim]CEI: {data['definitions']['cei']}[/]")
