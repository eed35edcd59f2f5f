"""Property-based tests of the posting rules (posting-rules §2, §4, §5, §6).

Hypothesis draws a random plant (a BOM DAG with phantoms, scrap factors, a second BOM version
now and then, explicit conversion costs or routings, a made item without a BOM), a policy (every
trigger-point variant, conversion inventoried or expensed, every negative-stock rule, every
disposition) and a month of events: mostly feasible, some not, some dated late, sometimes all
reversed again, sometimes closed, and sometimes followed by a closed December. Each event is
posted in its own unit of work. After every one:

* ``reports.verify`` finds nothing, and, independently: every entry balances; debits and
  credits are whole cents; the balances add up to zero; every line's derivations add up;
* quantities are conserved: on hand minus parked issues equals what the events say, item by
  item and location by location, and the moves of each kind add up to the events of that kind;
  a parked issue belongs to a live completion;
* each inventory account equals Σ round(qty × standard value) over what the policy holds in it,
  by a roll-up and a "where does value sit" table of our own (§2);
* the event's own entry follows §2 (payables at actual, COGS at standard, conversion applied at
  the first triggered stage at or after C, scrap at standard, nothing for {D} before the sale,
  a reversal negates its original) and its rounding line stays a rounding difference;
* the same event again is a duplicate and changes nothing; the same id with other content is
  refused and changes nothing; a refused event changes nothing, and ``reject`` refuses exactly
  the events that would drive stock below zero.

After a close: control, applied and every written-off or prorated variance are zero, kept ones
are carried forward, proration follows the standard content to the cent, and the month is
locked. With every event reversed, nothing is left. And the sequential method ends the period
with no WIP at the same inventory + COGS as backflush, writing at least as many entries.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from backflush.adapters.memory import InMemoryLedger, InMemoryUnitOfWork
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import MasterData
from backflush.domain.errors import (
    DuplicateEventError,
    NegativeStockError,
    PeriodLockedError,
    PostingError,
)
from backflush.domain.events import (
    Close,
    Completion,
    ConversionIncurred,
    CostChange,
    Count,
    Event,
    Receipt,
    Release,
    Reversal,
    Sale,
    Scrap,
    Transfer,
    period_bounds,
    period_of,
)
from backflush.domain.items import Item
from backflush.domain.policy import (
    DEFAULT_ACCOUNTS,
    FAMILIES,
    FAMILY_ROLES,
    MATERIAL_FAMILIES,
    ConversionMode,
    Disposition,
    Method,
    NegativeStock,
    Policy,
    Role,
    Stage,
)
from backflush.domain.routing import Operation, WorkCenter
from backflush.service_layer import reports, services
from backflush.service_layer.repository import LedgerRepository, StoredEntry
from backflush.service_layer.unit_of_work import UnitOfWork
from tests.conftest import Backend, new_backend

D = Decimal
ZERO = D(0)
CENT = D("0.01")
START, END = date(2026, 11, 1), date(2026, 11, 30)  # the month; December follows sometimes
V2_FROM = date(2026, 11, 16)  # a second BOM version, when drawn, is effective from here
LOCATIONS = ("stores", "line")

A, C, S = Stage.PURCHASE, Stage.COMPLETION, Stage.SALE
VARIANTS = (frozenset({A, C, S}), frozenset({A, S}), frozenset({C, S}), frozenset({S}))

NAME = DEFAULT_ACCOUNTS
RIP, FG, COGS = NAME[Role.MATERIALS], NAME[Role.FINISHED_GOODS], NAME[Role.COST_OF_GOODS_SOLD]
MATERIALS, WIP = NAME[Role.RAW_MATERIALS], NAME[Role.WORK_IN_PROCESS]
CONTROL, APPLIED = NAME[Role.CONVERSION_CONTROL], NAME[Role.CONVERSION_APPLIED]
PENDING = NAME[Role.PENDING_BACKFLUSH]
AP, PPV, WAGES = (NAME[Role.ACCOUNTS_PAYABLE], NAME[Role.PURCHASE_PRICE_VARIANCE],
                  NAME[Role.CONVERSION_SOURCES])
USAGE, SCRAP, EFFICIENCY = (NAME[Role.MATERIAL_USAGE_VARIANCE], NAME[Role.SCRAP_VARIANCE],
                            NAME[Role.CONVERSION_EFFICIENCY_VARIANCE])
REVALUATION, EXPENSED = NAME[Role.REVALUATION_VARIANCE], NAME[Role.CONVERSION_EXPENSE]
AR, SALES, ROUNDING = (NAME[Role.ACCOUNTS_RECEIVABLE], NAME[Role.SALES], NAME[Role.ROUNDING])
CAPITALIZED = (NAME[Role.MATERIALS_CAPITALIZED_VARIANCES],
               NAME[Role.FINISHED_GOODS_CAPITALIZED_VARIANCES])


def exact() -> Any:
    """Arithmetic for the reference model: far more digits than any amount here needs."""
    return localcontext(prec=80)


def round_money(amount: Decimal) -> Decimal:
    with exact():
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def is_money(amount: Decimal) -> bool:
    with exact():
        return amount.is_finite() and amount == amount.quantize(CENT)


def nonzero(mapping: Mapping[Any, Decimal]) -> dict[Any, Decimal]:
    return {k: v for k, v in mapping.items() if v}


# =========================================================================== master data


@dataclass(frozen=True)
class Plant:
    master: MasterData
    purchased: tuple[str, ...]
    made: tuple[str, ...]  # every made item, phantoms included, components before parents
    phantoms: frozenset[str]
    routed: Mapping[str, tuple[str, ...]]  # made item -> the work centers on its routing

    @property
    def stocked_made(self) -> tuple[str, ...]:
        return tuple(m for m in self.made if m not in self.phantoms)

    @property
    def stockable(self) -> tuple[str, ...]:
        return self.purchased + self.stocked_made

    @property
    def explicit_conversion(self) -> tuple[str, ...]:
        return tuple(m for m in self.made if self.master.items[m].conversion_cost is not None)


def money(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    """Whole cents, as a Decimal with (at most) 2 decimals."""
    return st.integers(lo, hi).map(lambda c: D(c) / 100)


QTY_PER = st.sampled_from((D(1), D(2), D(3), D("0.5"), D("1.25")))
SCRAP_FACTOR = st.sampled_from((D(0), D("0.02"), D("0.05")))


@st.composite
def plants(draw: st.DrawFn) -> Plant:
    n_purchased = draw(st.integers(2, 6))
    n_made = draw(st.integers(1, 4))
    items: dict[str, Item] = {}
    purchased = tuple(f"P{i}" for i in range(1, n_purchased + 1))
    for code in purchased:
        items[code] = Item(code, standard_cost=draw(money(1, 2000)))
    work_centers = {
        "WC1": WorkCenter("WC1", labor_rate=draw(money(0, 5000)),
                          overhead_rate=draw(money(0, 5000))),
        "WC2": WorkCenter("WC2", conversion_rate=draw(money(1, 9000))),
    }
    versions: list[BomVersion] = []
    routings: dict[str, tuple[Operation, ...]] = {}
    routed: dict[str, tuple[str, ...]] = {}
    made: list[str] = []
    phantoms: set[str] = set()
    for j in range(1, n_made + 1):
        code = f"M{j}"
        pool = (*purchased, *made)  # only earlier items: the graph is acyclic
        phantom = j < n_made and draw(st.integers(0, 2)) == 0  # the last one is never phantom
        conversion = draw(st.sampled_from(("explicit", "routing", "none")))
        # Now and then a made item with conversion only, no BOM (never a phantom).
        if phantom or conversion == "none" or draw(st.integers(0, 7)):
            comps = draw(st.lists(st.sampled_from(pool), min_size=1,
                                  max_size=min(3, len(pool)), unique=True))
            lines = tuple(BomLine(c, draw(QTY_PER), draw(SCRAP_FACTOR)) for c in comps)
            versions.append(BomVersion(code, 1, START, lines))
            if draw(st.integers(0, 4)) == 0:  # a second version, effective mid-month
                more = draw(st.sampled_from((D(1), D("0.5"))))
                changed = tuple(BomLine(ln.component, ln.qty + more, ln.scrap) for ln in lines)
                versions.append(BomVersion(code, 2, V2_FROM, changed))
        conversion_cost = None
        if conversion == "explicit":
            conversion_cost = draw(money(0, 3000))
        elif conversion == "routing":
            wcs = draw(st.lists(st.sampled_from(("WC1", "WC2")), min_size=1, max_size=2,
                                unique=True))
            routings[code] = tuple(
                Operation(10 * (k + 1), wc,
                          run_hours=draw(st.sampled_from((D("0.1"), D("0.25"), D("0.5"), D(1)))),
                          setup_hours=draw(st.sampled_from((D(0), D("0.5"), D(2)))),
                          lot_size=draw(st.sampled_from((D(1), D(4), D(10), D(25)))))
                for k, wc in enumerate(wcs))
            routed[code] = tuple(wcs)
        finished = None if phantom else draw(st.sampled_from((None, None, None, True, False)))
        items[code] = Item(code, conversion_cost=conversion_cost, phantom=phantom, made=True,
                           finished=finished)
        made.append(code)
        if phantom:
            phantoms.add(code)
    master = MasterData(items, Boms.of(versions), work_centers, routings)
    return Plant(master, purchased, tuple(made), frozenset(phantoms), routed)


@st.composite
def dispositions(draw: st.DrawFn) -> dict[str, Disposition]:
    out = {"conversion": draw(st.sampled_from((Disposition.WRITE_OFF, Disposition.PRORATE)))}
    for family in MATERIAL_FAMILIES:
        out[family] = draw(st.sampled_from(tuple(Disposition)))
    return out


def policies(triggers: st.SearchStrategy[frozenset[Stage]] = st.sampled_from(VARIANTS),
             conversion: st.SearchStrategy[ConversionMode] = st.sampled_from(tuple(ConversionMode)),
             ) -> st.SearchStrategy[Policy]:
    return st.builds(Policy, triggers=triggers, conversion=conversion,
                     negative_stock=st.sampled_from(tuple(NegativeStock)),
                     disposition=dispositions())


# =========================================================================== reference model


class Reference:
    """An independent model of what the books must say: explosion, roll-up, placement."""

    def __init__(self, plant: Plant, policy: Policy) -> None:
        master = plant.master
        self.plant = plant
        self.policy = policy
        self.items: dict[str, Item] = dict(master.items)
        self.versions = {p: sorted(vs, key=lambda v: v.effective_from)
                         for p, vs in master.boms.versions.items()}
        self.components = {ln.component for vs in self.versions.values() for v in vs
                           for ln in v.lines}
        self.routings = master.routings
        self.work_centers = master.work_centers
        self.rolled_on = START
        self.costs = self.roll_up(START)
        # Quantity on hand minus issues parked, by (item, location): conserved under every
        # negative-stock rule (queueing only moves an issue between "done" and "parked").
        self.effective: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        self.delta_of: dict[str, dict[tuple[str, str], Decimal]] = {}
        # Standard content relieved to COGS by each sale: (material, conversion), rounded.
        self.cogs_content: dict[str, tuple[Decimal, Decimal]] = {}
        # ... and by date: the sales and, negated, their reversals.
        self.cogs_by_day: list[tuple[date, Decimal, Decimal]] = []
        self.posted: dict[str, Event] = {}
        self.reversed: set[str] = set()
        self.locked_through: date | None = None

    # ---- BOMs
    def bom_on(self, parent: str, when: date) -> BomVersion:
        versions = self.versions[parent]
        chosen = versions[0]
        for v in versions:
            if v.effective_from <= when:
                chosen = v
        return chosen

    def explode(self, parent: str, qty: Decimal, when: date) -> dict[str, Decimal]:
        """One level down, through phantoms: component -> qty × qty per × (1 + scrap)."""
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)

        def walk(code: str, multiplier: Decimal) -> None:
            for line in self.bom_on(code, when).lines:
                with exact():
                    need = multiplier * line.qty * (1 + line.scrap)
                if self.items[line.component].phantom:
                    walk(line.component, need)
                else:
                    out[line.component] += need

        if parent in self.versions:
            walk(parent, qty)
        return dict(out)

    # ---- standard costs: (material, conversion) per unit, all levels
    def roll_up(self, when: date) -> dict[str, tuple[Decimal, Decimal]]:
        costs: dict[str, tuple[Decimal, Decimal]] = {}

        def cost(code: str) -> tuple[Decimal, Decimal]:
            if code in costs:
                return costs[code]
            item = self.items[code]
            if not item.made:
                costs[code] = (item.standard_cost or ZERO, ZERO)
                return costs[code]
            material = conversion = ZERO
            with exact():
                if item.conversion_cost is not None:
                    conversion += item.conversion_cost
                for op in self.routings.get(code, ()):
                    wc = self.work_centers[op.work_center]
                    hours = op.run_hours + op.setup_hours / op.lot_size
                    conversion += hours * (wc.labor_rate + wc.overhead_rate + wc.conversion_rate)
                if code in self.versions:
                    for line in self.bom_on(code, when).lines:
                        m, c = cost(line.component)
                        gross = line.qty * (1 + line.scrap)
                        material += m * gross
                        conversion += c * gross
            costs[code] = (material, conversion)
            return costs[code]

        for code in self.items:
            cost(code)
        return costs

    def own(self, code: str) -> tuple[Decimal, dict[str, Decimal]]:
        """This level's conversion and standard hours by work center, per unit: the item's own
        conversion plus that of the phantoms exploded through."""
        item = self.items[code]
        conversion = item.conversion_cost or ZERO
        hours: dict[str, Decimal] = defaultdict(lambda: ZERO)
        with exact():
            for op in self.routings.get(code, ()):
                h = op.run_hours + op.setup_hours / op.lot_size
                hours[op.work_center] += h
                conversion += h * self.rate(op.work_center)
            if code in self.versions:
                for line in self.bom_on(code, self.rolled_on).lines:
                    if self.items[line.component].phantom:
                        c, hs = self.own(line.component)
                        gross = line.qty * (1 + line.scrap)
                        conversion += c * gross
                        for wc, h in hs.items():
                            hours[wc] += h * gross
        return conversion, dict(hours)

    def rate(self, work_center: str) -> Decimal:
        wc = self.work_centers[work_center]
        return wc.labor_rate + wc.overhead_rate + wc.conversion_rate

    def finished(self, code: str) -> bool:
        """Finished goods: as flagged, else a made item that is no other item's component."""
        item = self.items[code]
        if item.finished is not None:
            return item.finished
        return item.made and code not in self.components

    def placement(self, code: str) -> tuple[str | None, Decimal, Decimal]:
        """(account, material, conversion) per unit of an item on hand under the policy: value
        sits in the account of the latest triggered stage it has passed (posting-rules §2)."""
        item, p = self.items[code], self.policy
        if item.phantom:
            return None, ZERO, ZERO
        materials = p.name(p.materials_role)
        material, conversion = self.costs[code]
        inventoried = p.conversion is ConversionMode.INVENTORIED
        if not item.made:
            return (materials, material, ZERO) if p.triggered(A) else (None, ZERO, ZERO)
        if p.triggered(C):
            account = FG if self.finished(code) else materials
            return account, material, conversion if inventoried else ZERO
        if p.triggered(A):
            return materials, material, ZERO
        return None, ZERO, ZERO

    def value(self, code: str) -> Decimal:
        _, material, conversion = self.placement(code)
        return material + conversion

    # ---- events
    def refusal(self, ev: Event) -> str | None:
        """Why the engine must refuse ``ev`` whatever the stock, or None."""
        if self.locked_through is not None and ev.date <= self.locked_through:
            return "locked"
        if isinstance(ev, Completion) and self.items[ev.item].phantom:
            return "phantom completion"
        if isinstance(ev, Reversal):
            original = self.posted.get(ev.of)
            if original is None:
                return "reversal of an event never posted"
            if isinstance(original, Reversal | Close | CostChange):
                return f"reversal of a {original.type}"
            if ev.of in self.reversed:
                return "second reversal"
        return None

    def delta(self, ev: Event, ledger: LedgerRepository) -> dict[tuple[str, str], Decimal]:
        """What ``ev`` does to the effective quantities (on hand minus parked)."""
        out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        if isinstance(ev, Receipt):
            out[(ev.item, ev.location)] += ev.qty
        elif isinstance(ev, Completion):
            for comp, need in self.explode(ev.item, ev.qty + ev.scrap_qty, ev.date).items():
                out[(comp, ev.location)] -= need
            out[(ev.item, ev.destination)] += ev.qty
        elif isinstance(ev, Sale | Scrap):
            out[(ev.item, ev.location)] -= ev.qty
        elif isinstance(ev, Transfer):
            out[(ev.item, ev.from_location)] -= ev.qty
            out[(ev.item, ev.to_location)] += ev.qty
        elif isinstance(ev, Count):
            out[(ev.item, ev.location)] += ev.qty - ledger.on_hand(ev.item, ev.location)
        elif isinstance(ev, Reversal):
            for key, qty in self.delta_of[ev.of].items():
                out[key] -= qty
        return nonzero(out)

    def apply(self, ev: Event, delta: dict[tuple[str, str], Decimal]) -> None:
        self.posted[ev.id] = ev
        self.delta_of[ev.id] = delta
        for key, qty in delta.items():
            self.effective[key] += qty
        if isinstance(ev, Reversal):
            self.reversed.add(ev.of)
            if ev.of in self.cogs_content:
                m, c = self.cogs_content[ev.of]
                self.cogs_by_day.append((ev.date, -m, -c))
        elif isinstance(ev, Sale):
            material, conversion = self.costs[ev.item]
            if self.policy.conversion is ConversionMode.EXPENSED:
                conversion = ZERO
            cogs = round_money(ev.qty * (material + conversion))
            self.cogs_content[ev.id] = (round_money(ev.qty * material),
                                        cogs - round_money(ev.qty * material))
            self.cogs_by_day.append((ev.date, *self.cogs_content[ev.id]))
        elif isinstance(ev, CostChange):
            item = self.items[ev.item]
            self.items[ev.item] = (
                dataclasses.replace(item, standard_cost=ev.standard_cost)
                if ev.standard_cost is not None
                else dataclasses.replace(item, conversion_cost=ev.conversion_cost))
            self.rolled_on = ev.date
            self.costs = self.roll_up(ev.date)
        elif isinstance(ev, Close):
            self.locked_through = period_bounds(ev.period)[1]


