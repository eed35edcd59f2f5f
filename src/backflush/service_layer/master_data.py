"""Changing master data after set-up: imports of items, BOMs, routings, work centers, costs.

Before anything is posted, master data may change freely and the standards are rolled up
again. Once postings exist, standards in force are frozen: an import may add items, add BOM
versions (a completion backflushes the BOM in effect on its date; any difference from the
costed BOM is a usage variance) and add routings or work centers for new items, but a change
that would alter the standard cost of an item already costed is refused: standard cost changes
are posted (``cost_change`` events), so that stock on hand is revalued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from backflush.domain.bom import Boms, BomVersion
from backflush.domain.costing import MasterData, check_master_data, roll_up
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.events import CostChange
from backflush.domain.items import Item
from backflush.domain.routing import Operation, WorkCenter
from backflush.service_layer.services import BatchResult, post_events_in
from backflush.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    cost_version: int
    posted: BatchResult | None = None


def merged(master: MasterData, *, items: Iterable[Item] = (),
           boms: Iterable[BomVersion] = (),
           routings: Mapping[str, tuple[Operation, ...]] | None = None,
           work_centers: Iterable[WorkCenter] = ()) -> MasterData:
    """Master data with the given records added or replacing those with the same key."""
    new_items = dict(master.items)
    new_items.update({i.code: i for i in items})
    versions = {(v.parent, v.version): v for vs in master.boms.versions.values() for v in vs}
    versions.update({(v.parent, v.version): v for v in boms})
    new_routings = dict(master.routings)
    new_routings.update(routings or {})
    wcs = dict(master.work_centers)
    wcs.update({w.code: w for w in work_centers})
    return MasterData(new_items, Boms.of(versions.values()), wcs, new_routings)


def apply_master(uow: UnitOfWork, master: MasterData, as_of: date, kind: str,
                 rows: int) -> ImportResult:
    """Validate the whole master data, roll up, and store it (inside the caller's UoW).

    Before anything is posted, made items may still wait for their BOM or routing (imports
    come file by file); posting checks that the master data is complete.
    """
    ledger = uow.ledger
    check_master_data(master, complete=ledger.anything_posted())
    current = ledger.costs
    number = current.number + 1 if ledger.cost_version_used() else current.number
    costs = roll_up(master, as_of, number)
    if ledger.anything_posted():
        changed = [
            Problem(f"item {code}", "standard_cost",
                    f"the standard in force is {current[code].unit_cost}; this import makes it "
                    f"{costs[code].unit_cost}. Standards are frozen once posted: post a "
                    "cost_change (or `backflush import costs`) to revalue stock")
            for code in sorted(current.costs)
            if code in costs.costs and costs[code].unit_cost != current[code].unit_cost]
        if changed:
            raise ValidationError(changed)
        # Keep the standards of items already costed exactly as they are.
        costs = replace(costs, costs={**costs.costs, **current.costs},
                        effective_from=current.effective_from)
    ledger.replace_master(master, costs)
    return ImportResult(kind, rows, costs.number)


def import_master(uow: UnitOfWork, kind: str, as_of: date, *, items: Iterable[Item] = (),
                  boms: Iterable[BomVersion] = (),
                  routings: Mapping[str, tuple[Operation, ...]] | None = None,
                  work_centers: Iterable[WorkCenter] = (), rows: int = 0) -> ImportResult:
    with uow:
        master = merged(uow.ledger.master, items=items, boms=boms, routings=routings,
                        work_centers=work_centers)
        result = apply_master(uow, master, as_of, kind, rows)
        uow.commit()
    return result


def import_costs(uow: UnitOfWork, changes: list[CostChange], as_of: date) -> ImportResult:
    """New standard costs. Before any posting they replace the standards; afterwards each
    change is posted as a ``cost_change`` event, revaluing stock on hand."""
    with uow:
        ledger = uow.ledger
        if not ledger.anything_posted():
            master = ledger.master
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
            result = ImportResult("costs", len(changes), ledger.costs.number, posted)
        uow.commit()
    return result
