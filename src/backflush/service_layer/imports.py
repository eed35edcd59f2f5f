"""Changing master data after set-up: imports of items, BOMs, routings, work centers, costs.

Before anything is posted, master data may change freely (file by file: a made item may wait
for its BOM) and the standards are rolled up again. Once anything is posted, what posted
entries depend on is **frozen**: an item's type, unit of measure, phantom and finished flags,
its standard or conversion cost, the BOM versions that exist, routings and work centers of
items already there. An import may still add items, work centers and routings for new items,
and new BOM versions that take effect after the last event posted. A standard cost changes
by a posted ``cost_change`` (what ``import costs`` does then), which revalues stock on hand.
Each refusal says what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from backflush.domain.bom import Boms, BomVersion
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.events import CostChange, RateChange
from backflush.domain.items import Item
from backflush.domain.kanban import Supermarket
from backflush.domain.masterdata import MasterData, check_master_data
from backflush.domain.rollup import roll_up
from backflush.domain.routing import Operation, WorkCenter
from backflush.service_layer.batch import BatchResult
from backflush.service_layer.posting import post_events_in
from backflush.service_layer.unit_of_work import UnitOfWork

# (backflush_from too: a summarised completion's share, and its reversal, are worked out
# again from the master data, so the location it backflushed from must not move.)
FROZEN_FIELDS = ("made", "uom", "phantom", "finished", "backflush_from")


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    cost_version: int
    posted: BatchResult | None = None


def merged(master: MasterData, *, items: Iterable[Item] = (),
           boms: Iterable[BomVersion] = (),
           routings: Mapping[str, tuple[Operation, ...]] | None = None,
           work_centers: Iterable[WorkCenter] = (),
           kanban: Iterable[Supermarket] = ()) -> MasterData:
    """Master data with the given records added or replacing those with the same key."""
    new_items = dict(master.items)
    new_items.update({i.code: i for i in items})
    versions = {(v.parent, v.version): v for v in master.boms.all()}
    versions.update({(v.parent, v.version): v for v in boms})
    new_routings = dict(master.routings)
    new_routings.update(routings or {})
    wcs = dict(master.work_centers)
    wcs.update({w.code: w for w in work_centers})
    supermarkets = dict(master.kanban)
    supermarkets.update({k.place: k for k in kanban})
    return MasterData(new_items, Boms.of(versions.values()), wcs, new_routings, supermarkets)


def frozen_changes(old: MasterData, new: MasterData, last_posted: date | None
                   ) -> list[Problem]:
    """What ``new`` changes of ``old`` that posted entries depend on."""
    problems = []
    for code, item in sorted(old.items.items()):
        changed = new.items[code]
        for name in FROZEN_FIELDS:
            if getattr(changed, name) != getattr(item, name):
                what = {"made": "type"}.get(name, name)
                problems.append(Problem(
                    f"item {code}", what, f"is {_shown(item, name)} in the entries already "
                    f"posted and cannot become {_shown(changed, name)}; give the new kind of "
                    "item a new code (and stop using the old one)"))
        if item.made and old.is_finished(code) != new.is_finished(code):
            now = "finished goods" if old.is_finished(code) else "an intermediate"
            problems.append(Problem(
                f"item {code}", "finished", f"is {now} in the entries already posted, and "
                "this import would change that (it is a component of a new BOM, or no longer "
                f"one); set finished: {str(old.is_finished(code)).lower()} on it explicitly"))
        for name in ("standard_cost", "conversion_cost"):
            if getattr(changed, name) != getattr(item, name):
                problems.append(Problem(
                    f"item {code}", name, f"the standard in force is {getattr(item, name)}; "
                    "standards are frozen once posted: post a cost_change (or `backflush "
                    "import costs`) to revalue stock on hand"))
    old_versions = {(v.parent, v.version): v for v in old.boms.all()}
    for v in new.boms.all():
        was = old_versions.get((v.parent, v.version))
        if was is not None:
            if was != v:
                problems.append(Problem(
                    f"bom {v.key}", "lines", "this version exists and may have been used to "
                    "post; add a new version with a later effective date instead"))
        elif last_posted is not None and v.effective_from <= last_posted:
            problems.append(Problem(
                f"bom {v.key}", "effective", f"a new version must take effect after the last "
                f"event posted ({last_posted}); date it {_next(last_posted)} or later"))
    for code, ops in sorted(new.routings.items()):
        if code in old.items and old.routings.get(code) != ops:
            problems.append(Problem(f"routing {code}", None, f"'{code}' is costed by the "
                                    "routing in force; its routing cannot change once posted"))
    for code, wc in sorted(new.work_centers.items()):
        was_wc = old.work_centers.get(code)
        if was_wc is not None and was_wc != wc:
            problems.append(Problem(f"work center {code}", "rate", "its rates cost the "
                                    "standards in force: post a rate_change event (or "
                                    "import the work centers again) to change them"))
    return problems


def _shown(item: Item, name: str) -> str:
    value = getattr(item, name)
    if name == "made":
        return "made" if value else "purchased"
    return repr(value) if not isinstance(value, bool) else str(value).lower()


def _next(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


def apply_master(uow: UnitOfWork, master: MasterData, as_of: date, kind: str,
                 rows: int) -> ImportResult:
    """Validate the whole master data, roll up, and store it (inside the caller's UoW)."""
    store = uow.master
    posted = store.frozen()
    check_master_data(master, complete=posted)
    current = store.costs()
    if posted:
        problems = frozen_changes(store.master(), master, uow.events.last_date())
        if problems:
            raise ValidationError(problems)
        # New items get their standards; those already costed keep theirs exactly.
        costs = roll_up(master, current.effective_from, current.number)
        costs = replace(costs, costs={**costs.costs, **current.costs})
    else:
        costs = roll_up(master, as_of, current.number)
    store.replace_master(master, costs)
    return ImportResult(kind, rows, costs.number)


def import_master(uow: UnitOfWork, kind: str, as_of: date, *, items: Iterable[Item] = (),
                  boms: Iterable[BomVersion] = (),
                  routings: Mapping[str, tuple[Operation, ...]] | None = None,
                  work_centers: Iterable[WorkCenter] = (), kanban: Iterable[Supermarket] = (),
                  rows: int = 0) -> ImportResult:
    """Master data merged into the ledger's. Once anything has posted, a work center whose
    rates differ is not replaced: its new rates are posted as a ``rate_change`` event dated
    ``as_of`` (re-rolling the standards and revaluing the stock)."""
    with uow:
        current = uow.master.master()
        changes: list[RateChange] = []
        if uow.master.frozen():
            kept = []
            for wc in work_centers:
                was = current.work_centers.get(wc.code)
                if was is not None and (was.labor_rate, was.overhead_rate,
                                        was.conversion_rate) != (
                        wc.labor_rate, wc.overhead_rate, wc.conversion_rate):
                    changes.append(RateChange(
                        id=f"rates-{as_of.isoformat()}-{wc.code}", date=as_of,
                        work_center=wc.code, labor_rate=wc.labor_rate,
                        overhead_rate=wc.overhead_rate, rate=wc.conversion_rate))
                else:
                    kept.append(wc)
            work_centers = kept
        master = merged(current, items=items, boms=boms, routings=routings,
                        work_centers=work_centers, kanban=kanban)
        result = apply_master(uow, master, as_of, kind, rows)
        if changes:
            posted = post_events_in(uow, changes)
            result = ImportResult(kind, rows, uow.master.costs().number, posted)
        uow.commit()
    return result


def import_costs(uow: UnitOfWork, changes: list[CostChange], as_of: date) -> ImportResult:
    """New standard costs. Before any posting they replace the standards; afterwards each
    change is posted as a ``cost_change`` event, revaluing stock on hand."""
    with uow:
        store = uow.master
        if not store.frozen():
            master = store.master()
            for ch in changes:
                item = master.items[ch.item]
                master = master.with_item(replace(
                    item, standard_cost=ch.standard_cost if ch.standard_cost is not None
                    else item.standard_cost,
                    conversion_cost=ch.conversion_cost if ch.conversion_cost is not None
                    else item.conversion_cost))
            result = apply_master(uow, master, as_of, "costs", len(changes))
        else:
            posted = post_events_in(uow, changes)
            result = ImportResult("costs", len(changes), store.costs().number, posted)
        uow.commit()
    return result
