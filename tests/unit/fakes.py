"""A fake ledger view for testing the posting rules without any store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from backflush.domain.view import PostedEvent

ZERO = Decimal(0)


@dataclass
class FakeView:
    """What the rules read, as plain data a test sets up."""

    stock: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    parked: dict[tuple[str, str], list[tuple[str, Decimal]]] = field(default_factory=dict)
    events: dict[str, PostedEvent] = field(default_factory=dict)
    reversals: dict[str, str] = field(default_factory=dict)
    partial: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)  # of -> (by, qty)
    accounts: dict[str, Decimal] = field(default_factory=dict)
    used: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # component -> parent
    locked_through: date | None = None
    opened_on: date = date(2026, 11, 1)
    since: dict[str, date] = field(default_factory=dict)  # a parked issue's completion date
    latest: date | None = None  # the latest date posted

    def pending_issues(self) -> Sequence[tuple[str, str, str, date, Decimal]]:
        return [(item, loc, source, self.since.get(source, self.opened_on), qty)
                for (item, loc), queue in self.parked.items() for source, qty in queue]

    def last_date(self) -> date | None:
        return self.latest

    def on_hand(self, item: str, location: str) -> Decimal:
        return self.stock.get((item, location), ZERO)

    def closed_by(self, period: str) -> str | None:
        return None

    def on_hand_total(self, item: str) -> Decimal:
        return sum((q for (i, _), q in self.stock.items() if i == item), ZERO)

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        for (item, _), qty in self.stock.items():
            out[item] = out.get(item, ZERO) + qty
        return out

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return tuple(self.parked.get((item, location), ()))

    def pending_total(self, item: str) -> Decimal:
        return sum((q for (i, _), queue in self.parked.items() if i == item
                    for _, q in queue), ZERO)

    def held_through(self, day: date) -> Sequence[str]:
        return []

    def pending_totals(self) -> Mapping[str, Decimal]:
        out: dict[str, Decimal] = {}
        for (item, _), queue in self.parked.items():
            out[item] = out.get(item, ZERO) + sum((q for _, q in queue), ZERO)
        return out

    def posted(self, event_id: str) -> PostedEvent | None:
        return self.events.get(event_id)

    def reversed_by(self, event_id: str) -> str | None:
        return self.reversals.get(event_id)

    def reversals_of(self, event_id: str) -> Sequence[tuple[str, Decimal]]:
        return tuple(self.partial.get(event_id, ()))

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        return self.accounts.get(account, ZERO)

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal:
        return ZERO

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]:
        return ZERO, ZERO

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        return self.used.get(component, {})
