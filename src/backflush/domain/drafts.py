"""Drafts: what a posting rule says an event does, before stock is valued.

A rule (:mod:`backflush.domain.rules`) turns an event into a :class:`Draft`: entries made of
:class:`Amount` s (money, each rounded once when the rule adds it) and the stock
:class:`Move` s the event makes, each naming the entry that carries its value. Then one
function, :func:`settle`, values every move against the stock on hand (the valuation rule of
:mod:`.valuation`), balances each entry with a rounding line, checks it, and gives the
:class:`~backflush.domain.journal.Posting`.

A draft does not depend on the event's id or on the stock on hand (except where a rule reads
a pending queue), so events of the same shape have the same draft, and a summary entry is the
sum of the drafts of a day's events, settled once (:mod:`.summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from backflush.domain.costs import CostVersion
from backflush.domain.errors import PostingError
from backflush.domain.journal import (
    Alert,
    Derivation,
    Finding,
    JournalEntry,
    JournalLine,
    PendingChange,
    Posting,
    StockMove,
)
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import MONEY, ZERO, fmt_qty, fmt_unit, is_money, round_money
from backflush.domain.policy import Role
from backflush.domain.valuation import Books, change_at


@dataclass(frozen=True, slots=True)
class Amount:
    """One contribution to an entry line: money, debit positive."""

    role: Role | None
    account: str
    value: Decimal
    memo: str = ""
    family: str | None = None
    # The derivation it explains itself with ("" basis: none).
    item: str = ""
    qty: Decimal = ZERO
    basis: str = ""
    bom: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class Move:
    """A stock movement and where its value goes: ``entry`` (an index into the draft's
    entries; -1: no entry, its value change nets to zero within the event), with the line's
    memo and the derivation's basis ("": "qty x unit value")."""

    item: str
    location: str
    qty: Decimal
    kind: str
    entry: int = 0
    memo: str = ""
    basis: str | None = ""  # None: a summary's net move, explained by its on-hand before/after
    bom: str = ""
    parent: str = ""

    @property
    def stock_move(self) -> StockMove:
        return StockMove(self.item, self.location, self.qty, self.kind, self.parent)


@dataclass(frozen=True, slots=True)
class Park:
    """Short issues parked (qty > 0) or cleared (qty < 0), valued into ``entry``."""

    item: str
    location: str
    qty: Decimal
    source: str
    entry: int = 0


@dataclass(frozen=True, slots=True)
class DraftEntry:
    """An entry's amounts. What the amounts and the stock lines leave unbalanced goes to
    ``balance_to`` (rounding differences, unless the rule says the residual *is* a variance,
    as a count's usage variance is the counted stock's value), and, when ``carry_to`` names a
    later entry of the same event, the opposite of it goes there (sequential tracking's WIP).
    """

    type: str
    description: str
    amounts: tuple[Amount, ...] = ()
    bom: str = ""
    date: date | None = None  # None: the event's date
    cogs_material: Decimal = ZERO
    cogs_conversion: Decimal = ZERO
    balance_to: Role = Role.ROUNDING
    balance_memo: str = "rounding difference"
    carry_to: int | None = None
    carry_memo: str = ""


@dataclass(frozen=True, slots=True)
class Draft:
    entries: tuple[DraftEntry, ...] = ()
    moves: tuple[Move, ...] = ()
    parks: tuple[Park, ...] = ()
    alerts: tuple[tuple[str, str], ...] = ()  # code, message
    findings: tuple[Finding, ...] = ()
    locks_through: date | None = None
    new_cost_version: CostVersion | None = None
    new_master: MasterData | None = None
    reopens: str | None = None  # the period a reopen unlocks


ROUNDING_MEMO = "rounding difference"


