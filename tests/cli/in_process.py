"""Run ``flywheel …`` commands in process against the test's database: each command module's
unit of work becomes a savepoint of the test's transaction, so what a command writes is seen
by the test and rolled back with it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from flywheel.cli import app as flywheel_app  # first: it registers every domain's commands


def in_session(
    session: Session, monkeypatch: pytest.MonkeyPatch, *modules: ModuleType, prefix: list[str]
) -> Callable[..., Any]:
    """``invoke(*args)`` runs ``flywheel <prefix> <args>`` with ``modules``' unit of work in
    ``session``."""

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        savepoint = session.begin_nested()
        try:
            yield session
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    for module in modules:
        monkeypatch.setattr(module, "unit_of_work", unit_of_work)
    runner = CliRunner()
    return lambda *args: runner.invoke(flywheel_app, [*prefix, *args])


def one_json(result: Any) -> dict[str, Any]:
    """The single JSON object a ``--json`` command printed."""
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    data: dict[str, Any] = json.loads(lines[0])
    return data
