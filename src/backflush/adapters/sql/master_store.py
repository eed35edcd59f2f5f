"""Master data, policy, cost versions and the ledger's settings, in SQL.

Posting needs the master data, the policy and the cost version in force in every
transaction, and they change rarely (a master-data import, a cost change). So they are kept
between transactions in a :class:`MasterCache`, which lives on the ledger object the
composition root makes (:class:`~.unit_of_work.SqlLedger`), keyed by the ledger's
``revision`` setting: a random stamp written whenever any of them changes. A transaction
reads the revision (with the lock date and first day: one small SELECT) and uses the cached
records when the stamps agree; what it loads itself it adds. What a transaction writes is
published to the cache only once it has committed, under the new stamp, so no other
transaction ever sees uncommitted master data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.schema import Table

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.codec import (
    cost_from_row,
    cost_row,
    decimal_text,
    policy_from_json,
    policy_to_json,
)
from backflush.adapters.sql.engine import Tx, upserts
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costs import CostVersion
from backflush.domain.errors import LedgerError
from backflush.domain.items import Item
from backflush.domain.kanban import Supermarket
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ZERO
from backflush.domain.policy import Policy
from backflush.domain.routing import Operation, WorkCenter

T = TypeVar("T")

# The settings read once per transaction (every one but the policy: a few short rows).
STATE_KEYS = ("revision", "opened_on", "locked_through", "cost_version")


@dataclass
class Standing:
    """Master data, policy and cost versions as of one revision (filled as they are read;
    the records themselves are immutable)."""

    revision: str
    master: MasterData | None = None
    policy: Policy | None = None
    costs: CostVersion | None = None
    versions: dict[int, CostVersion] = field(default_factory=dict)  # earlier versions
    derived: dict[str, object] = field(default_factory=dict)  # see MasterStore.derived


class MasterCache:
    """The records of the latest revision seen, shared by the transactions of one ledger
    object (each thread with its own connection: replacing the entry is one assignment)."""

    def __init__(self) -> None:
        self._standing: Standing | None = None

    def get(self, revision: str) -> Standing | None:
        standing = self._standing
        return standing if standing is not None and standing.revision == revision else None

    def put(self, standing: Standing) -> None:
        self._standing = standing

    def clear(self) -> None:
        self._standing = None


_STATE = select(t.settings.c.key, t.settings.c.value).where(t.settings.c.key != "policy")
_SETTING = select(t.settings.c.value).where(t.settings.c.key == bindparam("key"))
_PUT_SETTING = upserts(t.settings, ("key",), "value")
_ANY_EVENT = select(t.events.c.seq).limit(1)
_LAST_CLOSE = select(func.max(t.closes.c.n))
_CLOSES = select(t.closes.c.through).order_by(t.closes.c.n)
_CLOSED_BY = select(t.closes.c.event_id).where(
    t.closes.c.period == bindparam("period")).order_by(t.closes.c.n.desc()).limit(1)
_VERSION = select(t.cost_versions.c.effective_from).where(
    t.cost_versions.c.number == bindparam("number"))
_COSTS = select(t.standard_costs).where(
    t.standard_costs.c.version == bindparam("number")).order_by(t.standard_costs.c.ord)

# Master-data tables with their keys, parents before children (inserts in this order,
# deletes in the other).
_MASTER_TABLES: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (t.items, ("code",)),
    (t.bom_versions, ("parent", "version")),
    (t.bom_lines, ("parent", "version", "line_no")),
    (t.work_centers, ("code",)),
    (t.routings, ("item", "n")),
    (t.kanban_items, ("item", "location")),
)


def master_rows(master: MasterData) -> dict[str, list[dict[str, Any]]]:
    """The rows of each master-data table for ``master``, positions included."""
    items = [{"code": i.code, "ord": n, "uom": i.uom, "standard_cost": i.standard_cost,
              "conversion_cost": i.conversion_cost, "phantom": i.phantom,
              "finished": i.finished, "made": i.made, "description": i.description,
              "backflush_from": i.backflush_from, "negative_stock": i.negative_stock}
             for n, i in enumerate(master.items.values())]
    versions, lines = [], []
    for n, v in enumerate(master.boms.all()):
        versions.append({"parent": v.parent, "version": v.version, "ord": n,
                         "effective_from": v.effective_from})
        lines += [{"parent": v.parent, "version": v.version, "line_no": k,
                   "component": ln.component, "qty": ln.qty, "scrap": ln.scrap,
                   "flush": ln.flush}
                  for k, ln in enumerate(v.lines, 1)]
    centers = [{"code": w.code, "ord": n, "labor_rate": w.labor_rate,
                "overhead_rate": w.overhead_rate, "conversion_rate": w.conversion_rate,
                **dict(zip(("budget_labor", "budget_overhead", "budget_conversion"),
                           w.budget or (None, None, None), strict=True)),
                "budget_hours": w.budget_hours if w.budget is not None else None}
               for n, w in enumerate(master.work_centers.values())]
    ops: list[dict[str, Any]] = []
    for item, operations in master.routings.items():
        ops += [{"item": item, "n": k, "ord": len(ops) + k, "operation": op.operation,
                 "work_center": op.work_center, "run_hours": op.run_hours,
                 "setup_hours": op.setup_hours, "lot_size": op.lot_size}
                for k, op in enumerate(operations)]
    kanban = [{"item": k.item, "location": k.location, "ord": n,
               "container_qty": k.container_qty, "lead_time_days": k.lead_time_days,
               "safety": k.safety} for n, k in enumerate(master.kanban.values())]
    return {"items": items, "bom_versions": versions, "bom_lines": lines,
            "work_centers": centers, "routings": ops, "kanban_items": kanban}


def _same_text(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """A row's values as stored (1.50 and 1.5 are different text: a change to store)."""
    return tuple((k, decimal_text(v) if isinstance(v, Decimal) else v)
                 for k, v in sorted(row.items()))


