"""CSV, XLSX and JSON Lines files: master data imports and event files for ``post``.

Every row is checked before anything is imported; every bad row is reported with its line
number (the header is line 1). Numbers are read from their text into Decimal.
"""

from __future__ import annotations

import csv
import gc
import json
import multiprocessing
import pickle
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, TextIO, cast

from backflush.adapters.scenario_file import (
    FIRST_DAY,
    _LineDict,
    _Reader,
    parse_text,
)
from backflush.domain.bom import BomVersion
from backflush.domain.costing import MasterData
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.events import FLOW_TYPES, CostChange, Event, Flow, FlowRun
from backflush.domain.items import Item
from backflush.domain.policy import Method
from backflush.domain.routing import Operation, WorkCenter

COLUMNS: dict[str, tuple[set[str], set[str]]] = {  # kind -> (required, optional)
    "items": ({"code"}, {"uom", "type", "standard_cost", "conversion_cost", "phantom",
                         "finished", "description"}),
    "boms": ({"parent", "component", "qty"}, {"version", "effective", "scrap"}),
    "routings": ({"item", "operation", "work_center"}, {"run_hours", "setup_hours",
                                                        "lot_size", "description"}),
    "work-centers": ({"code"}, {"rate", "labor_rate", "overhead_rate", "description"}),
    "costs": ({"item"}, {"standard_cost", "conversion_cost", "date", "id"}),
}
BOOLEANS = {"phantom", "finished"}
INTEGERS = {"version", "operation"}


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float):  # XLSX stores numbers as binary floats: take their text
        return repr(value) if value != int(value) else str(int(value))
    return value


def read_rows(path: Path) -> tuple[list[str], list[_LineDict]]:
    """Header and rows (as mappings that know their line) of a CSV or XLSX file."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
            raw = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        elif suffix == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as fh:
                raw = list(csv.reader(fh))
        else:
            raise ValidationError([Problem("file", None, "expected a .csv or .xlsx file",
                                           str(path))])
    except OSError as exc:
        raise ValidationError([Problem("file", None, f"cannot read: {exc.strerror}",
                                       str(path))]) from None
    if not raw:
        raise ValidationError([Problem("file", None, "the file is empty", str(path))])
    header = [str(h).strip() if h is not None else "" for h in raw[0]]
    rows = []
    for n, values in enumerate(raw[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        row = _LineDict()
        row.line = n
        for key, value in zip(header, values, strict=False):
            if key and value is not None and str(value).strip() != "":
                row[key] = value.strip() if isinstance(value, str) else value
        rows.append(row)
    return header, rows


class TableReader(_Reader):
    """The scenario reader's checks, applied to rows of a table."""

    def columns(self, header: list[str], kind: str) -> None:
        required, optional = COLUMNS[kind]
        for col in sorted(required - set(header)):
            self.problems.append(Problem("header", col, "missing column", self.source, 1))
        for col in header:
            if col and col not in required | optional:
                self.problems.append(Problem("header", col, "unknown column; expected "
                                             f"{', '.join(sorted(required | optional))}",
                                             self.source, 1))

    def typed(self, rows: list[_LineDict]) -> list[_LineDict]:
        """Booleans and whole numbers from their text, as YAML would have read them."""
        for row in rows:
            for key in BOOLEANS & row.keys():
                text = str(row[key]).strip().lower()
                if text in ("true", "yes", "1", "y"):
                    row[key] = True
                elif text in ("false", "no", "0", "n"):
                    row[key] = False
            for key in INTEGERS & row.keys():
                try:
                    row[key] = int(str(row[key]))
                except ValueError:
                    self.problem(f"line {row.line}", key, f"{row[key]!r} is not a whole "
                                 "number", row)
        return rows

    def done(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)


def _reader(path: Path, kind: str) -> tuple[TableReader, list[_LineDict]]:
    header, rows = read_rows(path)
    reader = TableReader(str(path), Method.BACKFLUSH)
    reader.columns(header, kind)
    reader.done()
    return reader, reader.typed(rows)


def read_items(path: Path, master: MasterData) -> list[Item]:
    reader, rows = _reader(path, "items")
    items = reader.items(rows, dict(master.boms.versions), dict(master.routings))
    reader.done()
    return list(items.values())


