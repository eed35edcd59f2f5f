"""An in-memory ledger: the default for ``backflush run`` and for fast tests."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from backflush.domain.costing import CostVersion, MasterData
from backflush.domain.events import Event, Flow, Reversal
from backflush.domain.journal import (
    Alert,
    Finding,
    JournalEntry,
    Posting,
    StockMove,
    queue_after,
)
from backflush.domain.numbers import ZERO
from backflush.domain.policy import Policy
from backflush.domain.posting import Context, PostedEvent
from backflush.domain.summary import Summary, share
from backflush.service_layer.repository import StoredEntry
from backflush.service_layer.unit_of_work import UnitOfWork


@dataclass
class _State:
    master: MasterData | None = None
    policy: Policy | None = None
    costs: CostVersion | None = None
    posted: dict[str, PostedEvent] = field(default_factory=dict)
    cost_history: dict[int, CostVersion] = field(default_factory=dict)
    entries: list[StoredEntry] = field(default_factory=list)
    moves: list[tuple[date, StockMove, str]] = field(default_factory=list)
    stock: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    totals: dict[str, Decimal] = field(default_factory=dict)
    pending: dict[tuple[str, str], list[tuple[str, Decimal]]] = field(default_factory=dict)
    pending_tot: dict[str, Decimal] = field(default_factory=dict)
    balances: dict[str, Decimal] = field(default_factory=dict)
    reversed_by: dict[str, str] = field(default_factory=dict)
    locked_through: date | None = None
    closed: list[date] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class InMemoryLedger:
    def __init__(self) -> None:
        self.s = _State()

    # ---- setup and master data
    def setup(self, master: MasterData, policy: Policy, costs: CostVersion) -> None:
        self.s.master, self.s.policy, self.s.costs = master, policy, costs
        self.s.cost_history[costs.number] = costs

    @property
    def ready(self) -> bool:
        return self.s.master is not None

    @property
    def master(self) -> MasterData:
        assert self.s.master is not None, "ledger not set up"
        return self.s.master

    @property
    def policy(self) -> Policy:
        assert self.s.policy is not None, "ledger not set up"
        return self.s.policy

    @property
    def costs(self) -> CostVersion:
        assert self.s.costs is not None, "ledger not set up"
        return self.s.costs

    def replace_master(self, master: MasterData, costs: CostVersion) -> None:
        self.s.master, self.s.costs = master, costs
        self.s.cost_history[costs.number] = costs

    def save_policy(self, policy: Policy) -> None:
        self.s.policy = policy

    def cost_version_used(self) -> bool:
        return any(st.entry.cost_version == self.costs.number for st in self.s.entries)

    def anything_posted(self) -> bool:
        return bool(self.s.posted)

    def entries_of(self, event_id: str) -> list[StoredEntry]:
        return [st for st in self.s.entries if st.entry.event_id == event_id]

    def entry(self, seq: int) -> StoredEntry | None:
        return self.s.entries[seq - 1] if 0 < seq <= len(self.s.entries) else None

    # ---- LedgerView
    @property
    def locked_through(self) -> date | None:
        return self.s.locked_through

    def prefetch(self, items: Iterable[str]) -> None:
        pass

    def on_hand(self, item: str, location: str) -> Decimal:
        return self.s.stock.get((item, location), ZERO)

    def on_hand_total(self, item: str) -> Decimal:
        return self.s.totals.get(item, ZERO)

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        if as_of is None:
            return {k: v for k, v in self.s.totals.items() if v}
        out: dict[str, Decimal] = {}
        for when, m, _ in self.s.moves:
            if when <= as_of:
                out[m.item] = out.get(m.item, ZERO) + m.qty
        return {k: v for k, v in out.items() if v}

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return tuple(self.s.pending.get((item, location), ()))

    def pending_total(self, item: str) -> Decimal:
        return self.s.pending_tot.get(item, ZERO)

    def pending_totals(self) -> Mapping[str, Decimal]:
        return {k: v for k, v in self.s.pending_tot.items() if v}

    def posted(self, event_id: str) -> PostedEvent | None:
        found = self.s.posted.get(event_id)
        if found is None or found.summary is None:
            return found
        costs = self.s.cost_history[found.posting.cost_version]
        posting = share(Context(self.master, self.policy, costs, self), found.event)
        return PostedEvent(found.event, replace(posting, cost_version=costs.number),
                           found.summary)

    def reversed_by(self, event_id: str) -> str | None:
        return self.s.reversed_by.get(event_id)

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        if as_of is None:
            return self.s.balances.get(account, ZERO)
        return sum((ln.net for st in self.s.entries if st.entry.date <= as_of
                    for ln in st.entry.lines if ln.account == account), ZERO)

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal:
        return sum((ln.net for st in self.s.entries
                    if as_of is None or st.entry.date <= as_of
                    for ln in st.entry.lines if ln.account == account and ln.family == family),
                   ZERO)

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]:
        material = conversion = ZERO
        for st in self.s.entries:
            if start <= st.entry.date <= end:
                material += st.entry.cogs_material
                conversion += st.entry.cogs_conversion
        return material, conversion

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        for pe in self.s.posted.values():
            ev = pe.event
            if ev.type != "completion" or not start <= ev.date <= end \
                    or ev.id in self.s.reversed_by:
                continue
            parent: str = getattr(ev, "item")  # noqa: B009 - any completion has an item
            used = sum((-m.qty for m in pe.posting.moves
                        if m.item == component and m.kind == "backflush"), ZERO)
            used += sum((p.qty for p in pe.posting.pending
                         if p.item == component and p.qty > 0), ZERO)
            if used:
                out[parent] = out.get(parent, ZERO) + used
        # Summary moves carry their parent; reversed events are taken out by their share.
        for when, m, _ in self.s.moves:
            if m.parent and m.item == component and m.kind == "backflush" \
                    and start <= when <= end:
                out[m.parent] = out.get(m.parent, ZERO) - m.qty
        for pe in self.s.posted.values():
            ev = pe.event
            if pe.summary is not None and ev.type == "completion" \
                    and ev.id in self.s.reversed_by and start <= ev.date <= end:
                undone = self.posted(ev.id)
                assert undone is not None
                parent = getattr(ev, "item")  # noqa: B009
                out[parent] = out.get(parent, ZERO) + sum(
                    (m.qty for m in undone.posting.moves
                     if m.item == component and m.kind == "backflush"), ZERO)
        return {k: v for k, v in out.items() if v}

    # ---- writing
    def stored_event(self, event_id: str) -> Event | None:
        found = self.s.posted.get(event_id)
        return found.event if found is not None else None

    def settle(self) -> tuple[Sequence[Event | Flow], set[str]] | None:
        return None  # summaries are written at once

    def record_summary(self, run: Sequence[Event | Flow], summary: Summary) -> set[str] | None:
        s = self.s
        seen: set[str] = set()
        clashes: set[str] = set()
        for ev in run:
            if ev.id in s.posted or ev.id in seen:
                clashes.add(ev.id)
            seen.add(ev.id)
        if clashes:
            return clashes
        entry_of: dict[date, int] = {}
        for day in summary.days:
            entry_of[day.date] = 0
            if day.entry is not None:
                self._add_entry(day.entry)
                entry_of[day.date] = len(s.entries)
            for m in day.moves:
                self._add_move(day.date, m, "")
        for ev in run:
            event = ev.event() if isinstance(ev, Flow) else ev
            s.posted[ev.id] = PostedEvent(event, Posting(cost_version=summary.cost_version),
                                          entry_of[ev.date])
        s.alerts.extend(alert for _, alert in summary.alerts)
        return None

    def _add_entry(self, entry: JournalEntry) -> None:
        s = self.s
        s.entries.append(StoredEntry(len(s.entries) + 1, entry))
        for ln in entry.lines:
            s.balances[ln.account] = s.balances.get(ln.account, ZERO) + ln.net

    def _add_move(self, when: date, m: StockMove, event_id: str) -> None:
        s = self.s
        s.moves.append((when, m, event_id))
        s.stock[(m.item, m.location)] = s.stock.get((m.item, m.location), ZERO) + m.qty
        s.totals[m.item] = s.totals.get(m.item, ZERO) + m.qty

    def record(self, event: Event, posting: Posting) -> None:
        s = self.s
        s.posted[event.id] = PostedEvent(event, posting)
        for entry in posting.entries:
            self._add_entry(entry)
        for m in posting.moves:
            self._add_move(event.date, m, event.id)
        for p in posting.pending:
            s.pending_tot[p.item] = s.pending_tot.get(p.item, ZERO) + p.qty
            key = (p.item, p.location)
            s.pending[key] = queue_after(s.pending.get(key, []), p)
        if isinstance(event, Reversal):
            s.reversed_by[event.of] = event.id
        if posting.new_cost_version is not None:
            s.costs = posting.new_cost_version
            s.cost_history[s.costs.number] = s.costs
        if posting.new_master is not None:
            s.master = posting.new_master
        if posting.locks_through is not None:
            s.locked_through = max(posting.locks_through, s.locked_through or date.min)
            s.closed.append(posting.locks_through)
        s.alerts.extend(posting.alerts)
        s.findings.extend(posting.findings)

    # ---- reading
    def entries(self) -> Iterator[StoredEntry]:
        return iter(self.s.entries)

    def moves(self) -> Iterator[StockMove]:
        return (m for _, m, _ in self.s.moves)

    def events(self) -> Iterator[Event]:
        return (pe.event for pe in self.s.posted.values())

    def event_ids(self) -> set[str]:
        return set(self.s.posted)

    def stock(self) -> Mapping[tuple[str, str], Decimal]:
        return dict(self.s.stock)

    def balances(self) -> Mapping[str, Decimal]:
        return dict(self.s.balances)

    def alerts(self) -> list[Alert]:
        return list(self.s.alerts)

    def findings(self) -> list[Finding]:
        return list(self.s.findings)

    def closed_periods(self) -> list[date]:
        return list(self.s.closed)


class InMemoryUnitOfWork(UnitOfWork):
    """Rolls back to the state at ``__enter__`` unless committed."""

    ledger: InMemoryLedger

    def __init__(self, ledger: InMemoryLedger | None = None) -> None:
        self.ledger = ledger or InMemoryLedger()
        self._snapshot: _State | None = None

    def __enter__(self) -> InMemoryUnitOfWork:
        super().__enter__()
        self._snapshot = _snapshot(self.ledger.s)
        return self

    def _commit(self) -> None:
        self._snapshot = _snapshot(self.ledger.s)

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.ledger.s = self._snapshot
            self._snapshot = _snapshot(self._snapshot)


def _snapshot(state: _State) -> _State:
    """Containers copied, immutable records shared."""
    clone = copy.copy(state)
    for name in ("posted", "cost_history", "stock", "totals", "pending_tot", "balances",
                 "reversed_by"):
        setattr(clone, name, dict(getattr(state, name)))
    for name in ("entries", "moves", "closed", "alerts", "findings"):
        setattr(clone, name, list(getattr(state, name)))
    clone.pending = {k: list(v) for k, v in state.pending.items()}
    return clone
