"""Event files for a ledger: CSV, JSON Lines and XLSX streamed; scenario files' events.

:func:`stream_events` yields a file's events in order, for posting in one transaction:

* Every event must carry its own ``id`` (the idempotency key); a close may omit it
  (``close-YYYY-MM``). Unknown items and work centers are reported here.
* CSV and JSON Lines are read in chunks (:data:`~.limits.CHUNK_ROWS` rows or
  :data:`~.limits.CHUNK_BYTES`), so memory stays bounded whatever the file's size.
* **The bulk path.** A plant's files are mostly plain completions, receipts and sales (only
  id, date, type, item, qty, unit_price). In a chunk, each *distinct* (type, date, item, qty,
  unit_price) is checked once, by building the real event through the very schema and
  domain checks a single row goes through (:meth:`EventReader.template`); ids are checked a
  column at a time by the id rule itself (:func:`bad_ids`). Such rows come out as
  :class:`~backflush.service_layer.batch.Flows` (columns, no object per event). Any other
  row, and any row the bulk checks did not pass, goes row by row (:meth:`EventReader.read`),
  which gives the exact message: the bulk path can only *send* a row to the row path, never
  accept one the row path would refuse.
* JSON Lines chunks are decoded with msgspec (lossless; 45 % of the read time saved,
  ``bench/bench_readers.py``). msgspec keeps the last of two equal keys, so a line whose
  ``:`` do not add up to its keys, or that holds a backslash, goes through the json module,
  which refuses duplicate keys.

The first problem stops the events, but the file is read on to report every problem (the
first :data:`~.limits.MAX_PROBLEMS` listed); ValidationError comes at the end.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import compress, repeat
from operator import attrgetter, is_, itemgetter, methodcaller
from pathlib import Path
from typing import Any

import msgspec
from pydantic import TypeAdapter

from backflush.adapters.files import tables
from backflush.adapters.files.limits import Day, Invalid, Problems, bad_ids, refuse
from backflush.adapters.files.loaders import (
    ANY,
    DECODE_ERRORS,
    FLOW_KEYS,
    FLOW_SET,
    LineDict,
    colons,
    decode_flows,
    json_line,
    json_line_blocks,
    keys_of,
    line_of,
    load_path,
)
from backflush.adapters.files.scenario import EventReader, entry_of
from backflush.adapters.files.schemas import EVENT_KEYS, PLACEHOLDER_ID, validate
from backflush.domain.errors import NumberError, Problem
from backflush.domain.events import Event
from backflush.domain.masterdata import MasterData
from backflush.service_layer.batch import Flows, Located

_ID, _PRICE = attrgetter("id"), attrgetter("unit_price")
_SHAPE, _DATE = attrgetter("type", "item", "qty"), attrgetter("date")
TEMPLATE_KEYS = ("type", "item", "qty", "unit_price")  # a template's shape: no date
TEMPLATE_DAY, DAY = date(2000, 1, 1), TypeAdapter(Day)  # rows' dates come in a column
MAX_TEMPLATES = 50_000  # distinct shapes remembered across chunks (a month of completions: ~1,000)
SUFFIXES = (".csv", ".jsonl", ".xlsx", ".yaml", ".yml", ".json")


@contextmanager
def _no_gc() -> Iterator[None]:
    """The collector off while a chunk's (live) objects are made; never across a yield."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_UNHASHABLE = object()


def _untyped(key: Any) -> Any:
    """The value a typed key stands for (:func:`_typed` undone)."""
    if key is _UNHASHABLE:
        return key
    return Decimal(key[1]) if key[0] is Decimal else key[1]


def _typed(value: Any) -> Any:
    if type(value) is Decimal:
        return (Decimal, str(value))  # 5.0 and 5.00 are equal, but not the same event
    try:
        hash(value)
    except TypeError:
        return _UNHASHABLE  # a list or a mapping: never a valid flow field
    return (type(value), value)


def _kind_of(values: Iterable[Any]) -> str | None:
    """The one plain type of ``values`` (their own keys then), or None."""
    kinds = set(map(type, values))
    if len(kinds) != 1:
        return None
    only = kinds.pop()
    if only is Decimal or only.__hash__ is None or only in (dict, list, LineDict):
        return None
    return only.__name__


