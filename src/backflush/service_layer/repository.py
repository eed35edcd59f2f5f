"""What the service layer needs of a ledger store. Adapters implement it (memory, SQL)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from backflush.domain.costing import CostVersion, MasterData
from backflush.domain.events import Event, Flow
from backflush.domain.journal import Alert, Finding, JournalEntry, Posting, StockMove
from backflush.domain.policy import Policy
from backflush.domain.posting import LedgerView
from backflush.domain.summary import Summary


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    entry: JournalEntry


class LedgerRepository(LedgerView, Protocol):
    """The ledger's state: master data, policy, costs, events and everything they posted."""

    def setup(self, master: MasterData, policy: Policy, costs: CostVersion) -> None: ...

    @property
    def ready(self) -> bool: ...

    @property
    def master(self) -> MasterData: ...

    @property
    def policy(self) -> Policy: ...

    @property
    def costs(self) -> CostVersion: ...

    def replace_master(self, master: MasterData, costs: CostVersion) -> None:
        """New master data and the cost version rolled up from it (same or next number)."""
        ...

    def save_policy(self, policy: Policy) -> None: ...

    def cost_version_used(self) -> bool:
        """Has anything been posted at the current cost version?"""
        ...

    def anything_posted(self) -> bool: ...

    def entry(self, seq: int) -> StoredEntry | None: ...

    def entries_of(self, event_id: str) -> list[StoredEntry]:
        """The entries one event posted, numbered, with their derivations."""
        ...

    def stored_event(self, event_id: str) -> Event | None:
        """The event posted under this id, if any (duplicates are compared by content)."""
        ...

    def record(self, event: Event, posting: Posting) -> None:
        """Append the event and apply its posting (entries, moves, pending, costs, lock)."""
        ...

    def record_summary(self, run: Sequence[Event | Flow], summary: Summary) -> set[str] | None:
        """Store every event of ``run`` and apply its summary (entries, moves, balances).

        When ids of ``run`` were posted before, or come more than once, nothing is written
        and those ids are returned. A store may instead return None at once and write the
        run behind, while the caller goes on: then :meth:`settle` reports the clash.
        """
        ...

    def settle(self) -> tuple[Sequence[Event | Flow], set[str]] | None:
        """Wait for a run written behind by :meth:`record_summary`. If its ids clashed,
        nothing of it was kept: the run and the clashing ids. Must be called before anything
        else is written after a summary."""
        ...

    def entries(self) -> Iterator[StoredEntry]: ...

    def moves(self) -> Iterator[StockMove]: ...

    def events(self) -> Iterator[Event]: ...

    def event_ids(self) -> set[str]: ...

    def stock(self) -> Mapping[tuple[str, str], Decimal]: ...

    def balances(self) -> Mapping[str, Decimal]: ...

    def alerts(self) -> list[Alert]: ...

    def findings(self) -> list[Finding]: ...

    def closed_periods(self) -> list[date]: ...
