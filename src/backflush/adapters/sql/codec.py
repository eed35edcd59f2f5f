"""The one decimal codec of the SQL adapter, and the JSON of events, policy and audit trails.

SQLite has no decimal type: a ``Numeric`` column there keeps a binary float and silently loses
digits. :class:`ExactDecimal` therefore keeps the canonical text ``format(d, "f")`` on SQLite
and ``NUMERIC`` on PostgreSQL: a Decimal goes in and the same Decimal comes out, and a float
is refused rather than rounded. :func:`decimal_text` is the same encoding for the rows
:mod:`.bulk` writes without SQLAlchemy, so both paths store byte-for-byte the same text.

Everything held as JSON (an event's fields without a column of their own, the policy,
derivations, standard hours) writes decimals as strings, never as JSON numbers (which every
JSON reader is free to turn into floats).

Sums over decimal columns must be exact too: :class:`exact_sum` is ``SUM`` on PostgreSQL
(exact on ``NUMERIC``) and, on SQLite, an aggregate this module provides
(:class:`DecimalSum`, registered on each connection by :mod:`.engine`) that adds the stored
text as Decimals and returns text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, fields
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Dialect, Numeric, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import TypeDecorator, TypeEngine

from backflush.domain.alerts import AlertThresholds
from backflush.domain.costs import Cost, StandardCost
from backflush.domain.events import EVENT_TYPES, Event, OpeningStock
from backflush.domain.journal import Derivation
from backflush.domain.numbers import add
from backflush.domain.policy import (
    ConversionMode,
    Disposition,
    FailedBackflush,
    Journal,
    Method,
    NegativeStock,
    Payables,
    Policy,
    Role,
    Stage,
)

DECIMAL_TEXT_LENGTH = 80  # SQLite column width of a decimal's text (a NUMERIC has no width)
SQLITE_SUM = "backflush_decimal_sum"  # the exact aggregate registered on SQLite connections


def decimal_text(value: Decimal) -> str:
    """The canonical text of a decimal: every digit, no exponent (``format(d, "f")``).

    ``str(d)`` is the same text whenever it has no exponent, and three times faster (a
    posting encodes a few hundred decimals); with one (or for NaN, Infinity) it is not.
    """
    if type(value) is not Decimal:
        if isinstance(value, float):
            raise TypeError(f"binary floats cannot be stored exactly ({value!r}); "
                            "pass a Decimal")
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
    text = str(value)
    if "E" in text or "N" in text or "n" in text:
        if not value.is_finite():
            raise TypeError(f"{value} is not a finite number and cannot be stored")
        text = format(value, "f")
    return text


def optional_decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def date_text(value: date) -> str:
    """A date as SQLite keeps it (and PostgreSQL's COPY reads it): ISO 8601."""
    return value.isoformat()


def _to_text(value: Any) -> str | None:
    return None if value is None else decimal_text(value)


def _to_numeric(value: Any) -> Decimal | None:
    if value is None:
        return None
    decimal_text(value)  # (refuses floats and non-numbers)
    return cast(Decimal, value)


def _from_stored(value: Any) -> Decimal | None:
    if value is None or type(value) is Decimal:
        return value
    if isinstance(value, float):
        raise TypeError(f"a binary float ({value!r}) was found where an exact decimal was "
                        "stored")
    return Decimal(value)


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal in, the same Decimal out: NUMERIC on PostgreSQL, canonical text on SQLite."""

    impl = String(DECIMAL_TEXT_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(DECIMAL_TEXT_LENGTH))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = decimal_text(value)  # (refuses floats and non-numbers on every backend)
        return value if dialect.name == "postgresql" else text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return _from_stored(value)

    # The processors themselves, without the layers TypeDecorator puts around the two
    # methods above: a posting reads and writes a few hundred decimals.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return _to_numeric if dialect.name == "postgresql" else _to_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        return _from_stored

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class exact_sum(GenericFunction[Decimal]):
    """``SUM`` of a decimal column, exact on every backend (see the module docstring)."""

    type = ExactDecimal()
    name = "exact_sum"
    inherit_cache = True


@compiles(exact_sum, "sqlite")
def _sum_sqlite(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_SUM}({compiler.process(element.clauses, **kw)})"


@compiles(exact_sum)
def _sum_default(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"sum({compiler.process(element.clauses, **kw)})"


class DecimalSum:
    """The SQLite aggregate behind :class:`exact_sum`: stored text added as Decimals."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: object) -> None:
        if value is None:
            return
        if isinstance(value, float):
            raise TypeError("a binary float was found where an exact decimal was stored")
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        self.total = number if self.total is None else add(self.total, number)

    def finalize(self) -> str | None:
        return None if self.total is None else decimal_text(self.total)


# ---------------------------------------------------------------------------- JSON text
def dumps(data: object) -> str:
    """Compact, key-sorted JSON (the same data always gives the same text)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: object) -> object:
    """An event field as JSON data: decimals as strings, dates in ISO form."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        raise TypeError(f"binary floats cannot be stored exactly ({value!r})")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, OpeningStock):
        return {"item": value.item, "qty": decimal_text(value.qty), "location": value.location}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else decode(value)


def _same(value: Any) -> Any:
    return value


def _hours(value: Any) -> tuple[tuple[str, Decimal], ...]:
    return tuple((str(wc), Decimal(h)) for wc, h in value)


def _opening_stock(value: Any) -> tuple[OpeningStock, ...]:
    return tuple(OpeningStock(s["item"], Decimal(s["qty"]), s["location"]) for s in value)


def _balances(value: Any) -> dict[str, Decimal]:
    return {str(k): Decimal(v) for k, v in value.items()}


# How a field is read back from JSON, by its annotation (events use nothing else; an event
# field of another type fails loudly the first time its class is stored, never silently).
_DECODERS: Mapping[str, Callable[[Any], Any]] = {
    "str": _same, "str | None": _same, "bool": _same,
    "Decimal": Decimal, "Decimal | None": _optional(Decimal),
    "date": date.fromisoformat, "date | None": _optional(date.fromisoformat),
    "tuple[tuple[str, Decimal], ...]": _hours,
    "tuple[OpeningStock, ...]": _opening_stock,
    "Mapping[str, Decimal]": _balances,
}

COLUMN_FIELDS = frozenset({"id", "date", "item", "qty"})  # event fields with a column


_NO_DEFAULT = object()


def _as_stored(value: object) -> object:
    """What tells two values apart once stored: their JSON, type included (1.50 is not
    1.5, nor "1.5" the same as a Decimal)."""
    return type(value), dumps(_plain(value))


class _EventClass:
    """What the codec needs to know of one event class, worked out once: its fields without
    a column, how to read each back, and each one's default (a field at its default, to the
    digit, is left out of the payload: a plain completion stores none)."""

    def __init__(self, cls: type[Event]) -> None:
        self.cls = cls
        self.payload: list[tuple[str, Callable[[Any], Any]]] = []
        self.defaults: dict[str, object] = {}
        names = set()
        for f in fields(cls):
            names.add(f.name)
            if f.name in COLUMN_FIELDS:
                continue
            decode = _DECODERS.get(str(f.type))
            if decode is None:
                raise TypeError(f"{cls.__name__}.{f.name}: the SQL codec cannot store a "
                                f"field of type {f.type}")
            self.payload.append((f.name, decode))
            default = f.default if f.default is not MISSING else (
                f.default_factory() if f.default_factory is not MISSING else _NO_DEFAULT)
            self.defaults[f.name] = (_NO_DEFAULT if default is _NO_DEFAULT
                                     else _as_stored(default))
        self.has_item = "item" in names
        self.has_qty = "qty" in names

    def differs(self, name: str, value: object) -> bool:
        default = self.defaults[name]
        return default is _NO_DEFAULT or _as_stored(value) != default


_CLASSES: dict[str, _EventClass] = {kind: _EventClass(cls) for kind, cls in EVENT_TYPES.items()}


def _event_class(kind: str) -> _EventClass:
    found = _CLASSES.get(kind)
    if found is None:
        raise ValueError(f"the ledger holds an event of unknown type {kind!r}")
    return found


EventColumns = tuple[str, date, str | None, Decimal | None, str | None]


def event_columns(event: Event) -> EventColumns:
    """An event as its body row keeps it: type, date, item, qty and the JSON payload of
    the other fields not at their defaults (None when there is none). The id has a column of
    its own."""
    info = _event_class(event.type)
    item = getattr(event, "item") if info.has_item else None  # noqa: B009
    qty = getattr(event, "qty") if info.has_qty else None  # noqa: B009
    if qty is not None:
        decimal_text(qty)  # (a float or a non-number is refused here, before any write)
    payload = {}
    for name, _ in info.payload:
        value = getattr(event, name)
        if info.differs(name, value):
            payload[name] = _plain(value)
    return event.type, event.date, item, qty, dumps(payload) if payload else None


def event_from_columns(kind: str, event_id: str, when: date, item: str | None,
                       qty: Decimal | None, payload: str | None) -> Event:
    """The event one row of the events (joined to its body) holds."""
    info = _event_class(kind)
    kwargs: dict[str, Any] = {"id": event_id, "date": when}
    if info.has_item:
        kwargs["item"] = item
    if info.has_qty:
        kwargs["qty"] = qty
    data = json.loads(payload) if payload else {}
    for name, decode in info.payload:
        if name in data:
            kwargs[name] = decode(data[name])
    return info.cls(**kwargs)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def with_id(event: Event, event_id: str) -> Event:
    """``event`` with another id: ``dataclasses.replace`` without checking every field again
    (they were checked when the event was built; a stored id was checked when posted), and
    without ``copy.copy``, which goes through ``__getstate__`` (slow for slotted records)."""
    if event.id == event_id:
        return event
    cls = type(event)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls) if f.name != "id")
    clone = object.__new__(cls)
    set_field = object.__setattr__
    set_field(clone, "id", event_id)
    for name in names:
        set_field(clone, name, getattr(event, name))
    return clone


