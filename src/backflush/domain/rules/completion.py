"""Completions: the backflush itself (posting-rules §2 and §3).

A completion of good (and scrapped) units of a made item relieves its components one level
down, exploding through phantoms, at qty per × (1 + scrap), from the completion's location;
the made item goes into stock at its standard. With the completion trigger it applies the
item's own conversion (at actual hours × the predetermined rates where hours are reported;
the difference to standard is the Conversion Efficiency Variance) and credits Accounts
Payable at standard for components the policy keeps off the books; scrapped units' standard
goes to the Scrap Variance; a BOM in effect other than the one costed shows as a Material
Usage Variance. Sequential tracking writes the same as three entries through WIP.
"""

from __future__ import annotations

from decimal import Decimal

from backflush.domain import alerts, inprocess
from backflush.domain.bom import Requirement, explode
from backflush.domain.costs import Cost
from backflush.domain.drafts import Draft, DraftMaker, EntryMaker
from backflush.domain.errors import UnknownReferenceError
from backflush.domain.events import Completion
from backflush.domain.numbers import ZERO, fmt_qty, fmt_unit, mul, round_money
from backflush.domain.policy import Method, Role, Stage
from backflush.domain.rules.context import RuleContext, check_item


def completion(ctx: RuleContext, ev: Completion) -> Draft:
    check_item(ctx, ev, ev.item, made=True)
    policy, books = ctx.policy, ctx.books
    total_qty = ev.qty + ev.scrap_qty
    explosion = explode(ev.item, total_qty, ev.date, ctx.master.boms, ctx.master.items)
    c_trigger = policy.triggered(Stage.COMPLETION)
    sequential = policy.method is Method.SEQUENTIAL
    on_books = c_trigger or policy.triggered(Stage.PURCHASE)
    title = f"Completion of {fmt_qty(ev.qty)} {ev.item}" + (
        f" ({fmt_qty(ev.scrap_qty)} scrapped)" if ev.scrap_qty else "")
    d = DraftMaker(books)
    bom = explosion.bom
    if sequential:
        issue = d.entry("issue", f"Issue of components for {ev.item}", bom=bom)
        conversion = d.entry("conversion_applied", f"Conversion applied to {ev.item}")
        output = d.entry("completion", title, bom=bom)
        issue.carry(Role.WORK_IN_PROCESS, f"into WIP for {ev.item}", output,
                    f"out of WIP for {ev.item}")
        conversion.carry(Role.WORK_IN_PROCESS, f"into WIP for {ev.item}", output,
                         f"out of WIP for {ev.item}")
    else:
        issue = conversion = output = d.entry("completion", title, bom=bom)
    actual = _components(ctx, ev, d, issue, explosion.requirements, total_qty, c_trigger, bom)
    if c_trigger and policy.inventories_conversion:
        standard, applied = applied_conversion(ctx, ev, total_qty)
        basis = ", ".join(f"{wc} {fmt_qty(h)} h" for wc, h in ev.hours) or "standard"
        applied_amount = -conversion.add(Role.CONVERSION_APPLIED, -applied.conversion_total,
                                         f"{ev.item} own conversion at {basis}",
                                         item=ev.item, qty=total_qty,
                                         basis=f"own conversion ({basis})")
        std_amount = _money(ctx, standard.conversion_total)
        output.add(Role.CONVERSION_EFFICIENCY_VARIANCE, applied_amount - std_amount,
                   f"{ev.item}: reported hours vs standard hours")
        routed = {wc for wc, _ in ctx.costs[ev.item].hours}
        off = [f"{wc} ({fmt_qty(h)} h)" for wc, h in ev.hours if wc not in routed]
        d.alerts.extend(alerts.hours_off_routing(policy.alerts, ev.item, off))
    elif ev.hours and not c_trigger:
        d.alert("hours_not_used", "completion is not a trigger point under "
                f"{policy.variant}: reported hours are recorded but not applied")
    elif ev.hours:
        d.alert("hours_not_used", "conversion is expensed under this policy (conversion: "
                "expensed): reported hours are recorded but not applied")
    if ev.qty:
        d.move(ev.item, ev.destination, ev.qty, "completion", output, f"{ev.item} completed")
    material_x, conv_x = books.content(ev.item)
    if on_books and ev.scrap_qty:
        unit = material_x + conv_x
        output.add(Role.SCRAP_VARIANCE, mul(ev.scrap_qty, unit),
                   f"{fmt_qty(ev.scrap_qty)} {ev.item} scrapped at completion",
                   item=ev.item, qty=ev.scrap_qty, basis=f"scrapped x {fmt_unit(unit)}")
    std_x = ctx.costs[ev.item]
    lower = std_x.lower_level.material + (
        std_x.lower_level.conversion_total if conv_x and c_trigger else ZERO)
    expected = mul(total_qty, lower)
    if on_books and expected != actual:
        output.add(Role.MATERIAL_USAGE_VARIANCE,
                   _money(ctx, actual) - _money(ctx, expected),
                   f"BOM {bom} differs from the BOM costed ({std_x.bom})", item=ev.item,
                   qty=total_qty, basis=f"BOM {bom} x {fmt_qty(total_qty)} vs the BOM costed "
                   f"({std_x.bom})" if ctx.detail else "", bom=bom)
    return d.draft()


