"""Standard cost and work-center rate changes: a new cost version, stock on hand revalued.

:func:`preview` is the same revaluation worked out without posting (what-if)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from backflush.domain.drafts import Draft, DraftMaker
from backflush.domain.errors import PostingError
from backflush.domain.events import CostChange, RateChange
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import ZERO, fmt_unit
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
    return _revalue(ctx, ctx.master.with_item(changed), ev.date,
                    f"Standard cost change of {ev.item}")


def rate_change(ctx: RuleContext, ev: RateChange) -> Draft:
    """A work center's rates: every item routed through it (and its parents) rolled up
    again, the stock revalued. The center's budget is dropped: the new rates are not the
    budget's any more (the volume variance is measured no longer)."""
    center = ctx.master.work_centers.get(ev.work_center)
    if center is None:
        raise PostingError(ev.id, f"unknown work center '{ev.work_center}'", "work_center")
    changed = replace(
        center, budget=None, budget_hours=ZERO,
        labor_rate=center.labor_rate if ev.labor_rate is None else ev.labor_rate,
        overhead_rate=center.overhead_rate if ev.overhead_rate is None else ev.overhead_rate,
        conversion_rate=center.conversion_rate if ev.rate is None else ev.rate)
    return _revalue(ctx, ctx.master.with_work_center(changed), ev.date,
                    f"Rate change of work center {ev.work_center}")


def _revalue(ctx: RuleContext, master: MasterData, when: date, title: str) -> Draft:
    costs = roll_up(master, when, ctx.costs.number + 1)
    old, new = ctx.books, Books(master, ctx.policy, costs)
    d = DraftMaker(old)
    e = d.entry("cost_change", f"{title}: cost version {costs.number}")
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