class EntryMaker:
    """Collects an entry's amounts; each is rounded to the currency's minor unit as added."""

    def __init__(self, books: Books, type_: str, description: str, *, bom: str = "",
                 when: date | None = None) -> None:
        self.books = books
        self.type, self.description, self.bom, self.date = type_, description, bom, when
        self.amounts: list[Amount] = []
        self.cogs_material = self.cogs_conversion = ZERO
        self.balance_to, self.balance_memo = Role.ROUNDING, ROUNDING_MEMO
        self.carry_to: EntryMaker | None = None
        self.carry_memo = ""

    def balance(self, role: Role, memo: str) -> None:
        """What is left unbalanced is a ``role`` amount (a variance), not a rounding."""
        self.balance_to, self.balance_memo = role, memo

    def carry(self, role: Role, memo: str, to: EntryMaker, carry_memo: str) -> None:
        """Balance with a ``role`` line, and post its opposite in entry ``to``."""
        self.balance(role, memo)
        self.carry_to, self.carry_memo = to, carry_memo

    def add(self, role: Role | None, amount: Decimal, memo: str = "", *,
            account: str | None = None, family: str | None = None, item: str = "",
            qty: Decimal = ZERO, basis: str = "", bom: str = "", location: str = ""
            ) -> Decimal:
        """Add ``amount`` rounded to money (half-up); returns what was added."""
        value = round_money(amount, self.books.policy.minor_unit)
        if value:
            name = account if account is not None else self.books.name(role) if role else "?"
            self.amounts.append(Amount(role, name, value, memo, family, item, qty, basis, bom,
                                       location))
        return value

    @property
    def residual(self) -> Decimal:
        return sum((a.value for a in self.amounts), ZERO)

    def add_money(self, role: Role | None, value: Decimal, memo: str = "", **more: Any
                  ) -> Decimal:
        """Add an amount that is money already (a difference of rounded valuations)."""
        return self.add(role, value, memo, **more)

    def draft(self, carry_to: int | None = None) -> DraftEntry:
        return DraftEntry(self.type, self.description, tuple(self.amounts), self.bom,
                          self.date, self.cogs_material, self.cogs_conversion,
                          self.balance_to, self.balance_memo, carry_to, self.carry_memo)


def build_entry(books: Books, event_id: str, day: date, draft: DraftEntry,
                stock_amounts: Sequence[Amount] = ()) -> tuple[JournalEntry | None, Decimal]:
    """The one entry builder: group the amounts by account, balance what is left with a
    line to ``draft.balance_to`` (a rounding difference unless the rule says otherwise: each
    amount was rounded on its own), and check the entry: balanced, every line money of the
    currency, within the money limit. Returns the entry (None when nothing is left to post)
    and the balancing amount."""
    minor = books.policy.minor_unit
    amounts: dict[tuple[str, Role | None, str | None], Decimal] = {}
    memos: dict[tuple[str, Role | None, str | None], list[str]] = {}
    derivations: list[Derivation] = []
    for a in (*draft.amounts, *stock_amounts):
        key = (a.account, a.role, a.family)
        amounts[key] = amounts.get(key, ZERO) + a.value
        if a.memo:
            memos.setdefault(key, []).append(a.memo)
        if a.basis:
            derivations.append(Derivation(a.item, a.qty, a.basis, a.value, a.account, a.bom,
                                          a.location))
    residual = sum(amounts.values(), ZERO)
    if residual:
        key = (books.name(draft.balance_to), draft.balance_to, None)
        amounts[key] = amounts.get(key, ZERO) - residual
        memos.setdefault(key, []).append(draft.balance_memo)
    lines: list[JournalLine] = []
    for (name, role, family), value in amounts.items():
        if value == 0:
            continue
        found = memos.get((name, role, family), [])
        memo = found[0] if len(found) == 1 else "; ".join(dict.fromkeys(found))
        if not is_money(value, minor) or MONEY.problem(value) is not None:
            raise PostingError(event_id, f"{name}: {fmt_unit(value)} cannot be posted (beyond the "
                               "money limit of 15 digits, or not in the currency's minor "
                               "unit)", "qty")
        if value > 0:
            lines.append(JournalLine(name, value, ZERO, role, memo, family))
        else:
            lines.append(JournalLine(name, ZERO, -value, role, memo, family))
    if not lines:
        return None, -residual
    lines.sort(key=lambda ln: ln.debit == 0)  # debits first, each side in order of first use
    entry = JournalEntry(event_id, draft.date or day, draft.type, draft.description,
                         tuple(lines), tuple(derivations), books.costs.number, draft.bom,
                         draft.cogs_material, draft.cogs_conversion)
    if not entry.balanced:  # by construction it is; the check cannot be skipped
        raise AssertionError(f"entry of {event_id} does not balance")
    return entry, -residual


