"""The ledger as the posting rules see it, read from the stores of a unit of work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from backflush.domain.journal import Posting
from backflush.domain.numbers import ZERO
from backflush.domain.summary import share
from backflush.domain.valuation import Books
from backflush.domain.view import PostedEvent
from backflush.service_layer.ports import StoredEvent
from backflush.service_layer.unit_of_work import UnitOfWork


class StoreView:
    """Implements :class:`backflush.domain.view.LedgerView` over a unit of work's stores.

    An event posted in a summary has no entries of its own: what it posted is its share,
    worked out again by the rules at the standards it was posted at (:func:`share`).
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._opened: date | None = None

    @property
    def locked_through(self) -> date | None:
        return self.uow.master.locked_through()

    def closed_by(self, period: str) -> str | None:
        return self.uow.master.closed_by(period)

    @property
    def opened_on(self) -> date:
        if self._opened is None:
            self._opened = self.uow.master.opened_on()
        return self._opened

    def on_hand(self, item: str, location: str) -> Decimal:
        return self.uow.stock.on_hand(item, location)

    def on_hand_total(self, item: str) -> Decimal:
        return self.uow.stock.on_hand_total(item)

    def stock_totals(self, as_of: date | None = None) -> Mapping[str, Decimal]:
        return self.uow.stock.totals(as_of)

    def pending_at(self, item: str, location: str) -> Sequence[tuple[str, Decimal]]:
        return self.uow.stock.pending_at(item, location)

    def pending_total(self, item: str) -> Decimal:
        return self.uow.stock.pending_total(item)

    def pending_totals(self) -> Mapping[str, Decimal]:
        return self.uow.stock.pending_totals()

    def held_through(self, day: date) -> Sequence[str]:
        return [h.event.id for h in self.uow.floor.held()
                if h.blocks_close and h.event.date <= day]

    def pending_issues(self) -> Sequence[tuple[str, str, str, date, Decimal]]:
        out = []
        for item, location, source, qty in self.uow.stock.pending_queue():
            stored = self.uow.events.get(source)
            if stored is not None:
                out.append((item, location, source, stored.event.date, qty))
        return out

    def last_date(self) -> date | None:
        return self.uow.events.last_date()

    def posted(self, event_id: str) -> PostedEvent | None:
        stored = self.uow.events.get(event_id)
        return None if stored is None else self.what_it_posted(stored)

    def what_it_posted(self, stored: StoredEvent) -> PostedEvent:
        if stored.summary is not None:
            return PostedEvent(stored.event, self.share(stored), stored.summary)
        posting = Posting(tuple(s.entry for s in self.uow.journal.entries_of(stored.event.id)),
                          tuple(self.uow.stock.moves_of(stored.seq)),
                          tuple(self.uow.stock.pending_of(stored.seq)),
                          cost_version=stored.cost_version)
        return PostedEvent(stored.event, posting)

    def share(self, stored: StoredEvent) -> Posting:
        master = self.uow.master
        books = Books(master.master(), master.policy(), master.cost_version(stored.cost_version))
        return share(books, self, stored.event)

    def reversed_by(self, event_id: str) -> str | None:
        stored = self.uow.events.get(event_id)
        return None if stored is None else stored.reversed_by

    def reversals_of(self, event_id: str) -> Sequence[tuple[str, Decimal]]:
        return self.uow.events.reversals_of(event_id)

    def balance(self, account: str, as_of: date | None = None) -> Decimal:
        return self.uow.journal.balance(account, as_of)

    def family_balance(self, family: str, account: str, as_of: date | None = None) -> Decimal:
        return self.uow.journal.family_balance(family, account, as_of)

    def cogs_content(self, start: date, end: date) -> tuple[Decimal, Decimal]:
        return self.uow.journal.cogs_content(start, end)

    def backflushed(self, component: str, start: date, end: date) -> Mapping[str, Decimal]:
        out = dict(self.uow.stock.backflushed(component, start, end))
        # Summary moves stay as they were when a summarised completion is reversed: take
        # its share back out.
        for stored in self.uow.events.summarised_reversed("completion", start, end):
            parent: str = getattr(stored.event, "item")  # noqa: B009 - a completion's item
            undone = sum((-m.qty for m in self.share(stored).moves
                          if m.item == component and m.kind == "backflush"), ZERO)
            if undone:
                out[parent] = out.get(parent, ZERO) - undone
        return {k: v for k, v in out.items() if v}
