"""The events the engine accepts (posting-rules §3), as immutable records.

Every event has an external ``id`` (idempotency key) and a ``date``. Quantities and amounts
are Decimals; floats are refused when an event is built.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import Decimal
from itertools import chain, compress
from operator import ne
from typing import NamedTuple, overload

from backflush.domain.errors import NumberError
from backflush.domain.numbers import ZERO, to_decimal

DEFAULT_LOCATION = "stores"
ELEMENTS_INCURRED = ("labor", "overhead", "conversion")


def _dec(event: object, name: str, *, positive: bool = False, non_negative: bool = False,
         optional: bool = False) -> None:
    value = getattr(event, name)
    if value is None and optional:
        return
    ident = getattr(event, "id", "?")
    number = to_decimal(value, f"event {ident}: {name}")
    if positive and number <= 0:
        raise NumberError(f"event {ident}: {name} must be positive, got {number}")
    if non_negative and number < 0:
        raise NumberError(f"event {ident}: {name} must not be negative, got {number}")
    object.__setattr__(event, name, number)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    id: str
    date: date

    type = "event"

    def content(self) -> dict[str, object]:
        """The canonical content, the basis of the idempotency hash."""
        out: dict[str, object] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "id":
                continue
            out[f.name] = _canonical(value)
        return out

    def content_hash(self) -> str:
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != 0 else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)}
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt(Event):
    item: str
    qty: Decimal
    unit_price: Decimal
    supplier: str = ""
    location: str = DEFAULT_LOCATION
    type = "receipt"

    def __post_init__(self) -> None:
        _dec(self, "qty", positive=True)
        _dec(self, "unit_price", non_negative=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversionIncurred(Event):
    amount: Decimal
    element: str = "conversion"
    credit: str | None = None
    type = "conversion_incurred"

    def __post_init__(self) -> None:
        _dec(self, "amount", positive=True)
        if self.element not in ELEMENTS_INCURRED:
            raise NumberError(f"event {self.id}: element must be one of "
                              f"{', '.join(ELEMENTS_INCURRED)}, got {self.element!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion(Event):
    item: str
    qty: Decimal
    scrap_qty: Decimal = ZERO
    hours: tuple[tuple[str, Decimal], ...] = ()
    location: str = DEFAULT_LOCATION
    output_location: str | None = None
    order: str = ""
    type = "completion"

    def __post_init__(self) -> None:
        _dec(self, "qty", non_negative=True)
        _dec(self, "scrap_qty", non_negative=True)
        if self.qty + self.scrap_qty <= 0:
            raise NumberError(f"event {self.id}: qty + scrap_qty must be positive")
        hours = []
        for wc, h in self.hours:
            number = to_decimal(h, f"event {self.id}: hours {wc}")
            if number < 0:
                raise NumberError(f"event {self.id}: hours {wc} must not be negative")
            hours.append((wc, number))
        object.__setattr__(self, "hours", tuple(sorted(hours)))

    @property
    def destination(self) -> str:
        return self.output_location or self.location


@dataclass(frozen=True, slots=True, kw_only=True)
class Scrap(Event):
    item: str
    qty: Decimal
    reason: str = ""
    location: str = DEFAULT_LOCATION
    type = "scrap"

    def __post_init__(self) -> None:
        _dec(self, "qty", positive=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sale(Event):
    item: str
    qty: Decimal
    unit_price: Decimal | None = None
    customer: str = ""
    location: str = DEFAULT_LOCATION
    type = "sale"

    def __post_init__(self) -> None:
        _dec(self, "qty", positive=True)
        _dec(self, "unit_price", non_negative=True, optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Event):
    item: str
    qty: Decimal
    from_location: str = DEFAULT_LOCATION
    to_location: str = "line"
    type = "transfer"

    def __post_init__(self) -> None:
        _dec(self, "qty", positive=True)
        if self.from_location == self.to_location:
            raise NumberError(f"event {self.id}: a transfer needs two different locations")


@dataclass(frozen=True, slots=True, kw_only=True)
class Count(Event):
    item: str
    qty: Decimal
    location: str = DEFAULT_LOCATION
    type = "count"

    def __post_init__(self) -> None:
        _dec(self, "qty", non_negative=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Release(Event):
    item: str
    qty: Decimal
    due: date | None = None
    type = "release"

    def __post_init__(self) -> None:
        _dec(self, "qty", positive=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reversal(Event):
    of: str
    type = "reversal"


@dataclass(frozen=True, slots=True, kw_only=True)
class CostChange(Event):
    item: str
    standard_cost: Decimal | None = None
    conversion_cost: Decimal | None = None
    type = "cost_change"

    def __post_init__(self) -> None:
        _dec(self, "standard_cost", non_negative=True, optional=True)
        _dec(self, "conversion_cost", non_negative=True, optional=True)
        if (self.standard_cost is None) == (self.conversion_cost is None):
            raise NumberError(f"event {self.id}: give exactly one of standard_cost "
                              "and conversion_cost")


@dataclass(frozen=True, slots=True, kw_only=True)
class Close(Event):
    period: str
    type = "close"


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` period; ValueError when malformed."""
    parts = period.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2:
        raise ValueError(f"period must look like 2026-11, got {period!r}")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ValueError(f"period must look like 2026-11, got {period!r}")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.type: cls
    for cls in (Receipt, ConversionIncurred, Completion, Scrap, Sale, Transfer, Count,
                Release, Reversal, CostChange, Close)
}