# =========================================================================== event streams


KINDS = ("receipt", "receipt", "completion", "completion", "completion", "sale", "sale",
         "scrap", "count", "transfer", "conversion", "conversion", "reversal", "cost_change",
         "release")


class StreamBuilder:
    """Draws a month of events; tracks rough stock to make most of them feasible."""

    def __init__(self, plant: Plant, draw: st.DrawFn) -> None:
        self.plant = plant
        self.draw = draw
        self.ref = Reference(plant, Policy())
        self.sim: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        self.events: list[Event] = []
        self.month = 11
        self.day = 1

    @property
    def when(self) -> date:
        return date(2026, self.month, self.day)

    def next_id(self) -> str:
        return f"E{len(self.events) + 1:03d}"

    def emit(self, make: Callable[..., Event], **fields: Any) -> None:
        ev = make(id=self.next_id(), date=self.when, **fields)
        self.events.append(ev)
        if isinstance(ev, Receipt):
            self.sim[(ev.item, ev.location)] += ev.qty
        elif isinstance(ev, Completion):
            for comp, need in self.ref.explode(ev.item, ev.qty + ev.scrap_qty, ev.date).items():
                self.sim[(comp, ev.location)] -= need
            self.sim[(ev.item, ev.destination)] += ev.qty
        elif isinstance(ev, Sale | Scrap):
            self.sim[(ev.item, ev.location)] -= ev.qty
        elif isinstance(ev, Transfer):
            self.sim[(ev.item, ev.from_location)] -= ev.qty
            self.sim[(ev.item, ev.to_location)] += ev.qty
        elif isinstance(ev, Count):
            self.sim[(ev.item, ev.location)] = ev.qty

    def location(self) -> str:
        return self.draw(st.sampled_from(("stores", "stores", "stores", "line")))

    def qty(self) -> Decimal:
        return self.draw(st.one_of(st.integers(1, 40).map(D),
                                   st.sampled_from((D("0.5"), D("2.5"), D("12.75")))))

    def price(self, std: Decimal) -> Decimal:
        """The standard, or off it by up to 3.00 with 2 or 4 decimals."""
        if self.draw(st.booleans()):
            return std
        off = D(self.draw(st.integers(-300, 300))) / self.draw(st.sampled_from((100, 10000)))
        return max(ZERO, std + off)

    def supply(self, item: str, qty: Decimal, location: str) -> None:
        """Receipts and sub-assembly completions covering what completing ``item`` needs."""
        for comp, need in sorted(self.ref.explode(item, qty, self.when).items()):
            short = need - self.sim[(comp, location)]
            if short <= 0:
                continue
            n = short.to_integral_value(rounding=ROUND_CEILING) + self.draw(st.integers(0, 5))
            if self.plant.master.items[comp].made:
                self.supply(comp, n, location)
                self.emit(Completion, item=comp, qty=n, location=location)
            else:
                std = self.plant.master.items[comp].standard_cost or ZERO
                self.emit(Receipt, item=comp, qty=n, unit_price=self.price(std),
                          location=location)

    # ---- one action per kind
    def receipt(self) -> None:
        item = self.draw(st.sampled_from(self.plant.purchased))
        std = self.plant.master.items[item].standard_cost or ZERO
        self.emit(Receipt, item=item, qty=self.qty(), unit_price=self.price(std),
                  supplier=self.draw(st.sampled_from(("", "ACME"))), location=self.location())

    def completion(self) -> None:
        item = self.draw(st.sampled_from(self.plant.made))  # a phantom is refused
        qty = D(self.draw(st.integers(0, 8)))
        scrap = D(self.draw(st.sampled_from((0, 0, 0, 1, 2))))
        if qty + scrap == 0:
            qty = D(1)
        hours: tuple[tuple[str, Decimal], ...] = ()
        if item in self.plant.routed and self.draw(st.booleans()):
            hours = tuple((wc, D(self.draw(st.integers(0, 80))) / 4)
                          for wc in self.plant.routed[item])
        location = self.location()
        if item not in self.plant.phantoms and self.draw(st.integers(0, 9)) < 8:
            self.supply(item, qty + scrap, location)
        output = self.draw(st.sampled_from((None, None, None, "stores", "line")))
        self.emit(Completion, item=item, qty=qty, scrap_qty=scrap, hours=hours,
                  location=location, output_location=output,
                  order=self.draw(st.sampled_from(("", "WO-7"))))

    def sale(self) -> None:
        finished = tuple(m for m in self.plant.stocked_made if self.ref.finished(m))
        pool = finished if finished and self.draw(st.integers(0, 3)) else self.plant.stockable
        item = self.draw(st.sampled_from(pool))
        qty = D(self.draw(st.integers(1, 6)))
        short = qty - self.sim[(item, "stores")]
        if short > 0 and self.draw(st.integers(0, 4)):
            n = short.to_integral_value(rounding=ROUND_CEILING)
            if self.plant.master.items[item].made:
                self.supply(item, n, "stores")
                self.emit(Completion, item=item, qty=n)
            else:
                self.emit(Receipt, item=item, qty=n,
                          unit_price=self.plant.master.items[item].standard_cost)
        price = self.draw(st.one_of(st.none(), money(0, 20000)))
        self.emit(Sale, item=item, qty=qty, unit_price=price)

    def scrap(self) -> None:
        item = self.draw(st.sampled_from(self.plant.stockable))
        self.emit(Scrap, item=item, qty=D(self.draw(st.integers(1, 3))),
                  reason=self.draw(st.sampled_from(("", "dropped"))), location=self.location())

    def count(self) -> None:
        item = self.draw(st.sampled_from(self.plant.stockable))
        location = self.location()
        counted = max(ZERO, self.sim[(item, location)] + self.draw(st.integers(-3, 3)))
        self.emit(Count, item=item, qty=counted, location=location)

    def transfer(self) -> None:
        item = self.draw(st.sampled_from(self.plant.purchased))
        there, back = ("stores", "line") if self.draw(st.booleans()) else ("line", "stores")
        self.emit(Transfer, item=item, qty=self.qty(), from_location=there, to_location=back)

    def conversion(self) -> None:
        amount = self.draw(st.one_of(money(1, 500000),
                                     st.integers(1, 500000).map(lambda m: D(m) / 1000)))
        self.emit(ConversionIncurred, amount=amount,
                  element=self.draw(st.sampled_from(("labor", "overhead", "conversion"))),
                  credit=self.draw(st.sampled_from((None, None, "Accrued Overhead"))))

    def reversal(self) -> None:
        if self.events:
            self.emit(Reversal, of=self.draw(st.sampled_from(tuple(e.id for e in self.events))))

    def cost_change(self) -> None:
        explicit = self.plant.explicit_conversion
        if explicit and self.draw(st.booleans()):
            self.emit(CostChange, item=self.draw(st.sampled_from(explicit)),
                      conversion_cost=self.draw(money(0, 3000)))
        else:
            self.emit(CostChange, item=self.draw(st.sampled_from(self.plant.purchased)),
                      standard_cost=self.draw(money(0, 2000)))

    def release(self) -> None:
        self.emit(Release, item=self.draw(st.sampled_from(self.plant.stocked_made)),
                  qty=D(self.draw(st.integers(1, 9))), due=self.when)


