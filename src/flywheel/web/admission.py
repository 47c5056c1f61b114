"""How many reading requests a server process works on at once.

A process runs its requests on threads that take turns at one interpreter lock. With twenty
keep-alive clients on two processes, each had ten requests at once: every database read gave the
lock up and waited for it again behind the other nine, so a request's time varied with how
often it lost that race (the slowest twentieth took 1.6–1.7 times as long as the median), and
the switching itself cost CPU. Admitted a few at a time, in order of arrival, a request runs
nearly alone once it is in: on the 100,000-customer demo the customer list's p95 went from
185 to 100 ms and its CPU per request from 11.6 to 7.8 ms.

Only GET and HEAD requests queue: an upload or a form post is never held up behind reads (an
import's file may take minutes to arrive), and a waiting request holds nothing (no thread, no
database connection). A request leaves the queue's count when its answer starts, so a long
download does not hold a place either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

QUEUED_METHODS = frozenset({"GET", "HEAD"})


class AdmissionMiddleware:
    """At most ``limit`` GET/HEAD requests inside ``app`` at once; the others wait first come,
    first served."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    @property
    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:  # made on first use, inside the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        return self._slots

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in QUEUED_METHODS:
            await self.app(scope, receive, send)
            return
        slots = self.slots
        await slots.acquire()
        held = True

        async def send_started(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                slots.release()
            await send(message)

        try:
            await self.app(scope, receive, send_started)
        finally:
            if held:
                slots.release()
