"""``flywheel serve --workers N`` on Linux: N server processes, each listening on a socket of
its own in one ``SO_REUSEPORT`` group.

With uvicorn's own multi-process mode every worker accepts from one shared socket, and the
worker that wakes first takes every connection waiting: a burst of keep-alive clients (a page
of browser tabs, a load test, a proxy's pool) can land on one process while the other idles,
and stays there for the connections' lifetime. With a socket per worker the kernel hands each
new connection to one of the sockets by its address, so connections spread over the workers
however they arrive.

The kernel picks a socket by hashing the connection's addresses, so a handful of keep-alive
clients can still split unevenly: 20 clients on 2 workers measured 12 and 8, and the clients
of the busier worker waited half as long again as the others'. So the workers also balance
their connections (``ConnectionBalance``): each publishes how many it holds, and a worker
holding more than its share asks a client to reconnect (``Connection: close`` on a response,
which every HTTP client honours); the new connection lands where the kernel's hash puts it,
and after a few such moves every worker holds its share. Idle browsers lose nothing: they
open a connection again on their next click.

The supervisor here starts the workers, starts again one that dies, and stops them all on
SIGINT or SIGTERM (each worker finishes its requests in flight, as uvicorn does). Other
systems keep uvicorn's shared socket (``supports_reuse_port()`` is False there).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from multiprocessing.process import BaseProcess
from typing import Any

from flywheel.web.admission import ASGIApp, Message, Receive, Send

log = logging.getLogger("flywheel.web.workers")

# uvicorn's exit code when a worker could not start (its app or its socket failed): starting it
# again would fail again, so the server stops.
STARTUP_FAILURE = 3
# A worker that dies sooner than this after its start is failing, not crashing now and then.
_EARLY_DEATH_S = 5.0
_GRACE_S = 30.0


def supports_reuse_port() -> bool:
    """Linux spreads connections over the sockets of a ``SO_REUSEPORT`` group; BSD and macOS
    accept the option but give every connection to one socket."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A bound TCP socket for ``host``:``port`` (IPv6 when the host has a colon); the server
    calls ``listen()`` on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def check_port_free(host: str, port: int) -> None:
    """Raises OSError (e.g. "Address already in use") when another program listens there. A
    plain socket is refused even by a ``SO_REUSEPORT`` group, so a server already running is
    never silently joined."""
    listening_socket(host, port, reuse_port=False).close()


class ConnectionBalance:
    """One worker's side of the balance: ``counts`` is shared by every worker (one slot each,
    written only by its owner), ``connections`` the worker's open connections."""

    def __init__(self, counts: Sequence[int], index: int, connections: Collection[object]) -> None:
        self.counts = counts
        self.index = index
        self.connections = connections
        self.closing = 0  # answers sent or being sent with "Connection: close"

    def shed(self) -> bool:
        """Whether the answer being started should close its connection: this worker holds
        more than its share (the total over the workers, rounded up). Connections already
        closing are not this worker's any more, but still part of the total: their clients
        come back, to one worker or another."""
        mine = len(self.connections) - self.closing
        counts = self.counts
        counts[self.index] = mine  # type: ignore[index]
        share = -(-(sum(counts) + self.closing) // len(counts))
        if mine > share:
            self.closing += 1
            return True
        return False

    def closed(self) -> None:
        self.closing = max(0, self.closing - 1)


class BalancingMiddleware:
    """Adds ``Connection: close`` to an answer when ``balance`` says this worker holds more
    than its share of the connections."""

    def __init__(self, app: ASGIApp, balance: ConnectionBalance) -> None:
        self.app = app
        self.balance = balance

    async def __call__(
        self,
        scope: Message,
        receive: Receive,
        send: Send,
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        balance = self.balance
        shedding = False

        async def send_balanced(message: Message) -> None:
            nonlocal shedding
            if message["type"] == "http.response.start" and balance.shed():
                shedding = True
                headers = list(message.get("headers", ()))
                headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            try:
                await send(message)
            finally:
                if (
                    shedding
                    and message["type"] == "http.response.body"
                    and not message.get("more_body", False)
                ):
                    shedding = False
                    balance.closed()

        try:
            await self.app(scope, receive, send_balanced)
        finally:
            if shedding:  # the answer never finished
                balance.closed()


def _run_worker(
    options: Mapping[str, Any], host: str, port: int, counts: Sequence[int], index: int
) -> None:
    """One worker process (spawned): uvicorn on a socket of its own, balancing its
    connections with the others through ``counts``."""
    import uvicorn

    config = uvicorn.Config(**options, host=host, port=port, workers=1)
    try:
        sock = listening_socket(host, port, reuse_port=True)
    except OSError as exc:
        log.error("worker could not listen on %s:%s: %s", host, port, exc)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(config)
    config.load()  # the server does not load it again
    balance = ConnectionBalance(counts, index, server.server_state.connections)
    config.loaded_app = BalancingMiddleware(config.loaded_app, balance)
    server.run(sockets=[sock])


class Supervisor:
    """Keeps ``count`` workers running until told to stop."""

    def __init__(self, options: Mapping[str, Any], host: str, port: int, count: int) -> None:
        self.options = dict(options)
        self.host = host
        self.port = port
        self.count = count
        self.stopping = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        # Each worker's open connections, shared without a lock: one writer per slot.
        self._counts = self._context.RawArray("i", count)
        self._workers: list[tuple[BaseProcess, float]] = []

    def _start(self, index: int) -> tuple[BaseProcess, float]:
        self._counts[index] = 0
        process = self._context.Process(
            target=_run_worker,
            args=(self.options, self.host, self.port, self._counts, index),
            daemon=False,
        )
        process.start()
        log.info("started worker %s", process.pid)
        return process, time.monotonic()

    def run(self) -> int:
        """Run until SIGINT or SIGTERM (0), or until a worker cannot start (its exit code)."""
        previous = {
            sig: signal.signal(sig, lambda *_args: self.stopping.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        status = 0
        try:
            self._workers = [self._start(index) for index in range(self.count)]
            while not self.stopping.wait(0.5):
                status = self._replace_dead()
                if status:
                    break
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _replace_dead(self) -> int:
        for index, (process, started) in enumerate(self._workers):
            if process.is_alive():
                continue
            code = process.exitcode or 0
            if code == STARTUP_FAILURE or time.monotonic() - started < _EARLY_DEATH_S:
                log.error("worker %s could not start (exit code %s); stopping", process.pid, code)
                return code or STARTUP_FAILURE
            log.warning("worker %s ended (exit code %s); starting another", process.pid, code)
            self._workers[index] = self._start(index)
        return 0

    def _stop_all(self) -> None:
        for process, _started in self._workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + _GRACE_S
        for process, _started in self._workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
