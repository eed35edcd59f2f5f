"""The ledger in SQL tables, one transaction per unit of work."""

from __future__ import annotations

import json
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from operator import methodcaller
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.codec import (
    event_from_row,
    event_payload,
    policy_from_json,
    policy_to_json,
)
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import Cost, CostVersion, MasterData, StandardCost
from backflush.domain.errors import BackflushError
from backflush.domain.events import Event, Flow, FlowRun, Reversal
from backflush.domain.items import Item
from backflush.domain.journal import (
    Alert,
    Derivation,
    Finding,
    JournalEntry,
    JournalLine,
    PendingChange,
    Posting,
    StockMove,
)
from backflush.domain.numbers import ZERO
from backflush.domain.policy import Policy, Role
from backflush.domain.posting import Context, PostedEvent
from backflush.domain.routing import Operation, WorkCenter
from backflush.domain.summary import Summary, share
from backflush.service_layer.repository import StoredEntry
from backflush.service_layer.unit_of_work import ConcurrencyError, UnitOfWork

ELEMENTS = ("material", "labor", "overhead", "conversion")


class StorageError(BackflushError):
    """The database refused a write for a reason other than concurrency."""


def _is_concurrency(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in ("40001", "40P01", "55P03"):
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


@dataclass(eq=False)
class _Behind:
    """A summarised run being written (by a writer thread, on PostgreSQL), its events in a
    savepoint."""

    run: Sequence[Event | Flow]
    summary: Summary
    items: set[str]  # the items whose stock kept in memory includes the run
    savepoint: Any
    thread: threading.Thread | None = None
    error: BaseException | None = None
    clash: bool = False  # the error is the events' unique key: the run's ids clash


class SqlLedger:
    """Implements the service layer's LedgerRepository on one open connection."""

    # PostgreSQL: a summarised run of at least this many events is written behind (see
    # record_summary); 0 writes every run behind, None none.
    write_behind_from: int | None = 20_000

    def __init__(self, conn: Connection, shared: dict[str, Any] | None = None,
                 facts: dict[str, Any] | None = None, kept: Kept | None = None) -> None:
        self._connection = conn
        self._behind: _Behind | None = None  # a run being written by a writer thread
        # A run written behind whose events clashed (rolled back), until settle() reports it.
        self._clashed: tuple[Sequence[Event | Flow], set[str]] | None = None
        # Facts that never change once committed (BOM and cost versions frozen, something
        # posted), published by the unit of work after its commit.
        self._facts = facts if facts is not None else {}
        # Master data, policy and costs read by earlier transactions of this process, valid
        # while the ledger's revision (a random stamp, changed by every write of them) holds.
        self._shared = shared if shared is not None else {}
        self._revision: str | None = None
        self._wrote = False
        self._pg = conn.dialect.name == "postgresql"
        self._dec: Any = _as_is if self._pg else _as_text  # a decimal as the driver stores it
        self._held: dict[str, Decimal] | None = None  # account balances read so far
        self._frozen_boms: set[str] = set()
        self._frozen_versions: set[int] = set()
        self._posted = False
        self._raw: Any = None  # the driver's cursor, for the hot paths
        self._master: MasterData | None = None
        self._policy: Policy | None = None
        self._costs: CostVersion | None = None
        self._locked: date | bool | None = False  # False: not loaded yet
        # Stock read in this transaction, by item then location (kept current by our writes).
        self._stock: dict[str, dict[str, Decimal]] = {}
        self._pending_tot: dict[str, Decimal] = {}
        if kept is not None:  # what this connection's last transaction left, still true
            self._stock, self._held, self._pending_tot = kept.stock, kept.held, kept.pending
            self._revision, self._locked = kept.revision, kept.locked

    @property
    def conn(self) -> Connection:
        """The connection, once a run written behind is done with it (only its writer
        thread uses it meanwhile)."""
        behind = self._behind
        if behind is not None and behind.thread is not threading.current_thread():
            self._catch_up()
        return self._connection

    def kept(self, stamp: tuple[int, int]) -> Kept | None:
        """What this (committed) transaction read and wrote, for the next one on the same
        connection to start from while ``stamp`` still holds (None: too much to keep)."""
        if len(self._stock) > KEPT_ITEMS:
            return None
        return Kept(stamp, self._stock, self._held, self._pending_tot, self._revision,
                    self._locked)

    # ------------------------------------------------------------------ settings, master
    def _setting(self, key: str) -> str | None:
        found = self._rows("SELECT value FROM settings WHERE key = ?", (key,))
        return str(found[0][0]) if found else None

    def _set(self, key: str, value: str) -> None:
        if self._setting(key) is None:
            self.conn.execute(insert(t.settings).values(key=key, value=value))
        else:
            self.conn.execute(update(t.settings).where(t.settings.c.key == key)
                              .values(value=value))

    def _current_revision(self) -> str:
        if self._revision is None:
            self._read_state()
        assert self._revision is not None
        return self._revision

    def _read_state(self) -> None:
        """The revision and the lock date, in one read (every transaction needs both)."""
        found: dict[str, str] = dict(self._rows(
            "SELECT key, value FROM settings WHERE key IN ('revision', 'locked_through')"))
        if self._revision is None:
            self._revision = found.get("revision") or "-"
        if self._locked is False:
            text = found.get("locked_through")
            self._locked = date.fromisoformat(text) if text else None

    def _bump(self) -> None:
        """Master data, policy or costs change: a new revision, nothing shared is reused."""
        self._wrote = True
        self._revision = uuid.uuid4().hex
        self._set("revision", self._revision)

    def _cached(self, name: str) -> Any:
        if not self._wrote and self._shared.get("revision") == self._current_revision():
            return self._shared.get(name)
        return None

    def _share(self, name: str, value: Any) -> None:
        if self._wrote:
            return  # not committed yet: another transaction must not see it
        if self._shared.get("revision") != self._current_revision():
            self._shared.clear()
            self._shared["revision"] = self._current_revision()
        self._shared[name] = value

    @property
    def ready(self) -> bool:
        return self._setting("policy") is not None

    def setup(self, master: MasterData, policy: Policy, costs: CostVersion) -> None:
        self._bump()
        self._set("policy", policy_to_json(policy))
        self.save_master(master)
        self.save_costs(costs, None, master)
        self._master, self._policy, self._costs = master, policy, costs

    def replace_master(self, master: MasterData, costs: CostVersion) -> None:
        self.save_master(master)
        self.save_costs(costs, None, master)
        self._master = master

    def save_policy(self, policy: Policy) -> None:
        self._bump()
        self._set("policy", policy_to_json(policy))
        self._policy = policy

    def save_master(self, master: MasterData) -> None:
        """Replace the master data; frozen BOM versions are kept as they are."""
        self._bump()
        c = self.conn
        frozen = {(r.parent, r.version) for r in c.execute(
            select(t.bom_versions.c.parent, t.bom_versions.c.version)
            .where(t.bom_versions.c.frozen.is_(True)))}
        c.execute(delete(t.items))
        c.execute(delete(t.work_centers))
        c.execute(delete(t.routings))
        for parent, version in {(p, v) for p, v in c.execute(
                select(t.bom_versions.c.parent, t.bom_versions.c.version))} - frozen:
            for table in (t.bom_lines, t.bom_versions):
                c.execute(delete(table).where(and_(table.c.parent == parent,
                                                   table.c.version == version)))
        if master.items:
            c.execute(insert(t.items), [
                {"code": i.code, "uom": i.uom, "made": i.made, "phantom": i.phantom,
                 "finished": i.finished, "standard_cost": i.standard_cost,
                 "conversion_cost": i.conversion_cost, "description": i.description}
                for i in master.items.values()])
        versions, lines = [], []
        for vs in master.boms.versions.values():
            for v in vs:
                if (v.parent, v.version) in frozen:
                    continue
                versions.append({"parent": v.parent, "version": v.version,
                                 "effective_from": v.effective_from, "frozen": False})
                lines += [{"parent": v.parent, "version": v.version, "line_no": n,
                           "component": ln.component, "qty": ln.qty, "scrap": ln.scrap}
                          for n, ln in enumerate(v.lines, 1)]
        if versions:
            c.execute(insert(t.bom_versions), versions)
        if lines:
            c.execute(insert(t.bom_lines), lines)
        if master.work_centers:
            c.execute(insert(t.work_centers), [
                {"code": w.code, "labor_rate": w.labor_rate, "overhead_rate": w.overhead_rate,
                 "conversion_rate": w.conversion_rate} for w in master.work_centers.values()])
        ops = [{"item": item, "operation": op.operation, "work_center": op.work_center,
                "run_hours": op.run_hours, "setup_hours": op.setup_hours,
                "lot_size": op.lot_size} for item, o in master.routings.items() for op in o]
        if ops:
            c.execute(insert(t.routings), ops)
        self._master = None

    def save_costs(self, costs: CostVersion, event_id: str | None, master: MasterData) -> None:
        """Store a cost version (replacing an unfrozen one with the same number)."""
        self._bump()
        c = self.conn
        c.execute(delete(t.standard_costs).where(t.standard_costs.c.version == costs.number))
        c.execute(delete(t.cost_versions).where(t.cost_versions.c.number == costs.number))
        c.execute(insert(t.cost_versions).values(number=costs.number,
                                                 effective_from=costs.effective_from,
                                                 event_id=event_id, frozen=False))
        items = master.items
        rows = []
        for code, sc in costs.costs.items():
            row: dict[str, Any] = {"version": costs.number, "item": code,
                                   "hours": json.dumps({k: format(v, "f")
                                                        for k, v in sc.hours.items()}),
                                   "bom": sc.bom}
            item = items.get(code)
            row["input_standard_cost"] = item.standard_cost if item else None
            row["input_conversion_cost"] = item.conversion_cost if item else None
            for level, cost in (("this", sc.this_level), ("lower", sc.lower_level)):
                for e in ELEMENTS:
                    row[f"{level}_{e}"] = getattr(cost, e)
            rows.append(row)
        if rows:
            c.execute(insert(t.standard_costs), rows)
        self._costs = costs

    @property
    def master(self) -> MasterData:
        if self._master is None:
            self._master = self._cached("master")
        if self._master is None:
            c = self.conn
            items = {r.code: Item(r.code, r.uom, r.standard_cost, r.conversion_cost, r.phantom,
                                  r.finished, r.made, r.description)
                     for r in c.execute(select(t.items))}
            lines: dict[tuple[str, int], list[BomLine]] = {}
            for r in c.execute(select(t.bom_lines).order_by(t.bom_lines.c.parent,
                                                            t.bom_lines.c.version,
                                                            t.bom_lines.c.line_no)):
                lines.setdefault((r.parent, r.version), []).append(
                    BomLine(r.component, r.qty, r.scrap))
            versions = [BomVersion(r.parent, r.version, r.effective_from,
                                   tuple(lines.get((r.parent, r.version), ())))
                        for r in c.execute(select(t.bom_versions))]
            wcs = {r.code: WorkCenter(r.code, r.labor_rate, r.overhead_rate, r.conversion_rate)
                   for r in c.execute(select(t.work_centers))}
            routings: dict[str, list[Operation]] = {}
            for r in c.execute(select(t.routings).order_by(t.routings.c.item,
                                                           t.routings.c.operation)):
                routings.setdefault(r.item, []).append(
                    Operation(r.operation, r.work_center, r.run_hours, r.setup_hours,
                              r.lot_size))
            # Cost changes live in the cost version's inputs.
            number = self._current_cost_number()
            if number is not None:
                for r in c.execute(select(t.standard_costs.c.item,
                                          t.standard_costs.c.input_standard_cost,
                                          t.standard_costs.c.input_conversion_cost)
                                   .where(t.standard_costs.c.version == number)):
                    item = items.get(r.item)
                    if item is not None and (r.input_standard_cost, r.input_conversion_cost) \
                            != (item.standard_cost, item.conversion_cost):
                        items[r.item] = replace(item, standard_cost=r.input_standard_cost,
                                                conversion_cost=r.input_conversion_cost)
            self._master = MasterData(items, Boms.of(versions), wcs,
                                      {k: tuple(v) for k, v in routings.items()})
            self._share("master", self._master)
        return self._master

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            self._policy = self._cached("policy")
        if self._policy is None:
            text = self._setting("policy")
            if text is None:
                raise BackflushError("this database holds no ledger yet: run `backflush init`")
            self._policy = policy_from_json(text)
            self._share("policy", self._policy)
        return self._policy

    def _current_cost_number(self) -> int | None:
        return self.conn.execute(select(t.cost_versions.c.number)
                                 .order_by(t.cost_versions.c.number.desc()).limit(1)
                                 ).scalar_one_or_none()

    @property
    def costs(self) -> CostVersion:
        if self._costs is None:
            self._costs = self._cached("costs")
        if self._costs is None:
            number = self._current_cost_number()
            if number is None:
                raise BackflushError("this ledger has no cost version yet")
            eff = self.conn.execute(select(t.cost_versions.c.effective_from).where(
                t.cost_versions.c.number == number)).scalar_one()
            self._costs = CostVersion(number, eff, self._standard_costs(number))
            self._share("costs", self._costs)
        return self._costs

    def cost_version_used(self) -> bool:
        number = self._current_cost_number()
        return self.conn.execute(select(t.journal_entries.c.seq).where(
            t.journal_entries.c.cost_version == number).limit(1)).first() is not None

    def anything_posted(self) -> bool:
        if self._facts.get("posted"):
            return True  # events are never deleted
        return bool(self._rows("SELECT 1 FROM events LIMIT 1"))

    # ------------------------------------------------------------------ LedgerView
    @property
    def locked_through(self) -> date | None:
        if self._locked is False:
            self._read_state()
        return self._locked if isinstance(self._locked, date) else None

    def prefetch(self, items: Iterable[str]) -> None:
        """Read the stock of these items in one go (posting is about to ask for it)."""
        wanted = sorted(set(items) - self._stock.keys())
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            for item in part:
                self._stock[item] = {}
            marks = ", ".join("?" * len(part))
            for item, location, qty in self._rows(
                    f"SELECT item, location, qty FROM stock_balances WHERE item IN ({marks})",
                    tuple(part)):
                self._stock[item][location] = Decimal(qty)

    def _stock_of(self, item: str) -> dict[str, Decimal]:
        if item not in self._stock:
            self.prefetch((item,))
        return self._stock[item]

    def on_hand(self, item: str, location: str) -> Decimal:
        return self._stock_of(item).get(location, ZERO)

    def on_hand_total(self, item: str) -> Decimal:
        return sum(self._stock_of(item).values(), ZERO)

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        if as_of is None or as_of >= self._last_date(t.stock_moves.c.date):
            rows = self.conn.execute(select(t.stock_balances.c.item, t.stock_balances.c.qty))
        else:
            rows = self.conn.execute(select(t.stock_moves.c.item, t.stock_moves.c.qty)
                                     .where(t.stock_moves.c.date <= as_of))
        for item, qty in rows:
            out[item] = out.get(item, ZERO) + qty
        return {k: v for k, v in out.items() if v}

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return [(r.source, r.qty) for r in self.conn.execute(
            select(t.pending_issues).where(and_(t.pending_issues.c.item == item,
                                                t.pending_issues.c.location == location))
            .order_by(t.pending_issues.c.id))]

    def pending_total(self, item: str) -> Decimal:
        found = self._pending_tot.get(item)
        if found is None:
            found = self._pending_tot[item] = sum(self.conn.execute(
                select(t.pending_issues.c.qty).where(t.pending_issues.c.item == item)
            ).scalars(), ZERO)
        return found

    def _last_date(self, column: Any) -> date:
        last = self.conn.execute(select(func.max(column))).scalar_one_or_none()
        return last if last is not None else date.min

    def pending_totals(self) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        for item, qty in self.conn.execute(select(t.pending_issues.c.item,
                                                  t.pending_issues.c.qty)):
            out[item] = out.get(item, ZERO) + qty
        return {k: v for k, v in out.items() if v}

    def _event_seq(self, event_id: str) -> int | None:
        return self.conn.execute(select(t.events.c.seq).where(t.events.c.id == event_id)
                                 ).scalar_one_or_none()

    def stored_event(self, event_id: str) -> Event | None:
        found = self._rows("SELECT type, id, date, item, qty, payload FROM events WHERE id = ?",
                           (event_id,))
        if not found:
            return None
        return _decode(*found[0])

    def costs_of(self, number: int) -> CostVersion:
        """A cost version by number (the current one is cached)."""
        if number == self.costs.number:
            return self.costs
        eff = self.conn.execute(select(t.cost_versions.c.effective_from).where(
            t.cost_versions.c.number == number)).scalar_one()
        return CostVersion(number, eff, self._standard_costs(number))

    def _standard_costs(self, number: int) -> dict[str, StandardCost]:
        costs = {}
        for r in self.conn.execute(select(t.standard_costs)
                                   .where(t.standard_costs.c.version == number)):
            levels = [Cost(*(getattr(r, f"{lv}_{e}") for e in ELEMENTS))
                      for lv in ("this", "lower")]
            hours = {k: Decimal(v) for k, v in json.loads(r.hours).items()}
            costs[r.item] = StandardCost(r.item, levels[0], levels[1], hours, r.bom)
        return costs

    def posted(self, event_id: str) -> PostedEvent | None:
        row = self.conn.execute(select(t.events).where(t.events.c.id == event_id)).first()
        if row is None:
            return None
        if row.entry_seq is not None:
            event = _decode_row(row)
            costs = self.costs_of(row.cost_version)
            posting = share(Context(self.master, self.policy, costs, self), event)
            return PostedEvent(event, replace(posting, cost_version=row.cost_version),
                               row.entry_seq)
        entries = tuple(s.entry for s in self._stored(t.journal_entries.c.event_seq == row.seq,
                                                      with_derivations=True))
        moves = tuple(StockMove(r.item, r.location, r.qty, r.kind) for r in self.conn.execute(
            select(t.stock_moves).where(t.stock_moves.c.event_seq == row.seq)
            .order_by(t.stock_moves.c.id)))
        pending = tuple(PendingChange(r.item, r.location, r.qty, r.source)
                        for r in self.conn.execute(
                            select(t.pending_changes).where(
                                t.pending_changes.c.event_seq == row.seq)
                            .order_by(t.pending_changes.c.id)))
        return PostedEvent(_decode_row(row),
                           Posting(entries, moves, pending, cost_version=row.cost_version))

    def reversed_by(self, event_id: str) -> str | None:
        return self.conn.execute(select(t.events.c.reversed_by).where(
            t.events.c.id == event_id)).scalar_one_or_none()

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        if as_of is None or as_of >= self._last_date(t.journal_entries.c.date):
            value = self.conn.execute(select(t.account_balances.c.balance).where(
                t.account_balances.c.account == account)).scalar_one_or_none()
            return value if value is not None else ZERO
        rows = self.conn.execute(
            select(t.journal_lines.c.debit, t.journal_lines.c.credit)
            .join(t.journal_entries, t.journal_entries.c.seq == t.journal_lines.c.entry_seq)
            .where(and_(t.journal_lines.c.account == account, t.journal_entries.c.date <= as_of)))
        return sum((d - c for d, c in rows), ZERO)

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal:
        cond = and_(t.journal_lines.c.account == account, t.journal_lines.c.family == family)
        if as_of is not None:
            cond = and_(cond, t.journal_entries.c.date <= as_of)
        rows = self.conn.execute(
            select(t.journal_lines.c.debit, t.journal_lines.c.credit)
            .join(t.journal_entries, t.journal_entries.c.seq == t.journal_lines.c.entry_seq)
            .where(cond))
        return sum((d - c for d, c in rows), ZERO)

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]:
        material = conversion = ZERO
        for m, cv in self.conn.execute(
                select(t.journal_entries.c.cogs_material, t.journal_entries.c.cogs_conversion)
                .where(and_(t.journal_entries.c.date >= start, t.journal_entries.c.date <= end))):
            material += m
            conversion += cv
        return material, conversion

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        base = and_(t.events.c.type == "completion", t.events.c.date >= start,
                    t.events.c.date <= end, t.events.c.reversed_by.is_(None))
        # An event's moves carry its date: the period's moves, by the index on their date.
        for parent, qty in self.conn.execute(
                select(t.events.c.item, t.stock_moves.c.qty)
                .join(t.stock_moves, t.stock_moves.c.event_seq == t.events.c.seq)
                .where(and_(base, t.stock_moves.c.date >= start, t.stock_moves.c.date <= end,
                            t.stock_moves.c.item == component,
                            t.stock_moves.c.kind == "backflush",
                            t.stock_moves.c.parent == ""))):
            out[parent] = out.get(parent, ZERO) - qty
        for parent, qty in self.conn.execute(
                select(t.events.c.item, t.pending_changes.c.qty)
                .join(t.pending_changes, t.pending_changes.c.event_seq == t.events.c.seq)
                .where(and_(base, t.pending_changes.c.item == component))):
            if qty > 0:
                out[parent] = out.get(parent, ZERO) + qty
        # Summary moves name their parent; reversed events come out by their share.
        for parent, qty in self.conn.execute(
                select(t.stock_moves.c.parent, t.stock_moves.c.qty).where(and_(
                    t.stock_moves.c.item == component, t.stock_moves.c.kind == "backflush",
                    t.stock_moves.c.parent != "", t.stock_moves.c.date >= start,
                    t.stock_moves.c.date <= end))):
            out[parent] = out.get(parent, ZERO) - qty
        for (event_id,) in self.conn.execute(select(t.events.c.id).where(and_(
                t.events.c.reversed_by.isnot(None), t.events.c.entry_seq.isnot(None),
                t.events.c.type == "completion", t.events.c.date >= start,
                t.events.c.date <= end))):
            undone = self.posted(event_id)
            assert undone is not None
            parent = str(getattr(undone.event, "item"))  # noqa: B009
            out[parent] = out.get(parent, ZERO) + sum(
                (m.qty for m in undone.posting.moves
                 if m.item == component and m.kind == "backflush"), ZERO)
        return {k: v for k, v in out.items() if v}

    # ------------------------------------------------------------------ writing
    def record(self, event: Event, posting: Posting) -> None:
        self._refuse_unsettled()
        c = self.conn
        self._posted = True
        try:
            qty = getattr(event, "qty", None)
            seq = self._insert_returning(
                "INSERT INTO events (id, type, date, item, qty, payload, cost_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event.id, event.type, self._v(event.date), getattr(event, "item", None),
                 self._v(qty) if isinstance(qty, Decimal) else None, event_payload(event),
                 posting.cost_version))
        except IntegrityError as exc:
            # Checked just before: only a concurrent transaction can have taken the id.
            raise ConcurrencyError(f"event {event.id} was posted meanwhile") from exc
        self._write_posting(seq, event.date, posting)
        self._apply_pending(seq, posting.pending)
        if isinstance(event, Reversal):
            c.execute(update(t.events).where(t.events.c.id == event.of)
                      .values(reversed_by=event.id))
        if posting.new_cost_version is not None:
            master = posting.new_master or self.master
            self.save_costs(posting.new_cost_version, event.id, master)
            self._master = master
        if posting.locks_through is not None:
            period = f"{posting.locks_through.year:04d}-{posting.locks_through.month:02d}"
            c.execute(insert(t.periods).values(period=period,
                                               closed_through=posting.locks_through,
                                               close_event=event.id))
            locked = max(posting.locks_through, self.locked_through or date.min)
            self._set("locked_through", locked.isoformat())
            self._locked = locked
        if posting.alerts:
            c.execute(insert(t.alerts), [{"event_seq": seq, "event_id": a.event_id,
                                          "code": a.code, "message": a.message}
                                         for a in posting.alerts])
        if posting.findings:
            c.execute(insert(t.findings), [
                {"event_seq": seq, "event_id": f.event_id, "parent": f.parent,
                 "component": f.component, "bom": f.bom, "bom_qty": f.bom_qty,
                 "suggested_qty": f.suggested_qty, "backflushed": f.backflushed,
                 "difference": f.difference} for f in posting.findings])
        self._freeze({e.bom for e in posting.entries if e.bom},
                     {e.cost_version for e in posting.entries})

    def _freeze(self, boms: set[str], versions: set[int]) -> None:
        """BOM and cost versions used to post can no longer change (once per transaction)."""
        boms -= self._frozen_boms | self._facts.get("frozen_boms", set())
        versions -= self._frozen_versions | self._facts.get("frozen_versions", set())
        if boms:
            self._driver("UPDATE bom_versions SET frozen = ? WHERE parent = ? AND version = ?",
                         [(True, k.rpartition("@v")[0], int(k.rpartition("@v")[2]))
                          for k in sorted(boms)])
            self._frozen_boms |= boms
        if versions:
            self._driver("UPDATE cost_versions SET frozen = ? WHERE number = ?",
                         [(True, v) for v in sorted(versions)])
            self._frozen_versions |= versions

    # ------------------------------------------------------------------ driver-level SQL
    def committed(self) -> None:
        """This transaction committed: what it froze or posted is now a fact."""
        self._facts.setdefault("frozen_boms", set()).update(self._frozen_boms)
        self._facts.setdefault("frozen_versions", set()).update(self._frozen_versions)
        if self._posted:
            self._facts["posted"] = True

    def _v(self, value: Any) -> Any:
        """A value as the driver stores it (SQLite: decimals and dates as text)."""
        if self._pg:
            return value
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, date):
            return value.isoformat()
        return value

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql

    def _cursor(self) -> Any:
        conn = self.conn  # (waits for a run written behind)
        if self._raw is None:
            self._raw = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._raw

    def _run(self, sql: str, params: Sequence[Any] | None = None, *, many: bool = False
             ) -> Any:
        """A statement on the driver's cursor, inside this transaction (the hot paths: no SQL
        building). Driver errors come out as SQLAlchemy's, as from any other statement."""
        cur = self._cursor()
        sql = self._sql(sql)
        try:
            if many:
                cur.executemany(sql, params)
            elif params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)
        except self.conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
            raise DBAPIError.instance(sql, params, exc, self.conn.dialect.dbapi.Error,  # type: ignore[union-attr]
                                      dialect=self.conn.dialect) from exc
        return cur

    def _rows(self, sql: str, params: Sequence[Any] | None = None) -> list[Any]:
        return list(self._run(sql, params).fetchall())

    def _driver(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows, without SQL building (the hot paths)."""
        if not rows:
            return
        if len(rows) == 1:
            self._run(sql, tuple(rows[0]))
        else:
            self._run(sql, [tuple(r) for r in rows], many=True)

    def _insert_returning(self, sql: str, row: Sequence[Any]) -> int:
        if self._pg:
            return int(self._run(sql + " RETURNING seq", tuple(row)).fetchone()[0])
        return int(self._run(sql, tuple(row)).lastrowid)

    def _write_posting(self, event_seq: int, when: date, posting: Posting) -> None:
        """One event's entries, stock moves and the balances they change, with one statement
        a table (the per-event path: a durable commit per event)."""
        lines: list[tuple[Any, ...]] = []
        derivs: list[tuple[Any, ...]] = []
        accounts: dict[str, Decimal] = {}  # balances after the entries, in order of change
        for entry in posting.entries:
            seq = self._insert_entry_row(event_seq, entry)
            entry_lines, entry_derivs = self._entry_rows(seq, entry)
            lines += entry_lines
            derivs += entry_derivs
            accounts.update(self._book(entry))
        moves = self._move_rows(event_seq, when, posting.moves)
        stock = self._stock_after(posting.moves)
        with self._pipeline():
            self._insert_values(LINES_INTO, 8, lines)
            self._insert_values(DERIVATIONS_INTO, 9, derivs)
            self._upsert_balances(accounts)
            self._insert_values(MOVES_INTO, 7, moves)
            self._upsert_stock(stock)

    def _upsert_balances(self, balances: Mapping[str, Decimal]) -> None:
        d = self._dec
        self._insert_values("account_balances (account, balance)", 2,
                            [(a, d(b)) for a, b in balances.items()],
                            " ON CONFLICT (account) DO UPDATE SET balance = excluded.balance")

    def _upsert_stock(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._insert_values("stock_balances (item, location, qty)", 3, rows,
                            " ON CONFLICT (item, location) DO UPDATE SET qty = excluded.qty")

    def _entry_row(self, event_seq: int, entry: JournalEntry) -> tuple[Any, ...]:
        """The values of the entry's own row (ENTRY_COLUMNS)."""
        d = self._dec
        return (event_seq, entry.event_id, self._v(entry.date), entry.type, entry.description,
                entry.cost_version, entry.bom, d(entry.cogs_material), d(entry.cogs_conversion))

    def _insert_entry_row(self, event_seq: int, entry: JournalEntry) -> int:
        """The entry's own row; its number, the database's."""
        return self._insert_returning(INSERT_ENTRY, self._entry_row(event_seq, entry))

    def _entry_rows(self, seq: int, entry: JournalEntry
                    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The rows of an entry's journal lines and derivations."""
        d = self._dec
        lines = [(seq, n, ln.account, ln.role.value if ln.role else None, d(ln.debit),
                  d(ln.credit), ln.memo, ln.family) for n, ln in enumerate(entry.lines, 1)]
        derivs = [(seq, n, x.item, d(x.qty), x.basis, d(x.amount), x.account, x.bom,
                   x.location) for n, x in enumerate(entry.derivations, 1)]
        return lines, derivs

    def _book(self, entry: JournalEntry) -> dict[str, Decimal]:
        """Add the entry to the kept account balances; the balances it changed, after it."""
        sums: dict[str, Decimal] = {}
        for ln in entry.lines:
            sums[ln.account] = sums.get(ln.account, ZERO) + ln.net
        held = self._balances()
        for account, amount in sums.items():
            held[account] = held[account] + amount if account in held else amount
        return {account: held[account] for account in sums}

    def _move_rows(self, event_seq: int, when: date, moves: Sequence[StockMove]
                   ) -> list[tuple[Any, ...]]:
        day, d = self._v(when), self._dec
        return [(event_seq, day, m.item, m.location, d(m.qty), m.kind, m.parent)
                for m in moves]

    def _stock_after(self, moves: Sequence[StockMove]) -> list[tuple[Any, ...]]:
        """Add the moves to the kept stock; the (item, location, qty) rows they changed."""
        net: dict[tuple[str, str], Decimal] = {}
        for m in moves:
            net[(m.item, m.location)] = net.get((m.item, m.location), ZERO) + m.qty
        self.prefetch({item for item, _ in net})
        after = []
        for (item, location), qty in net.items():
            held = self._stock[item]
            held[location] = held[location] + qty if location in held else qty
            after.append((item, location, self._dec(held[location])))
        return after

    @contextmanager
    def _pipeline(self) -> Iterator[None]:
        """On PostgreSQL the statements inside, which return nothing, go to the server
        together: one round trip, not one each. Elsewhere nothing changes."""
        if not self._pg:
            yield
            return
        dbapi: Any = self.conn.dialect.dbapi
        raw: Any = self.conn.connection.driver_connection
        try:
            with raw.pipeline():
                yield
        except dbapi.Error as exc:  # surfaced at the pipeline's end: as from any statement
            raise DBAPIError.instance("pipelined writes", None, exc, dbapi.Error,
                                      dialect=self.conn.dialect) from exc

    def _insert_values(self, into: str, width: int, rows: Sequence[tuple[Any, ...]],
                       tail: str = "") -> None:
        """``INSERT INTO {into} VALUES (...), (...) {tail}``: up to ROWS_PER_INSERT rows a
        statement."""
        for i in range(0, len(rows), ROWS_PER_INSERT):
            part = rows[i:i + ROWS_PER_INSERT]
            key = (into, len(part), tail)
            sql = _VALUES_SQL.get(key)
            if sql is None:
                one = "(" + ", ".join("?" * width) + ")"
                sql = _VALUES_SQL[key] = \
                    f"INSERT INTO {into} VALUES {', '.join([one] * len(part))}{tail}"
            self._run(sql, [x for row in part for x in row])

    def _append_rows(self, into: str, width: int, rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk rows of a summary: COPY on PostgreSQL, multi-row INSERTs elsewhere."""
        if not rows:
            return
        if not self._pg:
            self._insert_values(into, width, rows)
            return
        raw: Any = self.conn.connection.driver_connection
        dbapi: Any = self.conn.dialect.dbapi
        try:
            with raw.cursor() as cur, cur.copy(f"COPY {into} FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        except dbapi.Error as exc:
            raise DBAPIError.instance(f"COPY {into}", None, exc, dbapi.Error,
                                      dialect=self.conn.dialect) from exc

    def _balances(self) -> dict[str, Decimal]:
        if self._held is None:
            self._held = {account: Decimal(balance) for account, balance in
                          self._rows("SELECT account, balance FROM account_balances")}
        return self._held

    # ------------------------------------------------------------------ summaries
    def record_summary(self, run: Sequence[Event | Flow], summary: Summary) -> set[str] | None:
        """Store the run's events and apply its summary; the ids that clash, if any.

        On PostgreSQL a run of at least ``write_behind_from`` events is written *behind*: its
        rows go to the server from a writer thread (its events inside a savepoint) while the
        caller goes on reading and summarising the next run, and this returns None at once.
        The stock and account balances kept in memory already include the run (the next
        summary reads them). The next use of the connection waits for the writer. If the
        run's ids clash, the savepoint is rolled back, the balances kept in memory are
        forgotten (read again from the database), and :meth:`settle` reports the run and its
        clashing ids: the caller must call it before writing anything else (a write, or a
        commit, with an unreported clash is refused).
        """
        self._refuse_unsettled()
        c = self.conn
        with_entry = [d for d in summary.days if d.entry is not None]
        numbers = self._next_entry_seqs(len(with_entry))
        entry_of = {d.date: 0 for d in summary.days}
        entry_of.update(zip((d.date for d in with_entry), numbers, strict=True))
        many = len(summary.alerts) > 500
        # Every event this transaction sees above ``before`` is one of the run's.
        before = self._rows("SELECT max(seq) FROM events")[0][0] or 0 if many else 0
        # The stock and account balances after the run, kept in memory now (the run's days
        # in order; each written once, as it stands after the last day: a row rewritten day
        # after day in one transaction leaves a version per day behind it, which PostgreSQL
        # walks on the next upsert).
        balances: dict[str, Decimal] = {}
        stock: dict[tuple[str, str], tuple[Any, ...]] = {}
        for day in summary.days:
            if day.entry is not None:
                balances.update(self._book(day.entry))
            if day.moves:
                stock.update(((row[0], row[1]), row) for row in self._stock_after(day.moves))
        touched = {item for item, _ in stock}
        behind = self.write_behind_from
        writer = _Behind(run, summary, touched, c.begin_nested())
        work = (run, summary, entry_of, before, many, list(stock.values()), balances, writer)
        if self._pg and behind is not None and len(run) >= behind:
            thread = threading.Thread(target=self._write_run, args=work,
                                      name="backflush-writer", daemon=True)
            thread.start()
            writer.thread, self._behind = thread, writer
            return None
        self._write_run(*work)
        return self._finish(writer)

    def _write_run(self, run: Sequence[Event | Flow], summary: Summary,
                   entry_of: Mapping[date, int], before: int, many: bool,
                   stock: list[tuple[Any, ...]], balances: Mapping[str, Decimal],
                   writer: _Behind) -> None:
        """Write a summarised run's rows (in the caller's thread, or a writer thread):
        the events, then the days' entries, lines, derivations and stock moves in one bulk
        write each, and the balances after the run. Errors are kept in ``writer``."""
        try:
            c = self._connection
            firsts: dict[date, str] = {}
            dbapi: Any = c.dialect.dbapi
            try:
                _bulk_events(c, run, entry_of, summary.cost_version, firsts)
            except (IntegrityError, dbapi.IntegrityError) as exc:
                writer.error, writer.clash = exc, True
                return
            except dbapi.Error as exc:  # e.g. a serialization failure: retried by the caller
                raise DBAPIError.instance("bulk insert of events", None, exc, dbapi.Error,
                                          dialect=c.dialect) from exc
            # Only the events can clash: the rest is written outside the savepoint (on
            # PostgreSQL rows written in a subtransaction cost more to check later).
            writer.savepoint.commit()
            wanted = set(firsts.values()) | {alert.event_id for _, alert in summary.alerts}
            if many:  # one pass over the run's rows rather than a lookup per id
                seq_of = {ident: seq for ident, seq in self._rows(
                    "SELECT id, seq FROM events WHERE seq > ?", (before,)) if ident in wanted}
            else:
                seq_of = self._seqs(wanted)
            entries: list[tuple[Any, ...]] = []
            lines: list[tuple[Any, ...]] = []
            derivations: list[tuple[Any, ...]] = []
            moves: list[tuple[Any, ...]] = []
            for day in summary.days:
                first = seq_of[firsts[day.date]]
                if day.entry is not None:
                    seq = entry_of[day.date]
                    entries.append((seq, *self._entry_row(first, day.entry)))
                    day_lines, day_derivations = self._entry_rows(seq, day.entry)
                    lines += day_lines
                    derivations += day_derivations
                if day.moves:
                    moves += self._move_rows(first, day.date, day.moves)
            self._driver(INSERT_ENTRY_AT, entries)
            self._append_rows(LINES_INTO, 8, lines)
            self._append_rows(DERIVATIONS_INTO, 9, derivations)
            self._append_rows(MOVES_INTO, 7, moves)
            self._upsert_stock(stock)
            self._upsert_balances(balances)
            self._append_rows("alerts (event_seq, event_id, code, message)", 4,
                              [(seq_of[a.event_id], a.event_id, a.code, a.message)
                               for _, a in summary.alerts])
        except BaseException as exc:  # kept for the next user of the connection (it raises)
            writer.error = exc

    def _finish(self, writer: _Behind) -> set[str] | None:
        """After a run's writes; after an error, roll back the savepoint of its events and
        forget what the run changed in memory. The ids that clashed, if any (another error
        is raised)."""
        if writer.error is None:
            self._posted = True
            self._freeze(set(writer.summary.boms),
                         {writer.summary.cost_version}
                         if any(d.entry is not None for d in writer.summary.days) else set())
            return None
        for item in writer.items:
            self._stock.pop(item, None)
        self._held = None
        if writer.savepoint.is_active:  # (an error after the events: the transaction fails)
            try:
                writer.savepoint.rollback()
            except Exception as exc:
                raise exc from writer.error
        if writer.clash:
            clashes = self._clashes(writer.run)
            if clashes:
                return clashes
            # No id of the run is visible twice: another transaction took them meanwhile,
            # or the rows broke another rule. Posting the run again would fail again.
            error: Any = writer.error
            message = str(getattr(error, "orig", error)).strip()
            if getattr(getattr(error, "orig", error), "sqlstate", None) == "23505":
                raise ConcurrencyError(f"events of this batch were posted meanwhile: "
                                       f"{message}") from error
            raise StorageError(f"the events could not be stored: {message}") from error
        raise writer.error

    def _catch_up(self) -> None:
        """Wait for the run written behind, and finish it. (Interrupted while waiting, the
        writer is still the connection's: :meth:`abandon` waits for it again.)"""
        writer = self._behind
        assert writer is not None and writer.thread is not None
        writer.thread.join()
        self._behind = None
        clashes = self._finish(writer)
        if clashes:
            self._clashed = (writer.run, clashes)

    def settle(self) -> tuple[Sequence[Event | Flow], set[str]] | None:
        """Wait for a run written behind; if its ids clashed (nothing of it was kept), the
        run and those ids (see :meth:`record_summary`)."""
        if self._behind is not None:
            self._catch_up()
        found, self._clashed = self._clashed, None
        return found

    def abandon(self) -> None:
        """The transaction is being rolled back: wait for a writer thread, drop its work.
        Interrupted while waiting, the connection is invalidated (closed, never reused)
        rather than rolled back under the writer."""
        writer = self._behind
        if writer is not None and writer.thread is not None:
            try:
                writer.thread.join()
            finally:
                if writer.thread.is_alive():
                    self._connection.invalidate()
        self._behind = None
        self._clashed = None

    def _refuse_unsettled(self) -> None:
        if self._behind is not None:
            self._catch_up()
        if self._clashed is not None:
            raise RuntimeError("a run written behind clashed and was not reported: call "
                               "settle() before writing anything else")

    def _next_entry_seqs(self, n: int) -> list[int]:
        if n == 0:
            return []
        c = self.conn
        if c.dialect.name == "postgresql":
            return list(c.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('journal_entries', 'seq')) "
                f"FROM generate_series(1, {int(n)})").scalars())
        last = c.execute(select(func.max(t.journal_entries.c.seq))).scalar_one_or_none() or 0
        return list(range(last + 1, last + 1 + n))

    def _seqs(self, ids: set[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        listed = sorted(ids)
        for i in range(0, len(listed), 500):
            out.update((r[0], r[1]) for r in self.conn.execute(
                select(t.events.c.id, t.events.c.seq).where(t.events.c.id.in_(listed[i:i + 500]))))
        return out

    def _clashes(self, run: Sequence[Event | Flow]) -> set[str]:
        """Ids of ``run`` posted before or given more than once."""
        seen: set[str] = set()
        clashes: set[str] = set()
        for ident in (run.ids() if isinstance(run, FlowRun) else (ev.id for ev in run)):
            if ident in seen:
                clashes.add(ident)
            seen.add(ident)
        clashes |= set(self._seqs(seen))
        return clashes

    def _apply_pending(self, event_seq: int, changes: Sequence[PendingChange]) -> None:
        c = self.conn
        for p in changes:
            self._pending_tot.pop(p.item, None)
            c.execute(insert(t.pending_changes).values(event_seq=event_seq, item=p.item,
                                                       location=p.location, qty=p.qty,
                                                       source=p.source))
            if p.qty > 0:
                c.execute(insert(t.pending_issues).values(item=p.item, location=p.location,
                                                          source=p.source, qty=p.qty))
                continue
            left = -p.qty
            for row in c.execute(select(t.pending_issues).where(and_(
                    t.pending_issues.c.item == p.item, t.pending_issues.c.location == p.location,
                    t.pending_issues.c.source == p.source)).order_by(t.pending_issues.c.id)
                    ).all():
                if left <= 0:
                    break
                take = min(row.qty, left)
                left -= take
                if take == row.qty:
                    c.execute(delete(t.pending_issues).where(t.pending_issues.c.id == row.id))
                else:
                    c.execute(update(t.pending_issues).where(t.pending_issues.c.id == row.id)
                              .values(qty=row.qty - take))

    # ------------------------------------------------------------------ reading
    def _stored(self, where: Any = None, *, with_derivations: bool = False
                ) -> Iterator[StoredEntry]:
        c = self.conn
        q = select(t.journal_entries).order_by(t.journal_entries.c.seq)
        lq = select(t.journal_lines).join(
            t.journal_entries, t.journal_entries.c.seq == t.journal_lines.c.entry_seq
        ).order_by(t.journal_lines.c.entry_seq, t.journal_lines.c.line_no)
        if where is not None:
            q, lq = q.where(where), lq.where(where)
        lines: dict[int, list[JournalLine]] = {}
        for r in c.execute(lq):
            lines.setdefault(r.entry_seq, []).append(JournalLine(
                r.account, r.debit, r.credit, Role(r.role) if r.role else None, r.memo,
                r.family))
        derivs: dict[int, list[Derivation]] = {}
        if with_derivations:
            dq = select(t.derivations).join(
                t.journal_entries, t.journal_entries.c.seq == t.derivations.c.entry_seq
            ).order_by(t.derivations.c.entry_seq, t.derivations.c.n)
            if where is not None:
                dq = dq.where(where)
            for r in c.execute(dq):
                derivs.setdefault(r.entry_seq, []).append(Derivation(
                    r.item, r.qty, r.basis, r.amount, r.account, r.bom, r.location))
        for r in c.execute(q):
            yield StoredEntry(r.seq, JournalEntry(
                r.event_id, r.date, r.type, r.description, tuple(lines.get(r.seq, ())),
                tuple(derivs.get(r.seq, ())), r.cost_version, r.bom, r.cogs_material,
                r.cogs_conversion))

    def entries(self) -> Iterator[StoredEntry]:
        return self._stored()

    def entries_of(self, event_id: str) -> list[StoredEntry]:
        return list(self._stored(t.journal_entries.c.event_id == event_id,
                                 with_derivations=True))

    def entry(self, seq: int) -> StoredEntry | None:
        return next(self._stored(t.journal_entries.c.seq == seq, with_derivations=True), None)

    def moves(self) -> Iterator[StockMove]:
        for r in self.conn.execute(select(t.stock_moves).order_by(t.stock_moves.c.id)):
            yield StockMove(r.item, r.location, r.qty, r.kind)

    def events(self) -> Iterator[Event]:
        for row in self.conn.execute(select(t.events).order_by(t.events.c.seq)):
            yield _decode_row(row)

    def event_ids(self) -> set[str]:
        return set(self.conn.execute(select(t.events.c.id)).scalars())

    def stock(self) -> Mapping[tuple[str, str], Decimal]:
        return {(r.item, r.location): r.qty for r in self.conn.execute(select(t.stock_balances))}

    def balances(self) -> Mapping[str, Decimal]:
        return {r.account: r.balance for r in self.conn.execute(select(t.account_balances))}

    def alerts(self) -> list[Alert]:
        return [Alert(r.event_id, r.code, r.message) for r in self.conn.execute(
            select(t.alerts).order_by(t.alerts.c.id))]

    def findings(self) -> list[Finding]:
        return [Finding(r.event_id, r.parent, r.component, r.bom, r.bom_qty, r.suggested_qty,
                        r.backflushed, r.difference) for r in self.conn.execute(
            select(t.findings).order_by(t.findings.c.id))]

    def closed_periods(self) -> list[date]:
        return list(self.conn.execute(select(t.periods.c.closed_through)
                                      .order_by(t.periods.c.closed_through)).scalars())


EVENT_COLUMNS = "id, type, date, item, qty, payload, cost_version, entry_seq"
ENTRY_COLUMNS = ("event_seq, event_id, date, type, description, cost_version, bom, "
                 "cogs_material, cogs_conversion")
_VALUES_SQL: dict[tuple[str, int, str], str] = {}  # multi-row INSERTs, by table, rows and tail
INSERT_ENTRY = f"INSERT INTO journal_entries ({ENTRY_COLUMNS}) VALUES ({', '.join('?' * 9)})"
INSERT_ENTRY_AT = (f"INSERT INTO journal_entries (seq, {ENTRY_COLUMNS}) "
                   f"VALUES ({', '.join('?' * 10)})")
# The rows an entry or a stock movement writes (the same columns per event and in summaries).
LINES_INTO = "journal_lines (entry_seq, line_no, account, role, debit, credit, memo, family)"
DERIVATIONS_INTO = "derivations (entry_seq, n, item, qty, basis, amount, account, bom, location)"
MOVES_INTO = "stock_moves (event_seq, date, item, location, qty, kind, parent)"
_as_text: Any = methodcaller("__format__", "f")  # format(x, "f"), without a Python call


def _as_is(value: Any) -> Any:
    return value
ROWS_PER_INSERT = 100  # SQLite: rows per INSERT ... VALUES statement


def _bulk_events(c: Connection, run: Sequence[Event | Flow], entry_of: Mapping[date, int],
                 version: int, firsts: dict[date, str]) -> None:
    """Append the run's events: COPY on PostgreSQL, multi-row INSERTs on SQLite."""
    if isinstance(run, FlowRun):
        _bulk_flow_run(c, run, entry_of, version, firsts)
        return
    pg = c.dialect.name == "postgresql"
    days: dict[date, Any] = {}
    for ev in run:
        if ev.date not in days:
            days[ev.date] = ev.date if pg else ev.date.isoformat()
            firsts[ev.date] = ev.id
    texts: dict[Decimal | None, Any] = {None: None}
    prices: dict[Decimal | None, str | None] = {None: None}
    rows: list[tuple[Any, ...]]
    if all(type(ev) is Flow for ev in run):
        flows = cast(Sequence[Flow], run)
        for f in flows:  # the bulk of a plant's events: the row from the flow's fields
            if f.qty not in texts:
                texts[f.qty] = f.qty if pg else format(f.qty, "f")
            if f.unit_price not in prices:
                prices[f.unit_price] = '{"unit_price": "' + format(f.unit_price, "f") + '"}'
        rows = [(f[0], f[1], days[f[2]], f[3], texts[f[4]], prices[f[5]], version,
                 entry_of[f[2]]) for f in flows]
    else:
        rows = []
        for ev in run:
            whole = ev.event() if isinstance(ev, Flow) else ev
            number = getattr(whole, "qty", None)
            qty = (number if pg else format(number, "f")) if isinstance(number, Decimal) \
                else None
            rows.append((whole.id, whole.type, days[whole.date], getattr(whole, "item", None),
                         qty, event_payload(whole), version, entry_of[whole.date]))
    raw = c.connection.driver_connection
    assert raw is not None
    if pg:
        with raw.cursor() as cur, cur.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        return
    one = "(?, ?, ?, ?, ?, ?, ?, ?)"
    full = len(rows) - len(rows) % ROWS_PER_INSERT
    cur = raw.cursor()
    try:
        if full:
            flat = [x for row in rows[:full] for x in row]
            width = 8 * ROWS_PER_INSERT
            cur.executemany(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES "
                            + ", ".join([one] * ROWS_PER_INSERT),
                            [flat[i:i + width] for i in range(0, len(flat), width)])
        if full < len(rows):
            cur.executemany(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES {one}", rows[full:])
    finally:
        cur.close()


_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def _bulk_flow_run(c: Connection, run: FlowRun, entry_of: Mapping[date, int], version: int,
                   firsts: dict[date, str]) -> None:
    """Append a FlowRun's events straight from its columns of canonical text: COPY text
    on PostgreSQL, multi-row INSERTs binding each value once on SQLite (cost version and
    summary entry once a statement, per stretch of one date)."""
    rows, w = run.rows, run.width
    for start, _, text in run.days:
        firsts.setdefault(run.dates[text], rows[start * w])
    names = "id, date, type, item, qty" + (", payload" if w == 6 else "")
    raw = c.connection.driver_connection
    assert raw is not None
    if c.dialect.name == "postgresql":
        sql = f"COPY events ({names}, cost_version, entry_seq) FROM STDIN (NULL '')"
        joined = "".join(rows)
        plain = not any(ch in joined for ch in _COPY_SPECIAL)
        del joined
        with raw.cursor() as cur, cur.copy(sql) as cp:
            for start, stop, text in run.days:
                entry = entry_of[run.dates[text]]
                part = rows[start * w:stop * w]
                if plain:
                    end = f"\t{version}\t{entry}\n"
                    cp.write(end.join(map("\t".join, zip(*[iter(part)] * w, strict=True))) + end)
                else:  # a value needs escaping: row by row ('' stays '', read as NULL)
                    for i in range(0, len(part), w):
                        cp.write_row([*part[i:i + w], version, entry])
        return
    k = ROWS_PER_INSERT

    def values(n: int) -> str:
        one = []
        for r in range(n):
            marks = [f"?{r * w + j + 1}" for j in range(w)]
            if w == 6:
                marks[5] = f"NULLIF({marks[5]}, '')"
            one.append(f"({', '.join(marks)}, ?{n * w + 1}, ?{n * w + 2})")
        return f"INSERT INTO events ({names}, cost_version, entry_seq) VALUES " + ", ".join(one)

    cur = raw.cursor()
    try:
        for start, stop, text in run.days:
            tail = [version, entry_of[run.dates[text]]]
            full = stop - (stop - start) % k
            if full > start:
                cur.executemany(values(k), [rows[i * w:(i + k) * w] + tail
                                            for i in range(start, full, k)])
            if full < stop:
                cur.executemany(values(1), [rows[i * w:(i + 1) * w] + tail
                                            for i in range(full, stop)])
    finally:
        cur.close()


def _decode(kind: str, ident: str, when: date | str, item: str | None,
            qty: Decimal | str | None, payload: str | None) -> Event:
    """The event of one stored row (driver rows on SQLite carry dates and decimals as text)."""
    return event_from_row(kind, ident, when if isinstance(when, date) else date.fromisoformat(when),
                          item, None if qty is None else Decimal(qty), payload)


def _decode_row(row: Any) -> Event:
    return _decode(row.type, row.id, row.date, row.item, row.qty, row.payload)


class Kept:
    """The balances, revision and lock date a committed transaction left in memory.

    On SQLite the next transaction on the same connection starts from them instead of reading
    them again, when nothing was written since: ``PRAGMA data_version`` (other connections'
    commits) and the connection's ``total_changes`` (its own writes, any of them) are as they
    were when it committed.
    """

    __slots__ = ("held", "locked", "pending", "revision", "stamp", "stock")

    def __init__(self, stamp: tuple[int, int], stock: dict[str, dict[str, Decimal]],
                 held: dict[str, Decimal] | None, pending: dict[str, Decimal],
                 revision: str | None, locked: date | bool | None) -> None:
        self.stamp, self.stock, self.held, self.pending = stamp, stock, held, pending
        self.revision, self.locked = revision, locked


KEPT = "backflush.kept"  # the key of a connection's Kept in its pool record's info
KEPT_ITEMS = 200_000  # items of stock kept at most; beyond, the next transaction reads afresh

_SHARED: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()
_FACTS: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()


class SqlUnitOfWork(UnitOfWork):
    """One database transaction; rolls back unless committed.

    On PostgreSQL the transaction is SERIALIZABLE; on SQLite it takes the write lock at the
    start (``BEGIN IMMEDIATE``). A serialization failure, deadlock or busy lock surfaces as
    :class:`ConcurrencyError` (after the rollback), which ``with_retries`` runs again.
    """

    ledger: SqlLedger

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only
        self._conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        conn = self.engine.connect()
        if self.read_only:  # the begin listener reads it (writers: the default)
            conn = conn.execution_options(read_only=True)
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(
                isolation_level="REPEATABLE READ" if self.read_only else "SERIALIZABLE",
                postgresql_readonly=self.read_only)
        conn.begin()
        self._conn = conn
        kept = None
        self._stamp: tuple[int, int] | None = None
        if conn.dialect.name == "sqlite" and not self.read_only:
            # Holding the write lock: nobody else can commit until this transaction ends.
            raw: Any = conn.connection.driver_connection
            self._stamp = (raw.execute("PRAGMA data_version").fetchone()[0], raw.total_changes)
            kept = conn.connection.info.pop(KEPT, None)
            if kept is not None and kept.stamp != self._stamp:
                kept = None
        self.ledger = SqlLedger(conn, _SHARED.setdefault(self.engine, {}),
                                _FACTS.setdefault(self.engine, {}), kept)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if self._conn is not None:
                self._abandon_writer()  # (one left by a caller after its commit)
                self._conn.close()
                self._conn = None
        if isinstance(exc, DBAPIError) and _is_concurrency(exc):
            raise ConcurrencyError(str(exc.orig).strip()) from exc

    def _commit(self) -> None:
        assert self._conn is not None
        if self.ledger.settle() is not None:
            raise RuntimeError("a run written behind clashed and was not reported: nothing "
                               "was committed")
        try:
            self._conn.commit()
        except DBAPIError as exc:
            if _is_concurrency(exc):
                raise ConcurrencyError(str(exc.orig)) from exc
            raise StorageError(str(exc.orig)) from exc
        self.ledger.committed()
        if self._stamp is not None:
            raw: Any = self._conn.connection.driver_connection
            kept = self.ledger.kept((self._stamp[0], raw.total_changes))
            if kept is not None:
                self._conn.connection.info[KEPT] = kept

    def rollback(self) -> None:
        if self._conn is not None:
            self._abandon_writer()
            self._conn.rollback()

    def _abandon_writer(self) -> None:
        """Wait for a writer thread that may still be using the connection, drop its work."""
        ledger = getattr(self, "ledger", None)  # (None if entering failed before it was made)
        if isinstance(ledger, SqlLedger):
            ledger.abandon()

