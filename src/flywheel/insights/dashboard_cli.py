"""``flywheel insights build|dashboard|drill``: build the dashboard's monthly snapshot, print
its figures and the lists behind them, as tables or as one JSON object."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from flywheel.auth.actor import CLI, Actor
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.config import get_settings
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.insights import drills, figures, snapshot
from flywheel.insights.api import drill_query
from flywheel.insights.cli import app
from flywheel.insights.periods import InsightFilter, Period, owner_id_of, parse_month
from flywheel.insights.schemas import DashboardOut
from flywheel.kit.i18n import gettext as _
from flywheel.users import service as users

__all__ = ["app"]

PeriodOption = Annotated[
    str, typer.Option("--period", help="1m, 3m, 6m or 12m whole months ending with --month.")
]
MonthOption = Annotated[
    str | None,
    typer.Option("--month", help="The period's last month, YYYY-MM (default: latest complete)."),
]
OwnerOption = Annotated[str | None, typer.Option("--owner", help="Accounts of this owner.")]
RegionOption = Annotated[str | None, typer.Option("--region", help="Accounts of this region.")]
TierOption = Annotated[str | None, typer.Option("--tier", help="key, growth or standard.")]
SegmentOption = Annotated[
    str | None, typer.Option("--segment", help="Accounts in this RFM segment at the period's end.")
]
CurrencyOption = Annotated[
    str | None, typer.Option("--currency", help="Money figures in this currency.")
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="As this user: only the accounts he may see.")
]


def _day(text: str | None) -> date:
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"--as-of must be a date like 2026-03-31, not {text!r}", field="as_of", value=text
        ) from None


def _actor(session: Any, user: str | None) -> Actor:
    return Actor.for_user(users.get_by_username(session, user)) if user else CLI


def _inputs(
    session: Any,
    period: str,
    month: str | None,
    owner: str | None,
    region: str | None,
    tier: str | None,
    segment: str | None,
    currency: str | None,
) -> tuple[Period, InsightFilter]:
    today = datetime.now(UTC).date()
    last = parse_month(month, default=figures.default_month(session, today=today))
    flt = InsightFilter(
        owner_id=owner_id_of(session, owner),
        region=region,
        tier=tier,
        segment=segment,
        currency=currency,
    ).checked()
    return Period.ending(last, period), flt


@app.command("build")
def build_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Build up to this day (default: today).")
    ] = None,
    history: Annotated[
        int | None, typer.Option("--history", min=2, max=120, help="Months kept built.")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Recompute every month, not only the missing.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Build the monthly snapshot the dashboard reads (`flywheel run` does it each day): the
    running month, the one before, and every month of the history not built to its end."""
    try:
        day = _day(as_of)
        months = history or get_settings().insights_history_months
        with unit_of_work() as session, Progress(console=console, disable=json_output) as bar:
            task = bar.add_task("insights", total=None)
            result = snapshot.run(
                session,
                as_of=day,
                history=months,
                rebuild=rebuild,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    payload = result.as_dict()
    if json_output:
        print_json(payload)
        return
    table = Table(title=f"Insights snapshot up to {day} ({payload['seconds']} s)")
    for column in ("month", "as of", "cells", "markets", "transitions", "seconds"):
        table.add_column(column, justify="left" if column in ("month", "as of") else "right")
    for m in payload["months"]:
        table.add_row(
            m["month"],
            m["as_of"],
            str(m["cells"]),
            str(m["markets"]),
            str(m["transitions"]),
            str(m["seconds"]["total"]),
        )
    console.print(table)


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit in ("count",):
        return f"{value:,.0f}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value:,.1f}"


@app.command("dashboard")
def dashboard_command(
    period: PeriodOption = "1m",
    month: MonthOption = None,
    owner: OwnerOption = None,
    region: RegionOption = None,
    tier: TierOption = None,
    segment: SegmentOption = None,
    currency: CurrencyOption = None,
    user: UserOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Every figure of the flywheel dashboard for a period, against the period before and the
    target."""
    try:
        with unit_of_work() as session:
            actor = _actor(session, user)
            chosen, flt = _inputs(session, period, month, owner, region, tier, segment, currency)
            board = figures.dashboard(session, actor=actor, flt=flt, period=chosen)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    out = DashboardOut.of(board)
    if json_output:
        print_json(out.model_dump(mode="json"))
        return
    title = (
        f"Flywheel {out.period.first_month}…{out.period.last_month} "
        f"vs {out.period.previous_first_month}…{out.period.previous_last_month} "
        f"({out.filters.currency})"
    )
    table = Table(title=title)
    for column in ("stage", "figure", "value", "previous", "target"):
        table.add_column(column, justify="left" if column in ("stage", "figure") else "right")
    for f in out.figures:
        table.add_row(
            f.stage,
            f.code,
            _shown(f.value, f.unit),
            _shown(f.previous, f.unit),
            _shown(f.target, f.unit),
        )
    console.print(table)
    if out.missing_months:
        console.print(
            f"Months without a snapshot: {', '.join(out.missing_months)} — run `flywheel run`."
        )


@app.command("drill")
def drill_command(
    code: Annotated[str, typer.Argument(help="The list behind a figure (see `--json` kpis).")],
    period: PeriodOption = "1m",
    month: MonthOption = None,
    owner: OwnerOption = None,
    region: RegionOption = None,
    tier: TierOption = None,
    segment: SegmentOption = None,
    currency: CurrencyOption = None,
    user: UserOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 20,
    json_output: JsonFlag = False,
) -> None:
    """The accounts or items behind a figure, most important first."""
    try:
        with unit_of_work() as session:
            actor = _actor(session, user)
            drill = drills.get(code)
            chosen, flt = _inputs(session, period, month, owner, region, tier, segment, currency)
            query = drill_query(session, actor, flt, chosen)
            found = drills.page(session, drill, query, page=1, size=limit)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    rows = [{k: _plain(v) for k, v in row.items()} for row in found.rows]
    if json_output:
        print_json(
            {
                "code": drill.code,
                "first": query.first.isoformat(),
                "last": query.last.isoformat(),
                "total": found.total,
                "rows": rows,
            }
        )
        return
    table = Table(title=f"{_(drill.title)} {query.first}…{query.last}: {found.total}")
    for column in drill.columns:
        table.add_column(_(column.label))
    for row in rows:
        table.add_row(*["" if row.get(c.key) is None else str(row[c.key]) for c in drill.columns])
    console.print(table)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)
