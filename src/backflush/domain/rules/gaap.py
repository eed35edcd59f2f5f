"""The GAAP bridge (posting-rules §4.3): what a close adds, when asked, to bring the backflush
books to external-reporting rules on the balance sheet date. It is posted dated the period's
last day and reversed, line for line, on the first day of the next period, so the books go on
at standard as before while the period's end shows GAAP figures.

Three parts, each line naming the item it is for:

1. **Full absorption.** Every item in stock at the period's end is carried at its full
   standard (material + conversion), whatever the policy keeps on the books. The difference
   from the book value goes to *GAAP Adjustment* accounts beside Raw and In-Process and
   Finished Goods (never into those accounts: they keep equalling the stock subledger). The
   material part of stock the policy keeps off the books (``{C,D}``, ``{D}``: parts received
   but not yet consumed) is credited to Accounts Payable, which that policy credits only on
   consumption; the conversion part to where the policy expensed it (cost of goods sold, or
   Conversion Costs Expensed under ``conversion: expensed``).
2. **Material variances** the close wrote off, or keeps open, are prorated as GAAP asks:
   over ending stock and this period's cost of goods sold in proportion to their standard
   material content, at full absorption (stock off the books included). Usage and scrap
   variances never go onto purchased parts in stores, only onto made items and cost of
   goods sold. The inventory shares go to the *capitalized variances* accounts; prorated
   variances (``disposition: prorate``) are already there and are left as they are.
3. **Lower of cost and net realisable value.** Where the close gives an NRV per unit for an
   item below its carrying amount (full standard plus its share of the variances capitalized
   beside its account), the stock is written down to it: Dr Cost of Goods Sold, Cr the NRV
   allowance (a contra-inventory account).

Stock is as of the period's end; issues still pending are valued as the books value them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from backflush.domain.drafts import DraftMaker, EntryMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import Close
from backflush.domain.numbers import (
    ZERO,
    add,
    divide_to_unit,
    fmt,
    fmt_qty,
    largest_remainder,
    mul,
    round_money,
)
from backflush.domain.policy import (
    FAMILY_ROLES,
    MADE_ONLY,
    MATERIAL_FAMILIES,
    ConversionMode,
    Disposition,
    Role,
)
from backflush.domain.rules.context import RuleContext
from backflush.domain.valuation import value_of

ADJUSTMENT = {True: Role.FINISHED_GOODS_GAAP_ADJUSTMENT, False: Role.MATERIALS_GAAP_ADJUSTMENT}
CAPITALIZED = {True: Role.FINISHED_GOODS_CAPITALIZED_VARIANCES,
               False: Role.MATERIALS_CAPITALIZED_VARIANCES}
BRIDGE, REVERSAL = "gaap_bridge", "gaap_bridge_reversal"


def post_bridge(ctx: RuleContext, d: DraftMaker, ev: Close, start: date, end: date,
                written_off: Mapping[str, Decimal]) -> None:
    """Add the bridge and its reversal to the close's draft. ``written_off``: what the close
    wrote off to cost of goods sold, by material family."""
    for item, _ in ev.nrv:
        if item not in ctx.books.master.items:
            raise PostingError(ev.id, f"unknown item '{item}'", "nrv")
    stock = {code: qty for code, qty in ctx.view.stock_totals(end).items()
             if qty and code in ctx.books.master.items
             and not ctx.books.master.items[code].phantom}
    e = d.entry(BRIDGE, f"GAAP bridge at {end.isoformat()} (reversed on "
                f"{(end + timedelta(days=1)).isoformat()})", when=end)
    _absorb(ctx, e, stock)
    _variances(ctx, e, start, end, stock, written_off)
    _nrv(ctx, e, ev, stock, end)
    r = d.entry(REVERSAL, f"Reversal of the GAAP bridge at {end.isoformat()}",
                when=end + timedelta(days=1))
    for a in e.amounts:
        r.add_money(a.role, -a.value, f"reversed: {a.memo}", account=a.account,
                    family=a.family, item=a.item)


def _full(ctx: RuleContext, code: str) -> tuple[Decimal, Decimal]:
    std = ctx.books.costs[code]
    return std.material, std.conversion


def _finished(ctx: RuleContext, code: str) -> bool:
    """Held beside Finished Goods at GAAP: finished items on the FG account or off the books."""
    role = ctx.books.role(code)
    if role is not None:
        return role is Role.FINISHED_GOODS
    return ctx.books.master.items[code].made and ctx.books.master.is_finished(code)


def _absorb(ctx: RuleContext, e: EntryMaker, stock: Mapping[str, Decimal]) -> None:
    minor = ctx.policy.minor_unit
    expensed = (Role.CONVERSION_EXPENSE if ctx.policy.conversion is ConversionMode.EXPENSED
                else Role.COST_OF_GOODS_SOLD)
    for code, qty in sorted(stock.items()):
        material, conversion = _full(ctx, code)
        gaap = value_of(add(material, conversion), minor, qty)
        book = ctx.books.valuation(code, qty)
        if gaap == book:
            continue
        off_books = ctx.books.role(code) is None
        material_part = value_of(material, minor, qty) if off_books else ZERO
        e.add_money(ADJUSTMENT[_finished(ctx, code)], gaap - book,
                    f"{code} {fmt_qty(qty)} at full standard", item=code, qty=qty)
        if material_part:
            e.add_money(ctx.policy.unbooked_materials_role, -material_part,
                        f"{code} received, not yet on the books", item=code, qty=qty)
        if gaap - book - material_part:
            e.add_money(expensed, -(gaap - book - material_part),
                        f"conversion in {code} {fmt_qty(qty)} absorbed", item=code, qty=qty)


def _variances(ctx: RuleContext, e: EntryMaker, start: date, end: date,
               stock: Mapping[str, Decimal], written_off: Mapping[str, Decimal]) -> None:
    policy = ctx.policy
    minor = policy.minor_unit
    cogs_material, _ = ctx.view.cogs_content(start, end)
    claimed = {policy.name(r) for r in FAMILY_ROLES["conversion"]}  # as the close does
    for family in MATERIAL_FAMILIES:
        disposition = policy.disposition[family]
        role = FAMILY_ROLES[family][0]
        first = policy.name(role) not in claimed
        claimed.add(policy.name(role))
        if disposition is Disposition.PRORATE:
            continue
        if disposition is Disposition.KEEP:
            if not first:
                continue  # an account an earlier family shares: disposed of with it
            pool = ctx.view.balance(policy.name(role), end)
        else:
            pool = written_off.get(family, ZERO)
        if not pool:
            continue
        held = {True: ZERO, False: ZERO}
        for code, qty in stock.items():
            if qty <= 0 or (family in MADE_ONLY and not ctx.books.master.items[code].made):
                continue
            held[_finished(ctx, code)] += value_of(_full(ctx, code)[0], minor, qty)
        weights = [held[False], held[True], max(cogs_material, ZERO)]
        if sum(weights, ZERO) <= 0:
            continue
        parts = largest_remainder(pool, weights, minor)
        for finished, part in ((False, parts[0]), (True, parts[1])):
            e.add_money(CAPITALIZED[finished], part, f"{family} variance: the share of "
                        "ending stock", family=family)
        if disposition is Disposition.KEEP:
            e.add_money(role, -pool, f"{family} variance kept open, prorated")
            e.add_money(Role.COST_OF_GOODS_SOLD, parts[2], f"{family} variance: the share "
                        "of cost of goods sold")
        else:
            e.add_money(Role.COST_OF_GOODS_SOLD, -(parts[0] + parts[1]),
                        f"{family} variance written off: the share of ending stock")


def _nrv(ctx: RuleContext, e: EntryMaker, ev: Close, stock: Mapping[str, Decimal],
         end: date) -> None:
    """Cost is the item's carrying amount at GAAP: its full standard plus its share of the
    variances capitalized beside its account (this bridge's and earlier closes'), shared
    over the account's items by standard content."""
    minor = ctx.policy.minor_unit
    shares = _capitalized_shares(ctx, e, stock, end)
    for code, nrv in ev.nrv:
        qty = stock.get(code, ZERO)
        if qty <= 0:
            continue
        material, conversion = _full(ctx, code)
        cost = value_of(add(material, conversion), minor, qty) + shares.get(code, ZERO)
        down = round_money(cost - value_of(nrv, minor, qty), minor)
        if down > 0:
            memo = (f"{code} {fmt_qty(qty)} written down from {fmt(cost, minor)} to NRV "
                    f"{fmt_qty(nrv)} each")
            e.add_money(Role.COST_OF_GOODS_SOLD, down, memo, item=code, qty=qty)
            e.add_money(Role.NRV_ALLOWANCE, -down, memo, item=code, qty=qty)


def _capitalized_shares(ctx: RuleContext, e: EntryMaker, stock: Mapping[str, Decimal],
                        end: date) -> dict[str, Decimal]:
    """Each item's share (not rounded) of the capitalized variances beside its account."""
    minor = ctx.policy.minor_unit
    out: dict[str, Decimal] = {}
    for finished, role in CAPITALIZED.items():
        name = ctx.policy.name(role)
        total = ctx.view.balance(name, end) + sum(
            (a.value for a in e.amounts if a.account == name), ZERO)
        weights = {code: value_of(add(*_full(ctx, code)), minor, qty)
                   for code, qty in stock.items() if qty > 0 and _finished(ctx, code) == finished}
        weight = sum(weights.values(), ZERO)
        if not total or weight <= 0:
            continue
        for code, w in weights.items():
            out[code] = out.get(code, ZERO) + divide_to_unit(mul(total, w), weight)
    return out