class EventDecoder:
    """Decodes rows of the events table, building each distinct content once: bulk-posted
    events share a handful of templates, so reading the log back costs a copy a row."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.seen: dict[tuple[Any, ...], Event] = {}

    def __call__(self, kind: str, event_id: str, when: date, item: str | None,
                 qty: Decimal | None, payload: str | None) -> Event:
        key = (kind, when, item, None if qty is None else decimal_text(qty), payload)
        template = self.seen.get(key)
        if template is None:
            template = event_from_columns(kind, event_id, when, item, qty, payload)
            if len(self.seen) >= self.limit:
                self.seen.clear()
            self.seen[key] = template
            return template
        return with_id(template, event_id)


# ---------------------------------------------------------------------------- policy
def policy_to_json(policy: Policy) -> str:
    return dumps({
        "triggers": sorted(s.value for s in policy.triggers),
        "conversion": policy.conversion.value,
        "disposition": {k: v.value for k, v in policy.disposition.items()},
        "negative_stock": policy.negative_stock.value,
        "accounts": {r.value: n for r, n in policy.accounts.items()},
        "method": policy.method.value,
        "minor_unit": policy.minor_unit,
        "currency": policy.currency,
        "count_tolerance": decimal_text(policy.count_tolerance),
        "journal": policy.journal.value,
        "payables": policy.payables.value,
        "alerts": policy.alerts.settings(),
        "negative_stock_at": {loc: r.value for loc, r in policy.negative_stock_at.items()},
        "failed_backflush": policy.failed_backflush.value,
    })


def policy_from_json(text: str) -> Policy:
    d = json.loads(text)
    return Policy(triggers=frozenset(Stage(s) for s in d["triggers"]),
                  conversion=ConversionMode(d["conversion"]),
                  disposition={k: Disposition(v) for k, v in d["disposition"].items()},
                  negative_stock=NegativeStock(d["negative_stock"]),
                  accounts={Role(r): n for r, n in d["accounts"].items()},
                  method=Method(d["method"]), minor_unit=int(d["minor_unit"]),
                  currency=d["currency"], count_tolerance=Decimal(d["count_tolerance"]),
                  journal=Journal(d["journal"]),
                  payables=Payables(d.get("payables", Payables.CONSUMED.value)),
                  alerts=AlertThresholds.from_settings(d.get("alerts", {})),
                  negative_stock_at={loc: NegativeStock(r) for loc, r
                                     in d.get("negative_stock_at", {}).items()},
                  failed_backflush=FailedBackflush(d.get("failed_backflush", "refuse")))


# ---------------------------------------------------------------------------- audit trail
def derivations_to_json(derivations: Sequence[Derivation]) -> str:
    """An entry's derivations as one JSON text (read only with their entry, never queried
    by column: one value per entry instead of a row each keeps a posting's writes few)."""
    return dumps([[d.item, decimal_text(d.qty), d.basis, decimal_text(d.amount), d.account,
                   d.bom, d.location] for d in derivations]) if derivations else ""


