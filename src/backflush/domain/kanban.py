"""Supermarkets and kanban: released orders, replenishment signals and the kanban quantity.

Materials go from stores to a line-side **supermarket** in the amount needed to cover the
demand of the orders already released (the seeds' "Kanban-quantity", computed in real
time). Here:

* A :class:`Supermarket` is master data: an item kept at a location, refilled in containers
  of ``container_qty``, ``lead_time_days`` from stores, with a ``safety`` factor.
* A ``release`` opens an order for its quantity; a completion naming the ``order`` takes its
  good and scrapped units off it (never below zero); a reversal gives back what the
  original took or opened (in proportion, for a partial reversal).
* A ``signal`` event is a kanban card sent to stores: it opens a replenishment signal for
  its quantity. A transfer into the supermarket closes open signals of that item there,
  oldest first, up to the quantity it brings.
* The **demand** of a supermarket item is the exploded requirement of the open orders (one
  level down, through phantoms: what their completions will backflush) for the components
  drawn from that supermarket: an item whose ``backflush_from`` names it, or, when the item
  names no location, its only supermarket. Issues parked at the supermarket (short stock
  owed to completions, ``negative_stock: queue``) are demand too.
* The **kanban quantity** to ask for is demand − on hand − open signals, rounded up to whole
  containers (zero when that is not positive): :func:`kanban_line`.
* The classic sizing, cards = daily demand × lead time × (1 + safety) ÷ container, rounded
  up: :func:`sizing`.

Orders and signals are the shop floor's state, not the books': they post no entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Protocol

from backflush.domain import text
from backflush.domain.bom import Boms, explode
from backflush.domain.errors import NumberError, Problem
from backflush.domain.events import Completion, Event, Release, Reversal, Signal, Transfer
from backflush.domain.items import Item
from backflush.domain.numbers import EXACT, FACTOR, PRICE, QUANTITY, ROUNDING, ZERO, to_decimal

ONE = Decimal(1)
Place = tuple[str, str]  # (item, location)


@dataclass(frozen=True, slots=True)
class Supermarket:
    """A supermarket item: ``item`` kept at ``location``, refilled in containers."""

    item: str
    location: str
    container_qty: Decimal
    lead_time_days: Decimal = ZERO
    safety: Decimal = ZERO

    def __post_init__(self) -> None:
        text.code(self.item, "kanban: item")
        text.code(self.location, f"kanban {self.item}: location")
        what = f"kanban {self.item} at {self.location}"
        for name, limit in (("container_qty", QUANTITY), ("lead_time_days", PRICE),
                            ("safety", FACTOR)):
            value = to_decimal(getattr(self, name), f"{what}: {name}", limit)
            if value < 0 or (name == "container_qty" and value == 0):
                raise NumberError(f"{what}: {name} must be "
                                  + ("positive" if name == "container_qty" else
                                     "zero or more"), name)
            object.__setattr__(self, name, value)

    @property
    def place(self) -> Place:
        return (self.item, self.location)


def validate_kanban(supermarkets: Mapping[Place, Supermarket],
                    items: Mapping[str, Item]) -> list[Problem]:
    """Every supermarket names a stocked item, and an item with a ``backflush_from`` has
    its supermarket there if it has any."""
    problems = []
    for (code, location), sm in supermarkets.items():
        item = items.get(code)
        where = f"kanban {code} at {location}"
        if sm.place != (code, location):
            problems.append(Problem(where, "item", "keyed as another supermarket"))
        if item is None:
            problems.append(Problem(where, "item", f"unknown item '{code}'"))
        elif item.phantom:
            problems.append(Problem(where, "item", f"'{code}' is a phantom and is never "
                                    "stocked"))
        elif item.backflush_from is not None and item.backflush_from != location \
                and (code, item.backflush_from) not in supermarkets:
            problems.append(Problem(where, "location",
                                    f"'{code}' is backflushed from {item.backflush_from}, so "
                                    f"a supermarket at {location} would never be drawn on"))
    return problems


# ------------------------------------------------------------------------ the floor's state


@dataclass(frozen=True, slots=True)
class OrderChange:
    """An order's open quantity changed by ``qty`` (+ released or given back, − taken)."""

    order: str
    item: str
    qty: Decimal


