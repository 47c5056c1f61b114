"""``flywheel worker``: sends the outbox and runs the daily cycle at the configured time."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.cli import JsonFlag, console, err_console, fail, print_json
from flywheel.collections import outbox, tasks
from flywheel.config import get_settings
from flywheel.db import get_engine, unit_of_work
from flywheel.errors import FlywheelError


def worker(
    once: Annotated[
        bool,
        typer.Option("--once", help="Send what is due (and run the cycle if due), then exit."),
    ] = False,
    no_cycle: Annotated[
        bool,
        typer.Option("--no-cycle", help="Only send; leave the daily cycle to `flywheel run`."),
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=1000, help="Messages claimed at a time.")
    ] = tasks.DEFAULT_BATCH,
    poll_seconds: Annotated[
        float,
        typer.Option("--poll-seconds", min=0.05, max=3600, help="Rest between idle rounds."),
    ] = tasks.DEFAULT_POLL_SECONDS,
    json_output: JsonFlag = False,
) -> None:
    """Send the outbox (SMTP e-mails and chat-robot webhooks, with retries) and run the daily
    cycle once a day at FLYWHEEL_WORKER_RUN_AT. Runs until Ctrl-C or SIGTERM, which finish the
    message in flight first; with --once, sends what is due and exits. On SQLite one worker
    runs at a time; on PostgreSQL run as many as you like."""
    settings = get_settings()
    engine = get_engine(settings.database_url)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    stop = threading.Event()
    previous = _on_stop_signals(stop)
    if not json_output:
        if not settings.smtp_host:
            err_console.print(
                "[yellow]no SMTP host[/] (FLYWHEEL_SMTP_HOST): e-mails stay queued; "
                "webhooks are sent"
            )
        if not once:
            console.print(
                f"[green]worker[/] sending the outbox every {poll_seconds:g} s"
                + ("" if no_cycle else f"; daily cycle at {settings.worker_run_at}")
                + " (Ctrl-C stops)"
            )

    def on_pass(sent: tasks.SendReport) -> None:
        if not json_output and not once:
            console.print(
                f"sent {sent.sent:,} · retry later {sent.failed:,} · dead {sent.dead:,}"
                + (f" · given back {sent.released:,}" if sent.released else "")
            )

    def on_cycle(ran: dict[str, Any]) -> None:
        if not json_output:
            console.print(f"[green]daily cycle[/] {ran['day']} done")

    try:
        report = tasks.run_worker(
            settings=settings,
            engine=engine,
            once=once,
            stop_event=stop,
            cycle=None if no_cycle else tasks.daily_cycle,
            batch_size=batch,
            poll_seconds=poll_seconds,
            on_pass=on_pass,
            on_cycle=on_cycle,
        )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    finally:
        _restore(previous)
    with unit_of_work(engine) as session:
        counts = outbox.status_counts(session)
    payload = {
        "worker": report.worker_id,
        "database": engine.dialect.name,
        "smtp_configured": bool(settings.smtp_host),
        "sent": report.sent,
        "failed": report.failed,
        "dead": report.dead,
        "released": report.released,
        "cycles": report.cycles,
        "cycle_errors": report.cycle_errors,
        "outbox": counts,
    }
    if json_output:
        print_json(payload)
        return
    table = Table(title="outbox", show_header=True)
    for column in ("sent now", "retry later", "dead now", "pending", "sending", "sent", "dead"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{report.sent:,}",
        f"{report.failed:,}",
        f"{report.dead:,}",
        f"{counts['pending']:,}",
        f"{counts['sending']:,}",
        f"{counts['sent']:,}",
        f"{counts['dead']:,}",
    )
    console.print(table)
    for error in report.cycle_errors:
        err_console.print(f"[bold red]daily cycle failed[/] {error}")


Handlers = dict[int, Any]


def _on_stop_signals(stop: threading.Event) -> Handlers:
    """SIGINT and SIGTERM ask the worker to stop after the message in flight; a second one
    stops it at once (the default handlers are back)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: Handlers = {}

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        _restore(previous)

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore(previous: Handlers) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
