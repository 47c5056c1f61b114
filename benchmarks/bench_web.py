"""Web load: latency and requests/s of a real ``flywheel serve`` on the 100,000-customer demo.

    python benchmarks/bench_web.py [--reuse] [--pg-url URL] [--workers 1 2]
                                   [--clients 1 5 20] [--duration 15] [--warmup 3]

For SQLite, and for PostgreSQL when --pg-url or FLYWHEEL_TEST_DATABASE_URL is given, it builds
the demo company (``flywheel init`` + ``flywheel demo``), starts ``flywheel serve`` with each
worker count, and drives it with N concurrent keep-alive clients (a raw asyncio HTTP/1.1
client in this process: no root, no extra tool). Each cell runs --warmup seconds that are not
counted, then --duration seconds that are. Latencies are those of 2xx answers; anything else
is an error. The CPU columns (% of one core; the machine has ``nproc`` cores) show what the
server, PostgreSQL, this load generator and everything else on the machine used in the cell.

Targets (bearer API tokens of the demo users ``manager``, who sees every account, and
``sales``, who sees his own):
  list    GET /customers?tier=standard&page=50 (HTML) and /api/v1/customers?… (JSON)
  360     GET /customers/{code} (HTML) and /api/v1/customers/{code} (JSON), random codes
A route that answers 404 for a known account is reported as missing and skipped.

Without --reuse the databases are built in a temporary place and removed at the end (the
PostgreSQL database only if this run created it). With --reuse they are kept in --cache-dir
(SQLite) and in the --pg-database database and used again when they hold the same demo;
``flywheel init`` brings a kept database to the newest schema first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

# Wide enough for the result table when the output is a file or a pipe.
console = Console(width=max(Console().width, 170))

TARGET_P95_MS = 100.0
TARGET_CLIENTS = 20
PAGE = 50
BENCH_TOKEN_NAME = "bench-web"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FLYWHEEL = str(Path(sys.executable).with_name("flywheel"))


# ---------------------------------------------------------------- databases


@dataclass(frozen=True, slots=True)
class DemoSpec:
    customers: int
    years: int
    seed: int
    as_of: date

    @property
    def label(self) -> str:
        return f"demo customers={self.customers} years={self.years} seed={self.seed} as_of={self.as_of}"

    @property
    def slug(self) -> str:
        return f"{self.customers}c-{self.years}y-seed{self.seed}-{self.as_of:%Y%m%d}"


@dataclass
class Database:
    name: str  # SQLite / PostgreSQL
    url: str
    build_seconds: float | None  # None: reused
    temporary_folder: Path | None = None  # removed at the end
    drop_database: tuple[URL, str] | None = None  # (maintenance URL, name): dropped at the end
    pg_database: str | None = None  # its name, to find its server processes


def flywheel_cli(url: str, *args: str) -> str:
    """Run ``flywheel ARGS`` against ``url``; its stdout (the CLI's errors end the benchmark)."""
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": url}
    done = subprocess.run(
        [FLYWHEEL, *args], env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise SystemExit(f"flywheel {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def build_demo(url: str, spec: DemoSpec) -> float:
    started = time.perf_counter()
    flywheel_cli(url, "init")
    flywheel_cli(
        url,
        "demo",
        "--customers",
        str(spec.customers),
        "--years",
        str(spec.years),
        "--seed",
        str(spec.seed),
        "--as-of",
        spec.as_of.isoformat(),
        "--replace",
        "--json",
    )
    return time.perf_counter() - started


def prepare_sqlite(spec: DemoSpec, *, reuse: bool, cache_dir: Path) -> Database:
    if not reuse:
        folder = Path(tempfile.mkdtemp(prefix="flywheel-bench-web-"))
        url = f"sqlite:///{folder / 'demo.db'}"
        console.print(f"SQLite: building the demo in {folder} …")
        seconds = build_demo(url, spec)
        return Database("SQLite", url, seconds, temporary_folder=folder)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"sqlite-{spec.slug}.db"
    marker = path.with_name(path.name + ".complete")
    url = f"sqlite:///{path}"
    if marker.exists() and path.exists() and marker.read_text() == spec.label:
        console.print(f"SQLite: reusing {path} (flywheel init upgrades its schema)")
        flywheel_cli(url, "init")
        return Database("SQLite", url, None)
    marker.unlink(missing_ok=True)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    console.print(f"SQLite: building the demo in {path} (kept for --reuse) …")
    seconds = build_demo(url, spec)
    marker.write_text(spec.label)
    return Database("SQLite", url, seconds)


def prepare_postgres(server_url: str, database: str, spec: DemoSpec, *, reuse: bool) -> Database:
    """The demo in ``database`` on the server of ``server_url`` (never in the database that URL
    names, which is usually the test suite's)."""
    url = make_url(server_url).set(database=database)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database})
        label = None
        if exists:
            label = conn.scalar(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :d"
                ),
                {"d": database},
            )
        else:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    plain = url.render_as_string(hide_password=False)
    shown = url.render_as_string(hide_password=True)
    # Dropped at the end only when this run created it and is not keeping it for --reuse.
    drop = (url.set(database="postgres"), database) if not exists and not reuse else None
    seconds: float | None = None
    if reuse and exists and label == spec.label:
        console.print(f"PostgreSQL: reusing {shown} (flywheel init upgrades its schema)")
        flywheel_cli(plain, "init")
    else:
        console.print(f"PostgreSQL: building the demo in {shown} …")
        seconds = build_demo(plain, spec)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # The demo's description travels with the database, so --reuse knows what it holds.
        conn.execute(text(f"COMMENT ON DATABASE \"{database}\" IS '{spec.label}'"))
        # What autovacuum does soon after a bulk load on a real server (and not at all where
        # it is switched off): planner statistics, and the visibility map that lets a count
        # read an index alone. Quick when nothing changed since the last run.
        conn.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    return Database("PostgreSQL", plain, seconds, drop_database=drop, pg_database=database)


