"""The ports: what the use cases need of a ledger's storage, and nothing backend-specific.

Six narrow stores, all inside one :class:`~backflush.service_layer.unit_of_work.UnitOfWork`
(one transaction): the master data and settings, the event log, the journal, the stock
subledger, the shop floor (released orders, kanban signals), and who may use the ledger
over HTTP (API tokens, saved responses). Adapters implement them in memory and in SQL
(SQLite, PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, TypeVar

from backflush.domain.costs import CostVersion
from backflush.domain.events import Event
from backflush.domain.held import Held
from backflush.domain.journal import Alert, Finding, JournalEntry, PendingChange, StockMove
from backflush.domain.kanban import FloorChanges, OpenSignal
from backflush.domain.masterdata import MasterData
from backflush.domain.policy import Policy

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the log keeps it."""

    event: Event
    seq: int
    cost_version: int  # the standards it was posted at
    summary: int | None = None  # posted in a summary: its entry's number (0: none written)
    reversed_by: str | None = None


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as the log keeps it: its number, the event that raised it (and that
    event's date), and who acknowledged it, when (ISO date and time, UTC) and why."""

    id: int
    event_id: str
    date: date | None
    code: str
    message: str
    acknowledged_by: str | None = None
    acknowledged_on: str | None = None
    note: str | None = None

    @property
    def open(self) -> bool:
        return self.acknowledged_on is None


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    entry: JournalEntry


@dataclass(frozen=True, slots=True)
class EventRows:
    """Many events at once, for the bulk path: ``ids[i]`` is the id of an event otherwise
    equal to ``templates[index[i]]``, dated ``dates[index[i]]`` when ``dates`` are given (a
    template's own id is a placeholder, and then its date too: one template object may come
    several times, dated otherwise); an event of template ``t`` was posted in summary entry
    ``entries[t]`` (0: the summary had none)."""

    ids: Sequence[str]
    index: Sequence[int]
    templates: Sequence[Event]
    entries: Sequence[int]
    dates: Sequence[date] = ()

    def date_of(self, t: int) -> date:
        return self.dates[t] if self.dates else self.templates[t].date

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class UsageFlows:
    """What BOM accuracy reads of the stock subledger, summed by day (all in posting order
    within a day): counts ``(date, item, location, counted)``; the moves that are neither
    consumption nor count ``(date, item, location, qty)``: receipts, transfers, scrap,
    sales, openings, completions; what was backflushed at standard (and parked) for each
    parent ``(date, component, location, parent, qty)``, positive; and reversal moves
    ``(date, item, location, qty, the event reversed)``."""

    counts: Sequence[tuple[date, str, str, Decimal]]
    supply: Sequence[tuple[date, str, str, Decimal]]
    used: Sequence[tuple[date, str, str, str, Decimal]]
    reversals: Sequence[tuple[date, str, str, Decimal, str]]


SUPPLY_KINDS = ("opening", "receipt", "transfer", "scrap", "sale", "completion")


class IdsTaken(Exception):
    """Raised by :meth:`EventLog.append_many` when ids of the rows were posted before (or
    come twice among them): nothing of the rows was written."""


class MasterStore(Protocol):
    """Master data, policy, cost versions and the ledger's settings (first day, lock)."""

    def ready(self) -> bool:
        """Is a ledger set up in this store?"""
        ...

    def setup(self, master: MasterData, policy: Policy, costs: CostVersion,
              opened_on: date) -> None: ...

    def master(self) -> MasterData: ...

    def policy(self) -> Policy: ...

    def costs(self) -> CostVersion:
        """The cost version in force."""
        ...

    def cost_version(self, number: int) -> CostVersion:
        """A cost version, current or earlier (what an event was posted at)."""
        ...

    def opened_on(self) -> date: ...

    def locked_through(self) -> date | None: ...

    def replace_master(self, master: MasterData, costs: CostVersion) -> None:
        """New master data and the cost version rolled up from it (same or next number)."""
        ...

    def add_cost_version(self, costs: CostVersion, master: MasterData, event_id: str) -> None:
        """A cost change posted: the new version is in force from now on."""
        ...

    def lock(self, through: date, period: str, event_id: str) -> None: ...

    def closed_periods(self) -> list[date]: ...

    def closed_by(self, period: str) -> str | None:
        """The event that closed ``period`` (None when it is not closed)."""
        ...

    def reopen(self, period: str) -> None:
        """Forget the close of ``period`` (the latest one): the lock falls back to the close
        before it, or to none."""
        ...

    def frozen(self) -> bool:
        """Has anything been posted (standards and BOMs in force may not change)?"""
        ...

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """What the caller works out from the master data, policy and cost version in force
        (``make()``), kept with them for the next transactions too, until they change."""
        ...


class EventLog(Protocol):
    """Every event posted, once, by its id; what it raised (alerts, findings)."""

    def get(self, event_id: str) -> StoredEvent | None: ...

    def find(self, ids: Sequence[str]) -> Mapping[str, StoredEvent]:
        """Those of ``ids`` that were posted."""
        ...

    def append(self, event: Event, cost_version: int, summary: int | None = None) -> int:
        """Log one event; its sequence number."""
        ...

    def append_many(self, rows: EventRows, cost_version: int) -> None:
        """Log many events at once (all or none: :class:`IdsTaken` when an id was taken)."""
        ...

    def mark_reversed(self, of: str, by: str) -> None:
        """``of`` is reversed in full (by ``by``, or by the last of its partial reversals)."""
        ...

    def add_reversal(self, of: str, by: str, qty: Decimal) -> None:
        """Reversal ``by`` took back ``qty`` of the completion, sale or receipt ``of``."""
        ...

    def reversals_of(self, of: str) -> list[tuple[str, Decimal]]:
        """The reversals of ``of`` recorded by :meth:`add_reversal`, in posting order."""
        ...

    def reversed_quantities(self) -> dict[str, Decimal]:
        """Every original reversed in part or in whole: the quantity taken back so far."""
        ...

    def count(self) -> int: ...

    def last_date(self) -> date | None:
        """The latest date of any event posted (None: nothing posted)."""
        ...

    def all(self, after: int = 0) -> Iterator[StoredEvent]:
        """Every event numbered after ``after``, in posting order (read lazily)."""
        ...

    def summarised_reversed(self, kind: str, start: date, end: date) -> list[StoredEvent]:
        """Events of ``kind`` posted in summaries, dated in [start, end], since reversed."""
        ...

    def add_alerts(self, event_seq: int | None, alerts: Sequence[Alert]) -> None: ...

    def alerts(self, event_id: str | None = None) -> list[Alert]:
        """Every alert in order, or those of one event."""
        ...

    def latest_alerts(self, limit: int) -> list[Alert]:
        """The latest ``limit`` alerts, oldest first."""
        ...

    def stored_alerts(self, *, open_only: bool = False, event_id: str | None = None,
                      ids: Sequence[int] | None = None, latest: int | None = None
                      ) -> list[StoredAlert]:
        """Alerts with their numbers and acknowledgements, oldest first: the open ones
        only, one event's, those numbered ``ids``, or the ``latest`` few."""
        ...

    def acknowledge(self, ids: Sequence[int], by: str, on: str, note: str | None) -> None:
        """Mark the alerts numbered ``ids`` acknowledged (those acknowledged already keep
        their first acknowledgement)."""
        ...

    def add_findings(self, event_seq: int, findings: Sequence[Finding]) -> None: ...

    def findings(self) -> list[Finding]: ...


class Journal(Protocol):
    """Journal entries, their lines and derivations, and the account balances."""

    def append(self, event_seq: int | None, entries: Sequence[JournalEntry]) -> list[int]:
        """Add entries (of one event; None: summary entries) and update the balances."""
        ...

    def entry(self, seq: int) -> StoredEntry | None: ...

    def last_seq(self) -> int:
        """The number of the latest entry (0: none)."""
        ...

    def entries(self, after: int = 0) -> Iterator[StoredEntry]:
        """Every entry numbered after ``after`` in posting order, with its lines
        (derivations left out; read lazily)."""
        ...

    def entries_of(self, event_id: str) -> list[StoredEntry]:
        """The entries one event posted, with their derivations."""
        ...

    def balances(self) -> Mapping[str, Decimal]: ...

    def balance(self, account: str, as_of: date | None = None) -> Decimal: ...

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal: ...

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]: ...


