"""``flywheel worker``: the SQLite lease, the daily cycle at the configured time, the command
itself, a worker killed with SIGKILL mid-send, and two workers on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from flywheel.collections import outbox
from flywheel.collections.tasks import (
    CYCLE_LEASE,
    SENDER_LEASE,
    WorkerAlreadyRunning,
    acquire_lease,
    release_lease,
    run_cycle_if_due,
    run_worker,
)
from flywheel.db import make_engine, unit_of_work, upgrade_database
from flywheel.models.collections import OutboxMessage, WorkerLease
from flywheel.models.enums import ActionStatus
from tests.collections.smtp_support import (
    SmtpHandler,
    SmtpSink,
    action_of,
    db,
    outbox_engine,
    outbox_row,
    queue_email,
    queue_emails,
    settings_for,
    smtp_sink,
    url_of,
    wait_for,
)

__all__ = ["db", "outbox_engine", "smtp_sink"]  # fixtures used by name

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def lease(engine: Engine, name: str) -> WorkerLease | None:
    with unit_of_work(engine) as session:
        row = session.get(WorkerLease, name)
        if row is not None:
            session.expunge(row)
        return row


# ------------------------------------------------------------------------------ the lease


def test_a_lease_is_held_until_released_or_expired(db: Engine) -> None:
    acquire_lease(db, name=SENDER_LEASE, holder="host-a:1:a", now=NOW, seconds=60)

    with pytest.raises(WorkerAlreadyRunning) as refused:
        acquire_lease(db, name=SENDER_LEASE, holder="host-b:2:b", now=NOW, seconds=60)
    acquire_lease(  # the holder renews
        db, name=SENDER_LEASE, holder="host-a:1:a", now=NOW + timedelta(seconds=30), seconds=60
    )
    with pytest.raises(WorkerAlreadyRunning):
        acquire_lease(
            db, name=SENDER_LEASE, holder="host-b:2:b", now=NOW + timedelta(seconds=80), seconds=60
        )
    acquire_lease(  # expired: taken over
        db, name=SENDER_LEASE, holder="host-b:2:b", now=NOW + timedelta(seconds=91), seconds=60
    )

    assert refused.value.code == "worker_already_running"
    assert refused.value.details["holder"] == "host-a:1:a"
    current = lease(db, SENDER_LEASE)
    assert current is not None
    assert current.holder == "host-b:2:b"
    release_lease(db, name=SENDER_LEASE, holder="host-b:2:b", now=NOW + timedelta(seconds=92))
    acquire_lease(
        db, name=SENDER_LEASE, holder="host-c:3:c", now=NOW + timedelta(seconds=93), seconds=60
    )


def test_the_lease_of_a_process_gone_on_this_machine_is_taken_over_at_once(db: Engine) -> None:
    import socket

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    dead_holder = f"{socket.gethostname()}:{finished.pid}:dead00"
    acquire_lease(db, name=SENDER_LEASE, holder=dead_holder, now=NOW, seconds=600)

    acquire_lease(db, name=SENDER_LEASE, holder="me:1:m", now=NOW, seconds=600)

    current = lease(db, SENDER_LEASE)
    assert current is not None
    assert current.holder == "me:1:m"


def test_a_worker_on_sqlite_refuses_to_start_while_another_holds_the_lease(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    upgrade_database(engine)
    queue_emails(engine, 2)
    acquire_lease(
        engine, name=SENDER_LEASE, holder="elsewhere:1:x", now=datetime.now(UTC), seconds=600
    )

    with pytest.raises(WorkerAlreadyRunning):
        run_worker(settings=settings_for(engine, smtp_sink), engine=engine, once=True, cycle=None)

    assert smtp_sink.messages == []
    with unit_of_work(engine) as session:
        assert outbox.status_counts(session)["pending"] == 2
    engine.dispose()


def test_run_worker_once_sends_what_is_due_and_gives_the_lease_back(
    db: Engine, smtp_sink: SmtpSink
) -> None:
    queue_emails(db, 7)

    report = run_worker(
        settings=settings_for(db, smtp_sink), engine=db, once=True, cycle=None, batch_size=3
    )

    assert (report.sent, report.failed, report.dead) == (7, 0, 0)
    assert report.passes == 3  # 3 + 3 + 1
    assert len(smtp_sink.messages) == 7
    held = lease(db, SENDER_LEASE)
    if db.dialect.name == "sqlite":
        assert held is not None
        assert held.expires_at <= datetime.now(UTC)
    else:
        assert held is None  # PostgreSQL runs any number of workers: no sender lease


def test_run_worker_stops_when_asked(db: Engine, smtp_sink: SmtpSink) -> None:
    queue_emails(db, 3)
    stop = threading.Event()
    settings = settings_for(db, smtp_sink)
    thread = threading.Thread(
        target=run_worker,
        kwargs={"settings": settings, "engine": db, "stop_event": stop, "cycle": None,
                "poll_seconds": 0.05},
        daemon=True,
    )  # fmt: skip
    thread.start()
    try:
        assert wait_for(lambda: len(smtp_sink.messages) == 3)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert not thread.is_alive()


# ------------------------------------------------------------------------------ daily cycle


class CycleRecorder:
    def __init__(self, fail: bool = False) -> None:
        self.days: list[date] = []
        self.fail = fail

    def __call__(self, day: date) -> dict[str, Any]:
        self.days.append(day)
        if self.fail:
            raise RuntimeError("scores could not be computed")
        return {"as_of": day.isoformat()}


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A moment of the server's local clock (the one ``worker_run_at`` speaks of)."""
    return datetime(year, month, day, hour, minute).astimezone()


