"""Benchmark: the level-by-level standard cost roll-up against the recursive reference.

Builds a plant in memory from the domain dataclasses (not timed): half the items purchased
(costs with 2 to 4 decimals), the other half made, spread over 10 levels; each made item has
~20 BOM lines in effect (15 to 25), so ~10 lines per item overall (100,000 items: ~1,000,000
lines), half of them drawn from purchased items and half from made items of lower levels (one
from the level just below, so the graph is 10 levels deep). 5 % of the intermediate made items
are phantoms, 20 % of the lines carry a scrap factor (1 to 5 %), 30 % a quantity with decimals;
3 % of the made items have a superseded BOM version and 2 % a future one; most made items have a
routing of 1 to 3 operations over 20 work centers (labor + overhead rates, or one conversion
rate; setup spread over a lot), the others an explicit conversion cost. Each BOM line has a
string and Decimals of its own, as when read from a file or a database.

Times ``roll_up_levels`` cold (the BOMs compiled in the call: what a first roll-up costs) and
warm (the same ``Boms`` compiled by an earlier call: e.g. a standard cost change), the median
of ``--runs`` each (wall clock, and this process's CPU time: on a shared machine the wall
clock stretches with the other processes' load); then the reference ``roll_up_reference``
once on the plant of ``--baseline-scale`` (default: the same plant), checks that both agree
exactly, and prints the ratios. It says which level walk ran: the compiled one
(``_levels.c``, built by ``make install`` where there is a C compiler) or the NumPy arrays;
``--arrays`` also times the arrays on the same plant, in the same run, for the ratio.

    .venv/bin/python bench/bench_rollup.py                 # 100,000 items, ~1,000,000 lines
    .venv/bin/python bench/bench_rollup.py --scale 0.1     # 10,000 items
    .venv/bin/python bench/bench_rollup.py --baseline-scale 0.1 --json
    .venv/bin/python bench/bench_rollup.py --arrays        # and the NumPy arrays' walk
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from common import describe_machine, machine_speed

from backflush.domain import rollup
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import CostVersion, MasterData, roll_up_reference
from backflush.domain.items import Item
from backflush.domain.rollup import clear_compiled_boms, compiled_kernel, roll_up_levels
from backflush.domain.routing import Operation, WorkCenter

FULL_ITEMS = 100_000
AS_OF = date(2026, 11, 1)
QTYS = ("1", "1", "1", "2", "2", "3", "4", "0.5", "1.25", "2.5")
SCRAPS = ("0.01", "0.02", "0.05", "0.025")


@dataclass(frozen=True)
class Plant:
    master: MasterData
    items: int
    purchased: int
    phantoms: int
    lines: int  # every BOM version's lines
    lines_in_effect: int  # the lines of the versions in effect on AS_OF
    depth: int  # made levels (the longest component chain has this many BOM steps)


def build_plant(n_items: int, *, depth: int = 10, lines_per_made: int = 20,
                phantom_share: float = 0.05, scrap_share: float = 0.2, work_centers: int = 20,
                seed: int = 7) -> Plant:
    """A plant of ``n_items`` items built directly from the domain dataclasses."""
    rng = random.Random(seed)
    n_purchased = max(n_items // 2, 1)
    n_made = max(n_items - n_purchased, depth)
    purchased = [f"P{i:07d}" for i in range(n_purchased)]
    levels: list[list[str]] = [[] for _ in range(depth + 1)]
    for i in range(n_made):
        # At least one item per level; the rest spread evenly.
        lv = 1 + (i % depth if i < depth else rng.randrange(depth))
        levels[lv].append(f"M{lv:02d}-{i:07d}")
    items: dict[str, Item] = {}
    for code in purchased:
        places = rng.choice((2, 2, 3, 4))
        cost = Decimal(rng.randint(5, 50_000 * 10 ** (places - 2))).scaleb(-places)
        items[code] = Item(code, standard_cost=cost)
    phantom: set[str] = set()
    for lv in range(1, depth):  # top-level items are finished goods, never phantoms
        phantom.update(c for c in levels[lv] if rng.random() < phantom_share)
    wcs: dict[str, WorkCenter] = {}
    for i in range(work_centers):
        code = f"WC{i + 1:02d}"
        if i % 4 == 3:
            wcs[code] = WorkCenter(code, conversion_rate=Decimal(rng.randint(3000, 12000)) / 100)
        else:
            wcs[code] = WorkCenter(code, labor_rate=Decimal(rng.randint(1500, 6000)) / 100,
                                   overhead_rate=Decimal(rng.randint(2000, 9000)) / 100)
    wc_codes = list(wcs)
    routings: dict[str, tuple[Operation, ...]] = {}
    versions: list[BomVersion] = []
    made_below: list[str] = []
    lines = in_effect = 0

    def bom_lines(lv: int, count: int) -> tuple[BomLine, ...]:
        count = min(count, len(purchased) + len(made_below))
        comps = dict.fromkeys([rng.choice(levels[lv - 1])] if lv > 1 else [])  # ordered set
        while len(comps) < count:
            if made_below and rng.random() < 0.5:
                comps[rng.choice(made_below)] = None
            else:
                comps[rng.choice(purchased)] = None
        out = []
        for comp in comps:
            scrap = rng.choice(SCRAPS) if rng.random() < scrap_share else "0"
            # A string and Decimals of its own per line, as read from a file or a database.
            out.append(BomLine((comp + " ")[:-1], Decimal(rng.choice(QTYS)), Decimal(scrap)))
        return tuple(out)

    for lv in range(1, depth + 1):
        for code in levels[lv]:
            is_phantom = code in phantom
            conversion = None
            if is_phantom and rng.random() < 0.7:
                pass  # most phantoms carry no conversion of their own
            elif not is_phantom and rng.random() < 0.1:
                conversion = Decimal(rng.randint(10, 5000)) / 100
            else:
                routings[code] = tuple(
                    Operation(10 * (k + 1), rng.choice(wc_codes),
                              Decimal(rng.randint(1, 60)) / 100,
                              Decimal(rng.randint(0, 4)) / 2, Decimal(rng.choice((10, 50, 100))))
                    for k in range(rng.randint(1, 3)))
            items[code] = Item(code, made=True, phantom=is_phantom, conversion_cost=conversion)
            count = max(1, lines_per_made + rng.randint(-5, 5))
            current = BomVersion(code, 2, date(2024, 1, 1), bom_lines(lv, count))
            versions.append(current)
            lines += len(current.lines)
            in_effect += len(current.lines)
            roll = rng.random()
            if roll < 0.03:  # superseded
                old = BomVersion(code, 1, date(2020, 1, 1), bom_lines(lv, count))
                versions.append(old)
                lines += len(old.lines)
            elif roll < 0.05:  # not yet in effect
                future = BomVersion(code, 3, date(2027, 1, 1), bom_lines(lv, count))
                versions.append(future)
                lines += len(future.lines)
        made_below.extend(levels[lv])
    master = MasterData(items, Boms.of(versions), wcs, routings)
    return Plant(master, len(items), n_purchased, len(phantom), lines, in_effect, depth)


def _time(fn: Callable[[], CostVersion], cpu: list[float] | None = None
          ) -> tuple[float, CostVersion]:
    """Wall-clock seconds (and, into ``cpu``, this process's CPU seconds: steadier on a
    shared machine, where another process's load stretches the wall clock)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn()
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start, result


def _same(a: CostVersion, b: CostVersion) -> bool:
    return (a.number, a.effective_from, dict(a.costs)) == (b.number, b.effective_from,
                                                           dict(b.costs))


def _levels(plant: Plant, runs: int, cpu: dict[str, list[float]] | None = None
            ) -> tuple[list[float], list[float], CostVersion]:
    """roll_up_levels times: cold (the BOMs compiled in the call) and warm (already)."""
    cold, warm = [], []
    cpu = {} if cpu is None else cpu
    result = None
    for _ in range(runs):
        clear_compiled_boms()
        t, result = _time(lambda: roll_up_levels(plant.master, AS_OF),
                          cpu.setdefault("cold", []))
        cold.append(t)
    for _ in range(runs):
        t, result = _time(lambda: roll_up_levels(plant.master, AS_OF),
                          cpu.setdefault("warm", []))
        warm.append(t)
    assert result is not None
    return cold, warm, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time roll_up_levels against the recursive reference roll-up.")
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"plant size as a share of {FULL_ITEMS:,} items (0.01, 0.1, 1)")
    parser.add_argument("--baseline-scale", type=float, default=None,
                        help="run the reference on a plant of this scale instead (default: "
                             "the same plant, once; at 1x it takes 20 to 40 s)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the reference")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of roll_up_levels, cold and warm (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--arrays", action="store_true",
                        help="also time the level walk on NumPy arrays (the compiled walk "
                             "switched off), for the ratio")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        if not args.json:
            print(text, flush=True)

    def items_at(scale: float) -> int:
        return max(round(FULL_ITEMS * scale), 40)

    start = time.perf_counter()
    plant = build_plant(items_at(args.scale), seed=args.seed)
    say(f"plant (scale {args.scale:g}): {plant.items:,} items ({plant.purchased:,} purchased, "
        f"{plant.phantoms:,} phantoms), {plant.lines:,} BOM lines ({plant.lines_in_effect:,} "
        f"in effect on {AS_OF}), depth {plant.depth} [built in "
        f"{time.perf_counter() - start:.1f} s, not timed]")
    runs = max(args.runs, 1)
    walk = "compiled (_levels.c)" if compiled_kernel() else \
        "NumPy arrays (the compiled walk is not built here)"
    say(f"level walk: {walk}")
    cpu: dict[str, list[float]] = {}
    cold, warm, result = _levels(plant, runs, cpu)
    t_cold, t_warm = statistics.median(cold), statistics.median(warm)
    c_cold, c_warm = statistics.median(cpu["cold"]), statistics.median(cpu["warm"])
    say(f"roll_up_levels, cold (BOMs compiled in the call): {t_cold:.3f} s "
        f"(median of {runs}: {', '.join(f'{t:.3f}' for t in cold)}; CPU {c_cold:.3f} s)")
    say(f"roll_up_levels, warm (same Boms, compiled):        {t_warm:.3f} s "
        f"(median of {runs}: {', '.join(f'{t:.3f}' for t in warm)}; CPU {c_warm:.3f} s)")
    out: dict[str, Any] = {
        "scale": args.scale, "items": plant.items, "purchased": plant.purchased,
        "phantoms": plant.phantoms, "bom_lines": plant.lines,
        "bom_lines_in_effect": plant.lines_in_effect, "depth": plant.depth,
        "roll_up_levels_cold_s": round(t_cold, 4), "roll_up_levels_warm_s": round(t_warm, 4),
        "cold_runs_s": [round(t, 4) for t in cold], "warm_runs_s": [round(t, 4) for t in warm],
        "roll_up_levels_cold_cpu_s": round(c_cold, 4),
        "roll_up_levels_warm_cpu_s": round(c_warm, 4), "compiled_walk": compiled_kernel(),
    }
    if args.arrays and compiled_kernel():
        kernel, rollup._kernel = rollup._kernel, None
        try:
            a_cold, a_warm, a_result = _levels(plant, runs)
        finally:
            rollup._kernel = kernel
        same = _same(a_result, result)
        say(f"the same on NumPy arrays: cold {statistics.median(a_cold):.3f} s "
            f"({', '.join(f'{t:.3f}' for t in a_cold)}), warm {statistics.median(a_warm):.3f} s "
            f"({', '.join(f'{t:.3f}' for t in a_warm)}); compiled walk "
            f"{statistics.median(a_cold) / t_cold:.2f}x cold, "
            f"{statistics.median(a_warm) / t_warm:.2f}x warm; results identical: {same}")
        out.update({"arrays_cold_s": round(statistics.median(a_cold), 4),
                    "arrays_warm_s": round(statistics.median(a_warm), 4),
                    "arrays_identical": same})
        if not same:
            print("the compiled walk differs from the arrays", file=sys.stderr)
            return 1
    identical = True
    if not args.no_baseline:
        base_scale = args.scale if args.baseline_scale is None else args.baseline_scale
        base, b_cold, b_warm, b_result = plant, t_cold, t_warm, result
        if base_scale != args.scale:
            base = build_plant(items_at(base_scale), seed=args.seed)
            cold, warm, b_result = _levels(base, runs)
            b_cold, b_warm = statistics.median(cold), statistics.median(warm)
            say(f"baseline plant (scale {base_scale:g}): {base.items:,} items, "
                f"{base.lines:,} BOM lines; roll_up_levels on it: cold {b_cold:.3f} s, "
                f"warm {b_warm:.3f} s")
        ref_cpu: list[float] = []
        t_ref, ref = _time(lambda: roll_up_reference(base.master, AS_OF), ref_cpu)
        identical = _same(ref, b_result)
        say(f"roll_up_reference (recursive, 1 run) at scale {base_scale:g}: {t_ref:.3f} s "
            f"(CPU {ref_cpu[0]:.3f} s)")
        say(f"speed-up at scale {base_scale:g}: {t_ref / b_cold:.1f}x cold, "
            f"{t_ref / b_warm:.1f}x warm; results identical to the reference: {identical}")
        out.update({"baseline_scale": base_scale, "baseline_items": base.items,
                    "baseline_bom_lines": base.lines, "roll_up_reference_s": round(t_ref, 4),
                    "roll_up_reference_cpu_s": round(ref_cpu[0], 4),
                    "baseline_levels_cold_s": round(b_cold, 4),
                    "baseline_levels_warm_s": round(b_warm, 4),
                    "speedup_cold": round(t_ref / b_cold, 2),
                    "speedup_warm": round(t_ref / b_warm, 2), "identical": identical})
    speed = machine_speed()
    say(f"machine, right after: {describe_machine(speed)}")
    out["machine"] = speed
    if args.json:
        print(json.dumps(out))
    if not identical:
        print("roll_up_levels differs from roll_up_reference", file=sys.stderr)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