class Stock(Protocol):
    """Quantities by item and location, the moves behind them, and parked issues."""

    def on_hand(self, item: str, location: str) -> Decimal: ...

    def on_hand_total(self, item: str) -> Decimal: ...

    def totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        """Every item's total on hand (as of the end of a day), non-zero only."""
        ...

    def balances(self) -> Mapping[tuple[str, str], Decimal]: ...

    def prefetch(self, items: Sequence[str]) -> None:
        """A hint: the stock of these items is about to be read."""
        ...

    def apply(self, event_seq: int | None, day: date, moves: Sequence[StockMove],
              pending: Sequence[PendingChange] = ()) -> None: ...

    def moves(self) -> Iterator[StockMove]: ...

    def moves_of(self, event_seq: int) -> list[StockMove]: ...

    def pending_of(self, event_seq: int) -> list[PendingChange]: ...

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]: ...

    def pending_total(self, item: str) -> Decimal: ...

    def pending_totals(self) -> Mapping[str, Decimal]: ...

    def pending_queue(self) -> list[tuple[str, str, str, Decimal]]:
        """Every parked issue: (item, location, completion event id, qty), oldest first at
        each place (the order they clear in)."""
        ...

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        """What was backflushed of ``component`` in [start, end] by parent item: per-event
        completions not reversed (their backflush moves and parked issues), and summary
        moves (which name their parent)."""
        ...

    def backflushed_totals(self, start: date, end: date) -> Mapping[str, Decimal]:
        """What was backflushed in [start, end] of every component, over its parents (as
        :meth:`backflushed` counts it), in one read."""
        ...

    def usage_flows(self, start: date | None, end: date | None) -> UsageFlows:
        """Counts and moves dated in [start, end] (None: open), summed by day in SQL."""
        ...