def _keyed(col: Sequence[Any]) -> tuple[Sequence[Any], str]:
    """A column as template keys, and what kind of keys they are. A column of one plain
    type is its own key; otherwise keys carry the type (True and 1 are equal in Python)."""
    what = _kind_of(col)
    return (col, what) if what is not None else (list(map(_typed, col)), "typed")


class _Stream:
    """One event file being read: its problems, its position, the templates seen so far."""

    def __init__(self, path: Path, master: MasterData, bulk: bool = True) -> None:
        self.path, self.source, self.master, self.bulk = path, str(path), master, bulk
        self.problems = Problems()
        self.reader = EventReader(self.source, master, self.problems, ledger=True)
        self.known: dict[tuple[Any, ...], dict[Any, int]] = {}  # key -> number in all
        self.all: list[Event] = []  # every template of the file so far
        self.days: dict[tuple[str, Any], date | None] = {}  # a date cell, as read, and
        self.checked: dict[tuple[date, str], bool] = {}  # whether (date, type) passes
        self.index = 0  # the position of the next event among the file's events

    def plan(self, cols: Mapping[str, Sequence[Any]], n: int,
             given: Callable[[dict[str, Any]], dict[str, Any]], *,
             texts: Collection[str] = ()) -> tuple[list[int | None], list[Event]]:
        """:meth:`numbered` of the template columns ``cols`` (``texts``: columns all of text
        or msgspec's UNSET, each its own key); without ``bulk``, none."""
        if not self.bulk:
            return [None] * n, []
        names, keyed, kinds = [], [], []
        for name in TEMPLATE_KEYS:
            if name in cols:
                col, what = (cols[name], "str") if name in texts else _keyed(cols[name])
                names.append(name)
                keyed.append(col)
                kinds.append((name, what))
        keys = list(zip(*keyed, strict=True)) if keyed else [()] * n
        return self.numbered(names, tuple(kinds), keys, n, given)

    def numbered(self, names: list[str], kinds: tuple[tuple[str, str], ...], keys: list[Any],
                 n: int, given: Callable[[dict[str, Any]], dict[str, Any]]
                 ) -> tuple[list[int | None], list[Event]]:
        """Each row's template (its number in the list returned), or None: each distinct
        key (the row's ``names`` values, of ``kinds``) checked once, by
        :meth:`EventReader.template` on ``given`` of them (what the row path would take).

        Templates are numbered once for the file (``self.known``: key -> number, -1 for
        none), so a chunk of shapes seen before costs a few passes in C, not a loop."""
        known = self.known.setdefault(kinds, {})
        numbers: list[Any] = list(map(known.get, keys))
        if None in numbers:
            if len(self.all) > MAX_TEMPLATES:  # forget, rather than grow without end
                self.known.clear()
                self.all = []
                known = self.known.setdefault(kinds, {})
                numbers = [None] * n  # (the numbers found were of the templates forgotten)
            unseen = list(compress(range(n), map(is_, numbers, repeat(None))))
            for key in dict.fromkeys(map(keys.__getitem__, unseen)):
                values = [_untyped(v) if what == "typed" else v
                          for v, (_, what) in zip(key, kinds, strict=True)]
                template = None if _UNHASHABLE in values else \
                    self.reader.template({**given(dict(zip(names, values, strict=True))),
                                          "id": PLACEHOLDER_ID, "date": TEMPLATE_DAY})
                known[key] = -1 if template is None else len(self.all)
                if template is not None:
                    self.all.append(template)
            for p in unseen:  # only the rows of shapes new to the file
                numbers[p] = known[keys[p]]
        order: dict[int, None] = dict.fromkeys(numbers)
        order.pop(-1, None)
        local: dict[int, int | None] = dict(zip(order, range(len(order)), strict=True))
        local[-1] = None
        return list(map(local.__getitem__, numbers)), list(map(self.all.__getitem__, order))

    def dated(self, col: Sequence[Any] | None, n: int, templates: list[Event], texts: bool
              ) -> tuple[list[int | None], list[date]]:
        """Each row's date (its number in the list returned), or None: each distinct date
        read by the models' date type, then checked by a real event of each flow type on it
        (the domain checks a date alone, whatever the other fields: that event stands for
        its type's templates, and a row's event is its template on its date)."""
        if col is None or not templates:
            return [None] * n, []
        keys, what = (col, "str") if texts else _keyed(col)
        if len(self.days) > MAX_TEMPLATES:  # forget, rather than grow without end
            self.days.clear()
        probes = list({t.type: t for t in templates}.values())
        number: dict[Any, int] = {}
        dates: list[date] = []
        for key in dict.fromkeys(keys):
            day = self.day(_untyped(key) if what == "typed" else key, what, probes)
            if day is not None:
                number[key] = len(dates)
                dates.append(day)
        return list(map(number.get, keys)), dates

    def day(self, raw: Any, what: str, probes: list[Event]) -> date | None:
        """A date cell as the models read it, if events of the probes' types take it."""
        if raw is _UNHASHABLE:
            return None
        if (what, raw) not in self.days:
            try:
                self.days[(what, raw)] = None if tables.blank(raw) else validate(DAY, raw)
            except Invalid:
                self.days[(what, raw)] = None
        day = self.days[(what, raw)]
        if day is None:
            return None
        for probe in probes:
            if (day, probe.type) not in self.checked:
                try:
                    self.checked[(day, probe.type)] = bool(replace(probe, date=day))
                except NumberError:  # the event's own checks, on this date
                    self.checked[(day, probe.type)] = False
            if not self.checked[(day, probe.type)]:
                return None
        return day

    def all_flows(self, n: int, ids: Sequence[str], index: Sequence[int | None],
                  templates: list[Event], lines: Sequence[int], days: Sequence[int | None],
                  dates: list[date]) -> Iterator[Flows]:
        """A chunk all of plain flows: one Flows, made now (the rows go before the collector
        is back)."""
        first, self.index = self.index, self.index + n
        if self.problems:
            return iter(())
        return iter((Flows(ids, index, templates, self.source, lines, first, days, dates),))  # type: ignore[arg-type]

    def emit(self, n: int, ok: Sequence[bool], ids: Sequence[str],
             index: Sequence[int | None], templates: list[Event], lines: Sequence[int],
             row: Callable[[int, int], Located | None], blank: Callable[[int], bool],
             days: Sequence[int | None] = (), dates: Sequence[date] = ()
             ) -> Iterator[Located | Flows]:
        """The chunk's events in order: runs of the rows ``ok`` as Flows, the others row by
        row. Nothing is yielded once a problem was found."""
        run: list[int] = []

        def flush() -> Iterator[Flows]:
            if run and not self.problems:
                yield Flows([ids[p] for p in run], [index[p] for p in run],  # type: ignore[misc]
                            templates, self.source, [lines[p] for p in run],
                            self.index - len(run), [days[p] for p in run], dates)  # type: ignore[misc]
            run.clear()

        for p in range(n):
            if ok[p]:
                run.append(p)
                self.index += 1
                continue
            yield from flush()
            if blank(p):
                continue
            located = row(p, self.index)
            self.index += 1
            if located is not None and not self.problems:
                yield located
        yield from flush()

    # ------------------------------------------------------------------ tables
    def table(self, table: tables.Table, *, texts: bool = False
              ) -> Iterator[Located | Flows]:
        found = table.header_problems(EVENT_KEYS, ("type",))
        if found:
            table.close()
            self.problems.extend(found)
            raise self.problems.error()
        names = table.header
        width = len(names)
        at = {name: k for k, name in enumerate(names)}
        extras = [k for k, name in enumerate(names) if name not in FLOW_SET]
        bulk = "id" in at and "type" in at
        chunks = table.chunks()
        try:
            while True:
                with _no_gc():  # the reading too: csv.reader makes a list per row
                    chunk = next(chunks, None)
                    if chunk is None:
                        return
                    rows, lines = chunk
                    pieces = self.table_chunk(rows, lines, names, at, width, extras, bulk,
                                              texts)
                    del chunk, rows, lines  # gone before the collector is back (if unused)
                yield from pieces
        finally:
            table.close()

    def table_chunk(self, rows: list[list[Any]], lines: Sequence[int], names: list[str],
                    at: dict[str, int], width: int, extras: list[int], bulk: bool,
                    texts: bool) -> Iterator[Located | Flows]:
        n = len(rows)

        def row(p: int, index: int) -> Located | None:
            values = rows[p]
            raw, issues = tables.mapping(names, values, lines[p])
            if len(values) > width:
                self.problems.add(Problem(entry_of(index, raw.get("id")), None,
                                          f"the row has {len(values)} cells but the header "
                                          f"has {width} columns", self.source, lines[p]))
                return None
            return self.reader.read(raw, index, lines[p], issues)

        def blank(p: int) -> bool:
            return all(map(tables.blank, rows[p]))

        if not bulk or not n:
            return self.emit(n, [False] * n, [], [], [], lines, row, blank)
        uneven: set[int] = set()
        if set(map(len, rows)) != {width}:
            uneven = {p for p, r in enumerate(rows) if len(r) > width or not r}
            pad = "" if texts else None  # a missing cell is an empty one
            rows_for_cols = [r[:width] + [pad] * (width - len(r)) for r in rows]
        else:
            rows_for_cols = rows
        flow_names = [name for name in TEMPLATE_KEYS if name in at]

        def given(values: dict[str, Any]) -> dict[str, Any]:  # as tables.mapping takes them
            return {k: v for k, v in values.items() if not tables.blank(v)}

        def column(k: int) -> list[Any]:
            return list(map(itemgetter(k), rows_for_cols))

        for k in extras:  # another column given: not a plain flow
            col = column(k)
            if not set(col) <= {"", None}:
                uneven.update(p for p, v in enumerate(col) if not tables.blank(v))
        ids = column(at["id"])
        if texts and len(flow_names) > 1:  # every cell is text: one pass makes the keys
            keys = list(map(itemgetter(*(at[k] for k in flow_names)), rows_for_cols))
            index, templates = self.numbered(
                flow_names, tuple((k, "str") for k in flow_names), keys, n, given)
        else:
            index, templates = self.plan({k: column(at[k]) for k in flow_names}, n, given,
                                         texts=flow_names if texts else ())
        days, dates = self.dated(column(at["date"]) if "date" in at else None, n, templates,
                                 texts)
        bad = bad_ids(ids, texts) | uneven
        if not bad and None not in index and None not in days:
            return self.all_flows(n, ids, index, templates, lines, days, dates)
        ok = [index[p] is not None and days[p] is not None and p not in bad for p in range(n)]
        return self.emit(n, ok, ids, index, templates, lines, row, blank, days, dates)

    # ------------------------------------------------------------------ JSON Lines
    def jsonl(self) -> Iterator[Located | Flows]:
        try:
            fh = self.path.open("rb")
        except OSError as exc:
            raise refuse("file", f"cannot read: {exc.strerror or exc}", self.source) from None
        with fh:
            chunks = json_line_blocks(fh, self.source)
            while True:
                with _no_gc():
                    chunk = next(chunks, None)
                    if chunk is None:
                        return
                    pieces = self.jsonl_chunk(*chunk)
                    del chunk
                yield from pieces

    def jsonl_row(self, line: bytes, number: int, offset: int, index: int
                  ) -> Located | None:
        """One line the json module's way: duplicate keys, NaN and long numbers refused."""
        entry = f"events[{index}]"
        raw, field, message = json_line(line, offset)
        if raw is None:
            self.problems.add(Problem(entry, field, message, self.source, number))
            return None
        raw.line = number
        return self.reader.read(raw, index, number)

    def jsonl_chunk(self, lines: list[bytes], first: int, offset: int
                    ) -> Iterator[Located | Flows]:
        n = len(lines)
        starts: list[int] = []

        def byte_offset(p: int) -> int:
            if not starts:
                at = offset
                for line in lines:
                    starts.append(at)
                    at += len(line) + 1
            return starts[p]

        def row(p: int, index: int) -> Located | None:
            return self.jsonl_row(lines[p], first + p, byte_offset(p), index)

        def blank(p: int) -> bool:
            return not lines[p].strip()

        joined = b",".join(lines)
        decoded, typed = decode_flows(b"[" + joined + b"]", n)
        objs: list[Any] = decoded if decoded is not None else []
        suspect: set[int] = set()
        shaped: tuple[list[str], tuple[tuple[str, str], ...], list[Any]] | None = None
        if typed:  # msgspec's structs: id, date, type, item text, qty given
            cols = {"id": list(map(_ID, objs)), "unit_price": list(map(_PRICE, objs))}
            absent: Any = msgspec.UNSET
            missing = {k: 0 for k in FLOW_KEYS}
            missing["unit_price"] = cols["unit_price"].count(absent)
            keys = n * len(FLOW_KEYS) - missing["unit_price"]
            shapes = list(map(_SHAPE, objs))
            qty_kind = _kind_of(map(itemgetter(2), shapes))
            cols["date"] = list(map(_DATE, objs))
            if missing["unit_price"] == n and qty_kind is not None:  # no prices: keys made
                shaped = (["type", "item", "qty"],
                          (("type", "str"), ("item", "str"), ("qty", qty_kind)), shapes)
            else:
                for k, col in zip(("type", "item", "qty"), zip(*shapes, strict=True),
                                  strict=True):
                    cols[k] = col  # type: ignore[assignment]
        elif decoded is not None:  # the json module's mappings, each of flow fields only
            cols = {k: list(map(methodcaller("get", k), objs)) for k in FLOW_KEYS}
            absent = None
            missing = {k: col.count(absent) for k, col in cols.items()}
            keys = sum(map(len, objs))
        else:  # line by line: anything but a flat object of flow fields goes the json way
            for p, line in enumerate(lines):
                try:
                    obj = ANY.decode(line)
                except DECODE_ERRORS:
                    obj = None
                if type(obj) is not dict or not obj.keys() <= FLOW_SET \
                        or b"\\" in line or line.count(b":") != len(obj) + colons(obj):
                    suspect.add(p)
                    obj = {}
                objs.append(obj)
            cols = {k: [o.get(k) for o in objs] for k in FLOW_KEYS}
            absent = None
            missing = {k: col.count(None) for k, col in cols.items()}
            keys = -1  # checked line by line above
        # As many colons as keys: none inside a string, and no key twice (each has its own
        # colon). Else each line is checked: a line with a backslash (an escaped key could
        # be a duplicate in disguise) or more colons than its keys and strings have goes the
        # json way, which refuses duplicate keys.
        if keys >= 0 and joined.count(b":") != keys:
            suspect = {p for p in range(n) if b"\\" in lines[p] or lines[p].count(b":")
                       != keys_of(objs[p]) + colons(objs[p])}
        present = [k for k in TEMPLATE_KEYS if missing[k] != n]

        def given(values: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in values.items() if v is not absent}

        ids = cols["id"]
        if shaped is not None:
            index, templates = self.numbered(*shaped, n, given)
        else:
            index, templates = self.plan({k: cols[k] for k in present}, n, given,
                                         texts=("date", "type", "item") if typed else ())
        days, dates = self.dated(cols["date"] if missing["date"] != n else None, n,
                                 templates, typed)
        bad = bad_ids(ids, typed) | suspect
        lines_of = range(first, first + n)
        if not bad and None not in index and None not in days:
            return self.all_flows(n, ids, index, templates, lines_of, days, dates)
        ok = [index[p] is not None and days[p] is not None and p not in bad for p in range(n)]
        return self.emit(n, ok, ids, index, templates, lines_of, row, blank, days, dates)

    def document(self) -> Iterator[Located | Flows]:
        data = load_path(self.path)
        raw = data.get("events") if isinstance(data, dict) else data
        if not isinstance(raw, list):
            raise refuse("document", "expected a list of events, or a scenario with events",
                         self.source, line_of(data))
        for i, event in enumerate(raw):
            located = self.reader.read(event, i)
            if located is not None and not self.problems:
                yield located


def stream_events(path: Path, master: MasterData, *, bulk: bool = True
                  ) -> Iterator[Located | Flows]:
    """The events of a ``.csv``, ``.jsonl``, ``.xlsx`` file, or of a scenario file's
    ``events`` list (or a bare list; ``.yaml``, ``.yml``, ``.json``), in order; see the
    module's docstring. ValidationError (every problem) at the end when any is bad.
    ``bulk=False``: every row through the models (slower; the same events)."""
    path = Path(path)
    stream = _Stream(path, master, bulk)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        events = stream.jsonl()
    elif suffix in (".csv", ".xlsx"):
        events = stream.table(tables.open_table(path), texts=suffix == ".csv")
    elif suffix in (".yaml", ".yml", ".json"):
        events = stream.document()
    else:
        raise refuse("file", f"expected one of {', '.join(SUFFIXES)}", str(path))
    yield from events
    stream.problems.raise_if_any()
