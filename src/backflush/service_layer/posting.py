"""Posting events: one at a time, or a plant's file in summary entries.

:func:`post_events` posts a batch in one transaction, all or nothing. Each event goes
through the posting rules (:func:`backflush.domain.rules.post`) and its posting is written;
an id posted before with the same content is a duplicate (skipped and reported), with other
content a refusal. Under ``journal: summary`` (and ``auto`` for a batch of
:data:`AUTO_FROM` events or more) consecutive completions, receipts and sales are gathered
into runs and written as one summary entry per day of a run (:mod:`.summarising`); every
other event gets an entry of its own, in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from backflush.domain import rules
from backflush.domain.errors import PostingError
from backflush.domain.events import FLOW_TYPES, Event, Reversal
from backflush.domain.held import Held, hold_reason
from backflush.domain.journal import JournalEntry, Posting
from backflush.domain.numbers import MONEY, STOCK, ZERO, fmt_qty
from backflush.domain.policy import FailedBackflush, Journal, Method
from backflush.domain.rules.context import RuleContext, check_open
from backflush.domain.valuation import Books
from backflush.service_layer import kanban
from backflush.service_layer.batch import BatchResult, Flows, Item, Located
from backflush.service_layer.duplicates import refuse_changed, same
from backflush.service_layer.ports import StoredEntry, StoredEvent
from backflush.service_layer.reversals import record_reversal
from backflush.service_layer.shapes import Drafts
from backflush.service_layer.summarising import Summariser
from backflush.service_layer.unit_of_work import UnitOfWork
from backflush.service_layer.view import StoreView

RUN_SIZE = 100_000  # events summarised together (bounded memory, whatever the file's size)
AUTO_FROM = 1_000  # journal: auto summarises batches of this many events or more
MONEY_BOUND = Decimal(10) ** MONEY.digits
STOCK_BOUND = Decimal(10) ** STOCK.digits


@dataclass
class Session:
    """One posting call: the books in force, the shapes worked out so far, the run being
    gathered, and what was posted."""

    uow: UnitOfWork
    progress: Callable[[int], None] | None = None
    result: BatchResult = field(default_factory=BatchResult)
    summarise: bool = False
    done: int = 0
    holding: bool = False  # hold what cannot post whatever the policy (a retry of the queue)

    def __post_init__(self) -> None:
        self.view = StoreView(self.uow)
        self.books = self._books()
        self.run: list[Event | Located | Flows] = []
        self.run_size = 0
        self.summariser = Summariser(self)

    def _books(self) -> Books:
        m = self.uow.master
        self.drafts = m.derived("drafts", Drafts)
        return m.derived("books", lambda: Books(m.master(), m.policy(), m.costs()))

    @property
    def journal(self) -> Journal:
        policy = self.books.policy
        if policy.method is Method.SEQUENTIAL:
            return Journal.PER_EVENT  # its point is the WIP trail of every completion
        return policy.journal

    # ---------------------------------------------------------------- feeding
    def feed(self, item: Item) -> None:
        if isinstance(item, Flows):
            if not self.summarise:
                for i in range(len(item)):
                    self.single(item.located(i))
                return
            self.run.append(item)
            self.run_size += len(item)
        else:
            event = item.event if isinstance(item, Located) else item
            if not self.summarise or event.type not in FLOW_TYPES:
                self.flush()
                self.single(item)
                return
            self.run.append(item)
            self.run_size += 1
        if self.run_size >= RUN_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.run:
            run, self.run, self.run_size = self.run, [], 0
            self.summariser.post(run)
            self._tick()

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(self.done)

    # ---------------------------------------------------------------- one event
    def single(self, item: Event | Located) -> None:
        located = item if isinstance(item, Located) else Located(item)
        event = located.event
        try:
            known = self.known(event.id)  # posted, or held in the queue
            if known is not None:
                if not same(known, event):
                    raise refuse_changed(event, known)
                self.result.duplicate(event.id)
            else:
                try:
                    posting = self.post(event)
                except PostingError as exc:
                    if not self.hold(event, exc):
                        raise
                else:
                    self.write(event, posting)
        except PostingError as exc:
            if exc.source is None and exc.entry is None:
                exc.locate(located.source, located.line, located.entry)
            raise
        self.done += 1
        if self.done % 1_000 == 0:
            self._tick()

    def known(self, event_id: str) -> Event | None:
        stored = self.uow.events.get(event_id)
        if stored is not None:
            return stored.event
        held = self.uow.floor.held_event(event_id)
        return held.event if held is not None else None

    def hold(self, event: Event, refusal: PostingError) -> bool:
        """Keep a completion that cannot post yet in the queue, when the policy says so
        (domain.held); False: it is refused as ever."""
        if not (self.holding or self.books.policy.failed_backflush is FailedBackflush.HOLD):
            return False
        reason = hold_reason(event, refusal)
        if reason is None:
            return False
        self.uow.floor.hold(Held(event, reason, refusal.reason, event.date))
        self.result.held.append(event.id)
        return True

    def post(self, event: Event) -> Posting:
        """The event's posting: its draft (kept for its shape when that is safe), with the
        stock it moves read in one go."""
        ctx = RuleContext(self.books, self.view)
        check_open(ctx, event)
        draft = self.drafts.draft(ctx, event)
        self.uow.stock.prefetch(sorted({m.item for m in draft.moves}))
        return rules.post(self.books, self.view, event, drafted=lambda _ctx, _ev: draft)

    def write(self, event: Event, posting: Posting) -> None:
        uow = self.uow
        seq = uow.events.append(event, posting.cost_version)
        uow.journal.append(seq, posting.entries)
        uow.stock.apply(seq, event.date, posting.moves, posting.pending)
        kanban.track(uow, event)
        if posting.alerts:
            uow.events.add_alerts(seq, posting.alerts)
        if posting.findings:
            uow.events.add_findings(seq, posting.findings)
        if isinstance(event, Reversal):
            record_reversal(uow, event)
        if posting.new_cost_version is not None:
            assert posting.new_master is not None
            uow.master.add_cost_version(posting.new_cost_version, posting.new_master, event.id)
            self.books = self._books()
        if posting.locks_through is not None:
            uow.master.lock(posting.locks_through, getattr(event, "period", ""), event.id)
        if posting.reopens is not None:
            uow.master.reopen(posting.reopens)
        self.check_limits(event.id, {ln.account for e in posting.entries for ln in e.lines},
                          {m.item for m in posting.moves})
        self.result.posted += 1

    def check_limits(self, event_id: str, accounts: set[str], items: set[str]) -> None:
        """Running totals stay within the ledger's limits, or the batch is refused (their
        places are bounded by the values added up; their size is checked here)."""
        for name in accounts:
            balance = self.uow.journal.balance(name)
            if abs(balance) >= MONEY_BOUND:
                raise PostingError(event_id, f"the balance of {name} would be {balance}, "
                                   f"beyond the {MONEY.digits} digits an amount may have",
                                   "qty")
        for item in items:
            total = self.uow.stock.on_hand_total(item)
            if abs(total) >= STOCK_BOUND:
                raise PostingError(event_id, f"{item} on hand would be {fmt_qty(total)}, "
                                   f"beyond the {STOCK.digits} digits stock may have", "qty")


def post_events(uow: UnitOfWork, events: Iterable[Item],
                progress: Callable[[int], None] | None = None) -> BatchResult:
    """Post a batch atomically: every event or none. Duplicates are skipped and reported."""
    with uow:
        result = post_events_in(uow, events, progress)
        uow.commit()
    return result


@dataclass(frozen=True)
class Preview:
    """What a batch would post: its result, the entries it would write (numbered as they
    would be) and every account's change; nothing of it is kept."""

    result: BatchResult
    entries: list[tuple[int, JournalEntry]]
    changes: dict[str, Decimal]


