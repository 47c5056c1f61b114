"""``flywheel feedback nps``: NPS, CSAT and CES of a period with their 95 % intervals, broken
down by owner, region, tier, touchpoint, campaign, month or account."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.table import Table

from flywheel.auth.actor import CLI, Actor
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError
from flywheel.feedback import metrics, scores
from flywheel.feedback.cli import app
from flywheel.feedback.metric_schemas import MetricDimension, MetricsOut
from flywheel.users import service as users


def _figure(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _interval(low: float | None, high: float | None, digits: int = 1) -> str:
    return "" if low is None or high is None else f"[{low:.{digits}f}, {high:.{digits}f}]"


@app.command("nps")
def nps_command(
    start: Annotated[
        datetime | None,
        typer.Option(
            "--from", formats=["%Y-%m-%d"], help="First day (default: 12 months ago, day 1)."
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (default: today)."),
    ] = None,
    by: Annotated[
        MetricDimension | None, typer.Option("--by", help="Break the figures down by this.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="As this user: only the accounts he may see.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many groups.")] = 500,
    json_output: JsonFlag = False,
) -> None:
    """NPS (% promoters − % detractors), CSAT (% of 4–5) and CES (mean 1–7) of the answers in
    the period, each with its 95 % interval; below 30 answers a figure is a small sample."""
    today = datetime.now(UTC).date()
    default_start, default_end = metrics.default_period(today)
    last: date = end.date() if end else default_end
    first: date = (
        start.date() if start else (default_start if last >= default_start else last.replace(day=1))
    )
    try:
        with unit_of_work() as session:
            actor: Actor = CLI
            if user is not None:
                actor = Actor.for_user(users.get_by_username(session, user))
            flt = metrics.MetricFilter(start=first, end=last).checked()
            figures = metrics.summary(session, actor=actor, flt=flt)
            groups = (
                metrics.breakdown(session, actor=actor, flt=flt, by=by.value, limit=limit)
                if by
                else []
            )
            out = MetricsOut.of(flt, figures, by, groups)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(out.model_dump(mode="json"))
        return
    table = Table(title=f"Feedback {flt.start} – {flt.end}")
    for column in (
        "group",
        "NPS",
        "95% interval",
        "n",
        "P/Pa/D",
        "CSAT %",
        "CSAT n",
        "CES",
        "CES n",
    ):
        if column == "group":
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, justify="right")
    rows = [("all", out.nps, out.csat, out.ces)] + [
        (f"{g.label} ({g.key})" if g.label != g.key else (g.key or "—"), g.nps, g.csat, g.ces)
        for g in out.groups
    ]
    for name, nps, csat, ces in rows:
        table.add_row(
            name,
            _figure(nps.score) + (" *" if nps.n and nps.small_sample else ""),
            _interval(nps.low, nps.high),
            str(nps.n),
            f"{nps.promoters}/{nps.passives}/{nps.detractors}",
            _figure(csat.percent),
            str(csat.n),
            _figure(ces.mean, 2),
            str(ces.n),
        )
    console.print(table)
    console.print(
        f"{scores.NPS_FORMULA}; * fewer than {scores.SMALL_SAMPLE} answers (small sample)."
    )
