"""CSV and XLSX tables: a header (line 1) and rows of cells, read in bounded chunks.

CSV is parsed by the standard ``csv`` module only (no splitting by hand); what this module
adds is bounds: lines are read with a length limit (:data:`~.limits.MAX_LINE_BYTES`) and
chunks of at most :data:`~.limits.CHUNK_ROWS` rows or :data:`~.limits.CHUNK_BYTES` of text,
each chunk parsed by its own ``csv.reader``. A chunk ends only where a record ends: the
chunk is parsed with a sentinel line after it, which comes back as a row of its own exactly
when the chunk's last record was complete (else a quoted field runs on, and the chunk takes
more lines). ``csv.reader`` keeps no state from one record to the next, so the rows are those
one reader over the whole file would give.

XLSX is read with openpyxl in read-only mode, after the zip's directory is checked (what its
parts declare they expand to), row by row from the sheet's XML, so a row far down the sheet
or a cell far to the right costs nothing and is reported, not padded into millions of empty
cells. Numbers stored as binary floats are taken as their shortest text (``2.35``, not
``2.35000000000000008882``); cells typed as booleans and dates keep their type.

Every cell is kept as it is (an id with a leading blank is reported, not trimmed); a cell of
only blanks counts as empty, and empty cells are not given.
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
import zipfile
from collections.abc import Generator, Iterator, Sequence
from datetime import datetime, time
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from backflush.adapters.files.limits import (
    CHUNK_BYTES,
    CHUNK_ROWS,
    MAX_COLUMNS,
    MAX_FIELD_CHARS,
    MAX_LINE_BYTES,
    MAX_XLSX_BYTES,
    MAX_XLSX_ROWS,
    MAX_XLSX_UNCOMPRESSED,
    Issue,
    field_text,
    refuse,
    too_big,
)
from backflush.adapters.files.loaders import LineDict
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.text import safe

TRUE = {"true", "yes", "1"}
FALSE = {"false", "no", "0"}
SENTINEL = "\ue000end of chunk\ue000"  # a private-use character: in no real CSV file
MAX_XLSX_PARTS = 10_000

Chunk = tuple[list[list[Any]], Sequence[int]]  # rows of cells and the line of each


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Table:
    """A table's header and its rows, chunk by chunk (iterate :meth:`chunks` once; the file
    stays open until the rows are all read or :meth:`close` is called)."""

    def __init__(self, source: str, header: list[str],
                 chunks: Generator[Chunk, None, None]) -> None:
        self.source = source
        self.header = header
        self._chunks = chunks

    def chunks(self) -> Iterator[Chunk]:
        return self._chunks

    def close(self) -> None:
        self._chunks.close()

    def header_problems(self, allowed: Sequence[str], required: Sequence[str] = ()
                        ) -> list[Problem]:
        """Every problem of the header (line 1): missing, unknown, repeated and empty
        column names, and the telltale of a file separated by ';' or tabs."""
        header, source = self.header, self.source
        out: list[Problem] = []
        if len(header) == 1:
            for sep, name in ((";", "';'"), ("\t", "tabs")):
                if sep in header[0]:
                    return [Problem("header", None, f"the header has one column "
                                    f"{safe(header[0])}: the file seems to use {name} as "
                                    "separator; use ','", source, 1)]
        seen: set[str] = set()
        for k, name in enumerate(header):
            if not name:
                out.append(Problem("header", f"column {k + 1}", "the header cell is empty",
                                   source, 1))
            elif name in seen:
                out.append(Problem("header", field_text(name), "appears twice", source, 1))
            elif name not in allowed:
                out.append(Problem("header", field_text(name), "unknown column; expected "
                                   f"{', '.join(allowed)}", source, 1))
            seen.add(name)
        for name in required:
            if name not in seen:
                out.append(Problem("header", name, "missing column", source, 1))
        return out


def open_table(path: Path) -> Table:
    """A ``.csv`` or ``.xlsx`` file as a table; ValidationError when it is neither, cannot
    be read, or its header cannot be."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_table(path)
    if suffix == ".xlsx":
        return _xlsx_table(path)
    raise refuse("file", "expected a .csv or .xlsx file", str(path))


