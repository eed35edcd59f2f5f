"""The events the engine accepts (posting-rules §3), as immutable records.

Every event has an external ``id`` (the idempotency key) and a ``date``. Quantities and
amounts are Decimals within their field's limits (:mod:`.numbers`); codes and ids follow
:mod:`.text`. An event that breaks a rule cannot be built: ``NumberError`` (or its subclass
``TextError``) names the field.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from backflush.domain import text
from backflush.domain.errors import NumberError
from backflush.domain.numbers import (
    AMOUNT,
    HOURS,
    PRICE,
    QUANTITY,
    UNIT_COST,
    ZERO,
    Limit,
    add,
    fmt_qty,
    to_decimal,
)

DEFAULT_LOCATION = "stores"
ELEMENTS_INCURRED = ("labor", "overhead", "conversion")
FIRST_YEAR, LAST_YEAR = 1900, 2199  # dates outside are refused (a mistyped year, most likely)


def _number(event: Event, name: str, limit: Limit, *, positive: bool = False,
            optional: bool = False) -> None:
    value = getattr(event, name)
    if value is None and optional:
        return
    number = to_decimal(value, name, limit)
    if positive and number <= 0:
        raise NumberError(f"{name}: must be positive, got {fmt_qty(number)}", name)
    if number < 0:
        raise NumberError(f"{name}: must not be negative, got {fmt_qty(number)}", name)
    object.__setattr__(event, name, number)


def _code(event: Event, name: str) -> None:
    text.code(getattr(event, name), name)


def _free(event: Event, name: str) -> None:
    text.free(getattr(event, name), name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    id: str
    date: date

    type = "event"

    def __post_init__(self) -> None:
        text.ident(self.id)
        if not isinstance(self.date, date) or isinstance(self.date, datetime):
            raise NumberError(f"date: expected a date, got {type(self.date).__name__}", "date")
        if not FIRST_YEAR <= self.date.year <= LAST_YEAR:
            raise NumberError(f"date: {self.date.isoformat()} is outside the years "
                              f"{FIRST_YEAR}-{LAST_YEAR}")

    # Fields added after events of the type were stored: left out of the content while they
    # hold their default, so the hashes of stored events stay valid.
    ADDED: ClassVar[tuple[str, ...]] = ()

    def content(self) -> dict[str, object]:
        """The canonical content, the basis of the idempotency comparison."""
        out: dict[str, object] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "id" and not (f.name in self.ADDED and value == f.default):
                out[f.name] = canonical(value)
        return out

    def content_hash(self) -> str:
        data = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode()).hexdigest()


def canonical(value: object) -> object:
    """A value as plain JSON data: decimals normalised (1.50 and 1.5 are the same content)."""
    if isinstance(value, Decimal):
        return fmt_qty(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items())}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: canonical(getattr(value, f.name)) for f in fields(value)}  # type: ignore[arg-type]
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt(Event):
    item: str
    qty: Decimal
    unit_price: Decimal
    supplier: str = ""
    location: str = DEFAULT_LOCATION
    due: date | None = None  # when the supplier was to deliver (on-time receipts)
    type = "receipt"
    ADDED = ("due",)

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _code(self, "location")
        _free(self, "supplier")
        _number(self, "qty", QUANTITY, positive=True)
        _number(self, "unit_price", PRICE)
        if self.due is not None and (not isinstance(self.due, date)
                                     or isinstance(self.due, datetime)):
            raise NumberError(f"due: expected a date, got {type(self.due).__name__}", "due")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversionIncurred(Event):
    amount: Decimal
    element: str = "conversion"
    credit: str | None = None
    type = "conversion_incurred"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _number(self, "amount", AMOUNT, positive=True)
        if self.element not in ELEMENTS_INCURRED:
            raise NumberError(f"element: must be one of {', '.join(ELEMENTS_INCURRED)}, got "
                              f"{text.safe(str(self.element))}")
        if self.credit is not None:
            _code(self, "credit")


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
        Event.__post_init__(self)
        _code(self, "item")
        _code(self, "location")
        if self.output_location is not None:
            _code(self, "output_location")
        if self.order:
            text.ident(self.order, "order")
        _number(self, "qty", QUANTITY)
        _number(self, "scrap_qty", QUANTITY)
        if add(self.qty, self.scrap_qty) <= 0:
            raise NumberError("qty: qty + scrap_qty must be positive")
        hours = []
        seen = set()
        for wc, h in self.hours:
            text.code(wc, "hours")
            if wc in seen:
                raise NumberError(f"hours: work center {wc} appears twice")
            seen.add(wc)
            number = to_decimal(h, f"hours.{wc}", HOURS)
            if number < 0:
                raise NumberError(f"hours.{wc}: must not be negative")
            hours.append((wc, number))
        object.__setattr__(self, "hours", tuple(sorted(hours)))

    @property
    def destination(self) -> str:
        return self.output_location or self.location


@dataclass(frozen=True, slots=True, kw_only=True)
class Scrap(Event):
    """Component scrap. ``abnormal``: beyond what the standards allow for (a dropped pallet,
    a flood): a period cost, never a variance spread over stock."""

    item: str
    qty: Decimal
    reason: str = ""
    location: str = DEFAULT_LOCATION
    abnormal: bool = False
    type = "scrap"
    ADDED = ("abnormal",)

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _code(self, "location")
        _free(self, "reason")
        _number(self, "qty", QUANTITY, positive=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sale(Event):
    item: str
    qty: Decimal
    unit_price: Decimal | None = None
    customer: str = ""
    location: str = DEFAULT_LOCATION
    type = "sale"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _code(self, "location")
        _free(self, "customer")
        _number(self, "qty", QUANTITY, positive=True)
        _number(self, "unit_price", PRICE, optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Event):
    item: str
    qty: Decimal
    from_location: str = DEFAULT_LOCATION
    to_location: str = "line"
    type = "transfer"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _code(self, "from_location")
        _code(self, "to_location")
        _number(self, "qty", QUANTITY, positive=True)
        if self.from_location == self.to_location:
            raise NumberError("to: a transfer needs two different locations")


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue(Event):
    """A component issued by hand to ``parent`` (the item being made; ``for`` in files), a
    BOM line ``flush: manual``: from ``location`` into the parent's in-process location, which
    the parent's completions consume (:mod:`.inprocess`). ``order``: the order it is for."""

    item: str
    qty: Decimal
    parent: str
    location: str = DEFAULT_LOCATION
    order: str = ""
    type = "issue"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        text.code(self.parent, "for")
        _code(self, "location")
        if self.order:
            text.ident(self.order, "order")
        _number(self, "qty", QUANTITY, positive=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Count(Event):
    item: str
    qty: Decimal
    location: str = DEFAULT_LOCATION
    type = "count"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _code(self, "location")
        _number(self, "qty", QUANTITY)


@dataclass(frozen=True, slots=True, kw_only=True)
class Release(Event):
    item: str
    qty: Decimal
    due: date | None = None
    type = "release"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _number(self, "qty", QUANTITY, positive=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal(Event):
    """A kanban card sent to stores: a replenishment of ``qty`` of a supermarket item asked
    for; open until transfers into the supermarket bring it (:mod:`.kanban`)."""

    item: str
    location: str
    qty: Decimal
    type = "signal"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _code(self, "location")
        _number(self, "qty", QUANTITY, positive=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reversal(Event):
    """Takes back an earlier event: the whole of it, or with ``qty`` that many units of a
    completion, sale or receipt (a partial reversal; :mod:`.rules.reversal`)."""

    of: str
    reason: str = ""
    qty: Decimal | None = None
    type = "reversal"
    ADDED = ("qty",)

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        text.ident(self.of, "of")
        _free(self, "reason")
        _number(self, "qty", QUANTITY, positive=True, optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class CostChange(Event):
    item: str
    standard_cost: Decimal | None = None
    conversion_cost: Decimal | None = None
    type = "cost_change"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "item")
        _number(self, "standard_cost", PRICE, optional=True)
        _number(self, "conversion_cost", PRICE, optional=True)
        if (self.standard_cost is None) == (self.conversion_cost is None):
            raise NumberError("standard_cost: give exactly one of standard_cost and "
                              "conversion_cost")


@dataclass(frozen=True, slots=True, kw_only=True)
class RateChange(Event):
    """A work center's rates per hour from the event's date (``rate``: the undivided
    conversion rate); those not given stay as they are. Every item routed through it is
    rolled up again and the stock revalued, as a cost change does."""

    work_center: str
    labor_rate: Decimal | None = None
    overhead_rate: Decimal | None = None
    rate: Decimal | None = None
    type = "rate_change"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _code(self, "work_center")
        for name in ("labor_rate", "overhead_rate", "rate"):
            _number(self, name, UNIT_COST, optional=True)
        if self.labor_rate is None and self.overhead_rate is None and self.rate is None:
            raise NumberError("rate: give rate, labor_rate or overhead_rate", "rate")


@dataclass(frozen=True, slots=True, kw_only=True)
class Close(Event):
    """A period's close. ``gaap_bridge``: also post the GAAP bridge at the period's end and
    its reversal on the next day (posting-rules §4.3); ``nrv``: net realisable value per unit
    by item, for the lower of cost and NRV in that bridge."""

    period: str
    force: bool = False  # close even with issues pending or stock below zero (an alert says)
    gaap_bridge: bool = False
    nrv: tuple[tuple[str, Decimal], ...] = ()
    type = "close"
    ADDED = ("gaap_bridge", "nrv")

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        period_bounds(self.period)  # a malformed period is refused
        values = []
        for item, value in self.nrv:
            text.code(item, "nrv")
            number = to_decimal(value, f"nrv.{item}", PRICE)
            if number < 0:
                raise NumberError(f"nrv.{item}: must not be negative, got {fmt_qty(number)}",
                                  "nrv")
            values.append((item, number))
        if len({item for item, _ in values}) != len(values):
            raise NumberError("nrv: an item appears twice", "nrv")
        object.__setattr__(self, "nrv", tuple(sorted(values)))
        if self.nrv and not self.gaap_bridge:
            raise NumberError("nrv: net realisable values are used by the GAAP bridge; "
                              "give gaap_bridge: true with them", "nrv")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reopen(Event):
    """A closed period opened again, on the record: why (``reason``, required) and who
    (``by``). Dated the day after the period ends by default."""

    period: str
    reason: str
    by: str = ""
    type = "reopen"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        period_bounds(self.period)
        _free(self, "reason")
        _free(self, "by")
        if not self.reason.strip():
            raise NumberError("reason: say why the period is reopened (it stays on the "
                              "record)", "reason")


@dataclass(frozen=True, slots=True)
class OpeningStock:
    item: str
    qty: Decimal
    location: str = DEFAULT_LOCATION

    def __post_init__(self) -> None:
        text.code(self.item, "item")
        text.code(self.location, "location")
        qty = to_decimal(self.qty, "qty", QUANTITY)
        if qty < 0:
            raise NumberError("qty: must not be negative")
        object.__setattr__(self, "qty", qty)


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening(Event):
    """Balances brought forward. Stock is valued at standard on the policy's accounts."""

    stock: tuple[OpeningStock, ...] = ()
    balances: Mapping[str, Decimal] = field(default_factory=dict)
    type = "opening"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        object.__setattr__(self, "stock", tuple(self.stock))
        balances = {}
        for name, amount in self.balances.items():
            text.code(name, "balances")
            balances[name] = to_decimal(amount, f"balances.{name}", AMOUNT)
        object.__setattr__(self, "balances", balances)


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` period; NumberError when malformed."""
    parts = period.split("-") if isinstance(period, str) else []
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2 \
            or not all(p.isdigit() and p.isascii() for p in parts):
        raise NumberError(f"period: must look like 2026-11, got {text.safe(str(period))}")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or not FIRST_YEAR <= year <= LAST_YEAR:
        raise NumberError(f"period: must look like 2026-11, got {text.safe(period)}")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.type: cls
    for cls in (Receipt, ConversionIncurred, Completion, Scrap, Sale, Transfer, Issue, Count,
                Release, Signal, Reversal, CostChange, RateChange, Close, Reopen, Opening)
}

# The events a batch may post in one summary entry per day (see domain.summary).
FLOW_TYPES = ("completion", "receipt", "sale")
