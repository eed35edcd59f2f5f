"""Reports read from a ledger: trial balance, stock, variances, journal, verification,
the audit trail of an event, and backflush against sequential tracking."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import TypeVar

from backflush.domain.events import Event
from backflush.domain.invariants import check_ledger
from backflush.domain.journal import JournalEntry, PendingChange, StockMove
from backflush.domain.numbers import ZERO
from backflush.domain.policy import FAMILIES, FAMILY_ROLES, Policy, Role
from backflush.domain.valuation import Books
from backflush.service_layer.unit_of_work import UnitOfWork
from backflush.service_layer.view import StoreView

K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StockRow:
    item: str
    location: str
    qty: Decimal
    value: Decimal
    account: str


def books_of(uow: UnitOfWork) -> Books:
    m = uow.master
    return Books(m.master(), m.policy(), m.costs())


def chart_order(uow: UnitOfWork) -> dict[str, int]:
    """Accounts in the chart's order: the policy's roles first, in the order of the roles."""
    policy = uow.master.policy()
    order: dict[str, int] = {}
    for role in Role:
        order.setdefault(policy.name(role), len(order))
    return order


@dataclass(frozen=True, slots=True)
class Window:
    """The days a report covers, both ends included; None is open-ended."""

    start: date | None = None
    end: date | None = None

    def __contains__(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or
                                                               day <= self.end)

    @property
    def whole(self) -> bool:
        return self.start is None and self.end is None


ALL = Window()
# The entries a close writes: its disposals, and the GAAP bridge with its reversal. They move
# variances, they are not variances measured.
CLOSING = frozenset({"close", "gaap_bridge", "gaap_bridge_reversal"})


def trial_balance(uow: UnitOfWork, through: date | None = None) -> list[tuple[str, Decimal]]:
    """Every account with a non-zero balance (at the end of ``through``, else now), debit
    positive, in chart order."""
    order = chart_order(uow)
    if through is None:
        balances = dict(uow.journal.balances())
    else:
        balances = net_movements(uow, Window(None, through), with_close=True)
    rows = [(a, b) for a, b in balances.items() if b != 0]
    return sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))


def net_movements(uow: UnitOfWork, window: Window, *, with_close: bool = False
                  ) -> dict[str, Decimal]:
    """Each account's net movement over ``window`` (debit positive), the closing entries
    left out unless ``with_close``."""
    return _nets(uow, lambda day: 0 if day in window else None, with_close).get(0, {})


def _nets(uow: UnitOfWork, bucket: Callable[[date], K | None], with_close: bool = False
          ) -> dict[K, dict[str, Decimal]]:
    """Each account's net movement by the bucket of each entry's date (None: left out), in
    one pass over the journal; the closing entries left out unless ``with_close``."""
    out: dict[K, dict[str, Decimal]] = {}
    for stored in uow.journal.entries():
        entry = stored.entry
        key = bucket(entry.date)
        if key is not None and (with_close or entry.type not in CLOSING):
            net = out.setdefault(key, {})
            for ln in entry.lines:
                net[ln.account] = net.get(ln.account, ZERO) + ln.net
    return out


def page(found: Iterable[T], limit: int) -> tuple[list[T], T | None]:
    """The first ``limit`` of ``found`` (reading one more at most), and the last of them
    when more follow: what the next page starts after."""
    taken = list(islice(found, limit + 1))
    return taken[:limit], (taken[limit - 1] if len(taken) > limit else None)


def stock_report(uow: UnitOfWork) -> list[StockRow]:
    """Quantity by item and location, valued as the policy has it on the books."""
    books = books_of(uow)
    rows = []
    for (item, location), qty in sorted(uow.stock.balances().items()):
        if qty == 0:
            continue
        role = books.role(item)
        rows.append(StockRow(item, location, qty, books.valuation(item, qty),
                             books.name(role) if role else "(off the books)"))
    return rows


def variance_report(uow: UnitOfWork, window: Window = ALL) -> dict[str, Decimal]:
    """Variances measured by family (before any disposal at close) over ``window``, non-zero
    only.

    Conversion is Control − Applied plus the efficiency variance: positive is under-applied.
    """
    return family_totals(uow.master.policy(), net_movements(uow, window))


def variances_by_month(uow: UnitOfWork, months: Iterable[str]) -> dict[str, dict[str, Decimal]]:
    """:func:`variance_report` of each month (``YYYY-MM``), in one pass over the journal."""
    return {m: f.variances for m, f in figures_by_month(uow, months).items()}


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """A month's key figures from its journal (the close's entries left out): sales, cost
    of goods sold at standard, the gross margin and its share of sales, the variances
    measured and their share of cost of goods sold."""

    sales: Decimal
    cost_of_goods_sold: Decimal
    variances: dict[str, Decimal]

    @property
    def margin(self) -> Decimal:
        return self.sales - self.cost_of_goods_sold

    @property
    def variance_total(self) -> Decimal:
        return sum(self.variances.values(), ZERO)


def figures_by_month(uow: UnitOfWork, months: Iterable[str]) -> dict[str, MonthFigures]:
    """:class:`MonthFigures` of each month (``YYYY-MM``), in one pass over the journal."""
    months = list(months)
    wanted = set(months)

    def month(day: date) -> str | None:
        key = f"{day.year:04d}-{day.month:02d}"
        return key if key in wanted else None

    nets = _nets(uow, month)
    policy = uow.master.policy()
    sales, cogs = policy.name(Role.SALES), policy.name(Role.COST_OF_GOODS_SOLD)
    return {m: MonthFigures(-nets.get(m, {}).get(sales, ZERO), nets.get(m, {}).get(cogs, ZERO),
                            family_totals(policy, nets.get(m, {}))) for m in months}


def family_totals(policy: Policy, net: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Net balances by account summed by variance family, non-zero only."""
    out: dict[str, Decimal] = {}
    for family in FAMILIES:
        names = {policy.name(r) for r in FAMILY_ROLES[family]}
        total = sum((net.get(name, ZERO) for name in names), ZERO)
        if total:
            out[family] = total
    return out


