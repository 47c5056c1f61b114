"""What the people sources and their drills share: the columns of grouped rows, and the time
between two moments computed in SQL the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def columns(rows: Sequence[Any], width: int) -> list[tuple[Any, ...]]:
    """The columns of grouped rows (``width`` empty ones when there is no row)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


class days_between(FunctionElement[int]):
    """Whole days from one date column to another (``later - earlier``)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"


@compiles(days_between)
def _days_default(element: days_between, compiler: Any, **kw: Any) -> str:
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


class hours_between(FunctionElement[float]):
    """Hours (with fractions) from one timestamp column to another (``later - earlier``)."""

    type = Float()
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


@compiles(hours_between)
def _hours_default(element: hours_between, compiler: Any, **kw: Any) -> str:
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION) / 3600.0)"