def derivations_from_json(text: str | None) -> tuple[Derivation, ...]:
    if not text:
        return ()
    return tuple(Derivation(item, Decimal(qty), basis, Decimal(amount), account, bom, location)
                 for item, qty, basis, amount, account, bom, location in json.loads(text))


LEVELS = ("this", "lower")
ELEMENTS = ("material", "labor", "overhead", "conversion")
COST_COLUMNS = tuple(f"{level}_{element}" for level in LEVELS for element in ELEMENTS)


def cost_row(cost: StandardCost) -> dict[str, Any]:
    """A standard cost as the columns of its row (the version and position aside). The
    ``hours`` column holds ``[work center, hours]`` pairs, each followed by the center's
    three rates when the roll-up kept them (a ledger written before rates were kept has
    pairs only)."""
    rates = {wc: (labor, overhead, conversion) for wc, labor, overhead, conversion in cost.rates}
    row: dict[str, Any] = {"item": cost.item, "bom": cost.bom, "hours": dumps([
        [wc, decimal_text(h), *(decimal_text(r) for r in rates.get(wc, ()))]
        for wc, h in cost.hours])}
    for level, value in (("this", cost.this_level), ("lower", cost.lower_level)):
        for element in ELEMENTS:
            row[f"{level}_{element}"] = getattr(value, element)
    return row


def cost_from_row(row: Any) -> StandardCost:
    this, lower = (Cost(*(getattr(row, f"{level}_{e}") for e in ELEMENTS)) for level in LEVELS)
    pairs = json.loads(row.hours)
    hours = tuple((str(p[0]), Decimal(p[1])) for p in pairs)
    rates = tuple((str(p[0]), Decimal(p[2]), Decimal(p[3]), Decimal(p[4]))
                  for p in pairs if len(p) == 5)
    return StandardCost(row.item, this, lower, hours, row.bom, rates)
