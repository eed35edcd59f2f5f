"""The shop floor's use cases: keeping released orders and kanban signals as events post,
the kanban quantity of each supermarket item in real time, and the classic loop sizing.

:func:`track` is called for every event posted (one by one or in a summary) and applies what
:func:`backflush.domain.kanban.floor_changes` says it does. :func:`kanban` computes the
lines of the supermarkets asked for (all of them by default) from the open order totals,
the stock at the supermarkets and the open signals; :func:`affected` names the supermarkets
an event can change, so a caller recomputes only those after it (the real-time path: a few
rows read, whatever the number of orders).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal

from backflush.domain.bom import explode
from backflush.domain.events import Completion, Event, Release, Reversal, Signal, Transfer
from backflush.domain.kanban import (
    KanbanLine,
    OpenSignal,
    Place,
    Sizing,
    demand,
    floor_changes,
    kanban_line,
    sizing,
    where_used,
)
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ZERO
from backflush.service_layer.reversals import as_part
from backflush.service_layer.unit_of_work import UnitOfWork

SIZING_DAYS = 28  # the window a loop's daily demand is averaged over, by default
DAILY = Decimal("0.000001")  # a daily demand's places
ROUNDED = Context(prec=34, rounding=ROUND_HALF_UP)  # an average need not be exact


def track(uow: UnitOfWork, event: Event) -> None:
    """Apply what ``event`` does to the released orders and the signals."""
    if not isinstance(event, Release | Completion | Signal | Transfer | Reversal):
        return
    if isinstance(event, Completion) and not event.order:
        return
    original = None
    if isinstance(event, Reversal):
        stored = uow.events.get(event.of)
        original = stored.event if stored is not None else None
        event = as_part(uow, event, original)
    changes = floor_changes(event, uow.master.master().kanban, uow.floor, original)
    if changes:
        uow.floor.apply(event.id, event.date, changes)


class _Users:
    """Who draws on each supermarket, by the BOMs in effect on a day (worked out once per
    day and set of master data, and kept with the master data in force)."""

    def __init__(self) -> None:
        self.by_day: dict[date, dict[Place, tuple[tuple[str, Decimal], ...]]] = {}
        self.locations: frozenset[str] | None = None

    def places(self, master: MasterData, item: str) -> list[Place]:
        """The supermarkets of ``item``."""
        if self.locations is None:
            self.locations = frozenset(location for _, location in master.kanban)
        return [(item, loc) for loc in self.locations if (item, loc) in master.kanban]

    def on(self, master: MasterData, day: date) -> dict[Place, tuple[tuple[str, Decimal], ...]]:
        found = self.by_day.get(day)
        if found is None:
            if len(self.by_day) > 31:
                self.by_day.clear()
            found = self.by_day[day] = where_used(master.kanban, master.items, master.boms,
                                                  day)
        return found


def _users(uow: UnitOfWork, day: date) -> dict[Place, tuple[tuple[str, Decimal], ...]]:
    return uow.master.derived("kanban_users", _Users).on(uow.master.master(), day)


def kanban(uow: UnitOfWork, places: Iterable[Place] | None = None,
           day: date | None = None) -> list[KanbanLine]:
    """The kanban lines of ``places`` (sorted; every supermarket in master-data order when
    None), with the BOMs in effect on ``day`` (default: the latest event's date, or
    today)."""
    master = uow.master.master()
    supermarkets = master.kanban
    if not supermarkets:
        return []
    wanted = list(supermarkets) if places is None else sorted(
        {p for p in places if p in supermarkets})
    if not wanted:
        return []
    when = day or uow.events.last_date() or date.today()
    users = _users(uow, when)
    parents = sorted({p for place in wanted for p, _ in users.get(place, ())})
    totals = uow.floor.open_totals(parents if places is not None else None)
    signals = open_signals(uow)
    parked = uow.stock.pending_totals()
    if places is None:
        stock = uow.stock.balances()
    else:
        uow.stock.prefetch(sorted({item for item, _ in wanted}))
        stock = {p: uow.stock.on_hand(*p) for p in wanted}
    out = []
    for place in wanted:
        item, location = place
        owed = sum((q for _, q in uow.stock.pending_at(item, location)), ZERO) \
            if item in parked else ZERO
        out.append(kanban_line(supermarkets[place],
                               demand(users.get(place, ()), totals) + owed,
                               stock.get(place, ZERO), signals.get(place, ZERO)))
    return out


def affected(uow: UnitOfWork, event: Event, day: date) -> set[Place]:
    """The supermarkets whose kanban line ``event`` can change: those it moves stock at or
    signals for, and those its order's components are drawn from."""
    master = uow.master.master()
    supermarkets = master.kanban
    places: set[Place] = set()
    item = str(getattr(event, "item", ""))
    for attr in ("location", "to_location", "from_location"):
        where = getattr(event, attr, None)
        if isinstance(where, str) and (item, where) in supermarkets:
            places.add((item, where))
    if isinstance(event, Release | Completion) and item in master.items:
        users = uow.master.derived("kanban_users", _Users)
        for r in explode(item, Decimal(1), day, master.boms, master.items).requirements:
            places.update(users.places(master, r.component))
    return places


