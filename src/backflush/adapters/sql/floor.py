"""The shop floor in SQL (the :class:`~backflush.service_layer.ports.Floor` port): released
orders with their open quantity and a total per item, open replenishment signals, and the
changes each event made, read back for its reversal.

Orders, their totals and the changes are kept in memory for the transaction and written at
its commit (:meth:`SqlFloor.flush`: a few statements, whatever the number of events), as
the stock's balances are: a release posts in a fraction of a millisecond, not five
statements. Signals are few and written as they change; only open ones have a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import bindparam, delete, func, insert, select, update

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.codec import event_columns, event_from_columns
from backflush.adapters.sql.engine import Tx, upserts
from backflush.domain.held import Held
from backflush.domain.kanban import FloorChanges, OpenSignal, OrderChange, SignalChange
from backflush.domain.numbers import ZERO

o, ot, om, s, sm = (t.orders.c, t.order_totals.c, t.order_moves.c, t.signals.c,
                    t.signal_moves.c)
_ORDER = select(o.item, o.open_qty).where(o.order_id == bindparam("order"))
_TOTALS = select(ot.item, ot.open_qty)
_ADD_ORDER = insert(t.orders)
_SET_ORDER = update(t.orders).where(o.order_id == bindparam("key")).values(
    open_qty=bindparam("open_qty"))
_DROP_TOTAL = delete(t.order_totals).where(ot.item == bindparam("key"))
_ORDER_MOVES = select(om.order_id, om.item, om.qty).where(
    om.event_id == bindparam("event")).order_by(om.id)
_SIGNAL_MOVES = select(sm.source, sm.item, sm.location, sm.qty).where(
    sm.event_id == bindparam("event")).order_by(sm.id)
_SIGNALS_AT = select(s.source, s.qty).where(
    s.item == bindparam("item"), s.location == bindparam("location")).order_by(
    s.opened_on, s.source)
_SIGNAL = select(s.qty).where(s.source == bindparam("source"))
_OPEN = select(s.source, s.item, s.location, s.opened_on, s.qty).order_by(s.opened_on,
                                                                          s.source)
_SET_SIGNAL = update(t.signals).where(s.source == bindparam("key")).values(
    qty=bindparam("qty"))
_DROP_SIGNAL = delete(t.signals).where(s.source == bindparam("key"))
_HELD = select(t.held_events)


_PUT_TOTAL = upserts(t.order_totals, ("item",), "open_qty")
_Saved = tuple[dict[str, tuple[str, Decimal] | None], set[str], set[str],
               dict[str, Decimal], bool, set[str], dict[str, FloorChanges]]


class SqlFloor:
    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._orders: dict[str, tuple[str, Decimal] | None] = {}  # read or changed
        self._new: set[str] = set()  # orders not in the table yet
        self._changed: set[str] = set()  # orders to write
        self._totals: dict[str, Decimal] = {}  # the items read or changed
        self._all = False  # whether every item's total is in _totals
        self._dirty: set[str] = set()  # totals to write
        self._moves: dict[str, FloorChanges] = {}  # order changes not written yet, by event
        self._none_held: bool | None = None  # no completion held (None: not looked yet)

    def save(self) -> object:
        return (dict(self._orders), set(self._new), set(self._changed), dict(self._totals),
                self._all, set(self._dirty), dict(self._moves))

    def restore(self, saved: object) -> None:
        (self._orders, self._new, self._changed, self._totals, self._all, self._dirty,
         self._moves) = cast(_Saved, saved)

    def flush(self) -> None:
        """Write the orders, totals and changes of the transaction (at its commit)."""
        tx = self._tx
        known = {k: v for k, v in self._orders.items() if v is not None}
        tx.many(_ADD_ORDER, [{"order_id": k, "item": known[k][0], "open_qty": known[k][1]}
                             for k in sorted(self._new)])
        tx.many(_SET_ORDER, [{"key": k, "open_qty": known[k][1]}
                             for k in sorted(self._changed - self._new)])
        totals = self._totals
        tx.many(_PUT_TOTAL[tx.engine.dialect.name],
                [{"item": i, "open_qty": totals[i]} for i in sorted(self._dirty)
                 if totals.get(i)])
        tx.many(_DROP_TOTAL, [{"key": i} for i in sorted(self._dirty) if not totals.get(i)])
        tx.many(insert(t.order_moves), [
            {"event_id": event, "order_id": c.order, "item": c.item, "qty": c.qty}
            for event, changes in self._moves.items() for c in changes.orders])
        self._new, self._changed, self._dirty, self._moves = set(), set(), set(), {}

    # ------------------------------------------------------------------ orders
    def order(self, order_id: str) -> tuple[str, Decimal] | None:
        if order_id not in self._orders:
            rows = self._tx.rows(_ORDER, {"order": order_id})
            self._orders[order_id] = (rows[0][0], rows[0][1]) if rows else None
        return self._orders[order_id]

    def open_totals(self, items: Sequence[str] | None = None) -> dict[str, Decimal]:
        totals = self._totals
        if items is None and not self._all:
            for item, qty in self._tx.rows(_TOTALS):
                totals.setdefault(item, qty)  # (what this transaction changed stands)
            self._all = True
        elif items is not None and not self._all:
            missing = [i for i in dict.fromkeys(items) if i not in totals]
            if missing:
                found = {r[0]: r[1] for r in self._tx.rows(
                    _TOTALS.where(ot.item.in_(missing)))}
                for item in missing:
                    totals[item] = found.get(item, ZERO)
        wanted = totals if items is None else {i: totals.get(i, ZERO) for i in items}
        return {i: q for i, q in wanted.items() if q}

    def changes_of(self, event_id: str) -> FloorChanges:
        pending = self._moves.get(event_id)
        orders = pending.orders if pending is not None else tuple(
            OrderChange(*r) for r in self._tx.rows(_ORDER_MOVES, {"event": event_id}))
        signals = tuple(SignalChange(*r) for r in self._tx.rows(_SIGNAL_MOVES,
                                                                {"event": event_id}))
        return FloorChanges(orders, signals)

    def apply(self, event_id: str, day: date, changes: FloorChanges) -> None:
        if changes.orders:
            self.open_totals([ch.item for ch in changes.orders])  # (read into _totals)
            totals = self._totals
            for ch in changes.orders:
                found = self.order(ch.order)
                item = found[0] if found is not None else ch.item
                if found is None:
                    self._new.add(ch.order)
                self._orders[ch.order] = (item, (found[1] if found else ZERO) + ch.qty)
                self._changed.add(ch.order)
                if item not in totals:
                    self.open_totals([item])
                totals[item] = totals.get(item, ZERO) + ch.qty
                self._dirty.add(item)
            self._moves[event_id] = FloorChanges(changes.orders)
        for sc in changes.signals:
            self._signal(sc, day)
        self._tx.many(insert(t.signal_moves), [
            {"event_id": event_id, "source": sc.source, "item": sc.item,
             "location": sc.location, "qty": sc.qty} for sc in changes.signals])

    # ------------------------------------------------------------------ signals
    def _signal(self, sc: SignalChange, day: date) -> None:
        tx = self._tx
        rows = tx.rows(_SIGNAL, {"source": sc.source})
        left = (rows[0][0] if rows else ZERO) + sc.qty
        if not left:  # filled: only open signals have a row (their moves stay)
            tx.run(_DROP_SIGNAL, {"key": sc.source})
        elif rows:
            tx.run(_SET_SIGNAL, {"key": sc.source, "qty": left})
        else:  # opened (or reopened, by a reversal: dated then)
            tx.run(insert(t.signals).values(source=sc.source, item=sc.item,
                                            location=sc.location, opened_on=day, qty=left))

    def signals_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        rows = self._tx.rows(_SIGNALS_AT, {"item": item, "location": location})
        return [(r[0], r[1]) for r in rows]

    def signals(self) -> list[OpenSignal]:
        return [OpenSignal(*r) for r in self._tx.rows(_OPEN)]

    # ------------------------------------------------------------------ held completions
    def hold(self, held: Held) -> None:
        h = t.held_events.c
        tx = self._tx
        self._none_held = False
        tx.run(delete(t.held_events).where(h.event_id == held.event.id))
        last = tx.scalar(select(func.max(h.pos)))
        kind, when, item, qty, payload = event_columns(held.event)
        tx.run(insert(t.held_events).values(
            event_id=held.event.id, pos=(last or 0) + 1, type=kind, date=when, item=item,
            qty=qty, payload=payload, reason=held.reason, message=held.message,
            since=held.since))

    def held(self) -> list[Held]:
        return [self._held(r) for r in self._tx.rows(_HELD.order_by(t.held_events.c.pos))]

    def held_event(self, event_id: str) -> Held | None:
        if self._none_held is None:  # (asked of every event posted: one look a transaction)
            self._none_held = self._tx.scalar(select(t.held_events.c.pos).limit(1)) is None
        if self._none_held:
            return None
        rows = self._tx.rows(_HELD.where(t.held_events.c.event_id == event_id))
        return self._held(rows[0]) if rows else None

    def release(self, event_id: str) -> None:
        self._tx.run(delete(t.held_events).where(t.held_events.c.event_id == event_id))

    @staticmethod
    def _held(row: Any) -> Held:
        event = event_from_columns(row.type, row.event_id, row.date, row.item, row.qty,
                                   row.payload)
        return Held(event, row.reason, row.message, row.since)
