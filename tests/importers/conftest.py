"""Helpers for import tests: write real files and import them through the service."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.importers.runner import ImportResult
from flywheel.importers.service import import_file

TODAY = date(2026, 6, 30)
IMPORTER = Actor.system("import:test")

ImportFn = Callable[..., ImportResult]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def run_import(session: Session) -> ImportFn:
    def run(entity: str, path: Path, **options: object) -> ImportResult:
        return import_file(
            session, entity=entity, path=path, actor=IMPORTER, today=TODAY, **options
        )  # type: ignore[arg-type]

    return run