@dataclass(frozen=True, slots=True)
class SignalChange:
    """A replenishment signal opened (qty > 0, ``source`` the signal event) or filled
    (qty < 0)."""

    source: str
    item: str
    location: str
    qty: Decimal


@dataclass(frozen=True, slots=True)
class OpenSignal:
    """A signal sent and not yet filled: what is still asked for, since ``opened_on``."""

    source: str
    item: str
    location: str
    opened_on: date
    qty: Decimal


@dataclass(frozen=True, slots=True)
class FloorChanges:
    orders: tuple[OrderChange, ...] = ()
    signals: tuple[SignalChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.orders or self.signals)


class FloorView(Protocol):
    """The shop floor's state as the rules read it, before the event."""

    def order(self, order_id: str) -> tuple[str, Decimal] | None:
        """(item, open quantity) of a released order; None: never released."""
        ...

    def signals_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        """Open signals (source, qty) of a supermarket item, oldest first."""
        ...

    def changes_of(self, event_id: str) -> FloorChanges:
        """What an event did to the floor."""
        ...


def floor_changes(event: Event, supermarkets: Mapping[Place, Supermarket], floor: FloorView,
                  original: Event | None = None) -> FloorChanges:
    """What ``event`` does to the released orders and the signals (nothing for most events).
    ``original``: for a reversal, the event it reverses."""
    if isinstance(event, Release):
        return FloorChanges(orders=(OrderChange(event.id, event.item, event.qty),))
    if isinstance(event, Completion) and event.order:
        known = floor.order(event.order)
        if known is None or known[0] != event.item or known[1] <= 0:
            return FloorChanges()
        take = min(known[1], event.qty + event.scrap_qty)
        return FloorChanges(orders=(OrderChange(event.order, event.item, -take),))
    if isinstance(event, Signal):
        return FloorChanges(signals=(SignalChange(event.id, event.item, event.location,
                                                  event.qty),))
    if isinstance(event, Transfer) and (event.item, event.to_location) in supermarkets:
        return FloorChanges(signals=_fill(floor, event.item, event.to_location, event.qty))
    if isinstance(event, Reversal) and original is not None:
        return _reversed(event, original, floor)
    return FloorChanges()


def _fill(floor: FloorView, item: str, location: str, qty: Decimal) -> tuple[SignalChange, ...]:
    out = []
    left = qty
    for source, open_qty in floor.signals_at(item, location):
        if left <= 0:
            break
        take = min(open_qty, left)
        out.append(SignalChange(source, item, location, -take))
        left -= take
    return tuple(out)


def _fraction(event: Reversal, original: Event) -> Decimal:
    """The share of the original a reversal takes back (1, or its qty over the original's;
    for a completion, over its good units: its scrap goes back in proportion, as
    :mod:`.rules.portion` has it). Rounded to 100 digits where it does not end."""
    part = getattr(event, "qty", None)
    whole = getattr(original, "qty", None)
    if part is None or not whole:
        return ONE
    share: Decimal = min(ONE, ROUNDING.divide(Decimal(part), Decimal(whole)))
    return share


def _reversed(event: Reversal, original: Event, floor: FloorView) -> FloorChanges:
    """The negation of what the original did, in proportion, never past what is open now
    (an order released then taken by completions gives back only what is still open)."""
    done = floor.changes_of(original.id)
    share = _fraction(event, original)
    orders = []
    for o in done.orders:
        qty = -o.qty * share
        if qty < 0:
            known = floor.order(o.order)
            qty = max(qty, -(known[1] if known is not None else ZERO))
        if qty:
            orders.append(OrderChange(o.order, o.item, qty))
    signals = []
    for s in done.signals:
        qty = -s.qty * share
        if qty < 0:
            open_qty = sum((q for src, q in floor.signals_at(s.item, s.location)
                            if src == s.source), ZERO)
            qty = max(qty, -open_qty)
        if qty:
            signals.append(SignalChange(s.source, s.item, s.location, qty))
    return FloorChanges(tuple(orders), tuple(signals))


