"""Request ids in a contextvar and structured log lines: one JSON object per line on stderr."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from flywheel.kit.context import bind_request_id, current_request_id, reset_request_id

__all__ = [
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "accept_request_id",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "reset_request_id",
    "uvicorn_log_config",
]

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def accept_request_id(incoming: str | None) -> str:
    """Keep a caller's id when it is safe to echo and log; otherwise make a new one."""
    if incoming and _VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of msg
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, request_id, pid (the process: a
    server has one per worker) and any ``extra`` keys."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                payload.setdefault(key, value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes to whatever ``sys.stderr`` is at the time of the record.

    Test runners swap ``sys.stderr`` per test; holding on to the first one would write to a
    closed stream later.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        # Handler.handle holds the lock around emit, so swapping the stream here is safe.
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the ``flywheel`` loggers to stderr as JSON. Safe to call again.

    Records still propagate to the root logger, so pytest's caplog sees them; the root logger
    itself is left alone.
    """
    logger = logging.getLogger("flywheel")
    if not any(isinstance(handler, StderrHandler) for handler in logger.handlers):
        logger.addHandler(StderrHandler())
    if logger.level == logging.NOTSET:
        logger.setLevel(level)


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn: its lines in JSON too, its access log off."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"()": StderrHandler}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            # We write our own access line, with the request id and the duration.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "flywheel": {"handlers": ["stderr"], "level": upper},
        },
    }