def kanban_after(uow: UnitOfWork, event: Event) -> list[KanbanLine]:
    """The kanban lines an event just posted changed (the real-time path)."""
    if not uow.master.master().kanban:
        return []
    places = affected(uow, event, event.date)
    if isinstance(event, Reversal):
        stored = uow.events.get(event.of)
        if stored is not None:
            places |= affected(uow, stored.event, event.date)
    return kanban(uow, places, event.date) if places else []


@dataclass(frozen=True, slots=True)
class SizingReport:
    start: date
    end: date
    lines: list[Sizing]


def sizing_report(uow: UnitOfWork, start: date | None = None, end: date | None = None
                  ) -> SizingReport:
    """Each supermarket's loop size at its daily demand: what completions backflushed of
    it in the window (default: the 28 days to the latest event), per day."""
    master = uow.master.master()
    last = end or uow.events.last_date() or date.today()
    first = start or last - timedelta(days=SIZING_DAYS - 1)
    days = Decimal((last - first).days + 1)
    lines = []
    backflushed = uow.stock.backflushed_totals(first, last)  # (one read, every component)
    for place, sm in master.kanban.items():
        used = abs(backflushed.get(place[0], ZERO))
        daily = ROUNDED.divide(used, days).quantize(DAILY, context=ROUNDED)
        lines.append(sizing(sm, daily))
    return SizingReport(first, last, lines)


def signals_to_send(lines: Sequence[KanbanLine]) -> list[KanbanLine]:
    """The lines that ask for replenishment now."""
    return [ln for ln in lines if ln.containers > 0]


def signal_id(uow: UnitOfWork, line: KanbanLine, day: date) -> str:
    """A new signal's id: ``KB-<day>-<item>@<location>``, numbered when taken."""
    base = f"KB-{day.isoformat()}-{line.item}@{line.location}"
    ident, n = base, 1
    while uow.events.get(ident) is not None:
        n += 1
        ident = f"{base}-{n}"
    return ident


def signals_for(uow: UnitOfWork, day: date | None = None) -> list[Signal]:
    """The signal events that would ask for what each supermarket lacks now (its kanban
    quantity, in whole containers), dated ``day`` (default: the latest event's date, or the
    first open day when that is in a closed period)."""
    when = day or uow.events.last_date() or date.today()
    locked = uow.master.locked_through()
    if day is None and locked is not None and when <= locked:
        when = locked + timedelta(days=1)
    return [Signal(id=signal_id(uow, line, when), date=when, item=line.item,
                   location=line.location, qty=line.replenish_qty)
            for line in signals_to_send(kanban(uow, day=when))]


def open_signals(uow: UnitOfWork) -> dict[Place, Decimal]:
    """Open signal quantity by supermarket (places with none left out)."""
    out: dict[Place, Decimal] = {}
    for s in uow.floor.signals():
        out[(s.item, s.location)] = out.get((s.item, s.location), ZERO) + s.qty
    return out


def signal_list(uow: UnitOfWork) -> list[OpenSignal]:
    """The open signals by supermarket in master-data order, oldest first at each."""
    order = {place: n for n, place in enumerate(uow.master.master().kanban)}
    return sorted(uow.floor.signals(), key=lambda s: order.get((s.item, s.location),
                                                                len(order)))