def test_the_daily_cycle_runs_once_a_day_after_the_configured_time(db: Engine) -> None:
    settings = settings_for(db, None, worker_run_at="06:30")
    cycle = CycleRecorder()

    def tick(moment: datetime) -> dict[str, Any] | None:
        return run_cycle_if_due(db, settings=settings, worker_id="w1", now=moment, cycle=cycle)

    results = [
        tick(local(2026, 3, 2, 6, 29)),  # not yet
        tick(local(2026, 3, 2, 6, 30)),  # runs for 2 March
        tick(local(2026, 3, 2, 6, 31)),  # done today
        tick(local(2026, 3, 2, 23, 59)),
        tick(local(2026, 3, 3, 0, 5)),  # a new day, before the time
        tick(local(2026, 3, 3, 9, 0)),  # runs for 3 March
    ]

    assert cycle.days == [date(2026, 3, 2), date(2026, 3, 3)]
    assert [r is not None for r in results] == [False, True, False, False, False, True]
    assert results[1] == {"day": "2026-03-02", "result": {"as_of": "2026-03-02"}}
    recorded = lease(db, CYCLE_LEASE)
    assert recorded is not None
    assert (recorded.last_cycle_on, recorded.holder) == (date(2026, 3, 3), "w1")


def test_a_restarted_or_second_worker_does_not_run_the_day_again(db: Engine) -> None:
    settings = settings_for(db, None, worker_run_at="06:00")
    first, second = CycleRecorder(), CycleRecorder()
    moment = local(2026, 3, 2, 7, 0)

    run_cycle_if_due(db, settings=settings, worker_id="w1", now=moment, cycle=first)
    again = run_cycle_if_due(db, settings=settings, worker_id="w2", now=moment, cycle=second)

    assert (first.days, second.days, again) == ([date(2026, 3, 2)], [], None)


def test_a_failed_cycle_is_not_recorded_and_runs_again(db: Engine) -> None:
    settings = settings_for(db, None, worker_run_at="06:00")
    broken, fixed = CycleRecorder(fail=True), CycleRecorder()
    moment = local(2026, 3, 2, 7, 0)

    with pytest.raises(RuntimeError):
        run_cycle_if_due(db, settings=settings, worker_id="w1", now=moment, cycle=broken)
    ran = run_cycle_if_due(db, settings=settings, worker_id="w1", now=moment, cycle=fixed)

    assert ran is not None
    assert fixed.days == [date(2026, 3, 2)]


