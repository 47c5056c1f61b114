"""``flywheel serve`` as a real process: refuses an uninitialised database, serves /healthz."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
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
    db = tmp_path / "flywheel.db"
    env = flywheel_env(db)
    init = subprocess.run(
        [sys.executable, "-m", "flywheel", "init"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert init.returncode == 0, init.stderr
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
