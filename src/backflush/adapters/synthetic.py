"""A synthetic plant: master data and an event stream, written as files the importers read.

Deterministic for a seed (one :class:`random.Random`, nothing drawn from sets or the clock).
Items are laid out in levels: level 0 is purchased, levels 1..depth are made, the top level
is finished goods. Each made item draws ``fan_out`` components from lower levels (at least
one from the level just below, so the BOM is as deep as asked); some intermediate items are
phantoms, some BOM lines carry a scrap factor. Events are written one at a time (memory
bounded by the number of items, whatever the number of events), each with its own ``id``:
a ledger's event file needs one for every event (the idempotency key that lets a file be
posted again).

The month is one a controller would believe (:meth:`Plant.month`): parts are received
before they are needed, at prices within 3 % of standard; stocked subassemblies are
completed before their parents consume them; finished goods are sold from stock at a
30-80 % margin; conversion incurred is within 4 % of what was applied; counts find a little
unreported scrap. So stock never goes negative and variances are a few per cent.

The files are the ones the importers read (``backflush import work-centers|items|routings|
boms``, then ``backflush post events.jsonl``), in the columns of
:mod:`backflush.adapters.files.masterdata`. Prices are written from whole cents as decimal
text: the engine refuses binary floats, and none is ever formed here.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ZERO = Decimal(0)
CENT = Decimal("0.01")
SUPPLIERS = 12  # purchased parts come from this many suppliers, one each


def cents(amount: int) -> str:
    """Whole cents as decimal text (``1234`` -> ``12.34``), with no float in between."""
    return f"{amount // 100}.{amount % 100:02d}"


@dataclass(frozen=True)
class PlantSpec:
    """What to generate; :meth:`check` says what is wrong with it, as sentences."""

    items: int = 200
    depth: int = 3
    fan_out: int = 5
    phantom_share: float = 0.1
    scrap_share: float = 0.2
    work_centers: int = 5
    events: int = 10_000
    seed: int = 1
    start: date = date(2026, 11, 1)
    days: int = 30

    def check(self) -> list[str]:
        problems = []
        if not 1 <= self.depth <= 10:
            problems.append("depth must be from 1 to 10")
        if self.items < 2 * (self.depth + 1):
            problems.append(f"items must be at least {2 * (self.depth + 1)} for depth "
                            f"{self.depth}")
        if self.fan_out < 1:
            problems.append("fan_out must be at least 1")
        if not 0 <= self.phantom_share < 1 or not 0 <= self.scrap_share <= 1:
            problems.append("phantom_share is in [0, 1) and scrap_share in [0, 1]")
        if self.events < 0 or self.work_centers < 1 or self.days < 1:
            problems.append("events >= 0, work_centers >= 1 and days >= 1")
        return problems


@dataclass(frozen=True)
class Written:
    """What was written: counts, and the paths of the files."""

    items: int
    bom_lines: int
    events: int
    files: tuple[Path, ...]


def generate(spec: PlantSpec, out: Path, progress: Callable[[int], None] | None = None
             ) -> Written:
    """Write the plant into the folder ``out`` (created if need be); ``progress`` is called
    with the number of events written, every 10,000."""
    rng = random.Random(spec.seed)
    plant = Plant()
    out.mkdir(parents=True, exist_ok=True)
    # Levels: half the items purchased, the rest spread over the made levels.
    purchased = max(spec.items // 2, 1)
    made = spec.items - purchased
    per_level = [purchased] + [max(made // spec.depth, 1)] * spec.depth
    per_level[-1] += made - sum(per_level[1:])
    levels: list[list[str]] = []
    n = 0
    for lv, count in enumerate(per_level):
        levels.append([f"{'P' if lv == 0 else 'M'}{lv}-{n + i:06d}" for i in range(count)])
        n += count
    phantom = {code for lv in levels[1:-1] for code in lv if rng.random() < spec.phantom_share}
    wcs = [f"WC{i + 1:02d}" for i in range(spec.work_centers)]
    files = []

    stack = ExitStack()

    def writer(name: str, header: list[str]) -> tuple[Path, Any]:
        path = out / name
        w = csv.writer(stack.enter_context(path.open("w", newline="", encoding="utf-8")))
        w.writerow(header)
        files.append(path)
        return path, w

    with stack:
        _, items_w = writer("items.csv", ["code", "uom", "type", "standard_cost", "phantom"])
        for lv, codes in enumerate(levels):
            for code in codes:
                if lv == 0:
                    plant.cost[code] = rng.randint(5, 50_000)
                    plant.supplier[code] = f"Supplier {rng.randint(1, SUPPLIERS):02d}"
                    items_w.writerow([code, "ea", "purchased", cents(plant.cost[code]), ""])
                else:
                    items_w.writerow([code, "ea", "made", "",
                                      "yes" if code in phantom else ""])
        _, wc_w = writer("work-centers.csv", ["code", "labor_rate", "overhead_rate"])
        for wc in wcs:
            labor, overhead = rng.randint(1500, 6000), rng.randint(2000, 9000)
            plant.rate[wc] = labor + overhead
            wc_w.writerow([wc, cents(labor), cents(overhead)])
        _, rt_w = writer("routings.csv", ["item", "operation", "work_center", "run_hours",
                                          "setup_hours", "lot_size"])
        _, bom_w = writer("boms.csv", ["parent", "version", "effective", "component", "qty",
                                       "scrap"])
        lines = 0
        for lv in range(1, len(levels)):
            below = [c for lower in levels[:lv] for c in lower]
            for code in levels[lv]:
                if code not in phantom:
                    half_hours = rng.randint(0, 4)
                    wc, run = rng.choice(wcs), rng.randint(1, 60)
                    lot = rng.choice((10, 50, 100))
                    rt_w.writerow([code, 10, wc, cents(run),
                                   f"{half_hours // 2}.{5 * (half_hours % 2)}", lot])
                    hours = Decimal(run) / 100 + Decimal(half_hours) / 2 / lot
                    plant.conversion[code] = hours * plant.rate[wc] / 100
                comps = {rng.choice(levels[lv - 1])}
                while len(comps) < min(spec.fan_out, len(below)):
                    comps.add(rng.choice(below))
                for comp in sorted(comps):
                    scrap = cents(rng.choice((1, 2, 5))) \
                        if rng.random() < spec.scrap_share else ""
                    qty = rng.choice((1, 1, 2, 3, 4))
                    bom_w.writerow([code, 1, "2000-01-01", comp, qty, scrap])
                    plant.bom.setdefault(code, []).append(
                        (comp, qty * (1 + (Decimal(scrap) if scrap else ZERO))))
                    lines += 1

    plant.phantom = phantom
    finished = [c for c in levels[-1] if c not in phantom] or [levels[-1][0]]
    events_path = out / "events.jsonl"
    files.append(events_path)
    with events_path.open("w", encoding="utf-8") as fh:
        for i, ev in enumerate(plant.month(rng, finished, spec.events)):
            day = spec.start + timedelta(days=i * spec.days // max(spec.events, 1))
            ev = {"id": f"E{i + 1:08d}", "date": day.isoformat(), **ev}
            fh.write(json.dumps(ev) + "\n")
            if progress is not None and (i + 1) % 10_000 == 0:
                progress(i + 1)
    return Written(spec.items, lines, spec.events, tuple(files))


@dataclass
class Plant:
    """The plant as the generator knows it: costs in cents (purchased) and per unit
    (conversion), BOM lines with their scrap allowance, and the stock the events leave."""

    cost: dict[str, int] = field(default_factory=dict)
    supplier: dict[str, str] = field(default_factory=dict)
    rate: dict[str, int] = field(default_factory=dict)
    conversion: dict[str, Decimal] = field(default_factory=dict)
    bom: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)
    phantom: set[str] = field(default_factory=set)
    on_hand: dict[str, Decimal] = field(default_factory=dict)
    _standard: dict[str, Decimal] = field(default_factory=dict)

    def standard(self, item: str) -> Decimal:
        """About the engine's rolled-up standard (to price sales a believable margin)."""
        if item in self.cost:
            return Decimal(self.cost[item]) / 100
        if item not in self._standard:
            self._standard[item] = self.conversion.get(item, ZERO) + sum(
                (q * self.standard(c) for c, q in self.bom.get(item, [])), ZERO)
        return self._standard[item]

    def needs(self, item: str, units: Decimal) -> dict[str, Decimal]:
        """What a completion of ``units`` relieves: its stocked components and purchased
        parts (through phantoms), with their scrap allowance."""
        out: dict[str, Decimal] = {}
        for comp, per in self.bom.get(item, []):
            if comp in self.phantom:
                for part, q in self.needs(comp, units * per).items():
                    out[part] = out.get(part, ZERO) + q
            else:
                out[comp] = out.get(comp, ZERO) + units * per
        return out

    def make(self, rng: random.Random, item: str, good: int, scrap: int
             ) -> Iterator[dict[str, Any]]:
        """A completion, preceded by what it needs: receipts of parts short (a few weeks'
        worth, at a price within 3 % of standard) and completions of subassemblies short
        (in lots), so stock never goes negative."""
        needs = self.needs(item, Decimal(good + scrap))
        while True:  # (making one subassembly may use up another component's stock)
            shorts = [(c, q - self.on_hand.get(c, ZERO)) for c, q in needs.items()
                      if q > self.on_hand.get(c, ZERO)]
            if not shorts:
                break
            for comp, short in shorts:
                lot = int(short) + 1
                if comp in self.cost:
                    lot = max(lot * rng.randint(4, 12), 100)
                    price = self.cost[comp] * rng.randint(97, 103) // 100 or 1
                    self.on_hand[comp] = self.on_hand.get(comp, ZERO) + lot
                    yield {"type": "receipt", "item": comp, "qty": lot,
                           "unit_price": cents(price), "supplier": self.supplier[comp]}
                else:
                    yield from self.make(rng, comp, max(lot, rng.choice((10, 20, 50))), 0)
        for comp, qty in needs.items():
            self.on_hand[comp] -= qty
        self.on_hand[item] = self.on_hand.get(item, ZERO) + good
        ev: dict[str, Any] = {"type": "completion", "item": item, "qty": good}
        if scrap:
            ev["scrap_qty"] = scrap
        yield ev

    def month(self, rng: random.Random, finished: list[str], n: int
              ) -> Iterator[dict[str, Any]]:
        """``n`` events: completions of finished goods (with what they need first), sales of
        what is on hand at a 30-80 % margin, conversion incurred within 4 % of what was
        applied, and counts of parts that find a little unreported scrap (0-2 %)."""
        written = 0
        cost = ZERO
        while True:
            roll = rng.random()
            events: Iterable[dict[str, Any]]
            if roll < 0.45:
                item, good = rng.choice(finished), rng.randint(1, 20)
                scrap = 1 if rng.random() < 0.05 else 0
                events = list(self.make(rng, item, good, scrap))
                cost += sum((self.conversion.get(e["item"], ZERO) * (e["qty"] +
                             e.get("scrap_qty", 0)) for e in events
                             if e["type"] == "completion"), ZERO)
            elif roll < 0.90:
                item = rng.choice(finished)
                qty = min(int(self.on_hand.get(item, ZERO)), rng.randint(1, 20))
                if qty <= 0:
                    continue
                self.on_hand[item] -= qty
                price = self.standard(item) * rng.randint(130, 180) / 100
                events = [{"type": "sale", "item": item, "qty": qty,
                           "unit_price": f"{price.quantize(CENT)}"}]
            elif roll < 0.97:
                if cost <= 0:
                    continue
                amount = (cost * rng.randint(96, 104) / 100).quantize(CENT)
                events, cost = [{"type": "conversion_incurred", "amount": f"{amount}",
                                 "element": "conversion"}], ZERO
            else:
                parts = [p for p, q in self.on_hand.items() if p in self.cost and q > 0]
                if not parts:
                    continue
                part = rng.choice(parts)
                counted = int(self.on_hand[part] * rng.randint(980, 1000) / 1000)
                self.on_hand[part] = Decimal(counted)
                events = [{"type": "count", "item": part, "qty": counted}]
            for ev in events:
                if written == n:
                    return
                written += 1
                yield ev
