"""CSV and XLSX tables: the header on line 1, rows exactly as the csv module reads them
(whatever the chunking), cells kept as they are, every refusal a clear problem."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from backflush.adapters.files import limits, tables
from backflush.domain.errors import ValidationError


def rows_of(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    table = tables.open_table(path)
    return table.header, [(line, values) for rows, lines in table.chunks()
                          for values, line in zip(rows, lines, strict=True)]


def refused(path: Path) -> str:
    with pytest.raises(ValidationError) as err:
        rows_of(path)
    ((problem,),) = [err.value.problems]
    return str(problem).replace(str(path), "F")


def header_problems(text: str, tmp_path: Path, allowed: list[str] | None = None,
                    required: tuple[str, ...] = ("code",)) -> list[str]:
    path = tmp_path / "t.csv"
    path.write_text(text)
    table = tables.open_table(path)
    try:
        found = table.header_problems(allowed or ["code", "qty", "uom"], required)
    finally:
        table.close()
    return [str(p).replace(str(path), "F") for p in found]


@pytest.mark.parametrize(("text", "expected"), [
    ("uom\nea\n", ["F:1, header, field 'code': missing column"]),
    ("code,colour\nA,red\n", ["F:1, header, field 'colour': unknown column; expected code, "
                              "qty, uom"]),
    ("code,qty,qty\n", ["F:1, header, field 'qty': appears twice"]),
    ("code,,uom\n", ["F:1, header, field 'column 2': the header cell is empty"]),
    ("code;qty;uom\nA;1;ea\n", ["F:1, header: the header has one column 'code;qty;uom': the "
                                "file seems to use ';' as separator; use ','"]),
    ("code\tqty\n", ["F:1, header: the header has one column 'code\\\\u0009qty': the file seems "
                     "to use tabs as separator; use ','"]),
    (" code , qty \n", []),
])
def test_header_problems(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert header_problems(text, tmp_path) == expected


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "F, file: the file is empty"),
    (b"\nid,qty\n", "F:1, header: line 1 is empty: the header must be on line 1"),
    (b"id,qty\n1,caf\xe9\n", "F:2, file: not UTF-8 text at byte 13; save the file as UTF-8"),
    (b"id,qty\n1,2\n3,\"" + b"x" * (limits.MAX_FIELD_CHARS + 1) + b"\"\n",
     "F:3, line 3: a field is longer than 131,072 characters (the limit for one CSV field)"),
    (b"id,qty\n1," + b"x" * (limits.MAX_LINE_BYTES + 1) + b"\n",
     "F:2, line 2: the line is longer than 1,000,000 characters"),
    (",".join(f"c{i}" for i in range(limits.MAX_COLUMNS + 1)).encode() + b"\n",
     "F:1, header: the header has 101 columns; at most 100 are allowed"),
])
def test_files_that_cannot_be_read_say_why(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    assert refused(path) == expected


def test_cells_are_kept_as_they_are_and_a_bom_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfcode,qty\n SEAT ,5\n010,\n")
    header, rows = rows_of(path)
    assert header == ["code", "qty"] and rows == [(2, [" SEAT ", "5"]), (3, ["010", ""])]


CSV_TEXTS = [
    "a,b,c\n1,2,3\n4,5,6\n",
    "a,b,c\r\n1,2,3\r\n4,5,6\r\n",  # Windows line ends
    "a,b\r1,2\r3,4\n",  # lone carriage returns end lines too
    "a,b\n1,2\n\n3,4\n  \n5,6",  # a blank line, a line of spaces, no final line end
    'a,b\n1,2\n3,"x\ny"\n5,6\n7,8\n',  # a quoted field over two lines
    'a,b\n1,"2,5"\n"3",4\n',  # a quoted comma, quotes around a plain value
    'a,b\n1,"x\r\ny"\r\n2,3\r\n',  # a Windows line end inside a quoted field
    "a,b\n1,2,3\n4\n,\n,,\n",  # too many, too few, empty cells
    "a,b\n1,\x002\n3,4\n",  # a NUL
    "é,ü\nß,ø\n",
    'a,b\n1,"never closed\n2,3\n',  # a quote that runs to the end of the file
    'a,b\n1,x"y\n"z"w,2\n',  # quotes inside unquoted fields
]


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("text", CSV_TEXTS, ids=range(len(CSV_TEXTS)))
@pytest.mark.parametrize(("rows", "size"), [(1, 1), (2, 3), (3, 10**6), (10**5, 10**6)])
def test_rows_are_the_csv_modules_rows_whatever_the_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, rows: int,
        size: int) -> None:
    monkeypatch.setattr(tables, "CHUNK_ROWS", rows)
    monkeypatch.setattr(tables, "CHUNK_BYTES", size)
    path = tmp_path / "t.csv"
    path.write_text(text, newline="", encoding="utf-8")
    header, got = rows_of(path)
    want = csv_rows(text)
    assert [header, *[values for _, values in got]] == [[h.strip() for h in want[0]],
                                                        *want[1:]]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.text(alphabet='ab,"\r\n x', max_size=6), min_size=1,
                               max_size=4), min_size=1, max_size=8),
       rows=st.integers(1, 4), size=st.integers(1, 30), raw=st.booleans())
def test_any_csv_text_reads_as_the_csv_module_reads_it(
        tmp_path: Path, cells: list[list[str]], rows: int, size: int, raw: bool) -> None:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["h1", "h2"], *cells])
    text = out.getvalue() if not raw else "h1,h2\n" + "\n".join(",".join(r) for r in cells)
    path = tmp_path / "t.csv"
    path.write_text(text, newline="", encoding="utf-8")
    saved = tables.CHUNK_ROWS, tables.CHUNK_BYTES
    tables.CHUNK_ROWS, tables.CHUNK_BYTES = rows, size
    try:
        _, got = rows_of(path)
    finally:
        tables.CHUNK_ROWS, tables.CHUNK_BYTES = saved
    assert [values for _, values in got] == csv_rows(text)[1:]
    starts = []
    reader = csv.reader(io.StringIO(text, newline=""))
    at = 1
    for _ in reader:
        starts.append(at)
        at = reader.line_num + 1
    assert [line for line, _ in got] == starts[1:]


def test_mapping_reads_hours_and_booleans() -> None:
    raw, issues = tables.mapping(["hours", "phantom", "finished", "code", "uom"],
                                 ["WELD=2; CUT = 0.5", "Yes", "0", "A", "  "], 7,
                                 frozenset({"phantom", "finished"}))
    assert raw == {"hours": {"WELD": "2", "CUT": "0.5"}, "phantom": True, "finished": False,
                   "code": "A"} and raw.line == 7 and issues == []
    for word, value in (("TRUE", True), ("no", False), ("1", True), ("false", False),
                        ("maybe", "maybe")):
        raw, _ = tables.mapping(["phantom"], [word], 1, frozenset({"phantom"}))
        assert raw["phantom"] == value
    raw, issues = tables.mapping(["hours"], ["WELD=1; WELD=2"], 1)
    assert "hours" not in raw and issues[0].message == "work center 'WELD' appears twice"


# ---------------------------------------------------------------------------------- XLSX


def workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_cells_floats_as_shortest_text_booleans_and_dates_typed(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", [
        ["code", "qty", "flag", "day", "when"],
        ["A", 2.35, True, datetime(2026, 11, 2), datetime(2026, 11, 2, 13, 5)],
        [10, 5, False, "2026-11-02", None],
        [],
        [None, 0.1, None, None, None]])
    header, rows = rows_of(path)
    assert header == ["code", "qty", "flag", "day", "when"]
    assert rows == [(2, ["A", "2.35", True, date(2026, 11, 2), datetime(2026, 11, 2, 13, 5)]),
                    (3, [10, 5, False, "2026-11-02"]), (5, [None, "0.1"])]


def test_what_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert refused(path) == "F, file: not a valid .xlsx workbook (it is no zip archive)"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert refused(path).startswith("F, file: not a valid .xlsx workbook (")


def test_a_zip_bomb_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w") as part:
        block = b"\0" * 1_000_000
        for _ in range(limits.MAX_XLSX_UNCOMPRESSED // len(block) + 1):
            part.write(block)
    assert path.stat().st_size < 1_000_000
    started = time.perf_counter()
    message = refused(path)
    assert time.perf_counter() - started < 0.5
    assert message.startswith("F, file: the workbook expands to 251,000,000 bytes in 1 parts")


def test_rows_and_cells_beyond_the_limits(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code"])
    sheet.cell(row=2, column=limits.MAX_COLUMNS + 2, value="far to the right")
    path = tmp_path / "wide.xlsx"
    book.save(path)
    assert refused(path) == "F:2, line 2: a cell beyond column 100"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code"])
    sheet.cell(row=1_000_000, column=1, value="far down")
    path = tmp_path / "long.xlsx"
    book.save(path)
    monkeypatch.setattr(tables, "MAX_XLSX_ROWS", 1000)
    started = time.perf_counter()
    assert refused(path) == "F:1000000, line 1000000: a row beyond row 1,000"
    assert time.perf_counter() - started < 1


def test_an_empty_sheet_and_a_header_not_on_row_1(tmp_path: Path) -> None:
    assert refused(workbook(tmp_path / "e.xlsx", [])) == "F, file: the sheet is empty"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.cell(row=3, column=1, value="code")
    book.save(tmp_path / "late.xlsx")
    assert refused(tmp_path / "late.xlsx") == "F:1, header: the header must be in row 1; " \
                                              "row 1 is empty"
