"""The model the property tests check the engine against: random plants, policies and
months of events (Hypothesis strategies), and an independent reference of what the books
must say (explosion, roll-up, where value sits)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from hypothesis import strategies as st

from backflush.domain import inprocess
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.events import (
    Close,
    Completion,
    ConversionIncurred,
    CostChange,
    Count,
    Event,
    Issue,
    RateChange,
    Receipt,
    Release,
    Reversal,
    Sale,
    Scrap,
    Signal,
    Transfer,
    period_bounds,
    period_of,
)
from backflush.domain.items import Item
from backflush.domain.kanban import Supermarket
from backflush.domain.masterdata import MasterData
from backflush.domain.numbers import QUANTITY
from backflush.domain.policy import (
    DEFAULT_ACCOUNTS,
    MATERIAL_FAMILIES,
    ConversionMode,
    Disposition,
    Journal,
    NegativeStock,
    Payables,
    Policy,
    Role,
    Stage,
)
from backflush.domain.routing import Operation, WorkCenter
from tests.support import Reader

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
GAAP_ADJUSTMENTS = (NAME[Role.MATERIALS_GAAP_ADJUSTMENT],
                    NAME[Role.FINISHED_GOODS_GAAP_ADJUSTMENT])
NRV_ALLOWANCE, ABNORMAL = NAME[Role.NRV_ALLOWANCE], NAME[Role.ABNORMAL_SCRAP]
GR_IR = NAME[Role.GR_IR_CLEARING]


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


IN_PART = (Completion, Sale, Receipt)  # what a reversal may take back in part (its qty)


@dataclass(frozen=True)
class Part:
    """What a reversal takes back of its original: from ``before`` units reversed to
    ``after`` of ``whole``; every quantity and amount is the difference of the original's
    scaled to each end (money rounded at each end), so the parts add up to the whole."""

    before: Decimal
    after: Decimal
    whole: Decimal

    def at(self, value: Decimal, reached: Decimal, money: bool) -> Decimal:
        if reached == self.whole:
            return value
        with exact():
            scaled = value * reached / self.whole
        return round_money(scaled) if money else scaled

    def of(self, value: Decimal, *, money: bool = False) -> Decimal:
        if self.before == 0 and self.after == self.whole:  # the whole at once (of 0: too)
            return value
        return self.at(value, self.after, money) - self.at(value, self.before, money)


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
FLUSH = st.sampled_from(("backflush", "backflush", "backflush", "manual"))  # issued by hand


@st.composite
def plants(draw: st.DrawFn) -> Plant:
    n_purchased = draw(st.integers(2, 6))
    n_made = draw(st.integers(1, 4))
    items: dict[str, Item] = {}
    purchased = tuple(f"P{i}" for i in range(1, n_purchased + 1))
    for code in purchased:
        items[code] = Item(code, standard_cost=draw(money(1, 2000)),
                           backflush_from=draw(st.sampled_from((None, None, "line"))),
                           negative_stock=draw(st.sampled_from(
                               (None, None, None, "allow", "queue", "reject"))))
    work_centers = {
        "WC1": WorkCenter("WC1", labor_rate=draw(money(0, 5000)),
                          overhead_rate=draw(money(0, 5000)),
                          budget=draw(st.none() | st.tuples(money(0, 90000), money(0, 90000),
                                                            st.just(ZERO))),
                          budget_hours=D(draw(st.integers(1, 500)))),
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
            lines = tuple(BomLine(c, draw(QTY_PER), draw(SCRAP_FACTOR), draw(FLUSH))
                          for c in comps)
            versions.append(BomVersion(code, 1, START, lines))
            if draw(st.integers(0, 4)) == 0:  # a second version, effective mid-month
                more = draw(st.sampled_from((D(1), D("0.5"))))
                changed = tuple(BomLine(ln.component, ln.qty + more, ln.scrap, ln.flush)
                                for ln in lines)
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
    # Supermarkets: now and then a part drawn from the line is kept there in containers.
    kanban = {(code, "line"): Supermarket(code, "line", draw(st.sampled_from((D(1), D(5), D(12)))),
                                          D(1), D("0.1"))
              for code in purchased if items[code].backflush_from == "line"
              and draw(st.booleans())}
    master = MasterData(items, Boms.of(versions), work_centers, routings, kanban)
    return Plant(master, purchased, tuple(made), frozenset(phantoms), routed)


@st.composite
def dispositions(draw: st.DrawFn) -> dict[str, Disposition]:
    out = {"conversion": draw(st.sampled_from((Disposition.WRITE_OFF, Disposition.PRORATE)))}
    for family in MATERIAL_FAMILIES:
        out[family] = draw(st.sampled_from(tuple(Disposition)))
    return out


def policies(triggers: st.SearchStrategy[frozenset[Stage]] = st.sampled_from(VARIANTS),
             conversion: st.SearchStrategy[ConversionMode] = st.sampled_from(tuple(ConversionMode)),
             journal: st.SearchStrategy[Journal] = st.sampled_from(tuple(Journal)),
             ) -> st.SearchStrategy[Policy]:
    return st.builds(Policy, triggers=triggers, conversion=conversion,
                     negative_stock=st.sampled_from(tuple(NegativeStock)),
                     payables=st.sampled_from(tuple(Payables)),
                     disposition=dispositions(), journal=journal)


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
        self.reversed: set[str] = set()  # reversed in full
        self.reversed_qty: dict[str, Decimal] = defaultdict(lambda: ZERO)  # taken back so far
        self.part_of: dict[str, Part] = {}  # what each reversal of a qty event took back
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
        for (comp, _), need in self.split(parent, qty, when).items():
            out[comp] += need
        return dict(out)

    def split(self, parent: str, qty: Decimal, when: date) -> dict[tuple[str, bool], Decimal]:
        """:meth:`explode` by (component, issued by hand): a manual line's part, or all of a
        phantom's parts under a manual line, comes from the parent's in-process stock."""
        out: dict[tuple[str, bool], Decimal] = defaultdict(lambda: ZERO)

        def walk(code: str, multiplier: Decimal, manual: bool) -> None:
            for line in self.bom_on(code, when).lines:
                with exact():
                    need = multiplier * line.qty * (1 + line.scrap)
                by_hand = manual or line.flush == "manual"
                if self.items[line.component].phantom:
                    walk(line.component, need, by_hand)
                else:
                    out[(line.component, by_hand)] += need

        if parent in self.versions:
            walk(parent, qty, False)
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
        if isinstance(ev, Issue) and not any(
                manual for (comp, manual) in self.split(ev.parent, D(1), ev.date)
                if comp == ev.item):
            return "issue of a part not issued by hand to that parent"
        if isinstance(ev, Signal) and (ev.item, ev.location) not in self.plant.master.kanban:
            return "signal without a supermarket"
        if isinstance(ev, Reversal):
            original = self.posted.get(ev.of)
            if original is None:
                return "reversal of an event never posted"
            if isinstance(original, Reversal | Close | CostChange | RateChange):
                return f"reversal of a {original.type}"
            if ev.of in self.reversed:
                return "second reversal"
            if ev.qty is not None and not isinstance(original, IN_PART):
                return f"partial reversal of a {original.type}"
            if ev.qty is not None and ev.qty > original.qty - self.reversed_qty[ev.of]:  # type: ignore[attr-defined]
                return "reversing more than is left"
        return None

    def part(self, ev: Reversal) -> Part | None:
        """What ``ev`` takes back of its original (None: the whole of an event without qty)."""
        original = self.posted[ev.of]
        if not isinstance(original, IN_PART):
            return None
        before = self.reversed_qty[ev.of]
        after = original.qty if ev.qty is None else before + ev.qty
        return Part(before, after, original.qty)

    def source(self, component: str, ev: Completion) -> str:
        """Where a completion backflushes a component from: its line-side location, if the
        item names one, else the completion's."""
        return self.items[component].backflush_from or ev.location

    def rule(self, item: str) -> NegativeStock:
        """The item's own negative-stock rule, else the policy's."""
        own = self.items[item].negative_stock
        return NegativeStock(own) if own is not None else self.policy.negative_stock

    def delta(self, ev: Event, ledger: Reader) -> dict[tuple[str, str], Decimal]:
        """What ``ev`` does to the effective quantities (on hand minus parked)."""
        out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        if isinstance(ev, Receipt):
            out[(ev.item, ev.location)] += ev.qty
        elif isinstance(ev, Completion):
            split = self.split(ev.item, ev.qty + ev.scrap_qty, ev.date)
            for (comp, manual), need in sorted(split.items()):
                if manual:  # consumed from what was issued, never below zero
                    place = (comp, inprocess.location(ev.item))
                    out[place] -= min(need, max(self.effective[place], ZERO))
                else:
                    out[(comp, self.source(comp, ev))] -= need
            out[(ev.item, ev.destination)] += ev.qty
        elif isinstance(ev, Sale | Scrap):
            out[(ev.item, ev.location)] -= ev.qty
        elif isinstance(ev, Issue):
            out[(ev.item, ev.location)] -= ev.qty
            out[(ev.item, inprocess.location(ev.parent))] += ev.qty
        elif isinstance(ev, Transfer):
            out[(ev.item, ev.from_location)] -= ev.qty
            out[(ev.item, ev.to_location)] += ev.qty
        elif isinstance(ev, Count):
            out[(ev.item, ev.location)] += ev.qty - ledger.on_hand(ev.item, ev.location)
        elif isinstance(ev, Reversal):
            part = self.part(ev)
            for key, qty in self.delta_of[ev.of].items():
                out[key] -= qty if part is None else part.of(qty)
        return nonzero(out)

    def apply(self, ev: Event, delta: dict[tuple[str, str], Decimal]) -> None:
        self.posted[ev.id] = ev
        self.delta_of[ev.id] = delta
        for key, qty in delta.items():
            self.effective[key] += qty
        if isinstance(ev, Reversal):
            part = self.part(ev)
            if part is None or part.after == part.whole:
                self.reversed.add(ev.of)
            if part is not None:
                self.part_of[ev.id] = part
                self.reversed_qty[ev.of] = part.after
            if ev.of in self.cogs_content:
                m, c = self.cogs_content[ev.of]
                if part is not None:
                    m, c = part.of(m, money=True), part.of(c, money=True)
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
        elif isinstance(ev, RateChange):
            wc = self.work_centers[ev.work_center]
            self.work_centers = {**self.work_centers, ev.work_center: dataclasses.replace(
                wc, budget=None, budget_hours=ZERO,
                labor_rate=wc.labor_rate if ev.labor_rate is None else ev.labor_rate,
                overhead_rate=wc.overhead_rate if ev.overhead_rate is None
                else ev.overhead_rate,
                conversion_rate=wc.conversion_rate if ev.rate is None else ev.rate)}
            self.rolled_on = ev.date
            self.costs = self.roll_up(ev.date)
        elif isinstance(ev, Close):
            self.locked_through = period_bounds(ev.period)[1]


