"""A synthetic plant: master data and an event stream, written as files the importers read.

Deterministic for a seed (one :class:`random.Random`, nothing drawn from sets or the clock).
Items are laid out in levels: level 0 is purchased, levels 1..depth are made, the top level
is finished goods. Each made item draws ``fan_out`` components from lower levels (at least
one from the level just below, so the BOM is as deep as asked); some intermediate items are
phantoms, some BOM lines carry a scrap factor. Events are written one at a time (bounded
memory, whatever their number), each with its own ``id``: a ledger's event file needs one
for every event (the idempotency key that lets a file be posted again).

The files are the ones the importers read (``backflush import work-centers|items|routings|
boms``, then ``backflush post events.jsonl``), in the columns of
:mod:`backflush.adapters.files.masterdata`. Prices are written from whole cents as decimal
text: the engine refuses binary floats, and none is ever formed here.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any


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
                    items_w.writerow([code, "ea", "purchased",
                                      cents(rng.randint(5, 50_000)), ""])
                else:
                    items_w.writerow([code, "ea", "made", "",
                                      "yes" if code in phantom else ""])
        _, wc_w = writer("work-centers.csv", ["code", "labor_rate", "overhead_rate"])
        for wc in wcs:
            wc_w.writerow([wc, cents(rng.randint(1500, 6000)), cents(rng.randint(2000, 9000))])
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
                    rt_w.writerow([code, 10, rng.choice(wcs), cents(rng.randint(1, 60)),
                                   f"{half_hours // 2}.{5 * (half_hours % 2)}",
                                   rng.choice((10, 50, 100))])
                comps = {rng.choice(levels[lv - 1])}
                while len(comps) < min(spec.fan_out, len(below)):
                    comps.add(rng.choice(below))
                for comp in sorted(comps):
                    scrap = cents(rng.choice((1, 2, 5))) \
                        if rng.random() < spec.scrap_share else ""
                    bom_w.writerow([code, 1, "2000-01-01", comp, rng.choice((1, 1, 2, 3, 4)),
                                    scrap])
                    lines += 1

    stocked = [c for lv in levels[1:] for c in lv if c not in phantom]
    finished = [c for c in levels[-1] if c not in phantom]
    events_path = out / "events.jsonl"
    files.append(events_path)
    with events_path.open("w", encoding="utf-8") as fh:
        for i in range(spec.events):
            day = spec.start + timedelta(days=i * spec.days // max(spec.events, 1))
            roll = rng.random()
            if roll < 0.25:
                ev = {"type": "receipt", "item": rng.choice(levels[0]),
                      "qty": rng.randint(100, 5000),
                      "unit_price": cents(rng.randint(5, 50_000))}
            elif roll < 0.80:
                ev = {"type": "completion", "item": rng.choice(stocked),
                      "qty": rng.randint(1, 20)}
                if rng.random() < 0.05:
                    ev["scrap_qty"] = 1
            elif roll < 0.97:
                ev = {"type": "sale", "item": rng.choice(finished), "qty": rng.randint(1, 10),
                      "unit_price": cents(rng.randint(100, 200_000))}
            else:
                ev = {"type": "count", "item": rng.choice(levels[0]),
                      "qty": rng.randint(0, 2000)}
            ev = {"id": f"E{i + 1:08d}", "date": day.isoformat(), **ev}
            fh.write(json.dumps(ev) + "\n")
            if progress is not None and (i + 1) % 10_000 == 0:
                progress(i + 1)
    return Written(spec.items, lines, spec.events, tuple(files))
