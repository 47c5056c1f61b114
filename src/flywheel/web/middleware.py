"""The outermost request wrapper: request id, access log line, and the 500 for unexpected errors."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flywheel.kit import i18n
from flywheel.web.errors import internal_error_page, internal_error_response, is_page_path
from flywheel.web.logging import (
    REQUEST_ID_HEADER,
    accept_request_id,
    bind_request_id,
    reset_request_id,
)

logger = logging.getLogger("flywheel.web")
access_logger = logging.getLogger("flywheel.web.access")


class RequestContextMiddleware:
    """Give each HTTP request an id, answer unexpected errors with a 500 and log one access line.

    A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: the contextvar it sets
    is then seen by the endpoint, its dependencies and the threads they run in.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        token = bind_request_id(request_id)
        language_token = i18n.begin_request()
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # Handled here rather than by Starlette's ServerErrorMiddleware so the answer
            # carries the request id and the traceback is logged once, with that id.
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if response_started:
                raise
            answer = (
                internal_error_page(request_id)
                if is_page_path(scope["path"])
                else internal_error_response(request_id)
            )
            await answer(scope, receive, send_with_request_id)
        finally:
            client = scope.get("client")
            access_logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
            i18n.end_request(language_token)
            reset_request_id(token)
