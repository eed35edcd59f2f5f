"""The BOM accuracy report (``backflush report bom-accuracy``, issue 16, item 5): the count
intervals of every counted component and location, built from the stock subledger's sums
by day, and each BOM line's usage per unit estimated over them (:mod:`backflush.domain.
accuracy`).

* **Intervals.** A count is taken at the end of its day (several counts of a place on one
  day: the last posted). Consecutive counts of a component at a location make an interval;
  when the window starts at the ledger's first day (the default: the whole ledger), the
  ledger's first day is a count of nothing, and the opening balances brought forward are
  what came in.
* **Consumption** in an interval: the opening count + the moves that are not consumption
  (receipts, transfers, scrap, sales, openings, completions of the item itself, and the
  reversal of any of them) − the closing count.
* **Units** of each BOM line's parent: what the completions backflushed of the component
  for each parent (good and scrapped units at the BOM in effect on the day, parked issues
  included, reversed completions taken back), divided by the standard usage per unit, and
  shared among the lines it came through (a phantom's line: the phantom's units).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from backflush.domain.accuracy import (
    Interval,
    LineAccuracy,
    LineInfo,
    Unexplained,
    fit,
)
from backflush.domain.bom import explode, signature
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ONE, ROUNDING, ZERO, add
from backflush.service_layer.reports import ALL, Window
from backflush.service_layer.unit_of_work import UnitOfWork

Place = tuple[str, str]  # component, location
UNITS = Decimal("1e-12")  # units of a parent shared among lines: exact to 12 places


@dataclass(frozen=True)
class AccuracyReport:
    window: Window
    tolerance: Decimal
    lines: list[LineAccuracy]
    unexplained: list[Unexplained]
    intervals: list[Interval]

    @property
    def flagged(self) -> list[LineAccuracy]:
        return [a for a in self.lines if a.flagged]


class _Lines:
    """Each parent's explosion on a day, by the BOM versions it uses (worked out once per
    signature): per component, the share of the standard usage each BOM line carries ÷ the
    line's standard usage per unit (units of the line's parent per unit of standard usage)."""

    def __init__(self, master: MasterData) -> None:
        self.master = master
        self.info: dict[str, dict[str, LineInfo]] = defaultdict(dict)  # component -> key -> line
        self._done: dict[tuple[str, tuple[str, ...]], dict[str, list[tuple[str, Decimal]]]] = {}
        self._days: dict[tuple[str, date], dict[str, list[tuple[str, Decimal]]]] = {}

    def shares(self, parent: str, day: date) -> dict[str, list[tuple[str, Decimal]]]:
        found = self._days.get((parent, day))
        if found is None:
            boms, items = self.master.boms, self.master.items
            key = (parent, signature(parent, day, boms, items))
            found = self._done.get(key)
            if found is None:
                found = self._done[key] = self._explode(parent, day)
            self._days[(parent, day)] = found
        return found

    def _explode(self, parent: str, day: date) -> dict[str, list[tuple[str, Decimal]]]:
        boms, items = self.master.boms, self.master.items
        by_comp: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for r in explode(parent, ONE, day, boms, items).requirements:
            by_comp[r.component][r.bom] = add(by_comp[r.component].get(r.bom, ZERO), r.per)
        out: dict[str, list[tuple[str, Decimal]]] = {}
        for comp, per_bom in by_comp.items():
            whole = sum(per_bom.values(), ZERO)
            out[comp] = []
            for bom_key, per in per_bom.items():
                info = self._line(bom_key, comp)
                out[comp].append((bom_key, ROUNDING.divide(per, whole * info.standard)))
        return out

    def _line(self, bom_key: str, component: str) -> LineInfo:
        found = self.info[component].get(bom_key)
        if found is None:
            parent, _, number = bom_key.rpartition("@v")
            version = next(v for v in self.master.boms.versions[parent]
                           if v.version == int(number))
            lines = [ln for ln in version.lines if ln.component == component]
            qty = sum((ln.qty for ln in lines), ZERO)
            gross = sum((ln.gross_qty for ln in lines), ZERO)
            scrap = lines[0].scrap if len(lines) == 1 else ROUNDING.divide(gross, qty) - ONE
            found = self.info[component][bom_key] = LineInfo(
                parent, version.version, component, qty, scrap, gross)
        return found


class _Kept:
    """Reports worked out at the master data in force (kept with it, dropped when it
    changes), by what was asked and the event log's length and last event: asked again with
    nothing posted since (a page viewed again), the report is a lookup, not seconds of
    fitting at plant scale (bench/README.md)."""

    KEPT = 8

    def __init__(self) -> None:
        self.found: dict[Hashable, AccuracyReport] = {}


def bom_accuracy(uow: UnitOfWork, window: Window = ALL,
                 tolerance: Decimal | None = None) -> AccuracyReport:
    """Every BOM line consuming a component counted in ``window``, estimated over the count
    intervals; flagged beyond ``tolerance`` (a share of the standard usage; by default the
    policy's ``count_tolerance``, 2 % unless the plant set its own)."""
    count = uow.events.count()
    last = next(iter(uow.events.all(after=count - 1)), None) if count else None
    key = (window.start, window.end, tolerance, count,
           (last.event.id, last.event.content_hash()) if last is not None else None)
    kept = uow.master.derived("bom_accuracy", _Kept)
    found = kept.found.get(key)
    if found is None:
        found = _estimate(uow, window, tolerance)
        if len(kept.found) >= _Kept.KEPT:
            kept.found.clear()
        kept.found[key] = found
    return found


def _estimate(uow: UnitOfWork, window: Window, tolerance: Decimal | None) -> AccuracyReport:
    tol = uow.master.policy().count_tolerance if tolerance is None else tolerance
    if not ZERO <= tol <= ONE:
        raise ValueError("the tolerance must be from 0 to 1")
    master = uow.master.master()
    from_start = window.start is None or window.start <= uow.master.opened_on()
    flows = uow.stock.usage_flows(None if from_start else window.start, window.end)
    supply: dict[Place, dict[date, Decimal]] = defaultdict(dict)
    for day, item, location, qty in flows.supply:
        at = supply[(item, location)]
        at[day] = add(at.get(day, ZERO), qty)
    used: dict[Place, list[tuple[date, str, Decimal]]] = defaultdict(list)
    for day, item, location, parent, qty in flows.used:
        used[(item, location)].append((day, parent, qty))
    originals = uow.events.find(sorted({of for *_, of in flows.reversals}))
    for day, item, location, qty, of in flows.reversals:
        original = originals.get(of)
        made = getattr(original.event, "item", None) if original is not None else None
        if original is not None and original.event.type == "completion" and made != item:
            used[(item, location)].append((day, str(made), -qty))  # a component given back
        else:
            at = supply[(item, location)]
            at[day] = add(at.get(day, ZERO), qty)
    anchors: dict[Place, dict[date, Decimal]] = defaultdict(dict)
    for day, item, location, qty in flows.counts:  # (in posting order: the last one stays)
        anchors[(item, location)][day] = qty
    lines = _Lines(master)
    found: list[LineAccuracy] = []
    unexplained: list[Unexplained] = []
    every: list[Interval] = []
    for place in sorted(anchors):
        intervals = _intervals(place, anchors[place], from_start, supply.get(place, {}),
                               used.get(place, []), lines)
        every += intervals
        estimated, lost = fit(intervals, lines.info.get(place[0], {}), tol)
        found += estimated
        if lost is not None:
            unexplained.append(lost)
    found.sort(key=lambda a: (not a.flagged, a.line.parent, a.line.component, a.location))
    return AccuracyReport(window, tol, found, unexplained, every)


def _intervals(place: Place, counts: dict[date, Decimal], from_start: bool,
               supply: dict[date, Decimal], used: list[tuple[date, str, Decimal]],
               lines: _Lines) -> list[Interval]:
    points: list[tuple[date | None, Decimal]] = [(None, ZERO)] if from_start else []
    points += sorted(counts.items())
    ends = [d for d, _ in points]  # (None first, when it is there)
    dated = [d for d in ends if d is not None]
    first = 1 if from_start else 0

    def slot(day: date) -> int | None:
        """The interval a day falls in (after its opening count, up to its closing one)."""
        i = bisect_left(dated, day) + first  # the first point dated on or after the day
        if i >= len(points) or i == 0:
            return None
        return i - 1

    came = [ZERO] * max(len(points) - 1, 0)
    units: list[dict[str, Decimal]] = [{} for _ in came]
    for day, qty in supply.items():
        i = slot(day)
        if i is not None:
            came[i] = add(came[i], qty)
    comp = place[0]
    for day, parent, qty in used:
        i = slot(day)
        if i is None:
            continue
        at = units[i]
        for key, per in lines.shares(parent, day).get(comp, ()):
            share = ROUNDING.multiply(qty, per).quantize(UNITS, context=ROUNDING)
            at[key] = add(at.get(key, ZERO), share)
    out = []
    for i, ((start, opening), (end, closing)) in enumerate(pairwise(points)):
        assert end is not None
        out.append(Interval(comp, place[1], start, end, opening + came[i] - closing,
                            {k: v for k, v in units[i].items() if v}))
    return out
