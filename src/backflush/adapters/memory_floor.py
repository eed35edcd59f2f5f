"""The shop floor in memory (the :class:`~backflush.service_layer.ports.Floor` port): part
of a :class:`~backflush.adapters.memory.MemoryLedger`'s state, snapshotted with it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from backflush.domain.held import Held
from backflush.domain.kanban import FloorChanges, OpenSignal
from backflush.domain.numbers import ZERO


@dataclass
class FloorState:
    orders: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # id: (item, open)
    totals: dict[str, Decimal] = field(default_factory=dict)  # open by item
    signals: dict[str, tuple[str, str, date, Decimal]] = field(default_factory=dict)
    changes: dict[str, FloorChanges] = field(default_factory=dict)  # by event id
    held: dict[str, Held] = field(default_factory=dict)  # completions held, oldest first

    def snapshot(self) -> FloorState:
        return FloorState(dict(self.orders), dict(self.totals), dict(self.signals),
                          dict(self.changes), dict(self.held))


class MemoryFloor:
    def __init__(self, state: Callable[[], FloorState]) -> None:
        self._state = state

    @property
    def s(self) -> FloorState:
        return self._state()

    def order(self, order_id: str) -> tuple[str, Decimal] | None:
        return self.s.orders.get(order_id)

    def signals_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        found = sorted((opened, src, qty) for src, (i, loc, opened, qty)
                       in self.s.signals.items() if i == item and loc == location and qty > 0)
        return [(src, qty) for _, src, qty in found]

    def changes_of(self, event_id: str) -> FloorChanges:
        return self.s.changes.get(event_id, FloorChanges())

    def apply(self, event_id: str, day: date, changes: FloorChanges) -> None:
        s = self.s
        for o in changes.orders:
            item, open_qty = s.orders.get(o.order, (o.item, ZERO))
            s.orders[o.order] = (item, open_qty + o.qty)
            total = s.totals.get(item, ZERO) + o.qty
            if total:
                s.totals[item] = total
            else:
                s.totals.pop(item, None)
        for c in changes.signals:  # (only open signals are kept, as in SQL)
            item, location, opened, qty = s.signals.get(
                c.source, (c.item, c.location, day, ZERO))
            if qty + c.qty:
                s.signals[c.source] = (item, location, opened, qty + c.qty)
            else:
                s.signals.pop(c.source, None)
        if changes:
            s.changes[event_id] = changes

    def open_totals(self, items: Sequence[str] | None = None) -> dict[str, Decimal]:
        totals = self.s.totals
        if items is None:
            return dict(totals)
        return {i: totals[i] for i in items if i in totals}

    def signals(self) -> list[OpenSignal]:
        return sorted((OpenSignal(src, item, location, opened, qty) for src, (
            item, location, opened, qty) in self.s.signals.items() if qty > 0),
            key=lambda s: (s.opened_on, s.source))

    def hold(self, held: Held) -> None:
        self.s.held.pop(held.event.id, None)
        self.s.held[held.event.id] = held

    def held(self) -> list[Held]:
        return list(self.s.held.values())

    def held_event(self, event_id: str) -> Held | None:
        return self.s.held.get(event_id)

    def release(self, event_id: str) -> None:
        self.s.held.pop(event_id, None)
