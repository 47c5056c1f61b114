"""Outbox throughput: N queued e-mails sent by the worker to a local SMTP server (aiosmtpd).

    python benchmarks/bench_outbox.py [--messages 2000] [--batch 50] [--pg-url URL]

For SQLite (a temporary file) and, with --pg-url or FLYWHEEL_TEST_DATABASE_URL, PostgreSQL (a
scratch database created and dropped on that server): queue N e-mails in one transaction, then
time ``run_worker(once=True)`` until all are sent — one worker, and on PostgreSQL two workers
side by side (threads, each with its own connections; rows claimed FOR UPDATE SKIP LOCKED).
The SMTP server runs in a process of its own and counts the Message-IDs it receives, so the
table also shows that every message arrived exactly once.

Each message costs one SMTP transaction on a kept-open connection and one short database
transaction that records the result (and counts the next attempt): the figure is the cost of
"exactly once, durably recorded", not of SMTP alone.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, make_url, text

from flywheel.collections import outbox
from flywheel.collections.tasks import run_worker
from flywheel.config import Settings
from flywheel.db import make_engine, unit_of_work, upgrade_database

console = Console(width=max(Console().width, 140))


# ------------------------------------------------------------------------- the SMTP sink


def _sink_main(port: int, ready: Any, stop: Any, results: Any) -> None:
    from aiosmtpd.controller import Controller

    seen: list[str] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    seen.append(line.split(b":", 1)[1].strip().decode())
                    break
                if not line:
                    break
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    results.put((len(seen), len(set(seen))))


@contextmanager
def smtp_sink() -> Iterator[tuple[int, Any]]:
    """A sink in a child process; yields its port and a function returning (received,
    distinct Message-IDs) once it is stopped."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    ctx = mp.get_context("spawn")
    ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    process = ctx.Process(target=_sink_main, args=(port, ready, stop, results), daemon=True)
    process.start()
    if not ready.wait(30):
        raise RuntimeError("the SMTP sink did not start")
    counts: dict[str, tuple[int, int]] = {}

    def finish() -> tuple[int, int]:
        if "c" not in counts:
            stop.set()
            counts["c"] = results.get(timeout=30)
            process.join(timeout=30)
        return counts["c"]

    try:
        yield port, finish
    finally:
        finish()


# ------------------------------------------------------------------------- databases


@contextmanager
def sqlite_database(folder: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{folder / f'outbox-{uuid.uuid4().hex[:6]}.db'}")
    upgrade_database(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[Engine]:
    name = f"flywheel_bench_outbox_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(server_url).set(database=name).render_as_string(False))
    try:
        upgrade_database(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def queue(engine: Engine, count: int) -> float:
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        for n in range(count):
            outbox.enqueue_email(
                session,
                dedupe_key=f"bench:{n}",
                to=f"customer{n}@example.cn",
                subject=f"【飞轮】付款提醒 Payment reminder #{n}",
                body=f"客户 {n} 您好：您有 3 笔发票即将到期，合计 ¥{n * 37 % 100000:,}.00。\n" * 8,
                body_html=f"<p>客户 {n} 您好：您有 <b>3</b> 笔发票即将到期。</p>" * 8,
                language="zh",
            )
    return time.perf_counter() - started


def send(
    engine: Engine, settings: Settings, *, workers: int, batch: int
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of this process (the workers) and messages sent."""
    sent: list[int] = []
    barrier = threading.Barrier(workers)

    def work(n: int) -> None:
        own = engine if workers == 1 else make_engine(settings.database_url)
        barrier.wait()
        report = run_worker(
            settings=settings,
            engine=own,
            once=True,
            cycle=None,
            batch_size=batch,
            worker_id=f"bench-{n}",
        )
        sent.append(report.sent)
        if own is not engine:
            own.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, time.process_time() - cpu, sum(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--pg-url", default=os.environ.get("FLYWHEEL_TEST_DATABASE_URL"))
    args = parser.parse_args()

    plans: list[tuple[str, int]] = [("sqlite", 1)]
    if args.pg_url:
        plans += [("postgresql", 1), ("postgresql", 2)]
    table = Table(title=f"outbox → local SMTP server, {args.messages:,} e-mails (zh, text + html)")
    for column in (
        "database",
        "workers",
        "queue s",
        "send s",
        "messages/s",
        "worker CPU ms/message",
        "sent",
        "received",
        "distinct Message-IDs",
    ):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as folder:
        for backend, workers in plans:
            database = (
                sqlite_database(Path(folder))
                if backend == "sqlite"
                else postgres_database(args.pg_url)
            )
            with database as engine, smtp_sink() as (port, finish):
                queued = queue(engine, args.messages)
                settings = Settings(
                    _env_file=None,
                    database_url=engine.url.render_as_string(hide_password=False),
                    smtp_host="127.0.0.1",
                    smtp_port=port,
                    smtp_from="ar@flywheel.local",
                )
                seconds, cpu, sent = send(engine, settings, workers=workers, batch=args.batch)
                received, distinct = finish()
            table.add_row(
                "SQLite" if backend == "sqlite" else "PostgreSQL",
                str(workers),
                f"{queued:.2f}",
                f"{seconds:.2f}",
                f"{sent / seconds:,.0f}",
                f"{cpu * 1000 / max(sent, 1):.1f}",
                f"{sent:,}",
                f"{received:,}",
                f"{distinct:,}",
            )
            console.print(f"{backend} × {workers} worker(s): {sent / seconds:,.0f} messages/s")
    console.print(table)
    load = os.getloadavg()
    console.print(
        f"load average {load[0]:.1f} on {os.cpu_count()} CPUs: messages/s falls with the load; "
        "CPU ms/message does not"
    )


if __name__ == "__main__":
    main()