# ------------------------------------------------------------------------ demand and quantity


@dataclass(frozen=True, slots=True)
class KanbanLine:
    item: str
    location: str
    container_qty: Decimal
    on_hand: Decimal
    demand: Decimal
    open_signals: Decimal
    replenish_qty: Decimal
    containers: int


def containers_for(qty: Decimal, container: Decimal) -> int:
    """Whole containers that hold ``qty`` (exactly: no division is rounded)."""
    if qty <= 0:
        return 0
    with localcontext(EXACT):
        whole = int(qty // container)
        return whole + (1 if qty - container * whole else 0)


def kanban_line(sm: Supermarket, demand: Decimal, on_hand: Decimal,
                open_signals: Decimal) -> KanbanLine:
    """Demand − on hand − open signals, rounded up to whole containers."""
    with localcontext(EXACT):
        short = demand - on_hand - open_signals
        containers = containers_for(short, sm.container_qty)
        replenish = sm.container_qty * containers
    return KanbanLine(sm.item, sm.location, sm.container_qty, on_hand, demand, open_signals,
                      replenish, containers)


def drawn_from(supermarkets: Mapping[Place, Supermarket], items: Mapping[str, Item]
               ) -> dict[str, str]:
    """The supermarket location each supermarket item is drawn on by completions."""
    by_item: dict[str, list[str]] = {}
    for code, location in supermarkets:
        by_item.setdefault(code, []).append(location)
    out = {}
    for code, locations in by_item.items():
        named = items[code].backflush_from if code in items else None
        if named is not None and named in locations:
            out[code] = named
        elif named is None and len(locations) == 1:
            out[code] = locations[0]
    return out


def where_used(supermarkets: Mapping[Place, Supermarket], items: Mapping[str, Item],
               boms: Boms, day: date) -> dict[Place, tuple[tuple[str, Decimal], ...]]:
    """For each supermarket drawn on, the made items whose completions draw on it and how
    much per unit (one level down, through phantoms, at the BOMs in effect on ``day``)."""
    source = drawn_from(supermarkets, items)
    users: dict[Place, list[tuple[str, Decimal]]] = {
        (code, location): [] for code, location in source.items()}
    for code, item in items.items():
        if not item.made or item.phantom or not boms.has(code):
            continue
        per: dict[str, Decimal] = {}
        for r in explode(code, ONE, day, boms, items).requirements:
            if r.component in source:
                per[r.component] = per.get(r.component, ZERO) + r.qty
        for component, qty in per.items():
            users[(component, source[component])].append((code, qty))
    return {place: tuple(found) for place, found in users.items()}


def demand(users: Sequence[tuple[str, Decimal]], open_by_item: Mapping[str, Decimal]
           ) -> Decimal:
    """Σ open quantity of each user × its need per unit."""
    with localcontext(EXACT):
        return sum((open_by_item.get(p, ZERO) * per for p, per in users), ZERO)


@dataclass(frozen=True, slots=True)
class Sizing:
    item: str
    location: str
    daily_demand: Decimal
    lead_time_days: Decimal
    safety: Decimal
    container_qty: Decimal
    containers: int  # cards in the loop

    @property
    def kanban_qty(self) -> Decimal:
        return self.container_qty * self.containers


def sizing(sm: Supermarket, daily_demand: Decimal) -> Sizing:
    """The classic size of a kanban loop: daily demand × lead time × (1 + safety) ÷
    container, rounded up to whole containers."""
    with localcontext(EXACT):
        cover = daily_demand * sm.lead_time_days * (ONE + sm.safety)
        cards = containers_for(cover, sm.container_qty)
    return Sizing(sm.item, sm.location, daily_demand, sm.lead_time_days, sm.safety,
                  sm.container_qty, cards)
