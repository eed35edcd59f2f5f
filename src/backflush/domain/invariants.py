"""The invariants of posting-rules §5, and the limits of :mod:`.numbers`, checked against a
ledger's contents (what ``backflush verify`` runs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, localcontext

from backflush.domain.journal import JournalEntry, StockMove
from backflush.domain.numbers import EXACT, MONEY, STOCK, ZERO, fmt, fmt_qty, is_money
from backflush.domain.policy import Role
from backflush.domain.valuation import Books


def check_ledger(books: Books, entries: Iterable[JournalEntry], moves: Iterable[StockMove],
                 stock: Mapping[tuple[str, str], Decimal], pending: Mapping[str, Decimal],
                 event_ids: set[str], stored_balances: Mapping[str, Decimal] | None = None
                 ) -> list[str]:
    """Every invariant that fails, as a sentence; an empty list when the ledger is sound."""
    with localcontext(EXACT):
        return _check(books, entries, moves, stock, pending, event_ids, stored_balances)


def _check(books: Books, entries: Iterable[JournalEntry], moves: Iterable[StockMove],
           stock: Mapping[tuple[str, str], Decimal], pending: Mapping[str, Decimal],
           event_ids: set[str], stored_balances: Mapping[str, Decimal] | None) -> list[str]:
    problems: list[str] = []
    minor = books.policy.minor_unit
    balances: dict[str, Decimal] = {}
    for entry in entries:
        if not entry.balanced:
            problems.append(f"entry of {entry.event_id} ({entry.type}) does not balance: "
                            f"debits {fmt(entry.total_debit, minor)}, credits "
                            f"{fmt(entry.total_credit, minor)}")
        if entry.type != "summary" and entry.event_id not in event_ids:
            problems.append(f"entry of {entry.event_id} ({entry.type}) has no source event")
        for line in entry.lines:
            for value in (line.debit, line.credit):
                if not is_money(value, minor) or MONEY.problem(value) is not None:
                    problems.append(f"entry of {entry.event_id}: {line.account} {value} is "
                                    "not money of the ledger's currency within its limits")
            balances[line.account] = balances.get(line.account, ZERO) + line.net
    for name, value in balances.items():
        if MONEY.problem(value) is not None:
            problems.append(f"{name}: balance {value} is beyond the money limit")
    # The account balances kept for speed equal the sum of the journal lines.
    if stored_balances is not None:
        for name in sorted(set(balances) | set(stored_balances)):
            kept, summed = stored_balances.get(name, ZERO), balances.get(name, ZERO)
            if kept != summed:
                problems.append(f"{name}: balance kept {fmt(kept, minor)} but the journal "
                                f"lines add up to {fmt(summed, minor)}")
    # Quantities: the stock balances equal the sum of every movement.
    moved: dict[tuple[str, str], Decimal] = {}
    for m in moves:
        moved[(m.item, m.location)] = moved.get((m.item, m.location), ZERO) + m.qty
    for key in sorted(set(moved) | set(stock)):
        if moved.get(key, ZERO) != stock.get(key, ZERO):
            problems.append(f"quantity of {key[0]} at {key[1]}: movements add up to "
                            f"{fmt_qty(moved.get(key, ZERO))}, stock says "
                            f"{fmt_qty(stock.get(key, ZERO))}")
        if STOCK.problem(stock.get(key, ZERO)) is not None:
            problems.append(f"quantity of {key[0]} at {key[1]}: "
                            f"{STOCK.problem(stock.get(key, ZERO))}")
    # Values: each inventory account equals the subledger's valuation at standard.
    expected: dict[str, Decimal] = {}
    totals: dict[str, Decimal] = {}
    for (item, _), qty in stock.items():
        totals[item] = totals.get(item, ZERO) + qty
    for item, qty in totals.items():
        if item not in books.master.items:
            problems.append(f"stock of {item}, which is not an item of the master data")
            continue
        role = books.role(item)
        if role is not None:
            name = books.name(role)
            expected[name] = expected.get(name, ZERO) + books.valuation(item, qty)
    for item, qty in pending.items():
        if item in books.master.items:
            name = books.name(Role.PENDING_BACKFLUSH)
            expected[name] = expected.get(name, ZERO) - books.valuation(item, qty)
    for role in (books.policy.materials_role, Role.FINISHED_GOODS, Role.PENDING_BACKFLUSH):
        expected.setdefault(books.name(role), ZERO)
    for name in sorted(expected):
        if balances.get(name, ZERO) != expected[name]:
            problems.append(f"{name}: GL balance {fmt(balances.get(name, ZERO), minor)} but "
                            f"the stock subledger values it at {fmt(expected[name], minor)}")
    return problems