def test_the_worker_outlives_a_failing_cycle_and_runs_the_cycle_before_sending(
    db: Engine, smtp_sink: SmtpSink
) -> None:
    settings = settings_for(db, smtp_sink, worker_run_at="00:00")
    queue_emails(db, 2)
    cycle = CycleRecorder()
    today = datetime.now().astimezone().date()

    broken = run_worker(settings=settings, engine=db, once=True, cycle=CycleRecorder(fail=True))
    report = run_worker(settings=settings, engine=db, once=True, cycle=cycle)

    assert broken.cycles == []
    assert broken.cycle_errors == ["RuntimeError: scores could not be computed"]
    assert broken.sent == 2  # the messages went out all the same
    assert cycle.days == [today]
    assert [c["day"] for c in report.cycles] == [today.isoformat()]


# ------------------------------------------------------------------------------ the command


def flywheel_env(url: str, sink: SmtpSink | None, **values: str) -> dict[str, str]:
    env = {
        **os.environ,
        "FLYWHEEL_DATABASE_URL": url,
        "FLYWHEEL_OUTBOX_BACKOFF_SECONDS": "0",
        "FLYWHEEL_SMTP_FROM": "ar@flywheel.test",
        "COLUMNS": "120",
    }
    if sink is not None:
        env["FLYWHEEL_SMTP_HOST"] = "127.0.0.1"
        env["FLYWHEEL_SMTP_PORT"] = str(sink.port)
    env.update(values)
    return env


def flywheel(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flywheel", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=120,
    )