def journal(uow: UnitOfWork, window: Window = ALL) -> list[tuple[int, JournalEntry]]:
    """The entries dated within ``window``, by number."""
    return [(s.seq, s.entry) for s in uow.journal.entries() if s.entry.date in window]


def verify(uow: UnitOfWork) -> list[str]:
    """Check every invariant of posting-rules §5 and the limits; an empty list when all hold."""
    ids = [stored.event.id for stored in uow.events.all()]
    problems = check_ledger(books_of(uow), (s.entry for s in uow.journal.entries()),
                            uow.stock.moves(), uow.stock.balances(), uow.stock.pending_totals(),
                            set(ids), uow.journal.balances())
    numbered = uow.events.count()
    if numbered != len(ids):
        problems.append(f"{numbered - len(ids)} of the {numbered} events numbered in the log "
                        "cannot be read whole (an event or its body is missing)")
    return problems


@dataclass(frozen=True, slots=True)
class Comparison:
    """Backflush against sequential tracking for the same events (posting-rules §6)."""

    entries: tuple[int, int]
    lines: tuple[int, int]
    balances: list[tuple[str, Decimal, Decimal]]  # account, backflush, sequential
    inventory: tuple[Decimal, Decimal] = (ZERO, ZERO)  # every inventory account, summed

    @property
    def work_in_process(self) -> Decimal:
        return sum((seq for name, _, seq in self.balances if name == "Work in Process"), ZERO)


def compare(backflush: UnitOfWork, sequential: UnitOfWork) -> Comparison:
    counts = []
    for uow in (backflush, sequential):
        entries = [s.entry for s in uow.journal.entries()]
        counts.append((len(entries), sum(len(e.lines) for e in entries)))
    b, s = dict(trial_balance(backflush)), dict(trial_balance(sequential))
    names = list(dict.fromkeys([*b, *s]))
    rows = [(n, b.get(n, ZERO), s.get(n, ZERO)) for n in names]
    stock = tuple(_inventory(uow) for uow in (backflush, sequential))
    return Comparison((counts[0][0], counts[1][0]), (counts[0][1], counts[1][1]), rows,
                      (stock[0], stock[1]))


def _inventory(uow: UnitOfWork) -> Decimal:
    policy = uow.master.policy()
    names = {policy.name(r) for r in (Role.MATERIALS, Role.FINISHED_GOODS,
                                      Role.RAW_MATERIALS, Role.WORK_IN_PROCESS)}
    return sum((b for a, b in uow.journal.balances().items() if a in names), ZERO)


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
    reversals: tuple[tuple[str, Decimal], ...] = ()  # (partial) reversals: id, qty taken back


def explain(uow: UnitOfWork, key: str) -> Explanation | None:
    """By event id, or by journal entry number (``42`` or ``#42``)."""
    view = StoreView(uow)
    stored = uow.events.get(key)
    if stored is None and key.lstrip("#").isdigit():
        entry = uow.journal.entry(int(key.lstrip("#")))
        if entry is not None and entry.entry.type == "summary":
            return Explanation(None, [(entry.seq, entry.entry)], [], [], None, entry.seq)
        if entry is not None:
            stored = uow.events.get(entry.entry.event_id)
    if stored is None:
        return None
    reversals = tuple(uow.events.reversals_of(stored.event.id))
    if stored.summary is not None:
        share = view.share(stored)
        return Explanation(stored.event, [(stored.summary, e) for e in share.entries],
                           list(share.moves), [], stored.reversed_by, stored.summary, reversals)
    entries = [(s.seq, s.entry) for s in uow.journal.entries_of(stored.event.id)]
    return Explanation(stored.event, entries, uow.stock.moves_of(stored.seq),
                       uow.stock.pending_of(stored.seq), stored.reversed_by, None, reversals)
