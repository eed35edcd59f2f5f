"""A ledger in memory: the default for ``backflush run`` and for fast tests.

The five stores share one :class:`_State`; the unit of work snapshots it when it begins
(containers copied, immutable records shared) and puts the snapshot back on rollback.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TypeVar

from backflush.adapters.memory_accuracy import usage_flows
from backflush.adapters.memory_alerts import Acknowledgement, MemoryAlerts
from backflush.adapters.memory_floor import FloorState, MemoryFloor
from backflush.domain.costs import CostVersion
from backflush.domain.errors import LedgerError
from backflush.domain.events import Event, period_bounds
from backflush.domain.journal import (
    Alert,
    Finding,
    JournalEntry,
    PendingChange,
    StockMove,
    queue_after,
)
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ZERO, add, total
from backflush.domain.policy import Policy
from backflush.service_layer.ports import (
    EventRows,
    IdsTaken,
    SavedResponse,
    StoredEntry,
    StoredEvent,
    Token,
    UsageFlows,
)
from backflush.service_layer.unit_of_work import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Row:
    """An event in the log: the event itself, or a template and its id (bulk rows)."""

    seq: int
    event: Event | None
    template: Event | None
    event_id: str
    cost_version: int
    summary: int | None
    reversed_by: str | None = None
    day: date | None = None  # a template's row: its own date

    def stored(self) -> StoredEvent:
        event = self.event
        if event is None:
            assert self.template is not None and self.day is not None
            event = replace(self.template, id=self.event_id, date=self.day)
        return StoredEvent(event, self.seq, self.cost_version, self.summary, self.reversed_by)


@dataclass
class _State:
    master: MasterData | None = None
    policy: Policy | None = None
    costs: CostVersion | None = None
    opened_on: date | None = None
    cost_history: dict[int, CostVersion] = field(default_factory=dict)
    locked_through: date | None = None
    closed: list[date] = field(default_factory=list)
    closed_by: dict[str, str] = field(default_factory=dict)  # period -> its close event
    events: dict[str, _Row] = field(default_factory=dict)
    entries: list[tuple[int | None, JournalEntry]] = field(default_factory=list)
    balances: dict[str, Decimal] = field(default_factory=dict)
    moves: list[tuple[int | None, date, StockMove]] = field(default_factory=list)
    stock: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    totals: dict[str, Decimal] = field(default_factory=dict)
    pending_changes: list[tuple[int, PendingChange]] = field(default_factory=list)
    pending: dict[tuple[str, str], list[tuple[str, Decimal]]] = field(default_factory=dict)
    pending_tot: dict[str, Decimal] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    acks: dict[int, Acknowledgement] = field(default_factory=dict)  # by alert number, from 1
    findings: list[Finding] = field(default_factory=list)
    reversals: tuple[tuple[str, str, Decimal], ...] = ()  # (of, by, qty); rebound, not changed
    derived: dict[str, object] = field(default_factory=dict)  # dropped when the books change
    last_date: date | None = None
    tokens: dict[str, Token] = field(default_factory=dict)  # by digest
    responses: dict[str, SavedResponse] = field(default_factory=dict)
    floor: FloorState = field(default_factory=FloorState)

    def snapshot(self) -> _State:
        clone = copy.copy(self)
        for name in ("cost_history", "events", "balances", "stock", "totals", "pending_tot",
                     "derived", "closed_by", "tokens", "responses", "acks"):
            setattr(clone, name, dict(getattr(self, name)))
        for name in ("closed", "entries", "moves", "pending_changes", "alerts", "findings"):
            setattr(clone, name, list(getattr(self, name)))
        clone.pending = {k: list(v) for k, v in self.pending.items()}
        clone.floor = self.floor.snapshot()
        return clone


class _Part:
    def __init__(self, ledger: MemoryLedger) -> None:
        self.ledger = ledger

    @property
    def s(self) -> _State:
        return self.ledger.state


class MemoryMaster(_Part):
    def ready(self) -> bool:
        return self.s.policy is not None

    def _need(self) -> _State:
        if self.s.policy is None:
            raise LedgerError("no ledger is set up here")
        return self.s

    def setup(self, master: MasterData, policy: Policy, costs: CostVersion,
              opened_on: date) -> None:
        if self.ready():
            raise LedgerError("this ledger is already set up")
        s = self.s
        s.master, s.policy, s.costs, s.opened_on = master, policy, costs, opened_on
        s.cost_history[costs.number] = costs
        s.derived = {}

    def master(self) -> MasterData:
        master = self._need().master
        assert master is not None
        return master

    def policy(self) -> Policy:
        policy = self._need().policy
        assert policy is not None
        return policy

    def costs(self) -> CostVersion:
        costs = self._need().costs
        assert costs is not None
        return costs

    def cost_version(self, number: int) -> CostVersion:
        return self.s.cost_history[number]

    def opened_on(self) -> date:
        opened = self._need().opened_on
        assert opened is not None
        return opened

    def locked_through(self) -> date | None:
        return self.s.locked_through

    def replace_master(self, master: MasterData, costs: CostVersion) -> None:
        self.s.master, self.s.costs = master, costs
        self.s.cost_history[costs.number] = costs
        self.s.derived = {}

    def add_cost_version(self, costs: CostVersion, master: MasterData, event_id: str) -> None:
        self.replace_master(master, costs)

    def lock(self, through: date, period: str, event_id: str) -> None:
        s = self.s
        s.locked_through = max(through, s.locked_through or date.min)
        s.closed.append(through)
        s.closed_by[period] = event_id

    def closed_by(self, period: str) -> str | None:
        return self.s.closed_by.get(period)

    def closed_periods(self) -> list[date]:
        return list(self.s.closed)

    def reopen(self, period: str) -> None:
        s = self.s
        _, end = period_bounds(period)
        s.closed = [through for through in s.closed if through != end]
        s.closed_by.pop(period, None)
        s.locked_through = max(s.closed, default=None)

    def frozen(self) -> bool:
        return bool(self.s.events)

    def derived(self, key: str, make: Callable[[], T]) -> T:
        found = self.s.derived.get(key)
        if found is None:
            found = self.s.derived[key] = make()
        return found  # type: ignore[return-value]


class MemoryEvents(_Part, MemoryAlerts):
    def get(self, event_id: str) -> StoredEvent | None:
        row = self.s.events.get(event_id)
        return row.stored() if row is not None else None

    def find(self, ids: Sequence[str]) -> Mapping[str, StoredEvent]:
        rows = self.s.events
        return {i: rows[i].stored() for i in ids if i in rows}

    def append(self, event: Event, cost_version: int, summary: int | None = None) -> int:
        s = self.s
        if event.id in s.events:
            raise IdsTaken([event.id])
        seq = len(s.events) + 1
        s.events[event.id] = _Row(seq, event, None, event.id, cost_version, summary)
        s.last_date = max(event.date, s.last_date or event.date)
        return seq

    def append_many(self, rows: EventRows, cost_version: int) -> None:
        s = self.s
        taken = [i for i in rows.ids if i in s.events]
        if taken or len(set(rows.ids)) != len(rows.ids):
            raise IdsTaken(taken)
        seq = len(s.events)
        for t in set(rows.index):
            day = rows.date_of(t)
            s.last_date = max(day, s.last_date or day)
        for event_id, t in zip(rows.ids, rows.index, strict=True):
            seq += 1
            s.events[event_id] = _Row(seq, None, rows.templates[t], event_id, cost_version,
                                      rows.entries[t], None, rows.date_of(t))

    def mark_reversed(self, of: str, by: str) -> None:
        self.s.events[of] = replace(self.s.events[of], reversed_by=by)

    def add_reversal(self, of: str, by: str, qty: Decimal) -> None:
        self.s.reversals = (*self.s.reversals, (of, by, qty))

    def reversals_of(self, of: str) -> list[tuple[str, Decimal]]:
        return [(by, qty) for o, by, qty in self.s.reversals if o == of]

    def reversed_quantities(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for of, _, qty in self.s.reversals:
            out[of] = out.get(of, ZERO) + qty
        return out

    def count(self) -> int:
        return len(self.s.events)

    def last_date(self) -> date | None:
        return self.s.last_date

    def all(self, after: int = 0) -> Iterator[StoredEvent]:
        return (row.stored() for row in list(self.s.events.values()) if row.seq > after)

    def summarised_reversed(self, kind: str, start: date, end: date) -> list[StoredEvent]:
        out = []
        for row in self.s.events.values():
            if row.summary is not None and row.reversed_by is not None:
                stored = row.stored()
                if stored.event.type == kind and start <= stored.event.date <= end:
                    out.append(stored)
        return out

    def add_alerts(self, event_seq: int | None, alerts: Sequence[Alert]) -> None:
        self.s.alerts.extend(alerts)

    def alerts(self, event_id: str | None = None) -> list[Alert]:
        return [a for a in self.s.alerts if event_id is None or a.event_id == event_id]

    def latest_alerts(self, limit: int) -> list[Alert]:
        return list(self.s.alerts[-limit:]) if limit > 0 else []

    def add_findings(self, event_seq: int, findings: Sequence[Finding]) -> None:
        self.s.findings.extend(findings)

    def findings(self) -> list[Finding]:
        return list(self.s.findings)


class MemoryJournal(_Part):
    def append(self, event_seq: int | None, entries: Sequence[JournalEntry]) -> list[int]:
        s = self.s
        seqs = []
        for entry in entries:
            s.entries.append((event_seq, entry))
            seqs.append(len(s.entries))
            for ln in entry.lines:
                s.balances[ln.account] = add(s.balances.get(ln.account, ZERO), ln.net)
        return seqs

    def last_seq(self) -> int:
        return len(self.s.entries)

    def entry(self, seq: int) -> StoredEntry | None:
        entries = self.s.entries
        return StoredEntry(seq, entries[seq - 1][1]) if 0 < seq <= len(entries) else None

    def entries(self, after: int = 0) -> Iterator[StoredEntry]:
        return (StoredEntry(i, e) for i, (_, e) in enumerate(list(self.s.entries[after:]),
                                                                after + 1))

    def entries_of(self, event_id: str) -> list[StoredEntry]:
        return [StoredEntry(i, e) for i, (_, e) in enumerate(self.s.entries, 1)
                if e.event_id == event_id and e.type != "summary"]

    def balances(self) -> Mapping[str, Decimal]:
        return dict(self.s.balances)

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        if as_of is None:
            return self.s.balances.get(account, ZERO)
        return total([ln.net for _, e in self.s.entries if e.date <= as_of
                      for ln in e.lines if ln.account == account])

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal:
        return total([ln.net for _, e in self.s.entries if as_of is None or e.date <= as_of
                      for ln in e.lines if ln.account == account and ln.family == family])

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]:
        dated = [e for _, e in self.s.entries if start <= e.date <= end]
        return (total([e.cogs_material for e in dated]),
                total([e.cogs_conversion for e in dated]))


class MemoryStock(_Part):
    def on_hand(self, item: str, location: str) -> Decimal:
        return self.s.stock.get((item, location), ZERO)

    def on_hand_total(self, item: str) -> Decimal:
        return self.s.totals.get(item, ZERO)

    def totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        if as_of is None:
            return {k: v for k, v in self.s.totals.items() if v}
        out: dict[str, Decimal] = {}
        for _, when, m in self.s.moves:
            if when <= as_of:
                out[m.item] = add(out.get(m.item, ZERO), m.qty)
        return {k: v for k, v in out.items() if v}

    def balances(self) -> Mapping[tuple[str, str], Decimal]:
        return dict(self.s.stock)

    def prefetch(self, items: Sequence[str]) -> None:
        pass

    def apply(self, event_seq: int | None, day: date, moves: Sequence[StockMove],
              pending: Sequence[PendingChange] = ()) -> None:
        s = self.s
        for m in moves:
            s.moves.append((event_seq, day, m))
            key = (m.item, m.location)
            s.stock[key] = add(s.stock.get(key, ZERO), m.qty)
            s.totals[m.item] = add(s.totals.get(m.item, ZERO), m.qty)
        if pending and event_seq is None:
            raise ValueError("a summary parks nothing")
        for p in pending:
            assert event_seq is not None
            s.pending_changes.append((event_seq, p))
            s.pending_tot[p.item] = add(s.pending_tot.get(p.item, ZERO), p.qty)
            key = (p.item, p.location)
            s.pending[key] = queue_after(s.pending.get(key, []), p)

    def moves(self) -> Iterator[StockMove]:
        return (m for _, _, m in list(self.s.moves))

    def moves_of(self, event_seq: int) -> list[StockMove]:
        return [m for seq, _, m in self.s.moves if seq == event_seq]

    def pending_of(self, event_seq: int) -> list[PendingChange]:
        return [p for seq, p in self.s.pending_changes if seq == event_seq]

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return tuple(self.s.pending.get((item, location), ()))

    def pending_total(self, item: str) -> Decimal:
        return self.s.pending_tot.get(item, ZERO)

    def pending_totals(self) -> Mapping[str, Decimal]:
        return {k: v for k, v in self.s.pending_tot.items() if v}

    def pending_queue(self) -> list[tuple[str, str, str, Decimal]]:
        return [(item, location, source, qty)
                for (item, location), queue in sorted(self.s.pending.items())
                for source, qty in queue]

    def usage_flows(self, start: date | None, end: date | None) -> UsageFlows:
        return usage_flows(self.s, start, end)

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        found = self._tally(start, end, component)
        return {parent: q for (_, parent), q in found.items() if q}

    def backflushed_totals(self, start: date, end: date) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        for (component, _), qty in self._tally(start, end).items():
            out[component] = add(out.get(component, ZERO), qty)
        return {c: q for c, q in out.items() if q}

    def _tally(self, start: date, end: date, component: str | None = None
               ) -> dict[tuple[str, str], Decimal]:
        s = self.s
        by_seq = {row.seq: row for row in s.events.values()}
        out: dict[tuple[str, str], Decimal] = {}

        def count(key: tuple[str, str], qty: Decimal) -> None:
            out[key] = add(out.get(key, ZERO), qty)

        for seq, when, m in s.moves:
            if (component is not None and m.item != component) or m.kind != "backflush" \
                    or not start <= when <= end:
                continue
            if m.parent:  # a summary's move names its parent
                count((m.item, m.parent), -m.qty)
                continue
            row = by_seq.get(seq) if seq is not None else None
            if row is not None and row.event is not None and row.event.type == "completion" \
                    and row.reversed_by is None:
                count((m.item, str(getattr(row.event, "item"))), -m.qty)  # noqa: B009
        for seq, p in s.pending_changes:
            row = by_seq.get(seq)
            if (component is None or p.item == component) and p.qty > 0 and row is not None \
                    and row.event is not None and row.event.type == "completion" \
                    and row.reversed_by is None and start <= row.event.date <= end:
                count((p.item, str(getattr(row.event, "item"))), p.qty)  # noqa: B009
        return out


class MemoryAccess(_Part):
    def add_token(self, token: Token) -> None:
        self.s.tokens[token.digest] = token

    def tokens(self) -> list[Token]:
        return list(self.s.tokens.values())

    def token(self, digest: str) -> Token | None:
        return self.s.tokens.get(digest)

    def revoke(self, token_id: str) -> None:
        for digest, token in self.s.tokens.items():
            if token.id == token_id:
                self.s.tokens[digest] = replace(token, revoked=True)

    def saved(self, key: str) -> SavedResponse | None:
        return self.s.responses.get(key)

    def save(self, response: SavedResponse) -> None:
        self.s.responses[response.key] = response


class MemoryLedger:
    """One ledger's state, and its five stores."""

    def __init__(self) -> None:
        self.state = _State()
        self.master = MemoryMaster(self)
        self.events = MemoryEvents(self)
        self.journal = MemoryJournal(self)
        self.stock = MemoryStock(self)
        self.access = MemoryAccess(self)
        self.floor = MemoryFloor(lambda: self.state.floor)


class MemoryUnitOfWork(UnitOfWork):
    """Rolls back to the state at ``__enter__`` unless committed."""

    def __init__(self, ledger: MemoryLedger | None = None) -> None:
        self.ledger = ledger or MemoryLedger()
        self.master, self.events = self.ledger.master, self.ledger.events
        self.journal, self.stock = self.ledger.journal, self.ledger.stock
        self.access, self.floor = self.ledger.access, self.ledger.floor
        self._snapshot: _State | None = None

    def _begin(self) -> None:
        self._snapshot = self.ledger.state.snapshot()

    def _commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.ledger.state = self._snapshot
            self._snapshot = None

    def _end(self) -> None:
        self._snapshot = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        saved = self.ledger.state.snapshot()
        try:
            yield
        except BaseException:
            self.ledger.state = saved
            raise
