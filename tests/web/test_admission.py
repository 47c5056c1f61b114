"""web/admission.py: a server process admits a few GET requests at a time, in order of
arrival, and never holds back a request that sends a body."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flywheel.web.admission import AdmissionMiddleware


class Recorder:
    """An ASGI app whose GET answers wait until the test lets them go."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.entered: list[str] = []
        self.go = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        self.entered.append(scope["path"])
        try:
            if scope["path"] == "/fail":
                raise RuntimeError("the app failed")
            if scope["method"] == "GET":
                await self.go.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
        finally:
            self.inside -= 1
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Any, method: str, path: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    await app({"type": "http", "method": method, "path": path}, receive, send)


def test_at_most_limit_gets_inside_first_come_first_served() -> None:
    async def scenario() -> Recorder:
        inner = Recorder()
        app = AdmissionMiddleware(inner, limit=2)
        tasks = [asyncio.create_task(call(app, "GET", f"/{n}")) for n in range(6)]
        await asyncio.sleep(0.05)
        assert inner.entered == ["/0", "/1"]  # the others wait outside
        # A post is never queued behind the reads.
        await asyncio.wait_for(call(app, "POST", "/form"), timeout=1)
        inner.go.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
        return inner

    inner = asyncio.run(scenario())
    assert inner.most_inside == 3  # two reads and the post
    gets = [path for path in inner.entered if path != "/form"]
    assert gets == [f"/{n}" for n in range(6)]


def test_a_place_is_given_back_when_the_answer_starts_or_the_app_fails() -> None:
    async def scenario() -> AdmissionMiddleware:
        inner = Recorder()
        inner.go.set()
        app = AdmissionMiddleware(inner, limit=1)
        with pytest.raises(RuntimeError):
            await call(app, "GET", "/fail")
        for n in range(3):
            await asyncio.wait_for(call(app, "GET", f"/{n}"), timeout=1)
        return app

    app = asyncio.run(scenario())
    assert not app.slots.locked()  # its one place is free again


def test_lifespan_and_websockets_pass_straight_through() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def nothing(*_: Any) -> Any:
        return {}

    app = AdmissionMiddleware(inner, limit=1)
    asyncio.run(app({"type": "lifespan"}, nothing, nothing))
    asyncio.run(app({"type": "websocket", "path": "/ws"}, nothing, nothing))
    assert seen == ["lifespan", "websocket"]
    assert app._slots is None  # nothing was queued


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdmissionMiddleware(lambda *_: None, limit=0)  # type: ignore[arg-type,return-value]