def mapping(names: Sequence[str], values: Sequence[Any], line: int | None,
            booleans: frozenset[str] = frozenset()) -> tuple[LineDict, list[Issue]]:
    """A row's given cells as a mapping (``hours`` as ``{WELD: '2', CUT: '0.5'}``, and the
    ``booleans`` columns' true/false/yes/no/1/0 as booleans), and what is wrong with it."""
    raw = LineDict(line=line)
    issues: list[Issue] = []
    for name, value in zip(names, values, strict=False):
        if not blank(value) and name:
            raw[name] = value
    if "hours" in raw:
        raw["hours"], issues = split_hours(raw["hours"])
        if issues:
            del raw["hours"]  # reported once, as what it is
    for name in booleans & raw.keys():
        value = raw[name]
        word = value.strip().lower() if isinstance(value, str) else value
        if word in TRUE or word == 1:
            raw[name] = True
        elif word in FALSE or word == 0:
            raw[name] = False
    return raw, issues


def split_hours(value: object) -> tuple[Any, list[Issue]]:
    """``WELD=2; CUT=0.5`` as ``{'WELD': '2', 'CUT': '0.5'}``."""
    if not isinstance(value, str):
        return value, []
    out: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        wc, sep, hours = part.partition("=")
        if not sep or not wc.strip():
            return value, [Issue(("hours",), "expected WORK_CENTER=hours pairs separated "
                                 f"by ';' (WELD=2; CUT=0.5), got {safe(part.strip())}")]
        if wc.strip() in out:
            return value, [Issue(("hours",), f"work center {safe(wc.strip())} appears twice")]
        out[wc.strip()] = hours.strip()
    return out, []


# ---------------------------------------------------------------------------------- CSV


class _CsvText:
    """A CSV file's text in blocks of about :data:`CHUNK_BYTES` characters, each ending at
    a line's end, no line longer than :data:`MAX_LINE_BYTES`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.source = str(path)
        try:
            self.fh = path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise refuse("file", f"cannot read: {exc.strerror or exc}", self.source) from None
        self.pending = ""
        self.line = 1  # the number of the first line of the next block

    def block(self) -> str:
        """The next block ('' at the end of the file)."""
        text = self.pending
        while True:
            try:
                more = self.fh.read(CHUNK_BYTES)
            except UnicodeDecodeError:
                raise self._not_utf8() from None
            text += more
            if not more:
                self.pending = ""
                return text
            # after the last line end (a \r at the very end may be half of a \r\n)
            cut = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1)) + 1
            if cut:
                self.pending = text[cut:]
                return text[:cut]
            if len(text) > MAX_LINE_BYTES:
                raise refuse(f"line {self.line}", f"the line is longer than "
                             f"{MAX_LINE_BYTES:,} characters", self.source, self.line)

    def _not_utf8(self) -> ValidationError:
        """Where the first byte that is not UTF-8 is (found again, from the start)."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, line = 0, 1
        with self.path.open("rb") as fh:
            while True:
                data = fh.read(1 << 20)
                held = len(decoder.getstate()[0])
                try:
                    decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    at = offset - held + exc.start  # exc.object: the held bytes, then data
                    line += exc.object[:exc.start].count(b"\n")
                    return refuse("file", f"not UTF-8 text at byte {at + 1:,}; save the file "
                                  "as UTF-8", self.source, line)
                if not data:
                    break
                offset += len(data)
                line += data.count(b"\n")
        return refuse("file", "not UTF-8 text; save the file as UTF-8", self.source)

    def close(self) -> None:
        self.fh.close()


def _parse(lines: list[str], source: str, first_line: int, final: bool
           ) -> tuple[list[list[str]], bool]:
    """The rows of ``lines``, and whether they end where a record ends (with ``final`` the
    end of the file ends any record)."""
    feed = lines if final else [*lines, SENTINEL + "\n"]
    reader = csv.reader(feed)
    try:
        rows = list(reader)
    except csv.Error as exc:
        reader = csv.reader(feed)
        line = first_line
        try:
            for _ in reader:
                line = first_line + reader.line_num
        except csv.Error:
            pass
        message = str(exc)
        if "field larger than field limit" in message:
            message = f"a field is longer than {MAX_FIELD_CHARS:,} characters (the limit " \
                      "for one CSV field)"
        raise refuse(f"line {line}", message, source, line) from None
    if final:
        return rows, True
    if rows and rows[-1] == [SENTINEL]:
        rows.pop()
        return rows, True
    return rows, False