def settle(books: Books, draft: Draft, event_id: str, day: date,
           on_hand: Callable[[str], Decimal], parked: Callable[[str], Decimal],
           *, detail: bool = True) -> Posting:
    """Value the draft's moves and parked issues against the stock on hand before it
    (``on_hand``: an item's total, every location; ``parked``: its parked quantity), build
    and check every entry, and give the posting.

    Each move posts round(new × v) − round(old × v) to the account that holds its item
    (:mod:`.valuation`); parked issues post the negative of that to the clearing account.
    """
    minor = books.policy.minor_unit
    stock: dict[str, Decimal] = {}
    pending: dict[str, Decimal] = {}
    extra: list[list[Amount]] = [[] for _ in draft.entries]
    net: dict[tuple[str, int], Decimal] = {}  # a summary's moves: valued by item, once
    for m in draft.moves:
        if m.basis is None:
            key = (m.item, m.entry)
            net[key] = net.get(key, ZERO) + m.qty
            continue
        old = stock[m.item] if m.item in stock else on_hand(m.item)
        new = stock[m.item] = old + m.qty
        held = books.held(m.item)
        if held is None or m.entry < 0:
            continue
        role, unit = held
        amount = change_at(unit, minor, old, new)
        if amount:
            basis = ""
            if detail:
                shown = fmt_unit(unit)
                basis = f"{m.basis} at {shown}" if m.basis else f"{fmt_qty(m.qty)} x {shown}"
            extra[m.entry].append(Amount(role, books.name(role), amount, m.memo, None, m.item,
                                         m.qty, basis, m.bom, m.location))
    for (item, target), qty in net.items():
        old = stock[item] if item in stock else on_hand(item)
        new = stock[item] = old + qty
        held = books.held(item)
        if held is None or target < 0:
            continue
        role, unit = held
        amount = change_at(unit, minor, old, new)
        if amount:
            extra[target].append(Amount(role, books.name(role), amount, "summary", None, item,
                                       qty, f"on hand {fmt_qty(old)} -> {fmt_qty(new)} at "
                                       f"{fmt_unit(unit)}"))
    for p in draft.parks:
        old = pending[p.item] if p.item in pending else parked(p.item)
        new = pending[p.item] = old + p.qty
        held = books.held(p.item)
        if held is None:
            continue
        amount = -change_at(held[1], minor, old, new)
        if amount:
            what = "parked" if p.qty > 0 else "cleared"
            extra[p.entry].append(Amount(
                Role.PENDING_BACKFLUSH, books.name(Role.PENDING_BACKFLUSH), amount,
                f"{p.item} short issue {what}", None, p.item, p.qty,
                f"pending {what} for {p.source}" if detail else "", "", p.location))
    entries = []
    for draft_entry, stock_amounts in zip(draft.entries, extra, strict=True):
        entry, balanced = build_entry(books, event_id, day, draft_entry, stock_amounts)
        if entry is not None:
            entries.append(entry)
        if draft_entry.carry_to is not None and balanced:
            role = draft_entry.balance_to
            extra[draft_entry.carry_to].append(Amount(role, books.name(role), -balanced,
                                                      draft_entry.carry_memo))
    return Posting(tuple(entries), tuple(m.stock_move for m in draft.moves),
                   tuple(PendingChange(p.item, p.location, p.qty, p.source)
                         for p in draft.parks),
                   tuple(Alert(event_id, code, message) for code, message in draft.alerts),
                   draft.findings, draft.locks_through, draft.new_cost_version,
                   draft.new_master, books.costs.number, draft.reopens)


@dataclass
class DraftMaker:
    """A rule's working state for one event: its entries, moves, parks and alerts."""

    books: Books
    entries: list[EntryMaker] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    parks: list[Park] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)

    def entry(self, type_: str, description: str, *, bom: str = "",
              when: date | None = None) -> EntryMaker:
        maker = EntryMaker(self.books, type_, description, bom=bom, when=when)
        self.entries.append(maker)
        return maker

    def index(self, maker: EntryMaker | None) -> int:
        return -1 if maker is None else self.entries.index(maker)

    def move(self, item: str, location: str, qty: Decimal, kind: str,
             entry: EntryMaker | None, memo: str = "", basis: str | None = "",
             bom: str = "") -> None:
        self.moves.append(Move(item, location, qty, kind, self.index(entry), memo, basis, bom))

    def park(self, item: str, location: str, qty: Decimal, source: str,
             entry: EntryMaker) -> None:
        self.parks.append(Park(item, location, qty, source, self.index(entry)))

    def alert(self, code: str, message: str) -> None:
        self.alerts.append((code, message))

    def draft(self, **extra: Any) -> Draft:
        entries = tuple(e.draft(None if e.carry_to is None else self.index(e.carry_to))
                        for e in self.entries)
        return Draft(entries, tuple(self.moves), tuple(self.parks), tuple(self.alerts),
                     **extra)