FLOW_TYPES = ("completion", "receipt", "sale")


class Flow(NamedTuple):
    """A completion, receipt or sale read in bulk, every other field at its default.

    The high-volume events of a plant, already checked by the reader (positive quantity,
    non-negative price, a price on a receipt). :meth:`event` builds the full event.
    """

    id: str
    type: str
    date: date
    item: str
    qty: Decimal
    unit_price: Decimal | None = None

    def event(self) -> Event:
        if self.type == "completion":
            return Completion(id=self.id, date=self.date, item=self.item, qty=self.qty)
        if self.type == "receipt":
            assert self.unit_price is not None, "a receipt flow has a price"
            return Receipt(id=self.id, date=self.date, item=self.item, qty=self.qty,
                           unit_price=self.unit_price)
        return Sale(id=self.id, date=self.date, item=self.item, qty=self.qty,
                    unit_price=self.unit_price)


FlowKey = tuple[str, date, str, Decimal]  # type, date, item, qty: what a flow's shape needs


class FlowRun(Sequence[Flow]):
    """Consecutive completions, receipts and sales in columns, as the bulk reader hands them
    over: the same events as the :class:`Flow` s it yields one by one, without an object each.

    ``rows`` is row-major, ``width`` values an event: id, date, type, item and qty as their
    canonical text (``date.isoformat()``, ``format(qty, "f")``) and, when ``width`` is 6, the
    stored payload: ``""`` or ``{"unit_price": "<canonical price>"}``. ``dates``,
    ``numbers`` and ``payloads`` map each text to its value. ``counts`` holds how many events
    share each (type, date, item, qty); ``days`` the run's stretches of one date, in order,
    as (first, stop, date text).
    """

    __slots__ = ("counts", "dates", "days", "numbers", "payloads", "priced", "rows", "width")

    def __init__(self, rows: list[str], width: int, dates: Mapping[str, date],
                 numbers: Mapping[str, Decimal], payloads: Mapping[str, Decimal] | None = None
                 ) -> None:
        if width not in (5, 6) or len(rows) % width:
            raise ValueError("a flow run has 5 or 6 values an event")
        self.rows = rows
        self.width = width
        self.dates = dates
        self.numbers = numbers
        self.payloads: Mapping[str, Decimal] = payloads or {}
        w = width
        counts: Counter[FlowKey] = Counter()
        keys = (rows[1::w], rows[2::w], rows[3::w], rows[4::w])  # date, type, item, qty
        # Counted as joined strings (cheaper to hash than tuples), unless a value holds the
        # separator: then some key splits into more than four parts.
        joined = Counter(map(_SEPARATOR.join, zip(*keys, strict=True)))
        parts = [key.split(_SEPARATOR) for key in joined]
        by_key: Iterable[tuple[Sequence[str], int]] = (
            zip(parts, joined.values(), strict=True) if all(len(p) == 4 for p in parts)
            else Counter(zip(*keys, strict=True)).items())
        for (day, kind, item, qty), n in by_key:
            counts[(kind, dates[day], item, numbers[qty])] += n
        self.counts: Mapping[FlowKey, int] = counts
        column = rows[1::w]
        starts = [0, *compress(range(1, len(column)), map(ne, column[1:], column[:-1]))]
        ends = [*starts[1:], len(column)]
        self.days = tuple((a, b, column[a]) for a, b in zip(starts, ends, strict=True)
                          if b > a)
        self.priced = w == 6 and any(rows[5::w])

    def __len__(self) -> int:
        return len(self.rows) // self.width

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as one string (values joined by a separator none of them holds) when it
        can be: much less work on both sides than a string object per value."""
        state = (self.width, self.dates, self.numbers, self.payloads, self.counts, self.days,
                 self.priced)
        joined = _SEPARATOR.join(self.rows)
        if joined.count(_SEPARATOR) == len(self.rows) - 1:
            return (_flow_run, (joined, *state))
        return (_flow_run, (self.rows, *state))

    @overload
    def __getitem__(self, index: int) -> Flow: ...

    @overload
    def __getitem__(self, index: slice) -> FlowRun: ...

    def __getitem__(self, index: int | slice) -> Flow | FlowRun:
        w = self.width
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                raise ValueError("a flow run is sliced in one piece")
            return FlowRun(self.rows[start * w:max(start, stop) * w], w, self.dates,
                           self.numbers, self.payloads)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._flow(index * w)

    def _flow(self, at: int) -> Flow:
        r = self.rows
        return Flow(r[at], r[at + 2], self.dates[r[at + 1]], r[at + 3], self.numbers[r[at + 4]],
                    self.payloads.get(r[at + 5]) if self.width == 6 else None)

    def __iter__(self) -> Iterator[Flow]:
        return map(self._flow, range(0, len(self.rows), self.width))

    def ids(self) -> list[str]:
        return self.rows[0::self.width]

    @staticmethod
    def join(runs: Sequence[FlowRun]) -> FlowRun:
        """One run of consecutive runs (of one width), without counting them again."""
        if len(runs) == 1:
            return runs[0]
        width = runs[0].width
        if any(r.width != width for r in runs):
            raise ValueError("flow runs of different widths are not joined")
        counts: Counter[FlowKey] = Counter()
        days: list[tuple[int, int, str]] = []
        dates: dict[str, date] = {}
        numbers: dict[str, Decimal] = {}
        payloads: dict[str, Decimal] = {}
        at = 0
        for r in runs:
            counts.update(r.counts)
            dates.update(r.dates)
            numbers.update(r.numbers)
            payloads.update(r.payloads)
            for a, b, day in r.days:
                if days and days[-1][1] == at + a and days[-1][2] == day:
                    days[-1] = (days[-1][0], at + b, day)
                else:
                    days.append((at + a, at + b, day))
            at += len(r)
        return _flow_run(list(chain.from_iterable(r.rows for r in runs)), width, dates,
                         numbers, payloads, counts, tuple(days), any(r.priced for r in runs))


_SEPARATOR = "\x1f"  # the ASCII unit separator


def _flow_run(rows: str | list[str], width: int, dates: Mapping[str, date],
              numbers: Mapping[str, Decimal], payloads: Mapping[str, Decimal],
              counts: Mapping[FlowKey, int], days: tuple[tuple[int, int, str], ...],
              priced: bool) -> FlowRun:
    """A pickled FlowRun back, without counting it again."""
    run = FlowRun.__new__(FlowRun)
    run.rows = rows.split(_SEPARATOR) if isinstance(rows, str) else rows
    run.width, run.dates, run.numbers, run.payloads = width, dates, numbers, payloads
    run.counts, run.days, run.priced = counts, days, priced
    return run