def read_boms(path: Path) -> list[BomVersion]:
    reader, rows = _reader(path, "boms")
    grouped: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        parent = str(row.get("parent", ""))
        version = row.get("version", 1)
        spec = grouped.setdefault(parent, {}).setdefault(
            version, {"version": version, "effective": row.get("effective", FIRST_DAY),
                      "lines": []})
        line = _LineDict({"item": row.get("component"), "qty": row.get("qty"),
                          **({"scrap": row["scrap"]} if "scrap" in row else {})})
        line.line = row.line
        spec["lines"].append(line)
        if "effective" in row and spec["effective"] != row["effective"]:
            reader.problem(f"bom {parent}@v{version}", "effective",
                           "differs from the version's first row", row)
    boms = reader.boms({p: {"versions": list(vs.values())} for p, vs in grouped.items()})
    reader.done()
    return boms


def read_routings(path: Path) -> dict[str, tuple[Operation, ...]]:
    reader, rows = _reader(path, "routings")
    grouped: dict[str, list[_LineDict]] = {}
    for row in rows:
        item = str(row.pop("item", ""))
        grouped.setdefault(item, []).append(row)
    routings = reader.routings(grouped)
    reader.done()
    return routings


def read_work_centers(path: Path) -> list[WorkCenter]:
    reader, rows = _reader(path, "work-centers")
    wcs = reader.work_centers(rows)
    reader.done()
    return list(wcs.values())


def read_costs(path: Path, master: MasterData, when: date, tag: str) -> list[CostChange]:
    reader, rows = _reader(path, "costs")
    changes = []
    for row in rows:
        entry = f"line {row.line}"
        code = reader.text(row, "item", entry)
        if code is None:
            continue
        item = master.items.get(code)
        if item is None:
            reader.problem(entry, "item", f"unknown item '{code}'", row)
            continue
        field = "conversion_cost" if item.made else "standard_cost"
        other = "standard_cost" if item.made else "conversion_cost"
        if other in row:
            reader.problem(f"item {code}", other, f"'{code}' is "
                           f"{'made' if item.made else 'purchased'}: give {field}", row)
            continue
        value = reader.number(row, field, f"item {code}", non_negative=True)
        day = reader.day(row, "date", f"item {code}", required=False) or when
        if value is not None:
            changes.append(CostChange(id=str(row.get("id") or f"{tag}:{code}"), date=day,
                                      item=code, **{field: value}))
    reader.done()
    return changes


def read_events(path: Path, master: MasterData) -> list[Event | Flow]:
    """Every event of a file: CSV and JSON Lines as :func:`stream_events` reads them, XLSX
    (one event per row) and scenario files (.yaml, .json) whole."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl"):
        return list(one_by_one(stream_events(path, master, read_ahead=False)))
    source = str(path)
    reader = _Reader(source, Method.BACKFLUSH)
    if suffix == ".xlsx":
        _, rows = read_rows(path)
        for row in rows:
            _split_hours(row)
        raw: list[Any] = rows
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError([Problem("file", None, f"cannot read: {exc.strerror}",
                                           source)]) from None
        doc = parse_text(text, source, suffix)
        raw = doc.get("events", []) if isinstance(doc, dict) else doc
    events, _ = reader.events(raw, master, check_references=False)
    if reader.problems:
        raise ValidationError(reader.problems)
    return list(events)


def _split_hours(row: _LineDict) -> None:
    """A table's ``hours`` cell, "WELD=2; CUT=0.5", as the mapping the reader expects."""
    if "hours" in row:
        hours = _LineDict()
        for part in str(row["hours"]).split(";"):
            if part.strip():
                wc, _, h = part.partition("=")
                hours[wc.strip()] = h.strip()
        row["hours"] = hours


FLOW_COLUMNS = {"id", "date", "type", "item", "qty", "unit_price"}
_FLOW_SET = frozenset(FLOW_TYPES)
MAX_PROBLEMS = 100  # a stream stops posting at its first bad row and lists this many


