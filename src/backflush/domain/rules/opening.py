"""Opening balances: stock brought forward and general-ledger balances."""

from __future__ import annotations

from decimal import Decimal

from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import Problem, ValidationError
from backflush.domain.events import Opening
from backflush.domain.numbers import ZERO, fmt, is_money
from backflush.domain.policy import Method, Role
from backflush.domain.rules.context import RuleContext


def opening(ctx: RuleContext, ev: Opening) -> Draft:
    """Opening stock at standard on the policy's accounts; the given balances must balance,
    and one that names an account the stock puts value in must equal that value. When the
    balances do not name it, the stock's value is booked against Opening Balance Equity."""
    problems: list[Problem] = []
    books = ctx.books
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
        totals[row.item] = totals.get(row.item, ZERO) + row.qty
    valuation: dict[str, Decimal] = {}  # account name -> value of the stock in it
    for code, qty in totals.items():
        role = books.role(code)
        if role is not None:
            name = ctx.name(role)
            valuation[name] = valuation.get(name, ZERO) + books.valuation(code, qty)
    given = dict(ev.balances)
    if ctx.policy.method is Method.SEQUENTIAL:
        # Backflush keeps parts in Raw and In-Process Inventory; sequential tracking keeps
        # the same parts in Materials Inventory (there is no opening work in process).
        rip, raw = ctx.name(Role.MATERIALS), ctx.name(Role.RAW_MATERIALS)
        if rip in given and raw not in given and rip not in valuation:
            given[raw] = given.pop(rip)
    net = sum(given.values(), ZERO)
    minor = ctx.policy.minor_unit
    for name, amount in given.items():
        if not is_money(amount, minor):
            problems.append(Problem("opening.balances", name, f"{amount} is not an amount "
                                    f"in the currency's minor unit ({minor} decimals)"))
    if net != 0:
        problems.append(Problem("opening.balances", None,
                                f"the balances do not balance: they add up to {net}"))
    for name, value in valuation.items():
        if name in given and given[name] != value:
            problems.append(Problem("opening.balances", name,
                                    f"{fmt(given[name], minor)} does not equal the opening "
                                    f"stock at standard, {fmt(value, minor)}"))
    for name in given:
        if name in (ctx.name(r) for r in (Role.MATERIALS, Role.FINISHED_GOODS,
                                          Role.RAW_MATERIALS)) and name not in valuation \
                and given[name]:
            problems.append(Problem("opening.balances", name,
                                    f"{fmt(given[name], minor)} of inventory with no opening "
                                    "stock behind it"))
    if problems:
        raise ValidationError(problems)
    d = DraftMaker(books)
    e = d.entry("opening", "Opening balances")
    role_of = {ctx.name(r): r for r in reversed(Role)}
    for name, amount in given.items():
        if name not in valuation:  # inventory comes in through the stock moves
            e.add(role_of.get(name), amount, "brought forward", account=name)
    for name, value in valuation.items():
        if name not in given:
            e.add_money(Role.OPENING_EQUITY, -value, "opening stock at standard")
    for row in ev.stock:
        if row.qty:
            d.move(row.item, row.location, row.qty, "opening", e, "opening stock at standard")
    return d.draft()
