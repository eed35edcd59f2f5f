"""The standard cost roll-up of a large plant, against its definition written the plain way.

Workload: a plant of 100,000 × S items built from the domain's records (not timed): half
purchased (costs with 2 to 4 decimals), half made over 10 levels, ~20 BOM lines a made item
(~10 an item overall: ~1,000,000 lines), half drawn from purchased items and half from made
items below; 5 % of the intermediates are phantoms, 20 % of the lines carry a scrap factor,
30 % a quantity with decimals; 3 % of the made items have a superseded BOM version and 2 % a
future one; most made items have a routing of 1 to 3 operations over 20 work centers, the
others an explicit conversion cost. Each line has a string and Decimals of its own, as read
from a file or a database.

Figure: ``roll_up`` seconds, the first call on the plant (cold) and a second one (as after a
cost change), the median of ``--runs``. Baseline, same run: the roll-up's definition written
the plain way (recursive, in Decimal, as tests/unit/test_rollup.py has it) on the plant of
``--baseline-scale``; both results are checked equal.

    python bench/bench_rollup.py                      # 100,000 items, ~1,000,000 lines
    python bench/bench_rollup.py --scale 0.1          # 10,000 items
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from common import describe_machine, machine_speed

from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costs import Cost
from backflush.domain.items import Item
from backflush.domain.masterdata import MasterData
from backflush.domain.rollup import roll_up
from backflush.domain.routing import Operation, WorkCenter

FULL_ITEMS = 100_000
AS_OF = date(2026, 11, 1)
QTYS = ("1", "1", "1", "2", "2", "3", "4", "0.5", "1.25", "2.5")
SCRAPS = ("0.01", "0.02", "0.05", "0.025")
TEN = Decimal("1E-10")


@dataclass(frozen=True)
class Plant:
    master: MasterData
    items: int
    lines: int
    lines_in_effect: int


def build_plant(n_items: int, *, depth: int = 10, lines_per_made: int = 20,
                seed: int = 7) -> Plant:
    rng = random.Random(seed)
    n_purchased = max(n_items // 2, 1)
    n_made = max(n_items - n_purchased, depth)
    purchased = [f"P{i:07d}" for i in range(n_purchased)]
    levels: list[list[str]] = [[] for _ in range(depth + 1)]
    for i in range(n_made):
        lv = 1 + (i % depth if i < depth else rng.randrange(depth))
        levels[lv].append(f"M{lv:02d}-{i:07d}")
    items: dict[str, Item] = {}
    for code in purchased:
        places = rng.choice((2, 2, 3, 4))
        items[code] = Item(code, standard_cost=Decimal(
            rng.randint(5, 50_000 * 10 ** (places - 2))).scaleb(-places))
    phantom = {c for lv in range(1, depth) for c in levels[lv] if rng.random() < 0.05}
    wcs: dict[str, WorkCenter] = {}
    for i in range(20):
        code = f"WC{i + 1:02d}"
        wcs[code] = (WorkCenter(code, conversion_rate=Decimal(rng.randint(3000, 12000)) / 100)
                     if i % 4 == 3 else
                     WorkCenter(code, labor_rate=Decimal(rng.randint(1500, 6000)) / 100,
                                overhead_rate=Decimal(rng.randint(2000, 9000)) / 100))
    routings: dict[str, tuple[Operation, ...]] = {}
    versions: list[BomVersion] = []
    made_below: list[str] = []
    lines = in_effect = 0

    def bom_lines(lv: int, count: int) -> tuple[BomLine, ...]:
        count = min(count, len(purchased) + len(made_below))
        comps = dict.fromkeys([rng.choice(levels[lv - 1])] if lv > 1 else [])
        while len(comps) < count:
            pool = made_below if made_below and rng.random() < 0.5 else purchased
            comps[rng.choice(pool)] = None
        return tuple(BomLine((comp + " ")[:-1], Decimal(rng.choice(QTYS)),
                             Decimal(rng.choice(SCRAPS) if rng.random() < 0.2 else "0"))
                     for comp in comps)

    for lv in range(1, depth + 1):
        for code in levels[lv]:
            conversion = None
            if code in phantom and rng.random() < 0.7:
                pass
            elif code not in phantom and rng.random() < 0.1:
                conversion = Decimal(rng.randint(10, 5000)) / 100
            else:
                routings[code] = tuple(
                    Operation(10 * (k + 1), rng.choice(list(wcs)),
                              Decimal(rng.randint(1, 60)) / 100,
                              Decimal(rng.randint(0, 4)) / 2,
                              Decimal(rng.choice((10, 50, 100))))
                    for k in range(rng.randint(1, 3)))
            items[code] = Item(code, made=True, phantom=code in phantom,
                               conversion_cost=conversion)
            count = max(1, lines_per_made + rng.randint(-5, 5))
            current = BomVersion(code, 2, date(2024, 1, 1), bom_lines(lv, count))
            versions.append(current)
            lines += len(current.lines)
            in_effect += len(current.lines)
            roll = rng.random()
            if roll < 0.03:
                versions.append(BomVersion(code, 1, date(2020, 1, 1), bom_lines(lv, count)))
                lines += count
            elif roll < 0.05:
                versions.append(BomVersion(code, 3, date(2027, 1, 1), bom_lines(lv, count)))
                lines += count
        made_below.extend(levels[lv])
    return Plant(MasterData(items, Boms.of(versions), wcs, routings), len(items), lines,
                 in_effect)


def definition(master: MasterData, as_of: date) -> dict[str, tuple[Cost, Cost]]:
    """The roll-up's definition, the plain way: recursive, in Decimal, rounded once per item
    and element to 10 places (the baseline; tests/unit/test_rollup.py checks the same)."""
    out: dict[str, tuple[Cost, Cost]] = {}
    sys.setrecursionlimit(100_000)

    def r10(x: Decimal) -> Decimal:
        return x.quantize(TEN, rounding=ROUND_HALF_UP)

    def cost(code: str) -> tuple[Cost, Cost]:
        if code in out:
            return out[code]
        item = master.items[code]
        if not item.made:
            out[code] = (Cost(material=item.standard_cost or Decimal(0)), Cost())
            return out[code]
        lab = ovh = conv = Decimal(0)
        for op in master.routings.get(code, ()):
            wc = master.work_centers[op.work_center]
            lab += op.hours_per_unit * wc.labor_rate
            ovh += op.hours_per_unit * wc.overhead_rate
            conv += op.hours_per_unit * wc.conversion_rate
        conv += item.conversion_cost or Decimal(0)
        lower = [Decimal(0)] * 4
        version = master.boms.on(code, as_of)
        for line in version.lines if version else ():
            this_c, lower_c = cost(line.component)
            gross = line.gross_qty
            if master.items[line.component].phantom:
                lab += gross * this_c.labor
                ovh += gross * this_c.overhead
                conv += gross * this_c.conversion
                add = lower_c
            else:
                add = this_c + lower_c
            for k, v in enumerate((add.material, add.labor, add.overhead, add.conversion)):
                lower[k] += gross * v
        out[code] = (Cost(Decimal(0), r10(lab), r10(ovh), r10(conv)), Cost(*map(r10, lower)))
        return out[code]

    with localcontext(prec=200):
        for code in master.items:
            cost(code)
    return out


def timed_roll_up(plant: Plant) -> tuple[float, float, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    result = roll_up(plant.master, AS_OF)
    return time.perf_counter() - start, time.process_time() - cpu, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--baseline-scale", type=float, default=None)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cold, warm, cpu = [], [], []
    result = None
    plant = None
    for _ in range(args.runs):
        plant = build_plant(int(FULL_ITEMS * args.scale))  # a fresh plant: a cold first call
        seconds, used, result = timed_roll_up(plant)
        cold.append(seconds)
        cpu.append(used)
        warm.append(timed_roll_up(plant)[0])
    assert plant is not None and result is not None
    figures: dict[str, Any] = {
        "cold_s": round(statistics.median(cold), 3), "cold_runs": [round(x, 3) for x in cold],
        "cold_cpu_s": round(statistics.median(cpu), 3),
        "warm_s": round(statistics.median(warm), 3),
    }
    if not args.no_baseline:
        base_plant = plant if args.baseline_scale is None else build_plant(
            int(FULL_ITEMS * args.baseline_scale))
        start = time.perf_counter()
        expected = definition(base_plant.master, AS_OF)
        figures["baseline"] = "the definition, recursive in Decimal"
        figures["baseline_s"] = round(time.perf_counter() - start, 3)
        got = result if base_plant is plant else roll_up(base_plant.master, AS_OF)
        same = all((got[c].this_level, got[c].lower_level) == v for c, v in expected.items())
        figures["results_identical"] = same
        if base_plant is plant:
            figures["ratio_to_baseline"] = round(figures["baseline_s"] / figures["cold_s"], 1)
    workload = {"items": plant.items, "bom_lines": plant.lines,
                "lines_in_effect": plant.lines_in_effect, "depth": 10}
    speed = machine_speed()
    if args.json:
        print(json.dumps({"benchmark": "roll-up", "workload": workload, "figures": figures,
                          "machine": speed}))
    else:
        print("== roll-up")
        print("workload: " + ", ".join(f"{k}={v}" for k, v in workload.items()))
        for k, v in figures.items():
            print(f"  {k}: {v}")
        print(f"  machine, right after: {describe_machine(speed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
