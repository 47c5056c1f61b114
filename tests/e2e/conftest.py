"""A real browser on a real server.

``flywheel serve`` runs in its own process on a database built for this run (``flywheel init``,
``flywheel demo``, then the known rows of ``world.py``): a temporary SQLite file, or — when
FLYWHEEL_TEST_DATABASE_URL is set — a PostgreSQL database of its own next to the test database
(the unit tests empty that one and roll back; the server here needs committed rows). Debian's
chromium (/usr/bin/chromium) is driven by Playwright: one browser for the package, a fresh
context (no cookies) for each test.

Without chromium the tests are skipped with the reason, unless FLYWHEEL_E2E_REQUIRED is set
(CI sets it): then they fail, so a CI run can never pass without them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from sqlalchemy import Engine, make_url, text

from flywheel.db import make_engine
from tests.e2e import world

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED_ENV = "FLYWHEEL_E2E_REQUIRED"
SCREENSHOTS_ENV = "FLYWHEEL_E2E_SCREENSHOTS"
PG_ENV = "FLYWHEEL_TEST_DATABASE_URL"
DEFAULT_SCREENSHOTS = Path(__file__).parent / "screenshots"

DEMO_CUSTOMERS = 60
DEMO_SEED = 20260
STARTUP_LIMIT_S = 30.0
# Playwright waits this long for an element or a navigation before a step fails.
STEP_TIMEOUT_MS = 10_000
# The same for ``expect(...)`` assertions (5 s by default): a loaded CI machine is slow.
expect.set_options(timeout=STEP_TIMEOUT_MS)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]


@dataclass(frozen=True)
class Server:
    url: str
    database_url: str
    log: Path


class Screenshots:
    """Full-page PNGs of the main pages, for a person to look at after the run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, name: str) -> Path:
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="package", autouse=True)
def chromium_present() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found (apt-get install chromium)"
    if os.environ.get(REQUIRED_ENV):
        pytest.fail(f"{reason}, and {REQUIRED_ENV} is set", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _flywheel(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flywheel", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, f"flywheel {' '.join(args)}: {done.stderr}"


@pytest.fixture(scope="package")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database for this run; a PostgreSQL one is dropped afterwards."""
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'flywheel-e2e.db'}"
        return
    base = make_url(server_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{base.database}_e2e" + (f"_{worker}" if worker else "")
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # A run that was killed leaves its database behind.
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="package")
def server(e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``flywheel serve`` on a free port, on the demo company plus the known rows."""
    # Its own working folder: nothing the server writes (uploads, rejects files) lands in the
    # source tree.
    home = tmp_path_factory.mktemp("e2e-server")
    env = {
        **os.environ,
        "FLYWHEEL_DATABASE_URL": e2e_database_url,
        "FLYWHEEL_UPLOAD_DIR": str(home / "uploads"),
        "COLUMNS": "200",
    }
    _flywheel(["init"], env, home)
    _flywheel(
        ["demo", "--customers", str(DEMO_CUSTOMERS), "--seed", str(DEMO_SEED), "--json"], env, home
    )
    engine = make_engine(e2e_database_url)
    try:
        world.seed(engine, today=datetime.now(UTC).date())
    finally:
        engine.dispose()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "serve.log"
    # A file, not a pipe: a server that logs a lot can never block on a full pipe.
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flywheel",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=home,
        )
    try:
        _wait_for_health(process, f"{url}/healthz", log)
        yield Server(url=url, database_url=e2e_database_url, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_health(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"flywheel serve exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no healthy answer from {url} in {STARTUP_LIMIT_S} s: {log.read_text()}")
        time.sleep(0.2)


@pytest.fixture(scope="package")
def database(server: Server) -> Iterator[Engine]:
    """The server's database, for a test to check what a page did (or did not) write."""
    engine = make_engine(server.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    """A new browser profile: no cookies, English, a laptop-sized window."""
    ctx = browser.new_context(
        base_url=server.url,
        locale="en-US",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1366, "height": 900},
        accept_downloads=True,
    )
    ctx.set_default_timeout(STEP_TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="package")
def screenshots() -> Screenshots:
    return Screenshots(Path(os.environ.get(SCREENSHOTS_ENV) or DEFAULT_SCREENSHOTS))
