"""The stock subledger's aggregate read for BOM accuracy
(:meth:`~backflush.service_layer.ports.Stock.usage_flows`): every figure is summed in SQL by
day, item and location (and parent), never read move by move, so a month of ten million
events is a few thousand rows. Counts and reversals are read from their events' bodies (a
count has its own body; a summarised run never holds one)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, select

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.codec import event_from_columns, exact_sum
from backflush.adapters.sql.engine import Tx
from backflush.domain.events import Count, Reversal
from backflush.service_layer.ports import SUPPLY_KINDS, UsageFlows

sm, pc, ev, body = t.stock_moves.c, t.pending_changes.c, t.events.c, t.event_bodies.c


def _within(column: Any, start: date | None, end: date | None) -> Any:
    conds = [column >= start] if start is not None else []
    if end is not None:
        conds.append(column <= end)
    return and_(True, *conds)


def usage_flows(tx: Tx, start: date | None, end: date | None) -> UsageFlows:
    moved = _within(sm.date, start, end)
    counts = []
    for when, item, qty, payload in tx.rows(
            select(body.date, body.item, body.qty, body.payload)
            .where(and_(body.type == "count", _within(body.date, start, end)))
            .order_by(body.n)):
        found = event_from_columns("count", "#", when, item, qty, payload)
        assert isinstance(found, Count)
        counts.append((found.date, found.item, found.location, found.qty))
    supply = [tuple(r) for r in tx.rows(
        select(sm.date, sm.item, sm.location, exact_sum(sm.qty))
        .where(and_(sm.kind.in_(SUPPLY_KINDS), moved))
        .group_by(sm.date, sm.item, sm.location))]
    # What was backflushed for each parent: a summary's moves name it; an event's own moves
    # are its completion's (the backflush of parked issues cleared later is not: the parked
    # quantity counts at the completion that parked it; a completion only parks).
    summed = select(sm.date, sm.item, sm.location, sm.parent, exact_sum(sm.qty)).where(
        and_(sm.kind == "backflush", sm.parent != "", moved)).group_by(
        sm.date, sm.item, sm.location, sm.parent)
    own = select(sm.date, sm.item, sm.location, body.item, exact_sum(sm.qty)).select_from(
        t.stock_moves.join(t.events, ev.seq == sm.event_seq)
        .join(t.event_bodies, body.n == ev.body)).where(and_(
            sm.kind == "backflush", sm.parent == "", body.type == "completion", moved)
        ).group_by(sm.date, sm.item, sm.location, body.item)
    parked = select(body.date, pc.item, pc.location, body.item, exact_sum(pc.qty)).select_from(
        t.pending_changes.join(t.events, ev.seq == pc.event_seq)
        .join(t.event_bodies, body.n == ev.body)).where(and_(
            body.type == "completion", _within(body.date, start, end))
        ).group_by(body.date, pc.item, pc.location, body.item)
    used = [(d, i, loc, parent, -q) for d, i, loc, parent, q in tx.rows(summed)]
    used += [(d, i, loc, parent, -q) for d, i, loc, parent, q in tx.rows(own)]
    used += [(d, i, loc, parent, q) for d, i, loc, parent, q in tx.rows(parked)]
    reversals = []
    for when, item, location, qty, r_date, r_qty, payload in tx.rows(
            select(sm.date, sm.item, sm.location, sm.qty, body.date, body.qty, body.payload)
            .select_from(t.stock_moves.join(t.events, ev.seq == sm.event_seq)
                         .join(t.event_bodies, body.n == ev.body))
            .where(and_(sm.kind == "reversal", body.type == "reversal", moved))):
        found = event_from_columns("reversal", "#", r_date, None, r_qty, payload)
        assert isinstance(found, Reversal)
        reversals.append((when, item, location, qty, found.of))
    return UsageFlows(counts, supply, [u for u in used if u[4]], reversals)
