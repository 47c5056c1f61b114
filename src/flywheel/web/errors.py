"""Every error leaves the API as ``{"error": {"code", "message", "details"}}``; handlers live here."""

from __future__ import annotations

import html
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from flywheel.errors import FlywheelError, http_status_for

logger = logging.getLogger(__name__)

# Codes for the HTTP errors the framework raises itself (unknown path, wrong method …).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
# Shown in the message; a longer list is still complete in ``details``.
_MESSAGE_PROBLEMS = 3


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def internal_error_response(request_id: str | None) -> JSONResponse:
    """The 500 answer: the request id to quote, never the traceback (that goes to the log)."""
    return error_response(
        500,
        "internal_error",
        "an unexpected error occurred; the server log has the details under this request id",
        {"request_id": request_id},
    )


# Paths that answer JSON; every other path is a page and gets its errors as a page.
_JSON_PREFIXES = ("/api/", "/static/", "/openapi.json", "/healthz")


def is_page_path(path: str) -> bool:
    return not path.startswith(_JSON_PREFIXES)


def is_page(request: Request) -> bool:
    return is_page_path(request.url.path)


# The page for an unexpected error: no template, no database, both languages, so it shows even
# when whatever broke is what pages need.
_INTERNAL_ERROR_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>500 · Flywheel</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main class="page"><section class="error-page">
<h1>出错了 · Something went wrong</h1>
<p>服务器日志中记录了详细信息，请向管理员提供此请求编号：<br>
The server log has the details; give the administrator this request id:</p>
<p><code>{request_id}</code></p>
<p><a href="/">首页 · Home</a></p>
</section></main></body></html>
"""


def internal_error_page(request_id: str | None) -> HTMLResponse:
    body = _INTERNAL_ERROR_PAGE.format(request_id=html.escape(request_id or "-"))
    return HTMLResponse(body, status_code=500)


def page_error(
    request: Request, status_code: int, code: str, message: str, details: dict[str, Any]
) -> Response:
    """The error as a page in the user's language; a missing sign-in sends him to sign in
    (HTMX requests are told to go there with ``HX-Redirect``)."""
    from flywheel.auth.actor import Actor
    from flywheel.web import pages

    if status_code == 401:
        target = pages.sign_in_url(request) if request.method == "GET" else "/sign-in"
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=200, headers={"HX-Redirect": target})
        return pages.redirect(target)
    actor: Actor | None = getattr(request.state, "actor", None)
    return pages.render(
        request,
        "error.html",
        {"status": status_code, "code": code, "message": message, "details": details},
        actor=actor,
        status_code=status_code,
    )


async def flywheel_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FlywheelError)
    status_code = http_status_for(exc)
    if status_code >= 500:
        logger.warning("%s: %s", exc.code, exc.message)
    if is_page(request):
        return page_error(request, status_code, exc.code, exc.message, exc.to_dict()["details"])
    # A 401 must say how to authenticate (RFC 9110 §15.5.2).
    headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
    return JSONResponse({"error": exc.to_dict()}, status_code=status_code, headers=headers)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # The offending input is left out on purpose: it may be a password or a token.
    problems = [
        {"location": list(error["loc"]), "message": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    summary = "; ".join(
        f"{'.'.join(str(part) for part in problem['location'])}: {problem['message']}"
        for problem in problems[:_MESSAGE_PROBLEMS]
    )
    if len(problems) > _MESSAGE_PROBLEMS:
        summary += f" (and {len(problems) - _MESSAGE_PROBLEMS} more)"
    if is_page(request):
        return page_error(
            request, 422, "validation_failed", f"the request is not valid: {summary}", {}
        )
    return error_response(
        422, "validation_failed", f"the request is not valid: {summary}", {"errors": problems}
    )


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code in {204, 304}:
        # These statuses must not carry a body.
        return Response(status_code=exc.status_code, headers=headers)
    details: dict[str, Any] = {}
    if isinstance(exc.detail, str):
        message = exc.detail
    else:
        message, details = HTTPStatus(exc.status_code).phrase, {"detail": exc.detail}
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if is_page(request):
        return page_error(request, exc.status_code, code, message, {})
    return error_response(exc.status_code, code, message, details, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Domain, validation and HTTP errors. Unexpected exceptions become a 500 in the request
    middleware, which knows the request id and writes the access line."""
    app.add_exception_handler(FlywheelError, flywheel_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