class _FlowDecoder:
    """Completions, receipts and sales with only id, date, type, item, qty and unit_price,
    checked and built without the general reader (the bulk of a plant's event files).

    Anything else returns None and goes through the general reader, which gives the exact
    message for a bad value.
    """

    def __init__(self, items: Mapping[str, object]) -> None:
        self.items = items  # unknown items go to the general reader, which names them
        self.dates: dict[str, date] = {}
        self.numbers: dict[str, Decimal] = {}

    def number(self, text: Any, positive: bool) -> Decimal | None:
        if isinstance(text, int) and not isinstance(text, bool):
            text = str(text)
        elif isinstance(text, Decimal):
            text = format(text, "f")
        elif not isinstance(text, str):
            return None
        value = self.numbers.get(text)
        if value is None:
            try:
                value = Decimal(text)
            except ArithmeticError:
                return None
            if not value.is_finite() or text != text.strip() or "_" in text:
                return None
            if len(self.numbers) < 100_000:
                self.numbers[text] = value
        if value < 0 or (positive and value == 0):
            return None
        return value

    def day(self, text: Any) -> date | None:
        if not isinstance(text, str):
            return None
        value = self.dates.get(text)
        if value is None:
            if len(text) != 10:
                return None
            try:
                value = self.dates[text] = date.fromisoformat(text)
            except ValueError:
                return None
        return value

    def flow(self, ident: Any, when: Any, kind: Any, item: Any, qty: Any, price: Any
             ) -> Flow | None:
        if kind not in FLOW_TYPES or not isinstance(ident, str) or not isinstance(item, str) \
                or not ident or ident != ident.strip() or item not in self.items:
            return None
        day = self.day(when)
        number = self.number(qty, True)
        if day is None or number is None:
            return None
        unit_price = None
        if price is not None and price != "":
            unit_price = self.number(price, False)
            if unit_price is None or kind == "completion":
                return None
        elif kind == "receipt":
            return None
        return Flow(ident, kind, day, item, number, unit_price)


CHUNK = 50_000  # CSV rows read and checked together (a FlowRun when they all are flows)
READ_AHEAD_BYTES = 4_000_000  # from this file size on, a second process reads the file
READ_AHEAD_CHUNKS = 3  # chunks read and not yet posted, at most
RAMP_FROM = 8_192  # chunks of this many rows or more start smaller (see _csv_blocks)
READ_AHEAD_EVENTS = 2_000  # events read one by one are handed over this many at a time


def stream_events(path: Path, master: MasterData, *, read_ahead: bool | None = None,
                  chunk: int = CHUNK) -> Iterator[Event | Flow | FlowRun]:
    """The events of a file in order, for posting with bounded memory.

    CSV and JSON Lines files are read as a stream; a scenario file (.yaml, .json) is read
    whole. A CSV file is read ``chunk`` rows at a time: a chunk made only of plain
    completions, receipts and sales (id, date, type, item, qty, unit_price, every value
    valid and in its canonical form) comes as one :class:`FlowRun`, checked column by
    column; any other chunk row by row, as :class:`Flow` s and events. The first bad row
    stops the stream: the rest of the file is still read to report every problem (up to
    MAX_PROBLEMS), then ValidationError is raised, so a caller posting inside one
    transaction posts nothing.

    ``read_ahead`` (default: for CSV files of READ_AHEAD_BYTES or more, where the system can
    fork) reads the file in a second process, so reading and posting use both cores; what
    comes out is the same. Not by default for JSON Lines: handing its events over one by one
    costs more than reading them (300,000 completions: 43,650 a second against 67,583).
    """
    if read_ahead is None:
        try:
            read_ahead = (path.suffix.lower() == ".csv"
                          and path.stat().st_size >= READ_AHEAD_BYTES)
        except OSError:
            read_ahead = False
    events = _stream_events(path, master, chunk)
    if read_ahead and "fork" in multiprocessing.get_all_start_methods():
        return _read_ahead(events)
    return events


def one_by_one(stream: Iterable[Event | Flow | FlowRun]) -> Iterator[Event | Flow]:
    """The stream with each FlowRun's flows handed out one by one."""
    for item in stream:
        if isinstance(item, FlowRun):
            yield from item
        else:
            yield item