def _money(ctx: RuleContext, amount: Decimal) -> Decimal:
    return round_money(amount, ctx.policy.minor_unit)


def _components(ctx: RuleContext, ev: Completion, d: DraftMaker, issue: EntryMaker,
                requirements: tuple[Requirement, ...], total_qty: Decimal, c_trigger: bool,
                bom: str) -> Decimal:
    """Relieve each component (summed over the BOM lines that need it); credit Accounts
    Payable at standard for those off the books. Returns Σ need × the components' value."""
    books, detail = ctx.books, ctx.detail
    needs: dict[tuple[str, bool], list[Requirement]] = {}
    for r in requirements:  # a manual line's part comes from the parent's in-process stock
        needs.setdefault((r.component, r.manual), []).append(r)
    qty_text = fmt_qty(total_qty)
    actual = ZERO
    unbooked: dict[str, Decimal] = {}  # payable per component, whichever way it is relieved
    for comp, manual in sorted(needs):
        lines = needs[(comp, manual)]
        need = sum((r.qty for r in lines), ZERO)
        memo = basis = ""
        if detail:
            via = [v for r in lines for v in r.via]
            memo = f"{comp} " + (f"issued by hand, consumed for {ev.item}" if manual else
                                 f"backflushed for {ev.item}") + (
                f" via {', '.join(dict.fromkeys(via))}" if via else "")
            basis = " + ".join(f"{fmt_qty(r.per)} per ({r.bom})" for r in lines) \
                + f" x {qty_text}"
        value = books.std_value(comp)
        actual += mul(need, value)
        place = inprocess.location(ev.item) if manual else \
            books.master.items[comp].backflush_from or ev.location
        d.move(comp, place, -need, "backflush", issue, memo, basis, bom)
        if c_trigger and books.role(comp) is None:
            unbooked[comp] = unbooked.get(comp, ZERO) + need
    for comp, need in unbooked.items():
        value = books.std_value(comp)
        issue.add(books.policy.unbooked_materials_role, -mul(need, value),
                  f"{comp} at standard, not yet on the books" if detail else "",
                  item=comp, qty=-need,
                  basis=f"{fmt_qty(need)} x standard {fmt_unit(value)}" if detail else "",
                  bom=bom)
    return actual


def applied_conversion(ctx: RuleContext, ev: Completion, qty: Decimal) -> tuple[Cost, Cost]:
    """(standard, applied) conversion for ``qty`` units: applied uses reported hours."""
    std_cost = ctx.costs[ev.item]
    standard = std_cost.own_conversion.scaled(qty)
    applied = standard
    work_centers = ctx.master.work_centers
    for wc, actual_hours in ev.hours:
        center = work_centers.get(wc)
        if center is None:
            raise UnknownReferenceError(ev.id, f"unknown work center '{wc}'", "hours")
        # At the rates of the standards in force (those the routing was rolled up at);
        # a work center off the routing at its rates now.
        labor, overhead, conversion = std_cost.rate_at(wc) or (
            center.labor_rate, center.overhead_rate, center.conversion_rate)
        difference = actual_hours - mul(std_cost.hours_at(wc), qty)
        applied = applied + Cost(ZERO, mul(difference, labor), mul(difference, overhead),
                                 mul(difference, conversion))
    return standard, applied