@st.composite
def streams(draw: st.DrawFn, plant: Plant, close: bool | None = None,
            december: bool | None = None) -> list[Event]:
    """November's events, maybe closed; now and then December's too, closed as well."""
    builder = StreamBuilder(plant, draw)
    if close is None:
        close = draw(st.booleans())
    if december is None:
        december = close and draw(st.integers(0, 3)) == 0
    for month, last in ((11, 30), (12, 31)) if december else ((11, 30),):
        builder.month, builder.day = month, 1
        for _ in range(draw(st.integers(1, 16 if month == 11 else 8))):
            builder.day = min(last, builder.day + draw(st.integers(0, 3)))
            if draw(st.integers(0, 9)) == 0:  # reported late: dated before what came earlier
                builder.day = draw(st.integers(1, builder.day))
            getattr(builder, draw(st.sampled_from(KINDS)))()
        if (month == 12 or not december) and draw(st.integers(0, 3)) == 0:
            # Undo everything: reverse every event, in any order.
            ids = [e.id for e in builder.events
                   if not isinstance(e, Reversal | CostChange | Close)]
            for of in draw(st.permutations(ids)):
                builder.emit(Reversal, of=of)
        if close:
            builder.day = last
            builder.emit(Close, period=period_of(builder.when))
    return builder.events


