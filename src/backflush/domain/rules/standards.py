"""Standard cost changes: a new cost version, and stock on hand revalued."""

from __future__ import annotations

from dataclasses import replace

from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import CostChange
from backflush.domain.numbers import fmt_unit
from backflush.domain.policy import Role
from backflush.domain.rollup import roll_up
from backflush.domain.rules.context import RuleContext, check_item
from backflush.domain.valuation import Books


def cost_change(ctx: RuleContext, ev: CostChange) -> Draft:
    """A purchased item's standard cost, or a made item's explicit conversion cost, from the
    event's date: the costs are rolled up again (cost version n + 1) and the stock on hand of
    every item whose value changed (parents included) is revalued against the Revaluation
    Variance."""
    check_item(ctx, ev, ev.item, stocked=False)
    item = ctx.master.items[ev.item]
    if ev.standard_cost is not None and item.made:
        raise PostingError(ev.id, f"'{ev.item}' is made: its standard cost is rolled up; "
                           "change its conversion_cost or its components", "standard_cost")
    if ev.conversion_cost is not None:
        if not item.made:
            raise PostingError(ev.id, f"'{ev.item}' is purchased: change standard_cost",
                               "conversion_cost")
        if ctx.master.routings.get(ev.item):
            raise PostingError(ev.id, f"'{ev.item}' is costed by its routing; change the work "
                               "center rates instead", "conversion_cost")
    changed = replace(item, standard_cost=ev.standard_cost) if ev.standard_cost is not None \
        else replace(item, conversion_cost=ev.conversion_cost)
    master = ctx.master.with_item(changed)
    costs = roll_up(master, ev.date, ctx.costs.number + 1)
    old, new = ctx.books, Books(master, ctx.policy, costs)
    d = DraftMaker(old)
    e = d.entry("cost_change", f"Standard cost change of {ev.item}: cost version "
                f"{costs.number}")
    e.balance(Role.REVALUATION_VARIANCE, "revaluation of stock on hand")
    for code, qty in sorted(ctx.view.stock_totals().items()):
        role = old.role(code)
        if role is None or qty == 0:
            continue
        delta = new.valuation(code, qty) - old.valuation(code, qty)
        e.add_money(role, delta, f"{code} revalued", item=code, qty=qty,
                    basis=f"{fmt_unit(old.unit_value(code))} -> {fmt_unit(new.unit_value(code))}")
    for code, qty in sorted(ctx.view.pending_totals().items()):
        delta = -(new.valuation(code, qty) - old.valuation(code, qty))
        e.add_money(Role.PENDING_BACKFLUSH, delta, f"{code} pending revalued")
    return d.draft(new_cost_version=costs, new_master=master)