def _no_long_line(lines: list[str], first: int, source: str) -> None:
    if lines and max(map(len, lines)) > MAX_LINE_BYTES:
        at = first + next(k for k, x in enumerate(lines) if len(x) > MAX_LINE_BYTES)
        raise refuse(f"line {at}", f"the line is longer than {MAX_LINE_BYTES:,} characters",
                     source, at)


def _starts(lines: list[str], first_line: int) -> list[int]:
    """The line each record of ``lines`` starts on (when a quoted field may span lines)."""
    reader = csv.reader(lines)
    out = []
    at = first_line
    for _ in reader:
        out.append(at)
        at = first_line + reader.line_num
    return out


def _csv_chunks(text: _CsvText) -> Generator[Chunk, None, None]:
    r"""Rows of at most :data:`CHUNK_ROWS` records, with the line each starts on.

    A block without quotes is split on newlines directly, a chunk at a time (each line is
    one record then, and its line end makes no difference to ``csv.reader``); any other block
    is read line by line as the file's own reading would split it (``\r``, ``\n`` or
    ``\r\n``), a chunk's lines parsed with the sentinel check, and more lines taken (twice as
    many each time) while a quoted field runs on."""
    source = text.source
    rows = CHUNK_ROWS
    try:
        while block := text.block():
            crs = block.count("\r")  # each \r and \n in a \r\n: lines end with it alone
            end = "\r\n" if crs and crs == block.count("\r\n") == block.count("\n") else "\n"
            if '"' not in block and (not crs or end == "\r\n"):
                rest = block
                while rest:
                    lines = rest.split(end, rows)
                    if len(lines) > rows:
                        rest = lines.pop()  # what follows the chunk's lines
                    else:
                        rest = ""
                        if not lines[-1]:
                            lines.pop()  # after the block's last line end: nothing
                    first = text.line
                    text.line += len(lines)
                    _no_long_line(lines, first, source)
                    if lines:  # yielded straight: the suspended frame keeps no rows alive
                        yield _parse(lines, source, first, True)[0], \
                            range(first, first + len(lines))
                continue
            lines_in = io.StringIO(block, newline="")
            while lines := list(islice(lines_in, rows)):
                first = text.line
                text.line += len(lines)
                _no_long_line(lines, first, source)
                step = 1_000
                while True:
                    parsed, clean = _parse(lines, source, first, False)
                    if clean:
                        break
                    more = list(islice(lines_in, step))
                    if not more:
                        following = text.block()
                        if not following:
                            parsed, _ = _parse(lines, source, first, True)
                            break
                        lines_in = io.StringIO(following, newline="")
                        more = list(islice(lines_in, step))
                    text.line += len(more)
                    lines += more
                    step *= 2
                done = [(parsed, _starts(lines, first))]
                del parsed
                yield done.pop()
    finally:
        text.close()


def _csv_table(path: Path) -> Table:
    chunks = _csv_chunks(_CsvText(path))
    rows: list[list[Any]] = []
    lines: Sequence[int] = []
    try:
        while not rows:
            got = next(chunks, None)
            if got is None:
                raise refuse("file", "the file is empty", str(path))
            rows, lines = got
    except BaseException:
        chunks.close()
        raise
    header = [h.strip() for h in rows[0]]
    if lines[0] != 1 or not any(header):
        chunks.close()
        raise refuse("header", "line 1 is empty: the header must be on line 1", str(path), 1)
    if len(header) > MAX_COLUMNS:
        chunks.close()
        raise refuse("header", f"the header has {len(header):,} columns; at most "
                     f"{MAX_COLUMNS} are allowed", str(path), 1)

    first = [(rows[1:], lines[1:])] if len(rows) > 1 else []
    del rows, lines

    def rest() -> Generator[Chunk, None, None]:
        try:
            if first:
                yield first.pop()  # not held while suspended: the collector need not see it
            yield from filter(itemgetter(0), chunks)  # empty chunks left out
        finally:
            chunks.close()

    return Table(str(path), header, rest())


# ---------------------------------------------------------------------------------- XLSX