def clean_up(db: Database) -> None:
    if db.temporary_folder is not None:
        shutil.rmtree(db.temporary_folder, ignore_errors=True)
    if db.drop_database is not None:
        maintenance_url, name = db.drop_database
        admin = create_engine(maintenance_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        console.print(f"PostgreSQL: dropped the database {name}, which this run created")


# ---------------------------------------------------------------- fixtures


@dataclass(frozen=True, slots=True)
class Fixtures:
    tokens: dict[str, str]  # username -> plaintext
    token_ids: list[int]
    codes: list[str]  # random customer codes for the 360
    list_totals: dict[str, int]  # username -> accounts in tier=standard the user may see


def make_fixtures(url: str, *, users: list[str], seed: int, sample: int) -> Fixtures:
    tokens: dict[str, str] = {}
    ids: list[int] = []
    for username in users:
        answer = json.loads(
            flywheel_cli(
                url, "users", "token", "create", username, "--name", BENCH_TOKEN_NAME, "--json"
            )
        )
        tokens[username] = answer["secret"]
        ids.append(int(answer["token"]["id"]))
    engine = create_engine(url)
    with engine.connect() as conn:
        all_codes = list(conn.scalars(text("SELECT code FROM customers ORDER BY id")))
        totals: dict[str, int] = {}
        for username in users:
            role = conn.scalar(text("SELECT role FROM users WHERE username = :u"), {"u": username})
            scoped = (
                "AND owner_id = (SELECT id FROM users WHERE username = :u)"
                if role == "sales"
                else ""
            )
            totals[username] = int(
                conn.scalar(
                    text(f"SELECT count(*) FROM customers WHERE tier = 'standard' {scoped}"),
                    {"u": username},
                )
                or 0
            )
    engine.dispose()
    codes = random.Random(seed).sample(all_codes, min(sample, len(all_codes)))
    return Fixtures(tokens, ids, codes, totals)


def revoke_tokens(url: str, token_ids: list[int]) -> None:
    for token_id in token_ids:
        flywheel_cli(url, "users", "token", "revoke", str(token_id), "--json")


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(url: str, workers: int, log: Path) -> Iterator[tuple[int, int]]:
    """``flywheel serve`` in its own process group; yields (pid, port)."""
    port = free_port()
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": url}
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [
                FLYWHEEL,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=handle,
            stderr=handle,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise SystemExit(f"flywheel serve exited with {process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"flywheel serve did not answer /healthz in 90 s; see {log}")
            time.sleep(0.2)
        yield process.pid, port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# ---------------------------------------------------------------- CPU accounting


def _proc_stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, CPU ticks used) of every process we can read."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return stats


def _backends_of(database: str, pids: Iterable[int]) -> set[int]:
    """The PostgreSQL backends connected to ``database`` (their title names it)."""
    found = set()
    for pid in pids:
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
            found.add(pid)
    return found


def _machine_busy_ticks() -> int:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle


@dataclass(frozen=True, slots=True)
class CpuSample:
    moment: float
    server: dict[int, int]  # pid -> ticks, the flywheel serve process tree
    db: dict[int, int]  # pid -> ticks, the PostgreSQL backends of the benchmark's database
    machine: int  # busy ticks of all cores
    client: float  # seconds of this process

    @classmethod
    def take(cls, server_pid: int, database: str | None) -> CpuSample:
        stats = _proc_stats()
        tree = {server_pid}
        grew = True
        while grew:
            grew = False
            for pid, (parent, _) in stats.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        backends = _backends_of(database, stats) if database else set()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            moment=time.perf_counter(),
            server={pid: stats[pid][1] for pid in tree if pid in stats},
            db={pid: stats[pid][1] for pid in backends},
            machine=_machine_busy_ticks(),
            client=usage.ru_utime + usage.ru_stime,
        )


def _ticks_between(start: dict[int, int], end: dict[int, int]) -> int:
    # Per process, so one that ends during the cell takes nothing away from the others.
    return sum(ticks - start.get(pid, 0) for pid, ticks in end.items())


def cpu_percent(start: CpuSample, end: CpuSample) -> dict[str, float]:
    """% of one core used by the server, its PostgreSQL backends, this process (the load
    generator), and everything else on the machine."""
    wall = end.moment - start.moment
    server = _ticks_between(start.server, end.server) / CLOCK_TICKS
    db = _ticks_between(start.db, end.db) / CLOCK_TICKS
    client = end.client - start.client
    machine = (end.machine - start.machine) / CLOCK_TICKS
    other = max(0.0, machine - server - db - client)
    return {
        "server": 100 * server / wall,
        "db": 100 * db / wall,
        "client": 100 * client / wall,
        "other": 100 * other / wall,
    }


# ---------------------------------------------------------------- the load generator


class Connection:
    """One HTTP/1.1 keep-alive connection: a request is pre-encoded bytes; the answer is read
    by Content-Length (or chunks) and thrown away."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, request: bytes) -> tuple[int, bytes, bytes]:
        """(status, head, body) of one request; reconnects first when needed."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        marker = lower.find(b"\r\ncontent-length:")
        if marker >= 0:
            end = lower.index(b"\r\n", marker + 2)
            body = await self.reader.readexactly(int(lower[marker + 17 : end]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            self.close()
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, head, body


def encode_get(path: str, port: int, token: str, *, html: bool) -> bytes:
    accept = "text/html" if html else "application/json"
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: {accept}\r\n"
        "User-Agent: flywheel-bench-web\r\n\r\n"
    ).encode()


@dataclass
class CellResult:
    latencies_ms: list[float]
    seconds: float
    errors: Counter[str]
    cpu: dict[str, float]
    load1: float
    db_connections: int | None = None  # PostgreSQL sessions opened during the cell


def pg_sessions(url: str, database: str) -> int:
    """Sessions ever opened to ``database`` (PostgreSQL's own count)."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        opened = conn.scalar(
            text(
                "SELECT sessions FROM pg_database d JOIN pg_stat_database s USING (datname) WHERE datname = :d"
            ),
            {"d": database},
        )
    engine.dispose()
    return int(opened or 0)


async def _drive(
    port: int,
    server_pid: int,
    requests: list[bytes],
    clients: int,
    warmup: float,
    duration: float,
    database: str | None,
) -> CellResult:
    loop_start = time.perf_counter()
    measure_from = loop_start + warmup
    stop_at = measure_from + duration
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    samples: list[CpuSample] = []

    async def client(number: int) -> None:
        connection = Connection(port)
        position = number
        try:
            while True:
                started = time.perf_counter()
                if started >= stop_at:
                    return
                request = requests[position % len(requests)]
                position += clients
                try:
                    status, _, _ = await connection.get(request)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    connection.close()
                    if started >= measure_from:
                        errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.01)
                    continue
                if started < measure_from:
                    continue
                if 200 <= status < 300:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors[f"HTTP {status}"] += 1
        finally:
            connection.close()

    async def sampler() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        samples.append(CpuSample.take(server_pid, database))

    await asyncio.gather(sampler(), *(client(n) for n in range(clients)))
    end = CpuSample.take(server_pid, database)
    return CellResult(
        latencies_ms=latencies,
        seconds=end.moment - samples[0].moment,
        errors=errors,
        cpu=cpu_percent(samples[0], end),
        load1=os.getloadavg()[0],
    )


def run_cell(
    port: int,
    server_pid: int,
    requests: list[bytes],
    clients: int,
    *,
    warmup: float,
    duration: float,
    database: str | None,
) -> CellResult:
    return asyncio.run(_drive(port, server_pid, requests, clients, warmup, duration, database))


async def _probe(port: int, request: bytes) -> tuple[int, str]:
    connection = Connection(port)
    try:
        status, head, _ = await connection.get(request)
    finally:
        connection.close()
    content_type = ""
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("content-type:"):
            content_type = line.split(":", 1)[1].strip()
    return status, content_type


def probe(port: int, request: bytes) -> tuple[int, str]:
    return asyncio.run(_probe(port, request))


# ---------------------------------------------------------------- targets and report


@dataclass(frozen=True, slots=True)
class Target:
    key: str  # a key of ROUTES
    user: str
    paths: list[str]

    @property
    def html(self) -> bool:
        return self.key.endswith("-html")


# key -> the route; {code} is one of the random accounts, a different one on each request.
ROUTES = {
    "list-html": f"/customers?tier=standard&page={PAGE}",
    "list-json": f"/api/v1/customers?tier=standard&page={PAGE}",
    "360-html": "/customers/{code}",
    "360-json": "/api/v1/customers/{code}",
}


def targets(
    fixtures: Fixtures, chosen: list[str], list_users: list[str], user_360: str
) -> list[Target]:
    found: list[Target] = []
    for key in ROUTES:
        if key not in chosen:
            continue
        route = ROUTES[key]
        if "{code}" in route:
            paths = [route.format(code=code) for code in fixtures.codes]
            found.append(Target(key, user_360, paths))
        else:
            found.extend(Target(key, user, [route]) for user in list_users)
    return found


def speed_probe() -> float:
    """Milliseconds for a fixed piece of pure-Python work (best of 3). On a shared machine the
    same loop has measured twice as slow at one time as at another within an hour, so a run's
    CPU per request is to be read next to it."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(3_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return best * 1000


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def new_table(db: Database, args: argparse.Namespace) -> Table:
    table = Table(
        title=(
            f"flywheel serve on {db.name}, {args.customers:,} customers — "
            f"{args.duration:g} s per cell after {args.warmup:g} s warm-up"
        ),
        caption=(
            "ms: latency of 2xx answers; CPU: % of one core during the cell "
            f"({os.cpu_count()} cores), other = the rest of the machine (other users' work); "
            "CPU ms/req: server + database CPU per answer, the cost that does not depend on "
            "the load around; db conns opened: new PostgreSQL sessions in the cell (warm-up "
            "included); a backend that ends within the cell takes its CPU out of the db column"
        ),
    )
    for column in (
        "workers",
        "target",
        "user",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "CPU server/db/client/other",
        "CPU ms/req",
        "db conns opened",
        "load1",
    ):
        table.add_column(column, justify="left" if column in ("target", "user") else "right")
    return table


def add_result(
    table: Table, workers: int, target: Target, clients: int, result: CellResult
) -> dict[str, object]:
    ordered = sorted(result.latencies_ms)
    count = len(ordered)
    p95 = percentile(ordered, 0.95)
    errors = sum(result.errors.values())
    shown_errors = (
        "0"
        if not errors
        else f"[red]{errors} ({', '.join(f'{k}×{v}' for k, v in result.errors.items())})[/]"
    )
    answered = count + sum(n for kind, n in result.errors.items() if kind.startswith("HTTP"))
    server_seconds = (result.cpu["server"] + result.cpu["db"]) / 100 * result.seconds
    cost_ms = 1000 * server_seconds / answered if answered else float("nan")
    verdict = ""
    if clients == TARGET_CLIENTS and count:
        verdict = " [green]✓[/]" if p95 < TARGET_P95_MS and not errors else " [red]✗[/]"
    table.add_row(
        str(workers),
        target.key,
        target.user,
        str(clients),
        f"{count:,}",
        f"{count / result.seconds:,.1f}",
        f"{percentile(ordered, 0.50):.1f}",
        f"{p95:.1f}{verdict}",
        f"{percentile(ordered, 0.99):.1f}",
        f"{ordered[-1]:.1f}" if ordered else "—",
        shown_errors,
        "/".join(f"{result.cpu[k]:.0f}" for k in ("server", "db", "client", "other")),
        f"{cost_ms:.1f}",
        "—" if result.db_connections is None else f"{result.db_connections:,}",
        f"{result.load1:.2f}",
    )
    return {
        "workers": workers,
        "target": target.key,
        "user": target.user,
        "clients": clients,
        "requests": count,
        "rps": count / result.seconds,
        "p50_ms": percentile(ordered, 0.50),
        "p95_ms": p95,
        "p99_ms": percentile(ordered, 0.99),
        "errors": dict(result.errors),
        "cpu": result.cpu,
        "cpu_ms_per_request": cost_ms,
        "db_connections_opened": result.db_connections,
        "load1": result.load1,
    }


def add_skipped(table: Table, workers: int, target: Target, reason: str) -> None:
    table.add_row(str(workers), target.key, target.user, "—", f"[yellow]{reason}[/]", *[""] * 10)


def bench_database(db: Database, args: argparse.Namespace, log: Path) -> list[dict[str, object]]:
    fixtures = make_fixtures(
        db.url, users=sorted({*args.list_users, args.user_360}), seed=args.seed, sample=args.codes
    )
    table = new_table(db, args)
    rows: list[dict[str, object]] = []
    log.write_bytes(b"")  # this run's server log only (every request writes an access line)
    try:
        for workers in args.workers:
            with running_server(db.url, workers, log) as (pid, port):
                for target in targets(fixtures, args.targets, args.list_users, args.user_360):
                    token = fixtures.tokens[target.user]
                    requests = [encode_get(p, port, token, html=target.html) for p in target.paths]
                    status, content_type = probe(port, requests[0])
                    if status == 404:
                        add_skipped(table, workers, target, "route missing (404)")
                        continue
                    if not 200 <= status < 300:
                        add_skipped(table, workers, target, f"probe answered HTTP {status}")
                        continue
                    if target.html and not content_type.startswith("text/html"):
                        add_skipped(table, workers, target, f"not HTML ({content_type})")
                        continue
                    for clients in args.clients:
                        console.print(
                            f"  {db.name} · {workers} worker(s) · {target.key} · {target.user} "
                            f"· {clients} client(s) …",
                            highlight=False,
                        )
                        before = pg_sessions(db.url, db.pg_database) if db.pg_database else 0
                        result = run_cell(
                            port,
                            pid,
                            requests,
                            clients,
                            warmup=args.warmup,
                            duration=args.duration,
                            database=db.pg_database,
                        )
                        if db.pg_database:
                            # Less one: the session that counts them.
                            opened = pg_sessions(db.url, db.pg_database) - before - 1
                            result.db_connections = max(0, opened)
                        rows.append(
                            {
                                "database": db.name,
                                **add_result(table, workers, target, clients, result),
                            }
                        )
                    table.add_section()
    finally:
        revoke_tokens(db.url, fixtures.token_ids)
    console.print(table)
    for key in args.targets:
        console.print(f"  {key:<10} GET {ROUTES[key]}", highlight=False)
    totals = ", ".join(f"{user} {n:,}" for user, n in fixtures.list_totals.items())
    console.print(
        f"  standard-tier accounts each user sees: {totals} (page {PAGE} shows rows "
        f"{(PAGE - 1) * 50 + 1:,}–{PAGE * 50:,}); {{code}}: {len(fixtures.codes):,} random "
        f"accounts (seed {args.seed}), manager's view",
        highlight=False,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7, help="demo seed and the 360 codes' seed")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5, TARGET_CLIENTS])
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per cell")
    parser.add_argument("--warmup", type=float, default=3.0, help="uncounted seconds per cell")
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=list(ROUTES),
        default=list(ROUTES),
    )
    parser.add_argument("--list-users", nargs="+", default=["manager", "sales"])
    parser.add_argument("--user-360", default="manager")
    parser.add_argument("--codes", type=int, default=1000, help="random accounts for the 360")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the built databases and reuse them"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "flywheel-bench-web"
    )
    parser.add_argument("--pg-url", default=os.environ.get("FLYWHEEL_TEST_DATABASE_URL"))
    parser.add_argument("--pg-database", default="flywheel_bench_web")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json-out", type=Path, help="also write every cell as JSON here")
    args = parser.parse_args()

    spec = DemoSpec(args.customers, args.years, args.seed, args.as_of)
    console.print(
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, load at start {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
        "load generator: asyncio HTTP/1.1 keep-alive (this process); "
        f"speed probe {speed_probe():.0f} ms (3,000,000 additions, best of 3)",
        highlight=False,
    )
    log_dir = (
        args.cache_dir if args.reuse else Path(tempfile.mkdtemp(prefix="flywheel-bench-web-log-"))
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    plans: list[tuple[str, object]] = []
    if not args.no_sqlite:
        plans.append(("sqlite", None))
    if args.pg_url:
        plans.append(("postgres", args.pg_url))
    for kind, pg_url in plans:
        if kind == "sqlite":
            db = prepare_sqlite(spec, reuse=args.reuse, cache_dir=args.cache_dir)
        else:
            assert isinstance(pg_url, str)
            db = prepare_postgres(pg_url, args.pg_database, spec, reuse=args.reuse)
        try:
            if db.build_seconds is not None:
                console.print(f"{db.name}: demo built in {db.build_seconds:.0f} s")
            rows.extend(bench_database(db, args, log_dir / f"serve-{kind}.log"))
        finally:
            clean_up(db)
    console.print(
        f"load at end {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
        f"speed probe {speed_probe():.0f} ms; "
        f"target: p95 < {TARGET_P95_MS:.0f} ms at {TARGET_CLIENTS} clients (✓/✗ in the p95 column)",
        highlight=False,
    )
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2))
    if not args.reuse:
        shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