def start_worker(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flywheel", "worker", "--no-cycle", "--poll-seconds", "0.2", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def one_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (proc.stdout, proc.stderr)
    data: dict[str, Any] = json.loads(lines[0])
    return data


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_worker_once_prints_its_counts_and_a_second_run_sends_nothing(
    db: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    queue_emails(db, 4)
    smtp_sink.handler.refuse["c3@customer.cn"] = "550 5.1.1 no such user"
    env = flywheel_env(url_of(db), smtp_sink)

    first = flywheel(env, tmp_path, "worker", "--once", "--no-cycle", "--json")
    second = flywheel(env, tmp_path, "worker", "--once", "--no-cycle", "--json")
    table = flywheel(env, tmp_path, "worker", "--once", "--no-cycle")

    assert first.returncode == 0, first.stderr
    out = one_json(first)
    assert (out["sent"], out["failed"], out["dead"]) == (3, 0, 1)
    assert out["outbox"] == {"pending": 0, "sending": 0, "sent": 3, "dead": 1}
    assert out["database"] == db.dialect.name
    assert out["cycles"] == []
    assert (one_json(second)["sent"], one_json(second)["dead"]) == (0, 0)
    assert table.returncode == 0
    assert "retry later" in table.stdout
    assert len(smtp_sink.messages) == 3


def test_a_second_worker_on_sqlite_refuses_to_start(
    tmp_path: Path, smtp_sink: SmtpSink, processes: list[subprocess.Popen[str]]
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'single.db'}")
    upgrade_database(engine)
    env = flywheel_env(url_of(engine), smtp_sink)
    first = start_worker(env, tmp_path)
    processes.append(first)
    assert wait_for(lambda: lease(engine, SENDER_LEASE) is not None)

    second = flywheel(env, tmp_path, "worker", "--once", "--no-cycle", "--json")
    first.send_signal(signal.SIGTERM)
    first_exit = first.wait(timeout=30)
    after = flywheel(env, tmp_path, "worker", "--once", "--no-cycle", "--json")

    assert second.returncode == 5
    error = one_json(second)["error"]
    assert error["code"] == "worker_already_running"
    assert "SQLite takes one worker at a time" in error["message"]
    assert first_exit == 0, first.stderr.read() if first.stderr else ""
    held = lease(engine, SENDER_LEASE)
    assert held is not None
    assert held.expires_at <= datetime.now(UTC)
    assert after.returncode == 0, after.stderr
    engine.dispose()


def test_a_worker_killed_mid_send_is_resumed_after_the_claim_timeout(
    db: Engine, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """The documented duplicate window: the first message reached the server, which had not
    yet said "250" when the worker was killed. Its row stays claimed ("sending") until the
    claim timeout, is then claimed again and sent again with the same Message-ID: one extra
    copy at most. The rest of the killed worker's batch goes out once, also after the claim
    timeout, and nothing is lost."""
    ids = [queue_email(db, key=f"killed:{n}", with_action=(n == 0)) for n in range(3)]
    sink = SmtpSink(handler=SmtpHandler(hold_first=True)).start()
    env = flywheel_env(
        url_of(db),
        sink,
        FLYWHEEL_OUTBOX_CLAIM_TIMEOUT_SECONDS="10",
        FLYWHEEL_SMTP_TIMEOUT_SECONDS="60",
    )
    try:
        victim = start_worker(env, tmp_path)
        processes.append(victim)
        assert sink.handler.data_started.wait(timeout=60), "the worker never sent"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        killed_rows = [outbox_row(db, i) for i in ids]

        heir = start_worker(env, tmp_path)
        processes.append(heir)
        delivered = wait_for(
            lambda: all(outbox_row(db, i).status == "sent" for i in ids), timeout=90
        )
        heir.send_signal(signal.SIGTERM)
        heir_exit = heir.wait(timeout=30)
    finally:
        sink.stop()

    assert [r.status for r in killed_rows] == ["sending", "sending", "sending"]
    assert {r.claimed_by for r in killed_rows} == {killed_rows[0].claimed_by}
    assert str(killed_rows[0].claimed_by).split(":")[1] == str(victim.pid)
    assert [r.attempts for r in killed_rows] == [1, 0, 0]  # only the first was started
    assert delivered
    assert heir_exit == 0
    rows = [outbox_row(db, i) for i in ids]
    assert [r.attempts for r in rows] == [2, 1, 1]
    for row, killed in zip(rows, killed_rows, strict=True):
        assert row.claimed_by != killed.claimed_by
        assert row.sent_at is not None
        assert killed.claimed_at is not None
        assert row.sent_at - killed.claimed_at >= timedelta(seconds=10)
    assert "stopped without recording a result" in (rows[0].last_error or "")
    message_ids = sink.handler.message_ids()
    assert len(message_ids) == 4
    assert len(set(message_ids)) == 3  # the duplicate carries the same Message-ID
    first_id = str(sink.messages[0]["Message-ID"])
    assert message_ids.count(first_id) == 2
    action = action_of(db, ids[0])
    assert action.status == ActionStatus.SENT.value
    assert action.delivery is not None
    assert action.delivery["attempts"] == 2


# ------------------------------------------------------------------------------ PostgreSQL


def test_two_workers_on_postgresql_send_each_of_200_messages_exactly_once(
    db: Engine,
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("several workers need PostgreSQL (FLYWHEEL_TEST_DATABASE_URL)")
    ids = queue_emails(db, 200, prefix="pg")
    sink = SmtpSink(handler=SmtpHandler(delay=0.005)).start()
    settings = settings_for(db, sink)
    reports: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        engine = make_engine(url_of(db))
        barrier.wait()
        reports[name] = run_worker(
            settings=settings, engine=engine, once=True, cycle=None, batch_size=5, worker_id=name
        )
        engine.dispose()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sink.stop()

    message_ids = sink.handler.message_ids()
    assert len(message_ids) == 200
    assert len(set(message_ids)) == 200
    assert reports["w1"].sent + reports["w2"].sent == 200
    assert reports["w1"].sent > 0
    assert reports["w2"].sent > 0
    with unit_of_work(db) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
        assert {r.status for r in rows} == {"sent"}
        assert {r.attempts for r in rows} == {1}
        assert {r.claimed_by for r in rows} == {"w1", "w2"}
