"""``flywheel feedback campaigns`` (every campaign with its invitations counted) and
``flywheel feedback send`` (the campaign cycle now: plan, send through the outbox, remind,
expire)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.config import get_settings
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError
from flywheel.feedback import campaigns, cycle
from flywheel.feedback.campaign_schemas import CampaignOut
from flywheel.feedback.cli import app

AsOf = Annotated[
    datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date (default: today)."),
]


def _day(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


@app.command("campaigns")
def campaigns_command(json_output: JsonFlag = False) -> None:
    """Every survey campaign: its trigger, audience and invitations counted
    (scheduled, sent, answered, response rate)."""
    try:
        with unit_of_work() as session:
            codes = {s.id: s.code for s in campaigns.list_surveys(session)}
            counts = campaigns.counts_by_campaign(session, actor=CLI)
            rows = [
                CampaignOut.of(
                    c,
                    survey_code=codes[c.survey_id],
                    counts=counts.get(c.id, campaigns.CampaignCounts()),
                ).model_dump(mode="json")
                for c in campaigns.list_campaigns(session)
            ]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"campaigns": rows})
        return
    table = Table(title=f"Survey campaigns: {len(rows)}")
    table.add_column("id")
    table.add_column("name", overflow="fold")
    for column in ("survey", "trigger", "when", "sample", "scheduled", "sent"):
        table.add_column(column)
    table.add_column("answered")
    table.add_column("rate")
    table.add_column("active")
    for row in rows:
        n: dict[str, Any] = row["counts"]
        when = (
            f"every {row['every_months']} mo, next {row['next_run_on']}"
            if row["trigger"] == "schedule"
            else f"+{row['delay_days']} d"
        )
        rate = n["response_rate"]
        table.add_row(
            str(row["id"]),
            row["name"],
            row["survey_code"],
            row["trigger"] + (f" ({row['touchpoint_kind']})" if row["touchpoint_kind"] else ""),
            when,
            f"{row['sample_rate']:.0%}",
            f"{n['scheduled']:,}",
            f"{n['sent']:,}",
            f"{n['answered']:,}",
            "—" if rate is None else f"{rate:.1%}",
            "yes" if row["active"] else "no",
        )
    console.print(table)


@app.command("send")
def send_command(as_of: AsOf = None, json_output: JsonFlag = False) -> None:
    """Run the campaigns now: plan invitations for recent events and schedules, queue the
    ones due in the outbox (after opt-outs, the minimum days between surveys and the sample
    rate), remind non-responders once, expire old links. `flywheel worker` sends the e-mails."""
    day = _day(as_of)
    try:
        with unit_of_work() as session:
            result = cycle.run(session, day, get_settings())
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    shape = result.as_dict()
    if json_output:
        print_json(shape)
        return
    table = Table(title=f"Feedback campaigns {day}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("invitations planned", f"{shape['planned']:,}")
    for trigger, count in shape["planned_by_trigger"].items():
        table.add_row(f"  after {trigger}", f"{count:,}")
    table.add_row("scheduled campaigns run", f"{shape['schedules_run']:,}")
    table.add_row("events without a contact to ask", f"{shape['no_contact']:,}")
    table.add_row("e-mails queued", f"{shape['sent']:,}")
    table.add_row("not sent", f"{shape['skipped']:,}")
    for reason, count in shape["skipped_by_reason"].items():
        table.add_row(f"  {reason.replace('_', ' ')}", f"{count:,}")
    table.add_row("left for the next run", f"{shape['deferred']:,}")
    table.add_row("reminders queued", f"{shape['reminded']:,}")
    table.add_row("links expired", f"{shape['expired']:,}")
    console.print(table)
