"""CSV and XLSX files: streamed rows of text with spreadsheet row numbers, and writing them."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from flywheel.kit.parse import clean_text

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Table",
    "detect_encoding",
    "open_table",
    "write_csv",
    "write_xlsx",
]

TableFormat = Literal["csv", "xlsx"]
NumberedRow = tuple[int, list[str | None]]

SUPPORTED_EXTENSIONS: dict[str, TableFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
SAMPLE_SIZE = 1 << 20  # bytes looked at to choose the encoding and the delimiter
_CHUNK_SIZE = 1 << 20
_DELIMITERS = (",", "\t", ";", "|")  # on a tie the earlier one wins
_QUOTED = re.compile(r'"[^"]*"')
# A cell quoted because it holds a tab or a line break: what a quoting TSV writer (Excel) makes.
_QUOTED_TAB_CELL = re.compile(r'(?:^|\t)"(?:[^"]|"")*[\t\n](?:[^"]|"")*"(?:\t|\r?\n|$)', re.M)
_NON_ASCII = re.compile(rb"[\x80-\xff]")


# ------------------------------------------------------------------------------------ encoding


def _decodes(sample: bytes, encoding: str, *, complete: bool) -> bool:
    # An incremental decoder with final=False keeps a multibyte character cut off by the end of
    # the sample pending instead of failing on it; only a complete file must decode to the end.
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _encoding_of_sample(sample: bytes, *, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise ValueError(
            "the file contains NUL bytes, so it is not a text table: it may be a binary file "
            "(an Excel workbook renamed to .csv?) or UTF-16 without a byte order mark; "
            "save it as 'CSV UTF-8'"
        )
    if _decodes(sample, "utf-8", complete=complete):
        return "utf-8"
    # GB18030 is a superset of GBK and GB2312, what Chinese Windows Excel writes as "CSV".
    if _decodes(sample, "gb18030", complete=complete):
        return "gb18030"
    raise ValueError(
        "cannot tell the text encoding: the file is neither UTF-8, GBK/GB18030 nor UTF-16; "
        "save it as 'CSV UTF-8'"
    )


def detect_encoding(raw: bytes) -> str:
    """The encoding of the text in ``raw``, decided on its first ``SAMPLE_SIZE`` bytes.

    A UTF-8 byte order mark gives "utf-8-sig" and a UTF-16 one "utf-16"; otherwise "utf-8" if
    the sample is valid UTF-8, else "gb18030" (covers GBK and GB2312) if it is valid GB18030.
    A multibyte character cut by the end of the sample does not count against an encoding.
    Raises ``ValueError`` for NUL bytes without a BOM or when no encoding fits.
    """
    return _encoding_of_sample(raw[:SAMPLE_SIZE], complete=len(raw) <= SAMPLE_SIZE)


def _detect_file_encoding(handle: io.BufferedReader, sample: bytes) -> str:
    """Like :func:`detect_encoding`, but a large file whose sample is pure ASCII is searched on
    for its first non-ASCII byte, because an ASCII head says nothing about UTF-8 versus GBK."""
    if len(sample) < SAMPLE_SIZE or not sample.isascii():
        return _encoding_of_sample(sample, complete=len(sample) < SAMPLE_SIZE)
    while chunk := handle.read(_CHUNK_SIZE):
        found = _NON_ASCII.search(chunk)
        if found:
            # Everything before is ASCII, so this byte starts a character in UTF-8 and GB18030.
            window = chunk[found.start() :] + handle.read(_CHUNK_SIZE)
            return _encoding_of_sample(window, complete=False)
    return "utf-8"


# ------------------------------------------------------------------------------------- tables


class Table:
    """An open table file: its header and a one-pass stream of numbered data rows.

    ``rows()`` yields ``(row_number, values)``. ``row_number`` is the row a spreadsheet shows:
    the header is the first non-blank row (``header_row_number``, usually 1, so the first data
    row is 2); blank rows are skipped but still counted, and a CSV record with a quoted line
    break counts as one row, as in Excel. ``values`` holds one entry per header, ``None`` for
    an empty cell; a row with more non-empty cells than there are headers keeps the extras at
    the end (``len(values) > len(headers)``) so the caller can report them; empty extras are
    dropped. Headers are cleaned with :func:`~flywheel.kit.parse.clean_text`; a column with
    no header is kept as "" and trailing empty header cells are dropped.

    ``total_rows_hint`` estimates how many rows follow the header (blank ones included), for a
    progress bar; ``None`` when unknown.
    """

    def __init__(
        self,
        *,
        path: Path,
        format: TableFormat,
        headers: list[str],
        header_row_number: int,
        encoding: str | None,
        delimiter: str | None,
        rows: Iterator[NumberedRow],
        count_rows: Callable[[], int | None],
        close: Callable[[], None],
    ) -> None:
        self.path = path
        self.format = format
        self.headers = headers
        self.header_row_number = header_row_number
        self.encoding = encoding
        self.delimiter = delimiter
        self._rows = rows
        self._count_rows = count_rows
        self._close = close
        self._rows_taken = False
        self._total_rows_hint: int | None = None
        self._hint_known = False

    @property
    def total_rows_hint(self) -> int | None:
        if not self._hint_known:
            self._total_rows_hint = self._count_rows()
            self._hint_known = True
        return self._total_rows_hint

    def rows(self) -> Iterator[NumberedRow]:
        """The data rows, read from the file as they are consumed; available once per table."""
        if self._rows_taken:
            raise RuntimeError("rows() streams the file and can be called only once per table")
        self._rows_taken = True
        return self._rows

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Table(path={self.path!r}, format={self.format!r}, encoding={self.encoding!r}, "
            f"delimiter={self.delimiter!r}, headers={self.headers!r})"
        )


def open_table(path: Path, *, sheet: str | None = None) -> Table:
    """Open a .csv/.tsv/.txt or .xlsx/.xlsm file for streaming; use it as a context manager.

    CSV: encoding from :func:`detect_encoding`, delimiter sniffed among , TAB ; | from the
    header line. XLSX: the first worksheet unless ``sheet`` names one; cell values come as text
    the ``flywheel.kit.parse`` functions read (dates as ISO ``YYYY-MM-DD``, numbers without
    exponent or float noise, booleans as "true"/"false"). ``sheet`` is ignored for CSV.
    Raises ``ValueError`` for an unsupported extension, an empty file, a file without a header
    row, duplicate column names, or text in no supported encoding.
    """
    path = Path(path)
    kind = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        supported = " ".join(SUPPORTED_EXTENSIONS)
        hint = " (save old .xls workbooks as .xlsx)" if path.suffix.lower() == ".xls" else ""
        raise ValueError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}{hint}; "
            f"supported: {supported}"
        )
    if kind == "xlsx":
        return _open_xlsx(path, sheet)
    return _open_csv(path)


def _checked_headers(where: str, cells: Sequence[str | None]) -> list[str]:
    headers = [clean_text(cell) or "" for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    columns_by_name: dict[str, list[int]] = {}
    for index, name in enumerate(headers, start=1):
        if name:
            columns_by_name.setdefault(name, []).append(index)
    duplicates = [
        f"{name!r} (columns {', '.join(get_column_letter(column) for column in columns)})"
        for name, columns in columns_by_name.items()
        if len(columns) > 1
    ]
    if duplicates:
        raise ValueError(
            f"{where}: the header row names a column more than once: {'; '.join(duplicates)}; "
            "rename or remove the extra columns"
        )
    return headers


def _fit_to_width(values: list[str | None], width: int) -> list[str | None]:
    count = len(values)
    if count < width:
        values.extend([None] * (width - count))
    elif count > width:
        while count > width and values[-1] is None:
            values.pop()
            count -= 1
    return values


# ---------------------------------------------------------------------------------------- CSV


def _sniff_delimiter(sample_text: str, default: str) -> str:
    for line in sample_text.splitlines():
        if line.strip(" \t,;|\"'"):
            unquoted = _QUOTED.sub("", line)
            counts = {delimiter: unquoted.count(delimiter) for delimiter in _DELIMITERS}
            best = max(_DELIMITERS, key=counts.__getitem__)
            return best if counts[best] else default
    return default


def _count_lines(path: Path, newline: bytes) -> int:
    lines = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_SIZE):
            lines += chunk.count(newline)
            last = chunk
    if last and not last.endswith(newline):
        lines += 1
    return lines


def _open_csv(path: Path) -> Table:
    handle = path.open("rb")
    try:
        sample = handle.read(SAMPLE_SIZE)
        if not sample or sample in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise ValueError(f"{path.name} is empty")
        try:
            encoding = _detect_file_encoding(handle, sample)
        except ValueError as exc:
            raise ValueError(f"{path.name}: {exc}") from None
        complete = len(sample) < SAMPLE_SIZE
        sample_text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(
            sample, final=complete
        )
        default = "\t" if path.suffix.lower() == ".tsv" else ","
        delimiter = _sniff_delimiter(sample_text, default)

        handle.seek(0)
        # newline="" hands line endings to the csv module, which understands quoted newlines.
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        # Tab-separated text is usually written without quoting (a cell may start with a
        # quotation mark, e.g. a quoted phrase in a comment); only a file that quotes cells
        # holding tabs or line breaks is read with quotes.
        if delimiter == "\t" and not _QUOTED_TAB_CELL.search(sample_text):
            reader = csv.reader(text, delimiter=delimiter, quoting=csv.QUOTE_NONE)
        else:
            reader = csv.reader(text, delimiter=delimiter)
        header_row_number = 0
        header_cells: list[str] = []
        try:
            for row_number, record in enumerate(reader, start=1):
                if any(record):
                    header_row_number, header_cells = row_number, record
                    break
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ValueError(f"{path.name}: cannot read the header row: {exc}") from None
        if not header_cells:
            raise ValueError(f"{path.name} has no header row: every line is blank")
        headers = _checked_headers(path.name, header_cells)
    except BaseException:
        handle.close()
        raise

    newline = b"\n"
    if encoding == "utf-16":
        newline = b"\n\x00" if sample.startswith(codecs.BOM_UTF16_LE) else b"\x00\n"

    def count_rows() -> int:
        return max(_count_lines(path, newline) - header_row_number, 0)

    return Table(
        path=path,
        format="csv",
        headers=headers,
        header_row_number=header_row_number,
        encoding=encoding,
        delimiter=delimiter,
        rows=_csv_rows(reader, path.name, encoding, header_row_number, len(headers)),
        count_rows=count_rows,
        close=text.close,
    )


def _csv_rows(
    reader: Iterator[list[str]], name: str, encoding: str, header_row_number: int, width: int
) -> Iterator[NumberedRow]:
    # The hot loop of every import: one list per row and nothing else that can be avoided.
    row_number = header_row_number
    try:
        for row_number, record in enumerate(reader, start=header_row_number + 1):
            if not any(record):
                continue
            values: list[str | None] = [cell or None for cell in record]
            if len(values) != width:
                _fit_to_width(values, width)
            yield row_number, values
    except UnicodeDecodeError:
        raise ValueError(
            f"{name}: the text after row {row_number} is not valid {encoding} although the "
            "start of the file is; save the whole file as 'CSV UTF-8'"
        ) from None
    except csv.Error as exc:
        raise ValueError(f"{name}: row {row_number + 1} cannot be read: {exc}") from None


# --------------------------------------------------------------------------------------- XLSX


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    # Excel itself keeps 15 significant digits; the rest of a double is binary noise
    # (0.1 + 0.2 is stored as 0.30000000000000004 and shown as 0.3).
    return format(Decimal(format(value, ".15g")), "f")


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError:
        raise
    except Exception as exc:
        # openpyxl reports a damaged or mislabelled file through many exception types.
        raise ValueError(
            f"{path.name} cannot be opened as an Excel workbook ({type(exc).__name__}: {exc}); "
            "is it really an .xlsx file?"
        ) from None
    try:
        if sheet is None:
            if not workbook.worksheets:
                raise ValueError(f"{path.name} has no worksheets")
            worksheet = workbook.worksheets[0]
        else:
            names = [each.title for each in workbook.worksheets]
            if sheet not in names:
                raise ValueError(
                    f"{path.name} has no worksheet named {sheet!r}; its worksheets are: "
                    + ", ".join(repr(name) for name in names)
                )
            worksheet = workbook[sheet]
        where = f"{path.name} (sheet {worksheet.title!r})"
        declared_rows: int | None = worksheet.max_row
        # Some generators write a wrong <dimension>; openpyxl would then cut rows and columns.
        worksheet.reset_dimensions()
        records: Iterator[tuple[Any, ...]] = worksheet.iter_rows(values_only=True)

        header_row_number = 0
        header_cells: list[str | None] = []
        for row_number, record in enumerate(records, start=1):
            cells = [_cell_text(value) for value in record]
            if any(cells):
                header_row_number, header_cells = row_number, cells
                break
        if not header_cells:
            raise ValueError(f"{where} is empty: no header row")
        headers = _checked_headers(where, header_cells)
    except BaseException:
        workbook.close()
        raise

    def count_rows() -> int | None:
        if declared_rows is None:
            return None
        return max(declared_rows - header_row_number, 0)

    return Table(
        path=path,
        format="xlsx",
        headers=headers,
        header_row_number=header_row_number,
        encoding=None,
        delimiter=None,
        rows=_xlsx_rows(records, header_row_number, len(headers)),
        count_rows=count_rows,
        close=workbook.close,
    )


def _xlsx_rows(
    records: Iterator[tuple[Any, ...]], header_row_number: int, width: int
) -> Iterator[NumberedRow]:
    for row_number, record in enumerate(records, start=header_row_number + 1):
        values = [_cell_text(value) for value in record]
        if not any(values):
            continue
        yield row_number, _fit_to_width(values, width)


# ------------------------------------------------------------------------------------ writing

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)", re.ASCII)


def _csv_cell(value: object, escape_formulas: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # Excel runs a cell that starts with = + - @ as a formula: text a customer typed must
        # not become one (CSV injection). Numbers like "-1,234.50" stay as they are.
        if (
            escape_formulas
            and value.startswith(_FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value)
        ):
            return "'" + value
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def write_csv(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    escape_formulas: bool = True,
) -> int:
    """Write a CSV in UTF-8 with a byte order mark, which Excel on Chinese Windows needs to
    show Chinese text instead of mojibake; returns the number of data rows written.

    ``None`` is written as an empty cell, Decimals without exponent, dates as ISO. With
    ``escape_formulas`` text starting with = + - @ (other than a plain number) gets a leading
    apostrophe so that Excel shows it instead of running it.
    """
    written = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([_csv_cell(name, escape_formulas) for name in headers])
        for row in rows:
            writer.writerow([_csv_cell(value, escape_formulas) for value in row])
            written += 1
    return written


def _xlsx_cell(sheet: Any, value: object) -> object:
    if isinstance(value, str):
        # Control characters cannot be stored in the XML of a workbook.
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if text.startswith("="):
            # openpyxl would write it as a formula; keep text a customer typed as text.
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type = "s"
            return cell
        return text
    if isinstance(value, datetime | time) and value.tzinfo is not None:
        raise ValueError(
            f"{value!r}: Excel cells have no time zone; convert to local time and drop tzinfo"
        )
    return value


def write_xlsx(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    sheet_title: str = "Sheet1",
) -> int:
    """Write a one-sheet workbook in openpyxl's streaming mode: a bold, frozen header row, then
    the rows; returns the number of data rows written. Numbers, Decimals and dates are stored
    as real Excel values; text starting with "=" is stored as text, never as a formula.
    Datetimes must be naive (Excel has no time zones).
    """
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for name in headers:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", name))
        cell.data_type = "s"
        cell.font = bold
        header_cells.append(cell)
    written = 0
    try:
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
            written += 1
    except BaseException:
        # Finish and delete openpyxl's half-written temporary sheet now; left to the garbage
        # collector it writes into an already closed file.
        with contextlib.suppress(Exception):
            sheet.close()
            sheet._writer.cleanup()
        raise
    workbook.save(Path(path))
    return written
