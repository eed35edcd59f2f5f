"""The in-memory twin of the stock subledger's aggregate read for BOM accuracy
(:meth:`~backflush.service_layer.ports.Stock.usage_flows`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from backflush.domain.events import Count, Reversal
from backflush.domain.journal import PendingChange, StockMove
from backflush.domain.numbers import ZERO, add
from backflush.service_layer.ports import SUPPLY_KINDS, StoredEvent, UsageFlows


class _Row(Protocol):
    @property
    def seq(self) -> int: ...

    def stored(self) -> StoredEvent: ...


class _State(Protocol):
    """What of the memory ledger's state the flows are read from."""

    @property
    def events(self) -> Mapping[str, _Row]: ...

    @property
    def moves(self) -> Sequence[tuple[int | None, date, StockMove]]: ...

    @property
    def pending_changes(self) -> Sequence[tuple[int, PendingChange]]: ...


def usage_flows(s: _State, start: date | None, end: date | None) -> UsageFlows:
    def inside(day: date) -> bool:
        return (start is None or day >= start) and (end is None or day <= end)

    by_seq: dict[int, StoredEvent] = {row.seq: row.stored() for row in s.events.values()}
    counts = [(ev.date, ev.item, ev.location, ev.qty)
              for _, ev in sorted((seq, x.event) for seq, x in by_seq.items())
              if isinstance(ev, Count) and inside(ev.date)]
    supply: dict[tuple[date, str, str], Decimal] = {}
    used: dict[tuple[date, str, str, str], Decimal] = {}
    reversals: dict[tuple[date, str, str, str], Decimal] = {}
    for seq, day, m in s.moves:
        if not inside(day):
            continue
        stored = by_seq.get(seq) if seq is not None else None
        if m.kind in SUPPLY_KINDS:
            key = (day, m.item, m.location)
            supply[key] = add(supply.get(key, ZERO), m.qty)
        elif m.kind == "backflush":
            parent = m.parent or (str(getattr(stored.event, "item"))  # noqa: B009
                                  if stored is not None and stored.event.type == "completion"
                                  else "")
            if parent:
                k = (day, m.item, m.location, parent)
                used[k] = add(used.get(k, ZERO), -m.qty)
        elif m.kind == "reversal" and stored is not None \
                and isinstance(stored.event, Reversal):
            r = (day, m.item, m.location, stored.event.of)
            reversals[r] = add(reversals.get(r, ZERO), m.qty)
    for seq, p in s.pending_changes:
        stored = by_seq.get(seq)
        if stored is not None and p.qty > 0 and stored.event.type == "completion" \
                and inside(stored.event.date):
            k = (stored.event.date, p.item, p.location,
                 str(getattr(stored.event, "item")))  # noqa: B009
            used[k] = add(used.get(k, ZERO), p.qty)
    return UsageFlows(counts, [(*k, q) for k, q in supply.items() if q],
                      [(*k, q) for k, q in used.items() if q],
                      [(d, i, loc, q, of) for (d, i, loc, of), q in reversals.items() if q])
