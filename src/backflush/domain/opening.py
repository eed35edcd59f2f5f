"""Opening balances: stock brought forward and general-ledger balances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from backflush.domain.errors import Problem, ValidationError
from backflush.domain.events import Event
from backflush.domain.journal import Posting, StockMove
from backflush.domain.numbers import ZERO, fmt
from backflush.domain.policy import Role
from backflush.domain.posting import Context, EntryBuilder


@dataclass(frozen=True, slots=True)
class OpeningStock:
    item: str
    qty: Decimal
    location: str = "stores"


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening(Event):
    """Balances brought forward. Stock is valued at standard on the policy's accounts."""

    stock: tuple[OpeningStock, ...] = ()
    balances: Mapping[str, Decimal] = field(default_factory=dict)
    type = "opening"


def post_opening(ctx: Context, ev: Opening) -> Posting:
    """Opening stock at standard; given balances must agree with that stock's valuation.

    When the balances do not name an inventory account that the stock puts value in, that
    value is booked against Opening Balance Equity.
    """
    problems: list[Problem] = []
    eb = EntryBuilder(ctx, ev, "Opening balances")
    books = ctx.books
    valuation: dict[Role, Decimal] = {}
    totals: dict[str, Decimal] = {}
    for i, row in enumerate(ev.stock):
        entry = f"opening.stock[{i}]"
        item = ctx.master.items.get(row.item)
        if item is None:
            problems.append(Problem(entry, "item", f"unknown item '{row.item}'"))
            continue
        if item.phantom:
            problems.append(Problem(entry, "item", f"'{row.item}' is a phantom, never stocked"))
            continue
        if row.qty < 0:
            problems.append(Problem(entry, "qty", "must not be negative"))
        totals[row.item] = totals.get(row.item, ZERO) + row.qty
    for code, qty in totals.items():
        role = books.role(code)
        if role is not None:
            valuation[role] = valuation.get(role, ZERO) + books.valuation(code, qty)
    given = dict(ev.balances)
    net = sum(given.values(), ZERO)
    if net != 0:
        problems.append(Problem("opening.balances", None,
                                f"the balances do not balance: they add up to {net}"))
    by_name: dict[str, Decimal] = {}
    for role, value in valuation.items():
        by_name[ctx.name(role)] = by_name.get(ctx.name(role), ZERO) + value
    for name, value in by_name.items():
        if name in given and given[name] != value:
            problems.append(Problem("opening.balances", name,
                                    f"{fmt(given[name], ctx.policy.minor_unit)} does not equal "
                                    f"the opening stock at standard, "
                                    f"{fmt(value, ctx.policy.minor_unit)}"))
    if problems:
        raise ValidationError(problems)
    moves = tuple(StockMove(r.item, r.location, r.qty, "opening") for r in ev.stock if r.qty)
    role_of = {ctx.name(r): r for r in reversed(Role)}
    for name, amount in given.items():
        eb.add(role_of.get(name), amount, "brought forward", account=name)
    for name, value in by_name.items():
        if name not in given:
            eb.add(role_of.get(name), value, "opening stock at standard", account=name)
            eb.add(Role.OPENING_EQUITY, -value, "opening stock at standard")
    built = eb.build()
    return Posting((built,) if built else (), moves)
