"""Reports read from a ledger: trial balance, stock, variances, journal, verification."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backflush.domain.books import Books
from backflush.domain.events import Event
from backflush.domain.invariants import check_ledger
from backflush.domain.journal import JournalEntry, PendingChange, StockMove
from backflush.domain.numbers import ZERO
from backflush.domain.policy import FAMILIES, FAMILY_ROLES, Role
from backflush.service_layer.repository import LedgerRepository


@dataclass(frozen=True, slots=True)
class StockRow:
    item: str
    location: str
    qty: Decimal
    value: Decimal
    account: str


def books_of(ledger: LedgerRepository) -> Books:
    return Books(ledger.master, ledger.policy, ledger.costs)


def trial_balance(ledger: LedgerRepository) -> list[tuple[str, Decimal]]:
    """Every account with a non-zero balance, debit positive, in chart order."""
    order = {ledger.policy.name(r): i for i, r in enumerate(Role)}
    rows = [(a, b) for a, b in ledger.balances().items() if b != 0]
    return sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))


def stock_report(ledger: LedgerRepository) -> list[StockRow]:
    """Quantity by item and location, valued as the policy has it on the books."""
    books = books_of(ledger)
    rows = []
    for (item, location), qty in sorted(ledger.stock().items()):
        if qty == 0:
            continue
        role = books.role(item)
        rows.append(StockRow(item, location, qty, books.valuation(item, qty),
                             ledger.policy.name(role) if role else "(off the books)"))
    return rows


def variance_report(ledger: LedgerRepository) -> dict[str, Decimal]:
    """Variances measured by family (before any disposal at close), non-zero only.

    Conversion is Control − Applied plus the efficiency variance: positive is under-applied.
    """
    policy = ledger.policy
    net: dict[str, Decimal] = {}
    for stored in ledger.entries():
        if stored.entry.type != "close":
            for ln in stored.entry.lines:
                net[ln.account] = net.get(ln.account, ZERO) + ln.net
    out: dict[str, Decimal] = {}
    for family in FAMILIES:
        names = {policy.name(r) for r in FAMILY_ROLES[family]}
        total = sum((net.get(name, ZERO) for name in names), ZERO)
        if total:
            out[family] = total
    return out


def journal(ledger: LedgerRepository) -> list[tuple[int, JournalEntry]]:
    return [(s.seq, s.entry) for s in ledger.entries()]


def verify(ledger: LedgerRepository) -> list[str]:
    """Check every invariant of posting-rules §5; an empty list when all hold."""
    return check_ledger(books_of(ledger), (s.entry for s in ledger.entries()), ledger.moves(),
                        ledger.stock(), ledger.pending_totals(), ledger.event_ids(),
                        ledger.balances())


@dataclass(frozen=True, slots=True)
class Comparison:
    """Backflush against sequential tracking for the same events (posting-rules §6)."""

    entries: tuple[int, int]
    lines: tuple[int, int]
    balances: list[tuple[str, Decimal, Decimal]]  # account, backflush, sequential

    @property
    def work_in_process(self) -> Decimal:
        return sum((seq for name, _, seq in self.balances if name == "Work in Process"), ZERO)


def compare(backflush: LedgerRepository, sequential: LedgerRepository) -> Comparison:
    counts = []
    for ledger in (backflush, sequential):
        entries = [s.entry for s in ledger.entries()]
        counts.append((len(entries), sum(len(e.lines) for e in entries)))
    b, s = dict(trial_balance(backflush)), dict(trial_balance(sequential))
    names = list(dict.fromkeys([*b, *s]))
    rows = [(n, b.get(n, ZERO), s.get(n, ZERO)) for n in names]
    return Comparison((counts[0][0], counts[1][0]), (counts[0][1], counts[1][1]), rows)


@dataclass(frozen=True)
class Explanation:
    """The audit trail of one event: what it was, what it used, what it derived and posted.

    For an event posted in a summary, ``summary`` is the summary entry's number and
    ``entries`` hold the event's share: its entries by the posting rules, at the standards it
    was posted at. For a summary entry asked by number, ``event`` is None.
    """

    event: Event | None
    entries: list[tuple[int, JournalEntry]]
    moves: list[StockMove]
    pending: list[PendingChange]
    reversed_by: str | None
    summary: int | None = None


def explain(ledger: LedgerRepository, key: str) -> Explanation | None:
    """By event id, or by journal entry number (``42`` or ``#42``)."""
    posted = ledger.posted(key)
    if posted is None and key.lstrip("#").isdigit():
        stored = ledger.entry(int(key.lstrip("#")))
        if stored is not None and stored.entry.type == "summary":
            return Explanation(None, [(stored.seq, stored.entry)], [], [], None, stored.seq)
        if stored is not None:
            posted = ledger.posted(stored.entry.event_id)
    if posted is None:
        return None
    event_id = posted.event.id
    if posted.summary is not None:
        return Explanation(posted.event, [(posted.summary, e) for e in posted.posting.entries],
                           list(posted.posting.moves), [], ledger.reversed_by(event_id),
                           posted.summary)
    entries = [(s.seq, s.entry) for s in ledger.entries_of(event_id)]
    return Explanation(posted.event, entries, list(posted.posting.moves),
                       list(posted.posting.pending), ledger.reversed_by(event_id))