# =========================================================================== event streams


KINDS = ("receipt", "receipt", "completion", "completion", "completion", "sale", "sale",
         "scrap", "count", "transfer", "conversion", "conversion", "reversal", "cost_change",
         "release", "issue", "signal")


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
            split = self.ref.split(ev.item, ev.qty + ev.scrap_qty, ev.date)
            for (comp, manual), need in split.items():
                place = (comp, inprocess.location(ev.item) if manual
                         else self.ref.source(comp, ev))
                self.sim[place] -= min(need, max(self.sim[place], ZERO)) if manual else need
            self.sim[(ev.item, ev.destination)] += ev.qty
        elif isinstance(ev, Sale | Scrap):
            self.sim[(ev.item, ev.location)] -= ev.qty
        elif isinstance(ev, Issue):
            self.sim[(ev.item, ev.location)] -= ev.qty
            self.sim[(ev.item, inprocess.location(ev.parent))] += ev.qty
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
            # Parts issued by hand: mostly what the completion needs, now and then short or
            # in excess (what stays in process feeds the next completion).
            for (comp, manual), need in sorted(self.ref.split(item, qty + scrap,
                                                               self.when).items()):
                if manual and self.draw(st.integers(0, 4)):
                    more = D(self.draw(st.sampled_from((0, 0, 0, -1, 1, 2))))
                    issued = (need - self.sim[(comp, inprocess.location(item))] + more
                              ).quantize(D(1).scaleb(-QUANTITY.places), rounding=ROUND_CEILING)
                    if issued > 0:
                        self.emit(Issue, item=comp, qty=issued, parent=item,
                                  location=location)
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
                  reason=self.draw(st.sampled_from(("", "dropped"))), location=self.location(),
                  abnormal=self.draw(st.integers(0, 3)) == 0)

    def count(self) -> None:
        item = self.draw(st.sampled_from(self.plant.stockable))
        location = self.location()
        counted = max(ZERO, self.sim[(item, location)] + self.draw(st.integers(-3, 3)))
        # Backflushed stock may have more places than a quantity given may (stock's places
        # add up through the levels): a count says what was counted, to the places allowed.
        counted = counted.quantize(D(1).scaleb(-QUANTITY.places), rounding=ROUND_DOWN)
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
            original = self.draw(st.sampled_from(tuple(self.events)))
            self.emit(Reversal, of=original.id, qty=self.part_qty(original))

    def part_qty(self, original: Event) -> Decimal | None:
        """None (the whole, or what is left), or a share of the original's quantity (now and
        then more than it had, or a qty on an event that has none: refused)."""
        whole = getattr(original, "qty", ZERO)
        share = self.draw(st.sampled_from((None, None, D("0.5"), D("0.25"), D("0.2"),
                                           D("0.3"), D("0.125"), D("1"), D("1.5"))))
        if share is None or not isinstance(original, (*IN_PART, Scrap)):
            return None
        qty: Decimal = whole * share
        return qty if qty > 0 else None

    def cost_change(self) -> None:
        explicit = self.plant.explicit_conversion
        if self.draw(st.integers(0, 3)) == 0:  # a work center's rates
            if self.draw(st.booleans()):
                self.emit(RateChange, work_center="WC1", labor_rate=self.draw(money(0, 5000)))
            else:
                self.emit(RateChange, work_center="WC2", rate=self.draw(money(1, 9000)))
        elif explicit and self.draw(st.booleans()):
            self.emit(CostChange, item=self.draw(st.sampled_from(explicit)),
                      conversion_cost=self.draw(money(0, 3000)))
        else:
            self.emit(CostChange, item=self.draw(st.sampled_from(self.plant.purchased)),
                      standard_cost=self.draw(money(0, 2000)))

    def issue(self) -> None:
        """A part issued by hand to a parent, ahead of its completion; now and then one
        that is backflushed instead (refused)."""
        made = self.plant.stocked_made
        parent = self.draw(st.sampled_from(made))
        split = self.ref.split(parent, D(1), self.when)
        if not split:
            return
        comp, _ = self.draw(st.sampled_from(sorted(split)))
        self.emit(Issue, item=comp, qty=self.qty(), parent=parent, location=self.location(),
                  order=self.draw(st.sampled_from(("", "WO-7"))))

    def signal(self) -> None:
        """A kanban card for a part at the line (refused when it has no supermarket)."""
        self.emit(Signal, item=self.draw(st.sampled_from(self.plant.purchased)),
                  location="line", qty=D(self.draw(st.integers(1, 30))))

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
                   if not isinstance(e, Reversal | CostChange | RateChange | Close)]
            for of in draw(st.permutations(ids)):
                original = next(e for e in builder.events if e.id == of)
                if isinstance(original, IN_PART) and original.qty and draw(st.booleans()):
                    builder.emit(Reversal, of=of, qty=original.qty * D("0.25"))  # in parts
                builder.emit(Reversal, of=of)  # (the rest)
        if close:
            builder.day = last
            builder.emit(Close, period=period_of(builder.when), force=draw(st.booleans()),
                         gaap_bridge=draw(st.booleans()))
    return builder.events
