"""Reading CSV/XLSX files in every encoding and shape users send, and writing them back."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from flywheel.kit.parse import parse_amount, parse_amount_with_currency, parse_date
from flywheel.kit.tabular import (
    SAMPLE_SIZE,
    detect_encoding,
    open_table,
    write_csv,
    write_xlsx,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def read_all(path: Path, **options: str) -> tuple[list[str], list[tuple[int, list[str | None]]]]:
    with open_table(path, **options) as table:
        return table.headers, list(table.rows())


# ----------------------------------------------------------------------------- detect_encoding


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xef\xbb\xbfinvoice,amount\r\n", "utf-8-sig"),
        ("发票号,金额\n".encode(), "utf-8"),
        (b"invoice,amount\n", "utf-8"),
        ("发票号,金额\n".encode("gbk"), "gb18030"),
        ("¥,€\n".encode("gb18030"), "gb18030"),
        ("发票号\t金额\n".encode("utf-16"), "utf-16"),
        ("\ufeff发票号".encode("utf-16-be"), "utf-16"),
    ],
)
def test_detect_encoding(raw: bytes, expected: str) -> None:
    assert detect_encoding(raw) == expected


def test_detect_encoding_ignores_a_utf8_character_cut_by_the_end_of_the_sample() -> None:
    # "发" is three bytes in UTF-8; put its first byte last in the sample.
    raw = b"a" * (SAMPLE_SIZE - 1) + "发票".encode()

    assert detect_encoding(raw) == "utf-8"


def test_detect_encoding_ignores_a_gbk_character_cut_by_the_end_of_the_sample() -> None:
    raw = b"a" * (SAMPLE_SIZE - 1) + "发票".encode("gbk")

    assert detect_encoding(raw) == "gb18030"


def test_detect_encoding_refuses_a_truncated_character_at_the_real_end() -> None:
    with pytest.raises(ValueError, match="cannot tell the text encoding"):
        detect_encoding("发票".encode()[:-1] + b"\xff")


def test_detect_encoding_refuses_nul_bytes_without_a_bom() -> None:
    with pytest.raises(ValueError, match="contains NUL bytes"):
        detect_encoding(b"PK\x03\x04\x00\x00binary")


def test_detect_encoding_refuses_bytes_in_no_supported_encoding() -> None:
    with pytest.raises(ValueError, match="cannot tell the text encoding"):
        detect_encoding(b"invoice\x80\xff,amount\n")


# ---------------------------------------------------------------------------------- CSV reading


def test_reads_a_gbk_csv_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "发票.csv"
    path.write_bytes(
        '发票号,客户名称,金额（元）\r\nINV-1,上海飞轮有限公司,"￥1,234.50"\r\n'.encode("gbk")
    )

    with open_table(path) as table:
        rows = list(table.rows())

        assert table.format == "csv"
        assert table.encoding == "gb18030"
        assert table.delimiter == ","
        assert table.headers == ["发票号", "客户名称", "金额（元）"]
    assert rows == [(2, ["INV-1", "上海飞轮有限公司", "￥1,234.50"])]


def test_reads_a_utf8_csv_with_bom_without_the_bom_in_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_bytes("发票号,金额\r\nINV-1,¥3000\r\n".encode("utf-8-sig"))

    with open_table(path) as table:
        assert table.encoding == "utf-8-sig"
        assert table.headers == ["发票号", "金额"]
        assert list(table.rows()) == [(2, ["INV-1", "¥3000"])]


def test_reads_a_utf16_tab_delimited_export(tmp_path: Path) -> None:
    # Excel's "Unicode Text" export: UTF-16 little-endian with BOM, tab-delimited.
    path = tmp_path / "export.txt"
    path.write_bytes("发票号\t金额\r\nINV-1\t1234.5\r\nINV-2\t-7\r\n".encode("utf-16"))

    with open_table(path) as table:
        assert table.encoding == "utf-16"
        assert table.delimiter == "\t"
        assert table.headers == ["发票号", "金额"]
        assert list(table.rows()) == [(2, ["INV-1", "1234.5"]), (3, ["INV-2", "-7"])]
        assert table.total_rows_hint == 2


@pytest.mark.parametrize(
    ("delimiter", "suffix"),
    [(";", ".csv"), ("\t", ".tsv"), ("\t", ".csv"), ("|", ".txt"), (",", ".csv")],
)
def test_sniffs_the_delimiter_from_the_header_line(
    tmp_path: Path, delimiter: str, suffix: str
) -> None:
    path = tmp_path / f"invoices{suffix}"
    lines = [["invoice", "amount", "note"], ["INV-1", "1,234.50", "a, b; c | d"]]
    path.write_text(
        "".join(
            delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in line) + "\n"
            for line in lines
        ),
        encoding="utf-8",
    )

    with open_table(path) as table:
        assert table.delimiter == delimiter
        assert table.headers == ["invoice", "amount", "note"]
        assert list(table.rows()) == [(2, ["INV-1", "1,234.50", "a, b; c | d"])]


def test_a_single_column_file_uses_the_default_delimiter(tmp_path: Path) -> None:
    csv_path, tsv_path = tmp_path / "codes.csv", tmp_path / "codes.tsv"
    for path in (csv_path, tsv_path):
        path.write_text("customer code\nC000001\n", encoding="utf-8")

    with open_table(csv_path) as csv_table, open_table(tsv_path) as tsv_table:
        assert csv_table.delimiter == ","
        assert tsv_table.delimiter == "\t"
        assert list(csv_table.rows()) == [(2, ["C000001"])]


def test_row_numbers_match_the_spreadsheet_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(
        "invoice,amount\n"  # row 1
        "INV-1,10\n"  # row 2
        "\n"  # row 3: empty line
        ",\n"  # row 4: a row of empty cells, as Excel writes blank rows
        "INV-2,20\n"  # row 5
        '"INV-3","30"\n'  # row 6
        "  ,\n"  # row 7: whitespace is content, left to the caller to judge
        "INV-4,40",  # row 8, no final newline
        encoding="utf-8",
    )

    with open_table(path) as table:
        assert table.header_row_number == 1
        assert table.total_rows_hint == 7
        assert list(table.rows()) == [
            (2, ["INV-1", "10"]),
            (5, ["INV-2", "20"]),
            (6, ["INV-3", "30"]),
            (7, ["  ", None]),
            (8, ["INV-4", "40"]),
        ]


def test_leading_blank_lines_move_the_header_down(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("\n,,\ninvoice,amount\nINV-1,10\n", encoding="utf-8")

    with open_table(path) as table:
        assert table.header_row_number == 3
        assert table.headers == ["invoice", "amount"]
        assert list(table.rows()) == [(4, ["INV-1", "10"])]


def test_a_quoted_newline_keeps_one_spreadsheet_row(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('invoice,note\nINV-1,"line one\nline two"\nINV-2,ok\n', encoding="utf-8")

    _, rows = read_all(path)

    assert rows == [(2, ["INV-1", "line one\nline two"]), (3, ["INV-2", "ok"])]


def test_short_rows_are_padded_and_extra_cells_are_kept_for_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "invoice,amount,currency\n"
        "INV-1,10\n"  # short: padded with None
        "INV-2,20,CNY,surprise\n"  # long: the extra cell is kept
        "INV-3,30,CNY,,\n"  # long only with empty cells: trimmed to the header width
        "INV-4,,,,late\n",  # an extra after empty cells: everything up to it kept
        encoding="utf-8",
    )

    _, rows = read_all(path)

    assert rows == [
        (2, ["INV-1", "10", None]),
        (3, ["INV-2", "20", "CNY", "surprise"]),
        (4, ["INV-3", "30", "CNY"]),
        (5, ["INV-4", None, None, None, "late"]),
    ]


def test_headers_are_cleaned_and_trailing_empty_header_cells_dropped(tmp_path: Path) -> None:
    path = tmp_path / "headers.csv"
    path.write_text(" invoice \u3000no ,,amount,,\nINV-1,x,10,,\n", encoding="utf-8")

    headers, rows = read_all(path)

    assert headers == ["invoice no", "", "amount"]
    assert rows == [(2, ["INV-1", "x", "10"])]


def test_duplicate_headers_are_refused_by_name_and_column(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("发票号,金额,备注,金额 ,备注\nINV-1,1,a,2,b\n", encoding="utf-8")

    with pytest.raises(ValueError, match="names a column more than once") as raised:
        open_table(path)

    assert "'金额' (columns B, D)" in str(raised.value)
    assert "'备注' (columns C, E)" in str(raised.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf", b"\xff\xfe"],
    ids=["zero bytes", "utf-8 bom only", "utf-16 bom only"],
)
def test_an_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    with pytest.raises(ValueError, match=re.escape("empty.csv is empty")):
        open_table(path)


def test_a_file_of_blank_lines_has_no_header_row(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n\r\n,,,\n\n", encoding="utf-8")

    with pytest.raises(ValueError, match=re.escape("blank.csv has no header row")):
        open_table(path)


def test_a_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("invoice,amount\n", encoding="utf-8")

    with open_table(path) as table:
        assert table.headers == ["invoice", "amount"]
        assert list(table.rows()) == []
        assert table.total_rows_hint == 0


@pytest.mark.parametrize("name", ["invoices.xls", "invoices.json", "invoices"])
def test_unsupported_extensions_are_refused_with_the_supported_list(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text("invoice\n", encoding="utf-8")

    with pytest.raises(ValueError, match=re.escape("supported: .csv .tsv .txt .xlsx .xlsm")):
        open_table(path)


def test_rows_can_be_taken_once(tmp_path: Path) -> None:
    path = tmp_path / "once.csv"
    path.write_text("a\n1\n", encoding="utf-8")

    with open_table(path) as table:
        list(table.rows())
        with pytest.raises(RuntimeError, match="only once"):
            table.rows()


def test_a_binary_file_named_csv_is_refused(tmp_path: Path) -> None:
    workbook_path = tmp_path / "book.xlsx"
    write_xlsx(workbook_path, ["a"], [["1"]])
    renamed = tmp_path / "book.csv"
    renamed.write_bytes(workbook_path.read_bytes())

    with pytest.raises(ValueError, match=re.escape("book.csv: the file contains NUL bytes")):
        open_table(renamed)


def test_a_large_file_with_an_ascii_head_is_read_as_gbk(tmp_path: Path) -> None:
    # The first MiB says nothing about UTF-8 versus GBK; the first Chinese row decides.
    path = tmp_path / "big.csv"
    ascii_rows = b"".join(b"INV-%06d,C000001,100.00\r\n" % n for n in range(60_000))
    assert len(ascii_rows) > SAMPLE_SIZE
    path.write_bytes(
        b"invoice,customer,amount\r\n" + ascii_rows + "INV-X,上海客户,￥5\r\n".encode("gbk")
    )

    with open_table(path) as table:
        assert table.encoding == "gb18030"
        rows = list(table.rows())

    assert len(rows) == 60_001
    assert rows[-1] == (60_002, ["INV-X", "上海客户", "￥5"])


def test_text_that_changes_encoding_after_the_sample_is_refused_with_a_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.csv"
    utf8_rows = b"".join(f"INV-{n:06d},上海,1\r\n".encode() for n in range(80_000))
    assert len(utf8_rows) > SAMPLE_SIZE
    path.write_bytes(b"invoice,city,amount\r\n" + utf8_rows + "INV-X,北京,2\r\n".encode("gbk"))

    with open_table(path) as table:
        assert table.encoding == "utf-8"
        with pytest.raises(ValueError, match=r"the text after row \d+ is not valid utf-8"):
            list(table.rows())


def test_total_rows_hint_counts_lines_after_the_header(tmp_path: Path) -> None:
    path = tmp_path / "hint.csv"
    path.write_text("a,b\n" + "".join(f"{n},x\n" for n in range(1234)), encoding="utf-8")

    with open_table(path) as table:
        assert table.total_rows_hint == 1234


# -------------------------------------------------------------------------- the GBK fixture


def test_the_gbk_invoice_fixture_reads_with_exact_values_and_exact_errors() -> None:
    parsed: dict[int, tuple[str, date, date, Decimal, str | None]] = {}
    errors: dict[int, str] = {}

    with open_table(FIXTURES / "invoices_gbk.csv") as table:
        assert table.encoding == "gb18030"
        assert table.headers == [
            "发票号",
            "客户编号",
            "开票日期",
            "到期日",
            "金额",
            "币种",
            "付款条件",
        ]
        assert table.total_rows_hint == 12
        for row_number, (invoice, _customer, issued, due, amount, *_rest) in table.rows():
            try:
                money, currency = parse_amount_with_currency(amount or "")
                parsed[row_number] = (
                    invoice or "",
                    parse_date(issued or ""),
                    parse_date(due or ""),
                    money,
                    currency,
                )
            except ValueError as exc:
                errors[row_number] = str(exc)

    assert parsed == {
        2: ("INV-2026-0001", date(2026, 3, 1), date(2026, 3, 31), Decimal("1234.50"), "CNY"),
        3: ("INV-2026-0002", date(2026, 3, 1), date(2026, 4, 30), Decimal("3000.00"), "CNY"),
        4: ("INV-2026-0003", date(2026, 3, 5), date(2026, 4, 4), Decimal("12800.00"), None),
        5: ("INV-2026-0004", date(2026, 3, 9), date(2026, 4, 8), Decimal("5600.00"), None),
        8: ("INV-2026-0007", date(2026, 3, 10), date(2026, 4, 9), Decimal("-1200.00"), None),
        10: ("INV-2026-0009", date(2026, 3, 12), date(2026, 4, 11), Decimal("1500.00"), "USD"),
        11: ("INV-2026-0010", date(2026, 3, 15), date(2026, 4, 14), Decimal("15000.00"), None),
        12: ("INV-2026-0011", date(2026, 3, 16), date(2026, 4, 30), Decimal("8888.00"), "CNY"),
    }
    assert errors == {
        6: "'2026-02-30' is not a real date: February 2026 has 28 days",
        7: errors[7],
        9: errors[9],
        13: errors[13],
    }
    assert errors[7].startswith("'明天' is not a date; expected YYYY-MM-DD")
    assert errors[9].startswith("the amount is empty")
    assert errors[13].startswith("'4/5/2026' is ambiguous")


# ---------------------------------------------------------------------------------------- XLSX


def make_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "发票"
    sheet.append(["发票号", "开票日期", "时间", "金额", "数量", "已付", "备注"])
    sheet.append(["INV-1", date(2026, 3, 1), datetime(2026, 3, 1, 10, 20), 1234.5, 3, True, None])
    sheet.append(["INV-2", datetime(2026, 3, 2), time(8, 30), 0.1 + 0.2, 1e20, False, "备注"])
    sheet.append([])  # row 4 stays blank
    sheet.append(["INV-3", "2026/3/5", "46082", 1e-7, -0.0, None, ""])
    sheet.append(["INV-4", None, None, 12345678.9, 2**40, None, None, "extra"])
    other = workbook.create_sheet("第二页")
    other.append(["code"])
    other.append(["C000001"])
    workbook.save(path)


def test_reads_an_xlsx_as_text_the_parsers_accept(tmp_path: Path) -> None:
    path = tmp_path / "invoices.xlsx"
    make_workbook(path)

    with open_table(path) as table:
        rows = list(table.rows())

        assert table.format == "xlsx"
        assert table.encoding is None
        assert table.delimiter is None
        assert table.total_rows_hint == 5
        assert table.headers == ["发票号", "开票日期", "时间", "金额", "数量", "已付", "备注"]
    assert rows == [
        (2, ["INV-1", "2026-03-01", "2026-03-01T10:20:00", "1234.5", "3", "true", None]),
        (3, ["INV-2", "2026-03-02", "08:30:00", "0.3", "100000000000000000000", "false", "备注"]),
        (5, ["INV-3", "2026/3/5", "46082", "0.0000001", "0", None, None]),
        (6, ["INV-4", None, None, "12345678.9", "1099511627776", None, None, "extra"]),
    ]
    assert parse_date(rows[0][1][1] or "") == date(2026, 3, 1)
    assert parse_amount(rows[0][1][3] or "") == Decimal("1234.50")
    assert parse_amount(rows[1][1][3] or "") == Decimal("0.30")


def test_reads_a_named_xlsx_sheet(tmp_path: Path) -> None:
    path = tmp_path / "invoices.xlsm"
    make_workbook(path)

    headers, rows = read_all(path, sheet="第二页")

    assert headers == ["code"]
    assert rows == [(2, ["C000001"])]


def test_an_unknown_sheet_is_refused_with_the_sheet_names(tmp_path: Path) -> None:
    path = tmp_path / "invoices.xlsx"
    make_workbook(path)

    with pytest.raises(
        ValueError, match="no worksheet named 'Sheet9'; its worksheets are: '发票', '第二页'"
    ):
        open_table(path, sheet="Sheet9")


def test_an_xlsx_with_a_wrong_dimension_is_read_in_full(tmp_path: Path) -> None:
    # Some generators declare <dimension ref="A1"/> whatever the sheet holds.
    good = tmp_path / "good.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["invoice", "amount"], ["INV-1", 10], ["INV-2", 20]):
        sheet.append(row)
    workbook.save(good)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data, replaced = re.subn(
                    rb'<dimension ref="A1:B3" ?/>', b'<dimension ref="A1"/>', data
                )
                assert replaced == 1
            target.writestr(item, data)

    headers, rows = read_all(bad)

    assert headers == ["invoice", "amount"]
    assert rows == [(2, ["INV-1", "10"]), (3, ["INV-2", "20"])]


def test_an_xlsx_with_duplicate_headers_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.xlsx"
    write_xlsx(path, ["金额", "金额"], [])

    with pytest.raises(ValueError, match=re.escape("'金额' (columns A, B)")):
        open_table(path)


def test_an_empty_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)

    with pytest.raises(ValueError, match=re.escape("empty.xlsx (sheet 'Sheet') is empty")):
        open_table(path)


def test_a_text_file_named_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("invoice,amount\n", encoding="utf-8")

    with pytest.raises(
        ValueError, match=re.escape("fake.xlsx cannot be opened as an Excel workbook")
    ):
        open_table(path)


# ------------------------------------------------------------------------------------- writing


def test_write_csv_writes_utf8_with_bom_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"

    written = write_csv(
        path,
        ["发票号", "金额", "开票日期", "已付", "备注"],
        [
            ["INV-1", Decimal("1234.50"), date(2026, 3, 1), True, None],
            ["INV-2", Decimal("1E+3"), datetime(2026, 3, 1, 10, 20), False, "a,b"],
        ],
    )

    assert written == 2
    assert path.read_bytes().startswith(b"\xef\xbb\xbf\xe5\x8f\x91")
    assert path.read_bytes().endswith(b"\r\n")
    headers, rows = read_all(path)
    assert headers == ["发票号", "金额", "开票日期", "已付", "备注"]
    assert rows == [
        (2, ["INV-1", "1234.50", "2026-03-01", "true", None]),
        (3, ["INV-2", "1000", "2026-03-01T10:20:00", "false", "a,b"]),
    ]


def test_write_csv_keeps_text_from_becoming_an_excel_formula(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"

    write_csv(
        path,
        ["value"],
        [['=HYPERLINK("http://x")'], ["+86 138 0000 0000"], ["@SUM(A1)"], ["-1,234.50"], ["-"]],
    )

    _, rows = read_all(path)
    assert [values[0] for _, values in rows] == [
        '\'=HYPERLINK("http://x")',
        "'+86 138 0000 0000",
        "'@SUM(A1)",
        "-1,234.50",
        "'-",
    ]


def test_write_csv_can_leave_text_unescaped(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"

    write_csv(path, ["value"], [["=1+1"]], escape_formulas=False)

    assert read_all(path)[1] == [(2, ["=1+1"])]


def test_write_xlsx_round_trips_values_and_keeps_formula_text_as_text(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"

    written = write_xlsx(
        path,
        ["发票号", "金额", "开票日期", "时间", "数量", "备注"],
        [
            ["INV-1", Decimal("1234.50"), date(2026, 3, 1), datetime(2026, 3, 1, 10, 20), 3, None],
            ["INV-2", 0.5, None, None, 2**31, "=1+1"],
            ["INV-3", None, None, None, None, "bell\x07 removed"],
        ],
        sheet_title="导出",
    )

    assert written == 3
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["导出"]
    sheet = workbook["导出"]
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet["F3"].data_type == "s"
    assert isinstance(sheet["C2"].value, datetime)
    headers, rows = read_all(path)
    assert headers == ["发票号", "金额", "开票日期", "时间", "数量", "备注"]
    assert rows == [
        (2, ["INV-1", "1234.5", "2026-03-01", "2026-03-01T10:20:00", "3", None]),
        (3, ["INV-2", "0.5", None, None, "2147483648", "=1+1"]),
        (4, ["INV-3", None, None, None, None, "bell removed"]),
    ]


def test_write_xlsx_refuses_aware_datetimes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Excel cells have no time zone"):
        write_xlsx(tmp_path / "out.xlsx", ["at"], [[datetime(2026, 3, 1, tzinfo=UTC)]])


def test_a_tsv_cell_may_start_with_a_quotation_mark(tmp_path: Path) -> None:
    # Given tab-separated comments, some quoting a phrase, without any cell quoting,
    path = tmp_path / "comments.tsv"
    path.write_text(
        'text\tlabel\n"Soul Kitchen" was great.\t1\nThe "on" button cracked.\t0\n'
        'Looks great and is strong."\t1\n"what?" he said\t0\n',
        encoding="utf-8",
    )
    with open_table(path) as table:
        rows = [values for _number, values in table.rows()]
    # every line is one row, every quotation mark kept
    assert rows == [
        ['"Soul Kitchen" was great.', "1"],
        ['The "on" button cracked.', "0"],
        ['Looks great and is strong."', "1"],
        ['"what?" he said', "0"],
    ]


def test_a_tsv_that_quotes_cells_with_tabs_is_read_with_its_quotes(tmp_path: Path) -> None:
    path = tmp_path / "excel.tsv"
    path.write_text('name\tnote\nA\t"two\tparts"\nB\t"line\nbreak"\n', encoding="utf-8")
    with open_table(path) as table:
        rows = [values for _number, values in table.rows()]
    assert rows == [["A", "two\tparts"], ["B", "line\nbreak"]]