def batched(stream: Iterable[Event | Flow | FlowRun], size: int
            ) -> Iterator[list[Event | Flow | FlowRun]]:
    """The stream in batches of ``size`` events (FlowRuns split where a batch ends)."""
    batch: list[Event | Flow | FlowRun] = []
    room = size
    for item in stream:
        while isinstance(item, FlowRun) and len(item) > room:
            batch.append(item[:room])
            item = item[room:]
            yield batch
            batch, room = [], size
        batch.append(item)
        room -= len(item) if isinstance(item, FlowRun) else 1
        if room == 0:
            yield batch
            batch, room = [], size
    if batch:
        yield batch


def _read_ahead(items: Iterator[Any]) -> Iterator[Any]:
    """``items`` produced in a forked process and handed over through a pipe, at most
    READ_AHEAD_CHUNKS ahead. An error there is raised here, at the same place in the
    stream; closing this iterator early stops the process."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def produce() -> None:
        receive.close()
        # This process only reads rows into lists and strings: no reference cycles to
        # collect, and the collector's passes over each chunk's rows would double the work.
        gc.disable()
        single: list[Any] = []  # events read one by one go over in lists, not one by one

        def hand_over() -> None:
            if single:
                send.send(("items", single))
                single.clear()

        try:
            for item in items:
                if isinstance(item, FlowRun):
                    hand_over()
                    send.send(("item", item))
                else:
                    single.append(item)
                    if len(single) >= READ_AHEAD_EVENTS:
                        hand_over()
            hand_over()
            send.send(("end", None))
        except ValidationError as exc:
            hand_over()
            send.send(("invalid", exc.problems))
        except BaseException as exc:
            try:
                send.send(("error", exc))
            except Exception:
                send.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        finally:
            send.close()

    worker = ctx.Process(target=produce, name="backflush-reader", daemon=True)
    worker.start()
    send.close()
    # A thread takes the chunks off the pipe as they come (up to READ_AHEAD_CHUNKS ahead),
    # so the reader never waits while a run is being posted. They wait pickled: a chunk's
    # one joined string is a few MB, its values as objects ten times that.
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=READ_AHEAD_CHUNKS)
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            message: bytes | None
            try:
                message = receive.recv_bytes()
            except (EOFError, OSError):
                message = None
            while not stop.is_set():
                try:
                    chunks.put(message, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if message is None:
                return

    pumping = threading.Thread(target=pump, name="backflush-reader-pipe", daemon=True)
    pumping.start()

    def consume() -> Iterator[Any]:
        try:
            while True:
                message = chunks.get()
                tag, value = (pickle.loads(message) if message is not None
                              else ("ended", None))
                del message
                if tag == "item":
                    yield value
                elif tag == "items":
                    yield from cast(list[Any], value)
                elif tag == "end":
                    return
                elif tag == "invalid":
                    raise ValidationError(cast(list[Problem], value))
                elif tag == "ended":
                    worker.join()
                    raise RuntimeError("the process reading the event file ended "
                                       f"unexpectedly (exit code {worker.exitcode})")
                else:
                    raise cast(BaseException, value)
        finally:
            stop.set()
            if worker.is_alive():
                worker.terminate()
            worker.join()
            pumping.join()
            receive.close()

    return consume()


FLAT_HEADER = ["id", "date", "type", "item", "qty"]


_COMMAS = methodcaller("count", ",")


def _columns(block: _Block, at: Mapping[str, int], width: int,
             decoder: _FlowDecoder, header_is_flat: bool = False) -> FlowRun | None:
    """A block of rows as one FlowRun, when each of them would be a Flow read row by row,
    with every value in its canonical text; otherwise None (then they are read row by row).

    Each distinct value is checked once: the checks are those of ``_FlowDecoder.flow``."""
    if block.lines is not None:  # plain lines: all values in one split
        if set(map(_COMMAS, block.lines)) != {width - 1}:
            return None
        flat = ",".join(block.lines).split(",")
    else:
        if set(map(len, block.rows)) != {width}:
            return None
        flat = list(chain.from_iterable(block.rows))
    cols = [flat[i::width] for i in range(width)]  # by slicing: far cheaper than zip(*rows)
    ids, kinds, days = cols[at["id"]], cols[at["type"]], cols[at["date"]]
    items, qtys = cols[at["item"]], cols[at["qty"]]
    if any(set(col) != {""} for name, col in zip(at, cols, strict=True)
           if name not in FLOW_COLUMNS):
        return None  # another column has a value: not a plain flow
    kind_set = set(kinds)
    if not kind_set <= _FLOW_SET or not set(items) <= decoder.items.keys() or not all(ids):
        return None
    if any(c.isspace() for c in set(map(itemgetter(0), ids)) | set(map(itemgetter(-1), ids))):
        return None
    dates: dict[str, date] = {}
    for text in set(days):
        day = decoder.day(text)
        if day is None or day.isoformat() != text:
            return None
        dates[text] = day
    numbers: dict[str, Decimal] = {}
    for text in set(qtys):
        qty = decoder.number(text, True)
        if qty is None or format(qty, "f") != text:
            return None
        numbers[text] = qty
    if "unit_price" not in at:
        if "receipt" in kind_set:
            return None  # a receipt needs its price
        if header_is_flat:  # the file's own order: its rows are the run's rows
            return FlowRun(flat, width, dates, numbers)
        return FlowRun(list(chain.from_iterable(zip(ids, days, kinds, items, qtys,
                                                    strict=True))), 5, dates, numbers)
    prices = cols[at["unit_price"]]
    for kind, has_price in set(zip(kinds, map(bool, prices), strict=True)):
        if (kind == "completion" and has_price) or (kind == "receipt" and not has_price):
            return None
    texts: dict[str, str] = {"": ""}
    payloads: dict[str, Decimal] = {}
    for text in set(prices) - {""}:
        price = decoder.number(text, False)
        if price is None or format(price, "f") != text:
            return None
        payload = texts[text] = '{"unit_price": "' + text + '"}'
        payloads[payload] = price
    flat = list(chain.from_iterable(zip(ids, days, kinds, items, qtys,
                                        map(texts.__getitem__, prices), strict=True)))
    return FlowRun(flat, 6, dates, numbers, payloads)


_CSV_FIELD_LIMIT = csv.field_size_limit()


class _Block:
    """Up to a chunk of a CSV file's rows: as plain lines (split on commas when wanted), or
    as ``csv.reader`` rows."""

    __slots__ = ("_rows", "lines")

    def __init__(self, lines: list[str] | None, rows: list[list[str]] | None = None) -> None:
        self.lines, self._rows = lines, rows

    @property
    def rows(self) -> list[list[str]]:
        if self._rows is None:
            assert self.lines is not None
            self._rows = [line.split(",") if line else [] for line in self.lines]
        return self._rows


def _csv_blocks(fh: TextIO, chunk: int) -> Iterator[_Block]:
    """The rest of a CSV file's rows, ``chunk`` at a time, exactly as ``csv.reader`` gives
    them. Blocks of plain lines (no quote, no lone carriage return, no NUL, no field over
    csv's size limit) are split on commas directly, several times faster; from the first
    block that is not plain on, ``csv.reader`` reads the rest (a quoted field may span
    lines). Big chunks start smaller (an eighth, an eighth, a quarter, a half: one chunk in
    all): posting gets its first rows, and works out their shapes, while the rest of the
    first chunk is still read, and later blocks still end where whole chunks end."""
    ramp = [chunk // 8, chunk // 8, chunk // 4] if chunk >= RAMP_FROM else []
    if ramp:
        ramp.append(chunk - sum(ramp))
    while True:
        lines = list(islice(fh, ramp.pop(0) if ramp else chunk))
        if not lines:
            return
        text = "".join(lines)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        if '"' in text or "\r" in text or "\0" in text \
                or max(map(len, lines)) > _CSV_FIELD_LIMIT:
            rows = csv.reader(chain(lines, fh))
            while block := list(islice(rows, chunk)):
                yield _Block(None, block)
            return
        parts = text.split("\n")
        if text.endswith("\n"):
            parts.pop()
        del lines, text  # not held while the block is worked on (the reader's peak memory)
        yield _Block(parts)


def _stream_events(path: Path, master: MasterData, chunk: int
                   ) -> Iterator[Event | Flow | FlowRun]:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        yield from read_events(path, master)
        return
    source = str(path)
    reader = _Reader(source, Method.BACKFLUSH)
    decoder = _FlowDecoder(master.items)
    locations: dict[str, tuple[str, int | None]] = {}
    try:
        fh = path.open(newline="" if suffix == ".csv" else None, encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError([Problem("file", None, f"cannot read: {exc.strerror}",
                                       source)]) from None

    def general(row: _LineDict, index: int) -> Event | None:
        """The general reader, for one row (index: its place among the file's events)."""
        before = len(reader.problems)
        entry = f"events[{index}]" + (f" ({row['id']})" if row.get("id") is not None else "")
        event = reader.event(row, entry, index, master, locations)
        return event if len(reader.problems) == before else None

    with fh:
        if suffix == ".csv":
            rows = csv.reader(fh)
            header = [h.strip() for h in next(rows, [])]
            if not header:
                raise ValidationError([Problem("file", None, "the file is empty", source)])
            width = len(header)
            fast = {"id", "date", "type", "item", "qty"} <= set(header) <= FLOW_COLUMNS
            columnar = {"id", "date", "type", "item", "qty"} <= set(header) \
                and len(set(header)) == width
            at = {name: i for i, name in enumerate(header)}
            i_id, i_date, i_type = at.get("id", 0), at.get("date", 0), at.get("type", 0)
            i_item, i_qty, i_price = at.get("item", 0), at.get("qty", 0), at.get("unit_price")
            flow = decoder.flow
            dates, numbers, items = decoder.dates, decoder.numbers, decoder.items
            index = -1
            n = 1
            blocks = _csv_blocks(fh, chunk)
            while len(reader.problems) < MAX_PROBLEMS:
                found_block = next(blocks, None)
                if found_block is None:
                    break
                if columnar and not reader.problems:
                    run = _columns(found_block, at, width, decoder, header == FLAT_HEADER)
                    if run is not None:
                        found_block = None  # its lines are in the run: let them go
                        yield run
                        n += len(run)
                        index += len(run)
                        continue
                for values in found_block.rows:
                    n += 1
                    index += 1
                    if fast and len(values) == width:
                        # The common row, from the caches of values already checked; a value
                        # not seen yet goes through the decoder, which checks and caches it.
                        kind, item = values[i_type], values[i_item]
                        qty, day = numbers.get(values[i_qty]), dates.get(values[i_date])
                        ident = values[i_id]
                        if kind == "completion" and day is not None and qty is not None \
                                and qty > 0 and item in items and ident and ident[0] != " " \
                                and ident[-1] != " " and (i_price is None or not values[i_price]):
                            if not reader.problems:
                                yield Flow(ident, kind, day, item, qty, None)
                            continue
                        found = flow(ident, values[i_date], kind, item, values[i_qty],
                                     values[i_price] if i_price is not None else None)
                        if found is not None:
                            if not reader.problems:
                                yield found
                            continue
                    if not any(v.strip() for v in values):
                        index -= 1
                        continue
                    row = _LineDict()
                    row.line = n
                    for key, value in zip(header, values, strict=False):
                        if key and value.strip():
                            row[key] = value.strip()
                    if len(values) > width:
                        reader.problems.append(Problem(f"line {n}", None, f"{len(values)} cells "
                                                       f"for {width} columns", source, n))
                        continue
                    _split_hours(row)
                    event = general(row, index)
                    if event is not None and not reader.problems:
                        yield event
                    if len(reader.problems) >= MAX_PROBLEMS:
                        break
        else:
            flow = decoder.flow
            index = -1
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                index += 1
                try:
                    obj = json.loads(line, parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    reader.problems.append(Problem(f"line {n}", None,
                                                   f"malformed JSON: {exc.msg}", source, n))
                    continue
                if isinstance(obj, dict) and obj.keys() <= FLOW_COLUMNS:
                    found = flow(obj.get("id"), obj.get("date"), obj.get("type"),
                                 obj.get("item"), obj.get("qty"), obj.get("unit_price"))
                    if found is not None:
                        if not reader.problems:
                            yield found
                        continue
                if not isinstance(obj, dict):
                    reader.problems.append(Problem(f"line {n}", None, "expected a JSON object",
                                                   source, n))
                    continue
                row = _LineDict(obj)
                row.line = n
                event = general(row, index)
                if event is not None and not reader.problems:
                    yield event
                if len(reader.problems) >= MAX_PROBLEMS:
                    break
    if reader.problems:
        raise ValidationError(reader.problems[:MAX_PROBLEMS])