# =========================================================================== the harness


@dataclass(frozen=True)
class State:
    """Everything a refused or duplicate event must leave untouched."""

    balances: dict[str, Decimal]
    stock: dict[tuple[str, str], Decimal]
    pending: dict[str, Decimal]
    journal_length: int
    moves: int
    events: frozenset[str]
    locked_through: date | None
    cost_version: int
    alerts: int


def state_of(ledger: LedgerRepository) -> State:
    return State(nonzero(ledger.balances()), nonzero(ledger.stock()),
                 nonzero(ledger.pending_totals()), len(list(ledger.entries())),
                 len(list(ledger.moves())), frozenset(ledger.event_ids()),
                 ledger.locked_through, ledger.costs.number, len(ledger.alerts()))


def other_day(day: date) -> date:
    return day + timedelta(days=1) if day.day == 1 else day - timedelta(days=1)


@dataclass
class Run:
    plant: Plant
    policy: Policy
    backend: Backend = field(default_factory=new_backend)
    refused: list[str] = field(default_factory=list)
    ref: Reference = field(init=False)
    # The cost version in force when each event was posted.
    cost_version_at: dict[str, int] = field(default_factory=dict)
    # Variances capitalized at the last close, by (family, account): re-spread at the next.
    capitalized: dict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(lambda: ZERO))

    def __post_init__(self) -> None:
        services.set_up_ledger(self.uow, self.plant.master, self.policy, as_of=START)
        self.ref = Reference(self.plant, self.policy)
        self.check()

    @property
    def uow(self) -> UnitOfWork:
        """A unit of work on this run's ledger (memory, SQLite or PostgreSQL)."""
        return self.backend.uow()

    @property
    def ledger(self) -> LedgerRepository:
        return self.backend.ledger()

    def balance(self, account: str) -> Decimal:
        return self.ledger.balances().get(account, ZERO)

    def post(self, ev: Event) -> bool:
        """Post one event in its own unit of work and check everything; True when posted."""
        ledger = self.ledger
        before = state_of(ledger)
        reason = self.ref.refusal(ev)
        delta = {} if reason else self.ref.delta(ev, ledger)
        goes_negative = sorted(key for key, qty in delta.items()
                               if qty < 0 and ledger.on_hand(*key) + qty < 0)
        must_reject = reason is None and bool(goes_negative) \
            and self.policy.negative_stock is NegativeStock.REJECT
        try:
            result = services.post_events(self.uow, [ev])
        except PostingError as exc:
            assert not isinstance(exc, DuplicateEventError), exc
            assert state_of(self.ledger) == before, f"refused {ev.id} changed the ledger"
            if reason == "locked":
                assert isinstance(exc, PeriodLockedError), exc
            elif reason is not None:
                assert not isinstance(exc, NegativeStockError | PeriodLockedError), exc
            else:
                assert must_reject and isinstance(exc, NegativeStockError), \
                    f"{ev!r} refused unexpectedly: {exc}"
            self.refused.append(ev.id)
            return False
        assert reason is None, f"{ev!r} should have been refused: {reason}"
        assert not must_reject, f"{ev!r} should have been rejected: {goes_negative} below zero"
        assert result.posted == 1 and result.duplicates == 0
        self.ref.apply(ev, delta)
        self.cost_version_at[ev.id] = before.cost_version
        self.check()
        self.check_entries_of(ev, list(self.ledger.entries())[before.journal_length:])
        self.check_idempotent(ev)
        return True

    def check_idempotent(self, ev: Event) -> None:
        """Same id, same content: a no-op; same id, other content: refused, nothing changes."""
        after = state_of(self.ledger)
        again = services.post_events(self.uow, [ev])
        assert again.posted == 0 and again.duplicate_ids == [ev.id]
        assert state_of(self.ledger) == after
        with pytest.raises(DuplicateEventError):
            services.post_events(self.uow, [dataclasses.replace(ev, date=other_day(ev.date))])
        assert state_of(self.ledger) == after
        if hasattr(ev, "qty"):  # the same number written differently is the same content
            same = dataclasses.replace(ev, qty=ev.qty + D("0.000"))  # type: ignore[attr-defined]
            assert services.post_events(self.uow, [same]).duplicate_ids == [ev.id]
            assert state_of(self.ledger) == after

    # ---- the stage pipeline of posting-rules §2, event by event
    def check_entries_of(self, ev: Event, stored: list[StoredEntry]) -> None:
        ref, p = self.ref, self.policy
        assert all(s.entry.event_id == ev.id for s in stored)
        for s in stored:
            # The builder balances any entry with a rounding line: that line must stay a
            # rounding difference (at most a cent per amount rounded), never hide an error.
            rounding = sum((ln.net for ln in s.entry.lines if ln.account == ROUNDING), ZERO)
            if isinstance(ev, Reversal):  # a reversal also negates the original's rounding
                rounding += sum((ln.net for o in self.ledger.entries()
                                 if o.entry.event_id == ev.of
                                 for ln in o.entry.lines if ln.account == ROUNDING), ZERO)
            bound = CENT * (len(s.entry.lines) + len(s.entry.derivations))
            assert abs(rounding) <= bound, (
                f"{s.entry.type} of {ev.id}: {rounding} booked as a rounding difference",
                s.entry)
        for s in stored:
            # Explained down to the source: the cost version in force, the BOM version used,
            # and derivations that add up to the lines they explain.
            assert s.entry.cost_version == self.ledger.costs.number - isinstance(ev, CostChange)
            if isinstance(ev, Completion) and ev.item in ref.versions \
                    and s.entry.type not in ("pending_cleared", "conversion_applied"):
                assert s.entry.bom == ref.bom_on(ev.item, ev.date).key, s.entry
            explained: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for d in s.entry.derivations:
                explained[d.account] += d.amount
            lines: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for ln in s.entry.lines:
                lines[ln.account] += ln.net
            for account, amount in explained.items():
                assert lines[account] == amount, (account, amount, s.entry)
        net: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for s in stored:
            if s.entry.type != "pending_cleared":
                for ln in s.entry.lines:
                    net[ln.account] += ln.net
        net = nonzero(net)
        touched = set(net)
        a, c = p.triggered(A), p.triggered(C)
        inventoried = p.conversion is ConversionMode.INVENTORIED
        materials = p.name(p.materials_role)
        holding = {materials, FG, PENDING}
        assert net.get(WIP, ZERO) == 0
        if not a and not c:
            # {D}: nothing is on the books before the sale.
            assert isinstance(ev, Sale | ConversionIncurred | Reversal | Close) or not stored, ev
        if isinstance(ev, Receipt):
            if a:
                assert net.get(AP, ZERO) == -round_money(ev.qty * ev.unit_price)
                assert touched <= {materials, AP, PPV}
            else:
                assert touched == set()
        elif isinstance(ev, ConversionIncurred):
            amount = round_money(ev.amount)
            debit = CONTROL if inventoried else EXPENSED
            assert net == nonzero({debit: amount, ev.credit or WAGES: -amount})
        elif isinstance(ev, Sale):
            account, booked_material, booked_conversion = ref.placement(ev.item)
            material, conversion = ref.costs[ev.item]
            conversion = conversion if inventoried else ZERO
            assert net.get(COGS, ZERO) == round_money(ev.qty * (material + conversion))
            payable = ZERO if booked_material or not material \
                else -round_money(ev.qty * material)
            applied = ZERO if booked_conversion or not conversion \
                else -round_money(ev.qty * conversion)
            assert net.get(AP, ZERO) == payable
            assert net.get(APPLIED, ZERO) == applied
            revenue = ZERO if ev.unit_price is None else round_money(ev.qty * ev.unit_price)
            assert net.get(AR, ZERO) == revenue and net.get(SALES, ZERO) == -revenue
            assert touched <= {COGS, AP, APPLIED, AR, SALES, ROUNDING, *holding}
        elif isinstance(ev, Completion):
            total = ev.qty + ev.scrap_qty
            applied = efficiency = ZERO
            if c and inventoried:
                own, std_hours = ref.own(ev.item)
                with exact():
                    standard = own * total
                    actual = standard + sum(
                        ((h - std_hours.get(wc, ZERO) * total) * ref.rate(wc)
                         for wc, h in ev.hours), ZERO)
                applied = -round_money(actual)
                efficiency = round_money(actual) - round_money(standard)
            assert net.get(APPLIED, ZERO) == applied
            assert net.get(EFFICIENCY, ZERO) == efficiency
            scrapped = ZERO
            if (a or c) and ev.scrap_qty:
                material, conversion = ref.costs[ev.item]
                content = material + (conversion if c and inventoried else ZERO)
                scrapped = round_money(ev.scrap_qty * content)
            assert net.get(SCRAP, ZERO) == scrapped
            payable = ZERO
            if c:
                for comp, need in ref.explode(ev.item, total, ev.date).items():
                    if ref.placement(comp)[0] is None:
                        payable -= round_money(need * ref.costs[comp][0])
            assert net.get(AP, ZERO) == payable
            assert touched <= {APPLIED, EFFICIENCY, SCRAP, USAGE, AP, ROUNDING, *holding}
        elif isinstance(ev, Count):
            if p.negative_stock is not NegativeStock.QUEUE:
                assert self.ledger.on_hand(ev.item, ev.location) == ev.qty
            assert touched <= {USAGE, ROUNDING, *holding}
        elif isinstance(ev, Scrap):
            assert touched <= {SCRAP, ROUNDING, *holding}
        elif isinstance(ev, Transfer | Release):
            assert touched == set()
        elif isinstance(ev, CostChange):
            assert touched <= {REVALUATION, *holding}
        elif isinstance(ev, Reversal):
            # The exact negation of the original, apart from the inventory accounts (moved at
            # the value in force) and rounding, when the standards have not changed since.
            original = [s.entry for s in self.ledger.entries() if s.entry.event_id == ev.of]
            if self.cost_version_at[ev.of] == self.ledger.costs.number:
                before: dict[str, Decimal] = defaultdict(lambda: ZERO)
                for e in original:
                    for ln in e.lines:
                        before[ln.account] += ln.net
                after = {k: v for k, v in net.items() if k not in holding | {ROUNDING}}
                expected = {k: -v for k, v in nonzero(before).items()
                            if k not in holding | {ROUNDING}}
                assert after == expected

    # ---- the invariants of posting-rules §5
    def check(self) -> None:
        ledger = self.ledger
        assert reports.verify(ledger) == []
        self.check_entries()
        self.check_quantities()
        self.check_valuation()
        if self.policy.method is Method.BACKFLUSH:
            # No work-in-process account under backflush, no separate materials account.
            assert self.balance(WIP) == 0
            assert self.balance(MATERIALS) == 0

    def check_entries(self) -> None:
        ledger = self.ledger
        ids = ledger.event_ids()
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for stored in ledger.entries():
            entry = stored.entry
            assert entry.event_id in ids
            debits = sum((ln.debit for ln in entry.lines), ZERO)
            credits = sum((ln.credit for ln in entry.lines), ZERO)
            assert debits == credits, f"{entry.event_id} {entry.type}: {debits} != {credits}"
            for ln in entry.lines:
                assert is_money(ln.debit) and is_money(ln.credit), ln
                assert ln.debit >= 0 and ln.credit >= 0 and not (ln.debit and ln.credit), ln
                totals[ln.account] += ln.net
            for d in entry.derivations:
                assert is_money(d.amount), d
            assert is_money(entry.cogs_material) and is_money(entry.cogs_conversion), entry
        balances = ledger.balances()
        assert nonzero(totals) == nonzero(balances)
        assert sum(balances.values(), ZERO) == 0
        assert all(is_money(b) for b in balances.values())

    def check_quantities(self) -> None:
        ledger, ref = self.ledger, self.ref
        stock = ledger.stock()
        keys = {(i, loc) for i in self.plant.stockable for loc in LOCATIONS}
        assert set(stock) <= keys, sorted(set(stock) - keys)
        for item in self.plant.phantoms:
            assert ledger.on_hand_total(item) == 0  # a phantom is never stocked
        for key in keys:
            parked = sum((q for _, q in ledger.pending_at(*key)), ZERO)
            assert parked >= 0
            assert stock.get(key, ZERO) - parked == ref.effective[key], (
                f"{key}: on hand {stock.get(key, ZERO)} - parked {parked} "
                f"!= {ref.effective[key]} recomputed from the events")
        if self.policy.negative_stock is not NegativeStock.QUEUE:
            assert nonzero(ledger.pending_totals()) == {}
        # A parked issue belongs to a completion that is posted and not reversed, and is no
        # more than what that completion was short of.
        for item, location in keys:
            for source, qty in ledger.pending_at(item, location):
                completion = ref.posted.get(source)
                assert isinstance(completion, Completion), (item, location, source)
                assert source not in ref.reversed, (
                    f"{qty} {item} at {location} still parked for {source}, which was reversed")
                need = ref.explode(completion.item, completion.qty + completion.scrap_qty,
                                   completion.date).get(item, ZERO)
                assert 0 < qty <= need and location == completion.location
        if self.policy.negative_stock is NegativeStock.REJECT:
            assert all(q >= 0 for q in stock.values()), stock
        # opening + receipts + completions - backflushed - sold - scrapped ± counts ± transfers
        # (± reversals) = on hand, each kind recomputed from the events posted.
        by_kind: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for m in ledger.moves():
            by_kind[(m.item, m.kind)] += m.qty
        expected: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for ev in ref.posted.values():
            if isinstance(ev, Receipt):
                expected[(ev.item, "receipt")] += ev.qty
            elif isinstance(ev, Completion):
                expected[(ev.item, "completion")] += ev.qty
                for comp, need in ref.explode(ev.item, ev.qty + ev.scrap_qty, ev.date).items():
                    expected[(comp, "backflush")] -= need
            elif isinstance(ev, Sale):
                expected[(ev.item, "sale")] -= ev.qty
            elif isinstance(ev, Scrap):
                expected[(ev.item, "scrap")] -= ev.qty
            elif isinstance(ev, Count):
                for (item, _), qty in ref.delta_of[ev.id].items():
                    expected[(item, "count")] += qty
            elif isinstance(ev, Reversal):
                for (item, _), qty in ref.delta_of[ev.id].items():
                    expected[(item, "reversal")] += qty
        queue = self.policy.negative_stock is NegativeStock.QUEUE
        for item in self.plant.stockable:
            for kind in ("receipt", "completion", "sale", "scrap", "count", "transfer",
                         "opening", "backflush", "reversal"):
                if queue and kind in ("backflush", "reversal"):
                    continue  # parked issues move between the two; the check above covers it
                assert by_kind[(item, kind)] == expected[(item, kind)], (item, kind)
            assert sum((q for (i, _), q in by_kind.items() if i == item), ZERO) \
                == ledger.on_hand_total(item)

    def check_valuation(self) -> None:
        """Each inventory account = Σ round(qty × standard value) of what the policy holds."""
        ledger, ref, p = self.ledger, self.ref, self.policy
        expected: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for item in self.plant.stockable:
            account, _, _ = ref.placement(item)
            if account is not None:
                expected[account] += round_money(ledger.on_hand_total(item) * ref.value(item))
        for item, qty in ledger.pending_totals().items():
            expected[PENDING] -= round_money(qty * ref.value(item))
        for account in (p.name(p.materials_role), FG, PENDING):
            assert self.balance(account) == expected[account], (
                f"{account}: GL {self.balance(account)}, reference valuation "
                f"{expected[account]}")

    def check_undone(self) -> None:
        """Once every event is reversed, nothing is on hand, nothing is parked, and (with the
        standards unchanged and no close in between) every account is back to zero: a
        reversal is the exact negation of the original's effects, in whatever order."""
        ref = self.ref
        undoable = [i for i, e in ref.posted.items() if not isinstance(e, Reversal | Close)]
        if not all(i in ref.reversed for i in undoable
                   if not isinstance(ref.posted[i], CostChange)):
            return
        assert nonzero(self.ledger.stock()) == {}
        assert nonzero(self.ledger.pending_totals()) == {}
        if not any(isinstance(e, CostChange | Close) for e in ref.posted.values()):
            assert nonzero(self.ledger.balances()) == {}

    # ---- period close (posting-rules §4)
    def check_disposal(self, close: Close, before_close: dict[str, Decimal]) -> None:
        """Write-off sends a family's balance to COGS; proration spreads it, with what was
        capitalized at the last close, over ending RIP, ending FG and this period's COGS in
        proportion to the standard content of each (conversion content for conversion,
        material content for the others), to the cent."""
        p, ref, ledger = self.policy, self.ref, self.ledger
        start, end = period_bounds(close.period)
        entries = [s.entry for s in ledger.entries() if s.entry.event_id == close.id]
        assert len(entries) <= 1  # none when there was nothing to dispose of
        lines = entries[0].lines if entries else ()
        rip_cap, fg_cap = CAPITALIZED
        cogs_material = sum((m for day, m, _ in ref.cogs_by_day if start <= day <= end), ZERO)
        cogs_conversion = sum((c for day, _, c in ref.cogs_by_day if start <= day <= end),
                              ZERO)
        cogs_expected = ZERO
        for family in FAMILIES:
            disposition = p.disposition[family]
            if disposition is Disposition.KEEP:
                continue
            old = {name: self.capitalized[(family, name)] for name in CAPITALIZED}
            pool = sum((before_close.get(n, ZERO)
                        for n in {p.name(r) for r in FAMILY_ROLES[family]}), ZERO)
            pool += sum(old.values(), ZERO)
            conversion = family == "conversion"
            held: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for item in self.plant.stockable:
                account, material, conv = ref.placement(item)
                qty = ledger.on_hand_total(item)
                if account is not None and qty > 0:
                    target = fg_cap if account == FG else rip_cap
                    held[target] += qty * (conv if conversion else material)
            weights = {rip_cap: held[rip_cap], fg_cap: held[fg_cap],
                       COGS: max(ZERO, cogs_conversion if conversion else cogs_material)}
            parts = {name: old[name] + sum((ln.net for ln in lines
                                            if ln.account == name and ln.family == family),
                                           ZERO)
                     for name in CAPITALIZED}
            for name in CAPITALIZED:
                self.capitalized[(family, name)] = parts[name]
                assert ledger.family_balance(family, name) == parts[name]
            weight_sum = sum(weights.values(), ZERO)
            if disposition is Disposition.WRITE_OFF or weight_sum == 0:
                assert parts == {rip_cap: 0, fg_cap: 0}, (family, parts)
                cogs_expected += pool
                continue
            parts[COGS] = pool - parts[rip_cap] - parts[fg_cap]
            cogs_expected += parts[COGS]
            for name, weight in weights.items():
                with exact():
                    share = pool * weight / weight_sum
                assert abs(parts[name] - share) < CENT, (family, name, parts, weights, pool)
        cogs_close = sum((ln.net for ln in lines if ln.account == COGS), ZERO)
        assert cogs_close == cogs_expected

    def check_closed(self, close: Close, before_close: dict[str, Decimal]) -> None:
        p = self.policy
        assert self.balance(CONTROL) == 0
        assert self.balance(APPLIED) == 0
        for family in FAMILIES:
            names = {p.name(r) for r in FAMILY_ROLES[family]}
            for name in names:
                if p.disposition[family] is Disposition.KEEP:  # carried forward
                    assert self.balance(name) == before_close.get(name, ZERO), name
                else:
                    assert self.balance(name) == 0, (family, name, self.balance(name))
        if all(p.disposition[f] is not Disposition.PRORATE for f in FAMILIES):
            for name in CAPITALIZED:
                assert self.balance(name) == before_close.get(name, ZERO)
        self.check_disposal(close, before_close)
        # The month is locked: nothing dated in it posts any more, and nothing changes.
        start, end = period_bounds(close.period)
        for n, day in enumerate((start, start + timedelta(days=14), end)):
            late = ConversionIncurred(id=f"LATE-{close.period}-{n}", date=day, amount=D(100))
            before = state_of(self.ledger)
            with pytest.raises(PeriodLockedError):
                services.post_events(self.uow, [late])
            assert state_of(self.ledger) == before
        # The next month is open.
        assert self.post(ConversionIncurred(id=f"NEXT-{close.period}",
                                            date=end + timedelta(days=1), amount=D(5)))


