"""What posting writes: journal entries with their audit trail, stock moves, parked issues,
alerts and findings. Immutable records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from backflush.domain.costs import CostVersion
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ZERO, fmt_qty
from backflush.domain.policy import Role


@dataclass(frozen=True, slots=True)
class JournalLine:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    role: Role | None = None
    memo: str = ""
    family: str | None = None  # capitalized-variance lines carry their variance family

    @property
    def net(self) -> Decimal:
        """Debit positive."""
        return self.debit - self.credit


@dataclass(frozen=True, slots=True)
class Derivation:
    """How one amount of an entry was derived (the audit trail of posting-rules §5)."""

    item: str
    qty: Decimal
    basis: str  # e.g. "standard 5.00 x 9800", "1 per (STOOL@v1) x 9800 at 5.00"
    amount: Decimal
    account: str
    bom: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    event_id: str
    date: date
    type: str
    description: str
    lines: tuple[JournalLine, ...]
    derivations: tuple[Derivation, ...] = ()
    cost_version: int = 0
    bom: str = ""
    # Standard content relieved to cost of goods sold by this entry (basis for proration).
    cogs_material: Decimal = ZERO
    cogs_conversion: Decimal = ZERO

    @property
    def total_debit(self) -> Decimal:
        return sum((ln.debit for ln in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((ln.credit for ln in self.lines), ZERO)

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


@dataclass(frozen=True, slots=True)
class StockMove:
    item: str
    location: str
    qty: Decimal  # signed: + adds to stock
    kind: str  # opening, receipt, completion, backflush, sale, scrap, count, transfer, reversal
    parent: str = ""  # summary moves: the item a backflush was for (per event: the event's)


@dataclass(frozen=True, slots=True)
class PendingChange:
    """Short component issues parked (qty > 0) or cleared (qty < 0) under ``queue``."""

    item: str
    location: str
    qty: Decimal
    source: str  # the completion whose backflush was short


def queue_after(queue: tuple[tuple[str, Decimal], ...] | list[tuple[str, Decimal]],
                change: PendingChange) -> list[tuple[str, Decimal]]:
    """A location's pending queue (source, qty), oldest first, after ``change``."""
    if change.qty > 0:
        return [*queue, (change.source, change.qty)]
    left = -change.qty
    out = []
    for src, qty in queue:
        if src == change.source and left > 0:
            take = min(qty, left)
            qty -= take
            left -= take
        if qty > 0:
            out.append((src, qty))
    return out


@dataclass(frozen=True, slots=True)
class Alert:
    event_id: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A BOM line a count suggests is wrong."""

    event_id: str
    parent: str
    component: str
    bom: str
    bom_qty: Decimal
    suggested_qty: Decimal
    backflushed: Decimal
    difference: Decimal

    @property
    def message(self) -> str:
        direction = "understated" if self.difference < 0 else "overstated"
        return (f"BOM line {self.parent} -> {self.component} ({self.bom}) looks {direction}: "
                f"count differs by {fmt_qty(self.difference)} on {fmt_qty(self.backflushed)} "
                f"backflushed; qty per {fmt_qty(self.bom_qty)} would be about "
                f"{fmt_qty(self.suggested_qty)}")


@dataclass(frozen=True, slots=True)
class Posting:
    """Everything one event (or one summarised day) does to the ledger, applied atomically."""

    entries: tuple[JournalEntry, ...] = ()
    moves: tuple[StockMove, ...] = ()
    pending: tuple[PendingChange, ...] = ()
    alerts: tuple[Alert, ...] = ()
    findings: tuple[Finding, ...] = ()
    locks_through: date | None = None
    new_cost_version: CostVersion | None = None
    new_master: MasterData | None = None  # master data after a cost change
    cost_version: int = 0  # the cost version in force when the event was posted
    reopens: str | None = None  # the period a reopen unlocks
