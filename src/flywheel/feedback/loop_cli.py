"""``flywheel feedback loops`` (the follow-ups) and ``flywheel feedback analyze`` (analyse the
new free texts, then retrain the company's sentiment model when enough scored comments exist)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from flywheel.auth.actor import CLI, Actor
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.config import get_settings
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError
from flywheel.feedback import analysis, loops
from flywheel.feedback.cli import app
from flywheel.feedback.loop_shapes import loop_outs
from flywheel.models.base import utcnow
from flywheel.models.enums import LoopStatus
from flywheel.users import service as users


def _or_dash(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


@app.command("loops")
def loops_command(
    mine_as: Annotated[
        str | None,
        typer.Option("--mine-as", help="As this user: the open follow-ups he owns."),
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past due.")] = False,
    closed: Annotated[bool, typer.Option("--closed", help="Closed ones instead of open.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Follow-ups on feedback, soonest due first, with the closed-loop KPIs of the last 30 days."""
    now = utcnow()
    try:
        with unit_of_work() as session:
            actor: Actor = CLI
            owner_id = None
            if mine_as is not None:
                user = users.get_by_username(session, mine_as)
                actor, owner_id = Actor.for_user(user), user.id
            filters = loops.LoopFilter(
                status=LoopStatus.CLOSED if closed else LoopStatus.OPEN,
                overdue=overdue,
                owner_id=owner_id,
            )
            stmt = loops.loops_query(actor, filters, now=now).limit(limit)
            rows = [(row[0], row[1]) for row in session.execute(stmt)]
            items = [o.model_dump(mode="json") for o in loop_outs(session, rows, now=now)]
            figures = loops.kpis(
                session, actor, now.date() - timedelta(days=29), now.date(), now=now
            )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"total": len(items), "kpis": figures, "loops": items})
        return
    table = Table(title=f"Follow-ups: {len(items):,}")
    for column in ("id", "code", "reason", "urgency", "owner", "due", "escalated", "verbatim"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["customer"],
            item["reason"],
            ", ".join(item["urgency"]) or "—",
            _or_dash(item["owner"]),
            item["due_at"][:16] + (" overdue" if item["overdue"] else ""),
            _or_dash(item["escalated_to"]),
            _or_dash((item["summary"] or "")[:60]),
        )
    console.print(table)
    rate = figures["closed_within_sla_rate"]
    console.print(
        f"Last 30 days: opened {figures['opened']}, closed {figures['closed']}, within SLA "
        f"{figures['closed_within_sla']} ({'—' if rate is None else f'{rate:.0%}'}), median "
        f"hours to close {_or_dash(figures['median_hours_to_close'])}, open overdue "
        f"{figures['open_overdue']}"
    )


@app.command("analyze")
def analyze_command(
    no_retrain: Annotated[
        bool, typer.Option("--no-retrain", help="Analyse only; do not retrain the model.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Analyse every survey comment, touchpoint note and dispute description not analysed yet
    (sentiment, topics, urgency; recent urgent ones open follow-ups), then retrain the company's
    sentiment model on its scored comments once enough exist, keeping it only if it is not
    worse than the shipped one on held-out comments."""
    settings = get_settings()
    now = utcnow()
    try:
        with unit_of_work() as session:
            seeded = analysis.ensure_topics(session)
            clock = time.perf_counter()
            counts = analysis.analyse_pending(session, settings, now)
            seconds = time.perf_counter() - clock
        retrained = None
        if not no_retrain:
            with unit_of_work() as session:
                retrained = analysis.retrain(session, settings, settings.model_dir)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    analysed = sum(v for k, v in counts.items() if k != "loops_opened")
    payload = {
        "topics_seeded": seeded,
        "analysed": counts,
        "seconds": round(seconds, 3),
        "texts_per_second": round(analysed / seconds, 1) if seconds > 0 and analysed else None,
        "retrain": retrained.as_dict() if retrained is not None else None,
    }
    if json_output:
        print_json(payload)
        return
    table = Table(title=f"Texts analysed in {seconds:.1f} s")
    table.add_column("source")
    table.add_column("analysed", justify="right")
    for key, value in counts.items():
        table.add_row(key, f"{value:,}")
    console.print(table)
    if retrained is None:
        return
    console.print(f"Retraining: {retrained.reason}")
    if retrained.trained:
        evaluation = Table(
            title=f"Held-out evaluation ({retrained.n_test} of {retrained.n_comments} comments)"
        )
        for column in ("model", "accuracy", "macro-F1"):
            evaluation.add_column(column)
        for name, metrics in (("shipped", retrained.shipped), ("company", retrained.company)):
            evaluation.add_row(name, f"{metrics['accuracy']:.3f}", f"{metrics['macro_f1']:.3f}")
        console.print(evaluation)
