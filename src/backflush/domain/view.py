"""What the posting rules may read of the ledger: its state before the event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from backflush.domain.events import Event
from backflush.domain.journal import Posting


@dataclass(frozen=True, slots=True)
class PostedEvent:
    """An event as posted: the event, and what it did (for a summarised event, its share:
    its own draft settled at standard, which is what its reversal takes back)."""

    event: Event
    posting: Posting
    summary: int | None = None  # posted in a summary: the summary entry's number (0: none)


class LedgerView(Protocol):
    """The ledger as posting sees it. Implemented by the service layer over the stores."""

    @property
    def locked_through(self) -> date | None: ...

    @property
    def opened_on(self) -> date:
        """The first day the ledger keeps (events before it are refused)."""
        ...

    def closed_by(self, period: str) -> str | None:
        """The event that closed ``period`` (None when it is not closed)."""
        ...

    def on_hand(self, item: str, location: str) -> Decimal: ...

    def on_hand_total(self, item: str) -> Decimal: ...

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]: ...

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]: ...

    def pending_total(self, item: str) -> Decimal: ...

    def pending_totals(self) -> Mapping[str, Decimal]: ...

    def held_through(self, day: date) -> Sequence[str]:
        """Completions held unposted (domain.held) dated on or before ``day``, blocking."""
        ...

    def pending_issues(self) -> Sequence[tuple[str, str, str, date, Decimal]]:
        """Every parked issue: item, location, the completion owed it, that completion's
        date, and the quantity (for the pending-age alert)."""
        ...

    def last_date(self) -> date | None:
        """The latest date of any event posted (None: nothing posted)."""
        ...

    def posted(self, event_id: str) -> PostedEvent | None: ...

    def reversed_by(self, event_id: str) -> str | None:
        """The reversal that took the event back in full (or the last of it)."""
        ...

    def reversals_of(self, event_id: str) -> Sequence[tuple[str, Decimal]]:
        """The reversals posted of a completion, sale or receipt, with the quantity each
        took back, in posting order (empty: none, or not an event with a quantity)."""
        ...

    def balance(self, account: str, as_of: date | None = None) -> Decimal: ...

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal: ...

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]: ...

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]: ...
