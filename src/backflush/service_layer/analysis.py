"""Variance analysis of a period (issue 15, item 1): what each variance family is made of.

Conversion (Control − Applied + the efficiency variance, before the close disposes of it)
splits, by cost element (labor, overhead; one undivided ``conversion`` row when the incurred
costs or the rates do not say which is which), into:

* **efficiency**: (actual hours − standard hours) × rate, where completions report hours;
* **volume**: for work centers whose rates were predetermined from a period budget, the
  budget less what the actual hours absorbed (actual hours × rate): capacity used or idle;
* **timing** (not a variance): conversion incurred for units made but not yet at a
  triggered stage (under ``{A,D}`` and ``{D}`` it is applied only at the sale): the change
  over the period in the standard conversion of such units in stock;
* **spending**: the rest, incurred less applied at actual hours (less volume and timing).

Applied conversion by element is worked out again from the events that applied it (a
completion by its routing's rates and reported hours, a sale under a policy without the
completion trigger at the item's standard), at the standards they were posted at, reversals
taken back; the journal's Applied and efficiency totals are the figures, the elements'
shares of them rounded so that they add up to the cent. Scrap splits into component scrap
(scrap events) and assembly scrap (scrapped units reported at completion). Every part adds
up to the family's figure in :func:`~backflush.service_layer.reports.variance_report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from backflush.domain.costs import Cost
from backflush.domain.events import Completion, ConversionIncurred, Event, Reversal, Sale, Scrap
from backflush.domain.numbers import ZERO, mul, round_money
from backflush.domain.policy import Role, Stage
from backflush.domain.rules.completion import applied_conversion
from backflush.domain.rules.context import RuleContext
from backflush.domain.valuation import Books
from backflush.service_layer.reports import Window, books_of, family_totals, net_movements
from backflush.service_layer.reversals import share_taken
from backflush.service_layer.unit_of_work import UnitOfWork
from backflush.service_layer.view import StoreView

ELEMENTS = ("labor", "overhead", "conversion")
PARTS = ("spending", "efficiency", "volume", "timing")


@dataclass(frozen=True)
class Analysis:
    """``conversion``: (part, element) → amount, non-zero only; ``families``: the family
    figures the parts add up to; ``scrap``: component and assembly; ``events``: how many
    events each figure rests on, by family."""

    window: Window
    conversion: dict[tuple[str, str], Decimal]
    scrap: dict[str, Decimal]
    families: dict[str, Decimal]
    events: dict[str, int] = field(default_factory=dict)
    budgeted: bool = False  # a work center has a budget: volume is measured


def _elements(cost: Cost) -> dict[str, Decimal]:
    return {"labor": cost.labor, "overhead": cost.overhead, "conversion": cost.conversion}


def _add(into: dict[str, Decimal], more: Mapping[str, Decimal], sign: Decimal | int = 1
         ) -> None:
    """Add ``more`` times ``sign`` (-1: a reversal; a partial one: minus its share)."""
    for k, v in more.items():
        into[k] = into.get(k, ZERO) + (v if sign == 1 else -v if sign == -1 else v * sign)


def _shares(total: Decimal, weights: Mapping[str, Decimal], minor: int) -> dict[str, Decimal]:
    """``total`` (money) by element in proportion to ``weights``, each rounded, the cents
    left over on the largest: the parts add up to ``total`` exactly."""
    rounded = {k: round_money(v, minor) for k, v in weights.items() if v}
    if not rounded:
        return {"conversion": total} if total else {}
    largest = max(rounded, key=lambda k: (abs(weights[k]), k))
    rounded[largest] += total - sum(rounded.values(), ZERO)
    return rounded


def variance_analysis(uow: UnitOfWork, window: Window) -> Analysis:
    assert window.start is not None and window.end is not None
    policy = uow.master.policy()
    minor = policy.minor_unit
    net = net_movements(uow, window)  # one pass: the families and the journal's totals
    families = family_totals(policy, net)
    master = uow.master
    books = books_of(uow)
    view = StoreView(uow)
    c_trigger = policy.triggered(Stage.COMPLETION)
    incurred: dict[str, Decimal] = {}
    applied: dict[str, Decimal] = {}  # at actual hours, by element (not rounded)
    efficiency: dict[str, Decimal] = {}
    hours: dict[str, Decimal] = {}  # actual hours by work center
    counts: dict[str, int] = {}
    scrap_component = ZERO
    books_at: dict[int, Books] = {}

    def at(version: int) -> Books:
        if version not in books_at:
            books_at[version] = Books(master.master(), policy, master.cost_version(version))
        return books_at[version]

    for stored in uow.events.all():
        event: Event = stored.event
        if event.date not in window:
            continue
        sign: Decimal | int = 1
        original = event
        if isinstance(event, Reversal):
            found = uow.events.get(event.of)
            if found is None:
                continue
            sign, original, version = -share_taken(uow, event, found.event), found.event, \
                found.cost_version
        else:
            version = stored.cost_version
        if isinstance(original, ConversionIncurred) and policy.inventories_conversion:
            _add(incurred, {original.element: round_money(original.amount, minor)}, sign)
            counts["conversion"] = counts.get("conversion", 0) + 1
        elif isinstance(original, Completion):
            ctx = RuleContext(at(version), view, detail=False)
            qty = original.qty + original.scrap_qty
            routed = dict(ctx.costs[original.item].hours)
            reported = dict(original.hours)
            for wc in {*routed, *reported}:  # the hours the work centers worked
                _add(hours, {wc: reported.get(wc, mul(routed.get(wc, ZERO), qty))}, sign)
            if c_trigger and policy.inventories_conversion:
                standard, actual = applied_conversion(ctx, original, qty)
                _add(applied, _elements(actual), sign)
                _add(efficiency, _elements(actual - standard), sign)
                counts["conversion"] = counts.get("conversion", 0) + 1
        elif isinstance(original, Sale) and not c_trigger and policy.inventories_conversion:
            b = at(version)
            booked = b.content(original.item)[1] if b.role(original.item) else ZERO
            if booked == 0:
                _add(applied, {k: mul(v, original.qty) for k, v in
                               _elements(b.costs[original.item].total).items()}, sign)
                counts["conversion"] = counts.get("conversion", 0) + 1
        elif isinstance(original, Scrap) and not original.abnormal:
            for s in uow.journal.entries_of(event.id):
                scrap_component += sum((ln.net for ln in s.entry.lines
                                        if ln.account == policy.name(Role.SCRAP_VARIANCE)),
                                       ZERO)
            counts["scrap"] = counts.get("scrap", 0) + 1
    conversion: dict[tuple[str, str], Decimal] = {}
    budgeted = False
    total = families.get("conversion", ZERO)
    if policy.inventories_conversion and total:
        applied_total = -net.get(policy.name(Role.CONVERSION_APPLIED), ZERO)
        efficiency_total = net.get(policy.name(Role.CONVERSION_EFFICIENCY_VARIANCE), ZERO)
        applied_money = _shares(applied_total, applied, minor)
        efficiency_money = _shares(efficiency_total, efficiency, minor)
        timing = _timing(books, view, window, minor) if not c_trigger else {}
        volume: dict[str, Decimal] = {}
        for wc, center in master.master().work_centers.items():
            if center.budget is None:
                continue
            budgeted = True
            used = hours.get(wc, ZERO)
            for element, budget, rate in zip(
                    ELEMENTS, center.budget,
                    (center.labor_rate, center.overhead_rate, center.conversion_rate),
                    strict=True):
                _add(volume, {element: round_money(budget - mul(used, rate), minor)})
        split = set(incurred) <= {"labor", "overhead"} and not applied_money.get(
            "conversion") and not timing.get("conversion")
        for element in ELEMENTS:
            row = element if split else "conversion"
            spending = (incurred.get(element, ZERO) - applied_money.get(element, ZERO)
                        - volume.get(element, ZERO) - timing.get(element, ZERO))
            for part, amount in (("spending", spending),
                                 ("efficiency", efficiency_money.get(element, ZERO)),
                                 ("volume", volume.get(element, ZERO)),
                                 ("timing", timing.get(element, ZERO))):
                if amount:
                    conversion[part, row] = conversion.get((part, row), ZERO) + amount
        # Incurred less applied is exact; what the journal says besides (a conversion
        # incurred under another policy, cents of a summary) goes to spending.
        rest = total - sum(conversion.values(), ZERO)
        if rest:
            key = ("spending", "conversion" if not split else max(
                ("labor", "overhead"), key=lambda e: abs(incurred.get(e, ZERO))))
            conversion[key] = conversion.get(key, ZERO) + rest
        conversion = {k: conversion[k] for k in sorted(
            (k for k, v in conversion.items() if v),
            key=lambda k: (ELEMENTS.index(k[1]), PARTS.index(k[0])))}
    scrap_total = families.get("scrap", ZERO)
    scrap = {k: v for k, v in (("component", scrap_component),
                               ("assembly", scrap_total - scrap_component)) if v}
    return Analysis(window, conversion, scrap, families, counts, budgeted)


def _timing(books: Books, view: StoreView, window: Window, minor: int) -> dict[str, Decimal]:
    """The change over the window in the standard conversion of stock not yet at a triggered
    stage (made items the policy holds at material content or off the books), by element."""
    assert window.start is not None and window.end is not None

    def held(day: object) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for code, qty in view.stock_totals(day).items():  # type: ignore[arg-type]
            item = books.master.items.get(code)
            if item is None or not item.made or item.phantom:
                continue
            if books.role(code) is not None and books.content(code)[1]:
                continue  # its conversion is on the books already
            _add(out, {k: mul(v, qty) for k, v in _elements(books.costs[code].total).items()})
        return out

    end, start = held(window.end), held(window.start - timedelta(days=1))
    return {k: round_money(end.get(k, ZERO) - start.get(k, ZERO), minor)
            for k in ELEMENTS if end.get(k, ZERO) != start.get(k, ZERO)}
