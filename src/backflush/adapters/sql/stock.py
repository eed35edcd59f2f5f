"""The stock subledger in SQL: balances by item and location, the moves behind them, and the
issues parked until stock arrives.

Stock read by a transaction is kept in memory for it: an item's every location is read at
once (a completion asks for the total of each component and the place of each withdrawal),
:meth:`SqlStock.prefetch` reads many items in one query, and the transaction's own moves keep
what it holds current. Balances are worked out here as exact Decimals (SQL arithmetic on
SQLite's decimal text would be binary floating point) and written back once, with ``INSERT
... ON CONFLICT DO UPDATE``, when the transaction commits (or before a query reads them):
on PostgreSQL a row updated again and again in one transaction leaves a chain of versions
that every later update walks, so 20,000 events posted one by one took minutes. Moves are
written through :mod:`.bulk`: an event's few dozen as one multi-row statement, a summary's
thousands by COPY on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import String, and_, any_, bindparam, delete, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY

from backflush.adapters.sql import bulk
from backflush.adapters.sql import schema as t
from backflush.adapters.sql.codec import date_text, decimal_text, exact_sum
from backflush.adapters.sql.engine import Tx, upserts
from backflush.domain.journal import PendingChange, StockMove, queue_after
from backflush.domain.numbers import ZERO, add
from backflush.service_layer.ports import UsageFlows

PAGE = 10_000  # moves read per query when every move is read
ITEMS_PER_QUERY = 50_000  # items prefetched per query (one parameter: no bind limit)
sb, sm, pc, pq, pt = (t.stock_balances.c, t.stock_moves.c, t.pending_changes.c,
                      t.pending_queue.c, t.pending_totals.c)
ev, body = t.events.c, t.event_bodies.c
# The stock of many items, by a statement that is the same whatever their number (an
# expanding IN would be rendered again for every call): a JSON array on SQLite, an array on
# PostgreSQL, one parameter either way.
_OF_ITEMS = {
    "sqlite": select(sb.item, sb.location, sb.qty).where(sb.item.in_(
        select(literal_column("value")).select_from(func.json_each(bindparam("items"))))),
    "postgresql": select(sb.item, sb.location, sb.qty).where(
        sb.item == any_(bindparam("items", type_=ARRAY(String)))),
}
_ALL = select(sb.item, sb.location, sb.qty)
_TOTALS_AS_OF = select(sm.item, exact_sum(sm.qty)).where(
    sm.date <= bindparam("as_of")).group_by(sm.item)
_TOTALS_AFTER = select(sm.item, exact_sum(sm.qty)).where(
    sm.date > bindparam("as_of")).group_by(sm.item)
_MOVES_AFTER = select(func.count()).select_from(t.stock_moves).where(
    sm.date > bindparam("as_of"))
_MOVES_ALL = select(func.count()).select_from(t.stock_moves)
_MOVE = (sm.item, sm.location, sm.qty, sm.kind, sm.parent)
_MOVES = select(sm.id, *_MOVE).where(sm.id > bindparam("after")).order_by(sm.id).limit(PAGE)
_MOVES_OF = select(*_MOVE).where(sm.event_seq == bindparam("seq")).order_by(sm.id)
_PENDING_OF = select(pc.item, pc.location, pc.qty, pc.source).where(
    pc.event_seq == bindparam("seq")).order_by(pc.id)
_PENDING_TOTALS = select(pt.item, pt.qty)
_QUEUE = select(pq.source, pq.qty).where(
    and_(pq.item == bindparam("item"), pq.location == bindparam("location"))).order_by(pq.pos)
_ALL_QUEUED = select(pq.item, pq.location, pq.source, pq.qty).order_by(
    pq.item, pq.location, pq.pos)
_DROP_QUEUE = delete(t.pending_queue).where(
    and_(pq.item == bindparam("item"), pq.location == bindparam("location")))
_DROP_TOTAL = delete(t.pending_totals).where(pt.item == bindparam("item"))
# What was backflushed of a component in a period: its backflush moves (with the event
# that made each, if any), and the issues parked for it by completions.
_ANY_BACKFLUSH = select(sm.item, sm.parent, sm.qty, body.type, body.item,
                        ev.reversed_by).select_from(
    t.stock_moves.outerjoin(t.events, ev.seq == sm.event_seq)
    .outerjoin(t.event_bodies, body.n == ev.body)).where(and_(
        sm.kind == "backflush", sm.date >= bindparam("start"), sm.date <= bindparam("end")))
_BACKFLUSH_MOVES = _ANY_BACKFLUSH.where(sm.item == bindparam("item"))
_ANY_PARKED = select(pc.item, body.item, pc.qty).select_from(
    t.pending_changes.join(t.events, ev.seq == pc.event_seq)
    .join(t.event_bodies, body.n == ev.body)).where(and_(
        body.type == "completion", ev.reversed_by.is_(None),
        body.date >= bindparam("start"), body.date <= bindparam("end")))
_PARKED_FOR = _ANY_PARKED.where(pc.item == bindparam("item"))
_MOVE_COLUMNS = ("event_seq", "date", "item", "location", "qty", "kind", "parent")


_PUT_TOTAL = upserts(t.pending_totals, ("item",), "qty")


class SqlStock:
    """Implements :class:`~backflush.service_layer.ports.Stock` in one transaction."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._dialect = tx.engine.dialect.name
        self._places: dict[tuple[str, str], Decimal] = {}  # the places of the items read
        self._totals: dict[str, Decimal] = {}  # every item read: its total
        self._parked: dict[str, Decimal] | None = None  # parked by item, once read
        self._queues: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
        self._dirty: dict[tuple[str, str], Decimal] = {}  # balances not written yet

    def save(self) -> object:
        return (dict(self._places), dict(self._totals),
                None if self._parked is None else dict(self._parked),
                {k: list(v) for k, v in self._queues.items()}, dict(self._dirty))

    def restore(self, saved: object) -> None:
        self._places, self._totals, self._parked, self._queues, self._dirty = cast(
            tuple[dict[tuple[str, str], Decimal], dict[str, Decimal], dict[str, Decimal] | None,
                  dict[tuple[str, str], list[tuple[str, Decimal]]],
                  dict[tuple[str, str], Decimal]], saved)

    def flush(self) -> None:
        """Write the balances changed since the last flush (one statement)."""
        if self._dirty:
            with self._tx.guard() as conn:
                bulk.upsert_rows(conn, "stock_balances", ("item", "location", "qty"),
                                 ("item", "location"),
                                 [(i, loc, decimal_text(q)) for (i, loc), q in
                                  self._dirty.items()])
            self._dirty = {}

    # ------------------------------------------------------------------ on hand
    def prefetch(self, items: Sequence[str]) -> None:
        wanted = [i for i in dict.fromkeys(items) if i not in self._totals]
        for start in range(0, len(wanted), ITEMS_PER_QUERY):
            part = wanted[start:start + ITEMS_PER_QUERY]
            for item in part:
                self._totals[item] = ZERO
            param: object = part if self._tx.pg else json.dumps(part)
            for item, location, qty in self._tx.rows(_OF_ITEMS[self._dialect], {"items": param}):
                self._places[(item, location)] = qty
                self._totals[item] = add(self._totals[item], qty)

    def on_hand(self, item: str, location: str) -> Decimal:
        if item not in self._totals:
            self.prefetch((item,))
        return self._places.get((item, location), ZERO)

    def on_hand_total(self, item: str) -> Decimal:
        if item not in self._totals:
            self.prefetch((item,))
        return self._totals[item]

    def balances(self) -> Mapping[tuple[str, str], Decimal]:
        self.flush()
        return {(item, location): qty for item, location, qty in self._tx.rows(_ALL)}

    def totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        if as_of is None:
            self.flush()
            for item, _, qty in self._tx.rows(_ALL):
                out[item] = add(out.get(item, ZERO), qty)
        else:  # the moves up to the day, or today's totals less the moves since: the fewer
            self.flush()
            later = int(self._tx.scalar(_MOVES_AFTER, {"as_of": as_of}) or 0)
            if 2 * later < int(self._tx.scalar(_MOVES_ALL) or 0):
                out = dict(self.totals())
                for item, qty in self._tx.rows(_TOTALS_AFTER, {"as_of": as_of}):
                    out[item] = add(out.get(item, ZERO), -qty)
            else:
                out = {item: qty for item, qty in self._tx.rows(_TOTALS_AS_OF,
                                                                {"as_of": as_of})}
        return {k: v for k, v in out.items() if v}

    # ------------------------------------------------------------------ writing
    def apply(self, event_seq: int | None, day: date, moves: Sequence[StockMove],
              pending: Sequence[PendingChange] = ()) -> None:
        if moves:
            self._move(event_seq, day, moves)
        if pending:
            if event_seq is None:
                raise ValueError("summaries park nothing: pending changes need their event")
            self._park(event_seq, pending)

    def _move(self, event_seq: int | None, day: date, moves: Sequence[StockMove]) -> None:
        self.prefetch([m.item for m in moves])
        changed: dict[tuple[str, str], Decimal] = {}  # (kept in memory once written)
        totals: dict[str, Decimal] = {}
        for m in moves:
            key = (m.item, m.location)
            was = changed[key] if key in changed else self._places.get(key, ZERO)
            changed[key] = add(was, m.qty)
            total = totals[m.item] if m.item in totals else self._totals[m.item]
            totals[m.item] = add(total, m.qty)
        when = date_text(day)
        with self._tx.guard() as conn:  # (one multi-row statement for an event's moves)
            bulk.insert_rows(conn, "stock_moves", _MOVE_COLUMNS, [
                (event_seq, when, m.item, m.location, decimal_text(m.qty), m.kind, m.parent)
                for m in moves])
        self._dirty.update(changed)
        self._places.update(changed)
        self._totals.update(totals)

    def _park(self, event_seq: int, pending: Sequence[PendingChange]) -> None:
        parked = self._parked_totals()
        totals: dict[str, Decimal] = {}  # (kept in memory once written)
        queues: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
        for p in pending:
            was = totals[p.item] if p.item in totals else parked.get(p.item, ZERO)
            totals[p.item] = add(was, p.qty)
            key = (p.item, p.location)
            queues[key] = queue_after(queues[key] if key in queues else self._queue(*key), p)
        tx = self._tx
        tx.many(insert(t.pending_changes), [
            {"event_seq": event_seq, "item": p.item, "location": p.location, "qty": p.qty,
             "source": p.source} for p in pending])
        tx.many(_PUT_TOTAL[tx.engine.dialect.name],
                [{"item": i, "qty": q} for i, q in totals.items() if q])
        tx.many(_DROP_TOTAL, [{"item": i} for i, q in totals.items() if not q])
        keys = sorted(queues)
        tx.many(_DROP_QUEUE, [{"item": i, "location": loc} for i, loc in keys])
        tx.many(insert(t.pending_queue), [
            {"item": i, "location": loc, "pos": n, "source": source, "qty": qty}
            for i, loc in keys for n, (source, qty) in enumerate(queues[(i, loc)])])
        parked.update(totals)
        self._queues.update(queues)

    # ------------------------------------------------------------------ moves, parked issues
    def moves(self) -> Iterator[StockMove]:
        after = 0
        while True:
            rows = self._tx.rows(_MOVES, {"after": after})
            yield from (StockMove(r.item, r.location, r.qty, r.kind, r.parent) for r in rows)
            if len(rows) < PAGE:
                return
            after = rows[-1].id

    def moves_of(self, event_seq: int) -> list[StockMove]:
        return [StockMove(*row) for row in self._tx.rows(_MOVES_OF, {"seq": event_seq})]

    def pending_of(self, event_seq: int) -> list[PendingChange]:
        return [PendingChange(*row) for row in self._tx.rows(_PENDING_OF, {"seq": event_seq})]

    def _queue(self, item: str, location: str) -> list[tuple[str, Decimal]]:
        key = (item, location)
        if key not in self._queues:
            self._queues[key] = [(str(source), qty) for source, qty in self._tx.rows(
                _QUEUE, {"item": item, "location": location})]
        return self._queues[key]

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return tuple(self._queue(item, location))

    def _parked_totals(self) -> dict[str, Decimal]:
        if self._parked is None:
            self._parked = {item: qty for item, qty in self._tx.rows(_PENDING_TOTALS)}
        return self._parked

    def pending_total(self, item: str) -> Decimal:
        return self._parked_totals().get(item, ZERO)

    def pending_totals(self) -> Mapping[str, Decimal]:
        return {k: v for k, v in self._parked_totals().items() if v}

    def pending_queue(self) -> list[tuple[str, str, str, Decimal]]:
        return [(str(item), str(location), str(source), qty)
                for item, location, source, qty in self._tx.rows(_ALL_QUEUED)]

    def usage_flows(self, start: date | None, end: date | None) -> UsageFlows:
        from backflush.adapters.sql.accuracy import usage_flows

        self.flush()
        return usage_flows(self._tx, start, end)

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        span = {"item": component, "start": start, "end": end}
        found = self._tally(self._tx.rows(_BACKFLUSH_MOVES, span),
                            self._tx.rows(_PARKED_FOR, span))
        return {parent: q for (_, parent), q in found.items() if q}

    def backflushed_totals(self, start: date, end: date) -> Mapping[str, Decimal]:
        span = {"start": start, "end": end}
        out: dict[str, Decimal] = {}
        for (component, _), qty in self._tally(self._tx.rows(_ANY_BACKFLUSH, span),
                                               self._tx.rows(_ANY_PARKED, span)).items():
            out[component] = add(out.get(component, ZERO), qty)
        return {c: q for c, q in out.items() if q}

    @staticmethod
    def _tally(moves: Sequence[Any], parked: Sequence[Any]) -> dict[tuple[str, str], Decimal]:
        """Backflushed by (component, parent): per-event completions not reversed (their
        backflush moves and parked issues), and summary moves (which name their parent)."""
        out: dict[tuple[str, str], Decimal] = {}

        def count(key: tuple[str, str], qty: Decimal) -> None:
            out[key] = add(out.get(key, ZERO), qty)

        for component, parent, qty, kind, item, reversed_by in moves:
            if parent:  # a summary's move names its parent
                count((component, parent), qty.copy_negate())
            elif kind == "completion" and reversed_by is None and item is not None:
                count((component, item), qty.copy_negate())
        for component, item, qty in parked:
            if qty > 0:
                count((component, item), qty)
        return out
