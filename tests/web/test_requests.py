"""Request ids (generated, kept or replaced, visible to the code) and the JSON access log line."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from flywheel.web.logging import current_request_id

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def echo_client(app: FastAPI) -> TestClient:
    router = APIRouter()

    @router.get("/test/request-id")
    def request_id_seen_by_code() -> dict[str, str | None]:
        return {"request_id": current_request_id()}

    app.include_router(router)
    return TestClient(app)


def test_request_id_generated_and_echoed(echo_client: TestClient) -> None:
    response = echo_client.get("/test/request-id")

    request_id = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    assert response.json() == {"request_id": request_id}


def test_each_request_gets_its_own_id(echo_client: TestClient) -> None:
    first = echo_client.get("/healthz").headers["X-Request-ID"]
    second = echo_client.get("/healthz").headers["X-Request-ID"]

    assert first != second


def test_valid_incoming_request_id_kept(echo_client: TestClient) -> None:
    incoming = "lb-2026.07.01_abc-" + "x" * 46  # 64 characters, all allowed

    response = echo_client.get("/test/request-id", headers={"X-Request-ID": incoming})

    assert response.headers["X-Request-ID"] == incoming
    assert response.json() == {"request_id": incoming}


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "has space", "semi;colon", "\u8ba2\u5355-1", ""],
    ids=["too-long", "space", "semicolon", "non-ascii", "empty"],
)
def test_invalid_incoming_request_id_replaced(echo_client: TestClient, incoming: str) -> None:
    response = echo_client.get("/test/request-id", headers={"X-Request-ID": incoming.encode()})

    request_id = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    assert response.json() == {"request_id": request_id}


def test_no_request_id_outside_a_request() -> None:
    assert current_request_id() is None


def stderr_entries(captured: str, logger: str) -> list[dict[str, Any]]:
    """The JSON lines our handler wrote to stderr for ``logger`` (every line must parse)."""
    entries = [json.loads(line) for line in captured.splitlines() if line.strip()]
    return [entry for entry in entries if entry["logger"] == logger]


def test_access_log_line_is_json_with_request_id(
    echo_client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    response = echo_client.get("/healthz?probe=1", headers={"X-Request-ID": "req-42"})

    [entry] = stderr_entries(capsys.readouterr().err, "flywheel.web.access")
    assert set(entry) == {
        "ts",
        "level",
        "logger",
        "msg",
        "request_id",
        "pid",
        "method",
        "path",
        "status",
        "duration_ms",
        "client",
    }
    assert entry["request_id"] == response.headers["X-Request-ID"] == "req-42"
    assert entry["level"] == "INFO"
    assert entry["msg"] == "GET /healthz 200"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/healthz", 200)
    assert entry["client"] == "testclient"
    assert isinstance(entry["duration_ms"], float)
    assert datetime.fromisoformat(entry["ts"]).utcoffset() == timedelta(0)


def test_access_log_record_reaches_pytest_capture(
    echo_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="flywheel.web.access"):
        echo_client.get("/healthz")

    assert [r.getMessage() for r in caplog.records if r.name == "flywheel.web.access"] == [
        "GET /healthz 200"
    ]


def test_log_lines_inside_a_request_carry_its_id(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    router = APIRouter()

    @router.get("/test/logs")
    def logs_something() -> dict[str, bool]:
        logging.getLogger("flywheel.test").info("收到 %s", "订单", extra={"order": 7})
        return {"logged": True}

    app.include_router(router)
    capsys.readouterr()

    TestClient(app).get("/test/logs", headers={"X-Request-ID": "req-7"})

    [entry] = stderr_entries(capsys.readouterr().err, "flywheel.test")
    assert entry["msg"] == "收到 订单"
    assert entry["request_id"] == "req-7"
    assert entry["order"] == 7
