"""Column-oriented tables that the demo generator fills and the bulk writer turns into rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Variable-width numpy strings: compact for millions of short texts and vectorised by np.strings.
TEXT = np.dtypes.StringDType()
NULLABLE_TEXT = np.dtypes.StringDType(na_object=None)

Int64Array = NDArray[np.int64]
Float64Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
DateArray = NDArray[np.datetime64]
TextArray = NDArray[Any]


@dataclass(frozen=True, slots=True)
class Ints:
    """Integer column; with ``nullable`` every negative value stands for NULL."""

    values: Int64Array
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class Cents:
    """Money as exact integer cents."""

    values: Int64Array


@dataclass(frozen=True, slots=True)
class Dates:
    """Business dates as ``datetime64[D]``; NaT stands for NULL."""

    values: DateArray


@dataclass(frozen=True, slots=True)
class Stamps:
    """UTC timestamps as ``datetime64[us]``."""

    values: DateArray


@dataclass(frozen=True, slots=True)
class Texts:
    """Strings (``StringDType``; the nullable flavour uses None for NULL)."""

    values: TextArray


@dataclass(frozen=True, slots=True)
class Floats:
    values: Float64Array


@dataclass(frozen=True, slots=True)
class Bools:
    values: BoolArray


@dataclass(frozen=True, slots=True)
class Codes:
    """Document numbers like ``INV-00000042``, formatted only when written to save memory.

    A negative number stands for NULL.
    """

    prefix: str
    width: int
    numbers: Int64Array

    def format(self, start: int, stop: int) -> list[str | None]:
        numbers = self.numbers[start:stop]
        texts = np.strings.add(self.prefix, digits(np.maximum(numbers, 0), self.width))
        if (numbers < 0).any():
            nullable = texts.astype(NULLABLE_TEXT)
            nullable[numbers < 0] = None
            values: list[str | None] = nullable.tolist()
            return values
        plain: list[str | None] = texts.tolist()
        return plain


Column = Ints | Cents | Dates | Stamps | Texts | Floats | Bools | Codes


def column_length(column: Column) -> int:
    if isinstance(column, Codes):
        return len(column.numbers)
    return len(column.values)


@dataclass(slots=True)
class Table:
    """One database table as named columns of equal length, in the order they are written."""

    name: str
    columns: dict[str, Column] = field(default_factory=dict)

    def __len__(self) -> int:
        if not self.columns:
            return 0
        return column_length(next(iter(self.columns.values())))

    def check(self) -> None:
        lengths = {name: column_length(col) for name, col in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"table {self.name}: columns of unequal length {lengths}")

    def __iter__(self) -> Iterator[tuple[str, Column]]:
        return iter(self.columns.items())


@dataclass(slots=True)
class DemoCompany:
    """Everything the generator made, table by table in foreign-key order."""

    seed: int
    as_of: np.datetime64
    period_start: np.datetime64
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, table: Table) -> None:
        table.check()
        self.tables[table.name] = table

    def counts(self) -> dict[str, int]:
        return {name: len(table) for name, table in self.tables.items()}


def digits(values: Int64Array, width: int) -> TextArray:
    """Non-negative integers as zero-padded decimal strings, vectorised."""
    return np.strings.zfill(values.astype(TEXT), width)


def join(*parts: TextArray | str) -> TextArray:
    """Element-wise concatenation of string arrays and constants."""
    result: TextArray | str = parts[0]
    for part in parts[1:]:
        result = np.strings.add(result, part)
    if isinstance(result, str):
        return np.array([result], dtype=TEXT)
    return result


def texts(values: Sequence[str] | TextArray) -> TextArray:
    """A ``StringDType`` array (typed loosely: numpy's stubs do not cover ``np.strings`` on it)."""
    return np.asarray(values, dtype=TEXT)


def empty_texts(n: int) -> TextArray:
    return np.empty(n, dtype=TEXT)