@dataclass(frozen=True, slots=True)
class Token:
    """An API token as kept: its public id, a name, a role and the SHA-256 of the secret
    (the secret itself is shown once, when it is made, and never stored)."""

    id: str
    name: str
    role: str
    digest: str
    created: str  # ISO date and time, UTC
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class SavedResponse:
    """The response to an idempotent request (``Idempotency-Key``), kept to be replayed:
    ``fingerprint`` is the hash of what was asked, so the same key with other content is
    told apart."""

    key: str
    fingerprint: str
    status: int
    body: str


class AccessStore(Protocol):
    """API tokens, and the responses of idempotent requests."""

    def add_token(self, token: Token) -> None: ...

    def tokens(self) -> list[Token]:
        """Every token made, revoked ones too, oldest first."""
        ...

    def token(self, digest: str) -> Token | None:
        """The token whose secret hashes to ``digest``."""
        ...

    def revoke(self, token_id: str) -> None: ...

    def saved(self, key: str) -> SavedResponse | None: ...

    def save(self, response: SavedResponse) -> None: ...


class Floor(Protocol):
    """The shop floor: released orders' open quantities and replenishment signals
    (domain.kanban), changed only through :meth:`apply`, with what each event changed."""

    def order(self, order_id: str) -> tuple[str, Decimal] | None: ...

    def signals_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]: ...

    def changes_of(self, event_id: str) -> FloorChanges: ...

    def apply(self, event_id: str, day: date, changes: FloorChanges) -> None: ...

    def open_totals(self, items: Sequence[str] | None = None) -> dict[str, Decimal]:
        """Open released quantity by made item (of ``items``, or every item with any)."""
        ...

    def signals(self) -> list[OpenSignal]:
        """Every open signal, oldest first (a filled one is gone)."""
        ...

    def hold(self, held: Held) -> None:
        """Keep a completion that could not post (domain.held), replacing one of its id."""
        ...

    def held(self) -> list[Held]:
        """The completions held, oldest first."""
        ...

    def held_event(self, event_id: str) -> Held | None: ...

    def release(self, event_id: str) -> None:
        """Drop a held completion (it posted)."""
        ...
