"""The ledger in SQL tables, one transaction per unit of work."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from backflush.adapters.sql import schema as t
from backflush.adapters.sql.codec import (
    event_from_json,
    event_to_json,
    policy_from_json,
    policy_to_json,
)
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import Cost, CostVersion, MasterData, StandardCost
from backflush.domain.errors import BackflushError
from backflush.domain.events import Event, Reversal
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
from backflush.domain.posting import PostedEvent
from backflush.domain.routing import Operation, WorkCenter
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


class SqlLedger:
    """Implements the service layer's LedgerRepository on one open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._master: MasterData | None = None
        self._policy: Policy | None = None
        self._costs: CostVersion | None = None
        self._locked: date | bool | None = False  # False: not loaded yet

    # ------------------------------------------------------------------ settings, master
    def _setting(self, key: str) -> str | None:
        return self.conn.execute(select(t.settings.c.value).where(t.settings.c.key == key)
                                 ).scalar_one_or_none()

    def _set(self, key: str, value: str) -> None:
        if self._setting(key) is None:
            self.conn.execute(insert(t.settings).values(key=key, value=value))
        else:
            self.conn.execute(update(t.settings).where(t.settings.c.key == key)
                              .values(value=value))

    @property
    def ready(self) -> bool:
        return self._setting("policy") is not None

    def setup(self, master: MasterData, policy: Policy, costs: CostVersion) -> None:
        self._set("policy", policy_to_json(policy))
        self.save_master(master)
        self.save_costs(costs, None, master)
        self._master, self._policy, self._costs = master, policy, costs

    def replace_master(self, master: MasterData, costs: CostVersion) -> None:
        self.save_master(master)
        self.save_costs(costs, None, master)
        self._master = master

    def save_policy(self, policy: Policy) -> None:
        self._set("policy", policy_to_json(policy))
        self._policy = policy

    def save_master(self, master: MasterData) -> None:
        """Replace the master data; frozen BOM versions are kept as they are."""
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
        return self._master

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            text = self._setting("policy")
            if text is None:
                raise BackflushError("this database holds no ledger yet: run `backflush init`")
            self._policy = policy_from_json(text)
        return self._policy

    def _current_cost_number(self) -> int | None:
        return self.conn.execute(select(t.cost_versions.c.number)
                                 .order_by(t.cost_versions.c.number.desc()).limit(1)
                                 ).scalar_one_or_none()

    @property
    def costs(self) -> CostVersion:
        if self._costs is None:
            number = self._current_cost_number()
            if number is None:
                raise BackflushError("this ledger has no cost version yet")
            eff = self.conn.execute(select(t.cost_versions.c.effective_from).where(
                t.cost_versions.c.number == number)).scalar_one()
            costs = {}
            for r in self.conn.execute(select(t.standard_costs)
                                       .where(t.standard_costs.c.version == number)):
                levels = [Cost(*(getattr(r, f"{lv}_{e}") for e in ELEMENTS))
                          for lv in ("this", "lower")]
                hours = {k: Decimal(v) for k, v in json.loads(r.hours).items()}
                costs[r.item] = StandardCost(r.item, levels[0], levels[1], hours, r.bom)
            self._costs = CostVersion(number, eff, costs)
        return self._costs

    def cost_version_used(self) -> bool:
        number = self._current_cost_number()
        return self.conn.execute(select(t.journal_entries.c.seq).where(
            t.journal_entries.c.cost_version == number).limit(1)).first() is not None

    def anything_posted(self) -> bool:
        return self.conn.execute(select(t.events.c.seq).limit(1)).first() is not None

    # ------------------------------------------------------------------ LedgerView
    @property
    def locked_through(self) -> date | None:
        if self._locked is False:
            text = self._setting("locked_through")
            self._locked = date.fromisoformat(text) if text else None
        return self._locked if isinstance(self._locked, date) else None

    def on_hand(self, item: str, location: str) -> Decimal:
        value = self.conn.execute(select(t.stock_balances.c.qty).where(and_(
            t.stock_balances.c.item == item, t.stock_balances.c.location == location))
        ).scalar_one_or_none()
        return value if value is not None else ZERO

    def on_hand_total(self, item: str) -> Decimal:
        return sum(self.conn.execute(select(t.stock_balances.c.qty)
                                     .where(t.stock_balances.c.item == item)).scalars(), ZERO)

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        if as_of is None:
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
        return sum(self.conn.execute(select(t.pending_issues.c.qty)
                                     .where(t.pending_issues.c.item == item)).scalars(), ZERO)

    def pending_totals(self) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        for item, qty in self.conn.execute(select(t.pending_issues.c.item,
                                                  t.pending_issues.c.qty)):
            out[item] = out.get(item, ZERO) + qty
        return {k: v for k, v in out.items() if v}

    def _event_seq(self, event_id: str) -> int | None:
        return self.conn.execute(select(t.events.c.seq).where(t.events.c.id == event_id)
                                 ).scalar_one_or_none()

    def posted(self, event_id: str) -> PostedEvent | None:
        row = self.conn.execute(select(t.events).where(t.events.c.id == event_id)).first()
        if row is None:
            return None
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
        return PostedEvent(event_from_json(row.payload),
                           Posting(entries, moves, pending, cost_version=row.cost_version))

    def reversed_by(self, event_id: str) -> str | None:
        return self.conn.execute(select(t.events.c.reversed_by).where(
            t.events.c.id == event_id)).scalar_one_or_none()

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        if as_of is None:
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
        for parent, qty in self.conn.execute(
                select(t.events.c.item, t.stock_moves.c.qty)
                .join(t.stock_moves, t.stock_moves.c.event_seq == t.events.c.seq)
                .where(and_(base, t.stock_moves.c.item == component,
                            t.stock_moves.c.kind == "backflush"))):
            out[parent] = out.get(parent, ZERO) - qty
        for parent, qty in self.conn.execute(
                select(t.events.c.item, t.pending_changes.c.qty)
                .join(t.pending_changes, t.pending_changes.c.event_seq == t.events.c.seq)
                .where(and_(base, t.pending_changes.c.item == component))):
            if qty > 0:
                out[parent] = out.get(parent, ZERO) + qty
        return {k: v for k, v in out.items() if v}

    # ------------------------------------------------------------------ writing
    def content_hash(self, event_id: str) -> str | None:
        return self.conn.execute(select(t.events.c.content_hash).where(
            t.events.c.id == event_id)).scalar_one_or_none()

    def record(self, event: Event, posting: Posting) -> None:
        c = self.conn
        try:
            seq = c.execute(insert(t.events).values(
                id=event.id, type=event.type, date=event.date,
                item=getattr(event, "item", None), content_hash=event.content_hash(),
                payload=event_to_json(event), cost_version=posting.cost_version)
                .returning(t.events.c.seq)).scalar_one()
        except IntegrityError as exc:
            # Checked just before: only a concurrent transaction can have taken the id.
            raise ConcurrencyError(f"event {event.id} was posted meanwhile") from exc
        for entry in posting.entries:
            self._insert_entry(seq, entry)
        self._apply_moves(seq, event.date, posting.moves)
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
        used_boms = {e.bom for e in posting.entries if e.bom}
        for key in used_boms:
            parent, _, version = key.rpartition("@v")
            c.execute(update(t.bom_versions).where(and_(
                t.bom_versions.c.parent == parent, t.bom_versions.c.version == int(version)))
                .values(frozen=True))
        used_versions = {e.cost_version for e in posting.entries}
        if used_versions:
            c.execute(update(t.cost_versions).where(
                t.cost_versions.c.number.in_(used_versions)).values(frozen=True))

    def _insert_entry(self, event_seq: int, entry: JournalEntry) -> None:
        c = self.conn
        seq = c.execute(insert(t.journal_entries).values(
            event_seq=event_seq, event_id=entry.event_id, date=entry.date, type=entry.type,
            description=entry.description, cost_version=entry.cost_version, bom=entry.bom,
            cogs_material=entry.cogs_material, cogs_conversion=entry.cogs_conversion)
            .returning(t.journal_entries.c.seq)).scalar_one()
        c.execute(insert(t.journal_lines), [
            {"entry_seq": seq, "line_no": n, "account": ln.account,
             "role": ln.role.value if ln.role else None, "debit": ln.debit,
             "credit": ln.credit, "memo": ln.memo, "family": ln.family}
            for n, ln in enumerate(entry.lines, 1)])
        if entry.derivations:
            c.execute(insert(t.derivations), [
                {"entry_seq": seq, "n": n, "item": d.item, "qty": d.qty, "basis": d.basis,
                 "amount": d.amount, "account": d.account, "bom": d.bom,
                 "location": d.location} for n, d in enumerate(entry.derivations, 1)])
        sums: dict[str, Decimal] = {}
        for ln in entry.lines:
            sums[ln.account] = sums.get(ln.account, ZERO) + ln.net
        for account, amount in sums.items():
            current = c.execute(select(t.account_balances.c.balance).where(
                t.account_balances.c.account == account)).scalar_one_or_none()
            if current is None:
                c.execute(insert(t.account_balances).values(account=account, balance=amount))
            else:
                c.execute(update(t.account_balances).where(
                    t.account_balances.c.account == account).values(balance=current + amount))

    def _apply_moves(self, event_seq: int, when: date, moves: Sequence[StockMove]) -> None:
        if not moves:
            return
        c = self.conn
        c.execute(insert(t.stock_moves), [
            {"event_seq": event_seq, "date": when, "item": m.item, "location": m.location,
             "qty": m.qty, "kind": m.kind} for m in moves])
        net: dict[tuple[str, str], Decimal] = {}
        for m in moves:
            net[(m.item, m.location)] = net.get((m.item, m.location), ZERO) + m.qty
        for (item, location), qty in net.items():
            where = and_(t.stock_balances.c.item == item, t.stock_balances.c.location == location)
            current = c.execute(select(t.stock_balances.c.qty).where(where)).scalar_one_or_none()
            if current is None:
                c.execute(insert(t.stock_balances).values(item=item, location=location, qty=qty))
            else:
                c.execute(update(t.stock_balances).where(where).values(qty=current + qty))

    def _apply_pending(self, event_seq: int, changes: Sequence[PendingChange]) -> None:
        c = self.conn
        for p in changes:
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
        for (payload,) in self.conn.execute(select(t.events.c.payload)
                                            .order_by(t.events.c.seq)):
            yield event_from_json(payload)

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
        conn = self.engine.connect().execution_options(read_only=self.read_only)
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(
                isolation_level="REPEATABLE READ" if self.read_only else "SERIALIZABLE",
                postgresql_readonly=self.read_only)
        conn.begin()
        self._conn = conn
        self.ledger = SqlLedger(conn)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        if isinstance(exc, DBAPIError) and _is_concurrency(exc):
            raise ConcurrencyError(str(exc.orig).strip()) from exc

    def _commit(self) -> None:
        assert self._conn is not None
        try:
            self._conn.commit()
        except DBAPIError as exc:
            if _is_concurrency(exc):
                raise ConcurrencyError(str(exc.orig)) from exc
            raise StorageError(str(exc.orig)) from exc

    def rollback(self) -> None:
        if self._conn is not None:
            self._conn.rollback()

