"""``flywheel serve`` as a real process: refuses an uninitialised database, serves /healthz."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx

STARTUP_LIMIT_S = 20.0


def flywheel_env(db: Path) -> dict[str, str]:
    return {**os.environ, "FLYWHEEL_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "200"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_refuses_database_without_schema(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flywheel", "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=flywheel_env(tmp_path / "empty.db"),
        check=False,
        timeout=60,
    )

    assert proc.returncode == 7
    assert "the database has no Flywheel schema; run `flywheel init`" in proc.stderr


def test_serve_answers_healthz(tmp_path: Path) -> None:
    env = initialised(tmp_path)
    port = free_port()
    # Files, not pipes: a server that logs a lot can never block on a full pipe.
    with (tmp_path / "out.log").open("w+") as out, (tmp_path / "err.log").open("w+") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "flywheel", "serve", "--port", str(port)],
            stdout=out,
            stderr=err,
            env=env,
        )
        try:
            response = wait_for_health(server, f"http://127.0.0.1:{port}/healthz")
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()

    assert response.status_code == 200, stderr
    assert response.json()["status"] == "ok"
    assert f"http://127.0.0.1:{port}/" in stdout
    # Every stderr line is structured, uvicorn's own included; ours is the only access line.
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    access = [entry for entry in entries if entry["logger"] == "flywheel.web.access"]
    assert access[-1]["path"] == "/healthz"
    assert access[-1]["request_id"] == response.headers["X-Request-ID"]
    assert not [entry for entry in entries if entry["logger"] == "uvicorn.access"]


def wait_for_health(server: subprocess.Popen[bytes], url: str) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while True:
        assert server.poll() is None, f"server exited with {server.returncode}"
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"no healthy answer from {url} in {STARTUP_LIMIT_S} s"
        time.sleep(0.2)


def initialised(tmp_path: Path) -> dict[str, str]:
    env = flywheel_env(tmp_path / "flywheel.db")
    init = subprocess.run(
        [sys.executable, "-m", "flywheel", "init"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert init.returncode == 0, init.stderr
    return env


def test_two_workers_share_the_connections_and_stop_together(tmp_path: Path) -> None:
    """Each worker listens on a socket of its own (SO_REUSEPORT): connections opened at once
    land on both workers, and SIGTERM to the server ends every worker."""
    env = initialised(tmp_path)
    port = free_port()
    with two_workers(env, port, tmp_path / "err.log") as server:
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(24)]
        try:
            for client in clients:
                assert client.get("/healthz").status_code == 200
        finally:
            for client in clients:
                client.close()
        workers = started_workers(tmp_path / "err.log")
        server.terminate()
        assert server.wait(timeout=40) == 0
    entries = log_entries(tmp_path / "err.log")

    answered_by = {e["pid"] for e in entries if e["logger"] == "flywheel.web.access"}
    # 24 connections hashed over two sockets all land on one with odds of 2 in 16 million.
    assert answered_by == workers, (answered_by, workers)
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the server"


def test_two_workers_even_out_their_keep_alive_connections(tmp_path: Path) -> None:
    """20 keep-alive clients on two workers end up 10 and 10: a worker over its share asks a
    client to reconnect (``Connection: close``) until the kernel's hash has put it on the
    other one. Which worker answered a request: its id in the worker's access log."""
    env = initialised(tmp_path)
    port = free_port()
    log = tmp_path / "err.log"
    with two_workers(env, port, log) as server:
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(20)]
        try:
            moved = 0
            for _round in range(60):
                ids, closes = [], 0
                for client in clients:
                    client.request("GET", "/healthz")  # opens again after a close
                    response = client.getresponse()
                    response.read()
                    assert response.status == 200
                    ids.append(response.getheader("X-Request-ID"))
                    closes += response.will_close
                moved += closes
                if not closes:
                    break
            else:
                raise AssertionError("the workers were still moving connections after 60 rounds")
        finally:
            for client in clients:
                client.close()
        server.terminate()
        assert server.wait(timeout=40) == 0

    worker_of = {
        e["request_id"]: e["pid"] for e in log_entries(log) if e["logger"] == "flywheel.web.access"
    }
    spread = Counter(worker_of[request_id] for request_id in ids)
    assert sorted(spread.values()) == [10, 10], (spread, moved)


def test_two_workers_refuse_a_port_in_use(tmp_path: Path) -> None:
    env = initialised(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "flywheel", "serve", "--port", str(port), "--workers", "2"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )

    assert proc.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Address already in use" in proc.stderr


@contextlib.contextmanager
def two_workers(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``flywheel serve --workers 2`` with its stderr in ``log`` (stdout next to it), once both
    workers have finished starting (the second may start after the first already answers);
    killed on the way out if the test has not stopped it."""
    with log.with_name("out.log").open("w") as out, log.open("w") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "flywheel", "serve", "--port", str(port), "--workers", "2"],
            stdout=out,
            stderr=err,
            env=env,
        )
        try:
            wait_for_health(server, f"http://127.0.0.1:{port}/healthz")
            deadline = time.monotonic() + STARTUP_LIMIT_S
            while len(started_workers(log)) < 2:
                assert time.monotonic() < deadline, "the second worker did not start"
                time.sleep(0.2)
            yield server
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def log_entries(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def started_workers(path: Path) -> set[object]:
    """The pids of the workers that finished starting, from uvicorn's own log line."""
    return {
        e["pid"]
        for e in log_entries(path)
        if e["logger"] == "uvicorn.error" and e["msg"] == "Application startup complete."
    }


def test_a_worker_that_dies_is_started_again(tmp_path: Path) -> None:
    env = initialised(tmp_path)
    port = free_port()
    log = tmp_path / "err.log"
    with two_workers(env, port, log) as server:
        # Past the supervisor's "dies at start" window: this is a crash, not a failed start.
        time.sleep(5.5)
        first = started_workers(log)
        victim = int(str(sorted(first, key=str)[0]))
        os.kill(victim, signal.SIGKILL)

        deadline = time.monotonic() + STARTUP_LIMIT_S * 2
        while len(started_workers(log) - first) < 1:
            assert server.poll() is None, f"the server ended ({server.returncode})"
            assert time.monotonic() < deadline, "no worker was started in place of the dead one"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        server.terminate()
        assert server.wait(timeout=40) == 0

    replaced = [e for e in log_entries(log) if e["logger"] == "flywheel.web.workers"]
    assert any(f"worker {victim} ended" in str(e["msg"]) for e in replaced), replaced
