"""The workers' connection balance (web/workers.py), one worker's side, without a server: a
worker over its share of the connections closes them one answer at a time, never more than
it holds over its share."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flywheel.web.workers import BalancingMiddleware, ConnectionBalance


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


def answer_headers(app: BalancingMiddleware) -> list[tuple[bytes, bytes]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(app({"type": "http"}, receive, send))
    return list(sent[0]["headers"])


def test_a_worker_over_its_share_closes_one_connection_per_answer() -> None:
    counts = [0, 8]  # the other worker holds 8
    connections = set(range(12))  # this one 12: its share of 20 is 10
    balance = ConnectionBalance(counts, 0, connections)
    app = BalancingMiddleware(_ok, balance)

    first = answer_headers(app)
    assert (b"connection", b"close") in first
    assert (b"x-a", b"1") in first  # the app's own headers are kept
    assert counts == [12, 8]
    assert balance.closing == 0  # the answer is finished

    # Until the client has gone, the connection still counts as open here.
    balance.closing = 1
    assert (b"connection", b"close") in answer_headers(app)  # 11 left over a share of 10

    balance.closing = 2
    assert (b"connection", b"close") not in answer_headers(app)  # 10: its share
    assert counts == [10, 8]


def test_a_worker_at_or_under_its_share_keeps_its_connections() -> None:
    counts = [0, 11]
    balance = ConnectionBalance(counts, 0, set(range(10)))  # share of 21 is 11
    assert (b"connection", b"close") not in answer_headers(BalancingMiddleware(_ok, balance))
    assert counts == [10, 11]


def test_an_answer_that_fails_gives_its_close_back() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        raise RuntimeError("the app failed half-way")

    balance = ConnectionBalance([0, 0], 0, set(range(3)))
    app = BalancingMiddleware(broken, balance)
    with pytest.raises(RuntimeError):
        answer_headers(app)
    assert balance.closing == 0


def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def nothing(*_: Any) -> Any:
        return {}

    balance = ConnectionBalance([5, 0], 0, set())
    asyncio.run(BalancingMiddleware(app, balance)({"type": "lifespan"}, nothing, nothing))
    assert seen == ["lifespan"]
    assert balance.counts == [5, 0]  # nothing counted outside HTTP