def cell(value: Any) -> Any:
    """An XLSX cell as the readers take it: a float as its shortest text, a date and time
    at midnight as the date."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date()
    return value


def _check_zip(path: Path) -> None:
    source = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise refuse("file", f"cannot read: {exc.strerror or exc}", source) from None
    problem = too_big(size, MAX_XLSX_BYTES, "an .xlsx file")
    if problem is not None:
        raise refuse("file", problem, source)
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise refuse("file", "not a valid .xlsx workbook (it is no zip archive)",
                     source) from None
    expands = sum(p.file_size for p in parts)
    if len(parts) > MAX_XLSX_PARTS or expands > MAX_XLSX_UNCOMPRESSED:
        raise refuse("file", f"the workbook expands to {expands:,} bytes in {len(parts):,} "
                     f"parts; at most {MAX_XLSX_UNCOMPRESSED:,} bytes are read", source)


def _xlsx_rows(path: Path) -> Generator[tuple[int, list[Any]], None, None]:
    """(row number, cells) of the first sheet's non-empty rows, bounded."""
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser

    source = str(path)
    _check_zip(path)
    with warnings.catch_warnings(), path.open("rb") as fh:  # closed whatever openpyxl does
        # openpyxl warns of what it does not support (data validation, styles...): not ours
        warnings.simplefilter("ignore")
        try:
            book: Any = load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise refuse("file", f"not a valid .xlsx workbook ({_reason(exc)})",
                         source) from None
        try:
            if not book.worksheets:
                raise refuse("file", "the workbook has no sheet", source)
            sheet: Any = book.worksheets[0]
            with sheet._get_source() as src:
                parser = WorkSheetParser(src, sheet._shared_strings, data_only=True,
                                         epoch=book.epoch, date_formats=book._date_formats,
                                         timedelta_formats=book._timedelta_formats)
                for number, cells in parser.parse():
                    if number > MAX_XLSX_ROWS:
                        raise refuse(f"line {number}", f"a row beyond row {MAX_XLSX_ROWS:,}",
                                     source, number)
                    values: list[Any] = []
                    for c in cells:
                        if c["value"] is None:
                            continue
                        column = c["column"]
                        if column > MAX_COLUMNS + 1:
                            raise refuse(f"line {number}", f"a cell beyond column "
                                         f"{MAX_COLUMNS}", source, number)
                        values.extend([None] * (column - len(values)))
                        values[column - 1] = cell(c["value"])
                    if values:
                        yield number, values
        except ValidationError:
            raise
        except Exception as exc:
            raise refuse("file", f"not a valid .xlsx workbook ({_reason(exc)})",
                         source) from None
        finally:
            book.close()


def _reason(exc: Exception) -> str:
    """What went wrong inside a workbook, shortly (its text may be long or odd)."""
    return safe(f"{type(exc).__name__}: {exc}", 120)[1:-1]


def _xlsx_table(path: Path) -> Table:
    rows = _xlsx_rows(path)
    first = next(rows, None)
    if first is None:
        raise refuse("file", "the sheet is empty", str(path))
    number, cells = first
    if number != 1:
        rows.close()
        raise refuse("header", "the header must be in row 1; row 1 is empty", str(path), 1)
    header = ["" if blank(h) else str(h).strip() for h in cells]
    if len(header) > MAX_COLUMNS:
        rows.close()
        raise refuse("header", f"the header has more than {MAX_COLUMNS} columns",
                     str(path), 1)

    def chunks() -> Generator[Chunk, None, None]:
        block: list[list[Any]] = []
        lines: list[int] = []
        try:
            for n, values in rows:
                block.append(values)
                lines.append(n)
                if len(block) >= CHUNK_ROWS:
                    yield block, lines
                    block, lines = [], []
            if block:
                yield block, lines
        finally:
            rows.close()

    return Table(str(path), header, chunks())


def all_rows(table: Table) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells) of every row, blank rows left out."""
    for rows, lines in table.chunks():
        for values, line in zip(rows, lines, strict=True):
            if not all(blank(v) for v in values):
                yield line, values


def problems_of(issues: Sequence[Issue], entry: str, source: str, line: int | None
                ) -> list[Problem]:
    return [Problem(entry, i.field, i.message, source, line) for i in issues]