def preview_events(uow: UnitOfWork, events: Iterable[Item]) -> Preview:
    """Post ``events`` in a transaction that is rolled back (a what-if: a rate change's
    revaluation, a close's entries): refused as posting would refuse them."""
    with uow:
        before = dict(uow.journal.balances())
        last = uow.journal.last_seq()
        result = post_events_in(uow, events)
        entries = [(s.seq, s.entry) for s in uow.journal.entries(after=last)]
        after = dict(uow.journal.balances())
        changes = {a: after.get(a, ZERO) - before.get(a, ZERO) for a in {*before, *after}}
        uow.rollback()
    return Preview(result, entries, {a: v for a, v in changes.items() if v})


def post_events_in(uow: UnitOfWork, events: Iterable[Item],
                   progress: Callable[[int], None] | None = None, *,
                   holding: bool = False) -> BatchResult:
    """:func:`post_events` inside the caller's transaction. ``events`` may be a stream
    (memory stays bounded by the run size). ``holding``: hold completions that cannot post
    (domain.held) whatever the policy."""
    session = Session(uow, progress, holding=holding)
    journal = session.journal
    stream = iter(events)
    head: list[Item] = []
    if journal is Journal.AUTO:
        # Decide on the batch's size: read ahead until it is known to be large enough.
        size = 0
        for item in stream:
            head.append(item)
            size += len(item) if isinstance(item, Flows) else 1
            if size >= AUTO_FROM:
                break
        session.summarise = size >= AUTO_FROM
    else:
        session.summarise = journal is Journal.SUMMARY
    for item in head:
        session.feed(item)
    for item in stream:
        session.feed(item)
    session.flush()
    session._tick()
    return session.result


class CompletionHeld(PostingError):
    """:func:`post_one`'s completion could not post yet and is held in the queue (kept:
    the transaction committed); ``why`` is the queue's reason."""

    def __init__(self, held: Held) -> None:
        super().__init__(held.event.id, f"held in the queue ({held.reason}): {held.message}")
        self.why = held.reason


@dataclass(frozen=True)
class Posted:
    """One event as the log holds it after :func:`post_one`, with its entries; ``replayed``:
    it had been posted before with the same content, and nothing was posted now."""

    stored: StoredEvent
    entries: list[StoredEntry]
    replayed: bool


def post_one(uow: UnitOfWork, read: Callable[[UnitOfWork], Located]) -> Posted:
    """Post the event ``read`` makes (from the master data in force, in this transaction)
    and give it back as stored: posting it again with the same content gives the same
    answer, marked as replayed."""
    with uow:
        located = read(uow)
        result = post_events_in(uow, [located])
        event_id = located.event.id
        stored = uow.events.get(event_id)
        if stored is None:  # a completion held in the queue (domain.held), kept so
            held = uow.floor.held_event(event_id)
            assert held is not None, "an event posted is in the log, or held"
            uow.commit()
            raise CompletionHeld(held)
        entries = uow.journal.entries_of(event_id) if stored.summary is None else []
        uow.commit()
    return Posted(stored, entries, replayed=result.duplicates == 1)