class SqlMasterStore:
    """Implements :class:`~backflush.service_layer.ports.MasterStore` in one transaction."""

    def __init__(self, tx: Tx, cache: MasterCache) -> None:
        self._tx = tx
        self._cache = cache
        self._state: dict[str, str] | None = None  # the STATE_KEYS settings present
        self._standing: Standing | None = None
        self._wrote = False  # master data, policy or costs changed in this transaction

    # ------------------------------------------------------------------ transaction
    def save(self) -> object:
        return (dict(self._state) if self._state is not None else None, self._standing,
                self._wrote)

    def restore(self, saved: object) -> None:
        self._state, self._standing, self._wrote = cast(
            tuple[dict[str, str] | None, Standing | None, bool], saved)

    def committed(self) -> None:
        """The transaction committed: what it wrote may now be shared."""
        if self._wrote and self._standing is not None:
            self._cache.put(self._standing)

    # ------------------------------------------------------------------ settings
    def _settings(self) -> dict[str, str]:
        if self._state is None:
            self._state = {str(k): str(v) for k, v in self._tx.rows(_STATE)
                           if k in STATE_KEYS}
        return self._state

    def _put(self, key: str, value: str) -> None:
        self._tx.run(_PUT_SETTING[self._tx.engine.dialect.name], {"key": key, "value": value})
        if key in STATE_KEYS:
            self._settings()[key] = value

    def _here(self) -> Standing:
        """The records of this transaction's revision: shared ones, or a new entry (shared
        at once when this transaction changed nothing: what it reads is committed)."""
        if self._standing is None:
            revision = self._settings().get("revision", "")
            found = self._cache.get(revision) if revision else None
            if found is None:
                found = Standing(revision)
                if revision:
                    self._cache.put(found)
            self._standing = found
        return self._standing

    def _changed(self) -> Standing:
        """This transaction changes master data, policy or costs: a new revision, and an
        entry of its own (published on commit). Every change starts a new entry, with
        nothing derived from the records it replaces (two cost changes in one batch: the
        books of the first are not the second's)."""
        old = self._here()
        if not self._wrote:
            self._wrote = True
            revision = uuid.uuid4().hex
            self._put("revision", revision)
        else:
            revision = old.revision
        self._standing = Standing(revision, old.master, old.policy, old.costs,
                                  dict(old.versions))
        return self._standing

    def _need(self) -> Standing:
        if "opened_on" not in self._settings():
            raise LedgerError("no ledger is set up here")
        return self._here()

    # ------------------------------------------------------------------ the port
    def ready(self) -> bool:
        return "opened_on" in self._settings()

    def setup(self, master: MasterData, policy: Policy, costs: CostVersion,
              opened_on: date) -> None:
        if self.ready():
            raise LedgerError("this ledger is already set up")
        old = self._stored_master()
        standing = self._changed()
        self._store_master(old, master)
        self._store_costs(costs, None)
        self._put("policy", policy_to_json(policy))
        self._put("cost_version", str(costs.number))
        self._put("opened_on", opened_on.isoformat())
        standing.master, standing.policy, standing.costs = master, policy, costs

    def master(self) -> MasterData:
        standing = self._need()
        if standing.master is None:
            standing.master = self._load_master()
        return standing.master

    def policy(self) -> Policy:
        standing = self._need()
        if standing.policy is None:
            text = self._tx.scalar(_SETTING, {"key": "policy"})
            if text is None:
                raise LedgerError("this ledger has no policy stored")
            standing.policy = policy_from_json(str(text))
        return standing.policy

    def costs(self) -> CostVersion:
        standing = self._need()
        if standing.costs is None:
            number = self._settings().get("cost_version")
            if number is None:
                raise LedgerError("this ledger has no cost version stored")
            standing.costs = self._load_costs(int(number))
        return standing.costs

    def cost_version(self, number: int) -> CostVersion:
        standing = self._here()
        if standing.costs is not None and standing.costs.number == number:
            return standing.costs
        found = standing.versions.get(number)
        if found is None:
            found = standing.versions[number] = self._load_costs(number)
        return found

    def opened_on(self) -> date:
        self._need()
        return date.fromisoformat(self._settings()["opened_on"])

    def locked_through(self) -> date | None:
        text = self._settings().get("locked_through")
        return date.fromisoformat(text) if text else None

    def replace_master(self, master: MasterData, costs: CostVersion) -> None:
        self._replace(master, costs, None)

    def add_cost_version(self, costs: CostVersion, master: MasterData, event_id: str) -> None:
        self._replace(master, costs, event_id)

    def lock(self, through: date, period: str, event_id: str) -> None:
        n = int(self._tx.scalar(_LAST_CLOSE) or 0) + 1
        self._tx.run(insert(t.closes), {"n": n, "through": through, "period": period,
                                        "event_id": event_id})
        locked = max(through, self.locked_through() or date.min)
        self._put("locked_through", locked.isoformat())

    def closed_periods(self) -> list[date]:
        return [row[0] for row in self._tx.rows(_CLOSES)]

    def closed_by(self, period: str) -> str | None:
        found = self._tx.scalar(_CLOSED_BY, {"period": period})
        return None if found is None else str(found)

    def reopen(self, period: str) -> None:
        self._tx.run(delete(t.closes).where(t.closes.c.period == period))
        rest = self.closed_periods()
        self._put("locked_through", max(rest).isoformat() if rest else "")

    def frozen(self) -> bool:
        return self._tx.scalar(_ANY_EVENT) is not None

    def derived(self, key: str, make: Callable[[], T]) -> T:
        standing = self._need()
        found = standing.derived.get(key)
        if found is None:
            found = standing.derived[key] = make()
        return found  # type: ignore[return-value]

    # ------------------------------------------------------------------ writing
    def _replace(self, master: MasterData, costs: CostVersion, event_id: str | None) -> None:
        old = self._stored_master()
        standing = self._changed()
        self._store_master(old, master)
        self._store_costs(costs, event_id)
        self._put("cost_version", str(costs.number))
        standing.master, standing.costs = master, costs
        standing.versions.pop(costs.number, None)

    def _stored_master(self) -> MasterData:
        standing = self._here()
        if standing.master is None:
            standing.master = self._load_master()
        return standing.master

    def _store_master(self, old: MasterData, new: MasterData) -> None:
        """Write what differs between the stored master data and ``new`` (a cost change
        touches a few items: a few rows)."""
        before, after = master_rows(old), master_rows(new)
        changes = []
        for table, keys in _MASTER_TABLES:
            was = {tuple(r[k] for k in keys): r for r in before[table.name]}
            now = {tuple(r[k] for k in keys): r for r in after[table.name]}
            gone = [dict(zip(keys, key, strict=True)) for key in was if key not in now]
            added = [row for key, row in now.items() if key not in was]
            moved = [row for key, row in now.items()
                     if key in was and _same_text(row) != _same_text(was[key])]
            changes.append((table, keys, gone, added, moved))
        for table, keys, gone, _, _ in reversed(changes):
            self._tx.many(delete(table).where(_by_key(table, keys)), _keyed(gone, keys))
        for table, keys, _, added, moved in changes:
            self._tx.many(insert(table), added)
            if moved:
                values: dict[str, Any] = {c.name: bindparam(c.name) for c in table.columns
                          if c.name not in keys}
                self._tx.many(update(table).where(_by_key(table, keys)).values(values),
                              _keyed(moved, keys))

    def _store_costs(self, costs: CostVersion, event_id: str | None) -> None:
        """Write a cost version (one with the same number, not yet posted at, is replaced)."""
        key = {"number": costs.number}
        self._tx.run(delete(t.standard_costs).where(
            t.standard_costs.c.version == bindparam("number")), key)
        self._tx.run(delete(t.cost_versions).where(
            t.cost_versions.c.number == bindparam("number")), key)
        self._tx.run(insert(t.cost_versions), {"number": costs.number, "event_id": event_id,
                                               "effective_from": costs.effective_from})
        self._tx.many(insert(t.standard_costs),
                      [{"version": costs.number, "ord": n, **cost_row(c)}
                       for n, c in enumerate(costs.costs.values())])

    # ------------------------------------------------------------------ reading
    def _load_master(self) -> MasterData:
        tx = self._tx
        items = {r.code: Item(r.code, r.uom, r.standard_cost, r.conversion_cost,
                              bool(r.phantom), None if r.finished is None else bool(r.finished),
                              bool(r.made), r.description, r.backflush_from, r.negative_stock)
                 for r in tx.rows(select(t.items).order_by(t.items.c.ord))}
        lines: dict[tuple[str, int], list[BomLine]] = {}
        bl = t.bom_lines.c
        for r in tx.rows(select(t.bom_lines).order_by(bl.parent, bl.version, bl.line_no)):
            lines.setdefault((r.parent, r.version), []).append(
                BomLine(r.component, r.qty, r.scrap, r.flush))
        versions = [BomVersion(r.parent, r.version, r.effective_from,
                               tuple(lines.get((r.parent, r.version), ())))
                    for r in tx.rows(select(t.bom_versions).order_by(t.bom_versions.c.ord))]
        centers = {r.code: WorkCenter(
            r.code, r.labor_rate, r.overhead_rate, r.conversion_rate,
            None if r.budget_hours is None else (r.budget_labor, r.budget_overhead,
                                                 r.budget_conversion),
            r.budget_hours if r.budget_hours is not None else ZERO)
            for r in tx.rows(select(t.work_centers).order_by(t.work_centers.c.ord))}
        routings: dict[str, list[Operation]] = {}
        for r in tx.rows(select(t.routings).order_by(t.routings.c.ord)):
            routings.setdefault(r.item, []).append(
                Operation(r.operation, r.work_center, r.run_hours, r.setup_hours, r.lot_size))
        kanban = {(r.item, r.location): Supermarket(r.item, r.location, r.container_qty,
                                                    r.lead_time_days, r.safety)
                  for r in tx.rows(select(t.kanban_items).order_by(t.kanban_items.c.ord))}
        return MasterData(items, Boms.of(versions), centers,
                          {k: tuple(v) for k, v in routings.items()}, kanban)

    def _load_costs(self, number: int) -> CostVersion:
        effective = self._tx.scalar(_VERSION, {"number": number})
        if effective is None:
            raise KeyError(number)
        costs = {r.item: cost_from_row(r) for r in self._tx.rows(_COSTS, {"number": number})}
        return CostVersion(number, effective, costs)


def _by_key(table: Table, keys: Sequence[str]) -> Any:
    return and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))


def _keyed(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Rows with their key values under the names :func:`_by_key` binds (and only there:
    a column named in the parameters would be SET too)."""
    return [{**{k: v for k, v in row.items() if k not in keys},
             **{f"key_{k}": row[k] for k in keys}} for row in rows]