def run_stream(plant: Plant, policy: Policy, events: list[Event]) -> Run:
    run = Run(plant, policy)
    for ev in events:
        before_close = dict(run.ledger.balances())
        posted = run.post(ev)
        if isinstance(ev, Close):
            assert posted
            run.check_closed(ev, before_close)
    run.check_undone()
    return run


# =========================================================================== the properties


# Shrinking a failing month of events can take minutes (each attempt replays whole ledgers),
# so by default a failure is reported as drawn, and replayed first on the next run from the
# example database. Set BACKFLUSH_SHRINK=1 to shrink it to a minimal stream.
PHASES = tuple(Phase) if os.environ.get("BACKFLUSH_SHRINK") else tuple(
    phase for phase in Phase if phase is not Phase.shrink)
SETTINGS = settings(max_examples=600, deadline=None, phases=PHASES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(data=st.data(), plant=plants(), policy=policies())
def test_invariants_hold_after_every_event_for_every_policy(
        data: st.DataObject, plant: Plant, policy: Policy) -> None:
    events = data.draw(streams(plant))
    run_stream(plant, policy, events)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
@settings(SETTINGS, max_examples=int(os.environ.get("BACKFLUSH_SQL_EXAMPLES", "25")),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data(), plant=plants(), policy=policies())
def test_invariants_hold_after_every_event_in_sqlite_and_postgresql(
        backend: str, data: st.DataObject, plant: Plant, policy: Policy) -> None:
    """The same property, on the stored ledgers (fewer examples: each event is a commit)."""
    events = data.draw(streams(plant))
    run_stream(plant, policy, events)


@settings(SETTINGS, max_examples=250)
@given(data=st.data(), plant=plants(), policy=policies(triggers=st.just(VARIANTS[0]),
                                                     conversion=st.just(ConversionMode.INVENTORIED)))
def test_sequential_and_backflush_end_the_period_at_the_same_inventory_plus_cogs(
        data: st.DataObject, plant: Plant, policy: Policy) -> None:
    events = data.draw(streams(plant, close=True))
    backflush = run_stream(plant, policy, events)
    sequential = run_stream(plant, dataclasses.replace(policy, method=Method.SEQUENTIAL), events)
    assert sequential.refused == backflush.refused
    assert sequential.balance(WIP) == 0
    pending_and_capitalized = [PENDING, *CAPITALIZED]

    def total(run: Run, accounts: list[str]) -> Decimal:
        return sum((run.balance(a) for a in accounts + pending_and_capitalized), ZERO)

    assert total(backflush, [RIP, FG, COGS]) == total(sequential, [MATERIALS, WIP, FG, COGS])
    assert len(list(sequential.ledger.entries())) >= len(list(backflush.ledger.entries()))


# =========================================================================== minimal repros
# Two engine bugs the properties above found, each shrunk to its smallest case (both fixed in
# a23cb0a); kept as regression tests.


def _ledger(items: list[Item], boms: list[BomVersion], policy: Policy,
            events: list[Event]) -> InMemoryLedger:
    uow = InMemoryUnitOfWork()
    master = MasterData({i.code: i for i in items}, Boms.of(boms))
    services.set_up_ledger(uow, master, policy, as_of=START)
    for ev in events:
        services.post_events(uow, [ev])
    assert reports.verify(uow.ledger) == []
    return uow.ledger


def test_reversing_a_queued_completion_then_the_receipt_that_cleared_it_leaves_nothing() -> None:
    """Under ``queue`` a completion parks its short issue; a receipt clears it; both are then
    reversed, the completion first. Nothing happened, so nothing may be on hand or parked."""
    day = date(2026, 11, 2)
    ledger = _ledger(
        [Item("P1", standard_cost=D("1.00")), Item("M1", conversion_cost=D("2.00"), made=True)],
        [BomVersion("M1", 1, START, (BomLine("P1", D(1)),))],
        Policy(negative_stock=NegativeStock.QUEUE),
        [Completion(id="W1", date=day, item="M1", qty=D(5)),
         Receipt(id="R1", date=day, item="P1", qty=D(5), unit_price=D("1.00")),
         Reversal(id="X1", date=day, of="W1"),
         Reversal(id="X2", date=day, of="R1")])
    assert ledger.pending_at("P1", "stores") == ()  # was (("W1", 5),) though W1 was reversed
    assert nonzero(ledger.stock()) == {}
    assert nonzero(ledger.balances()) == {}


def test_a_reversal_after_a_standard_change_is_revalued_even_if_the_original_had_no_entry() -> None:
    """An intermediate without conversion: its completion nets to zero in RIP and posts no
    entry. Its standard then changes (stock revalued +50.00) and the completion is reversed:
    the 50.00 is the revaluation undone, not a rounding difference."""
    day = date(2026, 11, 2)
    ledger = _ledger(
        [Item("P1", standard_cost=D("1.00")),
         Item("M1", conversion_cost=D(0), made=True),
         Item("M2", conversion_cost=D("1.00"), made=True)],
        [BomVersion("M1", 1, START, (BomLine("P1", D(1)),)),
         BomVersion("M2", 1, START, (BomLine("M1", D(1)),))],
        Policy(),
        [Receipt(id="R1", date=day, item="P1", qty=D(10), unit_price=D("1.00")),
         Completion(id="W1", date=day, item="M1", qty=D(10)),
         CostChange(id="K1", date=day, item="M1", conversion_cost=D("5.00")),
         Reversal(id="X1", date=day, of="W1")])
    assert ledger.balance(ROUNDING) == 0  # was 50.00
    assert ledger.balance(REVALUATION) == 0
    assert nonzero(ledger.balances()) == {RIP: D(10), AP: D(-10)}
